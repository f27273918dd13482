import { describe, expect, it } from 'vitest';
import type { Task } from '../model/task.js';
import { scrape, series, setup, T0 } from './test-helpers.js';

const iso = (s: number) => new Date(T0 + s * 1000).toISOString().replace('.000Z', 'Z');
const phases: Record<string, Task['phase']> = { submitted: 'queued', scheduled: 'queued', started: 'running', succeeded: 'success', failed: 'failed', evaluating: 'running', evaluated: 'success' };
const build = (id: number, state: string, over: Partial<Task> = {}): Task => ({ source: 'ci', kind: 'cuirass', id: String(id), state, phase: phases[state] ?? 'unknown', repo: 'guix', archs: ['x86_64-linux'], subtasks: [], ...over });

describe('cuirass metrics', () => {
  it('counts the queue by specification, system and status, and dates the oldest waiting build', async () => {
    const { store, metrics } = setup();
    store.apply('ci', 'cuirass', {
      type: 'snapshot',
      tasks: [
        build(1, 'scheduled', { created: iso(-600) }),
        build(2, 'scheduled', { created: iso(-60) }),
        build(3, 'started', { archs: ['aarch64-linux'] }),
        build(4, 'succeeded'),
        build(5, 'evaluating', { id: 'eval-5' }),
      ],
    });
    const samples = await scrape(metrics);
    expect(series(samples, 'buildfarm_cuirass_pending_builds')).toEqual({
      'arch=x86_64-linux,repo=guix,source=ci,state=scheduled': 2,
      'arch=aarch64-linux,repo=guix,source=ci,state=started': 1,
    });
    expect(series(samples, 'buildfarm_cuirass_oldest_pending_timestamp_seconds')).toEqual({ 'source=ci': T0 / 1000 - 600 });
  });

  it('counts each build once when it ends (seen pending, or new and already finished), new failures, and evaluation durations', async () => {
    const { store, metrics } = setup();
    const apply = (s: number, tasks: Task[], newTaskIds?: string[]) => store.apply('ci', 'cuirass', { type: 'snapshot', tasks, ...(newTaskIds ? { newTaskIds } : {}) }, T0 + s * 1000);
    apply(0, [build(1, 'succeeded'), build(2, 'started'), build(9, 'evaluating', { id: 'eval-9', created: iso(0) })]);
    apply(30, [build(1, 'succeeded'), build(2, 'failed', { attrs: { weather: 'new-failure' } }), build(3, 'succeeded'), build(9, 'evaluated', { id: 'eval-9', created: iso(0), finished: iso(25) })], ['3']);
    apply(60, [build(2, 'failed', { attrs: { weather: 'new-failure' } }), build(3, 'succeeded'), build(9, 'evaluated', { id: 'eval-9', created: iso(0), finished: iso(25) })]);
    const samples = await scrape(metrics);
    expect(series(samples, 'buildfarm_cuirass_builds_completed_total')).toEqual({
      'arch=x86_64-linux,repo=guix,result=failed,source=ci': 1,
      'arch=x86_64-linux,repo=guix,result=succeeded,source=ci': 1,
    });
    expect(series(samples, 'buildfarm_cuirass_new_failures_total')).toEqual({ 'arch=x86_64-linux,repo=guix,source=ci': 1 });
    expect(series(samples, 'buildfarm_cuirass_evaluation_duration_seconds_sum')).toEqual({ 'repo=guix,result=evaluated,source=ci': 25 });
  });
});
