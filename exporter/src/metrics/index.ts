/**
 * The exporter's Prometheus metrics: one registry whose gauges read the store and source health
 * at scrape time and whose counters and histograms are fed by store changes and poll reports.
 * A scrape never calls an upstream, and one failing collector only drops its own family.
 */
import { LabelGuard } from './label-guard.js';
import { collectDefaultMetrics, Registry, type Counter } from 'prom-client';
import type { CounterValue } from '../store/journal.js';
import type { Store, TaskChange } from '../store/store.js';
import type { HealthProvider, PollObserver } from '../sources/health.js';
import type { RequestRecorder } from '../sources/http.js';
import { DEFAULT_REFRESH_SECONDS, METRIC_DEFINITIONS, METRICS } from './definitions.js';
import { SourceSeries, type FamilyContext } from './factory.js';
import { GirarMetrics } from './girar-metrics.js';
import { registerRecordMetrics } from './record-metrics.js';
import { registerSelfMetrics } from './self-metrics.js';
import { SourceMetrics } from './source-metrics.js';
import { TaskMetrics } from './task-metrics.js';
import { registerWorkerMetrics } from './worker-metrics.js';
import { KarajoMetrics } from './karajo-metrics.js';
import { CuirassMetrics } from './cuirass-metrics.js';
import { KojiMetrics } from './koji-metrics.js';

export { metricsRoute } from './route.js';
export { METRICS, METRIC_DEFINITIONS, type MetricDefinition } from './definitions.js';

/** Where warnings go (a pino logger fits). */
export interface MetricsLog {
  warn(obj: object, msg: string): void;
}

export interface MetricsDeps {
  store: Store;
  health: HealthProvider;
  version: string;
  /** SSE clients connected now (the API module owns SSE). */
  sseClients?: () => number;
  /** Poll interval quoted in HELP texts ("refreshed every N s"); default 30, the config default. */
  refreshSeconds?: number | string;
  /** Export prom-client's default process_* and nodejs_* metrics on the same registry (default true). */
  processMetrics?: boolean;
  log?: MetricsLog;
}

/** One family left out of a response because its collector threw. */
export interface CollectFailure {
  family: string;
  error: unknown;
}

export interface RenderedMetrics {
  contentType: string;
  body: string;
  /** Families skipped in this response; the route logs them. */
  failures: CollectFailure[];
}

export class ExporterMetrics implements PollObserver {
  readonly registry: Registry;
  private readonly series = new SourceSeries();
  /**
   * Sources cap their workers (APB: 200 configured servers and 300 more from the farm), so `worker`
   * may take more values; karajo jobs that come and go keep their slots, so `karajo_job` too.
   */
  private readonly labels = new LabelGuard(100, { worker: 1000, karajo_job: 1000 });
  private readonly tasks: TaskMetrics;
  private readonly girar: GirarMetrics;
  private readonly karajo: KarajoMetrics;
  private readonly cuirass: CuirassMetrics;
  private readonly koji: KojiMetrics;
  private readonly sources: SourceMetrics;
  private readonly collectErrors: Counter<'family'>;
  private readonly journalWriteFailures: Counter;
  private readonly unsubscribe: () => void;
  private lastSeries = 0;
  /** Exposition text of the `fromStore` families, valid while `cacheVersion()` is what it was. */
  private readonly cached = new Map<string, { version: string; text: string }>();
  /** Changes to store-fed families that do not come through the store (restored counters, a source forgotten, a label allowlist). */
  private localChanges = 0;
  private ordered: { names: string[]; count: number } | undefined;

  constructor(private readonly deps: MetricsDeps) {
    this.registry = new Registry();
    const ctx: FamilyContext = { registry: this.registry, refreshSeconds: deps.refreshSeconds ?? DEFAULT_REFRESH_SECONDS };
    this.tasks = new TaskMetrics(ctx, deps.store, this.series, this.labels);
    this.girar = new GirarMetrics(ctx, deps.store, this.series, this.labels);
    registerRecordMetrics(ctx, deps.store);
    registerWorkerMetrics(ctx, deps.store, deps.health, this.labels);
    this.karajo = new KarajoMetrics(ctx, deps.store, this.series, this.labels);
    this.cuirass = new CuirassMetrics(ctx, deps.store, this.series, this.labels);
    this.koji = new KojiMetrics(ctx, deps.health, this.series, this.labels);
    this.sources = new SourceMetrics(ctx, deps.health, this.series, this.labels);
    const self = registerSelfMetrics(ctx, { store: deps.store, version: deps.version, sseClients: deps.sseClients, lastSeries: () => this.lastSeries });
    this.collectErrors = self.collectErrors;
    this.journalWriteFailures = self.journalWriteFailures;
    if (deps.processMetrics !== false) {
      collectDefaultMetrics({ register: this.registry });
      // Gauges named like counters fail `promtool check metrics`; sum() the per-type gauges instead.
      for (const name of MISNAMED_DEFAULT_METRICS) this.registry.removeSingleMetric(name);
    }
    this.unsubscribe = deps.store.subscribe({ task: (change) => this.onTask(change) });
  }

  /** A recorder for one source's upstream HTTP client (`buildfarm_upstream_requests_total`). */
  requestRecorder(source: string): RequestRecorder {
    return this.sources.requestRecorder(source);
  }

