/**
 * The in-memory picture of every source: tasks (indexed and searchable), workers and jobs.
 * Applying a poll result diffs it against what is held, emits seq-numbered change events,
 * and tells in-process listeners (metrics) what changed, with the previous and next record.
 */
import { createHash } from 'node:crypto';
import type { ChangeEvent, ChangeEventType } from '../model/events.js';
import type { Job } from '../model/job.js';
import { taskKey, type Phase, type Task } from '../model/task.js';
import type { Worker } from '../model/worker.js';
import type { DefaultStates, Lifecycle, PollResult } from '../sources/source.js';
import { systemClock, isoUtc, type Clock } from '../util/clock.js';
import { EventLog, type NewEvent } from './event-log.js';
import { MemoryJournal, type Journal, type JournalBatch, type JournalState } from './journal.js';
import { deriveTimes } from './lifecycle.js';
import { TaskIndex, type IndexedField } from './task-index.js';
import { runTaskQuery, type TaskQuery, type TaskQueryResult, type SummaryRow } from './query.js';

export interface TaskChange {
  event: ChangeEvent;
  prev?: Task;
  next?: Task;
  /** The change started a run (see Lifecycle); only such changes have a queue wait. */
  runStarted?: boolean;
  /** A first sighting of a task the source says the upstream created since its previous poll (see Snapshot.newTaskIds). */
  fresh?: boolean;
}

export interface RecordChange<T> {
  event: ChangeEvent;
  prev?: T;
  next?: T;
}

export interface StoreListener {
  task?(change: TaskChange): void;
  worker?(change: RecordChange<Worker>): void;
  job?(change: RecordChange<Job>): void;
}

export interface StoreOptions {
  eventBufferSize?: number;
  clock?: Clock;
  /** Per-kind default-state rules for task queries that name no state. */
  defaultStates?: ReadonlyMap<string, DefaultStates>;
  /** Per-kind run boundaries, for started times and queue waits. */
  lifecycles?: ReadonlyMap<string, Lifecycle>;
  searchResultCap?: number;
  journal?: Journal;
  /** Told when the journal fails to write a batch (the change is kept in memory and published anyway). */
  onJournalError?: (err: unknown, source: string) => void;
}

/** A held task with what the store precomputes for it. */
export interface TaskEntry {
  key: string;
  task: Task;
  /** The record the adapter handed in last: the same object again means nothing changed. */
  incoming: Task;
  /** SHA-1 of the incoming record's JSON, to tell an equal record from a changed one. */
  fingerprint: string;
  /** `task.stateSince` in epoch ms (NaN when unknown), parsed once. */
  stateSinceMs: number;
}

/** Current count and member keys of one (source, kind, repo, state) group, for metrics. */
export interface TaskGroup {
  source: string;
  kind: string;
  repo: string;
  state: string;
  phase: Phase;
  keys: Set<string>;
  /** Earliest stateSince of the members (epoch ms; NaN when none is known); see Store.oldestInGroup. */
  oldestMs: number;
  /** Members changed since oldestMs was computed. */
  dirty: boolean;
}

export class Store {
  readonly events: EventLog;
  readonly defaultStates: ReadonlyMap<string, DefaultStates>;
  readonly searchResultCap: number;
  private readonly lifecycles: ReadonlyMap<string, Lifecycle>;
  private readonly clock: Clock;
  private readonly journal: Journal;
  private readonly entries = new Map<string, TaskEntry>();
  private readonly index = new TaskIndex();
  private changes = 0;
  private readonly groups = new Map<string, TaskGroup>();
  private readonly workers = new Map<string, Map<string, Worker>>();
  private readonly jobs = new Map<string, Map<string, Job>>();
  private readonly listeners = new Set<StoreListener>();
  private readonly onJournalError: (err: unknown, source: string) => void;
  /** The batch being collected by `apply` for the journal. */
  private batch: JournalBatch | undefined;

  constructor(options: StoreOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.journal = options.journal ?? new MemoryJournal();
    this.events = new EventLog(options.eventBufferSize ?? 10_000, this.journal.lastSeq());
    this.defaultStates = options.defaultStates ?? new Map();
    this.searchResultCap = options.searchResultCap ?? 500;
    this.lifecycles = options.lifecycles ?? new Map();
    this.onJournalError = options.onJournalError ?? ((err) => {
      throw err;
    });
  }

