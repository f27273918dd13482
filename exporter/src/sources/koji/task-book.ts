/**
 * The Koji tasks and builds the exporter holds between polls: the rows last read, the Task each
 * became (the same object while nothing changed, so the store skips it), parents' subtask lists
 * from their children, which ids were ever seen (to tell a new task from one seen before), and
 * retention (finished records go after `keep_finished`, the oldest first beyond `max_tasks`).
 */
import { TERMINAL_PHASES, type Task } from '../../model/task.js';
import { checkBuild, checkTask, type KojiBuild, type KojiTask } from './upstream.js';
import { childSubtasks, kojiBuild, kojiTask, summarizeRequest, taskState, type RequestSummary, type TaskContext } from './normalize.js';

/** Ids remembered as seen, per kind; the oldest are forgotten first. */
const SEEN_IDS = 200_000;
/** Owner names remembered (getTaskInfo rows carry only the numeric owner). */
const OWNER_NAMES = 20_000;

interface HeldTask {
  row: KojiTask;
  task: Task;
  summary?: RequestSummary;
  /** Exporter epoch ms this task's row was last read. */
  readAt: number;
}

interface HeldBuild {
  row: KojiBuild;
  task: Task;
  readAt: number;
}

export interface BookContext extends Omit<TaskContext, 'ownerName' | 'summary'> {
  now: number;
}

/** The request summary a kept task was built with, read back from its message and target. */
function keptSummary(row: KojiTask, task: Task): RequestSummary | undefined {
  const label = typeof row.label === 'string' && row.label !== '' ? ` (${row.label})` : '';
  const prefix = `${row.method}${label}: `;
  const text = task.message?.startsWith(prefix) ? task.message.slice(prefix.length) : undefined;
  const target = typeof task.attrs?.target === 'string' ? task.attrs.target : undefined;
  if (text === undefined && target === undefined) return undefined;
  return { text: text ?? '', ...(target !== undefined ? { target } : {}) };
}

function remember<T>(seen: Set<T>, id: T, max: number): void {
  seen.delete(id);
  seen.add(id);
  if (seen.size > max) seen.delete(seen.values().next().value as T);
}

/** Equal as the API would show them, whatever the key order (records are plain JSON-like data). */
function sameTask(a: Task, b: Task): boolean {
  return same(a, b);
}

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

export class TaskBook {
  private readonly tasks = new Map<number, HeldTask>();
  private readonly builds = new Map<number, HeldBuild>();
  private readonly children = new Map<number, Set<number>>();
  private readonly seenTasks = new Set<number>();
  private readonly seenBuilds = new Set<number>();
  private readonly owners = new Map<number, string>();
  /** Parents whose subtask list must be rebuilt after this poll's rows. */
  private readonly dirtyParents = new Set<number>();

  get taskCount(): number {
    return this.tasks.size;
  }

  get buildCount(): number {
    return this.builds.size;
  }

  hasSeenTask(id: number): boolean {
    return this.seenTasks.has(id);
  }

  hasSeenBuild(id: number): boolean {
    return this.seenBuilds.has(id);
  }

  task(id: number): { row: KojiTask; task: Task } | undefined {
    return this.tasks.get(id);
  }

  build(id: number): { row: KojiBuild; task: Task } | undefined {
    return this.builds.get(id);
  }

  /** Take a task row; returns true when the exporter had never seen this task before. */
  putTask(row: KojiTask, ctx: BookContext): boolean {
    const prev = this.tasks.get(row.id);
    if (typeof row.owner_name === 'string' && row.owner_name !== '') {
      this.owners.delete(row.owner);
      this.owners.set(row.owner, row.owner_name);
      if (this.owners.size > OWNER_NAMES) this.owners.delete(this.owners.keys().next().value as number);
    }
    const summary = summarizeRequest(row.method, row.request) ?? prev?.summary;
    const { request: _request, result: _result, ...rest } = row;
    // getTaskInfo rows lack listTasks' owner_name and owner_type: fields of the earlier row stay (the hub sends nil, never
    // leaves a field out, so nothing stale stays), as for builds, so the record does not flap between the two shapes.
    const kept: KojiTask = prev && prev.row.owner === row.owner ? { ...prev.row, ...rest } : rest;
    const ownerName = row.owner_name ?? this.owners.get(row.owner);
    let task = kojiTask(kept, { ...ctx, ...(ownerName !== undefined ? { ownerName } : {}) }, summary);
    if (prev) {
      task = { ...task, subtasks: prev.task.subtasks, archs: prev.task.subtasks.length > 0 ? prev.task.archs : task.archs };
      if (sameTask(prev.task, task)) task = prev.task;
    }
    if (prev && prev.row.parent !== row.parent && prev.row.parent !== null) this.unlink(prev.row.parent, row.id);
    if (!prev && this.children.has(row.id)) this.dirtyParents.add(row.id);
    if (row.parent !== null) {
      let set = this.children.get(row.parent);
      if (!set) this.children.set(row.parent, (set = new Set()));
      set.add(row.id);
      if (!prev || prev.task !== task) this.dirtyParents.add(row.parent);
    }
    this.tasks.set(row.id, { row: kept, task, ...(summary ? { summary } : {}), readAt: ctx.now });
    const fresh = !this.seenTasks.has(row.id);
    remember(this.seenTasks, row.id, SEEN_IDS);
    return fresh;
  }

