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
   * Live events published within this many milliseconds go out in one socket write (0: each
   * publish is written at once). A send on loopback or a LAN costs a few microseconds of kernel
   * time whatever its size; at a thousand clients and hundreds of events a second, one write per
   * event and client is what saturates the exporter (docs/benchmarks.md, SSE fan-out).
   */
  coalesceMs?: number;
  /**
   * The frame of a change event (default `eventFrame`). Every session gets the same event objects,
   * so a builder should cache its frames per event as `eventFrame` does.
   */
  frame?: (event: ChangeEvent) => string;
}

/** How long an ended response may wait for a stalled client to read its last bytes. */
const END_GRACE_MS = 10_000;
export const RETRY_MS = 3000;
/** Live frames joined into one socket write at most (a burst of 64 frames is ~16-20 KB). */
const WRITE_BATCH = 64;

/** Sessions with frames held for a window of `ms`, flushed together by one timer. */
interface Coalescer {
  add(session: SseSession): void;
}

const coalescers = new Map<number, Coalescer>();

function coalescer(ms: number): Coalescer {
  let c = coalescers.get(ms);
  if (c) return c;
  const waiting = new Set<SseSession>();
  let timer: NodeJS.Timeout | undefined;
  c = {
    add(session) {
      waiting.add(session);
      if (timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        const now = [...waiting];
        waiting.clear();
        for (const s of now) s.flush();
      }, ms);
      timer.unref();
    },
  };
  coalescers.set(ms, c);
  return c;
}

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
  /** Live frames waiting for the coalescing window, and how many. */
  private held = '';
  private heldFrames = 0;

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
    this.sendEvents([event]);
  }

  /**
   * Live events published together (one poll's or refresh's changes), in order: written while
   * the socket takes them, WRITE_BATCH frames per write, so a burst costs a few writes per client
   * instead of one per event; the rest queue as sendEvent's do.
   */
  sendEvents(events: readonly ChangeEvent[]): void {
    let i = 0;
    const window = this.options.coalesceMs ?? 0;
    if (window > 0) {
      // Held for the window (shared by every session: one timer), up to WRITE_BATCH frames.
      while (!this.ended && i < events.length && !this.blocked && this.head === this.queue.length) {
        this.held += this.frameOf(events[i] as ChangeEvent);
        this.heldFrames += 1;
        this.options.counters.sent += 1;
        i += 1;
        if (this.heldFrames >= WRITE_BATCH) this.flush();
        else if (this.heldFrames === 1) coalescer(window).add(this);
      }
    }
    while (!this.ended && i < events.length && !this.blocked && this.head === this.queue.length) {
      const end = Math.min(events.length, i + WRITE_BATCH);
      let data = '';
      for (let j = i; j < end; j += 1) data += this.frameOf(events[j] as ChangeEvent);
      this.options.counters.sent += end - i;
      this.write(data);
      i = end;
    }
    for (; i < events.length && !this.ended; i += 1) {
      if (this.liveQueued >= this.options.clientBuffer) {
        this.options.counters.dropped_slow += 1;
        this.end(RECONNECT_REASONS.slowConsumer);
        return;
      }
      this.queue.push({ event: events[i] as ChangeEvent, live: true });
      this.liveQueued += 1;
    }
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
    this.flush();
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
    this.write(this.frameOf(event));
  }

  private frameOf(event: ChangeEvent): string {
    return (this.options.frame ?? eventFrame)(event);
  }

  /** Write the frames held for the coalescing window (called by the window's timer too). */
  flush(): void {
    if (this.heldFrames === 0) return;
    const data = this.held;
    this.held = '';
    this.heldFrames = 0;
    if (this.res.writableEnded || this.res.destroyed) return;
    if (!this.res.write(data)) this.blocked = true;
  }

  private write(chunk: string): void {
    // Whatever waits for the window goes first: frames leave in the order they were sent.
    this.flush();
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
