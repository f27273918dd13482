/**
 * The girar source over the `/tasks` tree itself (`transport: fs`): every poll refreshes the
 * in-memory tree (see tree.ts) and hands the store a snapshot; unchanged tasks keep their Task
 * objects, so the store skips them by identity. Also the taskoteka-compatible backend: archived
 * tasks read on demand, and `needs_approval` from the ACL dir.
 */
import type { Task } from '../../../model/task.js';
import { parseDuration } from '../../../util/duration.js';
import type { SourceProblems } from '../../health.js';
import type { RestoredRecords, Snapshot, SourceAdapter, SourceContext } from '../../source.js';
import { NeedsApprovalUnavailable, type ApprovalGroup, type TaskotekaCompatBackend } from '../compat-backend.js';
import { archiveDirOf, type GirarFsConfig } from '../config.js';
import { AclDirectory, type AclSubtaskInput, type AclTaskInput } from './acl.js';
import { normalizeTreeTask } from './normalize.js';
import type { TreeTaskRead } from './reader.js';
import { TaskTree } from './tree.js';

/** The taskoteka API level the compatible API follows (its README and changelog up to 1.6.0). */
export const TASKOTEKA_API_LEVEL = '1.6.0';

export class GirarFsAdapter implements SourceAdapter {
  readonly tree: TaskTree;
  private readonly acl: AclDirectory | undefined;
  private readonly normalized = new Map<number, { read: TreeTaskRead; task: Task }>();
  /**
   * Records the journal kept, for tasks not read since the restart: a task that cannot be read
   * keeps its previous version, and after a restart that is the kept record.
   */
  private readonly kept = new Map<number, Task>();

  constructor(
    private readonly config: GirarFsConfig,
    private readonly ctx: SourceContext,
  ) {
    const archiveDir = archiveDirOf(config);
    this.tree = new TaskTree({
      tasksDir: config.tasks_dir,
      ...(archiveDir ? { archiveDir } : {}),
      timeZone: config.time_zone,
      maxFileBytes: config.max_file_bytes,
      threads: config.io_threads,
      fullRereadMs: (parseDuration(config.full_reread_interval) ?? 600) * 1000,
      ...(config.passwd_file ? { passwdFile: config.passwd_file } : {}),
      now: () => ctx.clock.now(),
    });
    this.acl = config.acl ? new AclDirectory(config.acl, { log: ctx.log }) : undefined;
  }

  /** Hold the kept records of this source until each task is read (see `kept`). */
  restore(held: RestoredRecords): void {
    for (const task of held.tasks) if (task.kind === 'girar' && /^[1-9]\d*$/.test(task.id)) this.kept.set(Number(task.id), task);
  }

  async poll(signal: AbortSignal): Promise<Snapshot> {
    const t0 = performance.now();
    const stats = await this.tree.refresh(signal);
    // The ACL lists are read here, on the poll, for the repos that have EPERM tasks: a
    // needs_approval request then decides from what is loaded and does no I/O of its own.
    if (this.acl) await this.acl.refresh(signal, this.epermRepos());
    const tasks: Task[] = [];
    const seen = new Set<number>();
    for (const read of this.tree.tasks()) {
      seen.add(read.id);
      const held = this.normalized.get(read.id);
      if (held && held.read === read) {
        tasks.push(held.task);
        continue;
      }
      const task = normalizeTreeTask(this.ctx.name, read, { taskUrl: this.config.task_url, timeZone: this.config.time_zone });
      this.normalized.set(read.id, { read, task });
      tasks.push(task);
    }
    for (const id of this.normalized.keys()) if (!seen.has(id)) this.normalized.delete(id);
    if (this.kept.size > 0) {
      const unread = new Set(this.tree.unread());
      for (const [id, task] of this.kept) {
        if (unread.has(id)) tasks.push(task);
        else this.kept.delete(id);
      }
    }
    this.ctx.log.debug({ ...stats, ms: Math.round(performance.now() - t0) }, 'tasks tree refreshed');
    return { type: 'snapshot', tasks, upstream: { version: `girar fs`, cacheAgeSeconds: 0, observedAt: this.ctx.clock.now() } };
  }

  problems(): SourceProblems {
    const report = this.tree.problemReport();
    for (const p of this.acl?.problems() ?? []) {
      report.current[p.reason] = (report.current[p.reason] ?? 0) + 1;
      if (report.examples.length < 10) report.examples.push({ id: p.file, reason: p.reason, message: `ACL list ${p.file}: ${p.reason}` });
    }
    return report;
  }

  async close(): Promise<void> {
    await this.tree.close();
  }

  /** The taskoteka-compatible API's view of this source. */
  compatBackend(): TaskotekaCompatBackend {
    return {
      apiVersion: () => TASKOTEKA_API_LEVEL,
      cacheAgeSeconds: () => {
        const at = this.tree.refreshedAt;
        return at === undefined ? undefined : Math.max(0, Math.floor((this.ctx.clock.now() - at) / 1000));
      },
      timeZone: this.config.time_zone,
      archived: async (id, signal) => (await this.tree.readArchived(id, signal))?.detail,
      needsApproval: (group, signal) => this.needsApproval(group, signal),
    };
  }

  private epermRepos(): Set<string> {
    const repos = new Set<string>();
    for (const t of this.tree.tasks()) if (t.detail.state === 'EPERM') repos.add(t.detail.repo);
    return repos;
  }

  /** Ids of the EPERM tasks that `girar task ls --needs-approval=<group>` would list (from the lists the last poll loaded). */
  async needsApproval(group: ApprovalGroup, signal: AbortSignal): Promise<ReadonlySet<string>> {
    if (!this.acl) throw new NeedsApprovalUnavailable('needs_approval needs the ACL lists: set acl.dir in this source (girar keeps them in /var/lib/girar/acl)');
    if (signal.aborted) throw signal.reason;
    const out = new Set<string>();
    for (const t of this.tree.tasks()) {
      if (t.detail.state === 'EPERM' && this.acl.needsApproval(aclInput(t), group).listed) out.add(String(t.id));
    }
    return out;
  }
}

/** What the ACL logic needs from a task read from the tree. */
export function aclInput(t: TreeTaskRead): AclTaskInput {
  const subtasks = new Map<string, AclSubtaskInput>();
  for (const [n, s] of Object.entries(t.detail.subtasks ?? {})) {
    subtasks.set(n, { id: n, author: s.userid ?? '', approvedBy: (s.approved_by ?? []).filter((a): a is string => typeof a === 'string'), disapprovedBy: (s.disapproved_by ?? []).filter((a): a is string => typeof a === 'string') });
  }
  return {
    id: String(t.id),
    repo: t.detail.repo,
    state: t.detail.state,
    testOnly: t.detail.test_only,
    swift: t.detail.swift === true,
    checkAcl: t.checkAcl ?? [],
    subtasks,
  };
}
