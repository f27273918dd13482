/**
 * Reads one girar task directory the way girar lays it out (reference/girar.md §3) into the
 * exact `girar task show --json` / taskoteka `GET /tasks/{id}` JSON, plus what the shared model
 * needs beyond it (mtimes, per-arch phases, approval comments, the plan's ACL rows).
 *
 * Synchronous on purpose: it runs inside the reader's worker threads (see pool.ts).
 */
import type { Dirent } from 'node:fs';
import { utcToZonedText } from '../../../util/time-zone.js';
import type { DetailSubtask, TaskDetail } from '../upstream.js';
import { TaskDirReader, TreeProblem, type TreeProblemReason } from './safe-read.js';

/** States in which per-arch results are still being written: such a task is re-read on every refresh. */
export const RUNNING_STATES: ReadonlySet<string> = new Set(['BUILDING', 'FAILING', 'COMMITTING']);
/** States in which nothing but a new `task run` (a state change) alters the task: one stat per refresh. */
export const COLD_STATES: ReadonlySet<string> = new Set(['DONE', 'FAILED', 'TESTED', 'SWEPT']);
/** EPERM is cold too, except that approvals arrive while it waits: its ACL dirs are stat'ed as well. */
export const APPROVAL_STATES: ReadonlySet<string> = new Set(['EPERM']);

const SUBTASK_NUMBER = /^[1-7][0-7]*$/;
const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };
const WEEK_MS = 7 * 24 * 3600 * 1000;

export interface ReadOptions {
  /** IANA zone of girar's server clock, for `build_time` and `fetched` (`%FT%T` without a zone). */
  timeZone: string;
  /** Epoch ms "now", for `age`. */
  now: number;
  /** An archived copy: empty files were deleted by the archiver, so a missing status means failed. */
  archived: boolean;
  /** uid -> login (from a passwd file), for `aborted_by`. */
  users: ReadonlyMap<number, string>;
}

/** One approval or disapproval file, for the model (the native JSON lists only the logins). */
export interface ApprovalRead {
  subtask: string;
  verdict: 'approved' | 'disapproved';
  by: string;
  /** Epoch ms of the stamp (UTC), when the first line parses. */
  at?: number;
  comment?: string;
}

/** An arch whose build is in progress (left out of the native `build` map, `running` in the model). */
export interface BuildingArch {
  subtask: string;
  arch: string;
}

/** Everything read from one task directory. */
export interface TreeTaskRead {
  id: number;
  detail: TaskDetail;
  /** mtime of task/state: the state-change time. */
  stateMtimeMs: number;
  /** mtime of task/id: the creation time. */
  createdMs?: number;
  /** mtime of the current try.iter events log. */
  buildTimeMs?: number;
  /** Arches still building (BUILDING/FAILING tasks only); absent when none. */
  building?: BuildingArch[];
  /** Absent when none. */
  approvals?: ApprovalRead[];
  /** `plan/check_acl` rows (EPERM tasks only; what needs_approval checks). */
  checkAcl?: { subtask: string; item: string }[];
  /** Optional files that were skipped; absent when none. */
  problems?: { path: string; reason: TreeProblemReason }[];
}

