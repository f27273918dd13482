/**
 * Runs one source: polls on its interval with a deadline, backs off (jittered, exponential,
 * honouring Retry-After) while the upstream fails, keeps the upstream event stream connected,
 * serializes polls and stream-triggered refreshes, and keeps the source's health.
 * The last good state stays in the store whatever the upstream does.
 */
import type { Logger } from 'pino';
import type { Store } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import { Cancelled, deadline } from '../util/deadline.js';
import { PartialPollError, SourceError, UpstreamHttpError, errorMessage } from './errors.js';
import type { PollObserver, SourceErrorInfo, SourceHealth } from './health.js';
import { IdRegressionGuard, clockFault } from './plausibility.js';
import type { PollResult, RefreshHint, SourceAdapter, StreamSink } from './source.js';

export interface RunnerOptions {
  name: string;
  kind: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  adapter: SourceAdapter;
  store: Store;
  log: Logger;
  clock: Clock;
  /**
   * The clock the upstream runs on, when it is known to run ahead of this host's (the demo farm at
   * `--demo.speed`): task times up to its now are plausible, not a clock fault.
   */
  upstreamClock?: Clock;
  observer?: PollObserver;
  /** Random source for jitter, in [0, 1). */
  random?: () => number;
  /** Upper bound of the failure backoff; at least the interval. */
  maxBackoffSeconds?: number;
  /** Reconnect the upstream event stream when nothing arrives for this long (default 60 s). */
  streamIdleSeconds?: number;
}

