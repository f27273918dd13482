import { describe, it, expect } from 'vitest';
import { PHASES } from '../../model/task.js';
import { GIRAR_DEFAULT_STATES, GIRAR_PHASES, GIRAR_STATES, archPhase, girarPhase, localToIso, normalizeTask } from './normalize.js';
import { checkTaskDetail, checkTaskList, type TaskDetail, type TaskListItem } from './upstream.js';

const TASK_URL = 'https://git.altlinux.org/tasks/{id}/';

/** taskoteka README, `GET /tasks` example (verbatim). */
const LIST_411555 = JSON.parse(`{
  "id": 411555,
  "state": "BUILDING",
  "repo": "p11",
  "owner": "rider",
  "created": "2026-03-16T12:22:27",
  "build_time": "2026-03-16T17:15:28",
  "age": 0,
  "test_only": false,
  "fail_early": true,
  "try": 2,
  "iter": 1,
  "message": "update PDAL",
  "subtasks": {
    "100": { "dir": "/gears/p/pdal.git", "tag_name": "2.9.3-alt1", "type": "repo", "userid": "rider", "pkgname": "pdal" },
    "200": { "dir": "/gears/g/grass.git", "tag_name": "8.4.2-alt1", "type": "repo", "userid": "rider", "pkgname": "grass" },
    "300": { "dir": "/gears/q/qgis.git", "tag_name": "3.44.7-alt2", "type": "repo", "userid": "rider", "pkgname": "qgis" }
  }
}`) as unknown;

/** taskoteka README, `GET /tasks/389466` example (verbatim). */
const DETAIL_389466 = JSON.parse(`{
  "updated": 1773681066,
  "taskid": 389466,
  "shared": false,
  "fail_early": false,
  "test_only": false,
  "repo": "sisyphus",
  "state": "DONE",
  "try": 85,
  "iter": 1,
  "age": 22,
  "build_time": "2025-10-10T16:12:42",
  "message": "Python3.13",
  "owner": "grenka",
  "subtasks": {
    "1": {
      "dir": "/people/grenka/packages/python3.git",
      "tag_name": "3.13.0-alt1",
      "tag_id": "55ba186a3b712f453c9e3c62ec90b6e3a07e9b51",
      "tag_author": "Grigory Ustinov <grenka@altlinux.org>",
      "type": "repo",
      "pkgname": "python3",
      "userid": "grenka",
      "version": "3.13.0",
      "release": "alt1",
      "build": {
        "aarch64": "swept",
        "i586": "swept",
        "x86_64": "swept"
      }
    }
  }
}`) as unknown;

function asItem(value: unknown): TaskListItem {
  if (!checkTaskList.Check([value])) throw new Error('fixture is not a valid list item');
  return value as TaskListItem;
}

function asDetail(value: unknown): TaskDetail {
  if (!checkTaskDetail.Check(value)) throw new Error('fixture is not a valid detail');
  return value;
}

function detail(overrides: Partial<TaskDetail>): TaskDetail {
  return asDetail({
    updated: 1773600000,
    taskid: 412000,
    shared: false,
    fail_early: false,
    test_only: false,
    repo: 'sisyphus',
    state: 'BUILDING',
    try: 1,
    iter: 1,
    age: 0,
    owner: 'jdoe',
    ...overrides,
  });
}

