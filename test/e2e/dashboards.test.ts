/**
 * End to end: every Prometheus query of every generated dashboard (dashboards/generated/*.json)
 * on a real Prometheus scraping the real exporter's demo farm. Each panel target (rows' panels
 * included, hidden targets left out) and each Prometheus query variable, with Grafana's variables
 * substituted as a fresh dashboard load would (test/support/grafana-dashboards.ts,
 * test/support/grafana-vars.ts): it must run without error, and return data (a non-empty result)
 * once the demo has run a while. Queries whose series hold only NaN for the whole run (a quantile
 * of buckets that did not move, 0/0) are listed, not failed: see NAN_ONLY below. Each panel query gets the
 * `$__interval` / `$__rate_interval` Grafana would give it, its panel's min interval included
 * (slow-events panels: dashboards/src/lib/slow-events.ts).
 *
 * Prometheus also loads the shipped rule files (provisioning/prometheus/rules/*.yml) so panels on
 * recorded series have data; their groups' evaluation interval is set to 1s here (as in
 * alerts.test.ts) so the recorded series appear within seconds rather than a minute.
 *
 * The dashboards are read when the test runs, not imported: whatever `npm run dashboards` last
 * wrote is what is checked, and the seven shipped dashboards must all be there.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { waitUntil } from '../../exporter/src/util/wait-until.js';
import { startExporter, type ExporterProcess } from '../support/exporter-process.js';
import { panelQueries, resolveVariables, type DashboardJson, type PanelQuery, type ResolvedVariable, type VariableQuery } from '../support/grafana-dashboards.js';
import { builtinVariables, grafanaIntervals, interpolate, variableReferences, type VariableValue } from '../support/grafana-vars.js';
import { startPrometheus, type PrometheusServer } from '../support/prometheus.js';
import { fastRuleCopies } from '../support/prometheus-rules.js';
import { teardownE2e } from '../support/teardown.js';
import { requireTool } from '../support/tools.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** BUILDSCOPE_DASHBOARDS_DIR points the test at other dashboard JSON (for trying out a dashboard by hand). */
const GENERATED = process.env.BUILDSCOPE_DASHBOARDS_DIR ?? join(ROOT, 'dashboards/generated');
const DATASOURCES = join(ROOT, 'provisioning/grafana/datasources/buildscope.yaml');

/** Every dashboard buildscope ships (issue 9), by uid. */
const EXPECTED_UIDS = ['buildscope-overview', 'buildscope-exporter', 'buildscope-girar', 'buildscope-apb', 'buildscope-karajo', 'buildscope-cuirass', 'buildscope-koji'];
/** The demo farm's sources (exporter --demo). */
const DEMO_SOURCES = ['demo-girar', 'demo-girar-fs', 'demo-apb', 'demo-karajo', 'demo-cuirass', 'demo-koji'];

/**
 * The scrape interval Grafana computes `$__interval` / `$__rate_interval` from: the provisioned
 * Prometheus datasource's `timeInterval` (15s), as a real Grafana with the shipped provisioning
 * would, although the test's Prometheus scrapes every 1 s (so a 1m window holds ~60 samples).
 */
function datasourceScrapeInterval(): string {
  const doc = parse(readFileSync(DATASOURCES, 'utf8')) as { datasources?: { uid?: string; jsonData?: { timeInterval?: string } }[] };
  const value = doc.datasources?.find((d) => d.uid === 'buildscope-prometheus')?.jsonData?.timeInterval;
  if (!value) throw new Error(`${DATASOURCES}: the buildscope-prometheus datasource sets no jsonData.timeInterval`);
  return value;
}
const SCRAPE_INTERVAL = datasourceScrapeInterval();
/** The dashboard time range `$__range` and the intervals are computed for, and a typical panel's width in points. */
const DASHBOARD_RANGE_SECONDS = 300;
const MAX_DATA_POINTS = 1000;
/** Built-ins for a panel without a min interval, and for the variable queries. */
const BUILTINS = builtinsFor({});
/**
 * Range queries cover the last two minutes (most of the demo run), one point per 5 s. (Grafana
 * would step by `$__interval`, i.e. 10 min on a slow-events panel; the test keeps a fine step so a
 * short run has points to look at: the window each point covers is Grafana's.)
 */
