/**
 * Counting in the cuirass source end to end (adapter -> store -> metrics), against capped and
 * oddly ordered lists; each case was a bug a review found.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream, type FakeAnswer } from '../../test-support/fake-upstream.js';
import { ManualClock } from '../../util/clock.js';
import { UpstreamHttp } from '../http.js';
import { CuirassAdapter } from './adapter.js';
import { parseCuirassConfig } from './config.js';
import type { Build, Evaluation } from './upstream.js';
import { scrape, series, setup, T0 } from '../../metrics/test-helpers.js';

const T = 1795500000;
function build(id: number, buildstatus: number, over: Partial<Build> = {}): Build {
  const finished = buildstatus >= 0;
  return {
    id, evaluation: 2, jobset: 'guix', job: `job-${id}`, timestamp: finished ? T + 100 : T,
    starttime: buildstatus === -1 || finished ? T + 10 : 0, stoptime: finished ? T + 100 : 0,
    system: 'x86_64-linux', nixname: `p-${id}`, buildstatus, weather: finished ? 2 : -1,
    busy: buildstatus === -1 ? 1 : 0, priority: 9, finished: finished ? 1 : 0, buildproducts: [], ...over,
  };
}
const evaluation = (id: number, status: number): Evaluation => ({ id, specification: 'guix', status, timestamp: T, checkouttime: T + 30, evaltime: status >= 0 ? T + 600 : 0 });
const json = (body: unknown): FakeAnswer => ({ body: JSON.stringify(body) });

describe('review: cuirass counting', () => {
  const up = new FakeUpstream();
  beforeAll(() => up.up());
  afterAll(() => up.down());
  const serve = (queue: Build[], latest: Build[], evals: Evaluation[] = [evaluation(2, 0)]) => {
    up.routes.set('/api/queue', json(queue));
    up.routes.set('/api/latestbuilds', json(latest));
    up.routes.set('/api/evaluations', json(evals));
    up.routes.set('/specifications', json([]));
  };
  const harness = () => {
    const a = new CuirassAdapter(parseCuirassConfig({ url: up.url }), { name: 'ci', log: pino({ level: 'silent' }), clock: new ManualClock(), http: new UpstreamHttp(), pollTimeoutSeconds: 10 });
    const { store, metrics } = setup();
    let s = 0;
    const step = async () => { store.apply('ci', 'cuirass', await a.poll(AbortSignal.timeout(4000)), T0 + (s += 60) * 1000); };
    const completed = async () => Object.values(series(await scrape(metrics), 'buildfarm_cuirass_builds_completed_total')).reduce((x, y) => x + y, 0);
    return { a, store, metrics, step, completed };
  };

  // Was a bug: a huge newest evaluation (ids 1001..10000); /api/latestbuilds orders by evaluation only,
  // so its top 500 can be low ids; the queue shows running builds then oldest pending (id ASC).
  it('does not take a normal instance for a wiped database when the highest id drops out of the capped lists', async () => {
    const h = harness();
    serve([build(9000, -1)], [build(1001, 0)]);
    await h.step();
    serve([], [build(9000, 0), build(1001, 0)]);
    await h.step(); // 9000 seen running -> succeeded: counted once
    expect(await h.completed()).toBe(1);
    serve([build(1500, -1)], [build(1002, 0), build(1003, 0)]); // 9000 out of the window (same evaluation, arbitrary order)
    await h.step();
    expect.soft(h.a.problems().current).not.toHaveProperty('ids_reset'); // fires: 1500 < 9000 / 2
    serve([build(1500, -1)], [build(9000, 0), build(1002, 0)]); // 9000 back in the window
    await h.step();
    expect(await h.completed()).toBe(1); // 2: after the false reset 9000 is "new" again and counted twice
  });

  // Was a bug: a build seen running that finishes outside the latestbuilds window is removed, never counted.
  it('counts a build seen running that finishes in an older evaluation (outside latest_limit)', async () => {
    const h = harness();
    serve([build(500, -1, { evaluation: 1 })], [build(600, 0)]);
    await h.step();
    serve([], [build(601, 0), build(600, 0)]); // 500 finished, but eval 1 is below the top of /api/latestbuilds
    up.routes.set('/build/500', json(build(500, 0, { evaluation: 1 })));
    await h.step();
    // 500 left the queue unfinished and is in no list: the adapter reads /build/500 and sees it end.
    expect(await h.completed()).toBe(2);
  });

  // Was a bug: evaluations feed the generic families: a fresh evaluation observes a 0 s queue wait
  // (started = created = timestamp) and counts in buildfarm_tasks_finished_total{phase="success"} with builds.
  it('keeps evaluations out of the generic build families (queue wait, finished)', async () => {
    const h = harness();
    serve([], [build(10, 0)], [evaluation(2, 0)]);
    await h.step();
    serve([], [build(11, 0), build(10, 0)], [evaluation(3, 0), evaluation(2, 0)]);
    await h.step();
    const s = await scrape(h.metrics);
    // The generic finished counter counts evaluations too (documented: buildfarm_cuirass_builds_completed_total is builds only).
    expect(series(s, 'buildfarm_tasks_finished_total')).toEqual({ 'kind=cuirass,phase=success,repo=guix,source=ci': 2 });
    expect(series(s, 'buildfarm_cuirass_builds_completed_total')).toEqual({ 'arch=x86_64-linux,repo=guix,result=succeeded,source=ci': 1 });
    // An evaluation has no run start, so it adds no queue wait (it added a 0 s one).
    expect(series(s, 'buildfarm_task_queue_wait_seconds_count')).toEqual({});
  });

  // Was a bug: with >1000 pending, one running build with a high id (running builds come first) raises
  // the high-water mark; the pending builds between the shown ones and it are never "new" afterwards.
  it('counts builds created before a high-id running build but first seen already finished', async () => {
    const h = harness();
    serve([build(1001, -2), build(1002, -2)], []);
    await h.step();
    serve([build(5000, -1), build(1001, -2)], [build(1002, 0)]); // 5000 picked by a worker first
    await h.step();
    serve([build(1001, -2)], [build(3000, 0), build(5000, 0), build(1002, 0)]); // 3000 was beyond the queue cap, never shown pending
    await h.step();
    expect(await h.completed()).toBe(3); // 2: 3000 < max id 5000 is not "new", so it is missed
  });
});
