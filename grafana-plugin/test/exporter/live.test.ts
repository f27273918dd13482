/**
 * Live events, template variables, annotations and "Save & test" against the real exporter (demo
 * farm, exporter/global-setup.ts), through a BackendSrv that does real HTTP.
 */
import { CircularDataFrame, LoadingState, type DataFrame, type DataQueryRequest, type DataQueryResponse } from '@grafana/data';
import { firstValueFrom, lastValueFrom, type Subscription } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EVENT_COLUMNS } from '../../src/frames-ops.js';
import type { DataSource } from '../../src/datasource.js';
import type { BuildscopeQuery, TaskPage } from '../../src/types.js';
import type { BuildscopeVariableSupport, VariableEditorQuery } from '../../src/variables.js';
import { exporterUrl, installHttpBackendSrv, installTemplateSrv, lastMinutes, makeDatasource, makeRequest, sendJson, startServer, values, waitUntil, type HttpBackendSrv } from '../helpers.js';

const url = exporterUrl();
let ds: DataSource;
let http: HttpBackendSrv;
const subscriptions: Subscription[] = [];

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`${url}${path}`);
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}

beforeEach(() => {
  http = installHttpBackendSrv();
  installTemplateSrv();
  ds = makeDatasource(url);
});

afterEach(() => {
  for (const s of subscriptions.splice(0)) s.unsubscribe();
  ds.dispose();
});

/** Subscribe to a query and keep every response it emits. */
function watch(targets: BuildscopeQuery[]): DataQueryResponse[] {
  const seen: DataQueryResponse[] = [];
  subscriptions.push(ds.query(makeRequest(targets)).subscribe((r) => seen.push(r)));
  return seen;
}

describe('live events', () => {
  it('streams a circular frame keyed by the refId, over one lazily created connection shared by every panel', async () => {
    expect(ds.hasEventHub).toBe(false);
    const a = watch([{ refId: 'A', queryType: 'events', maxRows: 5 }]);
    const b = watch([{ refId: 'B', queryType: 'events', source: ['demo-girar'], types: ['task_updated'] }]);
    expect(ds.hasEventHub).toBe(true);
    const hub = ds.eventHub;
    await waitUntil(() => hub.connections === 1, 10_000, { what: 'the shared connection' });
    const frameOf = (seen: DataQueryResponse[]) => seen.at(-1)?.data[0] as CircularDataFrame | undefined;
    await waitUntil(() => (frameOf(a)?.length ?? 0) === 5 && (frameOf(b)?.length ?? 0) >= 3, 30_000, { what: 'events in both panels' });
    expect(hub.connections).toBe(1);
    expect(ds.eventHub).toBe(hub);

    const fa = frameOf(a)!;
    expect(fa).toBeInstanceOf(CircularDataFrame);
    expect(a.every((r) => r.state === LoadingState.Streaming && r.key === 'A')).toBe(true);
    expect(fa.refId).toBe('A');
    expect(fa.fields.map((f) => f.name)).toEqual([...EVENT_COLUMNS]);
    expect(fa.length).toBe(5);
    const seqs = values(fa, 'seq') as number[];
    expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
    expect(values(fa, 'time').every((t) => typeof t === 'number' && Math.abs((t as number) - Date.now()) < 10 * 60_000)).toBe(true);

    const fb = frameOf(b)!;
    expect(fb.refId).toBe('B');
    expect(fb.fields.find((f) => f.name === 'seq')!.values.length).toBe(fb.length);
    expect(new Set(values(fb, 'source'))).toEqual(new Set(['demo-girar']));
    expect(new Set(values(fb, 'type'))).toEqual(new Set(['task_updated']));
    expect(values(fb, 'state').every((s) => typeof s === 'string' && s.length > 0)).toBe(true);

    for (const s of subscriptions.splice(0)) s.unsubscribe();
    await waitUntil(() => hub.connections === 0, 5000, { what: 'the connection to close with its last subscriber' });
  });

  it('ends the stream with the query’s error when the exporter refuses it (401)', async () => {
    const server = await startServer((_req, res) => sendJson(res, 401, { error: 'bearer token required for the events area' }));
    try {
      ds = makeDatasource(server.url);
      const responses = await lastValueFrom(ds.query(makeRequest([{ refId: 'E', queryType: 'events' }])));
      expect(responses?.state).toBe(LoadingState.Error);
      expect(responses?.key).toBe('E');
      expect(responses?.error?.message).toMatch(/401/);
    } finally {
      await server.close();
    }
  });
});