/** Sleep that ends early (resolving false) when the signal aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export class SourceRunner {
  private readonly stop$ = new AbortController();
  private readonly state: SourceHealth;
  private queue: Promise<void> = Promise.resolve();
  private readonly pendingRefresh = new Set<string>();
  private readonly pendingRemoved = new Set<string>();
  private refreshScheduled = false;
  private loops: Promise<void>[] = [];
  private lastRetryAfter: number | undefined;
  private readonly ids = new IdRegressionGuard();

  constructor(private readonly o: RunnerOptions) {
    this.state = {
      name: o.name,
      kind: o.kind,
      up: false,
      intervalSeconds: o.intervalSeconds,
      consecutiveFailures: 0,
      polls: { ok: 0, failed: 0 },
      ...(o.adapter.stream ? { streamConnected: false } : {}),
    };
  }

  get name(): string {
    return this.o.name;
  }

  get adapter(): SourceAdapter {
    return this.o.adapter;
  }

  get health(): SourceHealth {
    return { ...this.state, polls: { ...this.state.polls }, ...(this.state.endpoints ? { endpoints: this.state.endpoints.map((e) => ({ ...e })) } : {}) };
  }

  start(): void {
    this.loops.push(this.pollLoop());
    if (this.o.adapter.stream) this.loops.push(this.streamLoop());
  }

  async stop(): Promise<void> {
    this.stop$.abort(new Error('exporter shutting down'));
    await Promise.allSettled(this.loops);
    await this.queue.catch(() => {});
    await this.o.adapter.close?.();
  }

  /** Run one poll now (serialized with refreshes). Resolves when it has been applied. */
  pollOnce(): Promise<void> {
    return this.serialize(() => this.poll());
  }

  private serialize(job: () => Promise<void>): Promise<void> {
    const run = this.queue.then(job, job);
    this.queue = run.catch(() => {});
    return run;
  }

  private async pollLoop(): Promise<void> {
    const signal = this.stop$.signal;
    while (!signal.aborted) {
      await this.pollOnce().catch((err: unknown) => this.o.log.error({ err }, 'poll crashed'));
      if (signal.aborted) break;
      const delayMs = this.nextDelayMs();
      this.state.nextPollAt = this.o.clock.now() + delayMs;
      await sleep(delayMs, signal);
    }
  }

  /** Take the adapter's problem counts into the health, and hand the new ones to the observer. */
  private recordProblems(): void {
    const problems = this.o.adapter.problems?.();
    if (!problems) return;
    const before = this.state.problems?.total ?? {};
    const found: Record<string, number> = {};
    for (const [reason, n] of Object.entries(problems.total)) {
      const delta = n - (before[reason] ?? 0);
      if (delta > 0) found[reason] = delta;
    }
    this.state.problems = problems;
    if (Object.keys(found).length > 0) this.o.observer?.problemsFound?.(this.o.name, this.o.kind, found);
  }

  /**
   * "Now" for the clock check: the later of the exporter's clock and the host's. An accelerated
   * demo clock runs ahead of the host, a test's manual clock may lag behind real upstream times;
   * neither makes an upstream's times look skewed.
   */
  private latestNow(): number {
    return Math.max(this.o.clock.now(), Date.now(), this.o.upstreamClock?.now() ?? 0);
  }

  private nextDelayMs(): number {
    return pollDelayMs({
      intervalSeconds: this.o.intervalSeconds,
      failures: this.state.consecutiveFailures,
      retryAfterSeconds: this.lastRetryAfter,
      maxBackoffSeconds: this.o.maxBackoffSeconds ?? 300,
      random: this.o.random ?? Math.random,
    });
  }

  private async poll(): Promise<void> {
    const started = this.o.clock.now();
    const t0 = performance.now();
    const { signal, clear } = deadline(this.o.timeoutSeconds * 1000, this.stop$.signal);
    let result: PollResult | undefined;
    let failure: unknown;
    try {
      result = await untilAborted(this.o.adapter.poll(signal), signal);
      if (this.stop$.signal.aborted) return;
      const implausible = clockFault(result, this.latestNow()) ?? this.ids.check(result);
      if (implausible) throw implausible;
      this.o.store.apply(this.o.name, this.o.kind, result);
    } catch (err) {
      if (this.stop$.signal.aborted) return;
      if (err instanceof PartialPollError) this.o.store.apply(this.o.name, this.o.kind, err.result);
      failure = signal.aborted && !(err instanceof SourceError) ? new SourceError('timeout', `poll did not finish within ${this.o.timeoutSeconds}s; raise the source's timeout if the upstream is just slow`, { cause: err }) : err;
    } finally {
      clear();
    }
    const seconds = (performance.now() - t0) / 1000;
    this.state.lastPollAt = started;
    this.state.lastPollDurationSeconds = seconds;
    this.o.observer?.pollFinished(this.o.name, this.o.kind, seconds, failure === undefined);
    this.recordProblems();
    const endpoints = this.o.adapter.endpoints?.();
    if (endpoints) this.state.endpoints = endpoints;
    if (failure === undefined) {
      if (!this.state.up && this.state.polls.failed > 0) this.o.log.info({ after_failures: this.state.consecutiveFailures }, 'source recovered');
      this.state.up = true;
      this.state.lastSuccessAt = this.o.clock.now();
      this.state.consecutiveFailures = 0;
      this.state.polls.ok += 1;
      this.lastRetryAfter = undefined;
      // A snapshot says what the upstream reports now (a header it stopped sending is gone);
      // a delta that says nothing leaves the last word standing.
      if (result?.type === 'snapshot') this.state.upstream = result.upstream ?? {};
      else if (result?.upstream) this.state.upstream = result.upstream;
      return;
    }
    this.state.up = false;
    this.state.consecutiveFailures += 1;
    this.state.polls.failed += 1;
    this.state.lastError = toErrorInfo(failure, this.o.clock.now());
    this.lastRetryAfter = failure instanceof UpstreamHttpError ? failure.retryAfterSeconds : undefined;
    const level = failure instanceof SourceError ? 'warn' : 'error';
    this.o.log[level](
      { code: this.state.lastError.code, consecutive_failures: this.state.consecutiveFailures, ...(level === 'error' ? { err: failure } : {}) },
      `poll failed, keeping the last good state: ${this.state.lastError.message}`,
    );
  }

  private async streamLoop(): Promise<void> {
    const stream = this.o.adapter.stream;
    if (!stream) return;
    const stop = this.stop$.signal;
    const idleMs = (this.o.streamIdleSeconds ?? 60) * 1000;
    let backoff = 1;
    while (!stop.aborted) {
      const connection = new AbortController();
      const onStop = () => connection.abort(stop.reason);
      stop.addEventListener('abort', onStop, { once: true });
      let lastAlive = this.o.clock.now();
      let connectedAt: number | undefined;
      // A stream that accepted us and then went silent (a proxy holding the socket, a hung
      // upstream) would otherwise count as connected forever.
      const watchdog = setInterval(() => {
        if (this.o.clock.now() - lastAlive > idleMs) connection.abort(new Cancelled(`nothing arrived on the upstream event stream for ${idleMs / 1000}s`));
      }, Math.min(idleMs, 5000));
      const sink: StreamSink = {
        connected: () => {
          connectedAt = this.o.clock.now();
          lastAlive = connectedAt;
          this.state.streamConnected = true;
        },
        alive: () => {
          lastAlive = this.o.clock.now();
        },
        refresh: (hint) => this.onHint(hint),
      };
      let retryAfter: number | undefined;
      try {
        await untilAborted(stream.call(this.o.adapter, connection.signal, sink), connection.signal);
        if (!stop.aborted) this.o.log.info('upstream event stream ended; reconnecting');
      } catch (err) {
        if (stop.aborted) break;
        const reason: unknown = connection.signal.aborted ? connection.signal.reason : err;
        retryAfter = err instanceof UpstreamHttpError ? err.retryAfterSeconds : undefined;
        this.o.log.warn({ code: err instanceof SourceError ? err.code : reason instanceof Cancelled ? 'idle' : 'internal' }, `upstream event stream failed: ${errorMessage(reason)}; reconnecting`);
      } finally {
        clearInterval(watchdog);
        stop.removeEventListener('abort', onStop);
        this.state.streamConnected = false;
      }
      if (connectedAt !== undefined && this.o.clock.now() - connectedAt > 30_000) backoff = 1;
      const waitSeconds = Math.max(backoff, Math.min(retryAfter ?? 0, 3600));
      // Jitter, but never sooner than the upstream's Retry-After.
      const waitMs = Math.max(waitSeconds * 1000 * (0.9 + (this.o.random ?? Math.random)() * 0.2), Math.min(retryAfter ?? 0, 3600) * 1000);
      const retry = await sleep(waitMs, stop);
      if (!retry) break;
      backoff = Math.min(60, backoff * 2);
    }
  }

  private onHint(hint: RefreshHint): void {
    // Without a refresh there is nothing to do with a hint: the next poll catches up.
    if (!this.o.adapter.refresh) return;
    for (const id of hint.taskIds) {
      this.pendingRemoved.delete(id);
      this.pendingRefresh.add(id);
    }
    for (const id of hint.removedTaskIds ?? []) {
      this.pendingRefresh.delete(id);
      this.pendingRemoved.add(id);
    }
    if (this.refreshScheduled) return;
    this.refreshScheduled = true;
    void this.serialize(async () => {
      this.refreshScheduled = false;
      const taskIds = [...this.pendingRefresh];
      const removedTaskIds = [...this.pendingRemoved];
      this.pendingRefresh.clear();
      this.pendingRemoved.clear();
      if ((taskIds.length === 0 && removedTaskIds.length === 0) || !this.o.adapter.refresh) return;
      const { signal, clear } = deadline(this.o.timeoutSeconds * 1000, this.stop$.signal);
      try {
        const delta = await untilAborted(this.o.adapter.refresh({ taskIds, removedTaskIds }, signal), signal);
        const implausible = clockFault(delta, this.latestNow());
        if (implausible) throw implausible;
        if (!this.stop$.signal.aborted) this.o.store.apply(this.o.name, this.o.kind, delta);
      } catch (err) {
        if (this.stop$.signal.aborted) return;
        this.o.log.warn({ tasks: taskIds.length }, `refresh after an upstream event failed (the next poll catches up): ${errorMessage(err)}`);
      } finally {
        clear();
      }
    });
  }
}

