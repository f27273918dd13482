import { describe, expect, it } from 'vitest';
import { girarTask, scrape, series, setup, T0 } from './test-helpers.js';

const at = (seconds: number) => (T0 + seconds * 1000) / 1000;

/**
 * One girar life cycle in five polls:
 *   t=0     1 NEW, 2 AWAITING, 3 DONE (first seen finished)
 *   t=60    1 AWAITING, 2 BUILDING
 *   t=600   1 BUILDING, 2 TESTED
 *   t=900   2 and 3 gone
 *   t=1000  1 FAILED
 */
function lifeCycle() {
  const s = setup();
  const steps = [
    () => s.snapshot(0, [girarTask(1, 'NEW'), girarTask(2, 'AWAITING'), girarTask(3, 'DONE', { repo: 'p10' })]),
    () => s.snapshot(60, [girarTask(1, 'AWAITING'), girarTask(2, 'BUILDING'), girarTask(3, 'DONE', { repo: 'p10' })]),
    () => s.snapshot(600, [girarTask(1, 'BUILDING'), girarTask(2, 'TESTED'), girarTask(3, 'DONE', { repo: 'p10' })]),
    () => s.snapshot(900, [girarTask(1, 'BUILDING')]),
    () => s.snapshot(1000, [girarTask(1, 'FAILED')]),
  ];
  return { ...s, steps };
}

describe('task gauges', () => {
  it('counts current tasks per (repo, state, phase) group and drops vanished groups', async () => {
    const { metrics, steps } = lifeCycle();
    steps[0]?.();
    let samples = await scrape(metrics);
    expect(series(samples, 'buildfarm_tasks')).toEqual({
      'kind=girar,phase=blocked,repo=sisyphus,source=alt,state=NEW': 1,
      'kind=girar,phase=queued,repo=sisyphus,source=alt,state=AWAITING': 1,
      'kind=girar,phase=success,repo=p10,source=alt,state=DONE': 1,
    });
    steps[1]?.();
    samples = await scrape(metrics);
    expect(series(samples, 'buildfarm_tasks')).toEqual({
      'kind=girar,phase=queued,repo=sisyphus,source=alt,state=AWAITING': 1,
      'kind=girar,phase=running,repo=sisyphus,source=alt,state=BUILDING': 1,
      'kind=girar,phase=success,repo=p10,source=alt,state=DONE': 1,
    });
    steps[2]?.();
    steps[3]?.();
    samples = await scrape(metrics);
    expect(series(samples, 'buildfarm_tasks')).toEqual({ 'kind=girar,phase=running,repo=sisyphus,source=alt,state=BUILDING': 1 });
  });

  it('exports the oldest state time of waiting, running and blocked groups only', async () => {
    const { metrics, steps, snapshot } = lifeCycle();
    steps[0]?.();
    expect(series(await scrape(metrics), 'buildfarm_task_oldest_state_timestamp_seconds')).toEqual({
      'kind=girar,repo=sisyphus,source=alt,state=NEW': at(0),
      'kind=girar,repo=sisyphus,source=alt,state=AWAITING': at(0),
    });
    // A second AWAITING task arriving later does not move the oldest time.
    snapshot(60, [girarTask(1, 'AWAITING'), girarTask(2, 'AWAITING'), girarTask(3, 'DONE', { repo: 'p10' })]);
    expect(series(await scrape(metrics), 'buildfarm_task_oldest_state_timestamp_seconds')).toEqual({
      'kind=girar,repo=sisyphus,source=alt,state=AWAITING': at(0),
    });
    snapshot(120, [girarTask(1, 'AWAITING'), girarTask(2, 'BUILDING')]);
    expect(series(await scrape(metrics), 'buildfarm_task_oldest_state_timestamp_seconds')).toEqual({
      'kind=girar,repo=sisyphus,source=alt,state=AWAITING': at(60),
      'kind=girar,repo=sisyphus,source=alt,state=BUILDING': at(120),
    });
  });
});

