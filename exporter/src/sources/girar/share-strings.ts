/**
 * A task's list item and its detail repeat the same texts (owner, message, every subtask's dir,
 * tag, package, ...), and each JSON.parse makes its own copy of every one. The adapter keeps both
 * for every task, so one copy is dropped here: where the two say the same, `target` is pointed at
 * `source`'s string. Equal strings are interchangeable, so nothing anyone reads changes.
 */
import { StringPool } from '../../util/string-pool.js';
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

/**
 * Texts that recur across tasks (a packager's `Name <email>`, a package's git dir and name, a
 * common message), one copy for all girar sources. 64Ki texts cover every package and packager of
 * a farm; past that, texts are simply not shared.
 */
const pool = new StringPool(65_536);

/** Subtask texts that recur across tasks; not hashes or times (`tag_id`, `fetched`), which do not. */
const RECURRING_SUBTASK_KEYS = ['dir', 'tag_name', 'tag_author', 'pkgname', 'srpm', 'package', 'copy_repo', 'rebuild_from', 'userid', 'version', 'release'] as const;

/** Point `payload`'s recurring texts at the shared copies (see `pool`). */
export function internStrings(payload: Payload): void {
  if (payload.message !== undefined) payload.message = pool.intern(payload.message);
  payload.owner = pool.intern(payload.owner);
  payload.repo = pool.intern(payload.repo);
  for (const sub of Object.values(payload.subtasks ?? {})) {
    const fields: Partial<Record<(typeof RECURRING_SUBTASK_KEYS)[number], unknown>> = sub;
    for (const key of RECURRING_SUBTASK_KEYS) {
      const value = fields[key];
      if (typeof value === 'string') fields[key] = pool.intern(value);
    }
  }
}