/** Read a whole task directory. Throws TreeProblem when the task cannot be used at all (keep the previous version). */
export function readTaskDir(dir: TaskDirReader, id: number, opts: ReadOptions): TreeTaskRead {
  const top = byName(dir.entries(''));
  if (!top) throw new TreeProblem('incomplete', '', 'the task directory vanished');
  const taskEntries = subdir(dir, top, 'task');
  if (!taskEntries) throw new TreeProblem('incomplete', 'task', 'task/ is missing: the task is being created or was damaged');

  const stateStat = dir.lstat('task/state');
  const state = dir.value('task/state', false);
  if (state === undefined || !stateStat) throw new TreeProblem('incomplete', 'task/state', 'task/state is missing: the task is being created');
  if (state.trim() === '') throw new TreeProblem('mid_write', 'task/state', 'task/state is empty: girar is rewriting it');
  const owner = dir.value('task/owner', false);
  if (owner === undefined || owner === '') throw new TreeProblem('incomplete', 'task/owner', 'task/owner is missing or empty');
  const repo = dir.value('task/repo', false);
  if (repo === undefined || repo === '') throw new TreeProblem('incomplete', 'task/repo', 'task/repo is missing or empty');

  let newest = stateStat.mtimeMs;
  const seen = (ms: number | undefined) => {
    if (ms !== undefined && ms > newest) newest = ms;
  };
  const has = (name: string) => taskEntries.has(name);
  const tryN = has('try') ? intValue(dir, 'task/try') : undefined;
  const iterN = has('iter') ? intValue(dir, 'task/iter') : undefined;
  const message = has('message') ? dir.value('task/message') : undefined;
  const depends = has('depends') ? dependsOf(dir) : undefined;
  let abortedBy: string | undefined;
  if (has('abort')) {
    const st = dir.lstat('task/abort');
    if (st) {
      abortedBy = loginOf(st.uid, opts.users);
      seen(st.mtimeMs);
    }
  }
  const gearsStat = dir.lstat('gears');
  const createdMs = dir.mtimeMs('task/id');
  const tryIter = tryN !== undefined && iterN !== undefined ? `${tryN}.${iterN}` : undefined;
  const buildTimeMs = tryN !== undefined && iterN !== undefined ? dir.mtimeMs(`logs/events.${tryN}.${iterN}.log`) : undefined;

  const shared = gearsStat !== undefined && (gearsStat.mode & 0o020) !== 0;
  const out: TreeTaskRead = { id, detail: undefined as unknown as TaskDetail, stateMtimeMs: stateStat.mtimeMs };
  if (createdMs !== undefined) out.createdMs = createdMs;
  if (buildTimeMs !== undefined) out.buildTimeMs = buildTimeMs;

  // The archiver deletes empty files (the flag files) and leaves out pkg.tar and the
  // check-*-inheritance dirs; the info.json girar wrote before archiving still says what they were.
  const kept = opts.archived && top.has('info.json') ? archivedInfo(dir) : undefined;
  const subtasks = readSubtasks(dir, top, state, tryIter, opts, out, seen, kept?.subtasks);
  if (state === 'EPERM') {
    const rows = checkAclOf(dir);
    if (rows) out.checkAcl = rows;
  }

  // girar's key order (girar-task-make-info-json); optional keys only when girar writes them.
  const d: Record<string, unknown> = {};
  d.updated = Math.floor(newest / 1000);
  d.taskid = id;
  d.shared = shared;
  d.fail_early = has('fail-early') || kept?.fail_early === true;
  d.test_only = has('test-only') || kept?.test_only === true;
  if (has('swift') || kept?.swift === true) d.swift = true;
  if (abortedBy !== undefined) d.aborted_by = abortedBy;
  d.repo = repo;
  d.state = state;
  if (tryN !== undefined) d.try = tryN;
  if (iterN !== undefined) d.iter = iterN;
  if (depends && depends.length > 0) d.depends = depends;
  d.age = Math.max(0, Math.floor((opts.now - stateStat.mtimeMs) / WEEK_MS));
  if (buildTimeMs !== undefined) d.build_time = utcToZonedText(buildTimeMs, opts.timeZone);
  if (message !== undefined && message !== '') d.message = message;
  d.owner = owner;
  if (subtasks.size > 0) d.subtasks = Object.fromEntries(subtasks);
  out.detail = d as unknown as TaskDetail;
  if (dir.problems.length > 0) out.problems = dir.problems;
  return out;
}

