/** The taskoteka transport's compat backend, against the simulator and a scripted taskoteka over loopback. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { ManualClock } from '../../util/clock.js';
import { UpstreamHttp } from '../http.js';
import { GirarTaskotekaAdapter } from './adapter.js';
import { TaskotekaClient } from './client.js';
import { NeedsApprovalUnavailable } from './compat-backend.js';
import { parseGirarConfig } from './config.js';
import { GirarSimulator } from './simulator.js';
import { NEEDS_APPROVAL_TTL_MS, TASKOTEKA_API_VERSION, TaskotekaUpstreamBackend } from './taskoteka-backend.js';

const signal = () => AbortSignal.timeout(5000);

describe('TaskotekaUpstreamBackend against the simulator', () => {
  let clock: ManualClock;
  let sim: GirarSimulator;
  let adapter: GirarTaskotekaAdapter;

  beforeEach(async () => {
    clock = new ManualClock();
    sim = new GirarSimulator({ clock, seed: 5, heartbeatMs: 0 });
    const url = await sim.listen();
    const config = parseGirarConfig({ url, time_zone: 'Europe/Moscow', stream: false });
    if (config.transport !== 'taskoteka') throw new Error('expected the taskoteka transport');
    adapter = new GirarTaskotekaAdapter(config, { name: 'alt', log: pino({ level: 'silent' }), clock, http: new UpstreamHttp(), pollTimeoutSeconds: 20 });
  });
  afterEach(async () => {
    await sim.close();
  });

  it('takes the version and cache age from the latest list response', async () => {
    const backend = adapter.compatBackend();
    expect(backend.timeZone).toBe('Europe/Moscow');
    expect(backend.apiVersion()).toBe(TASKOTEKA_API_VERSION);
    expect(backend.cacheAgeSeconds()).toBeUndefined();
    clock.advance(4000);
    await adapter.poll(signal());
    expect(backend.apiVersion()).toBe('1.5.0');
    expect(backend.cacheAgeSeconds()).toBe(4);
    clock.advance(2500);
    expect(backend.cacheAgeSeconds()).toBe(6);
  });

  it('reads a task that is not in the store from the upstream, undefined when it has none', async () => {
    const backend = adapter.compatBackend();
    const [id] = [...sim.states().keys()];
    const detail = await backend.archived(id ?? 0, signal());
    expect(detail?.taskid).toBe(id);
    expect(await backend.archived(999_999, signal())).toBeUndefined();
    expect(sim.requests.map((r) => r.path)).toEqual([`/tasks/${id}`, '/tasks/999999']);
  });

  it('turns the upstream 503 on needs_approval into NeedsApprovalUnavailable', async () => {
    const err = await adapter.compatBackend().needsApproval('maint', signal()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NeedsApprovalUnavailable);
    expect((err as Error).message).toMatch(/^needs_approval is not available: the upstream taskoteka cannot answer it .*HTTP 503/);
    expect(sim.requests.map((r) => r.path)).toEqual(['/tasks?needs_approval=maint&brief=true']);
  });
});

describe('TaskotekaUpstreamBackend.needsApproval against a taskoteka with --acl-dir', () => {
  let server: Server;
  let paths: string[];
  let answer: { status: number; body: string };

  beforeEach(async () => {
    paths = [];
    answer = { status: 200, body: '[411543, 411469]' };
    server = createServer((req, res) => {
      paths.push(req.url ?? '');
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(answer.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  function backend(clock: ManualClock): TaskotekaUpstreamBackend {
    const { port } = server.address() as AddressInfo;
    return new TaskotekaUpstreamBackend(new TaskotekaClient(new UpstreamHttp(), { url: `http://127.0.0.1:${port}/` }), 'UTC', clock);
  }

  it('answers the ids as strings and reuses an answer for a few seconds per group', async () => {
    const clock = new ManualClock();
    const b = backend(clock);
    expect([...(await b.needsApproval('maint', signal()))]).toEqual(['411543', '411469']);
    await b.needsApproval('maint', signal());
    await b.needsApproval('tester', signal());
    expect(paths).toEqual(['/tasks?needs_approval=maint&brief=true', '/tasks?needs_approval=tester&brief=true']);
    clock.advance(NEEDS_APPROVAL_TTL_MS);
    answer.body = '[411469]';
    expect([...(await b.needsApproval('maint', signal()))]).toEqual(['411469']);
    expect(paths).toHaveLength(3);
  });

  it('refuses an answer that is not a list of task ids, and passes other HTTP errors on', async () => {
    const b = backend(new ManualClock());
    answer.body = '[{"id": 1}]';
    await expect(b.needsApproval('maint', signal())).rejects.toThrow(/payload buildscope cannot use: \/0: expected integer/);
    answer = { status: 500, body: '{"error":"boom"}' };
    const err = await b.needsApproval('tester', signal()).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(NeedsApprovalUnavailable);
    expect((err as Error).message).toMatch(/HTTP 500/);
  });
});