describe('template variables', () => {
  const run = (query: Partial<VariableEditorQuery> | string) =>
    firstValueFrom((ds.variables as BuildscopeVariableSupport).query({ ...makeRequest([]), targets: [query as VariableEditorQuery] } as unknown as DataQueryRequest<VariableEditorQuery>));

  it('lists a field’s distinct values (CustomVariableSupport), also for a source given as a variable', async () => {
    const sources = await api<{ values: string[] }>('/api/v1/values/source');
    const res = await run({ refId: 'v', field: 'source' });
    const frame = res.data[0] as DataFrame;
    expect(values(frame, 'text')).toEqual(sources.values);
    expect(values(frame, 'value')).toEqual(sources.values);
    expect(sources.values).toEqual(expect.arrayContaining(['demo-girar', 'demo-apb', 'demo-koji']));

    installTemplateSrv([{ name: 'src', options: ['demo-girar', 'demo-koji'], current: ['demo-girar'] }]);
    const repos = await api<{ values: string[] }>('/api/v1/values/repo?source=demo-girar');
    const scoped = await run({ refId: 'v', field: 'repo', source: '$src' });
    expect(values(scoped.data[0] as DataFrame, 'text')).toEqual(repos.values);
    expect(new URL(http.urls.at(-1)!).search).toBe('?source=demo-girar');

    const arches = await api<{ values: string[] }>('/api/v1/values/arch');
    expect((await ds.metricFindQuery('arches')).map((v) => v.text)).toEqual(arches.values);
    expect(await ds.getFieldValues('arch')).toEqual(arches.values);
    await expect(ds.metricFindQuery('colour')).rejects.toThrow(/not a buildscope variable query/);
  });

  it('puts multi-value variables into filters as comma lists; All means no filter', async () => {
    const last = () => new URL(http.urls.at(-1)!).searchParams;
    const tasks = (q: Partial<BuildscopeQuery>, scopedVars = {}) => firstValueFrom(ds.query(makeRequest([{ refId: 'A', queryType: 'tasks', ...q } as BuildscopeQuery], undefined, scopedVars)));

    installTemplateSrv([
      { name: 'src', options: ['demo-girar-fs', 'demo-koji', 'demo-apb'], current: ['demo-girar-fs', 'demo-koji'], multi: true },
      { name: 'st', options: ['DONE', 'EPERM'], current: ['$__all'], includeAll: true },
      { name: 'ph', options: ['failed', 'success'], current: ['$__all'], includeAll: true, allValue: '.*' },
      { name: 'own', options: ['ldv'], current: ['$__all'], includeAll: true },
    ]);
    const multi = await tasks({ source: ['$src'], state: ['ALL'], limit: 1000 });
    expect(last().get('source')).toBe('demo-girar-fs,demo-koji');
    expect(new Set(values(multi.data[0] as DataFrame, 'source'))).toEqual(new Set(['demo-girar-fs', 'demo-koji']));

    await tasks({ source: ['${src}', 'demo-apb'], owner: ['$own'], state: ['$st'] });
    expect(last().get('source')).toBe('demo-girar-fs,demo-koji,demo-apb');
    expect(last().has('owner')).toBe(false);
    expect(last().get('state')).toBe('ALL');

    await tasks({ phase: ['$ph'] });
    expect(last().has('phase')).toBe(false);
    expect(last().get('state')).toBe('ALL');

    // A repeated panel's scoped value wins over the dashboard's.
    await tasks({ source: ['$src'] }, { src: { text: 'demo-apb', value: 'demo-apb' } });
    expect(last().get('source')).toBe('demo-apb');

    const [interpolated] = ds.interpolateVariablesInQueries([{ refId: 'A', queryType: 'tasks', source: ['$src'], owner: ['$own'], q: 'lib' }], {});
    expect(interpolated).toMatchObject({ source: ['demo-girar-fs', 'demo-koji'], owner: ['ALL'], q: 'lib' });
  });
});

describe('annotations', () => {
  it('marks the tasks that finished in the range at their finished time, titled state · owner · repo', async () => {
    const support = ds.annotations!;
    const anno = support.prepareAnnotation!({ name: 'Builds', enable: true, iconColor: 'red', phases: 'failed,success', source: 'demo-girar-fs' } as never);
    expect(anno.target).toMatchObject({ queryType: 'tasks', phase: ['failed', 'success'], source: ['demo-girar-fs'], limit: 1000, sort: 'updated' });
    expect(anno).not.toHaveProperty('phases');
    const target = support.prepareQuery!(anno)!;
    const range = lastMinutes(60 * 24);
    const direct = await api<TaskPage>(`/api/v1/tasks?source=demo-girar-fs&phase=failed,success&updated_since=${Math.floor(range.from.valueOf() / 1000)}&limit=1000`);
    const res = await firstValueFrom(ds.query(makeRequest([target], range)));
    expect(res.error).toBeUndefined();
    const events = (await firstValueFrom(support.processEvents!(anno, res.data as DataFrame[])))!;
    expect(events.length).toBeGreaterThan(10);
    const byTime = new Map(events.map((e) => [`${e.time}|${e.text?.split(':')[0]}`, e]));
    let matched = 0;
    for (const t of direct.items) {
      if (!t.finished) continue;
      const e = byTime.get(`${Date.parse(t.finished)}|demo-girar-fs task ${t.id}`);
      if (!e) continue;
      matched++;
      expect(e.title).toBe([t.state, t.owner, t.repo].filter(Boolean).join(' · '));
      expect(e.tags).toEqual(expect.arrayContaining(['demo-girar-fs', t.phase]));
      expect(e.color).toBe(t.phase === 'failed' ? 'red' : 'green');
    }
    expect(matched).toBeGreaterThan(10);
    expect(events.every((e) => typeof e.time === 'number' && e.time >= range.from.valueOf() - 86_400_000)).toBe(true);
  });
});

describe('Save & test', () => {
  it('says the exporter answers and names its sources', async () => {
    const { sources } = await api<{ sources: Array<{ name: string; up: boolean }> }>('/api/v1/sources');
    expect(sources.every((s) => s.up)).toBe(true);
    const result = await ds.testDatasource();
    expect(result.status).toBe('success');
    expect(result.message).toBe(`Connected to the exporter at ${url}: ${sources.length} sources up (${sources.map((s) => s.name).join(', ')}).`);
    expect(http.urls.map((u) => new URL(u).pathname)).toEqual(['/-/ready', '/api/v1/sources']);
  });
});
