/**
 * A task read from the tree -> the shared Task. The native record is the taskoteka detail the
 * reader built; times come from the mtimes girar leaves (reference/girar.md §3.7), not from
 * zone-less text, so they are exact.
 */
import type { Approval, ArchResult, Task } from '../../../model/task.js';
import { isoUtc } from '../../../util/clock.js';
import { normalizeTask } from '../normalize.js';
import type { TreeTaskRead } from './reader.js';

export interface TreeNormalizeOptions {
  taskUrl: string;
  timeZone: string;
}

export function normalizeTreeTask(source: string, read: TreeTaskRead, opts: TreeNormalizeOptions): Task {
  const task = normalizeTask(source, undefined, read.detail, { taskUrl: opts.taskUrl, timeZone: opts.timeZone });
  const stateSince = isoUtc(read.stateMtimeMs);
  task.stateSince = stateSince;
  task.updated = isoUtc(Math.max(read.stateMtimeMs, read.detail.updated * 1000));
  if (read.createdMs !== undefined) task.created = isoUtc(read.createdMs);
  if (task.phase === 'success' || task.phase === 'failed' || task.phase === 'canceled') task.finished = stateSince;
  else delete task.finished;
  if (read.buildTimeMs !== undefined && task.attrs) task.attrs.build_time = isoUtc(read.buildTimeMs);

  for (const sub of task.subtasks) {
    const building = read.building?.filter((a) => a.subtask === sub.id);
    if (building && building.length > 0) {
      // normalizeTask's arch lists are shared between tasks (frozen): build a new one.
      sub.archs = [...sub.archs, ...building.map((b): ArchResult => ({ arch: b.arch, status: '', phase: 'running' }))];
      sub.archs.sort((a, b) => (a.arch < b.arch ? -1 : a.arch > b.arch ? 1 : 0));
    }
    const approvals = (read.approvals ?? [])
      .filter((a) => a.subtask === sub.id)
      .map((a): Approval => ({ by: a.by, verdict: a.verdict, ...(a.at !== undefined ? { at: isoUtc(a.at) } : {}), ...(a.comment ? { comment: a.comment } : {}) }));
    if (approvals.length > 0) sub.approvals = approvals;
  }
  task.archs = [...new Set(task.subtasks.flatMap((s) => s.archs.map((a) => a.arch)))].sort();
  return task;
}
