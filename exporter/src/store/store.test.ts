import { describe, expect, it } from 'vitest';
import { girarTask } from '../test-support/tasks.js';
import type { Journal, JournalBatch } from './journal.js';
import { Store, type TaskChange } from './store.js';

const GIRAR_DEFAULTS = new Map([
  ['girar', { active: ['AWAITING', 'BUILDING', 'COMMITTING', 'FAILING', 'PENDING', 'POSTPONED'], hiddenWhenPersonal: ['DONE'] }],
]);
const T0 = Date.parse('2026-03-16T12:00:00Z');

describe('Store.apply', () => {
  it('emits task_new, task_updated with prev_state, and task_removed with increasing seq', () => {
    const store = new Store();
    const first = store.apply('alt', 'girar', { type: 'snapshot', tasks: [girarTask({ id: '1', state: 'NEW' }), girarTask({ id: '2', state: 'AWAITING' })] }, T0);
    expect(first.map((e) => [e.seq, e.type, e.id, e.state])).toEqual([
      [1, 'task_new', '1', 'NEW'],
      [2, 'task_new', '2', 'AWAITING'],
    ]);
    const second = store.apply('alt', 'girar', { type: 'snapshot', tasks: [girarTask({ id: '1', state: 'AWAITING' })] }, T0 + 60_000);
    expect(second.map((e) => ({ seq: e.seq, type: e.type, id: e.id, state: e.state, prev_state: e.prev_state }))).toEqual([
      { seq: 3, type: 'task_updated', id: '1', state: 'AWAITING', prev_state: 'NEW' },
      { seq: 4, type: 'task_removed', id: '2', state: undefined, prev_state: 'AWAITING' },
    ]);
    expect(store.taskCount).toBe(1);
    expect(store.events.lastSeq).toBe(4);
  });

  it('emits nothing when a snapshot repeats the same data', () => {
    const store = new Store();
    const tasks = [girarTask({ id: '1', state: 'BUILDING' })];
    store.apply('alt', 'girar', { type: 'snapshot', tasks }, T0);
    expect(store.apply('alt', 'girar', { type: 'snapshot', tasks: structuredClone(tasks) }, T0 + 1000)).toEqual([]);
  });

  it('a delta changes only the listed tasks and removes only the listed ids', () => {
    const store = new Store();
    store.apply('alt', 'girar', { type: 'snapshot', tasks: [girarTask({ id: '1', state: 'NEW' }), girarTask({ id: '2', state: 'NEW' })] }, T0);
    const events = store.apply('alt', 'girar', { type: 'delta', tasks: [girarTask({ id: '2', state: 'AWAITING' })], removedTaskIds: ['1', '99'] }, T0 + 1);
    expect(events.map((e) => `${e.type}:${e.id}`)).toEqual(['task_updated:2', 'task_removed:1']);
    expect(store.getTask('alt', '2')?.state).toBe('AWAITING');
  });

  it('keeps sources apart: one source snapshot never removes another source tasks', () => {
    const store = new Store();
    store.apply('alt', 'girar', { type: 'snapshot', tasks: [girarTask({ id: '1', state: 'NEW' })] }, T0);
    store.apply('other', 'girar', { type: 'snapshot', tasks: [girarTask({ id: '1', state: 'DONE' }, 'other')] }, T0);
    store.apply('alt', 'girar', { type: 'snapshot', tasks: [] }, T0 + 1);
    expect(store.getTask('other', '1')?.state).toBe('DONE');
    expect(store.getTask('alt', '1')).toBeUndefined();
  });

  it('refuses a whole result with a record of another source, changing nothing', () => {
    const store = new Store();
    const w = { source: 'other', kind: 'apb', id: 's1', name: 's1', up: true, archs: [] };
    expect(() => store.apply('apb', 'apb', { type: 'snapshot', tasks: [girarTask({ id: '1', state: 'NEW', kind: 'apb' }, 'apb')], workers: [w] })).toThrow(/returned a worker labelled other\/apb/);
    expect(store.taskCount).toBe(0);
    expect(store.events.lastSeq).toBe(0);
  });

  it('drops the workers of a source whose snapshot has none', () => {
    const store = new Store();
    const w = { source: 'apb', kind: 'apb', id: 's1', name: 's1', up: true, archs: [] };
    store.apply('apb', 'apb', { type: 'snapshot', tasks: [], workers: [w] });
    expect(store.apply('apb', 'apb', { type: 'snapshot', tasks: [] }).map((e) => e.type)).toEqual(['worker_removed']);
  });

  it('rejects tasks labelled with another source', () => {
    const store = new Store();
    expect(() => store.apply('alt', 'girar', { type: 'snapshot', tasks: [girarTask({ id: '1', state: 'NEW' }, 'nope')] })).toThrow(/adapters must set source/);
  });

  it('derives stateSince, started and finished from observed transitions', () => {
    const store = new Store();
    const changes: TaskChange[] = [];
    store.subscribe({ task: (c) => changes.push(c) });
    const at = (m: number) => T0 + m * 60_000;
    store.apply('alt', 'girar', { type: 'snapshot', tasks: [girarTask({ id: '7', state: 'AWAITING' })] }, at(0));
    store.apply('alt', 'girar', { type: 'snapshot', tasks: [girarTask({ id: '7', state: 'BUILDING' })] }, at(5));
    store.apply('alt', 'girar', { type: 'snapshot', tasks: [girarTask({ id: '7', state: 'FAILING' })] }, at(9));
    store.apply('alt', 'girar', { type: 'snapshot', tasks: [girarTask({ id: '7', state: 'FAILED' })] }, at(12));
    const t = store.getTask('alt', '7');
    expect(t).toMatchObject({ stateSince: '2026-03-16T12:12:00Z', started: '2026-03-16T12:05:00Z', finished: '2026-03-16T12:12:00Z' });
    expect(changes.map((c) => [c.prev?.state, c.next?.state])).toEqual([
      [undefined, 'AWAITING'],
      ['AWAITING', 'BUILDING'],
      ['BUILDING', 'FAILING'],
      ['FAILING', 'FAILED'],
    ]);
    // Re-run: finished is cleared, a new start is recorded.
    store.apply('alt', 'girar', { type: 'snapshot', tasks: [girarTask({ id: '7', state: 'AWAITING' })] }, at(20));
    store.apply('alt', 'girar', { type: 'snapshot', tasks: [girarTask({ id: '7', state: 'BUILDING' })] }, at(21));
    expect(store.getTask('alt', '7')).toMatchObject({ started: '2026-03-16T12:21:00Z', stateSince: '2026-03-16T12:21:00Z' });
    expect(store.getTask('alt', '7')?.finished).toBeUndefined();
  });

  it('with a lifecycle, keeps the run start across commit queueing and starts a new run after a terminal state', () => {
    const store = new Store({ lifecycles: new Map([['girar', { runStartStates: ['BUILDING'] }]]) });
    const started: boolean[] = [];
    store.subscribe({ task: (c) => started.push(c.runStarted ?? false) });
    const at = (m: number) => T0 + m * 60_000;
    const step = (m: number, state: string) => store.apply('alt', 'girar', { type: 'snapshot', tasks: [girarTask({ id: '9', state })] }, at(m));
    step(0, 'AWAITING');
    step(2, 'BUILDING');
    step(10, 'PENDING');
    step(11, 'COMMITTING');
    step(12, 'DONE');
    expect(store.getTask('alt', '9')).toMatchObject({ started: '2026-03-16T12:02:00Z', finished: '2026-03-16T12:12:00Z' });
    expect(started).toEqual([false, true, false, false, false]);
    // TESTED, then `task run --commit`: a new run that never builds starts when it commits.
    step(20, 'AWAITING');
    step(21, 'BUILDING');
    step(25, 'TESTED');
    step(30, 'PENDING');
    expect(store.getTask('alt', '9')?.started).toBeUndefined();
    step(31, 'COMMITTING');
    step(33, 'DONE');
    expect(store.getTask('alt', '9')).toMatchObject({ started: '2026-03-16T12:31:00Z', finished: '2026-03-16T12:33:00Z' });
    expect(started.slice(5)).toEqual([false, true, false, false, false, false]);
  });

  it('times a run on the upstream clock when the upstream says when states were entered', () => {
    const store = new Store({ lifecycles: new Map([['girar', { runStartStates: ['BUILDING'] }]]) });
    const seen = (m: number) => T0 + m * 60_000;
    store.apply('alt', 'girar', { type: 'snapshot', tasks: [girarTask({ id: '3', state: 'AWAITING', stateSince: '2026-03-16T11:00:00Z' })] }, seen(0));
    store.apply('alt', 'girar', { type: 'snapshot', tasks: [girarTask({ id: '3', state: 'BUILDING', stateSince: '2026-03-16T11:10:00Z' })] }, seen(5));
    store.apply('alt', 'girar', { type: 'snapshot', tasks: [girarTask({ id: '3', state: 'FAILED', stateSince: '2026-03-16T11:40:00Z' })] }, seen(9));
    expect(store.getTask('alt', '3')).toMatchObject({ started: '2026-03-16T11:10:00Z', finished: '2026-03-16T11:40:00Z' });
  });

  it('prefers upstream times over observation times', () => {
    const store = new Store();
    store.apply('alt', 'girar', { type: 'snapshot', tasks: [girarTask({ id: '8', state: 'EPERM', stateSince: '2026-03-01T00:00:00Z' })] }, T0);
    expect(store.getTask('alt', '8')?.stateSince).toBe('2026-03-01T00:00:00Z');
  });

  it('keeps group counts in step with the tasks', () => {
    const store = new Store();
    store.apply('alt', 'girar', { type: 'snapshot', tasks: [girarTask({ id: '1', state: 'NEW' }), girarTask({ id: '2', state: 'NEW', repo: 'p11' }), girarTask({ id: '3', state: 'NEW' })] }, T0);
    store.apply('alt', 'girar', { type: 'delta', tasks: [girarTask({ id: '3', state: 'AWAITING' })] }, T0 + 1);
    const groups = [...store.taskGroups()].map((g) => `${g.repo}/${g.state}=${g.keys.size}`).sort();
    expect(groups).toEqual(['p11/NEW=1', 'sisyphus/AWAITING=1', 'sisyphus/NEW=1']);
  });

  it('tracks workers and jobs per source, with removal on snapshot', () => {
    const store = new Store();
    const w = { source: 'apb', kind: 'apb', id: 's1', name: 's1', up: true, busy: false, archs: ['powerpc64le'] };
    expect(store.apply('apb', 'apb', { type: 'snapshot', tasks: [], workers: [w] }, T0).map((e) => `${e.type}:${e.state}`)).toEqual(['worker_new:idle']);
    expect(store.apply('apb', 'apb', { type: 'snapshot', tasks: [], workers: [{ ...w, up: false }] }, T0).map((e) => `${e.type}:${e.prev_state}->${e.state}`)).toEqual(['worker_updated:idle->down']);
    expect(store.apply('apb', 'apb', { type: 'snapshot', tasks: [], workers: [] }, T0).map((e) => e.type)).toEqual(['worker_removed']);
    expect(store.listWorkers()).toEqual([]);
  });
});

