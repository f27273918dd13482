/**
 * The durable journal: one SQLite file (WAL, synchronous=FULL, held exclusively by one process)
 * with the last known record of every task, worker and job per source, the event sequence, a
 * bounded window of recent events and the values of the event-fed counters.
 *
 * Each applied poll result is one transaction, committed before its events are published (see
 * Store.apply), so a kill -9 at any point either loses a batch nobody has seen (the next poll
 * finds the same changes again and emits them once) or keeps it whole.
 *
 * A file that cannot be opened or read as a journal is never wiped: opening fails with a
 * JournalError naming the file and the way out (`--reset-journal` moves it aside).
 */
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { ChangeEvent } from '../model/events.js';
import type { Job } from '../model/job.js';
import type { Worker } from '../model/worker.js';
import type { CounterValue, Journal, JournalBatch, JournalState, JournalTask } from './journal.js';

export const JOURNAL_SCHEMA_VERSION = 1;

const RESET_HINT =
  'Nothing was changed. To start afresh, run with --reset-journal: the file is moved aside (renamed, not deleted) and a new journal begins ' +
  '(task history, counters and event ids start over; SSE clients get a reset). Or point --journal.path at another file.';

export type JournalProblem = 'unreadable' | 'corrupt' | 'foreign' | 'newer' | 'locked' | 'unwritable';

/** The journal cannot be used; `message` names the file and says what to do. */
export class JournalError extends Error {
  constructor(
    readonly file: string,
    readonly problem: JournalProblem,
    detail: string,
    hint: string,
  ) {
    super(`journal ${file}: ${detail}. ${hint}`);
    this.name = 'JournalError';
  }
}

export interface SqliteJournalOptions {
  path: string;
  /** Events kept for Last-Event-ID replay across restarts (events.buffer_size). */
  eventWindow: number;
  /** The sources configured now, name -> kind. Records of any other source, or of a source whose kind changed, are dropped at open. */
  sources: ReadonlyMap<string, string>;
  /** Sequence number a fresh journal starts after (the exporter passes its start time in ms; see MemoryJournal). */
  freshSeq: number;
  /** Move an existing file aside and start a fresh journal. */
  reset?: boolean;
  /** For the name of a moved-aside file. */
  now?: () => number;
  /** How long to wait for a journal another process holds (one shutting down as this one starts); default 5 s. */
  lockTimeoutMs?: number;
}

export interface OpenedJournal {
  journal: SqliteJournal;
  /** What opening did, for the log: a file moved aside, sources dropped. */
  notes: string[];
}

type Db = Database.Database;
type Row = Record<string, unknown>;

export class SqliteJournal implements Journal {
  private dirtyCounters: () => CounterValue[] = () => [];
  private closed = false;
  private readonly stmt: ReturnType<SqliteJournal['prepare']>;
  private readonly writeTx: (w: PendingWrite) => void;
  /** Changes whose write failed (disk full, I/O error), merged with later ones until a write succeeds. */
  private pending: PendingWrite | undefined;

  private constructor(
    private readonly db: Db,
    readonly path: string,
    private readonly window: number,
    private readonly startSeq: number,
  ) {
    this.stmt = this.prepare();
    this.writeTx = db.transaction((w: PendingWrite) => this.write(w));
  }

  static open(options: SqliteJournalOptions): OpenedJournal {
    const file = options.path;
    const notes: string[] = [];
    if (options.reset && existsSync(file)) {
      // Never move a journal another exporter is using: it would go on writing to the moved file.
      refuseIfHeld(file, options.lockTimeoutMs ?? 5000);
      notes.push(moveAside(file, options.now?.() ?? Date.now()));
    }
    try {
      mkdirSync(dirname(file), { recursive: true });
    } catch (err) {
      throw new JournalError(file, 'unwritable', `cannot create its directory (${errText(err)})`, 'Create the directory or choose another --journal.path.');
    }
    let db: Db;
    try {
      db = new Database(file, { timeout: options.lockTimeoutMs ?? 5000 });
    } catch (err) {
      throw classify(file, err);
    }
    try {
      // Exclusive: one exporter per journal (a second one fails here instead of interleaving writes).
      db.pragma('locking_mode = EXCLUSIVE');
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new JournalError(file, 'unwritable', `cannot switch it to WAL mode (got "${String(mode)}")`, 'Put the journal on a local file system.');
      db.pragma('synchronous = FULL');
      db.exec('BEGIN IMMEDIATE; COMMIT');
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new JournalError(file, 'corrupt', `the integrity check failed (${String(check)})`, RESET_HINT);
      const startSeq = setUp(db, file, options.freshSeq);
      notes.push(...retainSources(db, options.sources));
      return { journal: new SqliteJournal(db, file, options.eventWindow, startSeq), notes };
    } catch (err) {
      db.close();
      throw err instanceof JournalError ? err : classify(file, err);
    }
  }

