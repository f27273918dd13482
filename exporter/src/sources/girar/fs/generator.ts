/**
 * A deterministic generator of realistic girar `/tasks` trees (reference/girar.md §2, §3): live
 * task directories in every state, the per-repo index, archived DONE tasks as the archiver leaves
 * them, ACL lists, a passwd file, and deliberately broken entries. Same options, same bytes,
 * modes and mtimes. A tool for tests and demo mode, not for the daemon (writes are synchronous).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Rng } from '../prng.js';
import { BROKEN_REASONS, planBroken, writeBroken, type BrokenDraft, type BrokenReason } from './generator-broken.js';
import { currentLogin, emptyCounts, TreeWriter, withGirarUmask, type WriteCounts } from './generator-fs.js';
import { DAY_S, GEN_REPOS, GIRAR_STATES, STATE_WEIGHTS, type GirarState, type TaskModel } from './generator-model.js';
import { draftTask, stateTime, type Draft, type PlanContext } from './generator-plan.js';
import { logUniform } from './generator-runs.js';
import { archiveExcluded, writeTask, type TaskWriteEnv } from './generator-task.js';
import { isTimeZoneName } from './generator-time.js';
import { ACL_REPOS, renderGroupList, renderPackageList, renderPasswd, world } from './generator-world.js';

export { BROKEN_REASONS, type BrokenReason } from './generator-broken.js';
export { GIRAR_STATES, type GirarState } from './generator-model.js';

export interface GenerateOptions {
  /** Writes `<root>/tasks` (live tree), `<root>/tasks/archive/done`, `<root>/acl` and `<root>/passwd`. */
  root: string;
  /** Number of well-formed live task dirs; archived DONE tasks (~tasks/4) and broken entries come on top. */
  tasks: number;
  seed: number;
  /** Epoch ms; every mtime derives from it. */
  now: number;
  /** Lowest id (default 400000); ids strictly increase with creation time, with gaps. */
  firstId?: number;
  /** Include the deliberately broken entries (default true). */
  broken?: boolean;
  /** The girar server's zone for info.json `build_time` / `fetched` (default UTC). */
  timeZone?: string;
}

export interface GeneratedTask {
  id: number;
  repo: string;
  /** The state on disk ('' when `task/state` is missing or empty). */
  state: string;
  owner: string;
  archived: boolean;
  /** Main trait: gear, srpm-only, copy, legacy-copy, delete, mixed, image, deleted-subtask, aborted, eperm-<none|tester|maint|disapproved>, broken:<reason>. */
  category: string;
  /** Every trait of the task (e.g. stale-try-iter, in-progress, shared, multi-iter); empty for broken entries. */
  features: string[];
  /** Absolute path of the task directory (or of the broken entry). */
  dir: string;
  try?: number;
  iter?: number;
  /**
   * Who aborted the task: the owner of `task/abort` minus `alt_`. When the generator runs as root
   * the file is chowned to `alt_<aborter>` (uid from `<root>/passwd`); otherwise the file belongs
   * to the user running the generator, and this (and info.json) says that user's name.
   */
  abortedBy?: string;
  /** EPERM tasks: the group `girar task ls --needs-approval=<group>` lists it for; null: denied for both. */
  needsApproval?: 'maint' | 'tester' | null;
}

export interface GeneratedTree {
  root: string;
  tasksDir: string;
  archiveDir: string;
  aclDir: string;
  passwdFile: string;
  timeZone: string;
  /** Every entry named like a task id: archived, live and broken, in id order. */
  tasks: GeneratedTask[];
  broken: { id: number; reason: BrokenReason; path: string }[];
  /** Non-task entries of `/tasks` a reader must ignore. */
  ignored: { path: string; reason: string }[];
  maxId: number;
  counts: WriteCounts;
}

export interface TreePlan {
  nowS: number;
  /** Live well-formed tasks, in id order. */
  live: TaskModel[];
  archived: TaskModel[];
  broken: BrokenDraft[];
  /** A task scrapped to `stale/` (no state change for 4 weeks). */
  stale: TaskModel;
  /** Archived tasks whose index `done/` link points into the archive. */
  doneLinkIds: number[];
  maxId: number;
  /** mtime of `.max-task-id`: when the highest id was allocated. */
  maxIdS: number;
}