describe('Store.queryTasks', () => {
  const store = new Store({ defaultStates: GIRAR_DEFAULTS, searchResultCap: 3 });
  store.apply(
    'alt',
    'girar',
    {
      type: 'snapshot',
      tasks: [
        girarTask({ id: '411555', state: 'BUILDING', repo: 'p11', owner: 'rider', archs: ['x86_64', 'i586'], message: 'update PDAL' }),
        girarTask({ id: '411543', state: 'EPERM', repo: 'p11', owner: 'zerg', subtasks: [{ id: '300', type: 'repo', archs: [], fields: { dir: '/people/zerg/packages/nvidia_glx_libs_580.142.git', pkgname: 'nvidia_glx_libs_580.142' } }] }),
        girarTask({ id: '411469', state: 'EPERM', repo: 'p11', owner: 'lav', message: 'Debian libcurl compatibility', subtasks: [{ id: '100', type: 'repo', archs: [], fields: { dir: '/gears/l/libcurl4-gnutls.git', pkgname: 'libcurl4-gnutls' } }] }),
        girarTask({ id: '389466', state: 'DONE', repo: 'sisyphus', owner: 'grenka', message: 'Python3.13' }),
        girarTask({ id: '400000', state: 'NEW', repo: 'sisyphus', owner: 'rider' }),
        girarTask({ id: '400001', state: 'AWAITING', repo: 'sisyphus', owner: 'lav', updated: '2026-03-10T00:00:00Z' }),
      ],
    },
    T0,
  );
  const ids = (r: ReturnType<Store['queryTasks']>) => r.items.map((h) => h.task.id);

  it('applies the default states: active ones without owner or q', () => {
    expect(ids(store.queryTasks({}))).toEqual(['411555', '400001']);
  });
  it('with an owner lists everything but DONE', () => {
    expect(ids(store.queryTasks({ owner: ['rider'] }))).toEqual(['411555', '400000']);
    expect(ids(store.queryTasks({ owner: ['grenka'] }))).toEqual([]);
  });
  it('state=ALL lifts the defaults; explicit states filter', () => {
    expect(store.queryTasks({ state: 'ALL' }).total).toBe(6);
    expect(ids(store.queryTasks({ state: ['EPERM', 'DONE'] }))).toEqual(['411543', '411469', '389466']);
    expect(ids(store.queryTasks({ phase: ['blocked'] }))).toEqual(['411543', '411469', '400000']);
  });
  it('combines indexed filters', () => {
    expect(ids(store.queryTasks({ state: ['BUILDING'], repo: ['p11'], arch: ['i586'] }))).toEqual(['411555']);
    expect(ids(store.queryTasks({ state: ['BUILDING'], repo: ['sisyphus'] }))).toEqual([]);
  });
  it('searches with AND terms and reports where each matched (taskoteka example)', () => {
    const r = store.queryTasks({ terms: ['p11', 'eperm', 'lib'] });
    expect(r.items.map((h) => [h.task.id, h.matches])).toEqual([
      ['411543', ['300/dir:lib', '300/pkgname:lib', 'repo:p11', 'state:eperm']],
      ['411469', ['100/dir:lib', '100/pkgname:lib', 'message:lib', 'repo:p11', 'state:eperm']],
    ]);
  });
  it('search hides DONE unless state=ALL', () => {
    expect(store.queryTasks({ terms: ['python'] }).total).toBe(0);
    expect(ids(store.queryTasks({ terms: ['python'], state: 'ALL' }))).toEqual(['389466']);
  });
  it('caps search results and says so', () => {
    const r = store.queryTasks({ terms: ['4'], state: 'ALL', limit: 10 });
    expect(r.total).toBe(6);
    expect(r.truncated).toBe(true);
    expect(r.items).toHaveLength(3);
  });
  it('filters by updated time and paginates', () => {
    expect(ids(store.queryTasks({ state: 'ALL', updatedUntil: Date.parse('2026-03-11T00:00:00Z') }))).toEqual(['400001']);
    expect(ids(store.queryTasks({ state: 'ALL', limit: 2, offset: 1 }))).toEqual(['411543', '411469']);
    expect(ids(store.queryTasks({ state: 'ALL', sort: 'id', order: 'asc', limit: 2 }))).toEqual(['389466', '400000']);
  });
  it('summarizes by a field', () => {
    expect(store.summarize('state', { state: 'ALL' }).rows).toEqual([
      { value: 'EPERM', count: 2 },
      { value: 'AWAITING', count: 1 },
      { value: 'BUILDING', count: 1 },
      { value: 'DONE', count: 1 },
      { value: 'NEW', count: 1 },
    ]);
  });
});

