/**
 * Test support for the taskoteka-compatible API: the taskoteka README's example tasks as list
 * items and info.json details, normalized into store Tasks as the girar source does, and a fake
 * TaskotekaCompatBackend.
 */
import type { Task } from '../../model/task.js';
import { NeedsApprovalUnavailable, type ApprovalGroup, type TaskotekaCompatBackend } from '../../sources/girar/compat-backend.js';
import { normalizeTask } from '../../sources/girar/normalize.js';
import type { TaskDetail, TaskListItem } from '../../sources/girar/upstream.js';

/** The zone of the fixture's girar server: README times are Moscow wall times. */
export const FIXTURE_ZONE = 'Europe/Moscow';
/** "Now" for the fixture: every README task is less than a week in its state. */
export const FIXTURE_NOW = Date.parse('2026-03-16T18:00:00Z');

const epoch = (iso: string): number => Math.floor(Date.parse(iso) / 1000);

/** The README's `GET /tasks` items, exactly (README "Active tasks" and "Search" examples). */
export const README_ITEMS: Record<string, TaskListItem> = {
  411555: {
    id: 411555,
    state: 'BUILDING',
    repo: 'p11',
    owner: 'rider',
    created: '2026-03-16T12:22:27',
    build_time: '2026-03-16T17:15:28',
    age: 0,
    test_only: false,
    fail_early: true,
    try: 2,
    iter: 1,
    message: 'update PDAL',
    subtasks: {
      100: { dir: '/gears/p/pdal.git', tag_name: '2.9.3-alt1', type: 'repo', userid: 'rider', pkgname: 'pdal' },
      200: { dir: '/gears/g/grass.git', tag_name: '8.4.2-alt1', type: 'repo', userid: 'rider', pkgname: 'grass' },
      300: { dir: '/gears/q/qgis.git', tag_name: '3.44.7-alt2', type: 'repo', userid: 'rider', pkgname: 'qgis' },
    },
  },
  411543: {
    id: 411543,
    state: 'EPERM',
    repo: 'p11',
    owner: 'zerg',
    created: '2026-03-16T11:09:35',
    build_time: '2026-03-16T12:38:04',
    age: 0,
    test_only: false,
    fail_early: true,
    try: 1,
    iter: 1,
    message: 'update',
    subtasks: {
      300: { dir: '/people/zerg/packages/nvidia_glx_libs_580.142.git', tag_name: '580.142.-alt1', type: 'repo', userid: 'zerg', pkgname: 'nvidia_glx_libs_580.142' },
    },
  },
  411469: {
    id: 411469,
    state: 'EPERM',
    repo: 'p11',
    owner: 'lav',
    created: '2026-03-15T15:22:25',
    build_time: '2026-03-15T15:31:29',
    age: 0,
    test_only: false,
    fail_early: true,
    try: 2,
    iter: 1,
    message: 'Debian libcurl compatibility',
    subtasks: {
      100: { dir: '/gears/l/libcurl4-gnutls.git', tag_name: '8.0-alt1', type: 'repo', userid: 'lav', pkgname: 'libcurl4-gnutls' },
    },
  },
};

/** The README's `GET /tasks/389466` body, exactly: an archived task (not in the live set). */
export const README_ARCHIVED: TaskDetail = {
  updated: 1773681066,
  taskid: 389466,
  shared: false,
  fail_early: false,
  test_only: false,
  repo: 'sisyphus',
  state: 'DONE',
  try: 85,
  iter: 1,
  age: 22,
  build_time: '2025-10-10T16:12:42',
  message: 'Python3.13',
  owner: 'grenka',
  subtasks: {
    1: {
      dir: '/people/grenka/packages/python3.git',
      tag_name: '3.13.0-alt1',
      tag_id: '55ba186a3b712f453c9e3c62ec90b6e3a07e9b51',
      tag_author: 'Grigory Ustinov <grenka@altlinux.org>',
      type: 'repo',
      pkgname: 'python3',
      userid: 'grenka',
      version: '3.13.0',
      release: 'alt1',
      build: { aarch64: 'swept', i586: 'swept', x86_64: 'swept' },
    },
  },
};

/** info.json for a README list item, in girar's key order (§5), with taskoteka's EVR and builds. */
function detailOf(item: TaskListItem, updatedIso: string, extra: Partial<TaskDetail> = {}): TaskDetail {
  const subtasks: NonNullable<TaskDetail['subtasks']> = {};
  for (const [key, sub] of Object.entries(item.subtasks ?? {})) {
    if (sub.type === undefined) {
      subtasks[key] = { userid: sub.userid ?? '' };
      continue;
    }
    subtasks[key] = {
      dir: sub.dir ?? '',
      tag_name: sub.tag_name ?? '',
      tag_id: '0123456789abcdef0123456789abcdef01234567',
      tag_author: `${sub.userid ?? ''} <${sub.userid ?? ''}@altlinux.org>`,
      type: sub.type,
      pkgname: sub.pkgname ?? '',
      userid: sub.userid ?? '',
      version: (sub.tag_name ?? '').split('-')[0] ?? '',
      release: 'alt1',
      build: { aarch64: 'built', x86_64: 'built' },
    };
  }
  return {
    updated: epoch(updatedIso),
    taskid: item.id,
    shared: false,
    fail_early: item.fail_early,
    test_only: item.test_only,
    ...(extra.swift ? { swift: true } : {}),
    repo: item.repo,
    state: item.state,
    ...(item.try !== undefined ? { try: item.try } : {}),
    ...(item.iter !== undefined ? { iter: item.iter } : {}),
    age: 0,
    ...(item.build_time !== undefined ? { build_time: item.build_time } : {}),
    ...(item.message !== undefined ? { message: item.message } : {}),
    owner: item.owner,
    ...(item.subtasks ? { subtasks } : {}),
  };
}

