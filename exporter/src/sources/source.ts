/**
 * The adapter contract every build-system source implements.
 * Adapters own I/O and mapping only; the runner owns timing, timeouts, backoff and health.
 */
import type { TSchema, Static } from '@sinclair/typebox';
import type { Logger } from 'pino';
import type { Task } from '../model/task.js';
import type { Worker } from '../model/worker.js';
import type { Job } from '../model/job.js';
import type { Clock } from '../util/clock.js';
import type { UpstreamHttp } from './http.js';
import type { TaskotekaCompatBackend } from './girar/compat-backend.js';
import type { EndpointHealth, SourceProblems } from './health.js';

/** What the upstream says about itself, exported as source health. */
export interface UpstreamInfo {
  /** Upstream API version (taskoteka `x-api-version`). */
  version?: string;
  /** Age of the upstream's own cache in seconds (taskoteka `x-cache-age`). */
  cacheAgeSeconds?: number;
  /** Epoch ms at which `cacheAgeSeconds` was read (the response time, not the end of the poll). */
  observedAt?: number;
  /**
   * Numbers the upstream computes about itself, or the adapter aggregates from one poll, for the
   * kind's own metric families (Koji: task counts per state from the hub, channel load). Metrics
   * show them only while the source is up.
   */
  figures?: UpstreamFigure[];
}

/** One upstream number: `name` is the kind's figure name, `labels` its label values. */
export interface UpstreamFigure {
  name: string;
  labels?: Record<string, string>;
  value: number;
}

/**
 * The complete current picture of a source: anything absent from it is gone.
 * Records handed to the store are immutable from then on: the store keeps them (and skips a
 * record handed in again as the same object), so an adapter must build a new object for a change.
 */
export interface Snapshot {
  type: 'snapshot';
  tasks: Task[];
  /** Omitted = this source has no workers (the store keeps none for it). */
  workers?: Worker[];
  jobs?: Job[];
  /**
   * Tasks the upstream created since the source's previous successful poll: ids it never listed
   * before, known to be new (not merely first seen by this exporter). A first sighting of one of
   * them already finished counts as a completion (`buildfarm_tasks_finished_total`, duration), and
   * one already running as a run start (queue wait from `created` to `started`). Without it only
   * changes seen between two polls are counted, so builds shorter than the poll interval are missed.
   */
  newTaskIds?: readonly string[];
  upstream?: UpstreamInfo;
}

/** A partial update: the listed records changed; nothing else is implied. */
export interface Delta {
  type: 'delta';
  tasks?: Task[];
  removedTaskIds?: string[];
  workers?: Worker[];
  removedWorkerIds?: string[];
  jobs?: Job[];
  removedJobIds?: string[];
  /** As in Snapshot. */
  newTaskIds?: readonly string[];
  upstream?: UpstreamInfo;
}

export type PollResult = Snapshot | Delta;

/** What an upstream event stream asks the runner to refresh. */
export interface RefreshHint {
  /** Tasks to fetch again. */
  taskIds: string[];
  /** Tasks the upstream said are gone: removed without a fetch. */
  removedTaskIds?: string[];
}

/** What an adapter's `stream` reports to the runner. */
export interface StreamSink {
  /** The upstream accepted the subscription (a 2xx answer): the stream counts as connected. */
  connected(): void;
  /** Anything arrived (an event, a heartbeat): resets the runner's idle watchdog. */
  alive(): void;
  /** Ask for a targeted refresh through `refresh`. */
  refresh(hint: RefreshHint): void;
}

export interface SourceContext {
  /** Configured instance name (the `source` label). */
  name: string;
  log: Logger;
  clock: Clock;
  /** HTTP client that counts requests per status code and enforces size caps. */
  http: UpstreamHttp;
  /** Deadline of one poll, so an adapter can budget optional work (e.g. detail fetches) within it. */
  pollTimeoutSeconds: number;
}

export interface SourceAdapter {
  /** Fetch, validate and normalize; return the full picture or a delta. Throw a SourceError on failure. */
  poll(signal: AbortSignal): Promise<PollResult>;
  /**
   * Optional upstream event stream. Resolves or rejects when the stream ends; the runner reconnects
   * with backoff, and aborts the stream when nothing arrives for its idle timeout.
   */
  stream?(signal: AbortSignal, sink: StreamSink): Promise<void>;
  /** Fetch just the hinted records (called after `stream` notifies). */
  refresh?(hint: RefreshHint, signal: AbortSignal): Promise<Delta>;
  close?(): Promise<void>;
  /**
   * What the journal kept of this source from an earlier run, handed over once before the first
   * poll. An adapter that keeps state between polls (detail caches, run timings, guards against
   * lagging lists, look-back windows) seeds it from here, so its first poll after a restart
   * builds the same records the earlier run did: no spurious updates, nothing counted twice,
   * nothing dropped that the earlier run still held.
   */
  restore?(held: RestoredRecords): void;
  /** Records the adapter skipped or kept at a previous version; read by the runner after each poll. */
  problems?(): SourceProblems;
  /** Health of each upstream endpoint, for sources that poll several; read by the runner after each poll. */
  endpoints?(): EndpointHealth[];
  /**
   * Read one task's log from the upstream now (karajo: a run's log), for `GET /api/v1/tasks/{source}/{id}/log`.
   * Resolves undefined when the upstream does not know it (any more). Never called by a poll.
   */
  taskLog?(id: string, signal: AbortSignal): Promise<TaskLog | undefined>;
  /** girar only: what the taskoteka-compatible API needs beyond the store (see girar/compat-backend.ts). */
  taskotekaCompat?: TaskotekaCompatBackend;
}

