import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isOverdue, jobViews, karajoTime, KARAJO_RUN_PHASES, logEntries, runStatus, runTask, schedulePeriodSeconds, toJob } from './normalize.js';
import { checkEnv, checkJobExec, checkJobHttp, type JobExec, type JobHttp } from './upstream.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as unknown;

function environment(): { exec: JobExec[]; http: JobHttp[] } {
  const env = fixture('environment.json');
  if (!checkEnv.Check(env)) throw new Error('environment.json is not an Env');
  const exec = Object.values(env.jobs ?? {}).map((j) => {
    if (!checkJobExec.Check(j)) throw new Error('bad JobExec');
    return j;
  });
  const http = Object.values(env.http_jobs ?? {}).map((j) => {
    if (!checkJobHttp.Check(j)) throw new Error('bad JobHTTP');
    return j;
  });
  return { exec, http };
}

const BASE = 'http://127.0.0.1:31937';
const at = (iso: string) => Date.parse(iso);

describe('karajo jobs', () => {
  it('maps the recorded environment: both kinds, "never" times, interval in nanoseconds', () => {
    const { exec, http } = environment();
    const [execView, httpView] = jobViews(exec, http).views;
    const ctx = { source: 'cron', base: BASE, nowMs: at('2023-01-09T00:00:30Z'), graceSeconds: 0 };
    expect(toJob(execView!, ctx)).toEqual({
      source: 'cron',
      kind: 'karajo',
      id: 'test_job_success',
      name: 'Test job success',
      jobType: 'exec',
      status: 'started',
      paused: false,
      overdue: false,
      url: `${BASE}/karajo/`,
      logRetention: 5,
      native: exec[0],
    });
    expect(toJob(httpView!, { ...ctx, lastRunCounter: 3 })).toEqual({
      source: 'cron',
      kind: 'karajo',
      id: 'test_success',
      name: 'Test success',
      jobType: 'http',
      status: 'started',
      paused: false,
      overdue: false,
      url: `${BASE}/karajo/`,
      lastRun: '2023-01-09T00:00:00Z',
      nextRun: '2023-01-09T00:01:00Z',
      intervalSeconds: 60,
      description: 'HTTP job to for a <i>success</i> call.',
      logRetention: 5,
      lastRunCounter: 3,
      native: http[0],
    });
  });

  it('reads "never" and RFC 3339 times', () => {
    expect(karajoTime('0001-01-01T00:00:00Z')).toBeUndefined();
    expect(karajoTime(null)).toBeUndefined();
    expect(karajoTime('2023-01-09T00:01:00Z')).toBe('2023-01-09T00:01:00Z');
    expect(karajoTime('2023-01-09T07:01:00+07:00')).toBe('2023-01-09T00:01:00Z');
    expect(karajoTime('soon')).toBeUndefined();
    expect(karajoTime('+275760-09-13T00:00:00Z')).toBeUndefined();
    expect(karajoTime('1899-12-31T00:00:00Z')).toBeUndefined();
  });

  it('is overdue when next_run is more than one interval or schedule period (plus grace) past, unless paused or running', () => {
    const { http } = environment();
    const job = http[0] as JobHttp; // interval 60 s, next_run 00:01:00
    expect(isOverdue(job, at('2023-01-09T00:02:00Z'), 0)).toBe(false);
    expect(isOverdue(job, at('2023-01-09T00:02:01Z'), 0)).toBe(true);
    expect(isOverdue(job, at('2023-01-09T00:02:01Z'), 30)).toBe(false);
    expect(isOverdue({ ...job, status: 'paused' }, at('2023-01-09T05:00:00Z'), 0)).toBe(false);
    expect(isOverdue({ ...job, status: 'running' }, at('2023-01-09T05:00:00Z'), 0)).toBe(false);
    const daily = { ...job, interval: 0, schedule: 'daily@00:01' };
    expect(isOverdue(daily, at('2023-01-10T00:01:00Z'), 0)).toBe(false);
    expect(isOverdue(daily, at('2023-01-10T00:01:01Z'), 0)).toBe(true);
    expect(isOverdue({ ...job, next_run: '0001-01-01T00:00:00Z' }, at('2030-01-01T00:00:00Z'), 0)).toBe(false);
  });

  it('knows the periods of the scheduler words', () => {
    expect([schedulePeriodSeconds('minutely'), schedulePeriodSeconds('hourly@0,30'), schedulePeriodSeconds('daily@00:00,12:00'), schedulePeriodSeconds('weekly@Sun@10:00'), schedulePeriodSeconds('monthly@1@06:00')]).toEqual([60, 3600, 86400, 604800, 2678400]);
    expect(schedulePeriodSeconds('every full moon')).toBeUndefined();
    expect(schedulePeriodSeconds(undefined)).toBeUndefined();
  });

  it('keeps run ids apart when an exec and an http job share an id', () => {
    const { exec, http } = environment();
    const { views } = jobViews(exec, [{ ...(http[0] as JobHttp), id: 'test_job_success' }]);
    expect(views.map((v) => `${v.type}:${v.id}`)).toEqual(['exec:test_job_success', 'http:http:test_job_success']);
  });

  it('reads only the first by name of jobs whose names give the same id', () => {
    const { exec } = environment();
    const job = exec[0] as JobExec;
    const { views, duplicates } = jobViews([{ ...job, name: 'backup db', id: 'backup_db' }, { ...job, name: 'Backup DB', id: 'backup_db' }], []);
    expect(views.map((v) => v.job.name)).toEqual(['Backup DB']);
    expect(duplicates).toEqual([{ type: 'exec', id: 'backup_db', name: 'backup db' }]);
  });
});

describe('karajo runs', () => {
  const view = { type: 'exec' as const, id: 'backup', job: { id: 'backup', name: 'Nightly backup', logs: [
    { job_id: 'backup', name: 'backup.12.success', status: 'success', counter: 12 },
    { job_id: 'backup', name: 'backup.14', status: '', counter: 14 },
    { job_id: 'backup', name: 'backup.13.failed', counter: 13 },
    { job_id: 'backup', name: 7, counter: 'x' },
  ] } };

  it('maps every log status to a phase', () => {
    expect(KARAJO_RUN_PHASES).toEqual({ started: 'queued', running: 'running', success: 'success', failed: 'failed', canceled: 'canceled', paused: 'canceled' });
  });

  it('reads the retained logs in counter order, the status from the entry or the file name, and counts malformed entries', () => {
    const { entries, rejected } = logEntries(view as never);
    expect(entries.map((e) => [e.counter, runStatus(e)])).toEqual([[12, 'success'], [13, 'failed'], [14, 'running']]);
    expect(rejected).toBe(1);
  });

  it('makes a run a task with id <job>#<counter>, the job as repo, and a link to its log page', () => {
    const [first] = logEntries(view as never).entries;
    expect(runTask(view as never, first!, { source: 'cron', base: BASE, finished: '2026-11-24T03:00:07Z' })).toEqual({
      source: 'cron',
      kind: 'karajo',
      id: 'backup#12',
      state: 'success',
      phase: 'success',
      repo: 'backup',
      message: 'Nightly backup',
      archs: [],
      subtasks: [],
      url: `${BASE}/karajo/job_exec/log/?id=backup&counter=12`,
      attrs: { job: 'backup', job_type: 'exec', counter: 12 },
      native: first,
      finished: '2026-11-24T03:00:07Z',
      stateSince: '2026-11-24T03:00:07Z',
    });
  });
});
