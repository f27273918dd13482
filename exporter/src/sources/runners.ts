/** Builds one runner per configured source and answers for their health as a whole. */
import type { Logger } from 'pino';
import type { SourceConfig } from '../config/schema.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import type { HealthProvider, PollObserver, SourceHealth } from './health.js';
import { UpstreamHttp, type RequestRecorder } from './http.js';
import { definitionOf } from './registry.js';
import { SourceRunner } from './runner.js';
import type { TaskotekaCompatBackend } from './girar/compat-backend.js';
import type { TaskLog } from './source.js';

/** Reads one task's log from its upstream, on demand. */
export type TaskLogReader = (id: string, signal: AbortSignal) => Promise<TaskLog | undefined>;

export interface RunnersDeps {
  store: Store;
  log: Logger;
  clock: Clock;
  /** See RunnerOptions.upstreamClock. */
  upstreamClock?: Clock;
  observer?: PollObserver;
  requestRecorder?: (source: string) => RequestRecorder;
}

export class SourceRunners implements HealthProvider {
  private readonly runners: SourceRunner[];

  constructor(sources: readonly SourceConfig[], deps: RunnersDeps) {
    this.runners = sources.map((cfg) => {
      const def = definitionOf(cfg.kind);
      if (!def) throw new Error(`source ${cfg.name}: unknown kind ${cfg.kind} (the config loader should have rejected it)`);
      const log = deps.log.child({ source: cfg.name, kind: cfg.kind });
      const http = new UpstreamHttp(deps.requestRecorder?.(cfg.name));
      const adapter = def.create(cfg.settings, { name: cfg.name, log, clock: deps.clock, http, pollTimeoutSeconds: cfg.timeoutSeconds });
      // The store holds what the journal kept; an adapter with its own state picks it up before polling.
      if (adapter.restore) {
        const held = { tasks: deps.store.tasksOf(cfg.name), workers: deps.store.listWorkers(cfg.name), jobs: deps.store.listJobs(cfg.name) };
        if (held.tasks.length + held.workers.length + held.jobs.length > 0) adapter.restore(held);
      }
      return new SourceRunner({
        name: cfg.name,
        kind: cfg.kind,
        intervalSeconds: cfg.intervalSeconds,
        timeoutSeconds: cfg.timeoutSeconds,
        adapter,
        store: deps.store,
        log,
        clock: deps.clock,
        ...(deps.upstreamClock ? { upstreamClock: deps.upstreamClock } : {}),
        ...(deps.observer ? { observer: deps.observer } : {}),
      });
    });
  }

  /** The taskoteka-compatible backends of the sources that offer one, by source name. */
  taskotekaBackends(): Map<string, TaskotekaCompatBackend> {
    const out = new Map<string, TaskotekaCompatBackend>();
    for (const r of this.runners) if (r.adapter.taskotekaCompat) out.set(r.name, r.adapter.taskotekaCompat);
    return out;
  }

  /** Sources that read task logs on demand, by source name. */
  taskLogs(): Map<string, TaskLogReader> {
    const out = new Map<string, TaskLogReader>();
    for (const r of this.runners) {
      const read = r.adapter.taskLog;
      if (read) out.set(r.name, (id, signal) => read.call(r.adapter, id, signal));
    }
    return out;
  }

  start(): void {
    for (const r of this.runners) r.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.runners.map((r) => r.stop()));
  }

  health(): SourceHealth[] {
    return this.runners.map((r) => r.health);
  }

  /** True once every source has finished its first poll, successful or not. */
  ready(): boolean {
    return this.runners.every((r) => r.health.lastPollAt !== undefined);
  }

  /** Poll every source once, now (tests, and the first poll before listening). */
  async pollAll(): Promise<void> {
    await Promise.all(this.runners.map((r) => r.pollOnce()));
  }
}
