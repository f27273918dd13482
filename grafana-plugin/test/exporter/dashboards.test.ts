/**
 * Every plugin query the shipped dashboards hold (dashboards/generated/*.json, read when the test
 * runs), run for real: the datasource drives the demo exporter (exporter/global-setup.ts) through a
 * BackendSrv doing real HTTP, with the dashboard's variables at their defaults (`$source` = All,
 * ...) as a TemplateSrv holds them when the dashboard opens. Each query must answer frames and no
 * error; live events queries must open the stream and emit their frame; plugin annotations must
 * run and turn into events.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dateTime, LoadingState, type AnnotationQuery, type DataFrame, type DataQueryResponse, type TimeRange } from '@grafana/data';
import { firstValueFrom } from 'rxjs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DataSource } from '../../src/datasource.js';
import { FILTER_FIELDS, type BuildscopeQuery } from '../../src/types.js';
import { exporterUrl, installHttpBackendSrv, installTemplateSrv, makeDatasource, makeRequest, waitUntil, type TestVariable } from '../helpers.js';

const PLUGIN_ID = 'buildscope-buildfarm-datasource';
const DASHBOARD_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../../dashboards/generated');

interface DataSourceRef {
  type?: string;
  uid?: string;
}
interface PanelJson {
  title?: string;
  type?: string;
  datasource?: DataSourceRef | null;
  targets?: Array<Record<string, unknown> & { refId?: string; datasource?: DataSourceRef | null }>;
  panels?: PanelJson[];
}
interface VariableJson {
  name: string;
  type: string;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string | null;
  current?: { value?: string | string[] };
  options?: Array<{ value?: string }>;
}
interface DashboardJson {
  uid: string;
  title: string;
  time?: { from?: string; to?: string };
  panels?: PanelJson[];
  templating?: { list?: VariableJson[] };
  annotations?: { list?: Array<AnnotationQuery<BuildscopeQuery> & { datasource?: DataSourceRef | null }> };
}

const isPlugin = (ref: DataSourceRef | null | undefined): boolean => ref?.type === PLUGIN_ID || ref?.uid === '${buildscope}' || ref?.uid === '$buildscope';

function* allPanels(panels: PanelJson[] | undefined): Generator<PanelJson> {
  for (const panel of panels ?? []) {
    yield panel;
    yield* allPanels(panel.panels);
  }
}

const dashboards: DashboardJson[] = readdirSync(DASHBOARD_DIR)
  .filter((name) => name.endsWith('.json'))
  .sort()
  .map((name) => JSON.parse(readFileSync(join(DASHBOARD_DIR, name), 'utf8')) as DashboardJson);

interface Case {
  name: string;
  dashboard: DashboardJson;
  panel: string;
  target: BuildscopeQuery;
}

const cases: Case[] = dashboards.flatMap((dashboard) =>
  [...allPanels(dashboard.panels)].flatMap((panel) =>
    (panel.targets ?? [])
      .filter((t) => isPlugin(t.datasource ?? panel.datasource))
      .map((t) => ({ name: `${dashboard.title} / ${panel.title ?? '(untitled)'} / ${t.refId ?? '?'}`, dashboard, panel: panel.title ?? '(untitled)', target: t as unknown as BuildscopeQuery })),
  ),
);

const annotations = dashboards.flatMap((dashboard) =>
  (dashboard.annotations?.list ?? []).filter((a) => isPlugin(a.datasource)).map((annotation) => ({ name: `${dashboard.title} / annotation ${annotation.name}`, dashboard, annotation })),
);

/** `now-6h` and the like as a range ending now (the dashboards use no other form). */
function rangeOf(dashboard: DashboardJson): TimeRange {
  const from = dashboard.time?.from ?? 'now-6h';
  const m = /^now-(\d+)([smhdw])$/.exec(from);
  if (!m) throw new Error(`${dashboard.title}: time.from ${from} is not now-<n><unit>`);
  const unitMs = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as 's' | 'm' | 'h' | 'd' | 'w'];
  const now = Date.now();
  return { from: dateTime(now - Number(m[1]) * unitMs), to: dateTime(now), raw: { from, to: 'now' } };
}

