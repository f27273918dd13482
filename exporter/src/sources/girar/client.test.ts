import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { ManualClock } from '../../util/clock.js';
import { waitUntil } from '../../util/wait-until.js';
import { SourceError, UpstreamHttpError, UpstreamPayloadError } from '../errors.js';
import { UpstreamHttp } from '../http.js';
import { TaskotekaClient, type TaskotekaEvent } from './client.js';
import { GirarSimulator, type SimFault } from './simulator.js';

const SECRET_HEADERS = { authorization: 'Bearer s3cret-token', 'x-proxy-key': 'pr0xy-s3cret' };

async function failure(p: Promise<unknown>): Promise<SourceError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(SourceError);
    const e = err as SourceError;
    expect(e.message).not.toMatch(/s3cret/);
    return e;
  }
  throw new Error('expected a failure');
}

describe('TaskotekaClient against the simulator', () => {
  let clock: ManualClock;
  let sim: GirarSimulator;
  let client: TaskotekaClient;
  let codes: string[];

  beforeEach(async () => {
    clock = new ManualClock();
    sim = new GirarSimulator({ clock, seed: 7, heartbeatMs: 0 });
    const url = await sim.listen();
    codes = [];
    client = new TaskotekaClient(new UpstreamHttp((code) => codes.push(code)), { url, headers: SECRET_HEADERS });
  });

  afterEach(async () => {
    await sim.close();
  });

  it('lists every task with the API version and cache age, and fetches details', async () => {
    const list = await client.listTasks(AbortSignal.timeout(5000));
    expect(list.items.length).toBe(sim.states().size);
    expect(list.items.length).toBeGreaterThan(30);
    expect(list.version).toBe('1.5.0');
    expect(list.cacheAgeSeconds).toBe(0);
    const ids = list.items.map((i) => i.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(new Set(list.items.map((i) => i.state))).toContain('DONE');

    const first = list.items[0]!;
    const detail = await client.getTask(first.id, AbortSignal.timeout(5000));
    expect(detail).toMatchObject({ taskid: first.id, state: first.state, owner: first.owner, repo: first.repo });

    clock.advance(7000);
    expect((await client.listTasks(AbortSignal.timeout(5000))).cacheAgeSeconds).toBe(7);
  });

  it('returns undefined for a task taskoteka does not know', async () => {
    expect(await client.getTask(999999, AbortSignal.timeout(5000))).toBeUndefined();
    expect(codes).toEqual(['404']);
  });

  it('sends the configured headers on every request', async () => {
    await client.listTasks(AbortSignal.timeout(5000));
    await client.getTask(1, AbortSignal.timeout(5000));
    expect(sim.requests).toHaveLength(2);
    for (const r of sim.requests) {
      expect(r.headers.authorization).toBe('Bearer s3cret-token');
      expect(r.headers['x-proxy-key']).toBe('pr0xy-s3cret');
    }
    expect(sim.requests.map((r) => r.path)).toEqual(['/tasks?state=ALL', '/tasks/1']);
  });

  const faults: { fault: SimFault; check: (e: SourceError) => void }[] = [
    { fault: { kind: 'http500' }, check: (e) => expect(e).toMatchObject({ code: 'http', status: 500 }) },
    {
      fault: { kind: 'http429', retryAfterSeconds: 30 },
      check: (e) => {
        expect(e).toBeInstanceOf(UpstreamHttpError);
        expect(e).toMatchObject({ status: 429, retryAfterSeconds: 30 });
      },
    },
    {
      fault: { kind: 'html' },
      check: (e) => {
        expect(e).toBeInstanceOf(UpstreamPayloadError);
        expect(e.message).toMatch(/not valid JSON \(text\/html/);
      },
    },
    { fault: { kind: 'truncated' }, check: (e) => expect(e).toMatchObject({ code: 'payload' }) },
    {
      fault: { kind: 'invalid-types' },
      check: (e) => {
        expect(e).toBeInstanceOf(UpstreamPayloadError);
        expect(e.message).toMatch(/\/(0\/)?try: expected integer, got "\d+"/);
      },
    },
    { fault: { kind: 'reset' }, check: (e) => expect(e.code).toBe('network') },
    { fault: { kind: 'slow', delayMs: 10_000 }, check: (e) => expect(e.code).toBe('timeout') },
  ];

  for (const { fault, check } of faults) {
    it(`turns a ${fault.kind} fault into a typed error, then recovers`, async () => {
      const known = (await client.listTasks(AbortSignal.timeout(5000))).items[0]!.id;
      sim.setFault(fault);
      check(await failure(client.listTasks(AbortSignal.timeout(300))));
      check(await failure(client.getTask(known, AbortSignal.timeout(300))));
      sim.setFault(null);
      expect((await client.listTasks(AbortSignal.timeout(5000))).items.length).toBe(sim.states().size);
      expect(await client.getTask(known, AbortSignal.timeout(5000))).toMatchObject({ taskid: known });
    });
  }

  it('applies a fault only where and as often as asked', async () => {
    const known = (await client.listTasks(AbortSignal.timeout(5000))).items[0]!.id;
    sim.setFault({ kind: 'http500', on: 'detail', times: 1 });
    await expect(client.listTasks(AbortSignal.timeout(5000))).resolves.toBeDefined();
    expect((await failure(client.getTask(known, AbortSignal.timeout(5000)))).code).toBe('http');
    await expect(client.getTask(known, AbortSignal.timeout(5000))).resolves.toMatchObject({ taskid: known });
  });

  it('streams task events as taskoteka announces them, and ends on reconnect', async () => {
    const [id, state] = [...sim.states()][0]!;
    const controller = new AbortController();
    const seen: TaskotekaEvent[] = [];
    const done = (async () => {
      for await (const ev of client.events(controller.signal)) seen.push(ev);
    })();
    await waitUntil(() => sim.sseClients === 1, 5000, { what: 'the SSE subscription' });
    const next = state === 'FAILED' ? 'AWAITING' : 'FAILED';
    sim.updateTask(id, { state: next });
    sim.removeTask(id);
    sim.disconnectStreams('max lifetime reached');
    await done;
    expect(seen).toEqual([
      { type: 'task_updated', id, state: next, prev_state: state, owner: expect.any(String) as string },
      { type: 'task_removed', id },
      { type: 'reconnect', reason: 'max lifetime reached' },
    ]);
    expect(sim.requests.at(-1)?.headers.authorization).toBe('Bearer s3cret-token');
  });

  it('passes heartbeats through as numbers', async () => {
    await sim.close();
    sim = new GirarSimulator({ clock, seed: 7, heartbeatMs: 10, warmupSteps: 0 });
    client = new TaskotekaClient(new UpstreamHttp(), { url: await sim.listen() });
    const controller = new AbortController();
    for await (const ev of client.events(controller.signal)) {
      expect(ev).toEqual({ type: 'heartbeat', at: Math.floor(clock.now() / 1000) });
      break;
    }
    controller.abort();
    await waitUntil(() => sim.sseClients === 0, 5000, { what: 'the server to see the stream close' });
  });

  it('reports refused SSE subscriptions as HTTP errors', async () => {
    await sim.close();
    sim = new GirarSimulator({ clock, heartbeatMs: 0, warmupSteps: 0, maxSsePerIp: 0 });
    client = new TaskotekaClient(new UpstreamHttp(), { url: await sim.listen(), headers: SECRET_HEADERS });
    const e = await failure(client.events(AbortSignal.timeout(5000)).next());
    expect(e).toMatchObject({ code: 'http', status: 429 });
  });
});