describe('normalizeTask', () => {
  it('maps the README list item (411555) with list-only data', () => {
    const item = asItem(LIST_411555);
    const task = normalizeTask('alt', item, undefined, { taskUrl: TASK_URL });
    expect(task).toMatchObject({
      source: 'alt',
      kind: 'girar',
      id: '411555',
      state: 'BUILDING',
      phase: 'running',
      owner: 'rider',
      repo: 'p11',
      message: 'update PDAL',
      created: '2026-03-16T12:22:27Z',
      url: 'https://git.altlinux.org/tasks/411555/',
      attrs: { try: 2, iter: 1, test_only: false, fail_early: true, build_time: '2026-03-16T17:15:28Z' },
      archs: [],
    });
    // Without info.json there is no upstream state-change time: the store fills in the observation time.
    expect(task.stateSince).toBeUndefined();
    expect(task.updated).toBeUndefined();
    expect(task.native).toBe(item);
    expect(task.subtasks.map((s) => [s.id, s.type, s.package, s.label, s.owner])).toEqual([
      ['100', 'repo', 'pdal', '/gears/p/pdal.git', 'rider'],
      ['200', 'repo', 'grass', '/gears/g/grass.git', 'rider'],
      ['300', 'repo', 'qgis', '/gears/q/qgis.git', 'rider'],
    ]);
    expect(task.subtasks[0]?.fields).toEqual({ dir: '/gears/p/pdal.git', tag_name: '2.9.3-alt1', pkgname: 'pdal', userid: 'rider' });
  });

  it('maps the README detail (389466): per-arch results, updated, native verbatim', () => {
    const d = asDetail(DETAIL_389466);
    const task = normalizeTask('alt', undefined, d, { taskUrl: TASK_URL });
    expect(task).toMatchObject({
      id: '389466',
      state: 'DONE',
      phase: 'success',
      owner: 'grenka',
      repo: 'sisyphus',
      message: 'Python3.13',
      updated: '2026-03-16T17:11:06Z',
      stateSince: '2026-03-16T17:11:06Z',
      finished: '2026-03-16T17:11:06Z',
      archs: ['aarch64', 'i586', 'x86_64'],
      attrs: { try: 85, iter: 1, test_only: false, fail_early: false, shared: false, build_time: '2025-10-10T16:12:42Z' },
    });
    expect(task.created).toBeUndefined();
    expect(task.native).toEqual(DETAIL_389466);
    expect(task.subtasks).toEqual([
      {
        id: '1',
        type: 'repo',
        package: 'python3',
        label: '/people/grenka/packages/python3.git',
        owner: 'grenka',
        fields: { dir: '/people/grenka/packages/python3.git', tag_name: '3.13.0-alt1', pkgname: 'python3', userid: 'grenka' },
        archs: [
          { arch: 'aarch64', status: 'swept', phase: 'success' },
          { arch: 'i586', status: 'swept', phase: 'success' },
          { arch: 'x86_64', status: 'swept', phase: 'success' },
        ],
      },
    ]);
  });

  it('shares equal per-arch results and arch lists between tasks, frozen, with the same JSON', () => {
    const a = normalizeTask('alt', undefined, asDetail(DETAIL_389466), { taskUrl: TASK_URL });
    const b = normalizeTask('alt', undefined, asDetail(JSON.parse(JSON.stringify(DETAIL_389466)) as unknown), { taskUrl: TASK_URL });
    expect(b).not.toBe(a);
    expect(b.subtasks[0]).not.toBe(a.subtasks[0]);
    expect(b.subtasks[0]?.archs).toBe(a.subtasks[0]?.archs);
    expect(b.subtasks[0]?.archs[0]).toBe(a.subtasks[0]?.archs[0]);
    expect(b.archs).toBe(a.archs);
    expect(Object.isFrozen(a.archs) && Object.isFrozen(a.subtasks[0]?.archs) && Object.isFrozen(a.subtasks[0]?.archs[0])).toBe(true);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  });

  it('merges list item and current detail: created from the list, the rest from info.json', () => {
    const item = asItem(LIST_411555);
    const d = detail({
      taskid: 411555,
      repo: 'p11',
      owner: 'rider',
      try: 2,
      message: 'update PDAL',
      swift: true,
      depends: [411500, 411501],
      subtasks: { '100': { dir: '/gears/p/pdal.git', type: 'repo', userid: 'rider', pkgname: 'pdal', build: { x86_64: 'built' } } },
    });
    const task = normalizeTask('alt', item, d, { taskUrl: TASK_URL });
    expect(task.created).toBe('2026-03-16T12:22:27Z');
    expect(task.native).toBe(d);
    expect(task.subtasks.map((s) => s.id)).toEqual(['100']);
    expect(task.attrs).toMatchObject({ swift: true, depends: '411500,411501', shared: false });
  });

  it('lets a newer list item win over a stale detail, keeping arch results only for the same try.iter', () => {
    const item = asItem({ ...(LIST_411555 as object), state: 'FAILING' });
    const sameRun = detail({ taskid: 411555, try: 2, iter: 1, subtasks: { '100': { dir: '/gears/p/pdal.git', type: 'repo', userid: 'rider', build: { x86_64: 'built' } } } });
    const stale = normalizeTask('alt', item, sameRun, { taskUrl: TASK_URL, detailStale: true });
    expect(stale.state).toBe('FAILING');
    expect(stale.native).toBe(item);
    expect(stale.stateSince).toBeUndefined();
    // State differs, so the detail describes another moment: its arch results are not reused.
    expect(stale.archs).toEqual([]);

    const sameState = normalizeTask('alt', asItem(LIST_411555), sameRun, { taskUrl: TASK_URL, detailStale: true });
    expect(sameState.archs).toEqual(['x86_64']);
    expect(sameState.stateSince).toBe('2026-03-15T18:40:00Z');
    expect(sameState.subtasks).toHaveLength(3);
  });

  it('maps FAILURE to failed and an unknown state to unknown instead of rejecting it', () => {
    expect(normalizeTask('alt', undefined, detail({ state: 'FAILURE' }), { taskUrl: TASK_URL }).phase).toBe('failed');
    const odd = normalizeTask('alt', undefined, detail({ state: 'QUARANTINED' }), { taskUrl: TASK_URL });
    expect(odd).toMatchObject({ state: 'QUARANTINED', phase: 'unknown' });
  });

  it('classifies srpm, copy, delete and deleted subtasks and sorts octal keys numerically', () => {
    const d = detail({
      state: 'EPERM',
      subtasks: {
        '1000': { type: 'delete', package: 'oldlib', userid: 'jdoe' },
        '200': { srpm: 'foo-1.0-alt1.src.rpm', type: 'srpm', pkgname: 'foo', userid: 'jdoe' },
        '140': { userid: 'jdoe' },
        '100': { dir: '/gears/b/bar.git', tag_name: '2-alt1', type: 'repo', approved_by: ['alice', { login: 'bob', date: '2026-03-05T12:34:56Z' }], disapproved_by: ['eve'], userid: 'jdoe' },
        '300': { copy_repo: 'p11', type: 'copy', package: 'baz', userid: 'jdoe' },
        '400': { package: 'qux', userid: 'jdoe' },
      },
    });
    const task = normalizeTask('alt', undefined, d, { taskUrl: TASK_URL });
    expect(task.phase).toBe('blocked');
    expect(task.subtasks.map((s) => [s.id, s.type, s.package, s.label])).toEqual([
      ['100', 'repo', undefined, '/gears/b/bar.git'],
      ['140', 'deleted', undefined, undefined],
      ['200', 'srpm', 'foo', 'foo-1.0-alt1.src.rpm'],
      ['300', 'copy', 'baz', undefined],
      ['400', 'delete', 'qux', undefined],
      ['1000', 'delete', 'oldlib', undefined],
    ]);
    expect(task.subtasks[0]).toMatchObject({ approvedBy: ['alice', 'bob'], disapprovedBy: ['eve'] });
    expect(task.subtasks[1]).toEqual({ id: '140', type: 'deleted', owner: 'jdoe', fields: { userid: 'jdoe' }, archs: [] });
    expect(task.subtasks[2]?.fields).toEqual({ srpm: 'foo-1.0-alt1.src.rpm', pkgname: 'foo', userid: 'jdoe' });
  });

  it('maps every per-arch status word', () => {
    const d = detail({
      state: 'FAILING',
      subtasks: {
        '100': {
          dir: '/gears/a/a.git',
          type: 'repo',
          userid: 'jdoe',
          build: { x86_64: 'built', i586: 'cached', aarch64: 'failed', ppc64le: 'excluded', armh: '', riscv64: 'weird' },
        },
      },
    });
    const archs = normalizeTask('alt', undefined, d, { taskUrl: TASK_URL }).subtasks[0]?.archs;
    expect(archs).toEqual([
      { arch: 'aarch64', status: 'failed', phase: 'failed' },
      { arch: 'armh', status: '', phase: 'running' },
      { arch: 'i586', status: 'cached', phase: 'success' },
      { arch: 'ppc64le', status: 'excluded', phase: 'canceled' },
      { arch: 'riscv64', status: 'weird', phase: 'unknown' },
      { arch: 'x86_64', status: 'built', phase: 'success' },
    ]);
    // girar leaves an empty status for a failed build; only BUILDING/FAILING make it "in progress".
    expect(archPhase('', 'FAILED')).toBe('failed');
    expect(archPhase('swept', 'SWEPT')).toBe('success');
  });
});

