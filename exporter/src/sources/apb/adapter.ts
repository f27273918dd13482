/**
 * The `apb` adapter: build servers polled directly and/or the farm, each refreshed on its own
 * (see endpoint.ts), merged into one snapshot per poll. A poll waits for the endpoints at most
 * `wait`; the source is up while any endpoint answers, and down (with every worker marked down)
 * only when none does.
 */
import { setMaxListeners } from 'node:events';
import type { Task } from '../../model/task.js';
import type { Worker } from '../../model/worker.js';
import { parseDuration } from '../../util/duration.js';
import { PartialPollError, SourceError, errorMessage } from '../errors.js';
import type { EndpointHealth, SourceProblems } from '../health.js';
import { ProblemTracker, type RecordProblem } from '../problem-tracker.js';
import type { RestoredRecords, Snapshot, SourceContext } from '../source.js';
import type { ApbConfig } from './config.js';
import type { Endpoint } from './endpoint.js';
import { FarmPoller } from './farm.js';
import { buildTask, type BuildSighting } from './normalize.js';
import { ServerPoller } from './servers.js';

/** Why a listed entry was left out, as `buildfarm_source_skipped_records{reason}` says it. */
const BAD_ENTRY = 'bad_value';
/** Why a build kept its listed state: its status-api record could not be read. */
const DETAIL_UNAVAILABLE = 'detail_unavailable';

export class ApbAdapter {
  private readonly closed = new AbortController();
  private readonly servers: ServerPoller[];
  private readonly farm: FarmPoller | undefined;
  private readonly waitMs: number;
  private held = new Set<string>();
  /** The previous snapshot's tasks and workers: kept when a record cannot be mapped, and to stop a finished build from going back. */
  private lastTasks = new Map<string, Task>();
  private lastWorkers = new Map<string, Worker>();
  /** Records the latest snapshot could not map (kept at their previous version). */
  private unmapped: RecordProblem[] = [];
  private readonly problemTracker = new ProblemTracker();

  constructor(
    config: ApbConfig,
    private readonly ctx: SourceContext,
  ) {
    const timeoutMs = (parseDuration(config.server_timeout) ?? 10) * 1000;
    // A poll must end before the runner's deadline, or its result (and the new builds it took) is lost.
    const waitMs = (parseDuration(config.wait) ?? 3) * 1000;
    this.waitMs = Math.min(waitMs, Math.max(100, ctx.pollTimeoutSeconds * 1000 * 0.5));
    if (this.waitMs < waitMs) ctx.log.warn({ wait_ms: waitMs, poll_timeout_s: ctx.pollTimeoutSeconds }, `wait ${config.wait} is not below half the source timeout; using ${this.waitMs} ms so every poll ends in time`);
    const pollerCtx = { source: ctx.name, http: ctx.http, clock: ctx.clock, closed: this.closed.signal, timeoutMs };
    // Every request of every endpoint listens on this signal (one per server at a time, several requests each).
    setMaxListeners(0, this.closed.signal);
    this.servers = config.servers.map((s) => new ServerPoller(s, config, pollerCtx));
    this.farm = config.farm ? new FarmPoller(config.farm, config, pollerCtx, this.servers) : undefined;
  }

  private get endpointList(): Endpoint[] {
    return [...this.servers.map((s) => s.endpoint), ...(this.farm ? [this.farm.endpoint] : [])];
  }

  /**
   * Pick up the records the earlier run held: a build it saw finished stays finished when a
   * lagging list (the farm's) still says it builds, a record that cannot be mapped keeps its kept
   * version, and a build it held is not new again.
   */
  restore(held: RestoredRecords): void {
    this.lastTasks = new Map(held.tasks.map((t) => [t.id, t]));
    this.lastWorkers = new Map(held.workers.map((w) => [w.id, w]));
    this.held = new Set(held.tasks.map((t) => t.id));
  }

