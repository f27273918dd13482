/**
 * The datasource's queries against the real exporter (demo farm on loopback, exporter/global-setup.ts), through a BackendSrv that does
 * real HTTP: every frame here comes from a real answer. The demo farm moves while the tests run,
 * so the tests compare with the exporter's own JSON only for what cannot change (finished tasks),
 * and otherwise check what the filters promise.
 */
import { dateTime, LoadingState, type DataFrame, type DataQueryResponse } from '@grafana/data';
import { firstValueFrom } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DataSource } from '../../src/datasource.js';
import type { BuildscopeQuery, ExporterTask, TaskPage } from '../../src/types.js';
import { exporterUrl, installHttpBackendSrv, installTemplateSrv, lastMinutes, makeDatasource, makeRequest, values, type HttpBackendSrv } from '../helpers.js';

const exporter = { url: exporterUrl() };
let ds: DataSource;
let http: HttpBackendSrv;

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`${exporter.url}${path}`);
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}

async function run(target: BuildscopeQuery, range = lastMinutes(60 * 24)): Promise<DataQueryResponse> {
  return firstValueFrom(ds.query(makeRequest([target], range)));
}

async function frames(target: BuildscopeQuery, range?: Parameters<typeof run>[1]): Promise<DataFrame[]> {
  const res = await run(target, range);
  expect(res.error, JSON.stringify(res.error)).toBeUndefined();
  expect(res.state).toBe(LoadingState.Done);
  expect(res.key).toBe(target.refId);
  return res.data as DataFrame[];
}

afterEach(() => ds?.dispose());

beforeEach(() => {
  http = installHttpBackendSrv();
  installTemplateSrv();
  ds = makeDatasource(exporter.url);
});

const TASK_COLUMNS = ['id', 'source', 'kind', 'state', 'phase', 'owner', 'repo', 'age', 'message', 'subtasks', 'arches', 'builds', 'created', 'updated', 'state since', 'started', 'finished', 'url'];

