/**
 * The exporter's event stream (`GET /api/v1/events`, docs/api.md "Events") shared by every panel
 * of a datasource: ONE connection per hub whatever the subscribers' filters (each subscriber
 * filters client-side), opened on the first subscriber and closed when the last one leaves.
 *
 * It uses `fetch` and reads the body itself rather than `EventSource`, so that it can send
 * `Last-Event-ID` (and the datasource's headers) on every reconnect, and run in Node for tests.
 *
 * - Reconnects when the stream ends, fails, says `event: reconnect`, or is silent for too long
 *   (3x the heartbeat interval it has seen, at least `idleTimeoutMs`), after an exponential backoff
 *   with jitter between `minRetryMs` (raised to the server's `retry:`) and `maxRetryMs`, reset once
 *   a connection delivers data; it sends `Last-Event-ID` so the exporter replays what was missed.
 * - HTTP 429 and 5xx (503 at the exporter's connection limit) back off (honouring `Retry-After`
 *   up to `maxRetryMs`); any other 4xx (401, 403, 404, ...) or a response that is not an event
 *   stream errors every subscriber's Observable with an Error saying what was answered, and the
 *   hub stops until the next subscriber.
 * - `event: reset` (the exporter no longer has the events after our position) is not an event:
 *   it goes to `resets`, so the datasource can re-read the state.
 * - Events at or before the last id seen (a replay overlap) are dropped; a `data:` that is not an
 *   exporter event is skipped without ending the stream.
 */
import { Observable, Subject, type Subscriber } from 'rxjs';
import { SseParser, type SseMessage } from './sse.js';
import type { ExporterEvent } from './types.js';

export interface EventStreamOptions {
  /** Base URL of the exporter as the browser reaches it (the datasource's data-proxy URL). */
  url: string;
  fetch?: typeof fetch;
  headers?: Record<string, string>;
  /** Reconnect delay bounds, ms (defaults 1000 and 30000). The server's `retry:` raises the lower one. */
  minRetryMs?: number;
  maxRetryMs?: number;
  /**
   * Reconnect when nothing (not even a heartbeat) arrived for this long, ms; raised to 3x the
   * heartbeat interval seen on the connection. Default 90000 (3x the exporter's 15 s default,
   * with room); 0 turns the check off.
   */
  idleTimeoutMs?: number;
}

export interface EventFilter {
  /** Sources to keep; empty or absent = all. */
  source?: string[];
  /** Event types to keep (`task_new`, ...; a trailing `*` matches a prefix: `worker_*`); empty or absent = all. */
  types?: string[];
}

/** The data of `event: reset`: the events after our position are gone; re-read the state, then follow the stream. */
export interface StreamReset {
  oldest_seq: number;
  last_seq: number;
  reason: string;
}

interface Member {
  subscriber: Subscriber<ExporterEvent>;
  matches: (event: ExporterEvent) => boolean;
}

/** What a connection attempt ended with. */
type Outcome = { kind: 'retry'; notBeforeMs?: number } | { kind: 'fatal'; error: Error };

const DEFAULT_MIN_RETRY_MS = 1000;
const DEFAULT_MAX_RETRY_MS = 30_000;
const DEFAULT_IDLE_TIMEOUT_MS = 90_000;
/** The abort reason of a connection that went silent (it reconnects, unlike a teardown). */
const IDLE = Symbol('idle');

export function eventMatcher(filter: EventFilter = {}): (event: ExporterEvent) => boolean {
  const sources = filter.source && filter.source.length > 0 ? new Set(filter.source) : undefined;
  const types = filter.types && filter.types.length > 0 ? filter.types : undefined;
  const exact = new Set(types?.filter((t) => !t.endsWith('*')));
  const prefixes = types?.filter((t) => t.endsWith('*')).map((t) => t.slice(0, -1)) ?? [];
  return (event) => {
    if (sources && !sources.has(event.source)) return false;
    if (!types) return true;
    return exact.has(event.type) || prefixes.some((p) => event.type.startsWith(p));
  };
}

