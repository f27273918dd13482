/**
 * Pure mapping of Cuirass builds and evaluations to Tasks (reference/cuirass.md §3-§4).
 * Builds keep their numeric id; evaluations are tasks `eval-<id>`. Times are epoch seconds
 * upstream, 0 meaning unset.
 */
import type { Phase, Task } from '../../model/task.js';
import { isoUtc } from '../../util/clock.js';
import { saneTimeMs } from '../../util/sane.js';
import type { Build, Evaluation } from './upstream.js';

export const CUIRASS_KIND = 'cuirass';

/** Build status (database.scm `build-status`): name and phase. -3..-1 are Cuirass-only (the manual lists 0-4). */
export const BUILD_STATUSES: Readonly<Record<number, { name: string; phase: Phase }>> = {
  [-3]: { name: 'submitted', phase: 'queued' },
  [-2]: { name: 'scheduled', phase: 'queued' },
  [-1]: { name: 'started', phase: 'running' },
  0: { name: 'succeeded', phase: 'success' },
  1: { name: 'failed', phase: 'failed' },
  2: { name: 'failed-dependency', phase: 'failed' },
  3: { name: 'failed-other', phase: 'failed' },
  4: { name: 'canceled', phase: 'canceled' },
};

/** Weather (`build-status->weather`): how this build compares with the job's previous one. */
export const WEATHERS: Readonly<Record<number, string>> = { [-1]: 'unknown', 0: 'new-success', 1: 'new-failure', 2: 'still-succeeding', 3: 'still-failing' };

/** Evaluation status: name and phase. */
export const EVALUATION_STATUSES: Readonly<Record<number, { name: string; phase: Phase }>> = {
  [-1]: { name: 'evaluating', phase: 'running' },
  0: { name: 'evaluated', phase: 'success' },
  1: { name: 'evaluation-failed', phase: 'failed' },
  2: { name: 'evaluation-aborted', phase: 'canceled' },
};

export function buildStatus(code: number): { name: string; phase: Phase } {
  return BUILD_STATUSES[code] ?? { name: `status-${code}`, phase: 'unknown' };
}

export function evaluationStatus(code: number): { name: string; phase: Phase } {
  return EVALUATION_STATUSES[code] ?? { name: `evaluation-status-${code}`, phase: 'unknown' };
}

/** Epoch seconds to ISO UTC; undefined for 0 (unset) or nonsense. */
export function epochIso(seconds: number | undefined): string | undefined {
  if (seconds === undefined || seconds <= 0) return undefined;
  const ms = seconds * 1000;
  return saneTimeMs(ms) ? isoUtc(ms) : undefined;
}

export const evaluationTaskId = (id: number): string => `eval-${id}`;

export function buildTask(source: string, base: string, b: Build): Task {
  const status = buildStatus(b.buildstatus);
  const finished = b.buildstatus >= 0;
  const started = epochIso(b.starttime);
  const stopped = finished ? epochIso(b.stoptime) : undefined;
  // `timestamp` is the creation time until the build finishes, then its stop time.
  const created = finished ? undefined : epochIso(b.timestamp);
  const task: Task = {
    source,
    kind: CUIRASS_KIND,
    id: String(b.id),
    state: status.name,
    phase: status.phase,
    repo: b.jobset,
    message: b.nixname ?? b.job,
    archs: [b.system],
    subtasks: [{ id: '1', type: 'job', package: b.job, archs: [{ arch: b.system, status: status.name, phase: status.phase }] }],
    url: `${base}/build/${b.id}/details`,
    native: b,
  };
  if (created) task.created = created;
  // A restarted build waits again with its old starttime: a start counts only while it runs or after.
  if (started && status.phase !== 'queued' && (!stopped || started <= stopped)) task.started = started;
  if (stopped) task.finished = stopped;
  const since = status.phase === 'queued' ? created : status.phase === 'running' ? started : stopped;
  if (since) task.stateSince = since;
  const attrs: Record<string, string | number | boolean> = { job: b.job };
  if (b.evaluation !== undefined) attrs.evaluation = b.evaluation;
  if (b.weather !== undefined) attrs.weather = WEATHERS[b.weather] ?? `weather-${b.weather}`;
  if (b.priority !== undefined) attrs.priority = b.priority;
  task.attrs = attrs;
  return task;
}

export function evaluationTask(source: string, base: string, e: Evaluation): Task {
  const status = evaluationStatus(e.status);
  const created = epochIso(e.timestamp);
  const done = e.status >= 0 ? epochIso(e.evaltime) : undefined;
  const task: Task = {
    source,
    kind: CUIRASS_KIND,
    id: evaluationTaskId(e.id),
    state: status.name,
    phase: status.phase,
    repo: e.specification,
    message: `evaluation ${e.id} of ${e.specification}`,
    archs: [],
    subtasks: [],
    url: `${base}/eval/${e.id}`,
    attrs: { evaluation: e.id },
    native: e,
  };
  // No `started`: an evaluation is not a build run, so the generic duration and queue-wait
  // families leave it out; its duration is buildfarm_cuirass_evaluation_duration_seconds.
  if (created) task.created = created;
  if (done && (!created || created <= done)) task.finished = done;
  const checkout = epochIso(e.checkouttime);
  if (checkout) task.attrs = { ...task.attrs, checkout_time: checkout };
  const since = status.phase === 'running' ? created : done;
  if (since) task.stateSince = since;
  return task;
}
