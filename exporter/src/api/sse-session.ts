/**
 * One SSE client connection: frames, heartbeats, the lifetime limit, and backpressure. While the
 * socket does not take more data (`write` returned false) live events queue up to a fixed number;
 * one more and the client is told to reconnect and the response ends, so a slow client costs
 * bounded memory. Everything it holds (store subscription, timers) is released the moment it ends.
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { ChangeEvent } from '../model/events.js';

export interface SseCounters {
  /** Change events handed to client sockets (replays included). */
  sent: number;
  /** Clients told to reconnect because they did not keep up. */
  dropped_slow: number;
}

export interface SseSessionOptions {
  /** Live events queued while the socket is not writable; one more ends the session. */
  clientBuffer: number;
  /** 0 = no heartbeats. */
  heartbeatMs: number;
  /** 0 = no lifetime limit. */
  maxLifetimeMs: number;
  /** Epoch ms, for the heartbeat's Unix seconds. */
  now: () => number;
  counters: SseCounters;
  /** Called once, when the underlying response has closed. */
  onClosed: () => void;
  /**
   * The frame of a change event (default `eventFrame`). Every session gets the same event objects,
   * so a builder should cache its frames per event as `eventFrame` does.
   */
  frame?: (event: ChangeEvent) => string;
}

/** How long an ended response may wait for a stalled client to read its last bytes. */
const END_GRACE_MS = 10_000;
export const RETRY_MS = 3000;

/** Every `reason` of an `event: reconnect` frame (docs/api.md lists them; a test holds it to that). */
export const RECONNECT_REASONS = {
  /** More than `clientBuffer` live events waited for a full socket. */
  slowConsumer: 'slow consumer',
  /** The connection reached `maxLifetimeMs`. */
  maxLifetime: 'max lifetime',
  /** The exporter is closing. */
  shutdown: 'server shutting down',
  /** Writing a live event to the socket threw. */
  writeFailed: 'write failed',
} as const;
export type ReconnectReason = (typeof RECONNECT_REASONS)[keyof typeof RECONNECT_REASONS];

export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-store',
  'X-Accel-Buffering': 'no',
  Connection: 'keep-alive',
} as const;