const RANGE_SECONDS = 120;
const STEP = '5s';
/**
 * How long after the exporter started every query must have returned data with a number in it.
 * A passing run ends as soon as all have; the slowest demo events (Cuirass builds, Koji task
 * durations) arrive ~90 s in, so this leaves room for a loaded CI machine.
 */
const DATA_DEADLINE_MS = 180_000;

/**
 * Why some queries return only NaN on a short demo run, and why that is reported rather than
 * failed: a counter or histogram series is created by its first event, already at 1, and
 * rate()/increase() cannot see an increment a series was born with. The demo finishes about one
 * APB build per arch and phase, one Cuirass build per system and result, and one evaluation per
 * specification in its first minutes, so percentiles and failure ratios over those series start
 * moving only with each series' second event, whose time depends on the demo's pace and the
 * machine's load. Requiring numbers would make the test's outcome depend on that timing.
 */
const NAN_ONLY = 'NaN only so far: each series is created by its first event, which rate()/increase() cannot see';

/** `$__interval`, `$__rate_interval` and `$__range` as Grafana sets them for a panel's query. */
function builtinsFor(q: { minInterval?: string; maxDataPoints?: number }): Map<string, VariableValue> {
  const i = grafanaIntervals({ rangeMs: DASHBOARD_RANGE_SECONDS * 1000, maxDataPoints: q.maxDataPoints ?? MAX_DATA_POINTS, scrapeInterval: SCRAPE_INTERVAL, ...(q.minInterval ? { minInterval: q.minInterval } : {}) });
  return builtinVariables({ rateInterval: i.rateInterval, interval: i.interval, rangeSeconds: DASHBOARD_RANGE_SECONDS });
}

interface Loaded {
  file: string;
  json: DashboardJson;
}

function loadDashboards(): Loaded[] {
  let files: string[];
  try {
    files = readdirSync(GENERATED).filter((f) => f.endsWith('.json')).sort();
  } catch {
    return [];
  }
  return files.map((file) => ({ file, json: JSON.parse(readFileSync(join(GENERATED, file), 'utf8')) as DashboardJson }));
}

const dashboards = loadDashboards();
const prometheusBin = requireTool('prometheus', 'prometheus');

// --- Prometheus HTTP API -------------------------------------------------------------------------

interface ApiResponse {
  status: 'success' | 'error';
  errorType?: string;
  error?: string;
  data?: unknown;
}
interface QueryData {
  resultType: 'vector' | 'matrix' | 'scalar' | 'string';
  result: unknown;
}

/** POST for queries (as Grafana sends them); GET for the label endpoints, which only answer GET. */
async function api(prom: PrometheusServer, path: string, params: Record<string, string | string[]>, method: 'GET' | 'POST' = 'POST'): Promise<ApiResponse> {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const one of Array.isArray(v) ? v : [v]) form.append(k, one);
  const target = method === 'GET' ? `${prom.url}${path}?${form.toString()}` : `${prom.url}${path}`;
  const res = await fetch(target, { method, ...(method === 'POST' ? { body: form } : {}), signal: AbortSignal.timeout(15_000) });
  const text = await res.text();
  let json: ApiResponse;
  try {
    json = JSON.parse(text) as ApiResponse;
  } catch {
    throw new Error(`${method} ${path}: HTTP ${res.status}: ${text.slice(0, 200)}`);
  }
  if (json.status !== 'success' && json.status !== 'error') throw new Error(`${method} ${path}: HTTP ${res.status}, unexpected body`);
  return json;
}

function window(): { start: string; end: string } {
  const end = Date.now() / 1000;
  return { start: String(end - RANGE_SECONDS), end: String(end) };
}

