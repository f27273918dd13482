/** Builders of model records for tests. */
import type { Task } from '../model/task.js';
import { girarPhase } from '../sources/girar/normalize.js';

export function girarTask(partial: Partial<Task> & { id: string; state: string }, source = 'alt'): Task {
  return {
    source,
    kind: 'girar',
    phase: girarPhase(partial.state),
    archs: [],
    subtasks: [],
    repo: 'sisyphus',
    owner: 'rider',
    ...partial,
  };
}