  problemsFound(source: string, kind: string, byReason: Record<string, number>): void {
    this.sources.problemsFound(source, kind, byReason);
  }

  pollFinished(source: string, kind: string, seconds: number, ok: boolean): void {
    this.sources.pollFinished(source, kind, seconds, ok);
  }

  /**
   * The exposition text. Never rejects: a family whose collector throws is left out and reported.
   * A `fromStore` family's text is reused while neither the store nor anything else feeding it
   * changed, so a scrape of an idle farm renders only the families that move on their own.
   */
  async render(): Promise<RenderedMetrics> {
    const parts: string[] = [];
    const failures: CollectFailure[] = [];
    const version = this.cacheVersion();
    for (const name of this.familyOrder()) {
      const reuse = FROM_STORE.has(name) ? this.cached.get(name) : undefined;
      if (reuse && reuse.version === version) {
        parts.push(reuse.text);
        continue;
      }
      try {
        const text = await this.registry.getSingleMetricAsString(name);
        parts.push(text);
        if (FROM_STORE.has(name)) this.cached.set(name, { version, text });
      } catch (error) {
        failures.push({ family: name, error });
        this.collectErrors.inc({ family: name });
      }
    }
    const body = `${parts.join('\n\n')}\n`;
    this.lastSeries = countSamples(body);
    return { contentType: this.registry.contentType, body, failures };
  }

  /** Render every family afresh, as before the cache (tests compare the two). */
  async renderUncached(): Promise<RenderedMetrics> {
    this.cached.clear();
    return this.render();
  }

  /** Name only these values of a source's label in metrics (a source's config allowlist); any other value is `other`. */
  restrictLabel(source: string, label: string, values: readonly string[]): void {
    this.localChanges += 1;
    this.labels.restrict(source, label, values);
  }

  /** The journal could not write a batch (see Store's onJournalError). */
  journalWriteFailed(): void {
    this.journalWriteFailures.inc();
  }

  /** Continue the event-fed counters from the values the journal kept; returns how many series. */
  restoreCounters(values: readonly CounterValue[]): number {
    this.localChanges += 1;
    return this.series.restoreCounters(values, this.labels);
  }

  /** Every durable counter series with its value. */
  allCounters(): CounterValue[] {
    return this.series.allCounters();
  }

  /** The event-fed counter series that moved since the last call (for the journal). */
  takeDirtyCounters(): CounterValue[] {
    return this.series.takeDirtyCounters();
  }

  /** Drop every series of a source that was removed from the config (call it with store.dropSource). */
  forgetSource(source: string): void {
    this.localChanges += 1;
    this.series.forget(source);
    this.labels.forget(source);
    this.girar.rebuildSource(source);
  }

  close(): void {
    this.unsubscribe();
  }

  private cacheVersion(): string {
    return `${this.deps.store.version}/${this.localChanges}`;
  }

  /** Family names in definitions-table order, worked out again only when the registry changed. */
  private familyOrder(): string[] {
    const metrics = this.registry.getMetricsAsArray();
    if (!this.ordered || this.ordered.count !== metrics.length) this.ordered = { names: inTableOrder(metrics).map((m) => m.name), count: metrics.length };
    return this.ordered.names;
  }

  private onTask(change: TaskChange): void {
    // The store calls listeners in the middle of applying a poll: never let a metrics bug fail it.
    this.guard(METRICS.taskTransitions.name, change, () => this.tasks.onTask(change));
    this.guard(METRICS.girarArchBuilds.name, change, () => this.girar.onTask(change));
    this.guard(METRICS.karajoRuns.name, change, () => this.karajo.onTask(change));
    this.guard(METRICS.cuirassBuildsCompleted.name, change, () => this.cuirass.onTask(change));
    this.guard(METRICS.kojiTasksCompleted.name, change, () => this.koji.onTask(change));
  }

  private guard(family: string, change: TaskChange, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.collectErrors.inc({ family });
      this.deps.log?.warn({ err: error, family, source: change.event.source, seq: change.event.seq }, 'metrics: a task change was not counted');
    }
  }
}

/** prom-client default gauges whose `_total` suffix breaks the naming rules. */
const MISNAMED_DEFAULT_METRICS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

const TABLE_ORDER = new Map(METRIC_DEFINITIONS.map((def, i) => [def.name, i]));

/** Families whose exposition is reused while the store has not changed (MetricDefinition.fromStore). */
const FROM_STORE: ReadonlySet<string> = new Set(METRIC_DEFINITIONS.filter((def) => def.fromStore).map((def) => def.name));

/** Families in definitions-table order (as in docs/metrics.md), then process metrics. */
function inTableOrder<T extends { name: string }>(metrics: T[]): T[] {
  const rank = (m: T) => TABLE_ORDER.get(m.name) ?? TABLE_ORDER.size;
  return [...metrics].sort((a, b) => rank(a) - rank(b));
}

/** Sample lines of an exposition: the lines neither empty nor comments. */
function countSamples(body: string): number {
  let n = 0;
  let start = 0;
  while (start < body.length) {
    let end = body.indexOf('\n', start);
    if (end === -1) end = body.length;
    if (end > start && body.charCodeAt(start) !== 35 /* # */) n += 1;
    start = end + 1;
  }
  return n;
}