function mix(...xs: number[]): number {
  let h = 0x811c9dc5;
  for (const x of xs) {
    h = Math.imul(h ^ (x >>> 0), 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
  }
  return h >>> 0;
}

/** Exact state counts for `n` live tasks (largest remainder), FAILURE exactly once from 50 tasks. */
export function stateQuota(n: number): GirarState[] {
  const failure = n >= 50 ? 1 : 0;
  const m = n - failure;
  const total = STATE_WEIGHTS.reduce((a, [, w]) => a + w, 0);
  const rows = STATE_WEIGHTS.map(([s, w], i) => ({ s, i, exact: (m * w) / total, count: Math.floor((m * w) / total) }));
  let left = m - rows.reduce((a, r) => a + r.count, 0);
  for (const r of [...rows].sort((a, b) => b.exact - b.count - (a.exact - a.count) || a.i - b.i)) {
    if (left-- <= 0) break;
    r.count++;
  }
  const out: GirarState[] = rows.flatMap((r) => Array.from({ length: r.count }, () => r.s));
  if (failure) out.push('FAILURE');
  return out;
}

function validate(o: Omit<GenerateOptions, 'root'>): void {
  if (!Number.isInteger(o.tasks) || o.tasks < 0) throw new RangeError(`tasks must be a non-negative integer, got ${o.tasks}`);
  if (!Number.isInteger(o.seed)) throw new RangeError(`seed must be an integer, got ${o.seed}`);
  if (!Number.isFinite(o.now) || o.now < 100 * DAY_S * 1000) throw new RangeError(`now must be epoch milliseconds, got ${o.now}`);
  if (o.firstId !== undefined && (!Number.isInteger(o.firstId) || o.firstId < 1)) throw new RangeError(`firstId must be a positive integer, got ${o.firstId}`);
  if (o.timeZone !== undefined && !isTimeZoneName(o.timeZone)) throw new RangeError(`unknown time zone ${JSON.stringify(o.timeZone)}`);
}

/** Everything `generateTree` writes, planned in memory (deterministic; no I/O). */
export function planTree(options: Omit<GenerateOptions, 'root'>): TreePlan {
  validate(options);
  const nowS = Math.floor(options.now / 1000);
  const ctx: PlanContext = { w: world(), nowS };
  const seed = options.seed >>> 0;
  const states = stateQuota(options.tasks);
  const shuffle = new Rng(mix(seed, 1));
  for (let i = states.length - 1; i > 0; i--) {
    const j = shuffle.int(0, i);
    [states[i], states[j]] = [states[j] as GirarState, states[i] as GirarState];
  }
  const live: Draft[] = states.map((state, i) => {
    const rng = new Rng(mix(seed, 2, i));
    return draftTask(rng, ctx, state, stateTime(rng, state, nowS));
  });
  const minLiveCreated = live.reduce((min, d) => Math.min(min, d.model.createdS), nowS - 28 * DAY_S);
  const archived = Array.from({ length: Math.round(options.tasks / 4) }, (_, i) => {
    const rng = new Rng(mix(seed, 3, i));
    return draftTask(rng, ctx, 'DONE', minLiveCreated - logUniform(rng, 3600, 50 * DAY_S)).model;
  });
  const staleRng = new Rng(mix(seed, 4));
  const stale = draftTask(staleRng, ctx, 'FAILED', nowS - staleRng.int(29 * DAY_S, 40 * DAY_S)).model;
  const broken = options.broken === false ? [] : planBroken(seed, ctx);

  const ids = new Rng(mix(seed, 5));
  let next = options.firstId ?? 400000;
  const take = (): number => {
    const id = next;
    next += 1 + (ids.chance(0.35) ? ids.int(1, 6) : 0);
    return id;
  };
  const byCreation = <T>(items: T[], created: (t: T) => number): T[] =>
    items.map((t, i) => ({ t, i, c: created(t) })).sort((a, b) => a.c - b.c || a.i - b.i).map((x) => x.t);
  for (const m of byCreation(archived, (m) => m.createdS)) m.id = take();
  stale.id = take();
  type Entry = { draft: Draft } | { broken: BrokenDraft };
  const entries: Entry[] = [...live.map((draft) => ({ draft })), ...broken.map((b) => ({ broken: b }))];
  const createdOf = (e: Entry): number => ('draft' in e ? e.draft.model.createdS : e.broken.reason === 'no-state' ? Infinity : e.broken.createdS);
  for (const e of byCreation(entries, createdOf)) {
    if ('draft' in e) e.draft.model.id = take();
    else e.broken.id = take();
  }
  for (const b of broken) if (b.model) b.model.id = b.id;
  live.sort((a, b) => a.model.id - b.model.id);
  archived.sort((a, b) => a.id - b.id);
  fillDepends(new Rng(mix(seed, 6)), live);
  const maxId = entries.reduce((max, e) => Math.max(max, 'draft' in e ? e.draft.model.id : e.broken.id), stale.id);
  const maxIdS = entries.reduce((max, e) => Math.max(max, Math.min(nowS, createdOf(e))), stale.createdS);
  return { nowS, live: live.map((d) => d.model), archived, broken, stale, doneLinkIds: archived.slice(-5).map((m) => m.id), maxId, maxIdS };
}

/** `task/depends`: ids of older live tasks that are not DONE, same repo when possible. */
function fillDepends(rng: Rng, live: Draft[]): void {
  for (const d of live) {
    if (d.wantDepends === 0) continue;
    const older = live.filter((o) => o.model.id < d.model.id && o.model.state !== 'DONE');
    const sameRepo = older.filter((o) => o.model.repo === d.model.repo);
    const pool = sameRepo.length >= d.wantDepends ? sameRepo : older;
    const picked = new Set<number>();
    for (let i = 0; i < d.wantDepends && pool.length > 0; i++) picked.add(rng.pick(pool.slice(-40)).model.id);
    d.model.depends = [...picked].sort((a, b) => a - b);
    if (d.model.depends.length > 0) d.model.features = [...d.model.features, 'depends'].sort();
  }
}

/** Writes a tree under `options.root` (which must not hold a `tasks` directory yet). */
export function generateTree(options: GenerateOptions): GeneratedTree {
  const plan = planTree(options);
  const root = resolve(options.root);
  if (existsSync(`${root}/tasks`)) throw new Error(`${root}/tasks already exists`);
  mkdirSync(root, { recursive: true });
  return withGirarUmask((chmodFiles) => writeTree(root, options.timeZone ?? 'UTC', plan, chmodFiles));
}

function writeTree(root: string, zone: string, plan: TreePlan, chmodFiles: boolean): GeneratedTree {
  const w = world();
  const { nowS } = plan;
  const tasksDir = `${root}/tasks`;
  const archiveDir = `${tasksDir}/archive/done`;
  const aclDir = `${root}/acl`;
  const passwdFile = `${root}/passwd`;
  const counts = emptyCounts();
  const isRoot = process.getuid?.() === 0;
  const env: TaskWriteEnv = { zone, ...(isRoot ? { uidOf: (l: string) => w.byLogin.get(l)?.uid } : {}) };
  if (!isRoot) {
    const me = currentLogin();
    for (const m of [...plan.live, ...plan.broken.flatMap((b) => (b.model ? [b.model] : []))]) if (m.abort) m.abort.by = me;
  }
  const newWriter = (archive = false): TreeWriter =>
    new TreeWriter(counts, archive ? { chmodFiles, archive: { exclude: archiveExcluded } } : { chmodFiles });
  const top = newWriter();
  const baseS = nowS - 90 * DAY_S;
  top.dir(tasksDir, 0o3775, baseS);
  top.dir(`${tasksDir}/index`, 0o755, baseS);
  for (const repo of GEN_REPOS) {
    top.dir(`${tasksDir}/index/${repo.name}`, 0o755, baseS);
    for (const s of GIRAR_STATES) top.dir(`${tasksDir}/index/${repo.name}/${s.toLowerCase()}`, 0o755, baseS);
  }
  const tasks: GeneratedTask[] = [];
  const summary = (m: TaskModel, dir: string, archived: boolean): GeneratedTask => ({
    id: m.id, repo: m.repo, state: m.state, owner: m.owner, archived, category: m.category, features: m.features, dir,
    ...(m.try !== undefined ? { try: m.try, iter: m.iter } : {}),
    ...(m.abort ? { abortedBy: m.abort.by } : {}),
    ...(m.needsApproval !== undefined ? { needsApproval: m.needsApproval } : {}),
  });
  const writeLive = (m: TaskModel, parent: string): string => {
    const dir = `${parent}/${m.id}`;
    const lw = newWriter();
    writeTask(lw, dir, m, env);
    top.touched(parent, lw.finish(dir));
    return dir;
  };

  top.dir(`${tasksDir}/archive`, 0o755, baseS);
  top.dir(archiveDir, 0o755, baseS);
  for (const m of plan.archived) {
    const bucket = `${archiveDir}/_${Math.floor(m.id / 1024)}`;
    top.dir(bucket, 0o775, m.createdS);
    const dir = `${bucket}/${m.id}`;
    const aw = newWriter(true);
    writeTask(aw, dir, m, env);
    top.touched(bucket, aw.finish(dir));
    tasks.push(summary(m, dir, true));
    if (plan.doneLinkIds.includes(m.id)) {
      top.symlink(`../../../archive/done/_${Math.floor(m.id / 1024)}/${m.id}`, `${tasksDir}/index/${m.repo}/done/${m.id}`, m.stateS + 1800);
    }
  }
  for (const m of plan.live) {
    tasks.push(summary(m, writeLive(m, tasksDir), false));
    top.symlink(`../../../${m.id}`, `${tasksDir}/index/${m.repo}/${m.state.toLowerCase()}/${m.id}`, m.stateS);
  }
  const broken: GeneratedTree['broken'] = [];
  const targetId = plan.live[plan.live.length - 1]?.id ?? plan.archived[0]?.id ?? 0;
  for (const b of plan.broken) {
    const { path, state } = writeBroken(b, { top, counts, tasksDir, env, newWriter, targetId, nowS });
    broken.push({ id: b.id, reason: b.reason, path });
    const m = b.model;
    tasks.push({
      id: b.id, repo: m?.repo ?? '', state, owner: m?.owner ?? '', archived: false, category: `broken:${b.reason}`, features: [],
      dir: `${tasksDir}/${b.id}`, ...(m?.try !== undefined ? { try: m.try, iter: m.iter } : {}), ...(m?.abort ? { abortedBy: m.abort.by } : {}),
    });
    if (m && b.reason !== 'no-state') top.symlink(`../../../${b.id}`, `${tasksDir}/index/${m.repo}/${m.state.toLowerCase()}/${b.id}`, m.stateS);
  }

  const ignored: GeneratedTree['ignored'] = [];
  top.dir(`${tasksDir}/.archived`, 0o775, baseS);
  const copied = plan.archived.find((m) => m.id === plan.doneLinkIds[plan.doneLinkIds.length - 1]);
  if (copied) ignored.push({ path: writeLive(copied, `${tasksDir}/.archived`), reason: 'active copy of an archived DONE task' });
  top.dir(`${tasksDir}/stale`, 0o1770, baseS);
  ignored.push({ path: writeLive(plan.stale, `${tasksDir}/stale`), reason: 'scrapped stale task (no state change for 28 days)' });
  top.dir(`${tasksDir}/.rm`, 0o700, baseS);
  ignored.push({ path: `${tasksDir}/.rm`, reason: 'girar removal area' });
  top.file(`${tasksDir}/README`, 'Task directories of the girar build system; see TASK in girar sources.\n', baseS);
  ignored.push({ path: `${tasksDir}/README`, reason: 'stray file' });
  top.file(`${tasksDir}/.max-task-id`, `${plan.maxId}\n`, plan.maxIdS);

  top.dir(aclDir, 0o755, baseS);
  for (const repo of ACL_REPOS) {
    top.file(`${aclDir}/list.packages.${repo}`, renderPackageList(w), nowS - 1800, 0o644);
    top.file(`${aclDir}/list.groups.${repo}`, renderGroupList(w), nowS - 1800, 0o644);
  }
  top.file(passwdFile, renderPasswd(w), baseS, 0o644);
  top.finish();
  tasks.sort((a, b) => a.id - b.id);
  return { root, tasksDir, archiveDir, aclDir, passwdFile, timeZone: zone, tasks, broken, ignored, maxId: plan.maxId, counts };
}