describe('state tables', () => {
  it('has a phase for every girar state, and only real phases', () => {
    expect(GIRAR_STATES).toHaveLength(13);
    expect(Object.keys(GIRAR_PHASES).sort()).toEqual([...GIRAR_STATES].sort());
    for (const s of GIRAR_STATES) expect(PHASES).toContain(girarPhase(s));
    expect(Object.fromEntries(GIRAR_STATES.map((s) => [s, girarPhase(s)]))).toEqual({
      NEW: 'blocked',
      AWAITING: 'queued',
      POSTPONED: 'blocked',
      BUILDING: 'running',
      FAILING: 'running',
      FAILED: 'failed',
      EPERM: 'blocked',
      TESTED: 'success',
      SWEPT: 'success',
      PENDING: 'queued',
      COMMITTING: 'running',
      DONE: 'success',
      FAILURE: 'failed',
    });
    expect(girarPhase('toString')).toBe('unknown');
  });

  it('uses the taskoteka README default states', () => {
    expect([...GIRAR_DEFAULT_STATES.active].sort()).toEqual(['AWAITING', 'BUILDING', 'COMMITTING', 'FAILING', 'PENDING', 'POSTPONED']);
    expect(GIRAR_DEFAULT_STATES.hiddenWhenPersonal).toEqual(['DONE']);
  });

  it('reads zone-less girar times as UTC and keeps zoned ones', () => {
    expect(localToIso('2026-03-16T12:22:27')).toBe('2026-03-16T12:22:27Z');
    expect(localToIso('2026-03-16 12:22:27')).toBe('2026-03-16T12:22:27Z');
    expect(localToIso('2026-03-16T12:22:27+03:00')).toBe('2026-03-16T09:22:27Z');
    expect(localToIso('2026-Mar-16/12:22:27')).toBeUndefined();
  });
});

describe('server-local times', () => {
  it('reads created and build_time in the configured time zone; zoned and epoch times are kept', () => {
    const item = { id: 5, state: 'BUILDING', repo: 'p11', owner: 'rider', created: '2026-03-16T12:22:27', build_time: '2026-03-16T17:15:28', age: 0, test_only: false, fail_early: true };
    const moscow = normalizeTask('alt', item, undefined, { taskUrl: 'https://x/{id}/', timeZone: 'Europe/Moscow' });
    expect(moscow.created).toBe('2026-03-16T09:22:27Z');
    expect(moscow.attrs?.build_time).toBe('2026-03-16T14:15:28Z');
    const utc = normalizeTask('alt', item, undefined, { taskUrl: 'https://x/{id}/' });
    expect(utc.created).toBe('2026-03-16T12:22:27Z');
    const zoned = normalizeTask('alt', { ...item, created: '2026-03-16T12:22:27+01:00' }, undefined, { taskUrl: 'https://x/{id}/', timeZone: 'Europe/Moscow' });
    expect(zoned.created).toBe('2026-03-16T11:22:27Z');
  });
});