  lastSeq(): number {
    return this.startSeq;
  }

  restore(): JournalState {
    try {
      const tasks = this.stmt.allTasks.all().map((r): JournalTask => ({ task: parseRow(this.path, 'tasks', r, 'record') as JournalTask['task'], fingerprint: String((r as Row).fingerprint) }));
      const workers = this.stmt.allWorkers.all().map((r) => parseRow(this.path, 'workers', r, 'record') as Worker);
      const jobs = this.stmt.allJobs.all().map((r) => parseRow(this.path, 'jobs', r, 'record') as Job);
      const events = (this.stmt.recentEvents.all(this.window) as Row[]).map((r) => parseRow(this.path, 'events', r, 'event') as ChangeEvent).reverse();
      const counters = (this.stmt.allCounters.all() as Row[]).map((r): CounterValue => ({
        family: String(r.family),
        labels: parseRow(this.path, 'counters', r, 'labels') as Record<string, string>,
        value: Number(r.value),
      }));
      return { tasks, workers, jobs, events, counters };
    } catch (err) {
      throw err instanceof JournalError ? err : classify(this.path, err);
    }
  }

  /**
   * Writes the batch, together with anything an earlier failed write left pending, in one
   * transaction. On failure everything stays pending (records by key, latest wins; events up to
   * the window; counters' latest values) and the error is thrown: the next commit, or close,
   * writes it all, so a failed write is repaired instead of leaving the journal behind.
   */
  commit(batch: JournalBatch): void {
    const w = this.pending ?? emptyWrite();
    merge(w, batch, this.dirtyCounters(), this.window);
    this.flush(w);
  }

  trackCounters(dirty: () => CounterValue[]): void {
    this.dirtyCounters = dirty;
  }

  replaceCounters(values: readonly CounterValue[]): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM counters').run();
      this.writeCounters(values);
    })();
  }

  /** True while changes wait for a write that failed to be retried. */
  get behind(): boolean {
    return this.pending !== undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      const w = this.pending ?? emptyWrite();
      for (const c of this.dirtyCounters()) w.counters.set(counterKey(c), c);
      if (w.counters.size > 0 || w.events.length > 0 || w.records.size > 0) this.flush(w);
    } finally {
      this.db.close();
    }
  }

  private flush(w: PendingWrite): void {
    try {
      this.writeTx(w);
      this.pending = undefined;
    } catch (err) {
      this.pending = w;
      throw err;
    }
  }

  private write(w: PendingWrite): void {
    const s = this.stmt;
    for (const [source, r] of w.records) {
      for (const [id, t] of r.tasks) {
        if (t) s.putTask.run(source, id, t.fingerprint, JSON.stringify(t.task));
        else s.delTask.run(source, id);
      }
      for (const [id, rec] of r.workers) {
        if (rec) s.putWorker.run(source, id, JSON.stringify(rec));
        else s.delWorker.run(source, id);
      }
      for (const [id, rec] of r.jobs) {
        if (rec) s.putJob.run(source, id, JSON.stringify(rec));
        else s.delJob.run(source, id);
      }
    }
    let last = 0;
    for (const e of w.events) {
      s.putEvent.run(e.seq, JSON.stringify(e));
      last = e.seq;
    }
    if (last > 0) {
      s.setMeta.run('last_seq', String(last));
      s.trimEvents.run(last - this.window);
    }
    this.writeCounters([...w.counters.values()]);
  }

  private writeCounters(values: readonly CounterValue[]): void {
    for (const c of values) this.stmt.putCounter.run(c.family, c.labels.source ?? '', JSON.stringify(sortedLabels(c.labels)), c.value);
  }

  private prepare() {
    const db = this.db;
    return {
      allTasks: db.prepare('SELECT fingerprint, record FROM tasks'),
      allWorkers: db.prepare('SELECT record FROM workers'),
      allJobs: db.prepare('SELECT record FROM jobs'),
      recentEvents: db.prepare('SELECT event FROM events ORDER BY seq DESC LIMIT ?'),
      allCounters: db.prepare('SELECT family, labels, value FROM counters'),
      putTask: db.prepare('INSERT OR REPLACE INTO tasks (source, id, fingerprint, record) VALUES (?, ?, ?, ?)'),
      delTask: db.prepare('DELETE FROM tasks WHERE source = ? AND id = ?'),
      putWorker: db.prepare('INSERT OR REPLACE INTO workers (source, id, record) VALUES (?, ?, ?)'),
      delWorker: db.prepare('DELETE FROM workers WHERE source = ? AND id = ?'),
      putJob: db.prepare('INSERT OR REPLACE INTO jobs (source, id, record) VALUES (?, ?, ?)'),
      delJob: db.prepare('DELETE FROM jobs WHERE source = ? AND id = ?'),
      putEvent: db.prepare('INSERT OR REPLACE INTO events (seq, event) VALUES (?, ?)'),
      trimEvents: db.prepare('DELETE FROM events WHERE seq <= ?'),
      setMeta: db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
      putCounter: db.prepare('INSERT OR REPLACE INTO counters (family, source, labels, value) VALUES (?, ?, ?, ?)'),
    };
  }
}

