/**
 * Reading Prometheus queries out of Grafana dashboard JSON (the generated files in
 * dashboards/generated/), and choosing each dashboard variable's value the way Grafana does on a
 * fresh load with the defaults. Pure: the end-to-end test (test/e2e/dashboards.test.ts) supplies
 * the Prometheus look-ups.
 */
import type { VariableValue } from './grafana-vars.js';
import { interpolate } from './grafana-vars.js';

/** The parts of a dashboard's JSON this module reads; everything else is ignored. */
export interface DashboardJson {
  uid?: string;
  title?: string;
  panels?: PanelJson[];
  templating?: { list?: VariableJson[] };
}
export interface DatasourceRef {
  type?: string;
  uid?: string;
}
export interface PanelJson {
  id?: number;
  title?: string;
  type?: string;
  datasource?: DatasourceRef | string | null;
  targets?: TargetJson[];
  /** The panel's min interval ("Min interval": the floor of `$__interval`, and so of `$__rate_interval`). */
  interval?: string | null;
  /** The panel's max data points (Grafana uses the panel's width in pixels when unset). */
  maxDataPoints?: number | null;
  /** A row's panels (kept here while the row is collapsed). */
  panels?: PanelJson[];
}
export interface TargetJson {
  refId?: string;
  datasource?: DatasourceRef | string | null;
  expr?: string;
  hide?: boolean;
  instant?: boolean;
  range?: boolean;
}
export interface VariableJson {
  name: string;
  type: string;
  datasource?: DatasourceRef | string | null;
  query?: string | { query?: string } | null;
  definition?: string;
  includeAll?: boolean;
  multi?: boolean;
  allValue?: string | null;
  regex?: string;
  current?: { value?: string | string[] | null; text?: string | string[] | null } | null;
  options?: { value?: string; text?: string }[];
}

/** One query Grafana sends to Prometheus for a panel: an instant query or a range query. */
export interface PanelQuery {
  dashboard: string;
  panel: string;
  refId: string;
  expr: string;
  kind: 'instant' | 'range';
  /** The panel's min interval, when it sets one (for `grafanaIntervals` in grafana-vars.ts). */
  minInterval?: string;
  /** The panel's max data points, when it sets them. */
  maxDataPoints?: number;
}

/** Variable references Grafana resolves for datasource uids; `${prometheus}` is buildscope's. */
const PROMETHEUS_UIDS = new Set(['${prometheus}', '$prometheus', '[[prometheus]]', 'buildscope-prometheus']);

export function isPrometheus(ds: DatasourceRef | string | null | undefined): boolean {
  if (ds === null || ds === undefined) return false;
  if (typeof ds === 'string') return PROMETHEUS_UIDS.has(ds);
  return ds.type === 'prometheus' || (ds.uid !== undefined && PROMETHEUS_UIDS.has(ds.uid));
}

/** A target with no datasource of its own uses the panel's; the mixed datasource means "the target's". */
function effectiveDatasource(panel: PanelJson, target: TargetJson): DatasourceRef | string | null | undefined {
  if (target.datasource !== undefined && target.datasource !== null) return target.datasource;
  return panel.datasource;
}

/**
 * Every Prometheus query of every panel (rows' panels included, collapsed or not), skipping
 * hidden targets, each with its panel's min interval and max data points when set. A target asking for both an instant and a range result gives two queries; one
 * asking for neither is a range query (Grafana's default). A Prometheus target without an
 * expression is returned with an empty `expr` so the caller reports it.
 */
