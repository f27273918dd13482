/**
 * Creates prom-client objects from the definitions table, so a collector can only make a family
 * that is declared there, with exactly its declared type, labels, buckets and help.
 */
import { Counter, Gauge, Histogram, type LabelValues, type Registry } from 'prom-client';
import type { CounterValue } from '../store/journal.js';
import type { LabelGuard } from './label-guard.js';
import { METRICS, helpText, type KeyOfType, type LabelName } from './definitions.js';

export interface FamilyContext {
  registry: Registry;
  /** Poll interval quoted in HELP texts. */
  refreshSeconds: number | string;
}

/** A collect callback: reset the gauge, then set the current values. It may throw; the family is then skipped. */
export type GaugeCollect<K extends KeyOfType<'gauge'>> = (gauge: Gauge<LabelName<K>>) => void;

export function makeGauge<K extends KeyOfType<'gauge'>>(ctx: FamilyContext, key: K, collect?: GaugeCollect<K>): Gauge<LabelName<K>> {
  const def = METRICS[key];
  const gauge: Gauge<LabelName<K>> = new Gauge<LabelName<K>>({
    name: def.name,
    help: helpText(def, ctx.refreshSeconds),
    labelNames: def.labels,
    registers: [ctx.registry],
    ...(collect ? { collect: () => collect(gauge) } : {}),
  });
  return gauge;
}

export function makeCounter<K extends KeyOfType<'counter'>>(ctx: FamilyContext, key: K): Counter<LabelName<K>> {
  const def = METRICS[key];
  return new Counter<LabelName<K>>({ name: def.name, help: helpText(def, ctx.refreshSeconds), labelNames: def.labels, registers: [ctx.registry] });
}

export function makeHistogram<K extends KeyOfType<'histogram'>>(ctx: FamilyContext, key: K): Histogram<LabelName<K>> {
  const def = METRICS[key];
  return new Histogram<LabelName<K>>({
    name: def.name,
    help: helpText(def, ctx.refreshSeconds),
    labelNames: def.labels,
    buckets: [...def.buckets],
    registers: [ctx.registry],
  });
}

/** Label values of a family, every declared label required. */
export type Labels<K extends keyof typeof METRICS> = Record<LabelName<K>, string>;

/**
 * Remembers which label sets of event-fed counters and histograms belong to which source,
 * so `forgetSource` can drop them. Counters are otherwise never reset: their series must not
 * vanish when the tasks that fed them go away.
 */
export class SourceSeries {
  private readonly bySource = new Map<string, Map<string, () => void>>();
  /** Every event-fed counter series' value (metric name + labels -> value), for the journal. */
  private readonly counterValues = new Map<string, CounterValue>();
  /** Keys of counterValues changed since `takeDirtyCounters`. */
  private readonly dirty = new Set<string>();
  private readonly counters = new Map<string, { restore(labels: Record<string, string>, value: number): void }>();

  /** A counter family whose values the journal keeps (SourceCounter registers itself). */
  registerCounter(name: string, counter: { restore(labels: Record<string, string>, value: number): void }): void {
    this.counters.set(name, counter);
  }

  counted(name: string, labels: Record<string, string>, by: number): void {
    // Keyed by the sorted labels: the same series whatever order a call site names them in.
    const key = `${name}${JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))}`;
    const held = this.counterValues.get(key);
    if (held) held.value += by;
    else this.counterValues.set(key, { family: name, labels: { ...labels }, value: by });
    this.dirty.add(key);
  }

  /** The counter series that moved since the last call (the journal writes them with each batch). */
  takeDirtyCounters(): CounterValue[] {
    const out: CounterValue[] = [];
    for (const key of this.dirty) {
      const v = this.counterValues.get(key);
      if (v) out.push({ family: v.family, labels: v.labels, value: v.value });
    }
    this.dirty.clear();
    return out;
  }

  /**
   * Counter values an earlier run reached (journal high-water marks): the series continue from
   * there instead of restarting at 0. Families this version no longer has are ignored.
   */
  restoreCounters(values: readonly CounterValue[], guard?: LabelGuard): number {
    let restored = 0;
    for (const v of values) {
      const counter = this.counters.get(v.family);
      if (!counter || !Number.isFinite(v.value) || v.value <= 0) continue;
      counter.restore(guard ? guardedLabels(v.labels, guard) : v.labels, v.value);
      restored += 1;
    }
    this.dirty.clear();
    return restored;
  }

