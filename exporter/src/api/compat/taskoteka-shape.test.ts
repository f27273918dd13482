import { describe, expect, it } from 'vitest';
import type { Task } from '../../model/task.js';
import { girarTask } from '../../test-support/tasks.js';
import { detail, listItem } from './taskoteka-shape.js';
import { FIXTURE_NOW, FIXTURE_ZONE, README_ITEMS, fixtureTasks } from './test-helpers.js';

const backend = { timeZone: FIXTURE_ZONE };
const WEEK = 7 * 24 * 3600 * 1000;
const byId = (id: string): Task => {
  const t = fixtureTasks().find((x) => x.id === id);
  if (!t) throw new Error(`no fixture task ${id}`);
  return t;
};

describe('listItem', () => {
  it('serves the README items exactly, key order included, from the info.json detail', () => {
    for (const id of ['411555', '411543', '411469']) {
      expect(JSON.stringify(listItem(byId(id), backend, FIXTURE_NOW))).toBe(JSON.stringify(README_ITEMS[id]));
    }
  });

  it('writes created in the source zone without a zone, from the model (UTC)', () => {
    const t = byId('411555');
    expect(t.created).toBe('2026-03-16T09:22:27Z');
    expect(listItem(t, backend, FIXTURE_NOW).created).toBe('2026-03-16T12:22:27');
    expect(listItem(t, { timeZone: 'UTC' }, FIXTURE_NOW).created).toBe('2026-03-16T09:22:27');
  });

  it('recomputes age in whole weeks since the state change, at serialization time', () => {
    const t = byId('411300');
    expect((t.native as { age: number }).age).toBe(0);
    expect(listItem(t, backend, FIXTURE_NOW).age).toBe(3);
    expect(listItem(t, backend, Date.parse(t.stateSince ?? '') + 5 * WEEK - 1).age).toBe(4);
    expect(listItem(t, backend, Date.parse(t.stateSince ?? '') - 1000).age).toBe(0);
  });

  it('shows a deleted subtask as {userid} and leaves out absent optional keys', () => {
    const item = listItem(byId('411590'), backend, FIXTURE_NOW);
    expect(Object.keys(item)).toEqual(['id', 'state', 'repo', 'owner', 'created', 'age', 'test_only', 'fail_early', 'subtasks']);
    expect(item.subtasks).toEqual({ 100: { dir: '/gears/q/qux.git', tag_name: '1.0-alt1', type: 'repo', userid: 'vt', pkgname: 'qux' }, 200: { userid: 'vt' } });
    expect(JSON.stringify(item)).not.toMatch(/null|undefined/);
  });

  it('keeps the list subtask keys in taskoteka order and drops detail-only keys', () => {
    const t = girarTask({
      id: '5',
      state: 'NEW',
      native: {
        taskid: 5,
        subtasks: {
          100: { copy_repo: 'p10', type: 'copy', package: 'foo', approved_by: ['alice'], pkgname: 'foo', userid: 'bob', build: { x86_64: 'built' } },
          200: { srpm: 'foo-1.0-alt1.src.rpm', rebuild_from: 'p10', type: 'srpm', disapproved_by: ['eve'], userid: 'bob', version: '1.0' },
        },
      },
    });
    const subs = listItem(t, backend, FIXTURE_NOW).subtasks as Record<string, Record<string, unknown>>;
    expect(Object.keys(subs['100'] ?? {})).toEqual(['package', 'copy_repo', 'type', 'userid', 'pkgname', 'approved_by']);
    expect(Object.keys(subs['200'] ?? {})).toEqual(['srpm', 'rebuild_from', 'type', 'userid', 'disapproved_by']);
  });

  it('falls back to the model when native lacks something', () => {
    const t = girarTask({
      id: '7',
      state: 'AWAITING',
      owner: 'rider',
      repo: 'p11',
      message: 'from the model',
      stateSince: '2026-03-16T10:00:00Z',
      attrs: { test_only: true, fail_early: true, try: 3, iter: 2 },
      subtasks: [
        { id: '100', type: 'repo', owner: 'rider', archs: [], fields: { dir: '/gears/a/a.git', pkgname: 'a', tag_name: '1-alt1' }, approvedBy: ['x'] },
        { id: '200', type: 'deleted', owner: 'rider', archs: [] },
      ],
    });
    expect(listItem(t, { timeZone: 'UTC' }, FIXTURE_NOW)).toEqual({
      id: 7,
      state: 'AWAITING',
      repo: 'p11',
      owner: 'rider',
      created: '2026-03-16T10:00:00',
      age: 0,
      test_only: true,
      fail_early: true,
      try: 3,
      iter: 2,
      message: 'from the model',
      subtasks: { 100: { dir: '/gears/a/a.git', tag_name: '1-alt1', type: 'repo', userid: 'rider', pkgname: 'a', approved_by: ['x'] }, 200: { userid: 'rider' } },
    });
  });

  it('keeps the list item text of created while the model has none', () => {
    const t = girarTask({ id: '8', state: 'NEW', native: { id: 8, created: '2026-01-02T03:04:05', age: 1 } });
    expect(listItem(t, backend, FIXTURE_NOW)).toMatchObject({ created: '2026-01-02T03:04:05', age: 1 });
  });
});

describe('detail', () => {
  it('is the native info.json with age recomputed and every other key in its order', () => {
    const t = byId('411300');
    const native = t.native as Record<string, unknown>;
    const out = detail(t, backend, FIXTURE_NOW);
    expect(Object.keys(out)).toEqual(Object.keys(native));
    expect(out).toEqual({ ...native, age: 3 });
    expect(native.age).toBe(0);
  });

  it('builds an info.json-ordered detail for a task known only from its list item', () => {
    // In the store: stateSince is when the store first saw the state (a list item has no time of its own).
    const out = detail({ ...byId('411610'), stateSince: '2026-03-16T17:00:00Z' }, backend, FIXTURE_NOW);
    expect(Object.keys(out)).toEqual(['updated', 'taskid', 'shared', 'fail_early', 'test_only', 'repo', 'state', 'try', 'iter', 'age', 'build_time', 'message', 'owner', 'subtasks']);
    expect(out).toMatchObject({ updated: Date.parse('2026-03-16T17:00:00Z') / 1000, taskid: 411610, shared: false, state: 'AWAITING', build_time: '2026-03-16T19:00:00', owner: 'vt', age: 0 });
  });
});
