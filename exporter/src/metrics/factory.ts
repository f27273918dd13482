/**
 * Creates prom-client objects from the definitions table, so a collector can only make a family
 * that is declared there, with exactly its declared type, labels, buckets and help.
 */
import { Counter, Gauge, Histogram, type LabelValues, type Registry } from 'prom-client';
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

  remember(family: string, source: string, labels: object, remove: () => void): void {
    let held = this.bySource.get(source);
    if (!held) this.bySource.set(source, (held = new Map()));
    const key = `${family}${JSON.stringify(labels)}`;
    if (!held.has(key)) held.set(key, remove);
  }

  forget(source: string): void {
    for (const remove of this.bySource.get(source)?.values() ?? []) remove();
    this.bySource.delete(source);
  }
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
  ) {
    this.counter = makeCounter(ctx, key);
  }

  inc(labels: Labels<K> & { source: string }, value = 1): void {
    const values = labels as LabelValues<LabelName<K>>;
    this.series.remember(this.key, labels.source, labels, () => this.counter.remove(values));
    this.counter.inc(values, value);
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
