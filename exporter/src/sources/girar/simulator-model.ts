/**
 * The simulator's task records and their rendering as taskoteka serves them: `GET /tasks`
 * items and `GET /tasks/{id}` with info.json's key order (reference/girar.md §5).
 */

/** A subtask as the simulator keeps it; keys are info.json's. A deleted subtask has only `userid`. */
export interface SimSubtaskSpec {
  type?: 'repo' | 'srpm' | 'copy' | 'delete';
  userid: string;
  dir?: string;
  tag_name?: string;
  tag_id?: string;
  tag_author?: string;
  fetched?: string;
  srpm?: string;
  package?: string;
  copy_repo?: string;
  rebuild_from?: string;
  pkgname?: string;
  version?: string;
  release?: string;
  approved_by?: string[];
  disapproved_by?: string[];
  /** Finished per-arch results of the current try.iter (absent while an arch still builds). */
  build?: Record<string, string>;
}

/** A task to load with `GirarSimulator.setTasks`; omitted keys get plain defaults. */
export interface SimTaskSpec {
  id: number;
  state: string;
  repo?: string;
  owner?: string;
  /** `YYYY-MM-DDTHH:MM:SS`, server-local without zone, as taskoteka serves it. Default: now. */
  created?: string;
  /** info.json `updated`, epoch seconds. Default: now. */
  updated?: number;
  build_time?: string;
  try?: number;
  iter?: number;
  message?: string;
  test_only?: boolean;
  fail_early?: boolean;
  swift?: boolean;
  shared?: boolean;
  aborted_by?: string;
  depends?: number[];
  subtasks?: Record<string, SimSubtaskSpec>;
}

/** The simulator's live record of one task. */
export interface SimTask {
  id: number;
  state: string;
  repo: string;
  owner: string;
  createdMs: number;
  /** Time of the last info.json regeneration: state changes and approvals. */
  updatedMs: number;
  buildTimeMs?: number;
  try?: number;
  iter?: number;
  message?: string;
  testOnly: boolean;
  failEarly: boolean;
  swift: boolean;
  shared: boolean;
  abortedBy?: string;
  depends: number[];
  subtasks: Map<string, SimSubtaskSpec>;
  /** Simulation-only: the outcome planned for each `<subtask>/<arch>` of the running build. */
  plan?: BuildPlan;
  /** Simulation-only: ticks spent in the current state. */
  stateTicks: number;
}

export interface BuildPlan {
  outcomes: Map<string, string>;
  /** The ACL check will deny the commit (ends in EPERM unless test-only). */
  eperm: boolean;
  /** A post-build check (unmets, install) fails the task although every arch built. */
  checkFails: boolean;
}

const WEEK_MS = 7 * 24 * 3600 * 1000;

/** girar's `%FT%T`: server-local, no zone. The simulator's server runs on UTC. */
export function localTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

export function fromSpec(spec: SimTaskSpec, nowMs: number): SimTask {
  const created = spec.created ? Date.parse(`${spec.created}Z`) : Number.NaN;
  const task: SimTask = {
    id: spec.id,
    state: spec.state,
    repo: spec.repo ?? 'sisyphus',
    owner: spec.owner ?? 'test',
    createdMs: Number.isNaN(created) ? nowMs : created,
    updatedMs: spec.updated !== undefined ? spec.updated * 1000 : nowMs,
    testOnly: spec.test_only ?? false,
    failEarly: spec.fail_early ?? false,
    swift: spec.swift ?? false,
    shared: spec.shared ?? false,
    depends: [...(spec.depends ?? [])],
    subtasks: new Map(Object.entries(spec.subtasks ?? {}).map(([k, v]) => [k, withType(structuredClone(v))])),
    stateTicks: 0,
  };
  const buildTime = spec.build_time ? Date.parse(`${spec.build_time}Z`) : Number.NaN;
  if (!Number.isNaN(buildTime)) task.buildTimeMs = buildTime;
  if (spec.try !== undefined) task.try = spec.try;
  if (spec.iter !== undefined) task.iter = spec.iter;
  if (spec.message !== undefined) task.message = spec.message;
  if (spec.aborted_by !== undefined) task.abortedBy = spec.aborted_by;
  return task;
}

/** The spec that recreates `task` (simulation-only state aside). */
export function toSpec(task: SimTask): SimTaskSpec {
  const spec: SimTaskSpec = {
    id: task.id,
    state: task.state,
    repo: task.repo,
    owner: task.owner,
    created: localTime(task.createdMs),
    updated: task.updatedMs / 1000,
    test_only: task.testOnly,
    fail_early: task.failEarly,
    swift: task.swift,
    shared: task.shared,
    depends: [...task.depends],
    subtasks: Object.fromEntries([...task.subtasks].map(([k, v]) => [k, structuredClone(v)])),
  };
  if (task.buildTimeMs !== undefined) spec.build_time = localTime(task.buildTimeMs);
  if (task.try !== undefined) spec.try = task.try;
  if (task.iter !== undefined) spec.iter = task.iter;
  if (task.message !== undefined) spec.message = task.message;
  if (task.abortedBy !== undefined) spec.aborted_by = task.abortedBy;
  return spec;
}

