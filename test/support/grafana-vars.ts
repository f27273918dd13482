/**
 * Grafana's variable interpolation, as far as the Prometheus queries of buildscope's dashboards
 * use it: `$var`, `${var}`, `${var:format}` and the legacy `[[var]]` / `[[var:format]]`, with the
 * Prometheus datasource's default formatting of multi-value variables. Used by the end-to-end test
 * that runs every dashboard query on a real Prometheus (test/e2e/dashboards.test.ts).
 *
 * A reference to a variable the map does not hold is left as it is (as Grafana does), so a typo
 * such as `$sources` for `$source` reaches Prometheus and fails there, loudly.
 */

/** What a variable stands for when a query is run. */
export interface VariableValue {
  /** The selected values (one for a single-value variable). */
  values: string[];
  /**
   * The variable is multi-value or has an All option: the Prometheus datasource then
   * regex-escapes each value and joins several as `(a|b)`, for use in `=~` matchers.
   */
  multi?: boolean;
  /** The All option is selected and the variable has a custom all value: inserted verbatim. */
  allValue?: string;
}

/** Grafana's built-in interval and range variables, for a dashboard range and a query interval. */
export function builtinVariables(o: { rateInterval: string; interval: string; rangeSeconds: number }): Map<string, VariableValue> {
  const ms = (d: string): number => durationMs(d);
  const one = (v: string): VariableValue => ({ values: [v] });
  return new Map([
    ['__rate_interval', one(o.rateInterval)],
    ['__rate_interval_ms', one(String(ms(o.rateInterval)))],
    ['__interval', one(o.interval)],
    ['__interval_ms', one(String(ms(o.interval)))],
    ['__range', one(`${o.rangeSeconds}s`)],
    ['__range_s', one(String(o.rangeSeconds))],
    ['__range_ms', one(String(o.rangeSeconds * 1000))],
  ]);
}

/** How Grafana chooses a Prometheus query's `$__interval` and `$__rate_interval`. */
export interface IntervalOptions {
  /** The dashboard's time range, in milliseconds. */
  rangeMs: number;
  /** The panel's max data points (Grafana: the panel's width in pixels unless the panel sets it). */
  maxDataPoints: number;
  /** The panel's min interval (its `interval` field), if it has one. */
  minInterval?: string;
  /** The Prometheus datasource's scrape interval (its `timeInterval` setting); Grafana assumes 15s when unset. */
  scrapeInterval?: string;
}

/**
 * `$__interval` and `$__rate_interval` as Grafana computes them for a Prometheus query:
 * - `$__interval` is the time range over the max data points, rounded to a "nice" step, but never
 *   below the panel's min interval, or, for a panel without one, below the datasource's scrape
 *   interval;
 * - `$__rate_interval = max($__interval + scrape interval, 4 × scrape interval)`.
 * (Variables in a min interval, and a target's own min step, are not supported here.)
 */
export function grafanaIntervals(o: IntervalOptions): { interval: string; intervalMs: number; rateInterval: string; rateIntervalMs: number } {
  if (!(o.rangeMs > 0) || !(o.maxDataPoints > 0)) throw new Error(`range and max data points must be positive: ${o.rangeMs} ms, ${o.maxDataPoints}`);
  const scrapeMs = durationMs(o.scrapeInterval ?? '15s');
  const floorMs = o.minInterval !== undefined && o.minInterval.trim() !== '' ? durationMs(o.minInterval.trim()) : scrapeMs;
  const intervalMs = Math.max(roundInterval(o.rangeMs / o.maxDataPoints), floorMs);
  const rateIntervalMs = Math.max(intervalMs + scrapeMs, 4 * scrapeMs);
  return { interval: formatDuration(intervalMs), intervalMs, rateInterval: formatDuration(rateIntervalMs), rateIntervalMs };
}

/**
 * The "nice" steps Grafana rounds an automatic interval to: each entry is [below, step], read as
 * "an interval under `below` ms becomes `step` ms"; anything longer becomes a year.
 */
const NICE_STEPS: [below: number, step: number][] = [
  [10, 1], [15, 10], [35, 20], [75, 50], [150, 100], [350, 200], [750, 500],
  [1_500, 1_000], [3_500, 2_000], [7_500, 5_000], [12_500, 10_000], [17_500, 15_000], [25_000, 20_000], [45_000, 30_000],
  [90_000, 60_000], [210_000, 120_000], [450_000, 300_000], [750_000, 600_000], [1_050_000, 900_000], [1_500_000, 1_200_000], [2_700_000, 1_800_000],
  [5_400_000, 3_600_000], [9_000_000, 7_200_000], [16_200_000, 10_800_000], [32_400_000, 21_600_000], [86_400_000, 43_200_000],
  [604_800_000, 86_400_000], [1_814_400_000, 604_800_000], [3_628_800_000, 2_592_000_000],
];