/** The values a Prometheus variable query finds, through the API calls Grafana makes for it. */
async function lookup(prom: PrometheusServer, q: VariableQuery): Promise<string[]> {
  const range = { start: String(Date.now() / 1000 - 300), end: String(Date.now() / 1000) };
  const strings = (r: ApiResponse, what: string): string[] => {
    if (r.status !== 'success') throw new Error(`${what}: ${r.errorType ?? ''} ${r.error ?? ''}`.trim());
    return Array.isArray(r.data) ? r.data.map(String) : [];
  };
  switch (q.fn) {
    case 'label_values':
      return strings(await api(prom, `/api/v1/label/${encodeURIComponent(q.label)}/values`, { ...range, ...(q.match ? { 'match[]': q.match } : {}) }, 'GET'), `label values of ${q.label}`);
    case 'label_names':
      return strings(await api(prom, '/api/v1/labels', { ...range, ...(q.match ? { 'match[]': q.match } : {}) }, 'GET'), 'label names');
    case 'metrics': {
      const re = new RegExp(q.regex);
      return strings(await api(prom, '/api/v1/label/__name__/values', range, 'GET'), 'metric names').filter((n) => re.test(n));
    }
    case 'query_result': {
      const r = await api(prom, '/api/v1/query', { query: q.expr });
      if (r.status !== 'success') throw new Error(`query_result: ${r.errorType ?? ''} ${r.error ?? ''}`.trim());
      const data = r.data as QueryData;
      return Array.isArray(data.result) ? data.result.map((s: { metric: Record<string, string>; value: [number, string] }) => `${JSON.stringify(s.metric)} ${s.value[1]}`) : [String(data.result)];
    }
  }
}

// --- One round: every variable resolved, every query run ------------------------------------------

interface Outcome {
  q: PanelQuery;
  /** The query as sent, variables substituted. */
  sent: string;
  /** Error status from Prometheus, or why the query could not be sent. */
  error?: string;
  /** A parse error (Prometheus `bad_data`): permanent, not worth retrying. */
  parseError?: boolean;
  /** The error is not a variable still waiting for values: the query itself failed. */
  queryError?: boolean;
  /** A non-empty result: the pass criterion. */
  hasData: boolean;
  /**
   * Some sample is a number. NaN alone (a quantile of buckets that did not move, 0/0) draws
   * nothing in a panel: reported at the end (NAN_ONLY), not failed.
   */
  hasNumbers?: boolean;
}
interface VariableOutcome extends ResolvedVariable {
  dashboard: string;
}
interface Round {
  outcomes: Outcome[];
  variables: VariableOutcome[];
}

/** A query's name in reports. */
const describeKey = (q: PanelQuery): string => `${q.dashboard} / ${q.panel} / ${q.refId} (${q.kind})`;
const describeQuery = (q: PanelQuery, sent: string): string => `${describeKey(q)}${q.minInterval ? ` [min interval ${q.minInterval}]` : ''}: ${sent}`;

/** What a query returned: any series (or scalar) at all, and any sample that is a number. */
function answer(data: QueryData): { hasData: boolean; hasNumbers: boolean } {
  const isNumber = (v: unknown): boolean => typeof v === 'string' && v !== 'NaN';
  if (data.resultType === 'string') return { hasData: true, hasNumbers: true };
  if (data.resultType === 'scalar') return { hasData: true, hasNumbers: Array.isArray(data.result) && isNumber(data.result[1]) };
  const series = Array.isArray(data.result) ? (data.result as { value?: [number, string]; values?: [number, string][] }[]) : [];
  return { hasData: series.length > 0, hasNumbers: series.some((s) => (s.value ? isNumber(s.value[1]) : (s.values ?? []).some((v) => isNumber(v[1])))) };
}