  /**
   * Drop a task. `forget`: the hub no longer knows it (getTaskInfo answered nil), so it is also
   * no longer "seen": should it come back, it is new again (it was never counted as ended).
   */
  dropTask(id: number, opts: { forget?: boolean } = {}): void {
    if (opts.forget) this.seenTasks.delete(id);
    const held = this.tasks.get(id);
    if (!held) return;
    this.tasks.delete(id);
    if (held.row.parent !== null) {
      this.unlink(held.row.parent, id);
      this.dirtyParents.add(held.row.parent);
    }
  }

  /** Take a build row; returns true when never seen before. */
  putBuild(read: KojiBuild, ctx: BookContext): boolean {
    const prev = this.builds.get(read.build_id);
    // getBuild rows add id, cg_id and cg_name to listBuilds' fields: keep them (the record leaves out those that say nothing, see nativeBuild).
    const row: KojiBuild = prev ? { ...prev.row, ...read } : read;
    const parent = row.task_id === null ? undefined : this.tasks.get(row.task_id);
    const target = parent?.summary?.target ?? (typeof prev?.task.attrs?.target === 'string' ? prev.task.attrs.target : undefined);
    let task = kojiBuild(row, ctx.source, ctx.web, target);
    if (prev && sameTask(prev.task, task)) task = prev.task;
    this.builds.set(row.build_id, { row, task, readAt: ctx.now });
    const fresh = !this.seenBuilds.has(row.build_id);
    remember(this.seenBuilds, row.build_id, SEEN_IDS);
    return fresh;
  }

  /** Forget a build the hub no longer knows (getBuild answered nil). */
  dropBuild(id: number): void {
    this.builds.delete(id);
    this.seenBuilds.delete(id);
  }

  /**
   * Hold again the records an earlier run kept (the journal's), each as it was: a row read
   * later merges into the kept row (so a listing's shorter row shape does not change the record)
   * and is compared with the kept Task, and their ids count as seen. `readAt` 0: the rolling
   * audit re-reads kept unfinished records first, since they may have ended meanwhile.
   */
  restore(kept: readonly Task[]): void {
    for (const task of kept) {
      const native: unknown = task.native;
      if (task.id.startsWith('build-')) {
        if (!checkBuild.Check(native) || `build-${native.build_id}` !== task.id) continue;
        this.builds.set(native.build_id, { row: native, task, readAt: 0 });
        remember(this.seenBuilds, native.build_id, SEEN_IDS);
        continue;
      }
      if (!checkTask.Check(native) || String(native.id) !== task.id) continue;
      const row: KojiTask = native;
      if (typeof row.owner_name === 'string' && row.owner_name !== '') this.owners.set(row.owner, row.owner_name);
      const summary = keptSummary(row, task);
      this.tasks.set(row.id, { row, task, ...(summary ? { summary } : {}), readAt: 0 });
      if (row.parent !== null) {
        let set = this.children.get(row.parent);
        if (!set) this.children.set(row.parent, (set = new Set()));
        set.add(row.id);
      }
      remember(this.seenTasks, row.id, SEEN_IDS);
    }
  }

  /** Rebuild the subtask lists of parents whose children changed. */
  settle(): void {
    for (const parentId of this.dirtyParents) {
      const parent = this.tasks.get(parentId);
      if (!parent) continue;
      const kids = [...(this.children.get(parentId) ?? [])].map((id) => this.tasks.get(id)?.task).filter((t): t is Task => t !== undefined);
      const subtasks = childSubtasks(kids);
      // A parent's arches are its own (unless noarch) and its children's: a `build` task is found by `arch=x86_64`.
      const own = parent.row.arch && parent.row.arch !== 'noarch' ? [parent.row.arch] : [];
      const archs = [...new Set([...own, ...subtasks.flatMap((s) => s.archs.map((a) => a.arch))])];
      const next = { ...parent.task, subtasks, archs: archs.length > 0 ? archs : parent.task.archs };
      if (!sameTask(parent.task, next)) this.tasks.set(parentId, { ...parent, task: next });
    }
    this.dirtyParents.clear();
  }

