import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { girarTask } from '../api/test-helpers.js';
import type { ChangeEvent } from '../model/events.js';
import type { Worker } from '../model/worker.js';
import type { JournalBatch } from './journal.js';
import { JournalError, SqliteJournal, type SqliteJournalOptions } from './sqlite-journal.js';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'buildscope-journal-test-'));
  file = join(dir, 'j', 'buildscope.db');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const SOURCES = new Map([['alt', 'girar']]);
const open = (more: Partial<SqliteJournalOptions> = {}) => SqliteJournal.open({ path: file, eventWindow: 100, sources: SOURCES, freshSeq: 1000, lockTimeoutMs: 50, ...more });

function event(seq: number, id: string, state: string): ChangeEvent {
  return { seq, at: '2026-11-24T10:00:00Z', type: 'task_updated', source: 'alt', kind: 'girar', id, state };
}

function batch(events: ChangeEvent[], more: Partial<JournalBatch> = {}): JournalBatch {
  return { source: 'alt', kind: 'girar', events, tasks: { put: [], removed: [] }, workers: { put: [], removed: [] }, jobs: { put: [], removed: [] }, ...more };
}

const worker: Worker = { source: 'alt', kind: 'girar', id: 'w1', name: 'w1', up: true, busy: false, archs: ['x86_64'] };

function expectJournalError(fn: () => unknown, problem: JournalError['problem'], ...texts: string[]): JournalError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(JournalError);
  const err = caught as JournalError;
  expect(err.problem).toBe(problem);
  expect(err.message).toContain(file);
  for (const t of texts) expect(err.message).toContain(t);
  return err;
}