function readSubtasks(
  dir: TaskDirReader,
  top: Map<string, Dirent>,
  state: string,
  tryIter: string | undefined,
  opts: ReadOptions,
  out: TreeTaskRead,
  seen: (ms: number | undefined) => void,
  archived: Record<string, Record<string, unknown>> | undefined,
): Map<string, DetailSubtask> {
  const result = new Map<string, DetailSubtask>();
  const gears = subdir(dir, top, 'gears');
  if (!gears) return result;
  const nums = [...gears.values()]
    .filter((e) => SUBTASK_NUMBER.test(e.name) && dir.isDir(`gears/${e.name}`, e))
    .map((e) => e.name)
    .sort((a, b) => Number(a) - Number(b));
  if (nums.length === 0) return result;

  const acl = subdir(dir, top, 'acl');
  const approvedDir = acl && acl.has('approved') ? 'acl/approved' : undefined;
  const disapprovedDir = acl && acl.has('disapproved') ? 'acl/disapproved' : undefined;
  const buildTop = subdir(dir, top, 'build');
  const gitInh = subdir(dir, top, 'check-git-inheritance');
  const lcInh = subdir(dir, top, 'check-lastchange-inheritance');
  const planEvr = planEvrOf(dir, top, state);

  for (const n of nums) {
    const files = byName(dir.entries(`gears/${n}`));
    if (!files || !files.has('userid')) continue; // a subtask exists iff gears/<N>/userid exists
    const userStat = dir.lstat(`gears/${n}/userid`);
    seen(userStat?.mtimeMs);
    const f = (name: string) => (files.has(name) ? dir.value(`gears/${n}/${name}`) : undefined);
    const was = (key: string): string | undefined => {
      const v = archived?.[n]?.[key];
      return typeof v === 'string' && v !== '' ? v : undefined;
    };
    const userid = f('userid') ?? '';
    const sub: Record<string, unknown> = {};
    const gdir = f('dir');
    const srpm = f('srpm');
    const pkg = f('package');
    const rebuildFrom = f('rebuild_from');
    if (gdir) {
      sub.dir = gdir;
      sub.tag_name = f('tag_name') ?? '';
      sub.tag_id = f('tag_id') ?? '';
      sub.tag_author = (f('tag_author') ?? '').replaceAll('"', '');
      const specType = f('type');
      if (specType) sub.spec_type = specType;
      const fetchedMs = files.has('pkg.tar') ? dir.mtimeMs(`gears/${n}/pkg.tar`) : undefined;
      const fetched = fetchedMs !== undefined ? utcToZonedText(fetchedMs, opts.timeZone) : was('fetched');
      if (fetched !== undefined) sub.fetched = fetched;
      if (rebuildFrom) sub.rebuild_from = rebuildFrom;
      sub.type = 'repo';
    } else if (srpm) {
      sub.srpm = srpm;
      if (rebuildFrom) sub.rebuild_from = rebuildFrom;
      sub.type = 'srpm';
    } else if (pkg) {
      const copyRepo = f('copy_repo');
      if (copyRepo) {
        sub.copy_repo = copyRepo;
        sub.type = 'copy';
      } else {
        sub.type = 'delete';
      }
      sub.package = pkg;
    }
    const approved = approvedDir ? approvalsOf(dir, `${approvedDir}/${n}`, n, 'approved', out, seen) : [];
    const disapproved = disapprovedDir ? approvalsOf(dir, `${disapprovedDir}/${n}`, n, 'disapproved', out, seen) : [];
    if (approved.length > 0) sub.approved_by = approved;
    if (disapproved.length > 0) sub.disapproved_by = disapproved;
    const buildN = buildTop?.get(n);
    const buildDir = buildN && dir.isDir(`build/${n}`, buildN) ? byName(dir.entries(`build/${n}`)) : undefined;
    const pkgname = buildDir?.has('pkgname') ? dir.value(`build/${n}/pkgname`) : undefined;
    if (pkgname) sub.pkgname = pkgname;
    const relaxGit = (gitInh?.has(n) ? dir.value(`check-git-inheritance/${n}`) : undefined) ?? was('relax_git_inheritance_check_for_commit');
    if (relaxGit) sub.relax_git_inheritance_check_for_commit = relaxGit;
    const relaxLc = (lcInh?.has(n) ? dir.value(`check-lastchange-inheritance/${n}`) : undefined) ?? was('relax_lastchange_inheritance_check_for_evr');
    if (relaxLc) sub.relax_lastchange_inheritance_check_for_evr = relaxLc;
    sub.userid = userid;

    // taskoteka's additions after girar's keys: EVR and per-arch results.
    if (Object.keys(sub).length > 1) {
      const nevr = f('nevr');
      const evr = nevr !== undefined ? nevr.split('\t')[1] : planEvr?.get(n);
      if (evr) Object.assign(sub, splitEvr(evr));
      if (buildDir) {
        const build = archResults(dir, n, buildDir, state, tryIter, opts.archived, out, seen);
        if (Object.keys(build).length > 0) sub.build = build;
      }
    }
    result.set(n, sub as DetailSubtask);
  }
  return result;
}

