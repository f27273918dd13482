/**
 * Typed upstream failures. Each message says what happened and what to check;
 * none ever includes credentials (URLs are passed through `redactUrl`).
 */
import type { PollResult } from './source.js';

/**
 * `canceled`: the exporter stopped the request on purpose (optional work past its time budget).
 * `fault`: the upstream answered, with an application error (a Koji XML-RPC fault).
 */
export type SourceErrorCode = 'network' | 'timeout' | 'canceled' | 'http' | 'payload' | 'too_large' | 'config' | 'fault';

export class SourceError extends Error {
  constructor(
    readonly code: SourceErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SourceError';
  }
}

export class UpstreamHttpError extends SourceError {
  constructor(
    readonly status: number,
    readonly url: string,
    /** Seconds the upstream asked us to wait (Retry-After), when it said so. */
    readonly retryAfterSeconds: number | undefined,
    detail: string,
    method: 'GET' | 'POST' = 'GET',
  ) {
    super('http', `${method} ${url} answered HTTP ${status}${detail ? `: ${detail}` : ''}`);
    this.name = 'UpstreamHttpError';
  }
}

export class UpstreamPayloadError extends SourceError {
  constructor(url: string, problem: string, method: 'GET' | 'POST' = 'GET') {
    super('payload', `${method} ${url} returned a payload buildscope cannot use: ${problem}`);
    this.name = 'UpstreamPayloadError';
  }
}

/**
 * A poll that failed as a whole but still learned something worth keeping (APB: every server is
 * unreachable, so every worker is now down): the runner applies `result`, then records the failure.
 */
export class PartialPollError extends SourceError {
  constructor(
    cause: SourceError,
    readonly result: PollResult,
  ) {
    super(cause.code, cause.message, { cause });
    this.name = 'PartialPollError';
  }
}

/** Strip userinfo and query values that look like secrets from a URL before it reaches a log or the API. */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.username || u.password) {
      u.username = 'redacted';
      u.password = '';
    }
    for (const key of [...u.searchParams.keys()]) {
      if (/token|key|secret|pass|auth/i.test(key)) u.searchParams.set(key, 'redacted');
    }
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