export function panelQueries(dashboard: DashboardJson): PanelQuery[] {
  const name = dashboard.uid ?? dashboard.title ?? '(no uid)';
  const out: PanelQuery[] = [];
  const walk = (panels: PanelJson[] | undefined, row: string | undefined): void => {
    for (const panel of panels ?? []) {
      const title = panel.title?.trim() ? panel.title : `panel #${panel.id ?? '?'} (${panel.type ?? 'no type'})`;
      const path = row ? `${row} › ${title}` : title;
      if (panel.type === 'row') {
        walk(panel.panels, title);
        continue;
      }
      for (const target of panel.targets ?? []) {
        if (target.hide === true || !isPrometheus(effectiveDatasource(panel, target))) continue;
        const base: Omit<PanelQuery, 'kind'> = {
          dashboard: name,
          panel: path,
          refId: target.refId ?? '?',
          expr: target.expr ?? '',
          ...(typeof panel.interval === 'string' && panel.interval.trim() !== '' ? { minInterval: panel.interval.trim() } : {}),
          ...(typeof panel.maxDataPoints === 'number' && panel.maxDataPoints > 0 ? { maxDataPoints: panel.maxDataPoints } : {}),
        };
        const instant = target.instant === true;
        const range = target.range === true || !instant;
        if (instant) out.push({ ...base, kind: 'instant' });
        if (range) out.push({ ...base, kind: 'range' });
      }
    }
  };
  walk(dashboard.panels, undefined);
  return out;
}

/** A Prometheus variable query (Grafana's classic query functions). */
export type VariableQuery =
  | { fn: 'label_values'; label: string; match?: string }
  | { fn: 'label_names'; match?: string }
  | { fn: 'metrics'; regex: string }
  | { fn: 'query_result'; expr: string };

/** The text of a query variable's query (its definition, or the query itself). */
export function variableQueryText(v: VariableJson): string | undefined {
  if (typeof v.query === 'string' && v.query.trim()) return v.query;
  if (v.query && typeof v.query === 'object' && typeof v.query.query === 'string' && v.query.query.trim()) return v.query.query;
  return v.definition?.trim() ? v.definition : undefined;
}

/** Parse `label_values(match, label)`, `label_values(label)`, `label_names(match?)`, `metrics(re)`, `query_result(expr)`. */
export function parseVariableQuery(text: string): VariableQuery {
  const t = text.trim();
  const call = /^(\w+)\s*\(([\s\S]*)\)$/.exec(t);
  if (!call) throw new Error(`not a Prometheus variable query: ${text}`);
  const fn = call[1] ?? '';
  const args = (call[2] ?? '').trim();
  switch (fn) {
    case 'label_values': {
      // The label is what follows the last comma; the series selector (which may hold commas) precedes it.
      const m = /^(?:([\s\S]+),)?\s*([A-Za-z_][A-Za-z0-9_]*)$/.exec(args);
      if (!m?.[2]) throw new Error(`label_values needs a label name: ${text}`);
      const match = m[1]?.trim();
      return match ? { fn, label: m[2], match } : { fn, label: m[2] };
    }
    case 'label_names':
      return args ? { fn, match: args } : { fn };
    case 'metrics':
      return { fn, regex: args };
    case 'query_result':
      if (!args) throw new Error(`query_result needs a query: ${text}`);
      return { fn, expr: args };
    default:
      throw new Error(`unsupported Prometheus variable query function ${fn}: ${text}`);
  }
}

/** The variable's regex filter applied to found values (first capture group, or a `value` group, is kept). */
export function applyVariableRegex(values: string[], regex: string | undefined): string[] {
  if (!regex?.trim()) return values;
  const slashed = /^\/([\s\S]*)\/([a-z]*)$/.exec(regex);
  const re = slashed ? new RegExp(slashed[1] ?? '', (slashed[2] ?? '').replace('g', '')) : new RegExp(regex);
  const out: string[] = [];
  for (const v of values) {
    const m = re.exec(v);
    if (!m) continue;
    const kept = m.groups?.value ?? m[1] ?? m[0];
    if (!out.includes(kept)) out.push(kept);
  }
  return out;
}

const ALL = '$__all';

function currentValues(v: VariableJson): string[] {
  const value = v.current?.value;
  if (value === null || value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** Options of a custom variable: `a,b` or `key : value` entries. */
function customOptions(v: VariableJson): string[] {
  const text = typeof v.query === 'string' ? v.query : '';
  const fromQuery = text
    .split(/(?<!\\),/)
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const kv = /^(.*?)\s:\s(.*)$/.exec(s);
      return kv ? (kv[2] ?? '').trim() : s;
    });
  if (fromQuery.length > 0) return fromQuery;
  return (v.options ?? []).map((o) => o.value ?? '').filter((s) => s !== '' && s !== ALL);
}