  /**
   * Starts from what the journal kept: records are held again (no events, no listeners told:
   * nothing changed) and the recent events become replayable. Call once, before any `apply`.
   */
  restore(state: JournalState): void {
    if (this.entries.size > 0 || this.events.lastSeq !== this.journal.lastSeq()) throw new Error('Store.restore: the store is already in use');
    for (const { task, fingerprint } of state.tasks) {
      const key = taskKey(task.source, task.id);
      const entry = this.makeEntry(key, task, task, fingerprint);
      this.entries.set(key, entry);
      this.index.add(key, task);
      this.group(key, task);
    }
    for (const [table, records] of [[this.workers, state.workers], [this.jobs, state.jobs]] as const) {
      for (const rec of records) {
        let held = (table as Map<string, Map<string, Worker | Job>>).get(rec.source);
        if (!held) (table as Map<string, Map<string, Worker | Job>>).set(rec.source, (held = new Map()));
        held.set(rec.id, rec);
      }
    }
    this.events.preload(state.events);
    this.changes += 1;
  }

  /**
   * Goes up whenever a record changed (an apply that produced events, a restore): whatever is
   * computed from the records alone stays valid while it holds (see MetricDefinition.fromStore).
   */
  get version(): number {
    return this.changes;
  }

  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Apply one poll result from a source; returns the change events it produced. */
  apply(source: string, kind: string, result: PollResult, at: number = this.clock.now()): ChangeEvent[] {
    const when = isoUtc(at);
    const produced: ChangeEvent[] = [];
    // Check every record before changing anything, so a bad result is refused whole.
    for (const [what, records] of [['task', result.tasks], ['worker', result.workers], ['job', result.jobs]] as const) {
      for (const rec of records ?? []) {
        if (rec.source !== source || rec.kind !== kind) {
          throw new Error(`source ${source} returned a ${what} labelled ${rec.source}/${rec.kind}: adapters must set source and kind from their context`);
        }
      }
    }
    const fresh = result.newTaskIds && result.newTaskIds.length > 0 ? new Set(result.newTaskIds) : undefined;
    const batch: JournalBatch = { source, kind, events: produced, tasks: { put: [], removed: [] }, workers: { put: [], removed: [] }, jobs: { put: [], removed: [] } };
    this.batch = batch;
    this.events.hold();
    try {
      this.applyChecked(source, kind, result, when, fresh, produced);
      if (produced.length > 0) {
        this.changes += 1;
        try {
          this.journal.commit(batch);
        } catch (err) {
          this.onJournalError(err, source);
        }
      }
    } finally {
      this.batch = undefined;
      this.events.release();
    }
    return produced;
  }

  private applyChecked(source: string, kind: string, result: PollResult, when: string, fresh: Set<string> | undefined, produced: ChangeEvent[]): void {
    const seen = new Set<string>();
    for (const task of result.tasks ?? []) {
      const key = taskKey(source, task.id);
      seen.add(key);
      const change = this.upsertTask(key, task, when, fresh?.has(task.id) ?? false);
      if (change) produced.push(change);
    }
    let removed: string[];
    if (result.type === 'delta') removed = (result.removedTaskIds ?? []).map((id) => taskKey(source, id));
    // Every key seen is held now, so equal counts mean nothing else is: skip the full diff.
    else if (this.index.lookupSize('source', [source]) === seen.size) removed = [];
    else removed = [...this.index.lookup('source', [source])].filter((k) => !seen.has(k));
    for (const key of removed) {
      const change = this.removeTask(key, when);
      if (change) produced.push(change);
    }
    // A snapshot without workers or jobs says the source has none (see Snapshot).
    const snapshot = result.type === 'snapshot';
    produced.push(...this.applyRecords(this.workers, 'worker', source, kind, snapshot ? (result.workers ?? []) : result.workers, snapshot ? undefined : result.removedWorkerIds, snapshot, when));
    produced.push(...this.applyRecords(this.jobs, 'job', source, kind, snapshot ? (result.jobs ?? []) : result.jobs, snapshot ? undefined : result.removedJobIds, snapshot, when));
  }

  /** Forget everything of a source (it was removed from the config). */
  dropSource(source: string, kind: string): ChangeEvent[] {
    return this.apply(source, kind, { type: 'snapshot', tasks: [], workers: [], jobs: [] });
  }

  getTask(source: string, id: string): Task | undefined {
    return this.entries.get(taskKey(source, id))?.task;
  }

  get taskCount(): number {
    return this.entries.size;
  }