/** A source's records as the journal kept them (see SourceAdapter.restore). */
export interface RestoredRecords {
  tasks: readonly Task[];
  workers: readonly Worker[];
  jobs: readonly Job[];
}

/** A task's log as the upstream keeps it, read on demand. */
export interface TaskLog {
  text: string;
  /** The upstream's status word for it, when it says. */
  status?: string;
}

/** How the API picks states when a task query names none (taskoteka's default-state rules). */
export interface DefaultStates {
  /** States listed when neither `state`, `phase`, `owner` nor `q` is given. */
  active: readonly string[];
  /** States never listed by default when `owner` or `q` is given (girar: DONE). */
  hiddenWhenPersonal: readonly string[];
}

/** How a kind's native states delimit a run, for durations and queue waits. */
export interface Lifecycle {
  /**
   * States whose entry starts a run (girar: BUILDING). Queue wait is measured on entering one
   * from a queued phase, and the task duration from it to the end of the run. Kinds without a
   * lifecycle start a run on any entry into the running phase.
   */
  runStartStates: readonly string[];
}

export interface SourceDefinition<S extends TSchema = TSchema> {
  kind: string;
  /** One-line description for `--help` and docs. */
  description: string;
  /** TypeBox schema of the source's config block (unknown keys rejected, defaults filled). */
  configSchema: S;
  /**
   * The schema of one block when `configSchema` is a union (girar: by `transport`), so the
   * loader fills the right defaults and reports errors against that variant only.
   */
  configSchemaFor?(block: Record<string, unknown>): TSchema;
  defaultStates?: DefaultStates;
  lifecycle?: Lifecycle;
  /**
   * Checks a schema cannot express, on the defaulted and schema-valid block; each problem's
   * `path` is relative to the block (e.g. `/time_zone`). `--config.check` reports them.
   */
  validate?(config: Static<S>): { path: string; message: string }[];
  create(config: Static<S>, context: SourceContext): SourceAdapter;
  /**
   * Metric labels whose values this source's config fixes (Koji: `method` from `methods`): only
   * these values are named, any other is `other`.
   */
  labelValues?(config: Static<S>): Record<string, readonly string[]>;
  /**
   * Start simulators (on loopback, or a generated tree in a temp dir) and return the config
   * blocks that point at them (demo mode); several when the kind has several transports.
   */
  demo?(context: DemoContext): Promise<DemoInstance | DemoInstance[]>;
}

export interface DemoContext {
  log: Logger;
  /** Simulated time: already `speed` times as fast as the wall clock. */
  clock: Clock;
  /** The demo's speed factor (default 1 = real time; `--demo.speed`): timers that step a simulator take `demoStepMs`. */
  speed?: number;
}

/** Below this a simulator's step timer does not go, however fast the demo runs. */
export const MIN_DEMO_STEP_MS = 10;

/**
 * The real period of a simulator step that takes `baseMs` at speed 1: `baseMs / speed`, at least
 * MIN_DEMO_STEP_MS. Time-driven models (APB, Cuirass, karajo, Koji) keep their pace at any speed;
 * the girar simulators do a fixed amount of work per step, so above `baseMs / 10` x they lag.
 */
/** A simulator a demo serves on loopback and drives on a timer. */
export interface DemoSimulator {
  listen(host: string): Promise<string>;
  start(options: { stepMs: number }): void;
  stop(): void;
  close(): Promise<void>;
}

/** Serve a simulator for the demo farm: listen on loopback, step it, and stop it on close. */
export async function serveDemo(ctx: DemoContext, what: string, sim: DemoSimulator, stepMs: number): Promise<DemoInstance> {
  const url = await sim.listen('127.0.0.1');
  sim.start({ stepMs: demoStepMs(ctx, stepMs) });
  ctx.log.debug({ url }, `${what} simulator listening`);
  return {
    config: { url },
    url,
    close: async () => {
      sim.stop();
      await sim.close();
    },
  };
}

export function demoStepMs(ctx: Pick<DemoContext, 'speed'>, baseMs: number): number {
  return Math.max(MIN_DEMO_STEP_MS, Math.round(baseMs / (ctx.speed ?? 1)));
}

export interface DemoInstance {
  /** Source name; default `demo-<kind>`. */
  name?: string;
  /** Config block for `create`, e.g. `{ transport: 'taskoteka', url: 'http://127.0.0.1:port' }`. */
  config: Record<string, unknown>;
  url: string;
  close(): Promise<void>;
}