describe('Store change detection', () => {
  it('skips a record handed in again as the same object, and an equal copy, but sees a real change', () => {
    const store = new Store();
    const task = girarTask({ id: '1', state: 'BUILDING', message: 'a' });
    store.apply('alt', 'girar', { type: 'snapshot', tasks: [task] }, T0);
    expect(store.apply('alt', 'girar', { type: 'snapshot', tasks: [task] }, T0 + 1)).toEqual([]);
    expect(store.apply('alt', 'girar', { type: 'snapshot', tasks: [structuredClone(task)] }, T0 + 2)).toEqual([]);
    const changed = store.apply('alt', 'girar', { type: 'snapshot', tasks: [{ ...task, message: 'b' }] }, T0 + 3);
    expect(changed.map((e) => [e.type, e.prev_state, e.state])).toEqual([['task_updated', 'BUILDING', 'BUILDING']]);
    expect(store.getTask('alt', '1')?.message).toBe('b');
  });

  it('keeps the oldest state time per group right as members come, change and go', () => {
    const store = new Store();
    const at = (m: number) => T0 + m * 60_000;
    const oldest = () => Object.fromEntries([...store.taskGroups()].map((g) => [g.state, store.oldestInGroup(g)]));
    store.apply('alt', 'girar', { type: 'snapshot', tasks: [girarTask({ id: '1', state: 'AWAITING' })] }, at(0));
    store.apply('alt', 'girar', { type: 'snapshot', tasks: [girarTask({ id: '1', state: 'AWAITING' }), girarTask({ id: '2', state: 'AWAITING' })] }, at(5));
    expect(oldest()).toEqual({ AWAITING: at(0) });
    store.apply('alt', 'girar', { type: 'snapshot', tasks: [girarTask({ id: '1', state: 'BUILDING' }), girarTask({ id: '2', state: 'AWAITING' })] }, at(7));
    expect(oldest()).toEqual({ AWAITING: at(5), BUILDING: at(7) });
    store.apply('alt', 'girar', { type: 'snapshot', tasks: [girarTask({ id: '1', state: 'BUILDING' })] }, at(8));
    expect(oldest()).toEqual({ BUILDING: at(7) });
  });
});