function isExporterEvent(value: unknown): value is ExporterEvent {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.seq === 'number' && Number.isFinite(v.seq) && typeof v.type === 'string' && typeof v.source === 'string' && typeof v.id === 'string';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** `Retry-After` (seconds or an HTTP date) in ms, or undefined. */
function retryAfterMs(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

async function errorDetail(response: Response): Promise<string> {
  let text: string;
  try {
    text = (await response.text()).trim();
  } catch {
    return '';
  }
  const json = parseJson(text);
  if (typeof json === 'object' && json !== null) {
    const j = json as Record<string, unknown>;
    if (typeof j.error === 'string' && j.error !== '') return j.error;
    if (typeof j.message === 'string' && j.message !== '') return j.message;
  }
  return text.length > 300 ? `${text.slice(0, 300)}...` : text;
}

export class EventStreamHub {
  /** `event: reset` notifications (hot; subscribing opens no connection). Completes on `close()`. */
  readonly resets: Observable<StreamReset>;

  private readonly endpoint: string;
  private readonly fetchFn: typeof fetch;
  private readonly headers: Record<string, string>;
  private readonly minRetryMs: number;
  private readonly maxRetryMs: number;
  private readonly idleTimeoutMs: number;

  private readonly members = new Set<Member>();
  private readonly resetSubject = new Subject<StreamReset>();
  private controller: AbortController | undefined;
  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private teardownQueued = false;
  private closed = false;
  /** Failed attempts in a row (the backoff exponent). */
  private attempt = 0;
  private serverRetryMs: number | undefined;
  private lastId: number | undefined;
  private lastActivity = 0;
  private lastHeartbeatAt: number | undefined;
  private heartbeatGapMs = 0;

  constructor(opts: EventStreamOptions) {
    this.endpoint = `${opts.url.replace(/\/+$/, '')}/api/v1/events`;
    const f = opts.fetch;
    // Called detached: a browser's fetch throws "Illegal invocation" when called as a method of another object.
    this.fetchFn = f ?? ((input, init) => globalThis.fetch(input, init));
    this.headers = { ...opts.headers };
    this.minRetryMs = Math.max(0, opts.minRetryMs ?? DEFAULT_MIN_RETRY_MS);
    this.maxRetryMs = Math.max(this.minRetryMs, opts.maxRetryMs ?? DEFAULT_MAX_RETRY_MS);
    this.idleTimeoutMs = Math.max(0, opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
    this.resets = this.resetSubject.asObservable();
  }

  /** Open connections now (0 or 1). */
  get connections(): number {
    return this.controller ? 1 : 0;
  }

  /** The last event id seen (sent as `Last-Event-ID` on the next connection). */
  get lastEventId(): number | undefined {
    return this.lastId;
  }

  /**
   * Events matching the filter, from the hub's one shared connection (opened on the first
   * subscriber, closed when the last leaves). A subscriber gets the events that arrive while it
   * is subscribed; when it opens the connection after an earlier one closed, that includes the
   * exporter's replay of the events after the last one seen. Errors with an Error on a
   * non-retryable answer (401, 403, 404, ...).
   */
  subscribe(filter: EventFilter = {}): Observable<ExporterEvent> {
    const matches = eventMatcher(filter);
    return new Observable<ExporterEvent>((subscriber) => {
      if (this.closed) {
        subscriber.error(new Error('the event stream hub is closed'));
        return undefined;
      }
      const member: Member = { subscriber, matches };
      this.members.add(member);
      this.ensureConnected();
      return () => {
        if (!this.members.delete(member) || this.members.size > 0) return;
        this.queueTeardown();
      };
    });
  }

  /** Close the connection, cancel every timer, complete every subscriber and `resets`. The hub cannot be used again. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.disconnect();
    const members = [...this.members];
    this.members.clear();
    for (const m of members) m.subscriber.complete();
    this.resetSubject.complete();
  }

  // -------------------------------------------------------------------------------------------

  /**
   * The last subscriber left: drop the connection once the current synchronous work is done, so
   * an unsubscribe immediately followed by a subscribe (a re-run query) keeps the connection.
   */
  private queueTeardown(): void {
    if (this.teardownQueued) return;
    this.teardownQueued = true;
    queueMicrotask(() => {
      this.teardownQueued = false;
      if (this.members.size === 0) this.disconnect();
    });
  }

  private ensureConnected(): void {
    if (this.closed || this.members.size === 0 || this.controller || this.retryTimer !== undefined) return;
    const ctrl = new AbortController();
    this.controller = ctrl;
    void this.run(ctrl);
  }

  /** Abort the connection (if any) and cancel the timers: afterwards nothing is open or pending. */
  private disconnect(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.clearIdle();
    const ctrl = this.controller;
    const reader = this.reader;
    this.controller = undefined;
    this.reader = undefined;
    this.attempt = 0;
    reader?.cancel().catch(() => undefined);
    ctrl?.abort();
  }

  private async run(ctrl: AbortController): Promise<void> {
    let outcome: Outcome;
    try {
      outcome = await this.connectOnce(ctrl);
    } catch {
      // A network error, our own abort of a silent connection, a body that broke: all retried.
      outcome = { kind: 'retry' };
    }
    if (this.controller !== ctrl) return; // torn down or closed meanwhile: nothing to do
    this.controller = undefined;
    this.reader = undefined;
    this.clearIdle();
    if (outcome.kind === 'fatal') this.fail(outcome.error);
    else this.scheduleRetry(outcome.notBeforeMs ?? 0);
  }

  private async connectOnce(ctrl: AbortController): Promise<Outcome> {
    const headers: Record<string, string> = { accept: 'text/event-stream', ...(this.lastId !== undefined ? { 'Last-Event-ID': String(this.lastId) } : {}), ...this.headers };
    const fetchFn = this.fetchFn;
    const response = await fetchFn(this.endpoint, { headers, signal: ctrl.signal });
    if (this.controller !== ctrl) {
      void response.body?.cancel().catch(() => undefined);
      return { kind: 'retry' };
    }
    if (!response.ok) {
      const status = response.status;
      if (status === 429 || status >= 500) {
        void response.body?.cancel().catch(() => undefined);
        const after = retryAfterMs(response.headers.get('retry-after'));
        return after === undefined ? { kind: 'retry' } : { kind: 'retry', notBeforeMs: after };
      }
      if (status >= 400) {
        const detail = await errorDetail(response);
        const what = `${status}${response.statusText ? ` ${response.statusText}` : ''}`;
        return { kind: 'fatal', error: new Error(`event stream ${this.endpoint}: HTTP ${what}${detail ? `: ${detail}` : ''}`) };
      }
      void response.body?.cancel().catch(() => undefined);
      return { kind: 'retry' };
    }
    const contentType = response.headers.get('content-type');
    if (contentType !== null && !/^\s*text\/event-stream\b/i.test(contentType)) {
      void response.body?.cancel().catch(() => undefined);
      return { kind: 'fatal', error: new Error(`event stream ${this.endpoint}: expected text/event-stream, got ${contentType} (is the URL the exporter's?)`) };
    }
    if (!response.body) return { kind: 'retry' };

    const reader = response.body.getReader();
    this.reader = reader;
    const decoder = new TextDecoder('utf-8', { ignoreBOM: true }); // the parser drops the BOM
    let reconnectAsked = false;
    const parser = new SseParser(
      {
        onMessage: (m) => {
          if (this.controller !== ctrl) return;
          if (this.handleMessage(m)) reconnectAsked = true;
        },
        onRetry: (ms) => {
          this.serverRetryMs = ms;
        },
        onLastEventId: (id) => this.setLastId(id),
      },
      this.lastId === undefined ? '' : String(this.lastId),
    );
    this.lastHeartbeatAt = undefined;
    this.heartbeatGapMs = 0;
    this.touch();
    this.armIdle(ctrl);
    let received = false;
    for (;;) {
      const { done, value } = await reader.read();
      if (this.controller !== ctrl) return { kind: 'retry' };
      if (done) break;
      if (!received) {
        received = true;
        this.attempt = 0; // a working connection: the next failure starts the backoff over
      }
      this.touch();
      parser.push(decoder.decode(value, { stream: true }));
      if (this.controller !== ctrl) return { kind: 'retry' };
      if (reconnectAsked) {
        // The exporter ends the response right after; don't wait for it.
        this.reader = undefined;
        await reader.cancel().catch(() => undefined);
        return { kind: 'retry' };
      }
    }
    parser.push(decoder.decode());
    parser.end();
    return { kind: 'retry' };
  }

  /** One SSE message; true when the server asked us to reconnect. */
  private handleMessage(m: SseMessage): boolean {
    const previous = this.lastId;
    this.setLastId(m.lastEventId);
    switch (m.type) {
      case 'heartbeat': {
        const now = Date.now();
        if (this.lastHeartbeatAt !== undefined) this.heartbeatGapMs = now - this.lastHeartbeatAt;
        this.lastHeartbeatAt = now;
        return false;
      }
      case 'reconnect':
        return true;
      case 'reset': {
        const data = parseJson(m.data);
        if (typeof data === 'object' && data !== null) {
          const d = data as Record<string, unknown>;
          const reset: StreamReset = {
            oldest_seq: typeof d.oldest_seq === 'number' ? d.oldest_seq : Number.NaN,
            last_seq: typeof d.last_seq === 'number' ? d.last_seq : Number.NaN,
            reason: typeof d.reason === 'string' ? d.reason : '',
          };
          this.resetSubject.next(reset);
        }
        return false;
      }
      default: {
        const event = parseJson(m.data);
        if (!isExporterEvent(event)) return false; // not an event we understand: skip it, keep the stream
        if (previous !== undefined && event.seq <= previous) return false; // already delivered (a replay overlap)
        for (const member of [...this.members]) {
          if (this.members.has(member) && member.matches(event)) member.subscriber.next(event);
        }
        return false;
      }
    }
  }

  /** From an SSE last event id: '' clears it (as the standard says), a non-number is ignored. */
  private setLastId(id: string): void {
    if (id === '') this.lastId = undefined;
    else if (/^\d{1,15}$/.test(id)) this.lastId = Number(id);
  }

  private fail(error: Error): void {
    this.attempt = 0;
    const members = [...this.members];
    this.members.clear();
    for (const m of members) m.subscriber.error(error);
  }

  private scheduleRetry(notBeforeMs: number): void {
    if (this.closed || this.members.size === 0) return;
    const max = this.maxRetryMs;
    const base = Math.min(max, Math.max(this.minRetryMs, this.serverRetryMs ?? 0));
    const exp = Math.min(max, base * 2 ** Math.min(this.attempt, 20));
    const jittered = Math.min(max, exp * (1 + Math.random() / 2));
    const delay = Math.max(jittered, Math.min(notBeforeMs, max));
    this.attempt += 1;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.ensureConnected();
    }, delay);
  }

  private touch(): void {
    this.lastActivity = Date.now();
  }

  private idleLimitMs(): number {
    return Math.max(this.idleTimeoutMs, 3 * this.heartbeatGapMs);
  }

  private armIdle(ctrl: AbortController): void {
    if (this.idleTimeoutMs <= 0) return;
    const wait = Math.max(0, this.lastActivity + this.idleLimitMs() - Date.now());
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.controller !== ctrl) return;
      if (Date.now() - this.lastActivity >= this.idleLimitMs()) {
        this.reader?.cancel().catch(() => undefined);
        ctrl.abort(IDLE);
      } else {
        this.armIdle(ctrl);
      }
    }, wait);
  }

  private clearIdle(): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }
}