/** `build/<N>/<arch>/{status,try_iter}` under the try_iter rule (reference §3.5). */
function archResults(
  dir: TaskDirReader,
  n: string,
  entries: Map<string, Dirent>,
  state: string,
  tryIter: string | undefined,
  archived: boolean,
  out: TreeTaskRead,
  seen: (ms: number | undefined) => void,
): Record<string, string> {
  const build: Record<string, string> = {};
  const running = state === 'BUILDING' || state === 'FAILING';
  const arches = [...entries.values()].filter((e) => dir.isDir(`build/${n}/${e.name}`, e)).map((e) => e.name).sort();
  for (const arch of arches) {
    const base = `build/${n}/${arch}`;
    const files = byName(dir.entries(base));
    if (!files) continue;
    const status = files.has('status') ? dir.optionalText(`${base}/status`) : undefined;
    const ti = files.has('try_iter') ? dir.value(`${base}/try_iter`) : undefined;
    const word = status?.trim();
    if (files.has('status')) seen(dir.mtimeMs(`${base}/status`));
    let result: string | undefined;
    if (ti !== undefined && tryIter !== undefined && ti.trim() === tryIter) {
      result = word || 'failed';
    } else if (ti === undefined) {
      // No try_iter: girar saved no completed build for this arch. An empty status (a missing one
      // in an archived copy, whose empty files the archiver deleted) is a failure, unless the task
      // is still building, when the arch is in progress.
      if (word === '' || (word === undefined && archived)) {
        if (running) (out.building ??= []).push({ subtask: n, arch });
        else result = 'failed';
      } else if (word === undefined && running) {
        (out.building ??= []).push({ subtask: n, arch });
      }
    }
    // A try_iter of an earlier try or iteration is a stale result: left out.
    if (result === undefined) continue;
    build[arch] = result;
  }
  return build;
}


