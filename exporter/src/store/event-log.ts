/**
 * The sequence of change events: assigns `seq`, keeps a bounded window for replay
 * (SSE `Last-Event-ID`), and fans events out to in-process subscribers.
 */
import type { ChangeEvent } from '../model/events.js';

export type NewEvent = Omit<ChangeEvent, 'seq'>;
export type EventListener = (event: ChangeEvent) => void;
export type EventBatchListener = (events: readonly ChangeEvent[]) => void;

export type ReplayResult =
  | { type: 'events'; events: ChangeEvent[] }
  /** The requested position is older than the window (or from the future): the client must resync. */
  | { type: 'reset'; oldestSeq: number; lastSeq: number };

export class EventLog {
  private readonly ring: (ChangeEvent | undefined)[];
  private head = 0;
  private size = 0;
  private seq: number;
  private readonly listeners = new Set<EventListener>();
  private readonly batchListeners = new Set<EventBatchListener>();
  /** Events appended while held, published on release (see hold). */
  private pending: ChangeEvent[] | undefined;

  constructor(
    readonly capacity: number,
    /** Last sequence number already used (the journal restores it after a restart). */
    startSeq = 0,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`event log capacity must be a positive integer, got ${capacity}`);
    this.ring = new Array<ChangeEvent | undefined>(capacity);
    this.seq = startSeq;
  }

  get lastSeq(): number {
    return this.seq;
  }

  /** Oldest seq still replayable (lastSeq + 1 when the window is empty). */
  get oldestSeq(): number {
    return this.seq - this.size + 1;
  }

  append(event: NewEvent): ChangeEvent {
    this.seq += 1;
    const full: ChangeEvent = { seq: this.seq, ...event };
    this.ring[this.head] = full;
    this.head = (this.head + 1) % this.capacity;
    if (this.size < this.capacity) this.size += 1;
    if (this.pending) this.pending.push(full);
    else this.publish([full]);
    return full;
  }

  /**
   * Until `release`, appended events get their seq and enter the replay window but are not
   * published: the store holds them while the journal writes the batch, so a client never sees
   * an event a crash could still take back. (When the write fails they are published anyway; the
   * journal keeps them pending, see SqliteJournal.commit.)
   */
  hold(): void {
    this.pending ??= [];
  }

  /** Publishes the events appended since `hold`, in order. */
  release(): void {
    const pending = this.pending;
    this.pending = undefined;
    if (pending && pending.length > 0) this.publish(pending);
  }

  /**
   * Puts events an earlier run published back into the replay window (oldest first, ending at
   * the journal's last seq), without publishing them. Only before the first append.
   */
  preload(events: readonly ChangeEvent[]): void {
    if (this.size > 0) throw new Error('EventLog.preload: the log already holds events');
    const last = events[events.length - 1];
    if (last === undefined || last.seq !== this.seq) return;
    // Only a gap-free run ending at the last seq can be replayed without hiding a missing event.
    let from = events.length - 1;
    while (from > 0 && (events[from - 1] as ChangeEvent).seq === (events[from] as ChangeEvent).seq - 1) from -= 1;
    const run = events.slice(Math.max(from, events.length - this.capacity));
    for (const e of run) {
      this.ring[this.head] = e;
      this.head = (this.head + 1) % this.capacity;
      this.size += 1;
    }
  }

  private publish(events: readonly ChangeEvent[]): void {
    for (const listener of this.listeners) for (const event of events) listener(event);
    for (const listener of this.batchListeners) listener(events);
  }

  /** Events after `afterSeq`, or a reset when some of them have left the window. */
  since(afterSeq: number): ReplayResult {
    if (afterSeq > this.seq || afterSeq < this.oldestSeq - 1) {
      return { type: 'reset', oldestSeq: this.oldestSeq, lastSeq: this.seq };
    }
    const count = this.seq - afterSeq;
    const events: ChangeEvent[] = [];
    for (let i = count; i >= 1; i -= 1) {
      const idx = (this.head - i + this.capacity * 2) % this.capacity;
      events.push(this.ring[idx] as ChangeEvent);
    }
    return { type: 'events', events };
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * The events of one apply (a poll's or a refresh's changes) in one call, in order: a client
   * connection writes them together (see SseSession.sendEvents).
   */
  subscribeBatches(listener: EventBatchListener): () => void {
    this.batchListeners.add(listener);
    return () => this.batchListeners.delete(listener);
  }

  get subscriberCount(): number {
    return this.listeners.size + this.batchListeners.size;
  }
}