  async poll(signal: AbortSignal): Promise<Snapshot> {
    const endpoints = this.endpointList;
    // An endpoint still busy with an earlier refresh is slow: it is not waited for at all, so a
    // hung server costs the others nothing; the rest are waited for at most `wait`.
    const started = endpoints.filter((e) => !e.refreshing).map((e) => e.refresh());
    await waitAtMost(Promise.all(started), this.waitMs, signal);
    if (!endpoints.some((e) => e.known)) {
      throw new SourceError('timeout', `no APB endpoint has answered yet within wait (${this.waitMs / 1000}s); their requests continue in the background, up to server_timeout`);
    }
    const snapshot = this.snapshot();
    if (endpoints.every((e) => e.known && !e.isReachable)) {
      const reasons = endpoints.map((e) => `${e.name}: ${e.latestError?.message ?? 'no answer'}`).join('; ');
      throw new PartialPollError(new SourceError('network', `no APB endpoint answered (${reasons})`), snapshot);
    }
    return snapshot;
  }

  problems(): SourceProblems {
    const found: RecordProblem[] = [...this.unmapped];
    for (const e of this.endpointList) {
      for (const r of e.rejected) found.push({ where: e.name, id: r.id ?? `${e.name} entry ${r.index}`, reason: r.reason ?? BAD_ENTRY, message: r.message });
      for (const f of e.recordFailures) found.push({ where: e.name, id: f.id, reason: DETAIL_UNAVAILABLE, message: f.message });
    }
    return this.problemTracker.update(found);
  }

  endpoints(): EndpointHealth[] {
    return this.endpointList.map((e) => e.health());
  }

  async close(): Promise<void> {
    this.closed.abort(new Error('source closed'));
  }

  private snapshot(): Snapshot {
    const unmapped: RecordProblem[] = [];
    /** Map one record; when that throws (a value no check foresaw), keep its previous version and report it. */
    const guarded = <T>(id: string, where: string, map: () => T | undefined, previous: T | undefined): T | undefined => {
      try {
        return map();
      } catch (err) {
        unmapped.push({ where, id, reason: BAD_ENTRY, message: `cannot be mapped (${errorMessage(err)}); kept at its previous version` });
        return previous;
      }
    };

    const workers: Worker[] = [];
    const keep = (w: Worker | undefined) => {
      if (w) workers.push(w);
    };
    for (const s of this.servers) keep(guarded(s.id, s.id, () => s.worker(), this.lastWorkers.get(s.id)));
    if (this.farm) for (const w of guarded('farm servers', 'farm', () => this.farm?.workers(), [...this.lastWorkers.values()].filter((x) => !this.servers.some((s) => s.id === x.id))) ?? []) keep(w);

    const sightings = new Map<string, BuildSighting>();
    for (const s of this.servers) {
      for (const sighting of s.sightings()) if (!sightings.has(sighting.id)) sightings.set(sighting.id, sighting);
    }
    for (const sighting of this.farm?.sightings() ?? []) {
      const held = sightings.get(sighting.id);
      if (held && sighting.farm) held.farm = sighting.farm;
      else if (!held) sightings.set(sighting.id, sighting);
    }
    const tasks: Task[] = [];
    for (const sighting of sightings.values()) {
      const before = this.lastTasks.get(sighting.id);
      let task = guarded(sighting.id, sighting.server?.workerId ?? 'farm', () => buildTask(this.ctx.name, sighting), before);
      // A completed or failed build never runs again: a list that lags (the farm's) or a server
      // that forgot it must not take it back to building, which would count it twice.
      if (task && before && FINAL_PHASES.has(before.phase) && !FINAL_PHASES.has(task.phase) && task.phase !== 'canceled') task = before;
      if (task) tasks.push(task);
    }

    // New since the previous listing of a server or the farm, and not held before from another.
    const newIds = new Set<string>();
    for (const book of [...this.servers.map((s) => s.book), ...(this.farm ? [this.farm.book] : [])]) {
      for (const id of book.takeNewIds()) if (!this.held.has(id) && sightings.has(id)) newIds.add(id);
    }
    this.held = new Set(sightings.keys());
    this.lastTasks = new Map(tasks.map((t) => [t.id, t]));
    this.lastWorkers = new Map(workers.map((w) => [w.id, w]));
    this.unmapped = unmapped;
    return { type: 'snapshot', tasks, workers, ...(newIds.size > 0 ? { newTaskIds: [...newIds] } : {}) };
  }
}

/** Phases a build never leaves (a cancelled APB build may run on, so it is not among them). */
const FINAL_PHASES: ReadonlySet<string> = new Set(['success', 'failed']);

/** Resolve when `work` settles or after `ms`, whichever is first (or when `signal` aborts). */
function waitAtMost(work: Promise<unknown>, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    work.then(done, done);
  });
}