/**
 * The promise's outcome, or a rejection with the signal's reason as soon as it aborts: an adapter
 * that ignores its signal can no longer hold a poll, a refresh or shutdown forever.
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => {});
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/**
 * Time to the next poll: the interval while healthy; after failures, the interval doubled per
 * consecutive failure up to a cap (at least the interval), never less than the upstream's
 * Retry-After (bounded to an hour); always with +-10% jitter so sources do not poll in lockstep.
 */
export function pollDelayMs(o: { intervalSeconds: number; failures: number; retryAfterSeconds: number | undefined; maxBackoffSeconds: number; random: () => number }): number {
  let seconds = o.intervalSeconds;
  if (o.failures > 0) {
    const cap = Math.max(o.intervalSeconds, o.maxBackoffSeconds);
    seconds = Math.min(cap, o.intervalSeconds * 2 ** (o.failures - 1));
    if (o.retryAfterSeconds !== undefined) seconds = Math.max(seconds, Math.min(o.retryAfterSeconds, 3600));
  }
  const jitter = 1 + (o.random() - 0.5) * 0.2;
  // Jitter spreads polls out, but never earlier than the upstream asked.
  const floorMs = o.failures > 0 && o.retryAfterSeconds !== undefined ? Math.min(o.retryAfterSeconds, 3600) * 1000 : 0;
  return Math.max(10, floorMs, Math.round(seconds * 1000 * jitter));
}

/** An error as source or endpoint health keeps it. */
export function toErrorInfo(err: unknown, at: number): SourceErrorInfo {
  if (err instanceof UpstreamHttpError) return { code: err.code, message: err.message, at, status: err.status };
  if (err instanceof SourceError) return { code: err.code, message: err.message, at };
  return { code: 'internal', message: `internal error (a bug; please report it): ${errorMessage(err)}`, at };
}
