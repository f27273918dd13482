/**
 * Life-cycle times the store derives from observed changes when the upstream does not say:
 * when a task entered its state, when its current run started, and when it finished. Pure.
 */
import { TERMINAL_PHASES, type Task } from '../model/task.js';
import type { Lifecycle } from '../sources/source.js';

export interface Derived {
  task: Task;
  /** This change started a run (girar: entered BUILDING); queue wait is measured on such changes. */
  runStarted: boolean;
}

export function deriveTimes(prev: Task | undefined, next: Task, at: string, lifecycle?: Lifecycle): Derived {
  const out: Task = { ...next };
  if (out.stateSince === undefined) {
    out.stateSince = prev && prev.state === next.state ? (prev.stateSince ?? at) : at;
  }
  let runStarted = false;
  if (prev && prev.state !== next.state) {
    runStarted = lifecycle
      ? lifecycle.runStartStates.includes(next.state) && !lifecycle.runStartStates.includes(prev.state)
      : next.phase === 'running' && prev.phase !== 'running';
  }
  // Leaving a terminal phase for work again (a re-run, girar's `task run --commit` after TESTED)
  // is a new run: the old start no longer applies.
  const newRun = prev !== undefined && TERMINAL_PHASES.has(prev.phase) && !TERMINAL_PHASES.has(next.phase);
  // The time of this change: the upstream's when it says when the state was entered, else now.
  // Using it for started and finished keeps each duration on one clock.
  const changedAt = prev && prev.state !== next.state ? (out.stateSince ?? at) : at;
  if (out.started === undefined && prev) {
    if (runStarted) out.started = changedAt;
    else if (!newRun && prev.started !== undefined) out.started = prev.started;
    else if (next.phase === 'running' && prev.phase !== 'running') out.started = changedAt;
  }
  const terminal = TERMINAL_PHASES.has(next.phase);
  if (out.finished === undefined && prev && terminal) {
    out.finished = TERMINAL_PHASES.has(prev.phase) ? prev.finished : changedAt;
  }
  if (!terminal && next.finished === undefined) delete out.finished;
  return { task: out, runStarted };
}