let sourceNames: string[] = [];
const fieldValues = new Map<string, string[]>();

/** The dashboard's variables at their saved defaults; an All variable without allValue expands to the exporter's values of that field. */
function variablesOf(dashboard: DashboardJson): TestVariable[] {
  return (dashboard.templating?.list ?? [])
    .filter((v) => v.type !== 'datasource')
    .map((v) => {
      const raw = v.current?.value ?? [];
      const current = Array.isArray(raw) ? raw : [raw];
      const saved = (v.options ?? []).map((o) => o.value).filter((x): x is string => typeof x === 'string' && x !== '$__all');
      const options = saved.length ? saved : v.name === 'source' ? sourceNames : (fieldValues.get(v.name) ?? current.filter((c) => c !== '$__all'));
      return { name: v.name, options, current, multi: v.multi ?? false, includeAll: v.includeAll ?? false, ...(v.allValue ? { allValue: v.allValue } : {}) };
    });
}

function describeError(res: DataQueryResponse | undefined): string {
  return JSON.stringify(res?.error ?? res?.errors ?? null);
}

const url = exporterUrl();
let ds: DataSource;

beforeAll(async () => {
  const res = await fetch(`${url}/api/v1/sources`);
  const body = (await res.json()) as { sources: Array<{ name: string }> };
  sourceNames = body.sources.map((s) => s.name);
  for (const field of FILTER_FIELDS) {
    const values = (await (await fetch(`${url}/api/v1/values/${field}`)).json()) as { values?: string[] };
    fieldValues.set(field, values.values ?? []);
  }
});

beforeEach(() => {
  installHttpBackendSrv();
  ds = makeDatasource(url);
});

afterEach(() => ds.dispose());

describe('the shipped dashboards hold plugin queries', () => {
  it('finds dashboards and plugin targets to run', () => {
    expect(dashboards.length, 'dashboards/generated/*.json').toBeGreaterThan(0);
    expect(cases.length, 'plugin targets in dashboards/generated/*.json').toBeGreaterThan(0);
  });
});

describe('every plugin query of every dashboard runs against the demo exporter', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (name, c) => {
    installTemplateSrv(variablesOf(c.dashboard));
    const request = makeRequest([c.target], rangeOf(c.dashboard));
    if (c.target.queryType === 'events') {
      const seen: DataQueryResponse[] = [];
      const sub = ds.query(request).subscribe({ next: (r) => seen.push(r) });
      try {
        await waitUntil(() => seen.length > 0 && ds.eventHub.connections === 1, 15_000, { what: `${name}: the event stream` });
        const res = seen.at(-1)!;
        expect(res.error, `${name}: ${describeError(res)}`).toBeUndefined();
        expect(res.state, `${name}: streaming state`).toBe(LoadingState.Streaming);
        expect(res.key, name).toBe(c.target.refId);
        expect(res.data.length, `${name}: frames`).toBeGreaterThan(0);
      } finally {
        sub.unsubscribe();
      }
      return;
    }
    const res = await firstValueFrom(ds.query(request));
    expect(res.error, `${name}: ${describeError(res)}`).toBeUndefined();
    expect(res.state, `${name}: ${describeError(res)}`).toBe(LoadingState.Done);
    expect(res.key, name).toBe(c.target.refId);
    const frames = res.data as DataFrame[];
    expect(frames.length, `${name}: frames`).toBeGreaterThan(0);
    if (c.target.queryType === 'task' && frames[0]?.fields.length === 0) {
      // A task-detail panel before a task is picked: an empty frame that says so, not an error.
      expect(frames[0].meta?.notices?.[0]?.text, `${name}: the empty frame says to pick a task`).toMatch(/Pick a task/);
      // Then pick one, as a user would, through the dashboard's own variables.
      const picked = await pickTask(c);
      const res2 = await firstValueFrom(ds.query(makeRequest([c.target], rangeOf(c.dashboard))));
      expect(res2.error, `${name} with ${picked}: ${describeError(res2)}`).toBeUndefined();
      const frames2 = res2.data as DataFrame[];
      expect(frames2.length, `${name} with ${picked}: frames`).toBeGreaterThan(0);
      for (const frame of frames2) expect(frame.fields.length, `${name} with ${picked}: frame ${frame.name ?? ''} has columns`).toBeGreaterThan(0);
      return;
    }
    for (const frame of frames) expect(frame.fields.length, `${name}: frame ${frame.name ?? ''} has columns`).toBeGreaterThan(0);
  });
});

