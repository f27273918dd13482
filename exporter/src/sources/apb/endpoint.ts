/**
 * One APB endpoint (a build server or the farm) refreshed in the background: a poll starts a
 * refresh when none is running and waits for it only as long as the source's `wait`, so one slow
 * server never delays the others. A refresh still running past the wait finishes on its own
 * (each request bounded by `server_timeout`) and the next poll uses its result.
 */
import type { Clock } from '../../util/clock.js';
import { deadline } from '../../util/deadline.js';
import { errorMessage } from '../errors.js';
import type { EndpointHealth, SourceErrorInfo } from '../health.js';
import { toErrorInfo } from '../runner.js';
import type { RecordFailure } from './builds.js';
import type { RejectedEntry } from './client.js';
import type { BuildRecord } from './upstream.js';

/** A build as an endpoint last listed it, with its status-api record when one was read. */
export interface HeldBuild<E> {
  entry?: E;
  record?: BuildRecord;
  /** No longer listed, but kept (it was active) until a status-api read tells its end. */
  dropped?: true;
  /** Listings it has been missing from, and since when (epoch ms); it is let go after DROPPED_LISTINGS or DROPPED_MAX_MS (builds.ts). */
  droppedFor?: number;
  droppedAt?: number;
}

/** What one refresh learned; `errors` are the requests that failed (the first one is reported). */
export interface RefreshOutcome {
  errors: unknown[];
  /** The endpoint itself answered (server: GET /; farm: GET /farm). */
  reachable: boolean;
}

export interface EndpointOptions {
  name: string;
  role: 'server' | 'farm';
  url: string;
  clock: Clock;
  /** Bound on one whole refresh (its requests have their own, shorter deadlines). */
  refreshTimeoutMs: number;
  /** Aborts running refreshes when the source closes. */
  closed: AbortSignal;
}

/**
 * Health bookkeeping and the one-refresh-at-a-time rule shared by servers and the farm.
 * `run` does the I/O and updates the caller's state; it resolves with what happened.
 */
export class Endpoint {
  private running: Promise<void> | undefined;
  private up = false;
  private reachable = false;
  private answered = false;
  private lastSuccessAt: number | undefined;
  private lastError: SourceErrorInfo | undefined;
  private failures = 0;
  /** Entries the latest listing rejected (kept until a listing succeeds again). */
  rejected: RejectedEntry[] = [];
  /** status-api reads of the latest refresh that failed (the builds keep their listed state). */
  recordFailures: RecordFailure[] = [];

  constructor(
    readonly options: EndpointOptions,
    private readonly run: (signal: AbortSignal) => Promise<RefreshOutcome>,
  ) {}

  get name(): string {
    return this.options.name;
  }

  /** Whether the endpoint has answered at all since start (before that it is neither up nor down). */
  get known(): boolean {
    return this.answered || this.failures > 0;
  }

  /** The latest refresh got the endpoint's main answer (server: GET /; farm: GET /farm). */
  get isReachable(): boolean {
    return this.reachable;
  }

  /** The latest refresh's first error; undefined when everything in it succeeded. */
  get latestError(): SourceErrorInfo | undefined {
    return this.up ? undefined : this.lastError;
  }

  get lastSeenMs(): number | undefined {
    return this.lastSuccessAt;
  }

  /** A refresh started earlier is still running (the endpoint is slow). */
  get refreshing(): boolean {
    return this.running !== undefined;
  }

  /** Start a refresh unless one is running; resolves when that refresh ends (never rejects). */
  refresh(): Promise<void> {
    if (!this.running) {
      this.running = this.runOnce().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  health(): EndpointHealth {
    return {
      name: this.options.name,
      role: this.options.role,
      url: this.options.url,
      up: this.up,
      reachable: this.reachable,
      ...(this.lastSuccessAt !== undefined ? { lastSuccessAt: this.lastSuccessAt } : {}),
      ...(this.lastError ? { lastError: { ...this.lastError } } : {}),
      consecutiveFailures: this.failures,
    };
  }

  private async runOnce(): Promise<void> {
    const { signal, clear } = deadline(this.options.refreshTimeoutMs, this.options.closed);
    let outcome: RefreshOutcome;
    try {
      outcome = await this.run(signal);
    } catch (err) {
      outcome = { errors: [err], reachable: false };
    } finally {
      clear();
    }
    if (this.options.closed.aborted) return;
    const now = this.options.clock.now();
    this.reachable = outcome.reachable;
    if (outcome.reachable) {
      this.answered = true;
      this.lastSuccessAt = now;
    }
    const first = outcome.errors[0];
    if (first === undefined) {
      this.up = true;
      this.failures = 0;
      return;
    }
    // Reachable but a list failed: the worker stays up, the endpoint counts as failing.
    this.up = false;
    this.failures += 1;
    this.lastError = toErrorInfo(first instanceof Error ? first : new Error(errorMessage(first)), now);
  }
}
