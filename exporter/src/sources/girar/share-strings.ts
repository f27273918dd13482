/**
 * A task's list item and its detail repeat the same texts (owner, message, every subtask's dir,
 * tag, package, ...), and each JSON.parse makes its own copy of every one. The adapter keeps both
 * for every task, so one copy is dropped here: where the two say the same, `target` is pointed at
 * `source`'s string. Equal strings are interchangeable, so nothing anyone reads changes.
 */
import type { TaskDetail, TaskListItem } from './upstream.js';

type Payload = TaskListItem | TaskDetail;

const TASK_KEYS = ['state', 'repo', 'owner', 'message', 'build_time'] as const;
const SUBTASK_KEYS = ['dir', 'tag_name', 'type', 'userid', 'pkgname', 'srpm', 'package', 'copy_repo', 'rebuild_from'] as const;

export function shareStrings(target: Payload, source: Payload): void {
  for (const key of TASK_KEYS) {
    const value = source[key];
    if (value !== undefined && target[key] === value) target[key] = value;
  }
  const from = source.subtasks;
  const to = target.subtasks;
  if (!from || !to) return;
  for (const [num, sub] of Object.entries(to)) {
    const other = from[num];
    if (!other) continue;
    for (const key of SUBTASK_KEYS) {
      const value = other[key];
      if (value !== undefined && sub[key] === value) sub[key] = value;
    }
  }
}
