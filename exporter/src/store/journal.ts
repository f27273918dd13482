/**
 * The journal seam. The store hands every applied poll result to the journal as one batch (the
 * events it produced, the records that changed, the counters that moved) before anyone outside
 * the process hears of it, and at start asks it for what an earlier run left: the last sequence
 * number, the records held, the recent events and the counters' values.
 *
 * Two implementations: `MemoryJournal` (keeps nothing; demo mode and tests) and `SqliteJournal`
 * (store/sqlite-journal.ts; one SQLite file, the default for a config-file run).
 */
import type { ChangeEvent } from '../model/events.js';
import type { Job } from '../model/job.js';
import type { Task } from '../model/task.js';
import type { Worker } from '../model/worker.js';

/** A held task as the journal keeps it: the store's record and the fingerprint of what the adapter sent. */
export interface JournalTask {
  task: Task;
  fingerprint: string;
}

/** One series of an event-fed counter: family name, label values, value. */
export interface CounterValue {
  family: string;
  labels: Record<string, string>;
  value: number;
}

export interface RecordChanges<T> {
  put: T[];
  /** Ids of removed records (of the batch's source). */
  removed: string[];
}

/** Everything one applied poll result changed, written in one transaction. */
export interface JournalBatch {
  source: string;
  kind: string;
  events: readonly ChangeEvent[];
  tasks: RecordChanges<JournalTask>;
  workers: RecordChanges<Worker>;
  jobs: RecordChanges<Job>;
}

/** What an earlier run left, for the sources still configured. */
export interface JournalState {
  tasks: JournalTask[];
  workers: Worker[];
  jobs: Job[];
  /** The most recent events, oldest first (at most the window the journal keeps). */
  events: ChangeEvent[];
  counters: CounterValue[];
}

export interface Journal {
  /** Last event sequence number handed out before this process started (see MemoryJournal for a fresh one). */
  lastSeq(): number;
  /** The state to start from. Called once, before the first commit. */
  restore(): JournalState;
  /** Called once per applied poll result that changed something, before its events are published. */
  commit(batch: JournalBatch): void;
  /**
   * Where the journal reads the counters that moved since the last write: called during each
   * commit and at close (the metrics module owns the counters).
   */
  trackCounters(dirty: () => CounterValue[]): void;
  /**
   * Replace every counter row with these values (once, after the restore: the label guard may
   * have folded restored values into `other`, whose old rows must not come back next time).
   */
  replaceCounters(values: readonly CounterValue[]): void;
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
  restore(): JournalState {
    return { tasks: [], workers: [], jobs: [], events: [], counters: [] };
  }
  commit(): void {}
  trackCounters(): void {}
  replaceCounters(): void {}
  close(): void {}
}
