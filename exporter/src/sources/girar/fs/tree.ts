/**
 * The live `/tasks` tree held in memory, refreshed with mtime-based invalidation (no inotify, so
 * it works over NFS): one readdir of `/tasks`, then per task a few stats (one for a cold state)
 * and a full re-read only when they changed, for running tasks, or when the task is due for its
 * periodic full re-read. A task that cannot be read keeps its previous version.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { TaskJob, TaskOutcome } from './batch.js';
import { ReaderPool } from './pool.js';
import type { TreeTaskRead } from './reader.js';
import type { TreeProblemReason } from './safe-read.js';
import type { SourceProblems } from '../../health.js';
import { SourceError } from '../../errors.js';

const TASK_ID = /^[1-9]\d{0,14}$/;

export interface TaskTreeOptions {
  tasksDir: string;
  /** Root of archived tasks (`<root>/_<id/1024>/<id>`); undefined = no archive lookups. */
  archiveDir?: string;
  timeZone: string;
  maxFileBytes: number;
  /** Reader threads; 0 = read on the main thread. */
  threads: number;
  /** Every task is re-read in full at least this often (spread over time), whatever its stats say. */
  fullRereadMs: number;
  passwdFile?: string;
  now: () => number;
}

interface Entry {
  task: TreeTaskRead;
  sig: number[] | null;
  /** When this task is next re-read in full whatever its stats say. */
  dueMs: number;
}

interface Problem {
  reason: TreeProblemReason;
  path: string;
  message: string;
}

export interface RefreshStats {
  /** Task directories listed. */
  listed: number;
  /** Read in full. */
  read: number;
  /** Checked by stats only and found unchanged. */
  unchanged: number;
  removed: number;
  problems: number;
}

export class TaskTree {
  private readonly pool: ReaderPool;
  private readonly entries = new Map<number, Entry>();
  /** Task directories of the latest listing. */
  private listed = new Set<number>();
  /** Current problems: task-level by id, plus optional-file problems of loaded tasks. */
  private readonly problems = new Map<number, Problem[]>();
  private readonly totals: Record<string, number> = {};
  private lastRefreshMs: number | undefined;
  /** Entries named like a task id that are not directories, as of the latest listing. */
  private notDirs = new Set<number>();
  private readonly strings = new Interner();

  constructor(private readonly o: TaskTreeOptions) {
    this.pool = new ReaderPool({ maxFileBytes: o.maxFileBytes, timeZone: o.timeZone, ...(o.passwdFile ? { passwdFile: o.passwdFile } : {}) }, o.threads);
  }

  /** The tasks as last read, by id. */
  tasks(): IterableIterator<TreeTaskRead> {
    return (function* (entries) {
      for (const e of entries) yield e.task;
    })(this.entries.values());
  }

  get size(): number {
    return this.entries.size;
  }

  get(id: number): TreeTaskRead | undefined {
    return this.entries.get(id)?.task;
  }

  /** Task directories the latest refresh listed but could not read and holds no version of (e.g. caught mid-write). */
  unread(): number[] {
    return [...this.listed].filter((id) => !this.entries.has(id));
  }

  /** Epoch ms of the end of the latest refresh. */
  get refreshedAt(): number | undefined {
    return this.lastRefreshMs;
  }

  async refresh(signal: AbortSignal): Promise<RefreshStats> {
    const now = this.o.now();
    const ids = await this.list(signal);
    this.listed = ids;
    const jobs: TaskJob[] = [];
    for (const id of ids) {
      const e = this.entries.get(id);
      const job: TaskJob = { id, dir: join(this.o.tasksDir, String(id)) };
      if (!e || e.dueMs <= now || this.problems.get(id)?.some(isTaskLevel)) job.force = true;
      else {
        job.prevState = e.task.detail.state;
        job.prevSubtasks = Object.keys(e.task.detail.subtasks ?? {});
        job.prevSig = e.sig;
      }
      jobs.push(job);
    }
    const stats: RefreshStats = { listed: ids.size, read: 0, unchanged: 0, removed: 0, problems: 0 };
    // Outcomes are taken batch by batch: when the poll deadline cuts a long first load short,
    // what was read is kept and the next refresh carries on from there.
    await this.pool.run(jobs, now, signal, (outcomes) => {
      for (const o of outcomes) this.take(o, now, stats);
    });
    for (const id of [...this.entries.keys()]) {
      if (!ids.has(id)) {
        this.entries.delete(id);
        this.problems.delete(id);
        stats.removed += 1;
      }
    }
    for (const id of [...this.problems.keys()]) if (!ids.has(id) && !this.notDirs.has(id)) this.problems.delete(id);
    this.lastRefreshMs = this.o.now();
    return stats;
  }

