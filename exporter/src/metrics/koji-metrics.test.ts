import { describe, expect, it } from 'vitest';
import type { Task } from '../model/task.js';
import type { UpstreamFigure } from '../sources/source.js';
import { scrape, series, setup, sourceHealth, T0 } from './test-helpers.js';

const iso = (s: number) => new Date(T0 + s * 1000).toISOString();
const phases: Record<string, Task['phase']> = { FREE: 'queued', ASSIGNED: 'queued', OPEN: 'running', CLOSED: 'success', FAILED: 'failed', CANCELED: 'canceled', building: 'running', complete: 'success', failed: 'failed', deleted: 'unknown' };
const task = (id: number | string, state: string, method: string, over: Partial<Task> = {}): Task => ({
  source: 'fedora', kind: 'koji', id: String(id), state, phase: phases[state] ?? 'unknown', repo: 'default', archs: ['x86_64'], subtasks: [],
  created: iso(0), attrs: { method, channel: 'default' }, ...over,
});

describe('koji metrics', () => {
  it('exports the hub and database up from the endpoints, and the figures only while the source is up', async () => {
    const { metrics, health } = setup();
    const hub = (reachable: boolean) => ({ name: 'hub', role: 'hub', url: 'http://hub/kojihub', up: reachable, reachable, consecutiveFailures: 0 });
    const db = (up: boolean) => ({ name: 'database', role: 'database', url: 'http://hub/kojihub', up, reachable: up, consecutiveFailures: 0 });
    const figures: UpstreamFigure[] = [
      { name: 'tasks', labels: { state: 'FREE', method: 'build' }, value: 3 },
      { name: 'tasks', labels: { state: 'FREE', method: 'other' }, value: 1 },
      { name: 'host_task_load', labels: { worker: 'b1' }, value: 1.5 },
      { name: 'channel_hosts', labels: { channel: 'default', state: 'ready' }, value: 2 },
      { name: 'repo_queue_length', value: 4 },
    ];
    health.sources = [sourceHealth('fedora', { kind: 'koji', up: true, endpoints: [hub(true), db(true)], upstream: { figures } })];
    let samples = await scrape(metrics);
    expect(series(samples, 'buildfarm_koji_hub_up')).toEqual({ 'source=fedora': 1 });
    expect(series(samples, 'buildfarm_koji_database_up')).toEqual({ 'source=fedora': 1 });
    expect(series(samples, 'buildfarm_koji_tasks')).toEqual({ 'method=build,source=fedora,state=FREE': 3, 'method=other,source=fedora,state=FREE': 1 });
    expect(series(samples, 'buildfarm_koji_host_task_load')).toEqual({ 'source=fedora,worker=b1': 1.5 });
    expect(series(samples, 'buildfarm_koji_channel_hosts')).toEqual({ 'channel=default,source=fedora,state=ready': 2 });
    expect(series(samples, 'buildfarm_koji_repo_queue_length')).toEqual({ 'source=fedora': 4 });

    // Database down: the hub answered 1014, the poll failed.
    health.sources = [sourceHealth('fedora', { kind: 'koji', up: false, endpoints: [hub(true), db(false)], upstream: { figures } })];
    samples = await scrape(metrics);
    expect(series(samples, 'buildfarm_koji_hub_up')).toEqual({ 'source=fedora': 1 });
    expect(series(samples, 'buildfarm_koji_database_up')).toEqual({ 'source=fedora': 0 });
    expect(series(samples, 'buildfarm_koji_tasks')).toEqual({});

    // Hub unreachable: the database state is unknown, so absent.
    health.sources = [sourceHealth('fedora', { kind: 'koji', up: false, endpoints: [hub(false), db(false)] })];
    samples = await scrape(metrics);
    expect(series(samples, 'buildfarm_koji_hub_up')).toEqual({ 'source=fedora': 0 });
    expect(series(samples, 'buildfarm_koji_database_up')).toEqual({});
  });

  it('counts each task end once by method and result, with durations and queue waits by method and channel; builds by result', async () => {
    const { store, metrics } = setup();
    metrics.restrictLabel('fedora', 'method', ['build', 'buildArch']);
    const apply = (s: number, tasks: Task[], newTaskIds?: string[]) => store.apply('fedora', 'koji', { type: 'snapshot', tasks, ...(newTaskIds ? { newTaskIds } : {}) }, T0 + s * 1000);
    // Baseline: task 1 open, task 2 already closed (not counted), build 1 building.
    apply(0, [task(1, 'OPEN', 'buildArch', { started: iso(10) }), task(2, 'CLOSED', 'build', { started: iso(1), finished: iso(5) }), task('build-1', 'building', 'build', { attrs: {} })]);
    // Task 1 closes after 50 s; task 3 (new) was created, started and failed between polls; task 4 (new, a method outside the list) is open.
    apply(60, [
      task(1, 'CLOSED', 'buildArch', { started: iso(10), finished: iso(60) }),
      task(2, 'CLOSED', 'build', { started: iso(1), finished: iso(5) }),
      task(3, 'FAILED', 'build', { created: iso(20), started: iso(30), finished: iso(40) }),
      task(4, 'OPEN', 'runroot', { created: iso(40), started: iso(45) }),
      task('build-1', 'complete', 'build', { attrs: {} }),
      task('build-2', 'failed', 'build', { attrs: {} }),
    ], ['3', '4', 'build-2']);
    // Nothing new: the same records again count nothing more.
    apply(90, [task(1, 'CLOSED', 'buildArch', { started: iso(10), finished: iso(60) }), task(3, 'FAILED', 'build', { created: iso(20), started: iso(30), finished: iso(40) })]);
    const samples = await scrape(metrics);
    expect(series(samples, 'buildfarm_koji_tasks_completed_total')).toEqual({ 'method=buildArch,result=CLOSED,source=fedora': 1, 'method=build,result=FAILED,source=fedora': 1 });
    expect(series(samples, 'buildfarm_koji_task_duration_seconds_sum')).toEqual({ 'channel=default,method=buildArch,source=fedora': 50, 'channel=default,method=build,source=fedora': 10 });
    expect(series(samples, 'buildfarm_koji_task_queue_wait_seconds_sum')).toEqual({ 'channel=default,method=build,source=fedora': 10, 'channel=default,method=other,source=fedora': 5 });
    expect(series(samples, 'buildfarm_koji_builds_completed_total')).toEqual({ 'result=complete,source=fedora': 1, 'result=failed,source=fedora': 1 });
  });
});