function item(id: number, state: string, repo: string, owner: string, more: Partial<TaskListItem> = {}): TaskListItem {
  return { id, state, repo, owner, created: '2026-03-14T10:00:00', age: 0, test_only: false, fail_early: false, try: 1, iter: 1, ...more };
}

/**
 * The store's view of source `source`: the README tasks plus tasks in other states (a queue
 * task, a test-only and a swift EPERM task, a DONE task, a task with a deleted subtask, one three
 * weeks in its state, one known only from its list item), as the girar source normalizes them.
 */
export function fixtureTasks(source = 'alt'): Task[] {
  const norm = (i: TaskListItem, d: TaskDetail | undefined): Task => normalizeTask(source, i, d, { taskUrl: 'https://git.altlinux.org/tasks/{id}/', timeZone: FIXTURE_ZONE });
  const r = README_ITEMS as Record<number, TaskListItem>;
  const gear = (pkg: string, userid: string) => ({ dir: `/gears/${pkg[0] ?? 'x'}/${pkg}.git`, tag_name: '1.0-alt1', type: 'repo', userid, pkgname: pkg });
  const awaiting = item(411600, 'AWAITING', 'sisyphus', 'aris', { subtasks: { 100: gear('foo', 'aris') } });
  const testOnly = item(411480, 'EPERM', 'sisyphus', 'cas', { test_only: true, subtasks: { 100: gear('bar', 'cas') } });
  const swift = item(411481, 'EPERM', 'sisyphus', 'cas', { subtasks: { 100: gear('baz', 'cas') } });
  const done = item(411400, 'DONE', 'p11', 'rider', { subtasks: { 100: gear('pdal', 'rider') } });
  const { try: _try, iter: _iter, ...deletedItem } = item(411590, 'NEW', 'sisyphus', 'vt', { subtasks: { 100: gear('qux', 'vt'), 200: { userid: 'vt' } } });
  const old = item(411300, 'FAILED', 'p10', 'ldv', { subtasks: { 100: gear('gcc', 'ldv') } });
  const listOnly = item(411610, 'AWAITING', 'p10', 'vt', { build_time: '2026-03-16T19:00:00', message: 'list only', subtasks: { 100: gear('zlib', 'vt') } });
  return [
    norm(r[411555] as TaskListItem, detailOf(r[411555] as TaskListItem, '2026-03-16T14:15:28Z')),
    norm(r[411543] as TaskListItem, detailOf(r[411543] as TaskListItem, '2026-03-16T09:38:04Z')),
    norm(r[411469] as TaskListItem, detailOf(r[411469] as TaskListItem, '2026-03-15T12:31:29Z')),
    norm(awaiting, detailOf(awaiting, '2026-03-16T10:00:00Z')),
    norm(testOnly, detailOf(testOnly, '2026-03-16T10:00:00Z')),
    norm(swift, detailOf(swift, '2026-03-16T10:00:00Z', { swift: true })),
    norm(done, detailOf(done, '2026-03-10T10:00:00Z')),
    norm(deletedItem, detailOf(deletedItem, '2026-03-16T11:00:00Z')),
    norm(old, detailOf(old, '2026-02-20T10:00:00Z')),
    norm(listOnly, undefined),
  ];
}

/** A backend whose answers tests set: approvals by group (undefined = unavailable), archived details, failures. */
export class FakeTaskotekaBackend implements TaskotekaCompatBackend {
  readonly timeZone = FIXTURE_ZONE;
  version = '1.5.0';
  cacheAge: number | undefined = 3;
  approvals: Partial<Record<ApprovalGroup, string[]>> | undefined = {};
  archive = new Map<number, TaskDetail>();
  archiveFails: Error | undefined;
  readonly calls: string[] = [];

  apiVersion(): string {
    return this.version;
  }

  cacheAgeSeconds(): number | undefined {
    return this.cacheAge;
  }

  async archived(id: number): Promise<TaskDetail | undefined> {
    this.calls.push(`archived ${id}`);
    if (this.archiveFails) throw this.archiveFails;
    return this.archive.get(id);
  }

  async needsApproval(group: ApprovalGroup): Promise<ReadonlySet<string>> {
    this.calls.push(`needsApproval ${group}`);
    if (this.approvals === undefined) throw new NeedsApprovalUnavailable('needs_approval is not available: no ACL dir is configured for this source');
    return new Set(this.approvals[group] ?? []);
  }
}
