/**
 * Store tasks as taskoteka serves them (pure): `GET /tasks` items and `GET /tasks/{id}` bodies,
 * key order included, from a girar Task's `native` record (the info.json detail, or the list item
 * while only that is known) and, where `native` lacks something, from the model.
 *
 * Optional keys appear only when known; nothing is ever `undefined` or `null`.
 */
import type { Subtask, Task } from '../../model/task.js';
import type { TaskotekaCompatBackend } from '../../sources/girar/compat-backend.js';
import { utcToZonedText } from '../../util/time-zone.js';

export type TaskotekaJson = Record<string, unknown>;

const WEEK_MS = 7 * 24 * 3600 * 1000;

/** The keys of a `GET /tasks` subtask, in the order taskoteka writes them (README: dir, tag_name, type, userid, pkgname; 1.5.0 adds the approvals). */
export const LIST_SUBTASK_KEYS = ['dir', 'tag_name', 'srpm', 'package', 'copy_repo', 'rebuild_from', 'type', 'userid', 'pkgname', 'approved_by', 'disapproved_by'] as const;

const isRecord = (v: unknown): v is TaskotekaJson => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) ? v : undefined);
const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);

function nativeOf(task: Task): TaskotekaJson {
  return isRecord(task.native) ? task.native : {};
}

/** Whether a native record is a `GET /tasks/{id}` detail (info.json), not a list item. */
export function isDetail(native: unknown): native is TaskotekaJson {
  return isRecord(native) && typeof native.taskid === 'number';
}

/**
 * Whole weeks since the task entered its state, at `nowMs`: taskoteka recomputes `age` when it
 * serializes (girar's info.json freezes it). Undefined when the state-change time is unknown.
 */
export function ageWeeks(task: Task, nowMs: number): number | undefined {
  const since = task.stateSince === undefined ? Number.NaN : Date.parse(task.stateSince);
  if (Number.isNaN(since)) return undefined;
  return Math.max(0, Math.floor((nowMs - since) / WEEK_MS));
}

/**
 * `created` as taskoteka serves it: girar server-local time without a zone. From the model's
 * `created` (UTC) written in the source's zone; else the list item's own text; else the
 * state-change or last-update time, so the key a client requires is never missing (a task first
 * seen through an event-stream refresh has no `created` until the next full poll).
 */
function createdText(task: Task, native: TaskotekaJson, timeZone: string): string | undefined {
  const nativeCreated = str(native.created);
  if (task.created === undefined && nativeCreated !== undefined) return nativeCreated;
  for (const iso of [task.created, task.stateSince, task.updated]) {
    const ms = iso === undefined ? Number.NaN : Date.parse(iso);
    if (!Number.isNaN(ms)) return utcToZonedText(ms, timeZone);
  }
  return undefined;
}

function put(target: TaskotekaJson, key: string, value: unknown): void {
  if (value !== undefined && value !== null) target[key] = value;
}

/** A girar subtask removed with `task delsub`: only `userid` (and perhaps stale build results) is left. */
function isDeletedSubtask(sub: TaskotekaJson): boolean {
  return Object.keys(sub).every((k) => k === 'userid' || k === 'build');
}

function listSubtask(sub: TaskotekaJson): TaskotekaJson {
  if (isDeletedSubtask(sub)) {
    const out: TaskotekaJson = {};
    put(out, 'userid', sub.userid);
    return out;
  }
  const out: TaskotekaJson = {};
  for (const key of LIST_SUBTASK_KEYS) put(out, key, sub[key]);
  return out;
}

/** A list subtask rebuilt from the model, for a task whose native record carries no subtasks. */
function modelSubtask(sub: Subtask): TaskotekaJson {
  const owner = sub.owner ?? sub.fields?.userid;
  if (sub.type === 'deleted') return owner === undefined ? {} : { userid: owner };
  const f = sub.fields ?? {};
  const out: TaskotekaJson = {};
  put(out, 'dir', f.dir);
  put(out, 'tag_name', f.tag_name);
  put(out, 'srpm', f.srpm);
  put(out, 'package', f.package);
  put(out, 'type', sub.type);
  put(out, 'userid', owner);
  put(out, 'pkgname', f.pkgname ?? sub.package);
  if (sub.approvedBy?.length) out.approved_by = [...sub.approvedBy];
  if (sub.disapprovedBy?.length) out.disapproved_by = [...sub.disapprovedBy];
  return out;
}

