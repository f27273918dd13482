import { spawnSync } from 'node:child_process';
import Fastify from 'fastify';
import { describe, expect, it, vi } from 'vitest';
import type { Job } from '../model/job.js';
import type { Task } from '../model/task.js';
import type { Worker } from '../model/worker.js';
import { metricsRoute } from './index.js';
import { TaskMetrics } from './task-metrics.js';
import { girarTask, parseSamples, scrape, series, setup, sourceHealth, T0 } from './test-helpers.js';

const REPOS = ['sisyphus', 'p10', 'p11'];
const STATES = ['NEW', 'AWAITING', 'BUILDING', 'TESTED', 'FAILED', 'DONE'];
const ARCH_STATUSES = ['built', 'cached', 'excluded', 'failed', 'swept'];

/** n tasks over the same 3 repos x 6 states; `shift` moves every task `shift` states on. */
function farm(n: number, shift: number): Task[] {
  return Array.from({ length: n }, (_, i) =>
    girarTask(i + 1, STATES[(Math.floor(i / 3) + shift) % STATES.length] as string, {
      repo: REPOS[i % REPOS.length],
      subtasks: [{ x86_64: ARCH_STATUSES[(i + shift) % ARCH_STATUSES.length] as string, i586: 'built' }],
    }),
  );
}

async function buildfarmSeries(n: number): Promise<string[]> {
  const s = setup();
  s.health.sources = [sourceHealth('alt', { lastPollAt: T0, lastSuccessAt: T0 })];
  for (let step = 0; step < 4; step += 1) {
    s.snapshot(step * 60, farm(n, step));
    s.metrics.pollFinished('alt', 'girar', 1, true);
  }
  const samples = await scrape(s.metrics);
  return samples.filter((x) => x.name.startsWith('buildfarm_')).map((x) => `${x.name}${JSON.stringify(x.labels)}`);
}