  /** Ids of the task directories in the tree; entries named like a task that are not directories are problems. */
  private async list(signal: AbortSignal): Promise<Set<number>> {
    let dirents;
    try {
      dirents = await readdir(this.o.tasksDir, { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new SourceError('network', `cannot list the tasks directory ${this.o.tasksDir} (${code}); check tasks_dir and that the exporter may read it (NFS mounted?)`, { cause: err });
    }
    if (signal.aborted) throw signal.reason;
    const ids = new Set<number>();
    const notDirs = new Set<number>();
    for (const d of dirents) {
      if (!TASK_ID.test(d.name)) continue;
      const id = Number(d.name);
      if (d.isDirectory()) ids.add(id);
      else {
        notDirs.add(id);
        const msg = d.isSymbolicLink() ? 'a symlink, not a task directory (girar never links task dirs)' : 'not a directory';
        this.setProblems(id, [{ reason: 'not_a_directory', path: '', message: `${d.name} is ${msg}` }]);
      }
    }
    for (const id of this.notDirs) if (!notDirs.has(id)) this.problems.delete(id);
    this.notDirs = notDirs;
    return ids;
  }

  private take(o: TaskOutcome, now: number, stats: RefreshStats): void {
    switch (o.kind) {
      case 'unchanged':
        stats.unchanged += 1;
        return;
      case 'gone':
        if (this.entries.delete(o.id)) stats.removed += 1;
        this.problems.delete(o.id);
        return;
      case 'problem':
        // Keep the previous version (if any); the task is read again on the next refresh.
        stats.problems += 1;
        this.setProblems(o.id, [{ reason: o.reason, path: o.path, message: o.message }]);
        return;
      case 'read': {
        stats.read += 1;
        this.strings.internDetail(o.task.detail);
        this.entries.set(o.id, { task: o.task, sig: o.sig, dueMs: now + this.spread(o.id) });
        this.setProblems(o.id, (o.task.problems ?? []).map((p) => ({ reason: p.reason, path: p.path, message: `${p.path}: ${p.reason}` })));
        return;
      }
    }
  }

  /** The full re-read period of a task, spread between 75% and 125% by id so re-reads do not come in one burst. */
  private spread(id: number): number {
    const h = ((id * 2654435761) >>> 0) / 4294967296;
    return Math.round(this.o.fullRereadMs * (0.75 + h / 2));
  }

  /** Replace a task's problems; a problem it did not have before counts in the totals. */
  private setProblems(id: number, next: Problem[]): void {
    const prev = this.problems.get(id) ?? [];
    for (const p of next) {
      if (!prev.some((q) => q.reason === p.reason && q.path === p.path)) this.totals[p.reason] = (this.totals[p.reason] ?? 0) + 1;
    }
    if (next.length > 0) this.problems.set(id, next);
    else this.problems.delete(id);
  }

  problemReport(): SourceProblems {
    const current: Record<string, number> = {};
    const examples: SourceProblems['examples'] = [];
    for (const [id, list] of this.problems) {
      for (const reason of new Set(list.map((p) => p.reason))) current[reason] = (current[reason] ?? 0) + 1;
      if (examples.length < 10) {
        const p = list[0]!;
        examples.push({ id: String(id), reason: p.reason, ...(p.path ? { path: p.path } : {}), message: p.message });
      }
    }
    return { current, total: { ...this.totals }, examples };
  }

  /** An archived task, read on demand and not cached; undefined when absent or no archive is configured. */
  async readArchived(id: number, signal: AbortSignal): Promise<TreeTaskRead | undefined> {
    if (!this.o.archiveDir || !Number.isSafeInteger(id) || id < 1) return undefined;
    const dir = join(this.o.archiveDir, `_${Math.floor(id / 1024)}`, String(id));
    const [out] = await this.pool.run([{ id, dir, archived: true, force: true }], this.o.now(), signal);
    return out?.kind === 'read' ? out.task : undefined;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

/** Problems that make the whole task unusable (as opposed to one optional file). */
function isTaskLevel(p: Problem): boolean {
  return p.reason === 'incomplete' || p.reason === 'mid_write' || p.path.startsWith('task/state') || p.path === 'task/owner' || p.path === 'task/repo';
}

/** Keys whose values repeat across tasks (logins, repos, states, packages, kinds, EVRs, arch words). */
const TASK_KEYS = ['repo', 'state', 'owner', 'build_time'] as const;
const SUBTASK_KEYS = ['type', 'userid', 'pkgname', 'package', 'rebuild_from', 'copy_repo', 'tag_author', 'version', 'release'] as const;
/** Past this many distinct strings the table starts over, so it stays bounded. */
const INTERN_MAX = 200_000;

/**
 * One copy of each repeated string. Strings that come from a worker thread are fresh copies
 * (structured clone), so 10,000 tasks would hold 10,000 copies of "sisyphus", of each login and
 * of each arch word; sharing them saves a good part of the tree's memory.
 */
class Interner {
  private table = new Map<string, string>();

  private one(s: string): string {
    const held = this.table.get(s);
    if (held !== undefined) return held;
    if (this.table.size >= INTERN_MAX) this.table = new Map();
    this.table.set(s, s);
    return s;
  }

  internDetail(detail: TreeTaskRead['detail']): void {
    const d = detail as unknown as Record<string, unknown>;
    for (const k of TASK_KEYS) if (typeof d[k] === 'string') d[k] = this.one(d[k] as string);
    for (const sub of Object.values(detail.subtasks ?? {})) {
      const s = sub as Record<string, unknown>;
      for (const k of SUBTASK_KEYS) if (typeof s[k] === 'string') s[k] = this.one(s[k] as string);
      if (sub.build) for (const arch of Object.keys(sub.build)) sub.build[arch] = this.one(sub.build[arch]!);
      if (sub.approved_by) sub.approved_by = sub.approved_by.map((l) => (typeof l === 'string' ? this.one(l) : l));
      if (sub.disapproved_by) sub.disapproved_by = sub.disapproved_by.map((l) => (typeof l === 'string' ? this.one(l) : l));
    }
  }
}
