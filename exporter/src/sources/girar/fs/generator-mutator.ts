/**
 * Advances a generated tree the way girar would (reference §3.2), writing files as girar does:
 * `task/state` rewritten in place and its index link moved, try/iter bumps with a new events log,
 * per-arch statuses filled in while BUILDING (an empty status for a failure), approvals on EPERM
 * tasks, new tasks, DONE tasks archived, subtasks added or deleted, shares toggled, aborts.
 * Deterministic from the seed, the tree and the `now()` values.
 */
import { chmodSync, chownSync, existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { Rng } from '../prng.js';
import { GIRAR_TRANSITIONS } from '../simulator-lifecycle.js';
import { currentLogin, emptyCounts, TreeWriter } from './generator-fs.js';
import { readInfoInput, renderInfoJson } from './generator-info.js';
import { subtaskNumber } from './generator-model.js';
import { buildItems, cat, MutatorFs, readView, type BuildItem, type TaskView } from './generator-mutator-fs.js';
import { builderVersion, draftTask } from './generator-plan.js';
import { excludedReason } from './generator-runs.js';
import { addedSubtask } from './generator-subtasks.js';
import { writeSubtask, writeTask } from './generator-task.js';
import { approvalComment, runMessage } from './generator-text.js';
import { elapsed, stampUtc } from './generator-time.js';
import { rowAllowed, world, type AclRow } from './generator-world.js';
import type { GeneratedTask, GeneratedTree } from './generator.js';

export { GIRAR_TRANSITIONS } from '../simulator-lifecycle.js';

export type MutationKind =
  | 'create' | 'run' | 'select' | 'build-progress' | 'finish-build' | 'commit' | 'rebuild' | 'awake'
  | 'approve' | 'archive' | 'add-subtask' | 'delete-subtask' | 'share' | 'abort';

export interface MutationRecord {
  id: number;
  kind: MutationKind;
  /** State before and after, when the change moved the task (archive: from DONE, no `to`). */
  from?: string;
  to?: string;
  detail?: string;
}

export interface TreeMutatorOptions {
  /** A tree from `generateTree`; its `tasks` entries are updated in place (state, archived, dir). */
  tree: GeneratedTree;
  seed: number;
  /** Epoch ms; each step stamps what it writes with this (seconds). */
  now: () => number;
}

const MODIFIABLE = new Set(['AWAITING', 'EPERM', 'FAILED', 'NEW', 'PENDING', 'POSTPONED', 'SWEPT', 'TESTED']);
const OPS: readonly (readonly [MutationKind, number])[] = [
  ['build-progress', 25], ['select', 10], ['finish-build', 12], ['run', 14], ['commit', 8], ['approve', 4],
  ['create', 3], ['archive', 4], ['add-subtask', 2], ['delete-subtask', 0.5], ['share', 2], ['abort', 1],
  ['rebuild', 2], ['awake', 3],
];

export class TreeMutator {
  private readonly tree: GeneratedTree;
  private readonly rng: Rng;
  private readonly now: () => number;
  private readonly fx = new MutatorFs();
  private readonly uidLogin = new Map<number, string>();
  private readonly loginUid = new Map<string, number>();
  private readonly isRoot = process.getuid?.() === 0;

  constructor(options: TreeMutatorOptions) {
    this.tree = options.tree;
    this.rng = new Rng(options.seed);
    this.now = options.now;
    for (const l of readFileSync(this.tree.passwdFile, 'utf8').split('\n')) {
      const [user, , uid] = l.split(':');
      if (!user || uid === undefined) continue;
      this.uidLogin.set(Number(uid), user.replace(/^alt_/, ''));
      this.loginUid.set(user.replace(/^alt_/, ''), Number(uid));
    }
  }

  /** Live well-formed tasks the mutator works on, in id order. */
  live(): GeneratedTask[] {
    return this.tree.tasks.filter((t) => !t.archived && !t.category.startsWith('broken:'));
  }

  /** A few girar-like changes (1 to 3), each applied to the tree on disk before the next. */
  step(): MutationRecord[] {
    this.fx.nowS = Math.floor(this.now() / 1000);
    const out: MutationRecord[] = [];
    for (let n = this.rng.int(1, 3); n > 0; n--) {
      const applicable = OPS.filter(([k]) => k === 'create' || this.candidates(k).length > 0);
      const kind = this.rng.weighted(applicable);
      out.push(...this.apply(kind));
    }
    return out;
  }

  private candidates(kind: MutationKind): GeneratedTask[] {
    const inState = (...s: string[]): GeneratedTask[] => this.live().filter((t) => s.includes(t.state));
    switch (kind) {
      // girar-task-run refuses an "empty task" (no acl/approved/<N> dir).
      case 'run': return inState('NEW', 'TESTED', 'FAILED', 'EPERM', 'SWEPT').filter((t) => readdirSync(`${t.dir}/acl/approved`).length > 0);
      case 'select': {
        // A few builders per repo (more for sisyphus): a repo takes another task only when one is idle.
        const busy = (repo: string): number => inState('BUILDING', 'FAILING').filter((b) => b.repo === repo).length;
        return inState('AWAITING').filter((t) => busy(t.repo) < (t.repo === 'sisyphus' ? 8 : 4));
      }
      case 'build-progress': return inState('BUILDING', 'FAILING');
      case 'finish-build': return inState('BUILDING', 'FAILING').filter((t) => this.buildFinished(t));
      case 'commit': return inState('PENDING', 'COMMITTING');
      case 'rebuild': return inState('PENDING');
      case 'awake': return inState('POSTPONED');
      case 'approve': return inState('EPERM');
      case 'archive': return inState('DONE');
      case 'add-subtask': return this.live().filter((t) => MODIFIABLE.has(t.state));
      case 'delete-subtask': return this.live().filter((t) => MODIFIABLE.has(t.state) && readdirSync(`${t.dir}/acl/approved`).length >= 2);
      case 'share': return this.live();
      case 'abort': return inState('AWAITING', 'PENDING', 'POSTPONED');
      default: return [];
    }
  }

  private apply(kind: MutationKind): MutationRecord[] {
    if (kind === 'create') return [this.create()];
    // Builders work in parallel: every running build moves on.
    if (kind === 'build-progress') return this.candidates(kind).flatMap((t) => this.buildProgress(t, readView(t.dir)));
    if (kind === 'finish-build') return this.candidates(kind).map((t) => this.finishBuild(t, readView(t.dir)));
    // gb-y-select-task: every idle builder takes the oldest AWAITING task of its repo.
    if (kind === 'select') {
      const out: MutationRecord[] = [];
      for (let t = this.candidates(kind)[0]; t; t = this.candidates(kind)[0]) {
        this.fx.put(`${t.dir}/task/version`, `${builderVersion(this.fx.nowS, this.fx.nowS)}\n`);
        out.push(this.setState(t, 'BUILDING', 'select'));
      }
      return out;
    }
    const t = this.rng.pick(this.candidates(kind));
    const v = readView(t.dir);
    switch (kind) {
      case 'run': return [this.run(t, v)];
      case 'commit': {
        if (t.state === 'PENDING') return [this.setState(t, 'COMMITTING', 'commit')];
        return [this.setState(t, this.rng.weighted([['DONE', 95.5], ['EPERM', 4], ['FAILURE', 0.5]] as const), 'commit')];
      }
      case 'rebuild':
      case 'awake': return [this.nextIteration(t, v, kind)];
      case 'approve': return [this.approve(t, v)];
      case 'archive': return [this.archive(t)];
      case 'add-subtask': return [this.addSubtask(t, v)];
      case 'delete-subtask': return [this.deleteSubtask(t, v)];
      case 'share': return [this.share(t)];
      case 'abort': {
        this.fx.put(`${t.dir}/task/abort`, '');
        const uid = this.isRoot ? this.loginUid.get(t.owner) : undefined;
        if (uid !== undefined) chownSync(`${t.dir}/task/abort`, uid, uid);
        t.abortedBy = uid !== undefined ? t.owner : this.loginOf(process.getuid?.() ?? -1);
        return [this.setState(t, 'FAILED', 'abort')];
      }
      default: return [];
    }
  }

  private loginOf(uid: number): string {
    return this.uidLogin.get(uid) ?? currentLogin();
  }

  /** girar-task-change-state: rewrite task/state, move the index link, log it, remake info.json. */
  private setState(t: GeneratedTask, to: string, kind: MutationKind, detail?: string): MutationRecord {
    const from = t.state;
    this.fx.put(`${t.dir}/task/state`, `${to}\n`);
    const idx = `${this.tree.tasksDir}/index/${t.repo}`;
    this.fx.rm(`${idx}/${from.toLowerCase()}/${t.id}`);
    this.fx.link(`../../../${t.id}`, `${idx}/${to.toLowerCase()}/${t.id}`);
    const v = readView(t.dir);
    const log = `${t.dir}/logs/events.${v.try}.${v.iter}.log`;
    if (to !== 'NEW' && v.try !== undefined && existsSync(log)) this.fx.append(log, `${stampUtc(this.fx.nowS)} :: task #${t.id} for ${t.repo} ${to}\n`);
    t.state = to;
    if (v.try !== undefined) Object.assign(t, { try: v.try, iter: v.iter });
    this.regenInfo(t);
    return { id: t.id, kind, from, to, ...(detail !== undefined ? { detail } : {}) };
  }

  private regenInfo(t: GeneratedTask): void {
    const input = readInfoInput(t.dir, t.id, this.fx.nowS, this.tree.timeZone, (uid) => this.loginOf(uid));
    this.fx.put(`${t.dir}/info.json`, renderInfoJson(input));
  }

  private create(): MutationRecord {
    const id = Number(cat(`${this.tree.tasksDir}/.max-task-id`) ?? '0') + 1;
    this.fx.put(`${this.tree.tasksDir}/.max-task-id`, `${id}\n`);
    const { model } = draftTask(this.rng, { w: world(), nowS: this.fx.nowS }, 'NEW', this.fx.nowS, true);
    model.id = id;
    const dir = `${this.tree.tasksDir}/${id}`;
    const w = new TreeWriter(emptyCounts(), { chmodFiles: true });
    writeTask(w, dir, model, { zone: this.tree.timeZone, ...(this.isRoot ? { uidOf: (l: string) => this.loginUid.get(l) } : {}) });
    w.finish(dir);
    this.fx.touch(this.tree.tasksDir);
    this.fx.link(`../../../${id}`, `${this.tree.tasksDir}/index/${model.repo}/new/${id}`);
    this.tree.tasks.push({ id, repo: model.repo, state: 'NEW', owner: model.owner, archived: false, category: model.category, features: model.features, dir });
    return { id, kind: 'create', to: 'NEW' };
  }

  /** girar-task-run: a new try (or TESTED/EPERM -> PENDING when it may be committed as is). */
  private run(t: GeneratedTask, v: TaskView): MutationRecord {
    if ((t.state === 'TESTED' && this.rng.chance(0.25)) || (t.state === 'EPERM' && this.aclAllows(v) && this.rng.chance(0.5))) {
      this.fx.rm(`${t.dir}/task/test-only`);
      return this.setState(t, 'PENDING', 'run', 'commit');
    }
    const tryN = (v.try ?? 0) + 1;
    this.fx.put(`${t.dir}/task/try`, `${tryN}\n`);
    this.fx.put(`${t.dir}/task/iter`, '1\n');
    this.fx.put(`${t.dir}/task/run`, `${t.owner}\n`);
    const first = v.subtasks.find((s) => s.pkg);
    if (this.rng.chance(0.7)) this.fx.put(`${t.dir}/task/message`, `${runMessage(this.rng, first?.pkg ?? 'pkg', first?.evr ?? '1.0')}\n`);
    this.fx.rm(`${t.dir}/task/abort`);
    delete t.abortedBy;
    this.fx.mkdir(`${t.dir}/logs`, 0o775);
    this.fx.put(`${t.dir}/logs/events.${tryN}.1.log`, `${stampUtc(this.fx.nowS)} :: task #${t.id} for ${t.repo} ${tryN === 1 ? 'started' : 'resumed'} by ${t.owner}:\n`);
    return this.setState(t, v.depends.length > 0 ? 'POSTPONED' : 'AWAITING', 'run');
  }

  private nextIteration(t: GeneratedTask, v: TaskView, kind: MutationKind): MutationRecord {
    const iter = (v.iter ?? 1) + 1;
    this.fx.put(`${t.dir}/task/iter`, `${iter}\n`);
    this.fx.put(`${t.dir}/logs/events.${v.try}.${iter}.log`, `${stampUtc(this.fx.nowS)} :: task #${t.id} for ${t.repo} iteration ${iter}\n`);
    return this.setState(t, 'AWAITING', kind);
  }

  private buildFinished(t: GeneratedTask): boolean {
    const items = buildItems(readView(t.dir), t.repo);
    if (items.some((i) => i.state === 'running')) return false;
    const stopped = t.state === 'FAILING' && existsSync(`${t.dir}/task/fail-early`);
    return stopped || !items.some((i) => i.state === 'pending');
  }

  /** Finishes one or two running arches and starts the next ones (subtask by subtask). */
  private buildProgress(t: GeneratedTask, v: TaskView): MutationRecord[] {
    const items = buildItems(v, t.repo);
    const notes: string[] = [];
    let failed = false;
    // Arches build in parallel: most steps see several of them finish.
    for (const it of items.filter((i) => i.state === 'running').filter(() => this.rng.chance(0.85))) {
      if (this.rng.chance(0.015) && !excludedReason(it.sub.pkg ?? '', it.arch)) {
        this.fx.put(`${it.path}/status`, '');
        this.fx.append(`${it.path}/log`, `${elapsed(this.fx.nowS - v.iterS)} hsh-rebuild: build failed\n`);
        failed = true;
        notes.push(`${it.sub.n}/${it.arch} failed`);
      } else {
        notes.push(`${it.sub.n}/${it.arch} ${this.finishItem(it, v)}`);
      }
    }
    if (!(t.state === 'FAILING' && v.failEarly)) {
      const pending = items.filter((i) => i.state === 'pending');
      const next = new Set([...new Set(pending.map((i) => i.sub))].slice(0, this.rng.int(1, 2)));
      for (const it of pending.filter((i) => next.has(i.sub) && this.rng.chance(0.85))) {
        this.fx.mkdir(`${v.dir}/build`, 0o775);
        this.fx.mkdir(`${v.dir}/build/${it.sub.n}`, 0o775);
        this.fx.mkdir(it.path, 0o775);
        if (!existsSync(`${v.dir}/build/${it.sub.n}/pkgname`)) this.fx.put(`${v.dir}/build/${it.sub.n}/pkgname`, `${it.sub.pkg}\n`);
        this.fx.put(`${it.path}/status`, '');
        this.fx.rm(`${it.path}/try_iter`);
        this.fx.rm(`${it.path}/excluded`);
        this.fx.put(`${it.path}/log`, `${elapsed(0)} hsh-rebuild: ${it.sub.vr}.src.rpm for ${it.arch}\n`);
        notes.push(`${it.sub.n}/${it.arch} started`);
      }
    }
    const rec: MutationRecord = { id: t.id, kind: 'build-progress', detail: notes.join(', ') };
    return failed && t.state === 'BUILDING' ? [rec, this.setState(t, 'FAILING', 'build-progress', 'first failure')] : [rec];
  }

  private finishItem(it: BuildItem, v: TaskView): string {
    const reason = excludedReason(it.sub.pkg ?? '', it.arch);
    const rerun = (v.try ?? 1) > 1 || (v.iter ?? 1) > 1;
    const status = reason ? 'excluded' : v.swift && this.rng.chance(0.7) ? 'swept' : rerun && this.rng.chance(0.35) ? 'cached' : 'built';
    if (reason) this.fx.put(`${it.path}/excluded`, reason);
    this.fx.append(`${it.path}/log`, `${elapsed(this.fx.nowS - v.iterS)} hsh-rebuild: ${status === 'cached' ? 'reused cached build' : 'build OK'}\n`);
    this.fx.put(`${it.path}/status`, `${status}\n`);
    this.fx.put(`${it.path}/try_iter`, `${v.try}.${v.iter}`);
    return status;
  }

  /** The `plan/check_acl` rows of the task, with who approved and disapproved each subtask. */
  private rows(v: TaskView): (AclRow & { n: string })[] {
    const names = (d: string): string[] => (existsSync(d) ? readdirSync(d).sort() : []);
    return v.subtasks.filter((s) => s.pkg).map((s) => ({
      n: s.n, pkg: s.pkg as string, author: s.userid,
      approvers: names(`${v.dir}/acl/approved/${s.n}`), disapprovers: names(`${v.dir}/acl/disapproved/${s.n}`),
    }));
  }

  private aclAllows(v: TaskView): boolean {
    return this.rows(v).every((r) => rowAllowed(world(), r));
  }

  /** gb-build-task's verdict: FAILED, or TESTED / EPERM / SWEPT / PENDING with a fresh plan. */
  private finishBuild(t: GeneratedTask, v: TaskView): MutationRecord {
    if (t.state === 'FAILING') return this.setState(t, 'FAILED', 'finish-build');
    this.fx.mkdir(`${v.dir}/plan`, 0o775);
    const live = this.liveSubtasks(v);
    this.fx.put(`${v.dir}/plan/check_acl`, live.filter((s) => s.pkg).map((s) => `${s.n}\t${s.pkg}\n`).join(''));
    this.fx.put(`${v.dir}/plan/add-src`, live.filter((s) => s.buildable && s.evr).map((s) =>
      `${s.pkg}\t${s.evr}\t${s.vr}.src.rpm\t/tasks/${t.id}/build/${s.n}/x86_64/srpm\t${s.n}\n`).join(''));
    const to = v.testOnly ? 'TESTED' : !this.aclAllows(v) ? 'EPERM' : v.swift ? 'SWEPT' : 'PENDING';
    return this.setState(t, to, 'finish-build');
  }

  private liveSubtasks(v: TaskView): TaskView['subtasks'] {
    return v.subtasks.filter((s) => s.pkg !== undefined);
  }

  private approve(t: GeneratedTask, v: TaskView): MutationRecord {
    const w = world();
    const rows = this.rows(v);
    if (rows.length === 0) return { id: t.id, kind: 'approve', detail: 'no subtask to approve' };
    const row = this.rng.pick(rows);
    const taken = new Set([row.author, ...row.approvers, ...row.disapprovers]);
    const pool = [...new Set([...w.maint, ...w.tester])].filter((l) => !taken.has(l)).sort();
    if (pool.length === 0) return { id: t.id, kind: 'approve', detail: 'nobody left to approve' };
    const login = this.rng.pick(pool);
    const d = `${t.dir}/acl/approved/${row.n}`;
    this.fx.mkdir(d, 0o2775);
    const comment = approvalComment(this.rng, false);
    this.fx.put(`${d}/${login}`, `${stampUtc(this.fx.nowS)} :: approved by ${login}\n${comment.map((l) => `${l}\n`).join('')}`);
    this.regenInfo(t);
    return { id: t.id, kind: 'approve', detail: `${row.n}:${login}` };
  }

  /**
   * Drops the oldest archived tasks beyond `keep` (their archive copy and index link), so a tree
   * mutated for hours (the demo farm, the soak test at 100x) stays the same size instead of
   * growing by every task it archives. Returns how many were dropped.
   */
  pruneArchive(keep: number): number {
    const archived = this.tree.tasks.filter((t) => t.archived).sort((a, b) => a.id - b.id);
    const drop = archived.slice(0, Math.max(0, archived.length - keep));
    for (const t of drop) {
      this.fx.rm(`${this.tree.tasksDir}/index/${t.repo}/done/${t.id}`);
      this.fx.rm(t.dir);
    }
    if (drop.length > 0) {
      const gone = new Set(drop);
      for (let i = this.tree.tasks.length - 1; i >= 0; i--) if (gone.has(this.tree.tasks[i] as GeneratedTask)) this.tree.tasks.splice(i, 1);
    }
    return drop.length;
  }

  /** The archiver's import, then gb-y-reap-archived-repo-task: re-link the index, drop the live copy. */
  private archive(t: GeneratedTask): MutationRecord {
    const bucket = `${this.tree.archiveDir}/_${Math.floor(t.id / 1024)}`;
    this.fx.mkdir(bucket, 0o775);
    const dst = `${bucket}/${t.id}`;
    this.fx.copyArchived(t.dir, dst);
    this.fx.touch(bucket);
    this.fx.link(`../../../archive/done/_${Math.floor(t.id / 1024)}/${t.id}`, `${this.tree.tasksDir}/index/${t.repo}/done/${t.id}`);
    this.fx.rm(t.dir);
    t.archived = true;
    t.dir = dst;
    return { id: t.id, kind: 'archive', from: 'DONE' };
  }

  private addSubtask(t: GeneratedTask, v: TaskView): MutationRecord {
    const last = v.subtasks.reduce((m, s) => Math.max(m, parseInt(s.n, 8)), 0);
    const n = last === 0 ? subtaskNumber(0) : (last + 0o100).toString(8);
    const s = addedSubtask(this.rng, world(), n, t.owner, t.repo);
    s.addedS = this.fx.nowS;
    if (s.dir) s.fetchedS = this.fx.nowS;
    const w = new TreeWriter(emptyCounts(), { chmodFiles: true });
    writeSubtask(w, t.dir, t.owner, s);
    w.finish();
    for (const d of ['gears', 'acl/approved', 'acl/disapproved']) this.fx.touch(`${t.dir}/${d}`);
    return this.setState(t, 'NEW', 'add-subtask', n);
  }

  /** girar-task-delsub: everything but gears/<N>/userid goes. */
  private deleteSubtask(t: GeneratedTask, v: TaskView): MutationRecord {
    const s = this.rng.pick(this.liveSubtasks(v).slice(1));
    const g = `${t.dir}/gears/${s.n}`;
    for (const name of readdirSync(g).sort()) if (name !== 'userid') this.fx.rm(`${g}/${name}`);
    for (const d of ['build', 'acl/approved', 'acl/disapproved', 'check-git-inheritance', 'check-lastchange-inheritance']) this.fx.rm(`${t.dir}/${d}/${s.n}`);
    return this.setState(t, 'NEW', 'delete-subtask', s.n);
  }

  /** girar-task-share: chmod g±w gears acl/approved acl/disapproved. */
  private share(t: GeneratedTask): MutationRecord {
    const shared = (lstatSync(`${t.dir}/gears`).mode & 0o020) !== 0;
    for (const d of ['gears', 'acl/approved', 'acl/disapproved']) {
      const p = `${t.dir}/${d}`;
      const mode = lstatSync(p).mode & 0o7777;
      chmodSync(p, shared ? mode & ~0o020 : mode | 0o020);
    }
    this.regenInfo(t);
    return { id: t.id, kind: 'share', detail: shared ? 'unshared' : 'shared' };
  }
}

/** Whether `from -> to` is a girar transition (a reset to NEW is allowed from any modifiable state). */
export function isGirarTransition(from: string, to: string): boolean {
  if (to === 'NEW' && MODIFIABLE.has(from)) return true;
  return (GIRAR_TRANSITIONS[from] ?? []).includes(to);
}