describe('SqliteJournal', () => {
  it('starts a fresh file (creating its directory) at the given sequence number, empty', () => {
    const { journal, notes } = open();
    expect(notes).toEqual([]);
    expect(journal.lastSeq()).toBe(1000);
    expect(journal.restore()).toEqual({ tasks: [], workers: [], jobs: [], events: [], counters: [] });
    journal.close();
    expect(existsSync(file)).toBe(true);
  });

  it('keeps records, events, the sequence and counters across a reopen', () => {
    const { journal } = open();
    let counters = [{ family: 'buildfarm_task_transitions_total', labels: { source: 'alt', kind: 'girar', from_state: 'NEW', to_state: 'BUILDING' }, value: 3 }];
    journal.trackCounters(() => {
      const out = counters;
      counters = [];
      return out;
    });
    const t1 = girarTask('1', 'BUILDING', 'sisyphus', 'ann');
    const t2 = girarTask('2', 'DONE', 'p11', 'bob');
    journal.commit(batch([event(1001, '1', 'BUILDING'), event(1002, '2', 'DONE')], { tasks: { put: [{ task: t1, fingerprint: 'f1' }, { task: t2, fingerprint: 'f2' }], removed: [] }, workers: { put: [worker], removed: [] } }));
    journal.commit(batch([event(1003, '2', 'DONE')], { tasks: { put: [], removed: ['2'] } }));
    counters = [{ family: 'buildfarm_task_transitions_total', labels: { to_state: 'BUILDING', source: 'alt', kind: 'girar', from_state: 'NEW' }, value: 5 }];
    journal.close();

    const again = open().journal;
    expect(again.lastSeq()).toBe(1003);
    const state = again.restore();
    expect(state.tasks).toEqual([{ task: t1, fingerprint: 'f1' }]);
    expect(state.workers).toEqual([worker]);
    expect(state.events.map((e) => e.seq)).toEqual([1001, 1002, 1003]);
    // Written at close (the last value), one row per series whatever the label order.
    expect(state.counters).toEqual([{ family: 'buildfarm_task_transitions_total', labels: { from_state: 'NEW', kind: 'girar', source: 'alt', to_state: 'BUILDING' }, value: 5 }]);
    again.close();
  });

  it('keeps only the newest events of its window', () => {
    const { journal } = open({ eventWindow: 10 });
    for (let seq = 1001; seq <= 1050; seq++) journal.commit(batch([event(seq, String(seq), 'NEW')]));
    journal.close();
    const state = open({ eventWindow: 10 }).journal.restore();
    expect(state.events.map((e) => e.seq)).toEqual([1041, 1042, 1043, 1044, 1045, 1046, 1047, 1048, 1049, 1050]);
  });

  it('drops the records of sources no longer configured or whose kind changed, and says so', () => {
    const { journal } = open({ sources: new Map([['alt', 'girar'], ['old', 'girar'], ['k', 'koji']]) });
    journal.commit(batch([event(1001, '1', 'NEW')], { tasks: { put: [{ task: girarTask('1', 'NEW', 'p11', 'a'), fingerprint: 'x' }], removed: [] } }));
    journal.commit({ ...batch([event(1002, '9', 'NEW')], { tasks: { put: [{ task: { ...girarTask('9', 'NEW', 'p11', 'a'), source: 'old' }, fingerprint: 'y' }], removed: [] } }), source: 'old' });
    journal.close();
    const { journal: again, notes } = open({ sources: new Map([['alt', 'girar'], ['k', 'cuirass']]) });
    expect(notes.sort()).toEqual([
      'source k changed kind (koji -> cuirass): its journal records were dropped',
      'source old (girar) is no longer configured: its journal records were dropped',
    ]);
    expect(again.restore().tasks.map((t) => `${t.task.source}/${t.task.id}`)).toEqual(['alt/1']);
    again.close();
  });

  it('refuses a file that is not a database, naming it and --reset-journal, and leaves it untouched', () => {
    const garbage = Buffer.from('this is not a database, just some text that a user put here\n'.repeat(100));
    open().journal.close();
    writeFileSync(file, garbage);
    expectJournalError(() => open(), 'corrupt', '--reset-journal', 'moved aside');
    expect(readFileSync(file).equals(garbage)).toBe(true);
  });

  it('refuses a journal whose pages are damaged', () => {
    const { journal } = open();
    for (let seq = 1001; seq <= 1200; seq++) journal.commit(batch([event(seq, String(seq), 'NEW')], { tasks: { put: [{ task: girarTask(String(seq), 'NEW', 'p11', 'a'.repeat(200)), fingerprint: 'f' }], removed: [] } }));
    journal.close();
    const bytes = readFileSync(file);
    // Scribble over the middle of the file (the b-tree pages), keeping the header valid.
    bytes.fill(0xa5, 8192, Math.min(bytes.length, 8192 * 4));
    writeFileSync(file, bytes);
    expectJournalError(() => {
      const j = open().journal;
      try {
        j.restore();
      } finally {
        j.close();
      }
    }, 'corrupt', '--reset-journal');
  });

  it('refuses an SQLite file of something else, and a journal from a newer version', () => {
    rmSync(join(dir, 'j'), { recursive: true, force: true });
    open().journal.close();
    const other = join(dir, 'other.db');
    const db = new Database(other);
    db.exec('CREATE TABLE photos (id INTEGER PRIMARY KEY)');
    db.close();
    const foreign = SqliteJournal.open.bind(null, { path: other, eventWindow: 10, sources: SOURCES, freshSeq: 1 });
    let err: unknown;
    try {
      foreign();
    } catch (e) {
      err = e;
    }
    expect((err as JournalError).problem).toBe('foreign');
    expect((err as Error).message).toContain('not a buildscope journal (tables: photos)');
    const withMeta = join(dir, 'meta.db');
    const db3 = new Database(withMeta);
    db3.exec('CREATE TABLE meta (name TEXT, size INTEGER)');
    db3.close();
    let err3: unknown;
    try {
      SqliteJournal.open({ path: withMeta, eventWindow: 10, sources: SOURCES, freshSeq: 1 });
    } catch (e) {
      err3 = e;
    }
    expect((err3 as JournalError).problem).toBe('foreign');

    const db2 = new Database(file);
    db2.prepare("UPDATE meta SET value = '99' WHERE key = 'schema_version'").run();
    db2.close();
    expectJournalError(() => open(), 'newer', 'newer buildscope (journal schema 99');
  });

  it('refuses a journal another process holds, also with --reset-journal (which then moves nothing)', () => {
    const { journal } = open();
    try {
      expectJournalError(() => open(), 'locked', 'another process holds it');
      expectJournalError(() => open({ reset: true }), 'locked', 'the file was not moved');
      expect(readdirSync(join(dir, 'j')).filter((f) => f.includes('moved'))).toEqual([]);
    } finally {
      journal.close();
    }
    open().journal.close();
  });

  it('says so when its directory cannot be created', () => {
    writeFileSync(join(dir, 'j'), 'a file where the directory should be');
    expectJournalError(() => open(), 'unwritable', 'cannot create its directory');
  });

  it('--reset-journal moves the old file (and its WAL) aside, never deletes it, and starts afresh', () => {
    const { journal } = open();
    journal.commit(batch([event(1001, '1', 'NEW')]));
    journal.close();
    writeFileSync(file, 'now corrupt');
    const { journal: fresh, notes } = open({ reset: true, freshSeq: 5000, now: () => Date.parse('2026-11-24T12:00:00Z') });
    expect(notes).toEqual([`--reset-journal: the previous journal was moved to ${file}.moved-2026-11-24T12-00-00-000Z`]);
    expect(fresh.lastSeq()).toBe(5000);
    expect(fresh.restore().events).toEqual([]);
    fresh.close();
    expect(readFileSync(`${file}.moved-2026-11-24T12-00-00-000Z`, 'utf8')).toBe('now corrupt');
    expect(readdirSync(join(dir, 'j')).filter((f) => f.includes('moved'))).toEqual(['buildscope.db.moved-2026-11-24T12-00-00-000Z']);
  });

  describe('a failed write', () => {
    /** Makes the journal's transaction throw (as SQLite does on a full disk) while `failing` is set. */
    function injectFailures(journal: SqliteJournal): { failing: boolean } {
      const state = { failing: true };
      const target = journal as unknown as { write: (w: unknown) => void };
      const original = target.write.bind(journal);
      target.write = (w) => {
        if (state.failing) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
        original(w);
      };
      return state;
    }

    const counter = (value: number) => ({ family: 'buildfarm_tasks_finished_total', labels: { source: 'alt', kind: 'girar', repo: 'p11', phase: 'success' }, value });

    it('is repaired by the next successful commit: records, events, sequence and counters all written', () => {
      const { journal } = open();
      let dirty = [counter(1)];
      journal.trackCounters(() => {
        const out = dirty;
        dirty = [];
        return out;
      });
      const faults = injectFailures(journal);
      expect(() => journal.commit(batch([event(1001, '1', 'BUILDING')], { tasks: { put: [{ task: girarTask('1', 'BUILDING', 'p11', 'a'), fingerprint: 'a' }], removed: [] } }))).toThrow(/disk is full/);
      expect(journal.behind).toBe(true);
      faults.failing = false;
      dirty = [counter(2)];
      journal.commit(batch([event(1002, '2', 'NEW')], { tasks: { put: [{ task: girarTask('2', 'NEW', 'p11', 'b'), fingerprint: 'b' }], removed: [] } }));
      expect(journal.behind).toBe(false);
      journal.close();
      const again = open().journal;
      expect(again.lastSeq()).toBe(1002);
      const state = again.restore();
      expect(state.tasks.map((t) => `${t.task.id} ${t.task.state}`).sort()).toEqual(['1 BUILDING', '2 NEW']);
      expect(state.events.map((e) => e.seq)).toEqual([1001, 1002]);
      expect(state.counters.map((c) => c.value)).toEqual([2]);
      again.close();
    });

    it('keeps only the latest of a record changed again while failing, and is written at close', () => {
      const { journal } = open();
      const faults = injectFailures(journal);
      for (const [seq, state] of [[1001, 'BUILDING'], [1002, 'DONE']] as const) {
        expect(() => journal.commit(batch([event(seq, '1', state)], { tasks: { put: [{ task: girarTask('1', state, 'p11', 'a'), fingerprint: state }], removed: [] } }))).toThrow();
      }
      expect(() => journal.commit(batch([event(1003, '9', 'NEW')], { tasks: { put: [], removed: ['9'] } }))).toThrow();
      faults.failing = false;
      journal.close();
      const state = open().journal.restore();
      expect(state.tasks.map((t) => `${t.task.id} ${t.task.state} ${t.fingerprint}`)).toEqual(['1 DONE DONE']);
      expect(state.events.map((e) => e.seq)).toEqual([1001, 1002, 1003]);
    });
  });
});