describe('tasks', () => {
  it('is a table of the exporter’s tasks with trustworthy columns, the time range sent as Unix seconds', async () => {
    const range = lastMinutes(60 * 24 * 30);
    const [frame] = await frames({ refId: 'A', queryType: 'tasks', state: ['ALL'], limit: 50 }, range);
    expect(frame!.refId).toBe('A');
    expect(frame!.fields.map((f) => f.name)).toEqual(TASK_COLUMNS);
    expect(frame!.length).toBe(50);
    const url = new URL(http.urls.at(-1)!);
    expect(url.pathname).toBe('/api/v1/tasks');
    expect(url.searchParams.get('state')).toBe('ALL');
    expect(url.searchParams.get('limit')).toBe('50');
    expect(url.searchParams.get('updated_since')).toBe(String(Math.floor(range.from.valueOf() / 1000)));
    expect(url.searchParams.get('updated_until')).toBe(String(Math.ceil(range.to.valueOf() / 1000)));
    const id = frame!.fields.find((f) => f.name === 'id')!;
    expect(id.config.links?.[0]?.url).toBe('${__data.fields.url:raw}');
    const urlField = frame!.fields.find((f) => f.name === 'url')!;
    expect(urlField.config.custom).toMatchObject({ hidden: true, hideFrom: { viz: true } });
    expect(frame!.fields.find((f) => f.name === 'updated')!.type).toBe('time');
    expect(frame!.meta?.custom?.total).toBeGreaterThanOrEqual(50);
    expect(frame!.meta?.notices?.[0]?.text).toMatch(/^Showing 50 of \d+ matching tasks/);
  });

  it('holds the same values as the exporter’s JSON (finished tasks, which no longer change)', async () => {
    const page = await api<TaskPage>('/api/v1/tasks?phase=success,failed&sort=id&order=asc&limit=200');
    const [frame] = await frames({ refId: 'A', queryType: 'tasks', phase: ['success', 'failed'], sort: 'id', order: 'asc', limit: 200, useTimeRange: false });
    const byKey = new Map(page.items.map((t) => [`${t.source}/${t.id}`, t]));
    const ids = values(frame!, 'id');
    const sources = values(frame!, 'source');
    let compared = 0;
    for (let i = 0; i < ids.length; i++) {
      const t = byKey.get(`${String(sources[i])}/${String(ids[i])}`);
      if (!t) continue;
      compared++;
      const row = (name: string) => values(frame!, name)[i];
      expect(row('state')).toBe(t.state);
      expect(row('phase')).toBe(t.phase);
      expect(row('owner')).toBe(t.owner ?? null);
      expect(row('repo')).toBe(t.repo ?? null);
      expect(row('message')).toBe(t.message ?? null);
      expect(row('finished')).toBe(t.finished ? Date.parse(t.finished) : null);
      expect(row('subtasks')).toBe(t.subtasks.length);
      expect(row('url')).toBe(t.url ?? null);
      const builds = t.subtasks.flatMap((s) => s.archs).length;
      if (builds === 0) expect(row('builds')).toBe('');
      else expect(String(row('builds')).split(', ').reduce((n, part) => n + Number(part.split(' ')[0]), 0)).toBe(builds);
      const created = t.created ? Date.parse(t.created) : undefined;
      if (created !== undefined) expect(Math.abs(Number(row('age')) - (Date.now() - created) / 1000)).toBeLessThan(30);
    }
    expect(compared).toBeGreaterThan(20);
  });

  it('filters by source, phase and full-text search, and a time range with no updates is empty', async () => {
    const [bySource] = await frames({ refId: 'A', queryType: 'tasks', source: ['demo-girar-fs', 'demo-koji'], state: ['ALL'], limit: 1000 });
    expect(bySource!.length).toBeGreaterThan(0);
    expect(new Set(values(bySource!, 'source'))).toEqual(new Set(['demo-girar-fs', 'demo-koji']));
    expect(new URL(http.urls.at(-1)!).searchParams.get('source')).toBe('demo-girar-fs,demo-koji');

    const [failed] = await frames({ refId: 'B', queryType: 'tasks', phase: ['failed'], useTimeRange: false });
    expect(failed!.length).toBeGreaterThan(0);
    expect(new Set(values(failed!, 'phase'))).toEqual(new Set(['failed']));

    const [search] = await frames({ refId: 'C', queryType: 'tasks', q: 'lib', state: ['ALL'], useTimeRange: false });
    expect(search!.fields.map((f) => f.name)).toContain('matches');
    expect(search!.length).toBeGreaterThan(0);
    for (const m of values(search!, 'matches')) expect(String(m)).toMatch(/lib/i);

    const year = 365 * 86_400_000;
    const longAgo = { from: dateTime(Date.now() - 20 * year), to: dateTime(Date.now() - 19 * year), raw: { from: 'now-20y', to: 'now-19y' } };
    const [empty] = await frames({ refId: 'D', queryType: 'tasks', state: ['ALL'] }, longAgo);
    expect(empty!.length).toBe(0);
    expect(empty!.fields.map((f) => f.name)).toEqual(TASK_COLUMNS);
  });

  it('reports the exporter’s 400 as the query’s error, keyed by its refId', async () => {
    const res = await run({ refId: 'Z', queryType: 'tasks', q: 'x' });
    expect(res.state).toBe(LoadingState.Error);
    expect(res.key).toBe('Z');
    expect(res.error?.refId).toBe('Z');
    expect(res.error?.message).toMatch(/HTTP 400.*at least 2 characters|HTTP 400.*2 char/i);
  });
});

