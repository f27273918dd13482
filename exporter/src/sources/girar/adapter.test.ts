import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { existsSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Task } from '../../model/task.js';
import { ManualClock } from '../../util/clock.js';
import { waitUntil } from '../../util/wait-until.js';
import { SourceError, UpstreamHttpError } from '../errors.js';
import { UpstreamHttp } from '../http.js';
import type { DemoInstance, RefreshHint, Snapshot, SourceAdapter } from '../source.js';
import { parseGirarConfig } from './config.js';
import { girarSource } from './index.js';
import { GirarSimulator } from './simulator.js';

const SECRET = 'Bearer s3cret-token';

function byId(tasks: Task[]): Map<string, Task> {
  return new Map(tasks.map((t) => [t.id, t]));
}

function isDetail(t: Task | undefined): boolean {
  return typeof t?.native === 'object' && t.native !== null && 'taskid' in t.native;
}

describe('girar source (taskoteka transport) against the simulator', () => {
  let clock: ManualClock;
  let sim: GirarSimulator;
  let url: string;
  let logLines: string[];

  const detailRequests = () => sim.requests.filter((r) => /^\/tasks\/\d+/.test(r.path)).length;

  function adapter(extra: Record<string, unknown> = {}, pollTimeoutSeconds = 20): SourceAdapter {
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logLines.push(chunk.toString());
        cb();
      },
    });
    const config = parseGirarConfig({ url, headers: { Authorization: SECRET }, ...extra });
    return girarSource.create(config, { name: 'alt', log: pino({ level: 'debug' }, sink), clock, http: new UpstreamHttp(), pollTimeoutSeconds });
  }

  async function poll(a: SourceAdapter, signal = AbortSignal.timeout(5000)): Promise<Snapshot> {
    const result = await a.poll(signal);
    if (result.type !== 'snapshot') throw new Error('girar polls return snapshots');
    return result;
  }

  beforeEach(async () => {
    clock = new ManualClock();
    sim = new GirarSimulator({ clock, seed: 3, heartbeatMs: 0 });
    url = await sim.listen();
    logLines = [];
  });

  afterEach(async () => {
    await sim.close();
  });

  it('polls every task with its info.json detail and upstream info', async () => {
    const a = adapter();
    const snap = await poll(a);
    const states = sim.states();
    expect(snap.tasks).toHaveLength(states.size);
    for (const t of snap.tasks) {
      expect(t.state).toBe(states.get(Number(t.id)));
      expect(isDetail(t)).toBe(true);
      expect(t).toMatchObject({ source: 'alt', kind: 'girar', url: `https://git.altlinux.org/tasks/${t.id}/` });
      expect(t.created).toMatch(/Z$/);
      expect(t.stateSince).toBe(t.updated);
    }
    expect(snap.upstream).toEqual({ version: '1.5.0', cacheAgeSeconds: 0, observedAt: clock.now() });
    expect(detailRequests()).toBe(states.size);
    expect(sim.requests.every((r) => r.headers.authorization === SECRET)).toBe(true);
    expect(snap.tasks.some((t) => t.archs.length > 0)).toBe(true);

    // Nothing changed upstream: one list request, and (without a live stream) a detail request
    // only for each task whose per-arch results may move while its list item does not.
    const running = [...states.values()].filter((s) => ['BUILDING', 'FAILING', 'COMMITTING'].includes(s)).length;
    const before = sim.requests.length;
    expect((await poll(a)).tasks).toEqual(snap.tasks);
    expect(sim.requests.length).toBe(before + 1 + running);
  });

  it('picks up changes after a tick and fetches details only for changed tasks', async () => {
    const a = adapter();
    const first = byId((await poll(a)).tasks);
    const before = sim.states();
    clock.advance(90_000);
    let changed: number[] = [];
    for (let i = 0; i < 20 && changed.length === 0; i++) {
      sim.tick();
      changed = [...sim.states()].filter(([id, s]) => before.get(id) !== s).map(([id]) => id);
    }
    expect(changed.length).toBeGreaterThan(0);
    const requestsBefore = detailRequests();
    const second = byId((await poll(a)).tasks);
    for (const [id, state] of sim.states()) expect(second.get(String(id))?.state).toBe(state);
    const fetched = detailRequests() - requestsBefore;
    expect(fetched).toBeGreaterThanOrEqual(changed.length);
    expect(fetched).toBeLessThan(first.size);
    for (const id of changed) {
      const t = second.get(String(id));
      expect(isDetail(t)).toBe(true);
      if (t?.state !== first.get(String(id))?.state) expect(Date.parse(t!.stateSince!)).toBeGreaterThan(Date.parse('2026-03-16T12:00:00Z'));
    }
  });

  it('respects detail_budget, unfinished and newest tasks first, and fills in over the next polls', async () => {
    const a = adapter({ detail_budget: 5, detail_concurrency: 2 });
    const snap = await poll(a);
    const total = sim.states().size;
    expect(snap.tasks).toHaveLength(total);
    expect(detailRequests()).toBe(5);
    const detailed = snap.tasks.filter(isDetail);
    expect(detailed).toHaveLength(5);
    const notDone = snap.tasks.filter((t) => t.state !== 'DONE').map((t) => Number(t.id)).sort((x, y) => y - x);
    expect(detailed.map((t) => Number(t.id)).sort((x, y) => y - x)).toEqual(notDone.slice(0, 5));
    // List-only tasks still carry everything the list says.
    const listOnly = snap.tasks.find((t) => !isDetail(t))!;
    expect(listOnly).toMatchObject({ state: sim.states().get(Number(listOnly.id)) });
    expect(listOnly.stateSince).toBeUndefined();

    let polls = 1;
    while (!(await poll(a)).tasks.every(isDetail)) polls++;
    expect(polls + 1).toBe(Math.ceil(total / 5));
    // The last poll spends what is left of its budget on re-reading running tasks.
    expect(detailRequests()).toBeGreaterThanOrEqual(total);
    expect(detailRequests()).toBeLessThan(total + 5);
  });

  it('keeps the previous detail when a detail fetch fails, and sums failures up in one warning without secrets', async () => {
    const a = adapter();
    const first = byId((await poll(a)).tasks);
    const [id] = [...sim.states()].find(([, s]) => s === 'DONE')!;
    const old = first.get(String(id))!;
    sim.updateTask(id, { message: 'a changed message', updated: Date.parse(old.updated!) / 1000 });
    sim.setFault({ kind: 'http500', on: 'detail' });
    const t = byId((await poll(a)).tasks).get(String(id))!;
    expect(t.message).toBe('a changed message');
    expect(t.stateSince).toBe(old.stateSince);
    expect(t.archs).toEqual(old.archs);
    expect(t.attrs?.shared).toBe(old.attrs?.shared);
    const line = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => typeof l.failed === 'object');
    expect(line).toMatchObject({ level: 40, failed: { http: expect.any(Number) as number } });
    expect(String(line?.msg)).toMatch(/HTTP 500/);
    expect(logLines.join('\n')).not.toMatch(/s3cret/);

    sim.setFault(null);
    const healed = byId((await poll(a)).tasks).get(String(id))!;
    expect(isDetail(healed)).toBe(true);
    expect((healed.native as { message: string }).message).toBe('a changed message');
  });

  it('stops fetching details at 70% of the poll deadline and still returns the complete list', async () => {
    const a = adapter({}, 0.5);
    sim.setFault({ kind: 'slow', delayMs: 10_000, on: 'detail' });
    const snap = await poll(a);
    expect(snap.tasks.length).toBe(sim.states().size);
    expect(snap.tasks.some(isDetail)).toBe(false);
    const line = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => typeof l.missing === 'number');
    expect(line).toMatchObject({ level: 30, missing: sim.states().size });
    sim.setFault(null);
    expect((await poll(a)).tasks.every(isDetail)).toBe(true);
  });

  it('still returns the list when the list alone takes most of the poll deadline', async () => {
    const a = adapter({}, 1);
    sim.setFault({ kind: 'slow', delayMs: 800, on: 'both' });
    const snap = await poll(a, AbortSignal.timeout(1000));
    expect(snap.tasks.length).toBe(sim.states().size);
    expect(detailRequests()).toBe(0);
  });

  it('fails the poll when the list fails, with a typed error and no secrets', async () => {
    const a = adapter();
    sim.setFault({ kind: 'http429', on: 'list', retryAfterSeconds: 12 });
    const err = await a.poll(AbortSignal.timeout(5000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamHttpError);
    expect(err).toMatchObject({ status: 429, retryAfterSeconds: 12 });
    expect((err as Error).message).not.toMatch(/s3cret/);
    sim.setFault({ kind: 'slow', delayMs: 10_000, on: 'detail' });
    const timeout = await a.poll(AbortSignal.timeout(200)).catch((e: unknown) => e);
    expect(timeout).toBeInstanceOf(SourceError);
    expect((timeout as SourceError).code).toBe('timeout');
  });

  it('stream() reports the connection, every event as alive, refreshes, removals, and returns on reconnect', async () => {
    await sim.close();
    sim = new GirarSimulator({ clock, heartbeatMs: 5, warmupSteps: 0 });
    sim.setTasks([
      { id: 1, state: 'AWAITING' },
      { id: 2, state: 'DONE' },
    ]);
    url = await sim.listen();
    const a = adapter();
    const hints: RefreshHint[] = [];
    let connected = 0;
    let alive = 0;
    const done = a.stream!(AbortSignal.timeout(5000), { connected: () => (connected += 1), alive: () => (alive += 1), refresh: (h) => hints.push(h) });
    await waitUntil(() => sim.sseClients === 1, 5000, { what: 'the SSE subscription' });
    await waitUntil(() => sim.heartbeatsSent >= 3 && alive >= 3, 5000, { what: 'three heartbeats' });
    expect(connected).toBe(1);
    sim.updateTask(1, { state: 'BUILDING' });
    sim.removeTask(2);
    sim.addTask({ id: 3, state: 'NEW' });
    await waitUntil(() => hints.length >= 3, 5000, { what: 'three hints' });
    sim.disconnectStreams('slow consumer');
    await expect(done).resolves.toBeUndefined();
    // Events arrive in order, so the heartbeats sent before them were read and only kept the stream alive.
    expect(hints).toEqual([{ taskIds: ['1'] }, { taskIds: [], removedTaskIds: ['2'] }, { taskIds: ['3'] }]);
  });

  it('with a live stream reads the full list once per resync_interval, and again at once after the stream was down', async () => {
    const a = adapter({ resync_interval: '5m' });
    const lists = () => sim.requests.filter((r) => r.path === '/tasks?state=ALL').length;
    const follow = () => {
      const hints: RefreshHint[] = [];
      const ended = a.stream!(AbortSignal.timeout(20_000), { connected: () => {}, alive: () => {}, refresh: (h) => hints.push(h) });
      return { hints, ended };
    };
    let stream = follow();
    await waitUntil(() => sim.sseClients === 1, 5000, { what: 'the SSE subscription' });
    expect((await a.poll(AbortSignal.timeout(5000))).type).toBe('snapshot');
    expect(lists()).toBe(1);

    // Within the interval: no list; running tasks' details are not aged yet, so nothing at all.
    clock.advance(30_000);
    const details = detailRequests();
    expect(await a.poll(AbortSignal.timeout(5000))).toEqual({ type: 'delta', tasks: [] });
    expect(lists()).toBe(1);
    expect(detailRequests()).toBe(details);

    // Between lists a poll still asks taskoteka how it is: a failing /health fails the poll.
    expect(sim.requests.filter((r) => r.path === '/health').length).toBe(1);
    sim.setFault({ kind: 'http500', on: 'health', times: 1 });
    clock.advance(30_000);
    await expect(a.poll(AbortSignal.timeout(5000))).rejects.toMatchObject({ code: 'http', status: 500 });
    expect(lists()).toBe(1);

    // A change reaches the exporter through the stream, not through a list.
    const [id] = [...sim.states()].find(([, s]) => s === 'DONE')!;
    sim.updateTask(id, { message: 'announced on the stream' });
    await waitUntil(() => stream.hints.length > 0, 5000, { what: 'the stream to announce the change' });
    const delta = await a.refresh!(stream.hints[0] as RefreshHint, AbortSignal.timeout(5000));
    expect(delta.tasks?.map((t) => t.message)).toEqual(['announced on the stream']);

    // Taskoteka holds a task the exporter never learnt of (its refresh was lost: the test does not
    // apply the hint): /health counts one task more, and the list is read at once.
    sim.addTask({ id: 999_001, state: 'NEW' });
    await waitUntil(() => stream.hints.length > 1, 5000, { what: 'the stream to announce the new task' });
    clock.advance(30_000);
    const resynced = await a.poll(AbortSignal.timeout(5000));
    expect(resynced.type).toBe('snapshot');
    expect(resynced.tasks?.some((t) => t.id === '999001')).toBe(true);
    expect(lists()).toBe(2);
    clock.advance(30_000);
    expect((await a.poll(AbortSignal.timeout(5000))).type).toBe('delta');
    expect(lists()).toBe(2);

    // Past the interval the list is read again; running tasks' details have aged by then.
    clock.advance(5 * 60_000);
    expect((await a.poll(AbortSignal.timeout(5000))).type).toBe('snapshot');
    expect(lists()).toBe(3);

    // The stream goes down: the next poll reads the list, whatever the interval says.
    sim.disconnectStreams('test');
    await stream.ended;
    clock.advance(30_000);
    expect((await a.poll(AbortSignal.timeout(5000))).type).toBe('snapshot');
    expect(lists()).toBe(4);

    // Back up after that list: changes between the list and the subscription were announced to
    // nobody, so the next poll reads the list once more; only then are lists skipped again.
    stream = follow();
    await waitUntil(() => sim.sseClients === 1, 5000, { what: 'the SSE subscription again' });
    clock.advance(30_000);
    expect((await a.poll(AbortSignal.timeout(5000))).type).toBe('snapshot');
    expect(lists()).toBe(5);
    clock.advance(30_000);
    expect((await a.poll(AbortSignal.timeout(5000))).type).toBe('delta');
    expect(lists()).toBe(5);
    sim.disconnectStreams('test');
    await stream.ended;
  });

  it('reads the full list at every poll without a stream', async () => {
    const a = adapter({ stream: false, resync_interval: '5m' });
    for (let i = 1; i <= 3; i += 1) {
      expect((await a.poll(AbortSignal.timeout(5000))).type).toBe('snapshot');
      expect(sim.requests.filter((r) => r.path === '/tasks?state=ALL').length).toBe(i);
      clock.advance(30_000);
    }
  });

  it('refresh() applies a removal from the stream without fetching the task', async () => {
    const a = adapter();
    await poll(a);
    const before = detailRequests();
    const [id] = [...sim.states().keys()];
    const delta = await a.refresh!({ taskIds: [], removedTaskIds: [String(id)] }, AbortSignal.timeout(5000));
    expect(delta).toEqual({ type: 'delta', tasks: [], removedTaskIds: [String(id)] });
    expect(detailRequests()).toBe(before);
  });

  it('stream() rejects with a typed error when taskoteka refuses the subscription', async () => {
    await sim.close();
    sim = new GirarSimulator({ clock, heartbeatMs: 0, warmupSteps: 0, maxSseConnections: 0 });
    url = await sim.listen();
    await expect(adapter().stream!(AbortSignal.timeout(5000), { connected: () => {}, alive: () => {}, refresh: () => {} })).rejects.toMatchObject({ code: 'http', status: 503 });
  });

  it('has no stream() when stream: false', () => {
    expect(adapter({ stream: false }).stream).toBeUndefined();
  });

  it('refresh() returns changed tasks and reports removed ones', async () => {
    const a = adapter();
    const first = byId((await poll(a)).tasks);
    const [gone, kept] = [...sim.states().keys()] as [number, number];
    sim.removeTask(gone);
    sim.updateTask(kept, { state: 'FAILED', aborted_by: 'rider' });
    const delta = await a.refresh!({ taskIds: [String(gone), String(kept), String(kept)] }, AbortSignal.timeout(5000));
    expect(delta.removedTaskIds).toEqual([String(gone)]);
    expect(delta.tasks).toHaveLength(1);
    const t = delta.tasks![0]!;
    expect(t).toMatchObject({ id: String(kept), state: 'FAILED', phase: 'failed', attrs: { aborted_by: 'rider' } });
    // `created` exists only in list items: the refresh keeps it from the last poll.
    expect(t.created).toBe(first.get(String(kept))?.created);
    expect(t.finished).toBe(t.updated);
  });

  it('refresh() fails only when it learnt nothing', async () => {
    const a = adapter();
    await poll(a);
    sim.setFault({ kind: 'http500', on: 'detail' });
    const id = [...sim.states().keys()][0];
    await expect(a.refresh!({ taskIds: [String(id)] }, AbortSignal.timeout(5000))).rejects.toMatchObject({ status: 500 });
  });

  it('demo() serves a taskoteka simulator and a generated tree that their own config blocks can poll, and closes both', async () => {
    const made = await girarSource.demo!({ log: pino({ level: 'silent' }), clock });
    const [viaApi, viaTree] = made as DemoInstance[];
    try {
      expect(viaApi!.config).toEqual({ transport: 'taskoteka', url: viaApi!.url });
      expect(viaApi!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(viaTree!.name).toBe('demo-girar-fs');
      expect(viaTree!.config).toMatchObject({ transport: 'fs', io_threads: 1 });
      for (const demo of [viaApi!, viaTree!]) {
        const a = girarSource.create(parseGirarConfig(demo.config), { name: 'demo', log: pino({ level: 'silent' }), clock, http: new UpstreamHttp(), pollTimeoutSeconds: 20 });
        try {
          const snap = await poll(a);
          expect(snap.tasks.length).toBeGreaterThan(30);
          expect(new Set(snap.tasks.map((t) => t.phase)).size).toBeGreaterThan(2);
        } finally {
          await a.close?.();
        }
      }
    } finally {
      await viaApi!.close();
      await viaTree!.close();
    }
    await expect(fetch(`${viaApi!.url}/health`)).rejects.toThrow();
    expect(existsSync(String(viaTree!.config.tasks_dir))).toBe(false);
  });

  it('hands the store the same task objects when nothing changed, and new ones only for changed tasks', async () => {
    const a = adapter();
    const first = byId((await poll(a)).tasks);
    const second = byId((await poll(a)).tasks);
    // Running tasks are re-read every poll without a live stream; everything else is reused.
    const settled = [...second].filter(([, t]) => !['BUILDING', 'FAILING', 'COMMITTING'].includes(t.state));
    expect(settled.length).toBeGreaterThan(0);
    expect(settled.every(([id, t]) => first.get(id) === t)).toBe(true);
    const [id] = [...sim.states()].find(([, s]) => !['BUILDING', 'FAILING', 'COMMITTING'].includes(s))!;
    sim.updateTask(id, { message: 'changed for the identity test' });
    const third = byId((await poll(a)).tasks);
    expect([...third].filter(([tid, t]) => second.get(tid) !== t && !['BUILDING', 'FAILING', 'COMMITTING'].includes(t.state)).map(([tid]) => tid)).toEqual([String(id)]);
  });

  it('does not fetch again at the next poll what a stream refresh already fetched', async () => {
    const a = adapter();
    await poll(a);
    const [id] = [...sim.states()].find(([, s]) => s === 'DONE')!;
    sim.updateTask(id, { message: 'refreshed through the stream' });
    await a.refresh!({ taskIds: [String(id)] }, AbortSignal.timeout(5000));
    const before = sim.requests.filter((r) => r.path === `/tasks/${id}`).length;
    const t = byId((await poll(a)).tasks).get(String(id));
    expect(t?.message).toBe('refreshed through the stream');
    expect(sim.requests.filter((r) => r.path === `/tasks/${id}`).length).toBe(before);
  });

  it('stops fetching details for the rest of the poll when taskoteka answers 429', async () => {
    const a = adapter({ detail_concurrency: 1 });
    sim.setFault({ kind: 'http429', on: 'detail', retryAfterSeconds: 30 });
    const snap = await poll(a);
    expect(snap.tasks.length).toBe(sim.states().size);
    expect(detailRequests()).toBe(1);
    const line = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => typeof l.failed === 'object');
    expect(line).toMatchObject({ level: 40, stopped: expect.stringMatching(/HTTP 429/) as string });
  });

  it('forgets tasks the upstream no longer lists', async () => {
    const a = adapter();
    await poll(a);
    sim.setTasks([{ id: 7, state: 'AWAITING', owner: 'lav', subtasks: { '100': { type: 'repo', dir: '/gears/a/a.git', userid: 'lav' } } }]);
    const snap = await poll(a);
    expect(snap.tasks.map((t) => [t.id, t.state, t.owner])).toEqual([['7', 'AWAITING', 'lav']]);
  });
});
