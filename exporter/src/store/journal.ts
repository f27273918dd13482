/**
 * The seam for the durable journal. The store hands every applied batch to the journal and,
 * at start, asks it for the last sequence number; the in-memory journal keeps nothing.
 */
import type { ChangeEvent } from '../model/events.js';

export interface Journal {
  /** Last event sequence number written before this process started (0 for a fresh journal). */
  lastSeq(): number;
  /** Called once per applied poll result, after the store has changed, with the events it produced. */
  commit(source: string, events: readonly ChangeEvent[]): void;
  close(): void;
}

/**
 * Keeps nothing. It starts the sequence at a given value: the exporter passes its start time in
 * milliseconds, so ids handed out by an earlier run (lower, unless it averaged more than 1,000
 * events a second) are unknown to this one and a client resuming with them gets a `reset`
 * instead of another run's events under the same numbers.
 */
export class MemoryJournal implements Journal {
  constructor(private readonly startSeq = 0) {}
  lastSeq(): number {
    return this.startSeq;
  }
  commit(): void {}
  close(): void {}
}
