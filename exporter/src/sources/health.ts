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
}

/** Something that can tell the health of every configured source. */
export interface HealthProvider {
  health(): SourceHealth[];
}

/** Hooks the runner calls so metrics can observe polls without the runner knowing prom-client. */
export interface PollObserver {
  pollFinished(source: string, kind: string, seconds: number, ok: boolean): void;
}
