import { describe, expect, it } from 'vitest';
import type { Task } from '../model/task.js';
import type { Worker } from '../model/worker.js';
import { scrape, series, setup, sourceHealth, T0 } from './test-helpers.js';

function apbWorker(id: string, over: Partial<Worker> = {}): Worker {
  return { source: 'ap', kind: 'apb', id, name: id, up: true, archs: ['powerpc64le'], ...over };
}

function apbBuild(id: string, state: string, over: Partial<Task> = {}): Task {
  const phase = ({ queued: 'queued', building: 'running', completed: 'success', failed: 'failed', cancelled: 'canceled' } as const)[state as 'queued'] ?? 'unknown';
  return { source: 'ap', kind: 'apb', id, state, phase, repo: 'powerpc64le', archs: ['powerpc64le'], subtasks: [], ...over };
}

describe('worker and APB metrics', () => {
  it('exports each known worker field per worker, and nothing for unknown ones', async () => {
    const { store, metrics } = setup();
    store.apply('ap', 'apb', {
      type: 'snapshot',
      tasks: [],
      workers: [
        apbWorker('p1', { capacity: 2, load: 1, queueLength: 3, cpuCores: 32, loadAverage: 4.5, cpuUsageRatio: 0.25, memoryUsedBytes: 1e9, memoryTotalBytes: 64e9, diskUsedBytes: 5e10, diskTotalBytes: 1e12, lastSeen: '2026-03-16T12:00:00Z', health: 'warning' }),
        apbWorker('p2', { up: false, archs: ['powerpc64', 'ppc'], capacity: 1 }),
      ],
    });
    const samples = await scrape(metrics);
    expect(series(samples, 'buildfarm_worker_up')).toEqual({ 'kind=apb,source=ap,worker=p1': 1, 'kind=apb,source=ap,worker=p2': 0 });
    expect(series(samples, 'buildfarm_worker_capacity')).toEqual({ 'kind=apb,source=ap,worker=p1': 2, 'kind=apb,source=ap,worker=p2': 1 });
    expect(series(samples, 'buildfarm_worker_running_tasks')).toEqual({ 'kind=apb,source=ap,worker=p1': 1 });
    expect(series(samples, 'buildfarm_worker_queued_tasks')).toEqual({ 'kind=apb,source=ap,worker=p1': 3 });
    expect(series(samples, 'buildfarm_worker_cpu_cores')).toEqual({ 'kind=apb,source=ap,worker=p1': 32 });
    expect(series(samples, 'buildfarm_worker_load1')).toEqual({ 'kind=apb,source=ap,worker=p1': 4.5 });
    expect(series(samples, 'buildfarm_worker_cpu_usage_ratio')).toEqual({ 'kind=apb,source=ap,worker=p1': 0.25 });
    expect(series(samples, 'buildfarm_worker_memory_used_bytes')).toEqual({ 'kind=apb,source=ap,worker=p1': 1e9 });
    expect(series(samples, 'buildfarm_worker_memory_total_bytes')).toEqual({ 'kind=apb,source=ap,worker=p1': 64e9 });
    expect(series(samples, 'buildfarm_worker_disk_used_bytes')).toEqual({ 'kind=apb,source=ap,worker=p1': 5e10 });
    expect(series(samples, 'buildfarm_worker_disk_total_bytes')).toEqual({ 'kind=apb,source=ap,worker=p1': 1e12 });
    expect(series(samples, 'buildfarm_worker_last_seen_timestamp_seconds')).toEqual({ 'kind=apb,source=ap,worker=p1': T0 / 1000 });
    expect(series(samples, 'buildfarm_worker_arch_info')).toEqual({
      'arch=powerpc64le,kind=apb,source=ap,worker=p1': 1,
      'arch=powerpc64,kind=apb,source=ap,worker=p2': 1,
      'arch=ppc,kind=apb,source=ap,worker=p2': 1,
    });
    expect(series(samples, 'buildfarm_apb_server_health')).toEqual({
      'source=ap,status=healthy,worker=p1': 0,
      'source=ap,status=warning,worker=p1': 1,
      'source=ap,status=degraded,worker=p1': 0,
    });
    expect(series(samples, 'buildfarm_workers')).toEqual({ 'kind=apb,source=ap,state=busy': 0, 'kind=apb,source=ap,state=idle': 1, 'kind=apb,source=ap,state=down': 1 });
  });

  it("exports whether the farm answered GET /farm, whatever its other requests did", async () => {
    const { health, metrics } = setup();
    const server = { name: 's1', role: 'server', url: 'http://s1:8000', up: true, reachable: true, consecutiveFailures: 0 };
    health.sources = [
      sourceHealth('ap', { kind: 'apb', endpoints: [{ name: 'farm', role: 'farm', url: 'http://farm:8080', up: false, reachable: false, consecutiveFailures: 2 }, server] }),
      // Its build list failed, but GET /farm answered: the farm is up.
      sourceHealth('ap2', { kind: 'apb', endpoints: [{ name: 'farm', role: 'farm', url: 'http://farm2:8080', up: false, reachable: true, consecutiveFailures: 1 }] }),
      sourceHealth('direct-only', { kind: 'apb', endpoints: [server] }),
    ];
    expect(series(await scrape(metrics), 'buildfarm_apb_farm_up')).toEqual({ 'source=ap': 0, 'source=ap2': 1 });
  });

  it('counts builds the source says are new even when first seen finished, with their upstream duration and queue wait', async () => {
    const { store, metrics } = setup();
    const at = (s: number) => new Date(T0 + s * 1000).toISOString().replace('.000Z', 'Z');
    store.apply('ap', 'apb', { type: 'snapshot', tasks: [apbBuild('old', 'completed', { created: at(-900), started: at(-800), finished: at(-100) })] }, T0);
    const quick = apbBuild('quick', 'failed', { created: at(10), started: at(40), finished: at(100) });
    const running = apbBuild('running', 'building', { created: at(20), started: at(200) });
    const stranger = apbBuild('stranger', 'completed', { created: at(0), started: at(1), finished: at(5000) });
    store.apply('ap', 'apb', { type: 'snapshot', tasks: [quick, running, stranger], newTaskIds: ['quick', 'running'] }, T0 + 300_000);
    const samples = await scrape(metrics);
    // `old` was listed before the source knew what is new; `stranger` is not said to be new.
    expect(series(samples, 'buildfarm_tasks_finished_total')).toEqual({ 'kind=apb,phase=failed,repo=powerpc64le,source=ap': 1 });
    expect(series(samples, 'buildfarm_task_duration_seconds_sum')).toEqual({ 'kind=apb,phase=failed,repo=powerpc64le,source=ap': 60 });
    expect(series(samples, 'buildfarm_task_queue_wait_seconds_sum')).toEqual({ 'kind=apb,repo=powerpc64le,source=ap': 30 + 180 });
    expect(series(samples, 'buildfarm_task_queue_wait_seconds_count')).toEqual({ 'kind=apb,repo=powerpc64le,source=ap': 2 });
    // Seen again: not counted twice.
    store.apply('ap', 'apb', { type: 'snapshot', tasks: [quick, running, stranger], newTaskIds: ['quick', 'running'] }, T0 + 330_000);
    expect(series(await scrape(metrics), 'buildfarm_tasks_finished_total')).toEqual({ 'kind=apb,phase=failed,repo=powerpc64le,source=ap': 1 });
  });
});
