/**
 * Pure mapping of karajo's environment to the model: each JobExec and JobHTTP is a Job, and each
 * retained log (`<id>.<counter>.<status>`) a run Task with id `<job id>#<counter>`.
 * reference/karajo.md §5, §6.
 */
import type { Job } from '../../model/job.js';
import type { Phase, Task } from '../../model/task.js';
import { isoUtc } from '../../util/clock.js';
import { saneTimeMs, wellFormed } from '../../util/sane.js';
import type { JobType } from './client.js';
import { checkJobLogEntry, type JobExec, type JobHttp, type JobLogEntry } from './upstream.js';

export const KARAJO_KIND = 'karajo';

/** Run (log) status -> phase. A `paused` log is a tick the job skipped while paused. */
export const KARAJO_RUN_PHASES: Readonly<Record<string, Phase>> = {
  started: 'queued',
  running: 'running',
  success: 'success',
  failed: 'failed',
  canceled: 'canceled',
  paused: 'canceled',
};

export function runPhase(status: string): Phase {
  return Object.hasOwn(KARAJO_RUN_PHASES, status) ? (KARAJO_RUN_PHASES[status] as Phase) : 'unknown';
}

/** Go's zero time.Time, which karajo writes for "never". */
export const NEVER = '0001-01-01T00:00:00Z';

/** An RFC 3339 time to ISO UTC; undefined for "never", null, or nonsense. */
export function karajoTime(value: string | null | undefined): string | undefined {
  if (!value || value === NEVER || value.startsWith('0001-01-01')) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) return undefined;
  const ms = Date.parse(value);
  return saneTimeMs(ms) ? isoUtc(ms) : undefined;
}

/**
 * The period of a libtime.Scheduler schedule, in seconds: `minutely`, `hourly@...`, `daily@...`,
 * `weekly@...`, `monthly@...`; undefined for anything else.
 */
export function schedulePeriodSeconds(schedule: string | undefined): number | undefined {
  const kind = schedule?.trim().toLowerCase().split('@')[0];
  switch (kind) {
    case 'minutely':
      return 60;
    case 'hourly':
      return 3600;
    case 'daily':
      return 86_400;
    case 'weekly':
      return 7 * 86_400;
    case 'monthly':
      return 31 * 86_400;
    default:
      return undefined;
  }
}

/** A job as read, with the id the exporter gives it. */
export interface JobView {
  type: JobType;
  job: JobExec | JobHttp;
  /** karajo's id; an http job whose id an exec job also has becomes `http:<id>`, so runs never collide. */
  id: string;
}

/** Jobs of one kind whose names give the same id ("Backup DB" and "backup db"): only the first by name is read. */
export interface DuplicateJob {
  type: JobType;
  id: string;
  name: string;
}

export function jobViews(exec: readonly JobExec[], http: readonly JobHttp[]): { views: JobView[]; duplicates: DuplicateJob[] } {
  const duplicates: DuplicateJob[] = [];
  const unique = <J extends JobExec | JobHttp>(type: JobType, jobs: readonly J[]): J[] => {
    const seen = new Set<string>();
    return [...jobs]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .filter((job) => {
        if (!seen.has(job.id)) return seen.add(job.id);
        duplicates.push({ type, id: job.id, name: job.name });
        return false;
      });
  };
  const execJobs = unique('exec', exec);
  const execIds = new Set(execJobs.map((j) => j.id));
  return {
    views: [
      ...execJobs.map((job): JobView => ({ type: 'exec', job, id: job.id })),
      ...unique('http', http).map((job): JobView => ({ type: 'http', job, id: execIds.has(job.id) ? `http:${job.id}` : job.id })),
    ],
    duplicates,
  };
}

/** Where a job's run numbers are tracked: its kind and karajo id, which stay put whatever id it is shown under. */
export function runKey(view: JobView): string {
  return `${view.type}\u0000${view.job.id}`;
}