/**
 * Set the variables a task-detail target reads (`source: '$task_source', id: '$task'`) to a real
 * task with subtasks, of the dashboard's kind when its uid names one (`buildscope-girar`).
 */
async function pickTask(c: Case): Promise<string> {
  if (c.target.queryType !== 'task') throw new Error('not a task query');
  const kind = /^buildscope-(\w+)$/.exec(c.dashboard.uid)?.[1];
  const query = new URLSearchParams({ state: 'ALL', limit: '50', ...(kind && ['girar', 'apb', 'karajo', 'cuirass', 'koji'].includes(kind) ? { kind } : {}) });
  const page = (await (await fetch(`${url}/api/v1/tasks?${query}`)).json()) as { items: Array<{ source: string; id: string; subtasks?: unknown[] }> };
  const task = page.items.find((t) => (t.subtasks ?? []).length > 0) ?? page.items[0];
  if (!task) throw new Error(`${c.dashboard.title}: the demo exporter holds no ${kind ?? ''} task to pick`);
  const varName = (text: string): string | undefined => /^\$\{?(\w+)\}?$/.exec(text)?.[1];
  const set = new Map<string, string>();
  const sourceVar = varName(c.target.source);
  const idVar = varName(c.target.id);
  if (sourceVar) set.set(sourceVar, task.source);
  if (idVar) set.set(idVar, task.id);
  installTemplateSrv(variablesOf(c.dashboard).map((v) => (set.has(v.name) ? { ...v, options: [set.get(v.name)!], current: [set.get(v.name)!], multi: false, includeAll: false } : v)));
  return `${task.source}/${task.id}`;
}

describe('every plugin annotation of every dashboard runs against the demo exporter', () => {
  it('the shipped dashboards define plugin annotations (girar: failed tasks)', () => {
    expect(annotations.map((a) => a.name)).toContain('girar / annotation Failed tasks');
  });
  it.each(annotations.map((a) => [a.name, a] as const))('%s', async (name, a) => {
    installTemplateSrv(variablesOf(a.dashboard));
    const support = ds.annotations!;
    const anno = support.prepareAnnotation!(a.annotation as never);
    const target = support.prepareQuery!(anno);
    expect(target, `${name}: enabled`).toBeDefined();
    const res = await firstValueFrom(ds.query(makeRequest([target!], rangeOf(a.dashboard))));
    expect(res.error, `${name}: ${describeError(res)}`).toBeUndefined();
    const events = await firstValueFrom(support.processEvents!(anno, res.data as DataFrame[]));
    expect(Array.isArray(events), `${name}: annotation events`).toBe(true);
    // The demo farm has finished tasks of every phase in the dashboards' default range: each
    // annotation marks some, at a time inside the range, with a title.
    const range = rangeOf(a.dashboard);
    expect(events!.length, `${name}: annotation events in the last ${a.dashboard.time?.from ?? '6h'}`).toBeGreaterThan(0);
    for (const e of events!) {
      expect(e.time, `${name}: event time`).toBeGreaterThanOrEqual(range.from.valueOf() - 60_000);
      expect(e.title ?? e.text, `${name}: event title`).toBeTruthy();
    }
  });
});
