/**
 * The cuirass adapter against Cuirass's JSON shapes (reference/cuirass.md §3, the manual's
 * sample build) served by a plain loopback HTTP server: queue -> finished as one task, new ids
 * counted, a wiped database, and bad answers.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream, type FakeAnswer } from '../../test-support/fake-upstream.js';
import { ManualClock } from '../../util/clock.js';
import { UpstreamHttp } from '../http.js';
import { CuirassAdapter } from './adapter.js';
import { parseCuirassConfig } from './config.js';
import { buildTask, evaluationTask } from './normalize.js';
import type { Build, Evaluation } from './upstream.js';

const T = 1795500000;
function build(id: number, buildstatus: number, over: Partial<Build> = {}): Build {
  const finished = buildstatus >= 0;
  return {
    id,
    evaluation: 7,
    jobset: 'guix',
    job: `hello.x86_64-linux`,
    timestamp: finished ? T + 100 : T,
    starttime: buildstatus === -1 || finished ? T + 10 : 0,
    stoptime: finished ? T + 100 : 0,
    derivation: `/gnu/store/abc-hello-${id}.drv`,
    buildoutputs: { out: { path: `/gnu/store/abc-hello-${id}` } },
    system: 'x86_64-linux',
    nixname: 'hello-2.12.1',
    buildstatus,
    weather: finished ? (buildstatus === 0 ? 2 : 1) : -1,
    busy: buildstatus === -1 ? 1 : 0,
    priority: 9,
    finished: finished ? 1 : 0,
    buildproducts: [],
    ...over,
  };
}
const evaluation = (id: number, status: number): Evaluation => ({ id, specification: 'guix', status, timestamp: T, checkouttime: T + 30, evaltime: status >= 0 ? T + 600 : 0, checkouts: [{ commit: 'abc', channel: 'guix', directory: '/gnu/store/x-guix' }] });
const json = (body: unknown): FakeAnswer => ({ body: JSON.stringify(body) });

describe('cuirass normalization', () => {
  it('maps a build: status enum to state and phase, times from epoch seconds, weather', () => {
    expect(buildTask('ci', 'https://ci', build(42, 1))).toMatchObject({
      id: '42',
      kind: 'cuirass',
      state: 'failed',
      phase: 'failed',
      repo: 'guix',
      archs: ['x86_64-linux'],
      message: 'hello-2.12.1',
      started: '2026-11-24T06:00:10Z',
      finished: '2026-11-24T06:01:40Z',
      url: 'https://ci/build/42/details',
      attrs: { job: 'hello.x86_64-linux', evaluation: 7, weather: 'new-failure', priority: 9 },
    });
    const queued = buildTask('ci', 'https://ci', build(43, -2));
    expect(queued).toMatchObject({ state: 'scheduled', phase: 'queued', created: '2026-11-24T06:00:00Z', stateSince: '2026-11-24T06:00:00Z' });
    expect(queued.started).toBeUndefined();
    expect(buildTask('ci', 'https://ci', build(44, -1))).toMatchObject({ state: 'started', phase: 'running', started: '2026-11-24T06:00:10Z' });
    expect(buildTask('ci', 'https://ci', build(45, 9)).phase).toBe('unknown');
  });

  it('maps an evaluation to a task of its own, with Cuirass-style duration times', () => {
    const done = evaluationTask('ci', 'https://ci', evaluation(7, 0));
    expect(done).toMatchObject({ id: 'eval-7', state: 'evaluated', phase: 'success', repo: 'guix', created: '2026-11-24T06:00:00Z', finished: '2026-11-24T06:10:00Z', attrs: { evaluation: 7, checkout_time: '2026-11-24T06:00:30Z' } });
    // Not a build run: no start, so the generic duration and queue-wait families leave it out.
    expect(done.started).toBeUndefined();
    expect(evaluationTask('ci', 'https://ci', evaluation(8, -1))).toMatchObject({ state: 'evaluating', phase: 'running' });
    expect(evaluationTask('ci', 'https://ci', evaluation(9, 2)).phase).toBe('canceled');
  });
});

describe('cuirass adapter', () => {
  const up = new FakeUpstream();
  beforeAll(() => up.up());
  afterAll(() => up.down());
  const serve = (queue: Build[], latest: Build[], evals: Evaluation[] = [evaluation(7, 0)]) => {
    up.routes.set('/api/queue', json(queue));
    up.routes.set('/api/latestbuilds', json(latest));
    up.routes.set('/api/evaluations', json(evals));
    up.routes.set('/specifications', json([{ name: 'guix', build: 'guix', channels: [], period: 300, priority: 9, systems: ['x86_64-linux'] }]));
  };
  const adapter = () => new CuirassAdapter(parseCuirassConfig({ url: up.url }), { name: 'ci', log: pino({ level: 'silent' }), clock: new ManualClock(), http: new UpstreamHttp(), pollTimeoutSeconds: 10 });
  const poll = (a: CuirassAdapter) => a.poll(AbortSignal.timeout(5000));

  it('reads the queue, the latest builds and evaluations; a build moving from queue to finished is one task', async () => {
    serve([build(11, -1), build(12, -2)], [build(10, 0)]);
    const a = adapter();
    const first = await poll(a);
    expect(first.tasks.map((t) => `${t.id}:${t.state}`).sort()).toEqual(['10:succeeded', '11:started', '12:scheduled', 'eval-7:evaluated']);
    expect(first.newTaskIds).toBeUndefined();
    expect(a.specifications.map((s) => s.name)).toEqual(['guix']);
    expect(up.requests.map((r) => r.path)).toEqual(expect.arrayContaining(['/api/queue?nr=1000', '/api/latestbuilds?nr=500', '/api/evaluations?nr=50', '/specifications']));
    serve([build(12, -1)], [build(11, 0), build(13, 1), build(10, 0)], [evaluation(8, -1), evaluation(7, 0)]);
    const second = await poll(a);
    expect(second.tasks.find((t) => t.id === '11')?.state).toBe('succeeded');
    // 13 started and ended between the polls: its id is above the highest seen, so it is new.
    expect(second.newTaskIds).toEqual(['13', 'eval-8']);
  });

  it('counts everything that shows up after a first poll of an empty Cuirass', async () => {
    serve([], [], []);
    const a = adapter();
    expect((await poll(a)).tasks).toEqual([]);
    serve([], [build(1, 0)], [evaluation(1, 0)]);
    expect((await poll(a)).newTaskIds).toEqual(['1', 'eval-1']);
  });

  it('takes ids going far back as a wiped database: a new baseline, nothing counted, a problem said', async () => {
    serve([], [build(5000, 0), build(4999, 0)], [evaluation(70, 0)]);
    const a = adapter();
    await poll(a);
    serve([build(2, -2)], [build(1, 0)], [evaluation(1, 0)]);
    const snap = await poll(a);
    expect(snap.newTaskIds).toBeUndefined();
    // The evaluation ids (70 -> 1) tell: the build lists are capped and can lose their newest ids on their own.
    expect(a.problems().current).toMatchObject({ ids_reset: 1 });
    serve([build(2, -2)], [build(3, 0), build(1, 0)], [evaluation(1, 0)]);
    expect((await poll(a)).newTaskIds).toEqual(['3']);
  });

  it('leaves out a malformed build, keeps the rest, and reports it', async () => {
    serve([], [build(20, 0), { ...build(21, 0), buildstatus: 'done' } as unknown as Build]);
    const a = adapter();
    const snap = await poll(a);
    expect(snap.tasks.map((t) => t.id).sort()).toEqual(['20', 'eval-7']);
    expect(a.problems().current).toEqual({ bad_value: 1 });
  });

  it.each([
    ['HTML (a status page or a proxy)', { body: '<html>Cuirass</html>', contentType: 'text/html' }, /not valid JSON \(text\/html/],
    ['an object where a list is expected', json({ error: 'Parameter not defined!' }), /expected a JSON array, got object/],
    ['HTTP 500, as Cuirass answers a bad nr', { status: 500, body: '{"error":"Maximum limit exceeded"}' }, /answered HTTP 500: \{"error":"Maximum limit exceeded"\}/],
  ])('fails a poll whose queue answers %s, with a clear error', async (_what, answer, message) => {
    serve([], []);
    up.routes.set('/api/queue', answer);
    await expect(poll(adapter())).rejects.toThrow(message);
  });
});