describe('task counters and histograms', () => {
  it('counts observed state transitions and finishes, never first sightings, never down', async () => {
    const { metrics, steps } = lifeCycle();
    steps[0]?.();
    let samples = await scrape(metrics);
    expect(series(samples, 'buildfarm_task_transitions_total')).toEqual({});
    expect(series(samples, 'buildfarm_tasks_finished_total')).toEqual({});

    steps[1]?.();
    steps[2]?.();
    samples = await scrape(metrics);
    expect(series(samples, 'buildfarm_task_transitions_total')).toEqual({
      'from_state=NEW,kind=girar,source=alt,to_state=AWAITING': 1,
      'from_state=AWAITING,kind=girar,source=alt,to_state=BUILDING': 2,
      'from_state=BUILDING,kind=girar,source=alt,to_state=TESTED': 1,
    });
    expect(series(samples, 'buildfarm_tasks_finished_total')).toEqual({ 'kind=girar,phase=success,repo=sisyphus,source=alt': 1 });

    steps[3]?.();
    const afterRemoval = await scrape(metrics);
    expect(series(afterRemoval, 'buildfarm_task_transitions_total')).toEqual(series(samples, 'buildfarm_task_transitions_total'));
    expect(series(afterRemoval, 'buildfarm_tasks_finished_total')).toEqual(series(samples, 'buildfarm_tasks_finished_total'));

    steps[4]?.();
    samples = await scrape(metrics);
    expect(series(samples, 'buildfarm_tasks_finished_total')).toEqual({
      'kind=girar,phase=success,repo=sisyphus,source=alt': 1,
      'kind=girar,phase=failed,repo=sisyphus,source=alt': 1,
    });
    expect(series(samples, 'buildfarm_task_transitions_total')['from_state=BUILDING,kind=girar,source=alt,to_state=FAILED']).toBe(1);
  });

  it('observes run time from start to finish and queue wait in the queued state, in exact seconds', async () => {
    const { metrics, steps } = lifeCycle();
    for (const step of steps) step();
    const samples = await scrape(metrics);
    const duration = (suffix: string) => series(samples, `buildfarm_task_duration_seconds${suffix}`);
    // Task 2 ran 60 -> 600 (540 s, success); task 1 ran 600 -> 1000 (400 s, failed).
    expect(duration('_sum')).toEqual({ 'kind=girar,phase=success,repo=sisyphus,source=alt': 540, 'kind=girar,phase=failed,repo=sisyphus,source=alt': 400 });
    expect(duration('_count')).toEqual({ 'kind=girar,phase=success,repo=sisyphus,source=alt': 1, 'kind=girar,phase=failed,repo=sisyphus,source=alt': 1 });
    const successBuckets = duration('_bucket');
    expect(successBuckets['kind=girar,le=300,phase=success,repo=sisyphus,source=alt']).toBe(0);
    expect(successBuckets['kind=girar,le=600,phase=success,repo=sisyphus,source=alt']).toBe(1);

    // Task 2 waited 0 -> 60 in AWAITING; task 1 waited 60 -> 600 (its NEW time is not queue time).
    const wait = (suffix: string) => series(samples, `buildfarm_task_queue_wait_seconds${suffix}`);
    expect(wait('_sum')).toEqual({ 'kind=girar,repo=sisyphus,source=alt': 600 });
    expect(wait('_count')).toEqual({ 'kind=girar,repo=sisyphus,source=alt': 2 });
    expect(wait('_bucket')['kind=girar,le=60,repo=sisyphus,source=alt']).toBe(1);
    expect(wait('_bucket')['kind=girar,le=300,repo=sisyphus,source=alt']).toBe(1);
    expect(wait('_bucket')['kind=girar,le=600,repo=sisyphus,source=alt']).toBe(2);
  });

  it('does not observe a duration for a task never seen running, nor count a re-finish of a finished task', async () => {
    const s = setup();
    s.snapshot(0, [girarTask(7, 'AWAITING'), girarTask(8, 'TESTED')]);
    s.snapshot(30, [girarTask(7, 'FAILED'), girarTask(8, 'DONE')]);
    const samples = await scrape(s.metrics);
    expect(series(samples, 'buildfarm_tasks_finished_total')).toEqual({ 'kind=girar,phase=failed,repo=sisyphus,source=alt': 1 });
    expect(series(samples, 'buildfarm_task_duration_seconds_count')).toEqual({});
    expect(series(samples, 'buildfarm_task_transitions_total')).toEqual({
      'from_state=AWAITING,kind=girar,source=alt,to_state=FAILED': 1,
      'from_state=TESTED,kind=girar,source=alt,to_state=DONE': 1,
    });
  });
});

describe('girar runs', () => {
  it('measures queue wait from AWAITING to BUILDING only, and duration from build start to DONE', async () => {
    const { metrics, snapshot } = setup();
    snapshot(0, [girarTask(5, 'NEW')]);
    snapshot(10, [girarTask(5, 'AWAITING')]);
    snapshot(70, [girarTask(5, 'BUILDING')]);
    snapshot(670, [girarTask(5, 'PENDING')]);
    snapshot(700, [girarTask(5, 'COMMITTING')]);
    snapshot(760, [girarTask(5, 'DONE')]);
    const samples = await scrape(metrics);
    expect(series(samples, 'buildfarm_task_queue_wait_seconds_count')).toEqual({ 'kind=girar,repo=sisyphus,source=alt': 1 });
    expect(series(samples, 'buildfarm_task_queue_wait_seconds_sum')).toEqual({ 'kind=girar,repo=sisyphus,source=alt': 60 });
    expect(series(samples, 'buildfarm_task_duration_seconds_sum')).toEqual({ 'kind=girar,phase=success,repo=sisyphus,source=alt': 690 });
  });
});