describe('ExporterMetrics', () => {
  it('has the same series with 100 and with 10,000 tasks over the same repos and states', async () => {
    const small = await buildfarmSeries(100);
    const large = await buildfarmSeries(10_000);
    expect(large.length).toBe(small.length);
    expect(new Set(large)).toEqual(new Set(small));
    expect(small.length).toBeLessThan(1000);
  });

  it('passes promtool check metrics', async () => {
    const s = setup({ processMetrics: true, sseClients: () => 3 });
    s.health.sources = [sourceHealth('alt', { lastPollAt: T0, lastSuccessAt: T0, streamConnected: true, upstream: { version: '1.3.0', cacheAgeSeconds: 4 } })];
    for (let step = 0; step < 3; step += 1) s.snapshot(step * 600, farm(60, step));
    s.metrics.pollFinished('alt', 'girar', 0.7, true);
    s.metrics.requestRecorder('alt')('200');
    s.store.apply('karajo', 'karajo', { type: 'snapshot', tasks: [], jobs: [job('a', 'success'), job('b', 'failed')] }, T0);
    const { body } = await s.metrics.render();
    const run = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
    if (run.error && (run.error as NodeJS.ErrnoException).code === 'ENOENT') {
      if (process.env.CI) throw new Error('promtool is not installed, and CI is set: install the Debian package prometheus');
      console.warn('\n!!! promtool not found: SKIPPING the promtool check of /metrics (install the Debian package prometheus) !!!\n');
      return;
    }
    expect(`${run.stdout}${run.stderr}`).toBe('');
    expect(run.status).toBe(0);
  });

  it('exports workers and jobs by state from the store', async () => {
    const s = setup();
    s.store.apply('apb', 'apb', { type: 'snapshot', tasks: [], workers: [worker('w1', true, true), worker('w2', true, false), worker('w3', true, true)] }, T0);
    s.store.apply('karajo', 'karajo', { type: 'snapshot', tasks: [], jobs: [job('a', 'success'), job('b', 'success'), job('c', 'failed', true)] }, T0);
    const samples = await scrape(s.metrics);
    expect(series(samples, 'buildfarm_workers')).toEqual({ 'kind=apb,source=apb,state=busy': 2, 'kind=apb,source=apb,state=idle': 1, 'kind=apb,source=apb,state=down': 0 });
    expect(series(samples, 'buildfarm_jobs')).toEqual({ 'kind=karajo,source=karajo,status=success': 2, 'kind=karajo,source=karajo,status=paused': 1 });
    s.store.apply('apb', 'apb', { type: 'snapshot', tasks: [], workers: [worker('w1', false, false)] }, T0 + 1000);
    expect(series(await scrape(s.metrics), 'buildfarm_workers')).toEqual({ 'kind=apb,source=apb,state=busy': 0, 'kind=apb,source=apb,state=idle': 0, 'kind=apb,source=apb,state=down': 1 });
  });

  it('exports its own version, store size, event position, SSE clients and previous response size', async () => {
    let clients = 2;
    const s = setup({ sseClients: () => clients });
    s.snapshot(0, [girarTask(1, 'NEW'), girarTask(2, 'NEW')]);
    const first = await s.metrics.render();
    let samples = parseSamples(first.body);
    expect(series(samples, 'buildfarm_exporter_build_info')).toEqual({ 'version=0.1.0-test': 1 });
    expect(series(samples, 'buildfarm_exporter_store_tasks')).toEqual({ '': 2 });
    expect(series(samples, 'buildfarm_exporter_events_last_seq')).toEqual({ '': s.store.events.lastSeq });
    expect(series(samples, 'buildfarm_exporter_sse_clients')).toEqual({ '': 2 });
    expect(series(samples, 'buildfarm_exporter_scrape_series')).toEqual({ '': 0 });
    clients = 0;
    samples = await scrape(s.metrics);
    expect(series(samples, 'buildfarm_exporter_sse_clients')).toEqual({ '': 0 });
    expect(series(samples, 'buildfarm_exporter_scrape_series')).toEqual({ '': parseSamples(first.body).length });
  });

  it('never lets a failing listener break store.apply, and counts the failure', async () => {
    const s = setup();
    const spy = vi.spyOn(TaskMetrics.prototype, 'onTask').mockImplementation(() => {
      throw new Error('metrics bug');
    });
    try {
      s.snapshot(0, [girarTask(1, 'NEW', { subtasks: [{ x86_64: 'built' }] })]);
      s.snapshot(60, [girarTask(1, 'AWAITING', { subtasks: [{ x86_64: 'built' }] })]);
    } finally {
      spy.mockRestore();
    }
    expect(s.store.getTask('alt', '1')?.state).toBe('AWAITING');
    const samples = await scrape(s.metrics);
    expect(series(samples, 'buildfarm_exporter_collect_errors_total')).toEqual({ 'family=buildfarm_task_transitions_total': 2 });
    expect(series(samples, 'buildfarm_girar_subtask_arch_builds')).toEqual({ 'arch=x86_64,repo=sisyphus,source=alt,status=built': 1 });
  });

  it('stops counting after close()', async () => {
    const s = setup();
    s.snapshot(0, [girarTask(1, 'NEW')]);
    s.metrics.close();
    s.snapshot(60, [girarTask(1, 'AWAITING')]);
    expect(series(await scrape(s.metrics), 'buildfarm_task_transitions_total')).toEqual({});
  });
});

describe('GET /metrics', () => {
  it('serves the text format, and still answers 200 when a collector fails', async () => {
    const s = setup();
    s.snapshot(0, [girarTask(1, 'AWAITING')]);
    const app = Fastify();
    await app.register(metricsRoute, { metrics: s.metrics });
    try {
      let res = await app.inject({ method: 'GET', url: '/metrics' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(res.body).toContain('buildfarm_tasks{source="alt",kind="girar",repo="sisyphus",state="AWAITING",phase="queued"} 1');
      s.health.broken = true;
      res = await app.inject({ method: 'GET', url: '/metrics' });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('# TYPE buildfarm_tasks gauge');
      expect(res.body).not.toContain('# TYPE buildfarm_source_up gauge');
    } finally {
      await app.close();
    }
  });
});

function worker(id: string, up: boolean, busy: boolean): Worker {
  return { source: 'apb', kind: 'apb', id, name: id, up, busy, archs: ['ppc64le'] };
}

function job(id: string, status: string, paused = false): Job {
  return { source: 'karajo', kind: 'karajo', id, name: id, jobType: 'exec', status, paused };
}
