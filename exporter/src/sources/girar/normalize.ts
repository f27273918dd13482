/**
 * Pure mapping from taskoteka payloads (list item and/or info.json detail) to the shared Task.
 * The README in this folder documents the state -> phase table and the per-arch words.
 */
import type { ArchResult, Phase, Subtask, Task } from '../../model/task.js';
import { isoUtc } from '../../util/clock.js';
import { zonedToUtc } from '../../util/time-zone.js';
import type { DefaultStates } from '../source.js';
import { approverLogin, type DetailSubtask, type ListSubtask, type TaskDetail, type TaskListItem } from './upstream.js';

export const GIRAR_KIND = 'girar';

/** girar's 13 task states: the taskoteka README's 12 plus FAILURE (commit-stage error). */
export const GIRAR_STATES = [
  'NEW',
  'AWAITING',
  'PENDING',
  'BUILDING',
  'COMMITTING',
  'TESTED',
  'FAILING',
  'FAILED',
  'DONE',
  'SWEPT',
  'EPERM',
  'POSTPONED',
  'FAILURE',
] as const;
export type GirarState = (typeof GIRAR_STATES)[number];

/** Native state -> phase. A state not listed here maps to `unknown`. */
export const GIRAR_PHASES: Readonly<Record<GirarState, Phase>> = {
  NEW: 'blocked', // created, waiting for its owner to `task run` it
  AWAITING: 'queued',
  POSTPONED: 'blocked', // waiting for the tasks it depends on
  BUILDING: 'running',
  FAILING: 'running', // still building, but an arch already failed
  FAILED: 'failed',
  EPERM: 'blocked', // built, waiting for an approval
  TESTED: 'success',
  SWEPT: 'success',
  PENDING: 'queued', // queued for commit
  COMMITTING: 'running',
  DONE: 'success',
  FAILURE: 'failed', // commit-stage error; needs an admin
};

/** taskoteka's default-state rules ("Default states" in its README), for the API and the store. */
export const GIRAR_DEFAULT_STATES: DefaultStates = {
  active: ['AWAITING', 'BUILDING', 'COMMITTING', 'FAILING', 'PENDING', 'POSTPONED'],
  hiddenWhenPersonal: ['DONE'],
};

export function girarPhase(state: string): Phase {
  return Object.hasOwn(GIRAR_PHASES, state) ? GIRAR_PHASES[state as GirarState] : 'unknown';
}

/**
 * Per-arch status word -> phase. `excluded` (ExcludeArch/ExclusiveArch) is `canceled`: the arch
 * was deliberately not built, so it must count neither as a success nor as a failure. An empty
 * word is what girar itself leaves for a failed build, but also for one still running.
 */
export function archPhase(status: string, taskState: string): Phase {
  switch (status) {
    case 'built':
    case 'cached':
    case 'swept':
      return 'success';
    case 'excluded':
      return 'canceled';
    case 'failed':
      return 'failed';
    case 'new':
      return 'queued';
    case '':
      return taskState === 'BUILDING' || taskState === 'FAILING' ? 'running' : 'failed';
    default:
      return 'unknown';
  }
}

export interface NormalizeOptions {
  /** Link template with `{id}`. */
  taskUrl: string;
  /** IANA zone of girar's server clock, for `created` and `build_time` (default UTC). */
  timeZone?: string;
  /**
   * The detail predates the list item (fetched before the item last changed). The list item then
   * wins for everything it carries; per-arch results are kept only for the same try and iter.
   */
  detailStale?: boolean;
}

/**
 * Build a Task from whatever is known. At least one of `summary` and `detail` must be given.
 * Times without a zone (girar's server-local `created`, `build_time`) are read in `opts.timeZone` (default UTC).
 */
export function normalizeTask(
  source: string,
  summary: TaskListItem | undefined,
  detail: TaskDetail | undefined,
  opts: NormalizeOptions,
): Task {
  const rawId = detail?.taskid ?? summary?.id;
  if (rawId === undefined) throw new Error('normalizeTask needs a list item or a detail');
  const id = String(rawId);
  const fresh = detail !== undefined && !(opts.detailStale && summary);
  const head: TaskHead = fresh ? detail : (summary ?? detail!);
  const sameRun =
    detail !== undefined && summary !== undefined
      ? detail.state === summary.state && detail.try === summary.try && detail.iter === summary.iter
      : true;
  const state = head.state;
  const phase = girarPhase(state);

  const task: Task = {
    source,
    kind: GIRAR_KIND,
    id,
    state,
    phase,
    owner: head.owner,
    repo: head.repo,
    archs: [],
    subtasks: [],
    url: opts.taskUrl.replaceAll('{id}', encodeURIComponent(id)),
    native: fresh ? detail : (summary ?? detail),
  };
  if (head.message !== undefined && head.message !== '') task.message = head.message;
  const created = summary ? localToIso(summary.created, opts.timeZone) : undefined;
  if (created) task.created = created;

  // info.json is regenerated on every state change, so `updated` is the best state-change time.
  if (detail && (fresh || sameRun)) {
    const updated = isoUtc(detail.updated * 1000);
    task.updated = updated;
    task.stateSince = updated;
    if (phase === 'success' || phase === 'failed' || phase === 'canceled') task.finished = updated;
  }

  const subtasks = fresh ? detail.subtasks : summary?.subtasks;
  const builds = detail && (fresh || sameRun) ? detail.subtasks : undefined;
  task.subtasks = Object.keys(subtasks ?? {})
    .sort(bySubtaskNumber)
    .map((key) => normalizeSubtask(key, subtasks![key]!, builds?.[key]?.build, state));
  task.archs = sharedList(archLists, [...new Set(task.subtasks.flatMap((s) => s.archs.map((a) => a.arch)))].sort(), (arch) => arch);
  task.attrs = attrsOf(head, detail, fresh || sameRun, opts.timeZone);
  return task;
}