  /** Unfinished task ids by state word. */
  unfinished(state?: string): number[] {
    const out: number[] = [];
    for (const [id, h] of this.tasks) if (!TERMINAL_PHASES.has(h.task.phase) && (state === undefined || h.task.state === state)) out.push(id);
    return out;
  }

  /** Up to `n` unfinished tasks, those read longest ago first (the rolling audit). */
  stalest(n: number, exclude: ReadonlySet<number>): number[] {
    if (n <= 0) return [];
    const candidates: [number, number][] = [];
    for (const [id, h] of this.tasks) if (!TERMINAL_PHASES.has(h.task.phase) && !exclude.has(id)) candidates.push([h.readAt, id]);
    candidates.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    return candidates.slice(0, n).map(([, id]) => id);
  }

  /** Up to `n` builds still building, read longest ago first. */
  stalestBuilds(n: number): number[] {
    const candidates: [number, number][] = [];
    for (const [id, h] of this.builds) if (h.task.phase === 'running') candidates.push([h.readAt, id]);
    candidates.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    return candidates.slice(0, n).map(([, id]) => id);
  }

  /** Tasks OPEN per host id (the worker's running count). */
  openByHost(): Map<number, number> {
    const out = new Map<number, number>();
    for (const h of this.tasks.values()) if (h.row.host_id !== null && taskState(h.row.state).name === 'OPEN') out.set(h.row.host_id, (out.get(h.row.host_id) ?? 0) + 1);
    return out;
  }

  /** Unfinished tasks counted by state word and method. */
  activeByStateAndMethod(): Map<string, Map<string, number>> {
    const out = new Map<string, Map<string, number>>();
    for (const h of this.tasks.values()) {
      if (TERMINAL_PHASES.has(h.task.phase)) continue;
      let m = out.get(h.task.state);
      if (!m) out.set(h.task.state, (m = new Map()));
      m.set(h.row.method, (m.get(h.row.method) ?? 0) + 1);
    }
    return out;
  }

  /**
   * Drop finished records that ended before `finishedBefore` (epoch ms), then the oldest records
   * (finished first) beyond `max`. Returns how many were dropped for the cap.
   */
  retain(finishedBefore: number, max: number, readNow?: number): number {
    const ended = (t: Task) => (TERMINAL_PHASES.has(t.phase) || t.phase === 'unknown' ? Date.parse(t.finished ?? t.updated ?? '') : Number.NaN);
    for (const [id, h] of this.tasks) if (ended(h.task) < finishedBefore) this.dropTask(id);
    for (const [id, h] of this.builds) if (ended(h.task) < finishedBefore) this.builds.delete(id);
    const over = this.tasks.size + this.builds.size - max;
    if (over <= 0) return 0;
    // Records read in this poll stay (the store must see them, or an end is never counted): the cap waits for the next poll.
    const all: [finished: number, when: number, kind: 0 | 1, id: number][] = [];
    const when = (t: Task) => Date.parse(t.updated ?? t.created ?? '') || 0;
    for (const [id, h] of this.tasks) if (h.readAt !== readNow) all.push([Number.isFinite(ended(h.task)) ? 0 : 1, when(h.task), 0, id]);
    for (const [id, h] of this.builds) if (h.readAt !== readNow) all.push([Number.isFinite(ended(h.task)) ? 0 : 1, when(h.task), 1, id]);
    all.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const cut = all.slice(0, over);
    for (const [finished, , kind, id] of cut) {
      // An unfinished record cut by the cap is forgotten too: when it comes back (it ends), it is new, and its end counts.
      if (kind === 0) this.dropTask(id, { forget: finished === 1 });
      else if (finished === 1) this.dropBuild(id);
      else this.builds.delete(id);
    }
    return cut.length;
  }

  /** Everything held, as Tasks for a snapshot. */
  all(): Task[] {
    const out: Task[] = [];
    for (const h of this.tasks.values()) out.push(h.task);
    for (const h of this.builds.values()) out.push(h.task);
    return out;
  }

  /** A new hub database (event ids went back): forget everything. */
  clear(): void {
    this.tasks.clear();
    this.builds.clear();
    this.children.clear();
    this.seenTasks.clear();
    this.seenBuilds.clear();
    this.dirtyParents.clear();
    this.owners.clear();
  }

  private unlink(parent: number, child: number): void {
    const set = this.children.get(parent);
    if (!set) return;
    set.delete(child);
    if (set.size === 0) this.children.delete(parent);
  }
}
