import { renameSync, rmSync, utimesSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HAND_T, handTask, HandTree } from '../../../test-support/girar-tree.js';
import { TaskTree } from './tree.js';

const T = HAND_T;

function task(tree: HandTree, id: number, state: string, extra: (t: HandTree) => void = () => {}): void {
  handTask(tree, id, state, (t) => {
    t.file(`${id}/acl/approved/100/.keep`, '');
    extra(t);
  });
}

describe.each([
  ['worker threads', 2],
  ['the main thread', 0],
])('TaskTree on %s', (_name, threads) => {
  let hand: HandTree;
  let tree: TaskTree;
  let now = T * 1000 + 86_400_000;
  const signal = new AbortController().signal;

  beforeEach(() => {
    hand = new HandTree();
    now = T * 1000 + 86_400_000;
    tree = new TaskTree({ tasksDir: hand.tasks, archiveDir: hand.path('archive/done'), timeZone: 'UTC', maxFileBytes: 65536, threads, fullRereadMs: 600_000, now: () => now });
  });
  afterEach(async () => {
    await tree.close();
    hand.remove();
  });

  it('loads every task dir, then re-reads only what changed', async () => {
    for (let id = 1; id <= 40; id++) task(hand, id, id % 4 === 0 ? 'DONE' : id % 4 === 1 ? 'NEW' : id % 4 === 2 ? 'EPERM' : 'BUILDING');
    hand.file('README', 'not a task').dir('index/sisyphus/done').dir('.archived');
    expect(await tree.refresh(signal)).toEqual({ listed: 40, read: 40, unchanged: 0, removed: 0, problems: 0 });
    expect(tree.size).toBe(40);

    // Nothing changed: running (BUILDING) tasks are re-read, everything else costs stats only.
    const again = await tree.refresh(signal);
    expect(again).toMatchObject({ read: 10, unchanged: 30 });

    hand.file('5/task/state', 'AWAITING\n', T + 999); // a state change
    hand.file('8/acl/approved/100/bob', '2026-Mar-06 10:00:00 :: approved by bob\n'); // 8 is DONE: cold, not looked at
    hand.file('6/acl/approved/100/bob', '2026-Mar-06 10:00:00 :: approved by bob\n'); // 6 is EPERM: its acl dirs are watched
    utimesSync(hand.path('6/acl/approved/100'), T + 5000, T + 5000);
    const third = await tree.refresh(signal);
    expect(third).toMatchObject({ read: 12, unchanged: 28 });
    expect(tree.get(5)?.detail.state).toBe('AWAITING');
    expect(tree.get(6)?.detail.subtasks?.['100']?.approved_by).toEqual(['bob']);
    expect(tree.get(8)?.detail.subtasks?.['100']?.approved_by).toBeUndefined();

    // The periodic full re-read catches what the stats cannot see.
    now += 2 * 600_000;
    expect(await tree.refresh(signal)).toMatchObject({ read: 40, unchanged: 0 });
    expect(tree.get(8)?.detail.subtasks?.['100']?.approved_by).toEqual(['bob']);
  });

  it('keeps the previous version of a task caught mid-write, and counts the problem once', async () => {
    task(hand, 7, 'NEW');
    await tree.refresh(signal);
    hand.file('7/task/state', '', T + 50);
    expect(await tree.refresh(signal)).toMatchObject({ read: 0, problems: 1 });
    expect(tree.get(7)?.detail.state).toBe('NEW');
    await tree.refresh(signal);
    expect(tree.problemReport()).toMatchObject({ current: { mid_write: 1 }, total: { mid_write: 1 } });
    hand.file('7/task/state', 'AWAITING\n', T + 60);
    await tree.refresh(signal);
    expect(tree.get(7)?.detail.state).toBe('AWAITING');
    expect(tree.problemReport()).toMatchObject({ current: {}, total: { mid_write: 1 } });
  });

  it('skips incomplete dirs, files and links named like tasks; removes vanished tasks', async () => {
    task(hand, 10, 'NEW');
    task(hand, 11, 'NEW');
    hand.file('12/task/owner', 'x\n'); // being created: no state yet
    hand.file('13', 'a file');
    hand.link('14', hand.path('10'));
    const stats = await tree.refresh(signal);
    expect(stats).toMatchObject({ listed: 3, read: 2, problems: 1 });
    expect([...tree.tasks()].map((t) => t.id).sort()).toEqual([10, 11]);
    expect(tree.problemReport().current).toEqual({ incomplete: 1, not_a_directory: 2 });

    renameSync(hand.path('11'), hand.path('.archived-11')); // girar moves reaped tasks away
    rmSync(hand.path('13'));
    expect(await tree.refresh(signal)).toMatchObject({ removed: 1 });
    expect(tree.get(11)).toBeUndefined();
    expect(tree.problemReport().current).toEqual({ incomplete: 1, not_a_directory: 1 });
  });

  it('keeps what a load cut short by the poll deadline had read, and carries on from there', async () => {
    // 7 batches of 64: the cut comes after the first lands, with at most one more per thread in flight.
    for (let id = 1; id <= 400; id++) task(hand, id, 'NEW');
    const cut = new AbortController();
    const loading = tree.refresh(cut.signal);
    // Abort as soon as the first batch (64 tasks) has landed.
    const watch = (): void => {
      if (tree.size > 0) cut.abort(new Error('poll deadline'));
      else setImmediate(watch);
    };
    watch();
    await expect(loading).rejects.toThrow('poll deadline');
    const partial = tree.size;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(400);
    expect(await tree.refresh(signal)).toMatchObject({ listed: 400, read: 400 - partial, unchanged: partial });
  });

  it('reads archived tasks on demand, without caching them', async () => {
    hand
      .file('archive/done/_0/1000/task/id', '1000\n')
      .file('archive/done/_0/1000/task/owner', 'old\n')
      .file('archive/done/_0/1000/task/repo', 'p10\n')
      .file('archive/done/_0/1000/task/state', 'DONE\n');
    const t = await tree.readArchived(1000, signal);
    expect(t?.detail).toMatchObject({ taskid: 1000, state: 'DONE', owner: 'old', test_only: false });
    expect(await tree.readArchived(1001, signal)).toBeUndefined();
    expect(tree.size).toBe(0);
  });

  it('fails the refresh with a clear error when the tasks dir cannot be listed', async () => {
    const broken = new TaskTree({ tasksDir: hand.path('nope'), timeZone: 'UTC', maxFileBytes: 1024, threads, fullRereadMs: 600_000, now: () => now });
    await expect(broken.refresh(signal)).rejects.toThrow(/cannot list the tasks directory .*nope \(ENOENT\)/);
    await broken.close();
  });
});