type TaskHead = Pick<TaskListItem, 'state' | 'owner' | 'repo' | 'message' | 'try' | 'iter' | 'test_only' | 'fail_early' | 'build_time'>;

function normalizeSubtask(
  key: string,
  raw: ListSubtask | DetailSubtask,
  build: Record<string, string> | undefined,
  taskState: string,
): Subtask {
  const sub: Subtask = { id: key, type: subtaskType(raw), archs: [] };
  const pkg = raw.pkgname ?? raw.package;
  if (pkg) sub.package = pkg;
  const label = raw.dir ?? raw.srpm;
  if (label) sub.label = label;
  if (raw.userid) sub.owner = raw.userid;
  const approved = logins(raw.approved_by);
  if (approved) sub.approvedBy = approved;
  const disapproved = logins(raw.disapproved_by);
  if (disapproved) sub.disapprovedBy = disapproved;
  const fields: Record<string, string> = {};
  for (const name of ['dir', 'tag_name', 'pkgname', 'userid', 'srpm', 'package'] as const) {
    const v = raw[name];
    if (v !== undefined && v !== '') fields[name] = v;
  }
  if (Object.keys(fields).length > 0) sub.fields = fields;
  const results = Object.keys(build ?? {})
    .sort()
    .map((arch): ArchResult => {
      const status = build![arch]!;
      return sharedArchResult(arch, status, archPhase(status, taskState));
    });
  sub.archs = sharedList(archResultLists, results, archResultKey);
  return sub;
}

/**
 * Per-arch results repeat the same few (arch, status, phase) triples across every subtask of every
 * task, so equal ones are one frozen object instead of one object each. The table is bounded:
 * past its cap (far more triples than a farm has), a result is made on its own as before.
 */
const ARCH_RESULTS_CAP = 4096;
const archResults = new Map<string, ArchResult>();

const archResultKey = (r: ArchResult) => `${r.arch}\u0000${r.status}\u0000${r.phase}`;

function sharedArchResult(arch: string, status: string, phase: Phase): ArchResult {
  const key = archResultKey({ arch, status, phase });
  const known = archResults.get(key);
  if (known) return known;
  const result: ArchResult = Object.freeze({ arch, status, phase });
  if (archResults.size < ARCH_RESULTS_CAP) archResults.set(key, result);
  return result;
}

/**
 * The same goes for whole lists: a subtask's per-arch results and a task's arch names repeat
 * across tasks, so an equal list is one frozen array (bounded like the results). Whoever adds to
 * a task's lists after normalizing (fs/normalize.ts) builds new arrays.
 */
const archResultLists = new Map<string, ArchResult[]>();
const archLists = new Map<string, string[]>();

function sharedList<T>(table: Map<string, T[]>, list: T[], keyOf: (item: T) => string): T[] {
  const key = list.map(keyOf).join('\u0001');
  const known = table.get(key);
  if (known) return known;
  Object.freeze(list);
  if (table.size < ARCH_RESULTS_CAP) table.set(key, list);
  return list;
}

/** girar's own classification (§3.3): dir -> repo, srpm -> srpm, package -> copy/delete. */
function subtaskType(raw: ListSubtask | DetailSubtask): string {
  const keys = Object.keys(raw).filter((k) => k !== 'userid' && k !== 'build');
  if (keys.length === 0) return 'deleted';
  if (raw.type) return raw.type;
  if (raw.dir) return 'repo';
  if (raw.srpm) return 'srpm';
  if (raw.package) return raw.copy_repo || raw.rebuild_from ? 'copy' : 'delete';
  return 'unknown';
}

function logins(list: ListSubtask['approved_by']): string[] | undefined {
  if (!list || list.length === 0) return undefined;
  const out = list.map(approverLogin).filter((l): l is string => l !== undefined);
  return out.length > 0 ? out : undefined;
}

function attrsOf(head: TaskHead, detail: TaskDetail | undefined, detailUsable: boolean, timeZone: string | undefined): Record<string, string | number | boolean> {
  const attrs: Record<string, string | number | boolean> = { test_only: head.test_only, fail_early: head.fail_early };
  if (head.try !== undefined) attrs.try = head.try;
  if (head.iter !== undefined) attrs.iter = head.iter;
  const buildTime = head.build_time ? localToIso(head.build_time, timeZone) : undefined;
  if (buildTime) attrs.build_time = buildTime;
  if (detail && detailUsable) {
    attrs.shared = detail.shared;
    if (detail.swift !== undefined) attrs.swift = detail.swift;
    if (detail.aborted_by) attrs.aborted_by = detail.aborted_by;
    if (detail.depends && detail.depends.length > 0) attrs.depends = detail.depends.join(',');
  }
  return attrs;
}

/** Subtask keys are octal-digit strings (100, 140, 200, ...); decimal order sorts them right. */
function bySubtaskNumber(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (Number.isFinite(na) && Number.isFinite(nb) && na !== nb) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `2026-03-16T12:22:27` (girar server-local, no zone) read in `timeZone` (default UTC); a zoned time is kept. */
export function localToIso(text: string, timeZone = 'UTC'): string | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/.exec(text.trim());
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}T${m[2]}${m[3] ?? ''}${m[4] ?? 'Z'}`);
  if (Number.isNaN(ms)) return undefined;
  return isoUtc(m[4] ? ms : zonedToUtc(ms, timeZone));
}