async function runQuery(prom: PrometheusServer, q: PanelQuery, values: ReadonlyMap<string, VariableValue>, problems: ReadonlyMap<string, string>): Promise<Outcome> {
  if (!q.expr.trim()) return { q, sent: '', error: 'the target has no expression', parseError: true, queryError: true, hasData: false };
  // The panel's own intervals over the dashboard's variables (a min interval widens $__rate_interval).
  const sent = interpolate(q.expr, q.minInterval || q.maxDataPoints ? new Map([...values, ...builtinsFor(q)]) : values);
  const left = variableReferences(sent);
  if (left.length > 0) {
    const why = left.map((n) => (problems.has(n) ? `$${n} has no value (${problems.get(n)})` : `$${n} is not a variable of this dashboard`));
    const unknown = left.some((n) => !problems.has(n));
    return { q, sent, error: why.join('; '), parseError: unknown, queryError: unknown, hasData: false };
  }
  const r = q.kind === 'instant' ? await api(prom, '/api/v1/query', { query: sent }) : await api(prom, '/api/v1/query_range', { query: sent, ...window(), step: STEP });
  if (r.status !== 'success') return { q, sent, error: `${r.errorType ?? 'error'}: ${r.error ?? ''}`, parseError: r.errorType === 'bad_data', queryError: true, hasData: false };
  return { q, sent, ...answer(r.data as QueryData) };
}

async function runRound(prom: PrometheusServer): Promise<Round> {
  const perDashboard = await Promise.all(
    dashboards.map(async ({ file, json }) => {
      const name = json.uid ?? file;
      const { values, resolved } = await resolveVariables(json.templating?.list ?? [], BUILTINS, (q) => lookup(prom, q));
      const problems = new Map(resolved.filter((r) => r.problem !== undefined).map((r) => [r.name, r.problem ?? '']));
      const outcomes = await Promise.all(panelQueries(json).map((q) => runQuery(prom, q, values, problems)));
      return { outcomes, variables: resolved.map((r) => ({ ...r, dashboard: name })) };
    }),
  );
  return { outcomes: perDashboard.flatMap((d) => d.outcomes), variables: perDashboard.flatMap((d) => d.variables) };
}

/** Prometheus query variables that found nothing (or failed). */
function variableFailures(round: Round): string[] {
  return round.variables.filter((v) => v.problem !== undefined).map((v) => `${v.dashboard} / variable $${v.name}${v.query ? `: ${v.query}` : ''} — ${v.problem ?? ''}`);
}

// --- The tests ------------------------------------------------------------------------------------

describe('generated dashboards', () => {
  it('are all there: the seven buildscope dashboards', () => {
    if (dashboards.length === 0) throw new Error(`no dashboards generated: ${GENERATED} holds no JSON (run npm run dashboards)`);
    const uids = dashboards.map((d) => d.json.uid);
    expect(EXPECTED_UIDS.filter((u) => !uids.includes(u)), 'expected dashboards missing from dashboards/generated').toEqual([]);
  });
});

const allQueries = dashboards.flatMap((d) => panelQueries(d.json));