  queryTasks(query: TaskQuery): TaskQueryResult {
    return runTaskQuery(this.queryContext(), query).result;
  }

  /** Counts of matching tasks by one field, largest first, and how many tasks matched (a task with several archs counts once in `total`). */
  summarize(field: IndexedField, query: TaskQuery): { total: number; rows: SummaryRow[] } {
    const { result, summary } = runTaskQuery(this.queryContext(), { ...query, summarizeBy: field });
    return { total: result.total, rows: summary ?? [] };
  }

  /** Distinct values of a field over all held tasks, with counts. */
  distinct(field: IndexedField): Map<string, number> {
    return this.index.values(field);
  }

  /** Every task held for a source. */
  tasksOf(source: string): Task[] {
    const out: Task[] = [];
    for (const key of this.index.lookup('source', [source])) {
      const t = this.entries.get(key)?.task;
      if (t) out.push(t);
    }
    return out;
  }

  /** Tasks of one source (for the taskoteka-compatible views and per-source counts). */
  sourceTaskCount(source: string): number {
    return this.index.lookupSize('source', [source]);
  }

  /** Groups of tasks by (source, kind, repo, state): the basis of the `buildfarm_tasks` gauge. */
  taskGroups(): Iterable<TaskGroup> {
    return this.groups.values();
  }

  /**
   * Earliest time a member of the group entered its state (epoch ms, NaN when unknown).
   * Recomputed only for groups whose members changed since the last call, so a scrape costs
   * O(changed groups), not O(tasks).
   */
  oldestInGroup(group: TaskGroup): number {
    if (group.dirty) {
      let oldest = Number.POSITIVE_INFINITY;
      for (const key of group.keys) {
        const ms = this.entries.get(key)?.stateSinceMs;
        if (ms !== undefined && ms < oldest) oldest = ms;
      }
      group.oldestMs = Number.isFinite(oldest) ? oldest : Number.NaN;
      group.dirty = false;
    }
    return group.oldestMs;
  }


  allEntries(): IterableIterator<TaskEntry> {
    return this.entries.values();
  }

  listWorkers(source?: string): Worker[] {
    return listRecords(this.workers, source);
  }

  listJobs(source?: string): Job[] {
    return listRecords(this.jobs, source);
  }

  close(): void {
    this.journal.close();
  }

  private queryContext() {
    return {
      entries: this.entries,
      index: this.index,
      defaultStates: this.defaultStates,
      searchResultCap: this.searchResultCap,
    };
  }

  private upsertTask(key: string, incoming: Task, when: string, fresh: boolean): ChangeEvent | undefined {
    const prevEntry = this.entries.get(key);
    const prev = prevEntry?.task;
    if (prevEntry && prevEntry.incoming === incoming) return undefined;
    const fingerprint = hashText(JSON.stringify(incoming));
    if (prevEntry && prevEntry.fingerprint === fingerprint) {
      prevEntry.incoming = incoming;
      return undefined;
    }
    const { task: next, runStarted } = deriveTimes(prev, incoming, when, this.lifecycles.get(incoming.kind));
    if (next.updated === undefined) next.updated = when;
    if (prevEntry) {
      this.index.remove(key, prevEntry.task);
      this.ungroup(key, prevEntry.task);
    }
    const entry = this.makeEntry(key, next, incoming, fingerprint);
    this.entries.set(key, entry);
    this.batch?.tasks.put.push({ task: next, fingerprint });
    this.index.add(key, next);
    this.group(key, next);
    const event = this.emit(prev ? 'task_updated' : 'task_new', next, prev, when);
    const change: TaskChange = { event, prev, next, runStarted, ...(fresh && !prev ? { fresh: true } : {}) };
    for (const l of this.listeners) l.task?.(change);
    return event;
  }

  private makeEntry(key: string, task: Task, incoming: Task, fingerprint: string): TaskEntry {
    return {
      key,
      task,
      incoming,
      fingerprint,
      stateSinceMs: task.stateSince === undefined ? Number.NaN : Date.parse(task.stateSince),
    };
  }

