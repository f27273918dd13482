/** Builders of model records for tests. */
import type { Task } from '../model/task.js';

export function girarTask(partial: Partial<Task> & { id: string; state: string }, source = 'alt'): Task {
  const phaseOf: Record<string, Task['phase']> = {
    NEW: 'blocked',
    AWAITING: 'queued',
    POSTPONED: 'blocked',
    BUILDING: 'running',
    FAILING: 'running',
    FAILED: 'failed',
    EPERM: 'blocked',
    TESTED: 'success',
    SWEPT: 'success',
    PENDING: 'queued',
    COMMITTING: 'running',
    DONE: 'success',
    FAILURE: 'failed',
  };
  return {
    source,
    kind: 'girar',
    phase: phaseOf[partial.state] ?? 'unknown',
    archs: [],
    subtasks: [],
    repo: 'sisyphus',
    owner: 'rider',
    ...partial,
  };
}
