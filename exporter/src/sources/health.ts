/** Per-source health, kept by the runner and read by `/api/v1/sources` and the metrics. */
import type { UpstreamInfo } from './source.js';

export interface SourceErrorInfo {
  /** SourceError code (`network`, `timeout`, `http`, `payload`, `too_large`) or `internal`. */
  code: string;
  message: string;
  /** Epoch ms. */
  at: number;
  /** HTTP status when the upstream answered one. */
  status?: number;
}

export interface SourceHealth {
  name: string;
  kind: string;
  /** True when the latest poll succeeded. */
  up: boolean;
  intervalSeconds: number;
  /** Epoch ms of the latest finished poll, successful or not. */
  lastPollAt?: number;
  lastSuccessAt?: number;
  lastPollDurationSeconds?: number;
  consecutiveFailures: number;
  lastError?: SourceErrorInfo;
  /** Epoch ms the next poll is due. */
  nextPollAt?: number;
  /** Whether the upstream event stream is connected (only for sources that have one). */
  streamConnected?: boolean;
  upstream?: UpstreamInfo;
  /** Polls that ended in success / failure since start. */
  polls: { ok: number; failed: number };
  /** Records the source had to skip or keep at a previous version (sources that report it). */
  problems?: SourceProblems;
  /** The upstream endpoints one source polls, each with its own health (APB: the farm and each server). */
  endpoints?: EndpointHealth[];
}

/**
 * One upstream endpoint of a source that polls several (APB: each build server and the farm).
 * A source whose endpoints fail one by one stays up; it is down only when none answered.
 */
export interface EndpointHealth {
  /** Worker id for a server, `farm` for the farm. */
  name: string;
  role: string;
  /** Base URL with credentials removed. */
  url: string;
  /** True when every request of the endpoint's latest refresh that it needs succeeded. */
  up: boolean;
  /** True when the endpoint itself answered its latest refresh (APB: a server's GET /, the farm's GET /farm). */
  reachable: boolean;
  /** Epoch ms of its latest success. */
  lastSuccessAt?: number;
  /** Its latest error, kept after recovery. */
  lastError?: SourceErrorInfo;
  consecutiveFailures: number;
}

/** Unusable upstream records, by reason (e.g. girar `fs`: `mid_write`, `too_large`). */
export interface SourceProblems {
  /** Records affected now. */
  current: Record<string, number>;
  /** Problems found since start (a record that stays broken counts once). */
  total: Record<string, number>;
  /** A few current examples, for the sources API and logs. */
  examples: { id: string; reason: string; path?: string; message: string }[];
}

/** Something that can tell the health of every configured source. */
export interface HealthProvider {
  health(): SourceHealth[];
}

/** Hooks the runner calls so metrics can observe polls without the runner knowing prom-client. */
export interface PollObserver {
  pollFinished(source: string, kind: string, seconds: number, ok: boolean): void;
  /** New record problems found by the latest poll, by reason (sources that report problems). */
  problemsFound?(source: string, kind: string, byReason: Record<string, number>): void;
}