  private removeTask(key: string, when: string): ChangeEvent | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    this.batch?.tasks.removed.push(entry.task.id);
    this.index.remove(key, entry.task);
    this.ungroup(key, entry.task);
    const t = entry.task;
    const event = this.events.append({ at: when, type: 'task_removed', source: t.source, kind: t.kind, id: t.id, prev_state: t.state, prev_phase: t.phase, ...(t.owner ? { owner: t.owner } : {}), ...(t.repo ? { repo: t.repo } : {}) });
    for (const l of this.listeners) l.task?.({ event, prev: t });
    return event;
  }

  private emit(type: ChangeEventType, next: Task, prev: Task | undefined, when: string): ChangeEvent {
    const event: NewEvent = {
      at: when,
      type,
      source: next.source,
      kind: next.kind,
      id: next.id,
      state: next.state,
      phase: next.phase,
      ...(prev ? { prev_state: prev.state, prev_phase: prev.phase } : {}),
      ...(next.owner ? { owner: next.owner } : {}),
      ...(next.repo ? { repo: next.repo } : {}),
    };
    return this.events.append(event);
  }

  private group(key: string, t: Task): void {
    const gk = groupKey(t);
    let g = this.groups.get(gk);
    if (!g) this.groups.set(gk, (g = { source: t.source, kind: t.kind, repo: t.repo ?? '', state: t.state, phase: t.phase, keys: new Set(), oldestMs: Number.NaN, dirty: true }));
    g.keys.add(key);
    g.dirty = true;
  }

  private ungroup(key: string, t: Task): void {
    const gk = groupKey(t);
    const g = this.groups.get(gk);
    if (!g) return;
    g.keys.delete(key);
    g.dirty = true;
    if (g.keys.size === 0) this.groups.delete(gk);
  }

  private applyRecords<T extends Worker | Job>(
    table: Map<string, Map<string, T>>,
    prefix: 'worker' | 'job',
    source: string,
    kind: string,
    incoming: T[] | undefined,
    removedIds: string[] | undefined,
    snapshot: boolean,
    when: string,
  ): ChangeEvent[] {
    if (incoming === undefined && removedIds === undefined) return [];
    if (incoming !== undefined && incoming.length === 0 && !table.has(source) && (removedIds ?? []).length === 0) return [];
    let held = table.get(source);
    if (!held) table.set(source, (held = new Map()));
    const out: ChangeEvent[] = [];
    const seen = new Set<string>();
    const notify = (event: ChangeEvent, prev?: T, next?: T) => {
      for (const l of this.listeners) {
        if (prefix === 'worker') l.worker?.({ event, prev: prev as Worker | undefined, next: next as Worker | undefined });
        else l.job?.({ event, prev: prev as Job | undefined, next: next as Job | undefined });
      }
    };
    for (const rec of incoming ?? []) {
      seen.add(rec.id);
      const prev = held.get(rec.id);
      if (prev && JSON.stringify(prev) === JSON.stringify(rec)) continue;
      held.set(rec.id, rec);
      if (prefix === 'worker') this.batch?.workers.put.push(rec as Worker);
      else this.batch?.jobs.put.push(rec as Job);
      const state = recordState(rec);
      const event = this.events.append({ at: when, type: prev ? `${prefix}_updated` : `${prefix}_new`, source, kind, id: rec.id, state, ...(prev ? { prev_state: recordState(prev) } : {}) });
      out.push(event);
      notify(event, prev, rec);
    }
    const gone = snapshot ? [...held.keys()].filter((id) => !seen.has(id)) : (removedIds ?? []);
    for (const id of gone) {
      const prev = held.get(id);
      if (!prev) continue;
      held.delete(id);
      (prefix === 'worker' ? this.batch?.workers : this.batch?.jobs)?.removed.push(id);
      const event = this.events.append({ at: when, type: `${prefix}_removed`, source, kind, id, prev_state: recordState(prev) });
      out.push(event);
      notify(event, prev, undefined);
    }
    if (held.size === 0) table.delete(source);
    return out;
  }
}

function groupKey(t: Task): string {
  return `${t.source}\u0000${t.kind}\u0000${t.repo ?? ''}\u0000${t.state}`;
}

function recordState(rec: Worker | Job): string {
  if ('status' in rec) return rec.paused ? 'paused' : rec.status;
  return rec.up ? (rec.busy ? 'busy' : 'idle') : 'down';
}

function listRecords<T extends { source: string }>(table: Map<string, Map<string, T>>, source?: string): T[] {
  if (source !== undefined) return [...(table.get(source)?.values() ?? [])];
  return [...table.values()].flatMap((m) => [...m.values()]);
}

/** A short fingerprint of a record's JSON (native SHA-1: faster than hashing in JS, and 28 bytes instead of the JSON). */
function hashText(text: string): string {
  return createHash('sha1').update(text).digest('base64');
}