describe('task detail', () => {
  it('is the subtask x arch matrix with statuses, the approvals and the task', async () => {
    const page = await api<TaskPage>('/api/v1/tasks?source=demo-girar-fs&phase=success,failed&limit=1000');
    const pick = page.items.find((t) => t.subtasks.length > 1 && t.subtasks.some((s) => s.archs.length > 1) && t.subtasks.some((s) => s.approvals?.length || s.approvedBy?.length));
    expect(pick, 'a finished girar task with subtasks, arches and approvals').toBeDefined();
    const task = await api<ExporterTask>(`/api/v1/tasks/${pick!.source}/${pick!.id}`);
    const [matrix, approvals, one] = await frames({ refId: 'T', queryType: 'task', source: task.source, id: task.id });
    expect(matrix!.name).toBe('matrix');
    expect(matrix!.length).toBe(task.subtasks.length);
    expect(values(matrix!, 'subtask')).toEqual(task.subtasks.map((s) => s.id));
    const arches = [...new Set([...task.archs, ...task.subtasks.flatMap((s) => s.archs.map((a) => a.arch))])];
    expect(matrix!.fields.map((f) => f.name)).toEqual(['subtask', 'type', 'package', 'label', 'owner', ...arches, 'approvals']);
    for (const arch of arches) {
      expect(values(matrix!, arch)).toEqual(task.subtasks.map((s) => s.archs.find((a) => a.arch === arch)?.status ?? null));
      const mapping = matrix!.fields.find((f) => f.name === arch)!.config.mappings?.[0] as { options: Record<string, { color: string }> };
      for (const s of task.subtasks) for (const a of s.archs) expect(mapping.options[a.status]?.color).toBe({ success: 'green', failed: 'red', running: 'blue', queued: 'yellow' }[a.phase] ?? mapping.options[a.status]?.color);
    }
    const expected = task.subtasks.flatMap((s) =>
      s.approvals?.length ? s.approvals.map((a) => [s.id, a.by, a.verdict]) : [...(s.approvedBy ?? []).map((by) => [s.id, by, 'approved']), ...(s.disapprovedBy ?? []).map((by) => [s.id, by, 'disapproved'])],
    );
    expect(approvals!.name).toBe('approvals');
    expect(values(approvals!, 'subtask').map((s, i) => [s, values(approvals!, 'by')[i], values(approvals!, 'verdict')[i]])).toEqual(expected);
    expect(one!.name).toBe('task');
    expect(values(one!, 'id')).toEqual([task.id]);
    expect(values(one!, 'state')).toEqual([task.state]);
  });

  it('takes the source and id from variables, and says when the task does not exist', async () => {
    const page = await api<TaskPage>('/api/v1/tasks?source=demo-girar-fs&state=ALL&limit=1');
    const t = page.items[0]!;
    installTemplateSrv([
      { name: 'src', options: ['demo-girar-fs'], current: ['demo-girar-fs'] },
      { name: 'task', options: [t.id], current: [t.id] },
    ]);
    const [matrix] = await frames({ refId: 'T', queryType: 'task', source: '$src', id: '${task}' });
    expect(matrix!.length).toBe(t.subtasks.length);
    const missing = await run({ refId: 'M', queryType: 'task', source: 'demo-apb', id: 'no-such-task' });
    expect(missing.state).toBe(LoadingState.Error);
    expect(missing.error?.message).toMatch(/not found \(HTTP 404\).*no-such-task/);
    // An empty id (a dashboard's task variable not set yet) is no error: an empty frame saying what to pick.
    const empty = await run({ refId: 'E', queryType: 'task', source: 'demo-apb', id: '' });
    expect(empty.error).toBeUndefined();
    expect(empty.state).toBe(LoadingState.Done);
    expect(empty.data).toHaveLength(1);
    expect(empty.data[0].length).toBe(0);
    expect(empty.data[0].meta?.notices?.[0]?.text).toMatch(/Pick a task: .*needs a source and a task id/);
  });
});

describe('summary, workers, jobs', () => {
  it('summary: counts by a field, one row per value, largest first, as the exporter counts', async () => {
    const [frame] = await frames({ refId: 'S', queryType: 'summary', by: 'phase', state: ['ALL'] });
    expect(frame!.fields.map((f) => [f.name, f.type])).toEqual([
      ['phase', 'string'],
      ['count', 'number'],
    ]);
    const counts = values(frame!, 'count') as number[];
    expect(counts.reduce((a, b) => a + b, 0)).toBe(frame!.meta?.custom?.total);
    expect([...counts].sort((a, b) => b - a)).toEqual(counts);
    const direct = await api<{ rows: Array<{ value: string }> }>('/api/v1/summary?by=phase&state=ALL');
    expect(new Set(values(frame!, 'phase'))).toEqual(new Set(direct.rows.map((r) => r.value)));
    const url = new URL(http.urls.at(-1)!);
    expect(url.pathname).toBe('/api/v1/summary');
    expect(url.searchParams.get('by')).toBe('phase');
  });

  it('workers and jobs: one row per item, filtered by source', async () => {
    const workers = await api<{ items: Array<{ id: string; source: string }> }>('/api/v1/workers?source=demo-apb');
    const [w] = await frames({ refId: 'W', queryType: 'workers', source: ['demo-apb'] });
    expect(values(w!, 'id')).toEqual(workers.items.map((x) => x.id));
    expect(new Set(values(w!, 'source'))).toEqual(new Set(['demo-apb']));
    expect(w!.fields.find((f) => f.name === 'cpu usage')!.config.unit).toBe('percentunit');
    const jobs = await api<{ items: Array<{ id: string }> }>('/api/v1/jobs');
    const [j] = await frames({ refId: 'J', queryType: 'jobs' });
    expect(values(j!, 'id')).toEqual(jobs.items.map((x) => x.id));
    expect(j!.length).toBeGreaterThan(0);
    expect(values(j!, 'last run').every((v) => v === null || typeof v === 'number')).toBe(true);
  });

  it('runs several targets of different types in one request, each keyed by its refId', async () => {
    const responses: DataQueryResponse[] = [];
    await new Promise<void>((resolve, reject) =>
      ds.query(makeRequest([{ refId: 'A', queryType: 'workers' }, { refId: 'B', queryType: 'summary', by: 'source' }, { refId: 'C', queryType: 'jobs', hide: true }])).subscribe({ next: (r) => responses.push(r), error: reject, complete: resolve }),
    );
    expect(responses.map((r) => r.key).sort()).toEqual(['A', 'B']);
  });
});