/** An automatic interval rounded to Grafana's nearest nice step (1s, 2s, 5s, 10s, 15s, 20s, 30s, 1m, ...). */
export function roundInterval(ms: number): number {
  for (const [below, step] of NICE_STEPS) if (ms < below) return step;
  return 31_536_000_000;
}

/** A duration in milliseconds as a Prometheus duration: `615000` -> `10m15s`, `60000` -> `1m`. */
export function formatDuration(ms: number): string {
  if (!Number.isInteger(ms) || ms <= 0) throw new Error(`not a positive whole number of milliseconds: ${ms}`);
  const units: [string, number][] = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]];
  let left = ms;
  let out = '';
  for (const [unit, size] of units) {
    const n = Math.floor(left / size);
    if (n > 0) out += `${n}${unit}`;
    left -= n * size;
  }
  return out;
}

/** Milliseconds in a Prometheus-style duration such as `15s`, `1m`, `1h30m`. */
export function durationMs(d: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };
  const parts = [...d.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== d) throw new Error(`not a duration: ${JSON.stringify(d)}`);
  return parts.reduce((sum, p) => sum + Number(p[1]) * (units[p[2] ?? ''] ?? 0), 0);
}

/**
 * `$name` (longest word: `$sources` names `sources`, never `source`), `[[name]]`, `[[name:fmt]]`,
 * `${name}`, `${name:fmt}`. Group 1: $name; 2, 3: [[name:fmt]]; 4, 5: ${name:fmt}.
 */
const REFERENCE = /\$(\w+)|\[\[(\w+)(?::(\w+))?\]\]|\$\{(\w+)(?::([^}]+))?\}/g;

/** Replace every variable reference in `text` the way Grafana does before a Prometheus query. */
export function interpolate(text: string, variables: ReadonlyMap<string, VariableValue>): string {
  return text.replace(REFERENCE, (whole: string, plain?: string, legacy?: string, legacyFormat?: string, braced?: string, bracedFormat?: string) => {
    const name = plain ?? legacy ?? braced ?? '';
    const value = variables.get(name);
    if (!value) return whole;
    return format(value, legacyFormat ?? bracedFormat);
  });
}

/**
 * Variable references still in `text` (after interpolation: variables nobody defined). `$1`-style
 * references (label_replace replacements) are not variables and are left out.
 */
export function variableReferences(text: string): string[] {
  const names: string[] = [];
  for (const m of text.matchAll(REFERENCE)) {
    const name = m[1] ?? m[2] ?? m[4] ?? '';
    if (!/^\d+$/.test(name) && !names.includes(name)) names.push(name);
  }
  return names;
}

function format(v: VariableValue, fmt: string | undefined): string {
  // A custom all value is the query author's own regex: Grafana inserts it unformatted.
  if (v.allValue !== undefined && fmt !== 'text') return v.allValue;
  const values = v.values;
  switch (fmt) {
    case undefined:
      return prometheusDefault(v);
    case 'regex': {
      const escaped = values.map(regexEscape);
      return escaped.length === 1 ? (escaped[0] ?? '') : `(${escaped.join('|')})`;
    }
    case 'pipe':
      return values.join('|');
    case 'csv':
    case 'raw':
    case 'text':
      return values.join(',');
    case 'glob':
      return values.length === 1 ? (values[0] ?? '') : `{${values.join(',')}}`;
    case 'json':
      return JSON.stringify(values.length === 1 ? values[0] : values);
    case 'doublequote':
      return values.map((x) => `"${x}"`).join(',');
    case 'singlequote':
      return values.map((x) => `'${x}'`).join(',');
    default:
      throw new Error(`variable format ${fmt} is not supported by this test's interpolation`);
  }
}

/** Regex metacharacters escaped (for `${var:regex}`). */
function regexEscape(s: string): string {
  return s.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');
}

/**
 * The Prometheus datasource's own formatting of a variable with no explicit format: a
 * single-value variable is inserted as a string literal's content (backslashes doubled); a
 * multi-value or All variable is a regex inside a string literal (metacharacters escaped, then
 * backslashes doubled), several values as `(a|b)`.
 */
function prometheusDefault(v: VariableValue): string {
  const literal = (s: string): string => s.replace(/\\/g, '\\\\');
  if (!v.multi) return v.values.map(literal).join(',');
  const escaped = v.values.map((s) => literal(s.replace(/[\\^$*+?.()|[\]{}']/g, '\\$&')));
  return escaped.length === 1 ? (escaped[0] ?? '') : `(${escaped.join('|')})`;
}