/** Subtasks by number; JavaScript keeps integer-like keys in ascending order, as girar numbers them. */
function listSubtasks(task: Task, native: TaskotekaJson): TaskotekaJson | undefined {
  const out: TaskotekaJson = {};
  if (isRecord(native.subtasks)) {
    for (const [key, sub] of Object.entries(native.subtasks)) if (isRecord(sub)) out[key] = listSubtask(sub);
  } else {
    for (const sub of task.subtasks) out[sub.id] = modelSubtask(sub);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * One `GET /tasks` item: `{id, state, repo, owner, created, build_time?, age, test_only,
 * fail_early, try?, iter?, message?, subtasks?}` in exactly that order (the caller appends
 * `matches` for a search).
 */
export function listItem(task: Task, backend: Pick<TaskotekaCompatBackend, 'timeZone'>, nowMs: number): TaskotekaJson {
  const native = nativeOf(task);
  const attrs = task.attrs ?? {};
  const out: TaskotekaJson = {
    id: Number(task.id),
    state: task.state,
    repo: task.repo ?? str(native.repo) ?? '',
    owner: task.owner ?? str(native.owner) ?? '',
  };
  put(out, 'created', createdText(task, native, backend.timeZone));
  put(out, 'build_time', str(native.build_time));
  out.age = ageWeeks(task, nowMs) ?? int(native.age) ?? 0;
  out.test_only = bool(native.test_only) ?? bool(attrs.test_only) ?? false;
  out.fail_early = bool(native.fail_early) ?? bool(attrs.fail_early) ?? false;
  put(out, 'try', int(native.try) ?? int(attrs.try));
  put(out, 'iter', int(native.iter) ?? int(attrs.iter));
  put(out, 'message', str(native.message) ?? task.message);
  put(out, 'subtasks', listSubtasks(task, native));
  return out;
}

/**
 * One `GET /tasks/{id}` body: the native info.json with `age` recomputed and every other key, in
 * its order, as it is. A task known only from its list item (the taskoteka transport before its
 * detail was fetched) gets a detail built in info.json's key order from what is known.
 */
export function detail(task: Task, _backend: Pick<TaskotekaCompatBackend, 'timeZone'>, nowMs: number): TaskotekaJson {
  const native = nativeOf(task);
  const age = ageWeeks(task, nowMs);
  if (isDetail(native)) {
    const out: TaskotekaJson = {};
    for (const [key, value] of Object.entries(native)) out[key] = key === 'age' && age !== undefined ? age : value;
    return out;
  }
  return synthesizedDetail(task, native, age);
}

function synthesizedDetail(task: Task, native: TaskotekaJson, age: number | undefined): TaskotekaJson {
  const attrs = task.attrs ?? {};
  const changed = Date.parse(task.stateSince ?? task.updated ?? '');
  const out: TaskotekaJson = {};
  put(out, 'updated', Number.isNaN(changed) ? undefined : Math.floor(changed / 1000));
  out.taskid = Number(task.id);
  out.shared = bool(attrs.shared) ?? false;
  out.fail_early = bool(native.fail_early) ?? bool(attrs.fail_early) ?? false;
  out.test_only = bool(native.test_only) ?? bool(attrs.test_only) ?? false;
  if (attrs.swift === true) out.swift = true;
  put(out, 'aborted_by', str(attrs.aborted_by));
  out.repo = task.repo ?? str(native.repo) ?? '';
  out.state = task.state;
  put(out, 'try', int(native.try) ?? int(attrs.try));
  put(out, 'iter', int(native.iter) ?? int(attrs.iter));
  const depends = typeof attrs.depends === 'string' && attrs.depends !== '' ? attrs.depends.split(',').map(Number).filter(Number.isInteger) : [];
  if (depends.length > 0) out.depends = depends;
  out.age = age ?? int(native.age) ?? 0;
  put(out, 'build_time', str(native.build_time));
  put(out, 'message', str(native.message) ?? task.message);
  out.owner = task.owner ?? str(native.owner) ?? '';
  put(out, 'subtasks', listSubtasks(task, native));
  return out;
}