describe('Store with a journal', () => {
  /** A journal that records, at each commit, how many of the batch's events subscribers had already heard of. */
  function spyJournal(fail = false) {
    const heard: number[] = [];
    const seenAtCommit: number[] = [];
    const batches: JournalBatch[] = [];
    const journal: Journal = {
      lastSeq: () => 100,
      restore: () => ({ tasks: [], workers: [], jobs: [], events: [], counters: [] }),
      commit: (batch) => {
        seenAtCommit.push(batch.events.filter((e) => heard.includes(e.seq)).length);
        batches.push(batch);
        if (fail) throw new Error('disk full');
      },
      trackCounters: () => {},
      replaceCounters: () => {},
      close: () => {},
    };
    return { journal, heard, seenAtCommit, batches };
  }

  it('commits each batch before any subscriber hears of its events, with the records that changed', () => {
    const spy = spyJournal();
    const store = new Store({ journal: spy.journal });
    store.events.subscribe((e) => spy.heard.push(e.seq));
    store.apply('alt', 'girar', { type: 'snapshot', tasks: [girarTask({ id: '1', state: 'NEW' }), girarTask({ id: '2', state: 'BUILDING' })] });
    store.apply('alt', 'girar', { type: 'snapshot', tasks: [girarTask({ id: '1', state: 'DONE' })] });
    expect(spy.seenAtCommit).toEqual([0, 0]);
    expect(spy.heard).toEqual([101, 102, 103, 104]);
    expect(spy.batches.map((b) => ({ put: b.tasks.put.map((t) => `${t.task.id} ${t.task.state}`), removed: b.tasks.removed, events: b.events.map((e) => e.seq) }))).toEqual([
      { put: ['1 NEW', '2 BUILDING'], removed: [], events: [101, 102] },
      { put: ['1 DONE'], removed: ['2'], events: [103, 104] },
    ]);
    // Nothing changed: nothing to commit.
    store.apply('alt', 'girar', { type: 'snapshot', tasks: [girarTask({ id: '1', state: 'DONE' })] });
    expect(spy.batches).toHaveLength(2);
  });

  it('a failed journal write is reported and the change is still applied and published', () => {
    const spy = spyJournal(true);
    const errors: string[] = [];
    const store = new Store({ journal: spy.journal, onJournalError: (err, source) => errors.push(`${source}: ${(err as Error).message}`) });
    store.events.subscribe((e) => spy.heard.push(e.seq));
    store.apply('alt', 'girar', { type: 'snapshot', tasks: [girarTask({ id: '1', state: 'NEW' })] });
    expect(errors).toEqual(['alt: disk full']);
    expect(store.getTask('alt', '1')?.state).toBe('NEW');
    expect(spy.heard).toEqual([101]);
  });

  it('restore holds the records and replays the events without telling anyone', () => {
    const task = { ...girarTask({ id: '7', state: 'BUILDING' }), stateSince: '2026-11-24T10:00:00Z' };
    const journal: Journal = {
      lastSeq: () => 12,
      restore: () => ({ tasks: [], workers: [], jobs: [], events: [], counters: [] }),
      commit: () => {},
      trackCounters: () => {},
      replaceCounters: () => {},
      close: () => {},
    };
    const store = new Store({ journal });
    const told: string[] = [];
    store.subscribe({ task: (c) => told.push(c.event.type) });
    store.events.subscribe((e) => told.push(String(e.seq)));
    const events = [11, 12].map((seq) => ({ seq, at: '2026-11-24T10:00:00Z', type: 'task_updated' as const, source: 'alt', kind: 'girar', id: '7', state: 'BUILDING' }));
    store.restore({ tasks: [{ task, fingerprint: 'f' }], workers: [], jobs: [], events, counters: [] });
    expect(told).toEqual([]);
    expect(store.getTask('alt', '7')?.state).toBe('BUILDING');
    expect(store.queryTasks({ state: ['BUILDING'], limit: 10 }).total).toBe(1);
    expect(store.events.since(10)).toEqual({ type: 'events', events });
    // The same record again from the upstream (same fingerprint) is no change.
    expect(() => store.restore({ tasks: [], workers: [], jobs: [], events: [], counters: [] })).toThrow(/already in use/);
  });
});