/** Logins (sorted, as `ls` lists them) of `acl/{approved,disapproved}/<N>/`, recording each file's stamp and comment. */
function approvalsOf(dir: TaskDirReader, rel: string, n: string, verdict: ApprovalRead['verdict'], out: TreeTaskRead, seen: (ms: number | undefined) => void): string[] {
  const entries = dir.entries(rel);
  if (!entries) return [];
  const logins = entries
    .filter((e) => e.isFile() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
  for (const by of logins) {
    const text = dir.optionalText(`${rel}/${by}`);
    const record: ApprovalRead = { subtask: n, verdict, by };
    if (text !== undefined) {
      const nl = text.indexOf('\n');
      const first = nl < 0 ? text : text.slice(0, nl);
      const at = parseStamp(first);
      if (at !== undefined) {
        record.at = at;
        seen(at);
      }
      const comment = (nl < 0 ? '' : text.slice(nl + 1)).trim();
      if (comment) record.comment = comment;
    }
    (out.approvals ??= []).push(record);
  }
  return logins;
}

/** `2026-Mar-05 12:34:56 :: approved by jdoe` (UTC) -> epoch ms. */
export function parseStamp(line: string): number | undefined {
  const m = /^(\d{4})-([A-Z][a-z]{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) ::/.exec(line);
  if (!m) return undefined;
  const month = MONTHS[m[2]!];
  if (month === undefined) return undefined;
  const ms = Date.UTC(Number(m[1]), month, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return Number.isNaN(ms) ? undefined : ms;
}

/** `[E:]V-R` -> {epoch?, version, release}. */
export function splitEvr(evr: string): { epoch?: number | string; version: string; release: string } | Record<string, never> {
  const m = /^(?:([^:]+):)?(.+)-([^-]+)$/.exec(evr.trim());
  if (!m) return {};
  const out: { epoch?: number | string; version: string; release: string } = { version: m[2]!, release: m[3]! };
  if (m[1] !== undefined) out.epoch = /^\d+$/.test(m[1]) ? Number(m[1]) : m[1];
  return out.epoch === undefined ? { version: out.version, release: out.release } : { epoch: out.epoch, version: out.version, release: out.release };
}

/**
 * EVR per subtask from `plan/add-src` (`name EVR file path subtask`, TAB-separated). girar may
 * leave a stale plan behind (bug #40728), so it is used only when the plan is newer than the
 * latest try/iter bump, or the task is DONE (altrepodb's rule).
 */
function planEvrOf(dir: TaskDirReader, top: Map<string, Dirent>, state: string): Map<string, string> | undefined {
  const plan = subdir(dir, top, 'plan');
  if (!plan || !plan.has('add-src')) return undefined;
  if (state !== 'DONE') {
    const planM = dir.mtimeMs('plan') ?? 0;
    const bump = Math.max(dir.mtimeMs('task/try') ?? 0, dir.mtimeMs('task/iter') ?? 0);
    if (planM <= bump) return undefined;
  }
  const text = dir.optionalText('plan/add-src');
  if (!text) return undefined;
  const evr = new Map<string, string>();
  for (const line of text.split('\n')) {
    const cols = line.split('\t');
    if (cols.length >= 5 && cols[1] && cols[4]) evr.set(cols[4].trim(), cols[1]);
  }
  return evr;
}

function checkAclOf(dir: TaskDirReader): { subtask: string; item: string }[] | undefined {
  const text = dir.optionalText('plan/check_acl');
  if (text === undefined) return undefined;
  const rows: { subtask: string; item: string }[] = [];
  for (const line of text.split('\n')) {
    const [subtask, item] = line.split('\t');
    if (subtask && item) rows.push({ subtask: subtask.trim(), item: item.trim() });
  }
  return rows;
}

/** An archived task's info.json (girar's own record, written before archiving), for what the archiver dropped. */
function archivedInfo(dir: TaskDirReader): { fail_early?: unknown; test_only?: unknown; swift?: unknown; subtasks?: Record<string, Record<string, unknown>> } | undefined {
  const text = dir.optionalText('info.json');
  if (text === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    dir.problems.push({ path: 'info.json', reason: 'bad_value' });
    return undefined;
  }
}

function intValue(dir: TaskDirReader, rel: string): number | undefined {
  const v = dir.value(rel)?.trim();
  if (v === undefined || v === '') return undefined;
  if (!/^\d{1,15}$/.test(v)) {
    dir.problems.push({ path: rel, reason: 'bad_value' });
    return undefined;
  }
  return Number(v);
}

function dependsOf(dir: TaskDirReader): number[] | undefined {
  const text = dir.optionalText('task/depends');
  if (text === undefined) return undefined;
  const ids: number[] = [];
  for (const line of text.split('\n')) {
    const v = line.trim();
    if (v === '') continue;
    if (/^\d{1,15}$/.test(v)) ids.push(Number(v));
    else dir.problems.push({ path: 'task/depends', reason: 'bad_value' });
  }
  return ids;
}

/** girar's login from a file owner: the user name minus `alt_`, or the bare uid when unknown. */
function loginOf(uid: number, users: ReadonlyMap<number, string>): string {
  const name = users.get(uid);
  if (name === undefined) return String(uid);
  return name.startsWith('alt_') ? name.slice(4) : name;
}

function byName(entries: Dirent[] | undefined): Map<string, Dirent> | undefined {
  if (!entries) return undefined;
  const m = new Map<string, Dirent>();
  for (const e of entries) m.set(e.name, e);
  return m;
}

/** A top-level subdirectory's entries, when it is a directory that stays inside the task. */
function subdir(dir: TaskDirReader, top: Map<string, Dirent>, name: string): Map<string, Dirent> | undefined {
  const e = top.get(name);
  if (!e || !dir.isDir(name, e)) return undefined;
  return byName(dir.entries(name));
}

/**
 * The stats that tell whether a task may have changed since it was read in `state`: girar
 * rewrites task/state on every state change (task run, add, delsub and deps all reset it), flags
 * and the abort file change task/'s mtime, a new subtask gears/'s mtime, a share toggle gears/'s
 * ctime (chmod), and an approval its acl/…/<N>/ dir. null = always re-read (per-arch results of a
 * running build change in files no cheap stat covers).
 */
export function signatureOf(dir: TaskDirReader, state: string | undefined, subtasks: readonly string[]): number[] | null {
  if (state === undefined || RUNNING_STATES.has(state)) return null;
  const st = dir.lstat('task/state');
  if (!st) return [-1];
  const sig = [st.mtimeMs, st.size, st.ino];
  if (COLD_STATES.has(state)) return sig;
  const g = dir.lstat('gears');
  sig.push(g?.mtimeMs ?? -1, g?.ctimeMs ?? -1);
  if (!APPROVAL_STATES.has(state)) sig.push(dir.mtimeMs('task') ?? -1);
  for (const n of subtasks) sig.push(dir.mtimeMs(`acl/approved/${n}`) ?? -1, dir.mtimeMs(`acl/disapproved/${n}`) ?? -1);
  return sig;
}

export function sameSignature(a: readonly number[] | null, b: readonly number[] | null): boolean {
  if (a === null || b === null || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