/** Seconds between runs: the interval (ns upstream), else the schedule's period. */
export function periodSeconds(job: JobExec | JobHttp): number | undefined {
  if (job.interval !== undefined && job.interval > 0) return job.interval / 1e9;
  return schedulePeriodSeconds(job.schedule);
}

export interface JobContext {
  source: string;
  base: string;
  nowMs: number;
  graceSeconds: number;
  /** Highest run counter ever seen for this job (kept across polls). */
  lastRunCounter?: number;
}

/** Overdue: next_run more than one period (plus grace) in the past, while neither paused nor running. */
export function isOverdue(job: JobExec | JobHttp, nowMs: number, graceSeconds: number): boolean {
  const status = job.status ?? '';
  if (status === 'paused' || status === 'running') return false;
  const next = karajoTime(job.next_run);
  if (next === undefined) return false;
  const late = (nowMs - Date.parse(next)) / 1000;
  return late > (periodSeconds(job) ?? 0) + graceSeconds;
}

export function toJob(view: JobView, ctx: JobContext): Job {
  const { job } = view;
  const status = job.status ?? '';
  const out: Job = {
    source: ctx.source,
    kind: KARAJO_KIND,
    id: view.id,
    name: job.name,
    jobType: view.type,
    status,
    paused: status === 'paused',
    overdue: isOverdue(job, ctx.nowMs, ctx.graceSeconds),
    url: `${ctx.base}/karajo/`,
    native: job,
  };
  const lastRun = karajoTime(job.last_run);
  const nextRun = karajoTime(job.next_run);
  if (lastRun) out.lastRun = lastRun;
  if (nextRun) out.nextRun = nextRun;
  if (job.interval !== undefined && job.interval > 0) out.intervalSeconds = job.interval / 1e9;
  if (job.schedule) out.schedule = job.schedule;
  if (job.description) out.description = job.description;
  if (job.log_retention !== undefined) out.logRetention = job.log_retention;
  if (ctx.lastRunCounter !== undefined) out.lastRunCounter = ctx.lastRunCounter;
  return out;
}

/** The job's valid log entries, ascending by counter, and how many were malformed. */
export function logEntries(view: JobView): { entries: JobLogEntry[]; rejected: number } {
  const entries: JobLogEntry[] = [];
  let rejected = 0;
  for (const e of view.job.logs ?? []) {
    if (checkJobLogEntry.Check(e)) entries.push(e);
    else rejected += 1;
  }
  entries.sort((a, b) => a.counter - b.counter);
  return { entries, rejected };
}

/** The status of a run: the entry's word, else the name's suffix (`<id>.<counter>.<status>`); a name without one is a run in progress. */
export function runStatus(entry: JobLogEntry): string {
  if (entry.status) return entry.status;
  const parts = entry.name.split('.');
  const last = parts.at(-1) ?? '';
  return parts.length >= 3 && !/^\d+$/.test(last) ? last : 'running';
}

/**
 * One run as a Task. The newest finished run ended at the job's `last_run` (karajo sets it when a
 * run finishes); other times are left to the store, which takes them from the polls that saw them.
 */
export function runTask(view: JobView, entry: JobLogEntry, ctx: { source: string; base: string; finished?: string }): Task {
  const state = runStatus(entry);
  const phase = runPhase(state);
  const task: Task = {
    source: ctx.source,
    kind: KARAJO_KIND,
    id: `${view.id}#${entry.counter}`,
    state,
    phase,
    repo: view.id,
    message: view.job.name,
    archs: [],
    subtasks: [],
    url: `${ctx.base}/karajo/job_${view.type}/log/?id=${encodeURIComponent(wellFormed(view.job.id))}&counter=${entry.counter}`,
    attrs: { job: view.id, job_type: view.type, counter: entry.counter },
    native: entry,
  };
  if (ctx.finished && (phase === 'success' || phase === 'failed' || phase === 'canceled')) {
    task.finished = ctx.finished;
    task.stateSince = ctx.finished;
  }
  return task;
}