/** girar's classification (§3.3) for specs that leave `type` out. */
function withType(sub: SimSubtaskSpec): SimSubtaskSpec {
  if (sub.type !== undefined || isDeleted(sub)) return sub;
  if (sub.dir) sub.type = 'repo';
  else if (sub.srpm) sub.type = 'srpm';
  else sub.type = sub.copy_repo ? 'copy' : 'delete';
  return sub;
}

function sortedSubtasks(task: SimTask): [string, SimSubtaskSpec][] {
  return [...task.subtasks.entries()].sort(([a], [b]) => Number(a) - Number(b));
}

function isDeleted(sub: SimSubtaskSpec): boolean {
  return sub.type === undefined && !sub.dir && !sub.srpm && !sub.package;
}

/** A `GET /tasks` item, key order as in the taskoteka README. */
export function renderListItem(task: SimTask, nowMs: number): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: task.id,
    state: task.state,
    repo: task.repo,
    owner: task.owner,
    created: localTime(task.createdMs),
  };
  if (task.buildTimeMs !== undefined) out.build_time = localTime(task.buildTimeMs);
  out.age = Math.max(0, Math.floor((nowMs - task.updatedMs) / WEEK_MS));
  out.test_only = task.testOnly;
  out.fail_early = task.failEarly;
  if (task.try !== undefined) out.try = task.try;
  if (task.iter !== undefined) out.iter = task.iter;
  if (task.message !== undefined) out.message = task.message;
  if (task.subtasks.size > 0) {
    const subs: Record<string, unknown> = {};
    for (const [key, sub] of sortedSubtasks(task)) {
      if (isDeleted(sub)) {
        subs[key] = { userid: sub.userid };
        continue;
      }
      const s: Record<string, unknown> = {};
      put(s, 'dir', sub.dir);
      put(s, 'tag_name', sub.tag_name);
      put(s, 'srpm', sub.srpm);
      put(s, 'package', sub.package);
      s.type = sub.type;
      s.userid = sub.userid;
      put(s, 'pkgname', sub.pkgname);
      if (sub.approved_by?.length) s.approved_by = [...sub.approved_by];
      if (sub.disapproved_by?.length) s.disapproved_by = [...sub.disapproved_by];
      subs[key] = s;
    }
    out.subtasks = subs;
  }
  return out;
}

/** A `GET /tasks/{id}` body: info.json's key order, plus taskoteka's version/release/build. */
export function renderDetail(task: SimTask, nowMs: number): Record<string, unknown> {
  const out: Record<string, unknown> = {
    updated: Math.floor(task.updatedMs / 1000),
    taskid: task.id,
    shared: task.shared,
    fail_early: task.failEarly,
    test_only: task.testOnly,
  };
  if (task.swift) out.swift = true;
  put(out, 'aborted_by', task.abortedBy);
  out.repo = task.repo;
  out.state = task.state;
  put(out, 'try', task.try);
  put(out, 'iter', task.iter);
  if (task.depends.length > 0) out.depends = [...task.depends];
  out.age = Math.max(0, Math.floor((nowMs - task.updatedMs) / WEEK_MS));
  if (task.buildTimeMs !== undefined) out.build_time = localTime(task.buildTimeMs);
  put(out, 'message', task.message);
  out.owner = task.owner;
  if (task.subtasks.size > 0) {
    const subs: Record<string, unknown> = {};
    for (const [key, sub] of sortedSubtasks(task)) subs[key] = renderDetailSubtask(sub);
    out.subtasks = subs;
  }
  return out;
}

function renderDetailSubtask(sub: SimSubtaskSpec): Record<string, unknown> {
  if (isDeleted(sub)) return { userid: sub.userid };
  const s: Record<string, unknown> = {};
  if (sub.type === 'repo') {
    put(s, 'dir', sub.dir);
    put(s, 'tag_name', sub.tag_name);
    put(s, 'tag_id', sub.tag_id);
    put(s, 'tag_author', sub.tag_author);
    put(s, 'fetched', sub.fetched);
    put(s, 'rebuild_from', sub.rebuild_from);
    s.type = 'repo';
  } else if (sub.type === 'srpm') {
    put(s, 'srpm', sub.srpm);
    put(s, 'rebuild_from', sub.rebuild_from);
    s.type = 'srpm';
  } else {
    put(s, 'copy_repo', sub.copy_repo);
    s.type = sub.type;
    put(s, 'package', sub.package);
  }
  if (sub.approved_by?.length) s.approved_by = [...sub.approved_by];
  if (sub.disapproved_by?.length) s.disapproved_by = [...sub.disapproved_by];
  put(s, 'pkgname', sub.pkgname);
  s.userid = sub.userid;
  put(s, 'version', sub.version);
  put(s, 'release', sub.release);
  if (sub.build && Object.keys(sub.build).length > 0) {
    s.build = Object.fromEntries(Object.entries(sub.build).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
  return s;
}

function put(target: Record<string, unknown>, key: string, value: unknown): void {
  if (value !== undefined) target[key] = value;
}
