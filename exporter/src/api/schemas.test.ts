/**
 * The response schemas decide what is serialized: a model field missing from them would vanish
 * from the API silently. These round trips fill every model field and expect it back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../model/job.js';
import type { Task } from '../model/task.js';
import type { Worker } from '../model/worker.js';
import { buildTestApi, type TestApi } from './test-helpers.js';

const fullTask: Required<Task> = {
  source: 'alt',
  kind: 'girar',
  id: '411555',
  state: 'BUILDING',
  phase: 'running',
  owner: 'rider',
  repo: 'p11',
  message: 'update PDAL',
  created: '2026-03-16T12:22:27Z',
  started: '2026-03-16T12:30:00Z',
  finished: '2026-03-16T13:00:00Z',
  updated: '2026-03-16T17:15:28Z',
  stateSince: '2026-03-16T12:25:00Z',
  archs: ['aarch64', 'x86_64'],
  subtasks: [
    {
      id: '100',
      type: 'repo',
      package: 'pdal',
      label: '/gears/p/pdal.git',
      owner: 'rider',
      archs: [{ arch: 'x86_64', status: 'built', phase: 'success' }],
      approvedBy: ['maint1'],
      disapprovedBy: ['tester2'],
      approvals: [
        { by: 'maint1', verdict: 'approved', at: '2026-03-16T12:40:00Z', comment: 'looks fine' },
        { by: 'tester2', verdict: 'disapproved' },
      ],
      fields: { dir: '/gears/p/pdal.git', pkgname: 'pdal' },
    },
  ],
  url: 'https://git.altlinux.org/tasks/411555/',
  artifacts: [
    { name: 'pdal-2.8.0-alt1.x86_64.rpm', type: 'package', size: 123456, url: 'https://example.org/build/1/download/pdal-2.8.0-alt1.x86_64.rpm' },
    { name: 'build.log', type: 'log' },
  ],
  native: { taskid: 411555, nested: { list: [1, 'two', null, true] } },
  attrs: { try: 2, iter: 1, test_only: false, note: 'x' },
};

const fullWorker: Required<Worker> = {
  source: 'power',
  kind: 'apb',
  id: 'ppc1',
  name: 'ppc1.example',
  up: true,
  busy: true,
  enabled: true,
  archs: ['ppc64le'],
  capacity: 4,
  load: 3,
  queueLength: 7,
  cpuCores: 32,
  loadAverage: 12.5,
  cpuUsageRatio: 0.75,
  memoryUsedBytes: 1024,
  memoryTotalBytes: 2048,
  diskUsedBytes: 10,
  diskTotalBytes: 20,
  currentTask: '42',
  version: '2026-06-30',
  health: 'warning',
  lastSeen: '2026-03-16T12:00:00Z',
  lastError: { message: 'GET /health answered HTTP 500', at: '2026-03-16T11:59:30Z' },
  labels: { site: 'lab-a' },
  url: 'https://power.example/',
  native: { any: 'thing' },
};

const fullJob: Required<Job> = {
  source: 'cron',
  kind: 'karajo',
  id: 'sync',
  name: 'sync',
  jobType: 'http',
  status: 'running',
  paused: false,
  lastRun: '2026-03-16T11:00:00Z',
  nextRun: '2026-03-16T12:00:00Z',
  intervalSeconds: 3600,
  schedule: 'hourly',
  lastDurationSeconds: 12.5,
  overdue: true,
  logRetention: 5,
  lastRunCounter: 42,
  description: 'mirror sync',
  url: 'https://cron.example/job/sync',
  native: { id: 'sync' },
};

let t: TestApi;
beforeAll(async () => {
  t = await buildTestApi({ fill: false });
  t.store.apply('alt', 'girar', { type: 'snapshot', tasks: [fullTask] });
  t.store.apply('power', 'apb', { type: 'snapshot', tasks: [], workers: [fullWorker] });
  t.store.apply('cron', 'karajo', { type: 'snapshot', tasks: [], jobs: [fullJob] });
});
afterAll(async () => {
  await t.app.close();
});

describe('response schemas cover the model', () => {
  it('task detail returns every field', async () => {
    const res = await t.app.inject({ url: '/api/v1/tasks/alt/411555' });
    expect(res.json()).toEqual(fullTask);
  });

  it('task list returns every field but native and artifacts, plus matches', async () => {
    const res = await t.app.inject({ url: '/api/v1/tasks?q=pdal' });
    const { native: _native, artifacts: _artifacts, ...listed } = fullTask;
    expect(res.json<{ items: unknown[] }>().items).toEqual([{ ...listed, matches: ['100/dir:pdal', '100/pkgname:pdal', 'message:pdal'] }]);
  });

  it('workers and jobs return every field but native', async () => {
    const { native: _w, ...worker } = fullWorker;
    const { native: _j, ...job } = fullJob;
    expect((await t.app.inject({ url: '/api/v1/workers' })).json()).toEqual({ items: [worker] });
    expect((await t.app.inject({ url: '/api/v1/jobs' })).json()).toEqual({ items: [job] });
  });
});