/** The SSE frame of a change event, built from scratch: `eventFrame` is the cached way in. */
export function buildEventFrame(event: ChangeEvent): string {
  return `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/**
 * Frames by event. Every session gets the same ChangeEvent object from the event log (live and
 * replayed alike), so the first session to write an event builds its frame and every other client
 * reuses the string: one JSON.stringify per event instead of one per client, which at a thousand
 * clients would stall the event loop inside `store.apply`. Events are never changed once
 * appended; an entry goes away with its event (when it leaves the replay window and every queue).
 */
const frames = new WeakMap<ChangeEvent, string>();

/** The SSE frame of a change event (`id:`, `event:`, `data:`), built once per event and shared by all clients. */
export function eventFrame(event: ChangeEvent): string {
  let frame = frames.get(event);
  if (frame === undefined) {
    frame = buildEventFrame(event);
    frames.set(event, frame);
  }
  return frame;
}

export function controlFrame(name: string, data: unknown, id?: number): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Something waiting for the socket: a change event (by reference; its shared frame is looked up when written) or a control frame. */
type Pending = { event: ChangeEvent; live: boolean } | { frame: string };

export class SseSession {
  /** Waiting for 'drain', in order; `head` is the next to send (no O(n) shift). */
  private queue: Pending[] = [];
  private head = 0;
  /** Live events in the queue: the ones `clientBuffer` limits. */
  private liveQueued = 0;
  private blocked = false;
  private ended = false;
  private readonly releases: (() => void)[] = [];

  constructor(
    private readonly res: ServerResponse,
    private readonly options: SseSessionOptions,
  ) {}

  get isEnded(): boolean {
    return this.ended;
  }

  /**
   * Send the headers (`extraHeaders` first: what hooks set on the reply before it was hijacked)
   * and the preamble; start the heartbeat and the lifetime timer.
   */
  open(extraHeaders: OutgoingHttpHeaders = {}): void {
    const { res, options } = this;
    res.on('error', () => this.release());
    res.once('close', () => {
      this.release();
      options.onClosed();
    });
    res.on('drain', () => {
      this.blocked = false;
      this.pump();
    });
    // The stream's own headers win over a hook's header of the same name, whatever its case.
    const own = new Set(Object.keys(SSE_HEADERS).map((k) => k.toLowerCase()));
    const extra = Object.fromEntries(Object.entries(extraHeaders).filter(([k]) => !own.has(k.toLowerCase())));
    res.writeHead(200, { ...extra, ...SSE_HEADERS });
    this.write(`retry: ${RETRY_MS}\n: connected\n\n`);
    if (options.heartbeatMs > 0) {
      const heartbeat = setInterval(() => {
        if (!this.blocked && !this.ended) this.write(`event: heartbeat\ndata: ${Math.floor(options.now() / 1000)}\n\n`);
      }, options.heartbeatMs);
      heartbeat.unref();
      this.onRelease(() => clearInterval(heartbeat));
    }
    if (options.maxLifetimeMs > 0) {
      const lifetime = setTimeout(() => this.end(RECONNECT_REASONS.maxLifetime), options.maxLifetimeMs);
      lifetime.unref();
      this.onRelease(() => clearTimeout(lifetime));
    }
  }

  /** Register something to undo when the session ends (e.g. a store unsubscribe). Runs at once if it already has. */
  onRelease(release: () => void): void {
    if (this.ended) release();
    else this.releases.push(release);
  }

  /**
   * Missed events to send first. They are references into the shared event log (bounded by its
   * size), so they are not held to `clientBuffer`: a reconnecting client catches up at its own pace.
   */
  replay(events: readonly ChangeEvent[]): void {
    if (this.ended) return;
    for (const event of events) this.queue.push({ event, live: false });
    this.pump();
  }

  /** A live event: written at once, queued while the socket is full, or the end of a client that fell too far behind. */
  sendEvent(event: ChangeEvent): void {
    if (this.ended) return;
    if (!this.blocked && this.head === this.queue.length) {
      this.writeEvent(event);
      return;
    }
    if (this.liveQueued >= this.options.clientBuffer) {
      this.options.counters.dropped_slow += 1;
      this.end(RECONNECT_REASONS.slowConsumer);
      return;
    }
    this.queue.push({ event, live: true });
    this.liveQueued += 1;
  }

  /** A non-event frame (reset), in order with the events. */
  sendControl(name: string, data: unknown, id?: number): void {
    if (this.ended) return;
    this.queue.push({ frame: controlFrame(name, data, id) });
    this.pump();
  }

  /** Tell the client to reconnect, then end the response. */
  end(reason: ReconnectReason): void {
    if (this.ended) return;
    const stalled = this.blocked;
    this.release();
    if (this.res.writableEnded || this.res.destroyed) return;
    this.res.end(controlFrame('reconnect', { reason }));
    if (stalled) {
      const grace = setTimeout(() => this.res.destroy(), END_GRACE_MS);
      grace.unref();
      this.res.once('close', () => clearTimeout(grace));
    }
  }

  private pump(): void {
    while (!this.ended && !this.blocked && this.head < this.queue.length) {
      const item = this.queue[this.head] as Pending;
      this.head += 1;
      if ('frame' in item) {
        this.write(item.frame);
      } else {
        if (item.live) this.liveQueued -= 1;
        this.writeEvent(item.event);
      }
    }
    if (this.head > 0) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  private writeEvent(event: ChangeEvent): void {
    this.options.counters.sent += 1;
    this.write((this.options.frame ?? eventFrame)(event));
  }

  private write(chunk: string): void {
    if (this.res.writableEnded || this.res.destroyed) return;
    if (!this.res.write(chunk)) this.blocked = true;
  }

  private release(): void {
    if (this.ended) return;
    this.ended = true;
    this.queue = [];
    this.head = 0;
    this.liveQueued = 0;
    for (const release of this.releases.splice(0)) release();
  }
}