describe.skipIf(!prometheusBin || dashboards.length === 0)('every dashboard Prometheus query on a real Prometheus scraping the demo farm', () => {
  let exporter: ExporterProcess | undefined;
  let prom: PrometheusServer | undefined;
  let dir: string | undefined;
  let startedAt = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'buildscope-dashboards-e2e-'));
    const ruleFiles = (await fastRuleCopies(dir)).files;
    exporter = await startExporter(['--demo', '--log.level=warn']);
    const url = exporter.url;
    startedAt = Date.now();
    prom = await startPrometheus(prometheusBin ?? 'prometheus', { targets: [new URL(url).host], scrapeInterval: '1s', ruleFiles });
    await waitUntil(async () => (await fetch(`${url}/-/ready`)).ok, 30_000, { what: 'the demo exporter to be ready', intervalMs: 100 });
    // Every demo source scraped once, so the variables (label_values of buildfarm_source_up) resolve.
    const p = prom;
    await waitUntil(async () => (await p.query('buildfarm_source_up')).length >= DEMO_SOURCES.length, 20_000, { what: 'Prometheus to scrape every demo source', intervalMs: 200 });
  }, 90_000);

  afterAll(async () => {
    await teardownE2e({ prom, exporter, dir });
  });

  it('the dashboards hold Prometheus queries', () => {
    expect(allQueries.length, 'no Prometheus panel queries in dashboards/generated').toBeGreaterThan(0);
  });

  it('every query and every variable query runs without error', async () => {
    if (!prom) throw new Error('Prometheus not started');
    const round = await runRound(prom);
    const errors = round.outcomes.filter((o) => o.queryError).map((o) => `${describeQuery(o.q, o.sent)}\n    — ${o.error ?? ''}`);
    const varErrors = round.variables.filter((v) => v.problem !== undefined && v.problem !== 'its query returned no values').map((v) => `${v.dashboard} / variable $${v.name}${v.query ? `: ${v.query}` : ''} — ${v.problem ?? ''}`);
    expect([...varErrors, ...errors], `${errors.length + varErrors.length} dashboard queries fail to parse or run`).toEqual([]);
  }, 30_000);

  it('every query and every variable query returns data once the demo has run a while', async () => {
    const p = prom;
    if (!p) throw new Error('Prometheus not started');
    // Rounds list the same queries and variables in the same order. A query counts as answered
    // once it returned data in some round (an instant "> 0" query may be empty again later), and
    // as drawing once some round returned a number; an error in any round is kept and reported.
    const answeredAt = new Map<number, number>();
    /** When each query first returned a number (NaN-only until then). */
    const numbersAt = new Map<number, number>();
    const varAnsweredAt = new Map<number, number>();
    const errors = new Map<number, Outcome>();
    let last: Round | undefined;
    const record = (r: Round): boolean => {
      const now = Date.now();
      r.outcomes.forEach((o, i) => {
        if (o.error !== undefined && !errors.has(i)) errors.set(i, o);
        if (o.hasData && !answeredAt.has(i)) answeredAt.set(i, now);
        if (o.hasNumbers && !numbersAt.has(i)) numbersAt.set(i, now);
      });
      r.variables.forEach((v, i) => {
        if (v.problem === undefined && !varAnsweredAt.has(i)) varAnsweredAt.set(i, now);
      });
      // Parse errors never heal (the previous test names them): no use waiting on them.
      return r.variables.every((_, i) => varAnsweredAt.has(i)) && r.outcomes.every((o, i) => o.parseError === true || answeredAt.has(i));
    };
    const deadline = Math.max(0, startedAt + DATA_DEADLINE_MS - Date.now());
    try {
      await waitUntil(
        async () => {
          last = await runRound(p);
          return record(last);
        },
        deadline,
        { what: 'every dashboard query to return data', intervalMs: 2000 },
      );
    } catch {
      // Reported below.
    }
    if (!last) throw new Error('no round of queries completed');
    const varFailures = variableFailures({ outcomes: [], variables: last.variables.filter((_, i) => !varAnsweredAt.has(i)) });
    const failures = last.outcomes.flatMap((o, i) => {
      const error = errors.get(i);
      if (error) return [`${describeQuery(error.q, error.sent)}\n    — ${error.error ?? ''}`];
      if (!answeredAt.has(i)) return [`${describeQuery(o.q, o.sent)} — no data`];
      return [];
    });
    const seconds = Math.round((Date.now() - startedAt) / 1000);
    // The slowest queries to return a number, for whoever tunes the demo or the deadline.
    const slowest = [...numbersAt]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([i, at]) => {
        const o = last?.outcomes[i];
        return o ? `  ${Math.round((at - startedAt) / 1000)} s: ${describeQuery(o.q, o.sent)}` : '';
      });
    const nanOnly = last.outcomes.flatMap((o, i) => (answeredAt.has(i) && !numbersAt.has(i) ? [`  ${describeKey(o.q)}`] : []));
    console.info(
      [
        `dashboards e2e: ${dashboards.length} dashboards, ${last.outcomes.length} panel queries, ${last.variables.length} variables, ${varFailures.length + failures.length === 0 ? 'all answered' : 'gave up'} ${seconds} s after the exporter started (deadline ${DATA_DEADLINE_MS / 1000} s); the last to return a number, seconds after the exporter started:`,
        ...slowest,
        ...(nanOnly.length > 0 ? [`queries with data but no number yet (${NAN_ONLY}):`, ...nanOnly] : []),
      ].join('\n'),
    );
    expect([...varFailures, ...failures], `${varFailures.length} variable queries and ${failures.length} panel queries failing or without data ${seconds} s after the demo exporter started`).toEqual([]);
  }, DATA_DEADLINE_MS + 30_000);
});