/** Changes to write: per source, records by id (null = removed); events in order; counters by series. */
interface PendingWrite {
  records: Map<string, { tasks: Map<string, JournalTask | null>; workers: Map<string, Worker | null>; jobs: Map<string, Job | null> }>;
  events: ChangeEvent[];
  counters: Map<string, CounterValue>;
}

function emptyWrite(): PendingWrite {
  return { records: new Map(), events: [], counters: new Map() };
}

function merge(w: PendingWrite, batch: JournalBatch, counters: readonly CounterValue[], window: number): void {
  let r = w.records.get(batch.source);
  if (!r) w.records.set(batch.source, (r = { tasks: new Map(), workers: new Map(), jobs: new Map() }));
  for (const t of batch.tasks.put) r.tasks.set(t.task.id, t);
  for (const id of batch.tasks.removed) r.tasks.set(id, null);
  for (const x of batch.workers.put) r.workers.set(x.id, x);
  for (const id of batch.workers.removed) r.workers.set(id, null);
  for (const x of batch.jobs.put) r.jobs.set(x.id, x);
  for (const id of batch.jobs.removed) r.jobs.set(id, null);
  w.events.push(...batch.events);
  if (w.events.length > window) w.events.splice(0, w.events.length - window);
  for (const c of counters) w.counters.set(counterKey(c), c);
}

function counterKey(c: CounterValue): string {
  return `${c.family}${JSON.stringify(sortedLabels(c.labels))}`;
}

const SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE sources (name TEXT PRIMARY KEY, kind TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE tasks (source TEXT NOT NULL, id TEXT NOT NULL, fingerprint TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (source, id)) WITHOUT ROWID;
CREATE TABLE workers (source TEXT NOT NULL, id TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (source, id)) WITHOUT ROWID;
CREATE TABLE jobs (source TEXT NOT NULL, id TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (source, id)) WITHOUT ROWID;
CREATE TABLE events (seq INTEGER PRIMARY KEY, event TEXT NOT NULL);
CREATE TABLE counters (family TEXT NOT NULL, source TEXT NOT NULL, labels TEXT NOT NULL, value REAL NOT NULL, PRIMARY KEY (family, labels)) WITHOUT ROWID;
CREATE INDEX counters_by_source ON counters (source);
`;

/** Creates the schema in an empty file, or checks an existing one; returns the last sequence number. */
function setUp(db: Db, file: string, freshSeq: number): number {
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Row[]).map((r) => String(r.name));
  if (tables.length === 0) {
    db.transaction(() => {
      db.exec(SCHEMA);
      const meta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
      meta.run('schema_version', String(JOURNAL_SCHEMA_VERSION));
      meta.run('last_seq', String(freshSeq));
    })();
    return freshSeq;
  }
  let metaHasVersion = false;
  try {
    metaHasVersion = tables.includes('meta') && db.prepare("SELECT 1 FROM meta WHERE key = 'schema_version'").get() !== undefined;
  } catch {
    // A `meta` table of another shape: someone else's database.
  }
  if (!tables.includes('meta') || (!metaHasVersion && !tables.includes('events'))) {
    throw new JournalError(file, 'foreign', `it is an SQLite database but not a buildscope journal (tables: ${tables.slice(0, 5).join(', ')})`, 'Point --journal.path at a file of its own.');
  }
  const meta = new Map((db.prepare('SELECT key, value FROM meta').all() as Row[]).map((r) => [String(r.key), String(r.value)]));
  const version = Number(meta.get('schema_version'));
  if (!Number.isInteger(version) || version < 1) throw new JournalError(file, 'corrupt', `its schema_version is "${meta.get('schema_version') ?? ''}"`, RESET_HINT);
  if (version > JOURNAL_SCHEMA_VERSION) {
    throw new JournalError(file, 'newer', `it was written by a newer buildscope (journal schema ${version}, this one reads ${JOURNAL_SCHEMA_VERSION})`, 'Run that version, or start afresh with --reset-journal.');
  }
  const last = Number(meta.get('last_seq'));
  if (!Number.isSafeInteger(last) || last < 0) throw new JournalError(file, 'corrupt', `its last_seq is "${meta.get('last_seq') ?? ''}"`, RESET_HINT);
  return last;
}

/** Drops the records of sources no longer configured (or whose kind changed) and records the current ones. */
function retainSources(db: Db, sources: ReadonlyMap<string, string>): string[] {
  const notes: string[] = [];
  db.transaction(() => {
    const held = db.prepare('SELECT name, kind FROM sources').all() as Row[];
    for (const r of held) {
      const name = String(r.name);
      const kind = String(r.kind);
      if (sources.get(name) === kind) continue;
      for (const table of ['tasks', 'workers', 'jobs']) db.prepare(`DELETE FROM ${table} WHERE source = ?`).run(name);
      db.prepare('DELETE FROM counters WHERE source = ?').run(name);
      db.prepare('DELETE FROM sources WHERE name = ?').run(name);
      notes.push(sources.has(name) ? `source ${name} changed kind (${kind} -> ${sources.get(name)}): its journal records were dropped` : `source ${name} (${kind}) is no longer configured: its journal records were dropped`);
    }
    const put = db.prepare('INSERT OR REPLACE INTO sources (name, kind) VALUES (?, ?)');
    for (const [name, kind] of sources) put.run(name, kind);
  })();
  return notes;
}

/** Throws a `locked` JournalError when another process holds the file (any other problem is for the caller). */
function refuseIfHeld(file: string, timeoutMs: number): void {
  let db: Db | undefined;
  try {
    db = new Database(file, { timeout: timeoutMs });
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN IMMEDIATE; COMMIT');
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
      throw new JournalError(file, 'locked', '--reset-journal: another process holds it (another exporter with the same --journal.path?)', 'Stop that process first; the file was not moved.');
    }
  } finally {
    db?.close();
  }
}

/** Renames the file (and its WAL, which belongs with it) to `<file>.moved-<time>`; returns a note. */
function moveAside(file: string, now: number): string {
  const stamp = new Date(now).toISOString().replace(/[:.]/g, '-');
  const target = `${file}.moved-${stamp}`;
  try {
    renameSync(file, target);
    for (const suffix of ['-wal', '-shm']) if (existsSync(file + suffix)) renameSync(file + suffix, target + suffix);
  } catch (err) {
    throw new JournalError(file, 'unwritable', `--reset-journal cannot move it aside (${errText(err)})`, 'Check the permissions of the file and its directory, or move it yourself.');
  }
  return `--reset-journal: the previous journal was moved to ${target}`;
}

function parseRow(file: string, table: string, row: unknown, column: string): unknown {
  const text = (row as Row)[column];
  try {
    if (typeof text !== 'string') throw new Error(`not text`);
    return JSON.parse(text) as unknown;
  } catch {
    throw new JournalError(file, 'corrupt', `a row of its ${table} table does not hold JSON`, RESET_HINT);
  }
}

function sortedLabels(labels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(labels).sort()) out[k] = labels[k] as string;
  return out;
}

/** An SQLite or file-system error, as a JournalError saying what it means. */
function classify(file: string, err: unknown): JournalError {
  const code = (err as { code?: string }).code ?? '';
  const text = errText(err);
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return new JournalError(file, 'locked', 'another process holds it (another exporter with the same --journal.path?)', 'Stop that process, or give this exporter its own --journal.path.');
  }
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || code.startsWith('SQLITE_CORRUPT')) {
    return new JournalError(file, 'corrupt', `it is not a readable SQLite database (${text})`, RESET_HINT);
  }
  if (code === 'SQLITE_CANTOPEN' || code === 'SQLITE_PERM' || code === 'SQLITE_READONLY' || code.startsWith('SQLITE_READONLY') || code === 'EACCES') {
    return new JournalError(file, 'unwritable', `cannot open it for writing (${text})`, 'Check the permissions of the file and its directory, or choose another --journal.path.');
  }
  if (code.startsWith('SQLITE_IOERR') || code === 'SQLITE_FULL') {
    return new JournalError(file, 'unwritable', `an I/O error (${text})`, 'Check the disk (space, errors) and try again; the file was not changed by buildscope.');
  }
  return new JournalError(file, 'unreadable', text, RESET_HINT);
}

function errText(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return e.code ? `${e.code}: ${e.message ?? ''}` : String(e.message ?? err);
}
