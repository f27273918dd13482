import { describe, expect, it } from 'vitest';
import type { Job } from '../model/job.js';
import type { Task } from '../model/task.js';
import { scrape, series, setup, T0 } from './test-helpers.js';

const job = (id: string, over: Partial<Job> = {}): Job => ({ source: 'cron', kind: 'karajo', id, name: id, jobType: 'exec', status: 'success', paused: false, ...over });
const run = (jobId: string, counter: number, state: string, over: Partial<Task> = {}): Task => {
  const phase = ({ running: 'running', success: 'success', failed: 'failed', canceled: 'canceled', paused: 'canceled' } as const)[state as 'running'] ?? 'unknown';
  return { source: 'cron', kind: 'karajo', id: `${jobId}#${counter}`, state, phase, repo: jobId, archs: [], subtasks: [], ...over };
};
const iso = (s: number) => new Date(T0 + s * 1000).toISOString().replace('.000Z', 'Z');

describe('karajo metrics', () => {
  it('exports each job: status one-hot, paused, overdue, last and next run', async () => {
    const { store, metrics } = setup();
    store.apply('cron', 'karajo', {
      type: 'snapshot',
      tasks: [],
      jobs: [job('backup', { lastRun: iso(0), nextRun: iso(3600), overdue: true }), job('sync', { status: 'paused', paused: true }), job('hook', { status: '' })],
    });
    const samples = await scrape(metrics);
    const status = series(samples, 'buildfarm_karajo_job_status');
    expect(Object.entries(status).filter(([, v]) => v === 1).map(([k]) => k).sort()).toEqual([
      'karajo_job=backup,source=cron,status=success',
      'karajo_job=hook,source=cron,status=none',
      'karajo_job=sync,source=cron,status=paused',
    ]);
    expect(Object.keys(status)).toHaveLength(3 * 8);
    expect(series(samples, 'buildfarm_karajo_job_paused')).toEqual({ 'karajo_job=backup,source=cron': 0, 'karajo_job=hook,source=cron': 0, 'karajo_job=sync,source=cron': 1 });
    expect(series(samples, 'buildfarm_karajo_job_overdue')).toEqual({ 'karajo_job=backup,source=cron': 1, 'karajo_job=hook,source=cron': 0, 'karajo_job=sync,source=cron': 0 });
    expect(series(samples, 'buildfarm_karajo_job_last_run_timestamp_seconds')).toEqual({ 'karajo_job=backup,source=cron': T0 / 1000 });
    expect(series(samples, 'buildfarm_karajo_job_next_run_timestamp_seconds')).toEqual({ 'karajo_job=backup,source=cron': T0 / 1000 + 3600 });
    expect(series(samples, 'buildfarm_jobs')).toEqual({ 'kind=karajo,source=cron,status=success': 1, 'kind=karajo,source=cron,status=paused': 1, 'kind=karajo,source=cron,status=none': 1 });
  });

  it('counts each run once when it ends: seen running then finished, or new and already finished; durations when known', async () => {
    const { store, metrics } = setup();
    const apply = (s: number, tasks: Task[], newTaskIds?: string[]) => store.apply('cron', 'karajo', { type: 'snapshot', tasks, ...(newTaskIds ? { newTaskIds } : {}) }, T0 + s * 1000);
    apply(0, [run('backup', 1, 'success')]);
    // The adapter dates a new run's start by the poll that first saw it running.
    const two = { started: iso(30) };
    apply(30, [run('backup', 1, 'success'), run('backup', 2, 'running', two)], ['backup#2']);
    apply(60, [run('backup', 1, 'success'), run('backup', 2, 'failed', { ...two, finished: iso(50) }), run('backup', 3, 'success')], ['backup#3']);
    apply(90, [run('backup', 2, 'failed', { ...two, finished: iso(50) }), run('backup', 3, 'success'), run('backup', 4, 'paused')], ['backup#4']);
    apply(120, [run('backup', 2, 'failed', { ...two, finished: iso(50) }), run('backup', 3, 'success'), run('backup', 4, 'paused')]);
    const samples = await scrape(metrics);
    expect(series(samples, 'buildfarm_karajo_runs_total')).toEqual({
      'karajo_job=backup,result=failed,source=cron': 1,
      'karajo_job=backup,result=success,source=cron': 1,
      'karajo_job=backup,result=paused,source=cron': 1,
    });
    // Run 2: first seen running at 30 s, ended at 50 s (last_run). Run 3 started and ended between polls: no duration.
    expect(series(samples, 'buildfarm_karajo_run_duration_seconds_sum')).toEqual({ 'karajo_job=backup,result=failed,source=cron': 20 });
    expect(series(samples, 'buildfarm_karajo_run_duration_seconds_count')).toEqual({ 'karajo_job=backup,result=failed,source=cron': 1 });
  });
});
