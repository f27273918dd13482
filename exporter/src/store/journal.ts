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

export class MemoryJournal implements Journal {
  lastSeq(): number {
    return 0;
  }
  commit(): void {}
  close(): void {}
}