  /** Every durable counter series and its value (after a restore: what the journal should hold). */
  allCounters(): CounterValue[] {
    return [...this.counterValues.values()].map((v) => ({ family: v.family, labels: v.labels, value: v.value }));
  }

  remember(family: string, source: string, labels: object, remove: () => void): void {
    let held = this.bySource.get(source);
    if (!held) this.bySource.set(source, (held = new Map()));
    const key = `${family}${JSON.stringify(labels)}`;
    if (!held.has(key)) held.set(key, remove);
  }

  forget(source: string): void {
    for (const remove of this.bySource.get(source)?.values() ?? []) remove();
    this.bySource.delete(source);
    for (const [key, v] of this.counterValues) {
      if (v.labels.source === source) {
        this.counterValues.delete(key);
        this.dirty.delete(key);
      }
    }
  }
}

/** Labels whose values the LabelGuard bounds under another scope name (the live code guards both as `state`). */
const GUARD_SCOPE: Readonly<Record<string, string>> = { from_state: 'state', to_state: 'state' };
/** Label scopes the metric collectors pass through the LabelGuard. */
const GUARDED_SCOPES = new Set(['repo', 'arch', 'state', 'result', 'karajo_job', 'channel', 'method', 'reason', 'worker']);

/**
 * Restored label values pass the same guard as live ones: without it every restart could admit
 * up to the limit again, and the series of a source would grow with each restart.
 */
function guardedLabels(labels: Record<string, string>, guard: LabelGuard): Record<string, string> {
  const source = labels.source;
  if (source === undefined) return labels;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(labels)) {
    const scope = GUARD_SCOPE[name] ?? name;
    out[name] = GUARDED_SCOPES.has(scope) ? guard.label(source, scope, value) : value;
  }
  return out;
}

type SourceCounterKey = { [K in KeyOfType<'counter'>]: 'source' extends LabelName<K> ? K : never }[KeyOfType<'counter'>];
type SourceHistogramKey = { [K in KeyOfType<'histogram'>]: 'source' extends LabelName<K> ? K : never }[KeyOfType<'histogram'>];

/** A per-source counter whose series `SourceSeries.forget` can drop. */
export class SourceCounter<K extends SourceCounterKey> {
  readonly counter: Counter<LabelName<K>>;
  constructor(
    ctx: FamilyContext,
    private readonly key: K,
    private readonly series: SourceSeries,
    /**
     * Event-fed counters are durable: the journal keeps their values, written in the same
     * transaction as the events that moved them, and they continue after a restart. Counters of
     * the exporter's own activity (polls, requests) move between journal writes, so a value
     * restored after a crash could be lower than one already scraped: they restart at 0.
     */
    private readonly options: { durable: boolean } = { durable: true },
  ) {
    this.counter = makeCounter(ctx, key);
    if (options.durable) series.registerCounter(METRICS[key].name, this);
  }

  inc(labels: Labels<K> & { source: string }, value = 1): void {
    const values = labels as LabelValues<LabelName<K>>;
    this.series.remember(this.key, labels.source, labels, () => this.counter.remove(values));
    this.counter.inc(values, value);
    if (this.options.durable) this.series.counted(METRICS[this.key].name, labels, value);
  }

  /** Continue a series from a value an earlier run reached (labels as the journal kept them). */
  restore(labels: Record<string, string>, value: number): void {
    const declared = METRICS[this.key].labels as readonly string[];
    const keys = Object.keys(labels);
    // A series written under another label set (the family's labels changed since) cannot continue.
    if (keys.length !== declared.length || !declared.every((l) => typeof labels[l] === 'string') || labels.source === undefined) return;
    // In the declared order, as every other sample of the family is written.
    const ordered = Object.fromEntries(declared.map((l) => [l, labels[l] as string]));
    this.inc(ordered as Labels<K> & { source: string }, value);
  }
}

/** A per-source histogram whose series `SourceSeries.forget` can drop. */
export class SourceHistogram<K extends SourceHistogramKey> {
  readonly histogram: Histogram<LabelName<K>>;
  constructor(
    ctx: FamilyContext,
    private readonly key: K,
    private readonly series: SourceSeries,
  ) {
    this.histogram = makeHistogram(ctx, key);
  }

  observe(labels: Labels<K> & { source: string }, seconds: number): void {
    const values = labels as LabelValues<LabelName<K>>;
    this.series.remember(this.key, labels.source, labels, () => this.histogram.remove(values));
    this.histogram.observe(values, seconds);
  }
}