/** What resolving one variable found. */
export interface ResolvedVariable {
  name: string;
  /** The substituted query sent to Prometheus (Prometheus query variables only). */
  query?: string;
  /** The values the query returned, after the variable's regex (Prometheus query variables only). */
  found?: string[];
  value?: VariableValue;
  /** Why the variable has no value. */
  problem?: string;
}

/**
 * Resolve a dashboard's variables in order, each seeing the ones before it, as Grafana does on
 * load with the saved defaults:
 * - Prometheus query variables run their query (`lookup`); with an All option and a custom all
 *   value they stand for that value (`.*`), with an All option selected and no all value for
 *   every found value, else for the saved value when the query still returns it, else the first
 *   value found;
 * - custom, textbox, constant and interval variables stand for their saved value (or their first
 *   option), an All selection as above;
 * - datasource variables stand for their saved value (a uid); ad hoc filters add nothing.
 * `base` holds the built-in variables.
 */
export async function resolveVariables(
  variables: VariableJson[],
  base: ReadonlyMap<string, VariableValue>,
  lookup: (q: VariableQuery) => Promise<string[]>,
): Promise<{ values: Map<string, VariableValue>; resolved: ResolvedVariable[] }> {
  const values = new Map(base);
  const resolved: ResolvedVariable[] = [];
  for (const v of variables) {
    const r = await resolveOne(v, values, lookup);
    if (r.value) values.set(v.name, r.value);
    resolved.push(r);
  }
  return { values, resolved };
}

async function resolveOne(v: VariableJson, known: ReadonlyMap<string, VariableValue>, lookup: (q: VariableQuery) => Promise<string[]>): Promise<ResolvedVariable> {
  const multi = v.multi === true || v.includeAll === true;
  const current = currentValues(v);
  const allSelected = current.includes(ALL);
  const allValue = v.allValue ? v.allValue : undefined;
  const pick = (options: string[]): VariableValue | undefined => {
    if (v.includeAll && allValue !== undefined) return { values: options, multi, allValue };
    if (v.includeAll && allSelected) return options.length > 0 ? { values: options, multi } : undefined;
    const kept = current.filter((c) => c !== ALL && options.includes(c));
    if (kept.length > 0) return { values: kept, multi };
    return options[0] !== undefined ? { values: [options[0]], multi } : undefined;
  };
  switch (v.type) {
    case 'datasource':
      return { name: v.name, value: { values: current.filter((c) => c !== ALL) } };
    case 'adhoc':
      return { name: v.name };
    case 'query': {
      if (!isPrometheus(v.datasource)) {
        // Not Prometheus (e.g. the plugin): its saved value is all a Prometheus query can use.
        const value = pick(current.filter((c) => c !== ALL));
        return value ? { name: v.name, value } : { name: v.name, problem: 'not a Prometheus variable and has no saved value' };
      }
      const text = variableQueryText(v);
      if (!text) return { name: v.name, problem: 'query variable without a query' };
      const query = interpolate(text, known);
      let found: string[];
      try {
        found = applyVariableRegex(await lookup(parseVariableQuery(query)), v.regex);
      } catch (err) {
        return { name: v.name, query, problem: (err as Error).message };
      }
      const value = pick(found);
      return value && found.length > 0 ? { name: v.name, query, found, value } : { name: v.name, query, found, problem: 'its query returned no values' };
    }
    case 'custom': {
      const value = pick(customOptions(v));
      return value ? { name: v.name, value } : { name: v.name, problem: 'custom variable without options' };
    }
    case 'textbox':
    case 'constant': {
      const saved = current[0] ?? (typeof v.query === 'string' ? v.query : '');
      return { name: v.name, value: { values: [saved] } };
    }
    case 'interval': {
      const options = typeof v.query === 'string' ? v.query.split(',').map((s) => s.trim()).filter(Boolean) : [];
      const saved = current[0] ?? options[0];
      return saved ? { name: v.name, value: { values: [saved] } } : { name: v.name, problem: 'interval variable without a value' };
    }
    default:
      return { name: v.name, problem: `variable type ${v.type} is not handled by this test` };
  }
}
