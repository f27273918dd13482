/**
 * Life-cycle times the store derives from observed changes when the upstream does not say:
 * when a task entered its state, started running, and finished. Pure functions.
 */
import { TERMINAL_PHASES, type Task } from '../model/task.js';

export function deriveTimes(prev: Task | undefined, next: Task, at: string): Task {
  const out: Task = { ...next };
  if (out.stateSince === undefined) {
    out.stateSince = prev && prev.state === next.state ? (prev.stateSince ?? at) : at;
  }
  if (out.started === undefined && prev) {
    if (next.phase === 'running' && prev.phase !== 'running') out.started = at;
    else if (prev.started !== undefined) out.started = prev.started;
  }
  const terminal = TERMINAL_PHASES.has(next.phase);
  if (out.finished === undefined && prev && terminal) {
    out.finished = TERMINAL_PHASES.has(prev.phase) ? prev.finished : at;
  }
  if (!terminal && next.finished === undefined) delete out.finished;
  return out;
}
