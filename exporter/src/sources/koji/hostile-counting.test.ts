/**
 * Counting through the whole path: the koji adapter's snapshots applied to a Store with
 * ExporterMetrics listening, then `buildfarm_koji_tasks_completed_total` and
 * `buildfarm_koji_builds_completed_total` read from the exposition. Each task or build that ends
 * after the baseline is counted exactly once, whatever the listings repeat, whatever retention
 * drops, through full pages, hub faults and clock oddities. The Koji simulator gives a realistic
 * hub (and the ground truth, asked with countOnly); a small fake hub gives exact control.
 *
 * Tests marked "BUG:" assert the correct behaviour and fail until the adapter is fixed.
 */
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeHealth, scrape, series, sourceHealth } from '../../metrics/test-helpers.js';
import { ExporterMetrics } from '../../metrics/index.js';
import { lifecyclesByKind } from '../registry.js';
import { Store } from '../../store/store.js';
import { FakeUpstream, type FakeAnswer } from '../../test-support/fake-upstream.js';
import { ManualClock } from '../../util/clock.js';
import { UpstreamHttp } from '../http.js';
import type { Snapshot } from '../source.js';
import { KojiAdapter } from './adapter.js';
import { parseKojiConfig } from './config.js';
import type { KojiSimulatorOptions } from './simulator.js';
import { boot, closeAll, ok as rpcOk, T0 } from './simulator-test-helpers.js';
import { decodeMethodCall, encodeMethodCall, encodeMethodResponse, isStruct, kwargs, multiCallValue, type MultiCallResult, type XmlRpcStruct, type XmlRpcValue } from './xmlrpc.js';

const S0 = T0 / 1000;
const SOURCE = 'fedora';
const COMPLETED = 'buildfarm_koji_tasks_completed_total';
const BUILDS = 'buildfarm_koji_builds_completed_total';

/** The adapter, a Store and ExporterMetrics wired as the app wires them (methods restricted by config). */
function pipeline(url: string, clock: ManualClock, config: Record<string, unknown>) {
  const parsed = parseKojiConfig({ url, ...config });
  const adapter = new KojiAdapter(parsed, { name: SOURCE, log: pino({ level: 'silent' }), clock, http: new UpstreamHttp(), pollTimeoutSeconds: 10 });
  const store = new Store({ lifecycles: lifecyclesByKind(), clock });
  const health = new FakeHealth();
  const metrics = new ExporterMetrics({ store, health, version: 'test', processMetrics: false });
  metrics.restrictLabel(SOURCE, 'method', parsed.methods);
  const events: { type: string; id: string }[] = [];
  let baseline = true;
  /** One poll as the runner does it: apply a snapshot, keep the last good one on failure. */
  const poll = async (): Promise<Snapshot | Error> => {
    let snap: Snapshot;
    try {
      snap = await adapter.poll(AbortSignal.timeout(10_000));
    } catch (err) {
      health.sources = [sourceHealth(SOURCE, { kind: 'koji', up: false, endpoints: adapter.endpoints() })];
      return err as Error;
    }
    for (const e of store.apply(SOURCE, 'koji', snap, clock.now())) if (!baseline) events.push({ type: e.type, id: e.id });
    baseline = false;
    health.sources = [sourceHealth(SOURCE, { kind: 'koji', up: true, upstream: snap.upstream ?? {}, endpoints: adapter.endpoints() })];
    return snap;
  };
  const counters = async () => {
    const samples = await scrape(metrics);
    return { tasks: series(samples, COMPLETED), builds: series(samples, BUILDS), samples };
  };
  const total = (s: Record<string, number>) => Object.values(s).reduce((a, b) => a + b, 0);
  return { adapter, store, metrics, poll, counters, total, events, config: parsed };
}

// ---------------------------------------------------------------------------------------------
// The simulator

const pipes: ReturnType<typeof pipeline>[] = [];
afterEach(async () => {
  for (const p of pipes.splice(0)) p.metrics.close();
  await closeAll();
});

async function simBoot(simOptions: Partial<KojiSimulatorOptions> = {}, config: Record<string, unknown> = {}) {
  const { clock, sim, base, tick } = await boot({ seed: 3, manual: true, ...simOptions });
  const p = pipeline(`${base}/kojihub`, clock, config);
  pipes.push(p);
  return { ...p, sim, clock, base, tick };
}

/** The hub's own count of tasks and builds that ended after `sinceS` (the ground truth). */
async function truth(base: string, sinceS: number): Promise<{ tasks: number; builds: number }> {
  const tasks = await rpcOk(base, 'listTasks', { completeAfter: sinceS }, { countOnly: true });
  const builds = await rpcOk(base, 'listBuilds', kwargs({ completeAfter: sinceS, queryOpts: { countOnly: true } }));
  return { tasks: tasks as number, builds: builds as number };
}

describe('koji counting on the simulator', () => {
  it('counts every task of a build once, methods outside the allowlist as other, however often it is polled', async () => {
    const { sim, poll, tick, counters, total } = await simBoot({}, { methods: ['build', 'tagBuild'] });
    await poll();
    tick(5_000);
    const id = sim.submitBuild('alice', 'bash', 'f42-candidate');
    await poll();
    tick(1_000);
    sim.assignTask(id);
    sim.openTask(id);
    await poll();
    let snap = (await poll()) as Snapshot;
    const srpm = Number(snap.tasks.find((t) => t.attrs?.parent === id)?.id);
    tick(1_000);
    sim.assignTask(srpm);
    sim.openTask(srpm);
    tick(30_000);
    sim.finishTask(srpm, 'CLOSED');
    snap = (await poll()) as Snapshot;
    const arches = snap.tasks.filter((t) => t.attrs?.parent === id && t.attrs?.method === 'buildArch').map((t) => Number(t.id));
    expect(arches.length).toBeGreaterThan(1);
    // One arch fails between two polls, the others close; the build fails.
    for (const a of arches) {
      tick(500);
      sim.assignTask(a);
      sim.openTask(a);
    }
    tick(60_000);
    sim.finishTask(arches[0] as number, 'FAILED');
    for (let i = 0; i < 5; i += 1) {
      tick(20_000);
      await poll();
    }
    const { tasks, builds } = await counters();
    const ended = ((await poll()) as Snapshot).tasks.filter((t) => !t.id.startsWith('build-') && ['CLOSED', 'FAILED', 'CANCELED'].includes(t.state));
    expect(total(tasks)).toBe(ended.length);
    expect(tasks[`method=other,result=FAILED,source=${SOURCE}`]).toBe(1); // the buildArch
    expect(tasks[`method=other,result=CLOSED,source=${SOURCE}`]).toBe(1); // the SRPM
    expect(tasks[`method=build,result=FAILED,source=${SOURCE}`]).toBe(1);
    expect(Object.keys(tasks).every((k) => /method=(build|tagBuild|other),/.test(k))).toBe(true);
    expect(builds).toEqual({ [`result=failed,source=${SOURCE}`]: 1 });
    // Re-listing the same rows (overlap, audit) never counts again.
    for (let i = 0; i < 10; i += 1) {
      tick(7_000);
      await poll();
    }
    expect((await counters()).tasks).toEqual(tasks);
    expect((await counters()).builds).toEqual(builds);
  });

  it('counts a task created, run and finished between two polls once, though three listings report it', async () => {
    const { sim, poll, tick, counters, total } = await simBoot({}, { overlap: '30m' });
    await poll();
    tick(1_000);
    const id = sim.submitBuild('bob', 'zlib');
    sim.assignTask(id);
    sim.openTask(id);
    tick(1_000);
    sim.finishTask(id, 'CANCELED');
    const snap = (await poll()) as Snapshot;
    // The build task and the SRPM task it started (canceled with it).
    const ended = snap.tasks.filter((t) => t.state === 'CANCELED').map((t) => t.id);
    expect(ended).toContain(String(id));
    expect([...(snap.newTaskIds ?? [])].sort()).toEqual([...ended].sort());
    for (let i = 0; i < 5; i += 1) {
      tick(60_000);
      await poll();
    }
    expect(total((await counters()).tasks)).toBe(ended.length);
  });

  it('a finished task dropped by keep_finished and re-listed by the overlap is not counted again, nor shown again', async () => {
    const { sim, poll, tick, counters, total, events } = await simBoot({}, { keep_finished: '1m', overlap: '30m' });
    await poll();
    tick(1_000);
    const id = sim.submitBuild('bob', 'zlib');
    sim.assignTask(id);
    sim.openTask(id);
    tick(1_000);
    sim.finishTask(id, 'FAILED');
    const ended = ((await poll()) as Snapshot).tasks.filter((t) => ['FAILED', 'CANCELED'].includes(t.state)).length;
    expect(ended).toBe(2);
    expect(total((await counters()).tasks)).toBe(ended);
    for (let i = 0; i < 8; i += 1) {
      tick(30_000);
      await poll();
    }
    expect(total((await counters()).tasks)).toBe(ended);
    const mine = events.filter((e) => e.id === String(id)).map((e) => e.type);
    expect(mine).toEqual(['task_new', 'task_removed']);
  });

  it.each([
    ['page_size 500', {}],
    ['page_size 10 (full pages every poll)', { page_size: 10 }],
  ])('a busy hub for two hours, with database outages: every task and build that ended is counted exactly once (%s)', async (_name, config) => {
    const { poll, clock, sim, base, counters, total } = await simBoot({ manual: false, history: false, seed: 11, failRate: 0.2, offlineEvery: { periodSeconds: 900, durationSeconds: 90 } }, config);
    const startS = clock.now() / 1000;
    await poll();
    let failures = 0;
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    while (clock.now() - T0 < 2 * 3600_000) {
      clock.advance(5_000 + Math.floor(random() * 55_000));
      sim.step();
      if ((await poll()) instanceof Error) failures += 1;
    }
    // Quiet down and let the exporter catch up, online.
    clock.advance(600_000);
    sim.step();
    while (sim.isOffline()) {
      clock.advance(30_000);
      sim.step();
    }
    for (let i = 0; i < 5; i += 1) {
      clock.advance(1_000);
      await poll();
    }
    expect(failures).toBeGreaterThan(0);
    const want = await truth(base, startS);
    const got = await counters();
    expect(want.tasks).toBeGreaterThan(20);
    expect({ tasks: total(got.tasks), builds: total(got.builds) }).toEqual(want);
  });
});

// ---------------------------------------------------------------------------------------------
// A small fake hub: exact rows, and getTaskInfo / getBuild that can forget.

function task(id: number, over: XmlRpcStruct = {}): XmlRpcStruct {
  return {
    id, state: 0, method: 'build', arch: 'noarch', owner: 1, owner_name: 'alice', owner_type: 0, channel_id: 1, host_id: null, parent: null,
    label: null, waiting: null, awaited: null, priority: 20, weight: 0.2, create_ts: S0, start_ts: null, completion_ts: null,
    request: encodeMethodCall('build', ['git+https://x/y.git#1', 'f42-candidate', {}]), result: null, ...over,
  };
}

function build(id: number, over: XmlRpcStruct = {}): XmlRpcStruct {
  return { build_id: id, state: 0, nvr: `p${id}-1-1`, name: `p${id}`, owner_name: 'alice', task_id: null, creation_event_id: 50, creation_ts: S0 - 600, start_ts: S0 - 600, completion_ts: null, ...over };
}

const hostRow = (ts: number): XmlRpcStruct => ({ id: 1, name: 'b1', arches: 'x86_64', capacity: 4, task_load: 0, ready: true, enabled: true, update_ts: ts });

class Hub {
  tasks = new Map<number, XmlRpcStruct>();
  builds = new Map<number, XmlRpcStruct>();
  /** Ids getTaskInfo answers nil for. */
  forgotten = new Set<number>();
  nowS = S0;
  eventId = 100;
  hosts: XmlRpcStruct[] | undefined;
  override: ((method: string, params: XmlRpcValue[]) => MultiCallResult | undefined) | undefined;

  handle(body: string): FakeAnswer {
    const call = decodeMethodCall(body);
    const results = (call.params[0] as XmlRpcStruct[]).map((c) => this.override?.(String(c.methodName), c.params as XmlRpcValue[]) ?? { ok: true as const, value: this.answer(String(c.methodName), c.params as XmlRpcValue[]) });
    return { body: encodeMethodResponse(multiCallValue(results)), contentType: 'text/xml' };
  }

  private answer(method: string, params: XmlRpcValue[]): XmlRpcValue {
    switch (method) {
      case 'getLastEvent':
        return { id: this.eventId, ts: this.nowS };
      case 'listHosts':
        return this.hosts ?? [hostRow(this.nowS)];
      case 'listChannels':
        return [{ id: 1, name: 'default' }];
      case 'getKojiVersion':
        return '1.35.3';
      case 'repo.queryQueue':
        return 0;
      case 'getTaskInfo':
        return (params[0] as number[]).map((id) => {
          const t = this.tasks.get(id);
          if (!t || this.forgotten.has(id)) return null;
          const { request: _r, result: _s, owner_name: _n, owner_type: _t, ...info } = t;
          return info;
        });
      case 'getBuild':
        return this.builds.get(params[0] as number) ?? null;
      case 'listTasks': {
        const opts = params[0] as XmlRpcStruct;
        const qo = (params[1] ?? {}) as XmlRpcStruct;
        let rows = [...this.tasks.values()].filter((r) => !Array.isArray(opts.state) || opts.state.includes(r.state as number));
        rows = after(rows, opts, { createdAfter: 'create_ts', startedAfter: 'start_ts', completeAfter: 'completion_ts' });
        return qo.countOnly ? rows.length : page(rows, qo);
      }
      case 'listBuilds': {
        const kw = params[0] as XmlRpcStruct;
        const qo = (kw.queryOpts ?? {}) as XmlRpcStruct;
        let rows = [...this.builds.values()].filter((r) => typeof kw.state !== 'number' || r.state === kw.state);
        rows = after(rows, kw, { createdAfter: 'creation_ts', completeAfter: 'completion_ts' });
        return qo.countOnly ? rows.length : page(rows, qo);
      }
      default:
        return null;
    }
  }
}

function after(rows: XmlRpcStruct[], opts: XmlRpcStruct, keys: Record<string, string>): XmlRpcStruct[] {
  return rows.filter((r) => Object.entries(keys).every(([k, f]) => typeof opts[k] !== 'number' || (typeof r[f] === 'number' && (r[f] as number) > (opts[k] as number))));
}

/** queryOpts as the hub's QueryProcessor applies them: order by each alias (`-` descending, NULLS LAST), then offset and limit. */
function page(rows: XmlRpcStruct[], qo: XmlRpcStruct): XmlRpcStruct[] {
  const terms = (typeof qo.order === 'string' ? qo.order : 'id').split(',').map((o) => ({ key: o.replace(/^-/, ''), sign: o.startsWith('-') ? -1 : 1 }));
  const sorted = [...rows].sort((a, b) => {
    for (const { key, sign } of terms) {
      const d = ((a[key] as number) ?? Infinity) - ((b[key] as number) ?? Infinity);
      if (d !== 0 && !Number.isNaN(d)) return sign * d;
    }
    return 0;
  });
  const from = typeof qo.offset === 'number' ? qo.offset : 0;
  return sorted.slice(from, typeof qo.limit === 'number' ? from + qo.limit : undefined);
}

describe('koji counting on a fake hub', () => {
  const upstream = new FakeUpstream();
  let hub = new Hub();
  let url = '';
  beforeAll(async () => {
    upstream.routes.set('/kojihub', () => hub.handle(upstream.requests.at(-1)?.body ?? ''));
    url = `${await upstream.up()}/kojihub`;
  });
  afterAll(() => upstream.down());
  afterEach(() => {
    hub = new Hub();
  });

  function fakeBoot(config: Record<string, unknown> = {}) {
    const clock = new ManualClock(T0);
    const p = pipeline(url, clock, config);
    pipes.push(p);
    const tick = (ms: number) => {
      clock.advance(ms);
      hub.nowS = clock.now() / 1000;
    };
    return { ...p, clock, tick };
  }

  it('a task the hub method list does not name is `other` in the completions and in buildfarm_koji_tasks', async () => {
    const { poll, tick, counters } = fakeBoot();
    hub.tasks.set(1, task(1, { method: 'pluginInventedThis' }));
    hub.tasks.set(2, task(2, { method: 'build' }));
    await poll();
    const { samples } = await counters();
    expect(series(samples, 'buildfarm_koji_tasks')).toEqual({
      [`method=build,source=${SOURCE},state=FREE`]: 1,
      [`method=other,source=${SOURCE},state=FREE`]: 1,
      [`method=other,source=${SOURCE},state=ASSIGNED`]: 0,
      [`method=other,source=${SOURCE},state=OPEN`]: 0,
    });
    tick(30_000);
    hub.tasks.set(1, task(1, { method: 'pluginInventedThis', state: 5, start_ts: S0 + 5, completion_ts: S0 + 20 }));
    await poll();
    expect((await counters()).tasks).toEqual({ [`method=other,result=FAILED,source=${SOURCE}`]: 1 });
  });

  it('10,000 hosts: the worker label stays bounded (1000 named, the rest `other`); odd names are `other`', async () => {
    const { poll, counters } = fakeBoot({ max_body_bytes: 64 * 1024 * 1024 });
    hub.hosts = Array.from({ length: 10_000 }, (_, i) => ({ ...hostRow(S0), id: i + 1, name: `b${i}.example.com` }));
    hub.hosts.unshift({ ...hostRow(S0), id: 20_001, name: 'ctl\t\r\nhost' }, { ...hostRow(S0), id: 20_002, name: 'n'.repeat(1024) });
    await poll();
    const { samples } = await counters();
    for (const name of ['buildfarm_koji_host_ready', 'buildfarm_koji_host_capacity', 'buildfarm_worker_up']) {
      const workers = Object.keys(series(samples, name)).map((k) => /worker=([^,]*)/.exec(k)?.[1]);
      expect(workers.length, name).toBeLessThanOrEqual(1001);
      expect(workers, name).toContain('other');
      expect(workers.every((w) => w !== undefined && w.length <= 80 && !/[\u0000-\u001f]/.test(w)), name).toBe(true);
    }
  });

  it('a build created before the baseline (event id below it) that completes after it is counted once; one completed before is not', async () => {
    const { poll, tick, counters } = fakeBoot();
    hub.builds.set(1, build(1, { state: 1, completion_ts: S0 - 60 })); // completed before: the baseline shows it
    hub.builds.set(2, build(2)); // building, but beyond the baseline's page
    hub.override = (m, p) => (m === 'listBuilds' && isStruct(p[0]) && p[0].state === 0 && !(isStruct(p[0].queryOpts) && p[0].queryOpts.countOnly) ? { ok: true, value: [] } : undefined);
    await poll();
    hub.override = undefined;
    tick(30_000);
    hub.builds.set(2, build(2, { state: 1, completion_ts: S0 + 20 }));
    for (let i = 0; i < 6; i += 1) {
      await poll();
      tick(20_000);
    }
    expect((await counters()).builds).toEqual({ [`result=complete,source=${SOURCE}`]: 1 });
  });

  it('rows older than the marks (hub clock behind) are not counted again, and not at all when they ended before the baseline', async () => {
    const { poll, tick, counters, total } = fakeBoot();
    await poll();
    tick(600_000);
    hub.tasks.set(1, task(1, { create_ts: S0 + 500, state: 2, start_ts: S0 + 510, completion_ts: S0 + 590 }));
    await poll();
    expect(total((await counters()).tasks)).toBe(1);
    // The hub now also answers rows it should not (older than what was asked): an old finished task, and task 1 again.
    const stale = [task(1, { create_ts: S0 + 500, state: 2, start_ts: S0 + 510, completion_ts: S0 + 590 }), task(9, { create_ts: S0 - 900, state: 2, start_ts: S0 - 800, completion_ts: S0 - 700 })];
    hub.override = (m, p) => (m === 'listTasks' && !(isStruct(p[1]) && p[1].countOnly) ? { ok: true, value: stale } : undefined);
    for (let i = 0; i < 3; i += 1) {
      tick(30_000);
      await poll();
    }
    expect(total((await counters()).tasks)).toBe(1);
  });

  it('BUG: tasks created in one transaction (equal create_ts, e.g. a multiCall of builds) beyond a full page are not skipped', async () => {
    const { poll, tick, counters, total } = fakeBoot({ page_size: 10 });
    await poll();
    tick(30_000);
    // PostgreSQL's NOW() is the transaction's start: every task a multiCall creates has the same create_ts.
    for (let i = 0; i < 15; i += 1) hub.tasks.set(500 + i, task(500 + i, { create_ts: S0 + 10 }));
    const seen = new Set<string>();
    for (let i = 0; i < 4; i += 1) {
      for (const t of ((await poll()) as Snapshot).tasks) seen.add(t.id);
      tick(5_000);
    }
    expect([...hub.tasks.keys()].filter((id) => !seen.has(String(id)))).toEqual([]);
    // Canceled together (a parent's cancelChildren): one completion_ts for all, and all counted.
    for (let i = 0; i < 15; i += 1) hub.tasks.set(500 + i, task(500 + i, { create_ts: S0 + 10, state: 3, completion_ts: hub.nowS - 1 }));
    for (let i = 0; i < 4; i += 1) {
      await poll();
      tick(5_000);
    }
    expect(total((await counters()).tasks)).toBe(15);
  });

  it('BUG: a task the hub forgot (getTaskInfo nil) that comes back finished is counted once', async () => {
    const { poll, tick, counters, total } = fakeBoot();
    await poll();
    tick(30_000);
    hub.tasks.set(1, task(1, { create_ts: S0 + 10, state: 1, host_id: 1, start_ts: S0 + 12 }));
    await poll();
    hub.forgotten.add(1);
    // Past the overlap, so the audit is the only reader of task 1.
    for (let i = 0; i < 3; i += 1) {
      tick(120_000);
      await poll();
    }
    hub.forgotten.delete(1);
    tick(30_000);
    const now = hub.nowS;
    hub.tasks.set(1, task(1, { create_ts: S0 + 10, state: 2, host_id: 1, start_ts: S0 + 12, completion_ts: now - 1 }));
    for (let i = 0; i < 3; i += 1) {
      await poll();
      tick(30_000);
    }
    expect(total((await counters()).tasks)).toBe(1);
  });

  it('max_tasks: a finished task dropped by the cap and re-listed by the overlap is not counted again', async () => {
    const { poll, tick, counters, total } = fakeBoot({ max_tasks: 100, overlap: '30m' });
    await poll();
    tick(200_000);
    for (let i = 0; i < 80; i += 1) hub.tasks.set(100 + i, task(100 + i, { create_ts: S0 + 1 + i, state: 2, start_ts: S0 + 1 + i, completion_ts: S0 + 10 + i }));
    await poll();
    tick(60_000);
    for (let i = 0; i < 40; i += 1) hub.tasks.set(300 + i, task(300 + i, { create_ts: S0 + 100 + i, state: 2, start_ts: S0 + 100 + i, completion_ts: S0 + 200 + i }));
    await poll();
    expect(total((await counters()).tasks)).toBe(120);
    for (let i = 0; i < 4; i += 1) {
      tick(30_000);
      await poll();
    }
    expect(total((await counters()).tasks)).toBe(120);
  });

  it('BUG: max_tasks: an unfinished task dropped for the cap that later finishes is counted once', async () => {
    const { poll, tick, counters, total } = fakeBoot({ max_tasks: 100, audit_budget: 0 });
    for (let i = 1; i <= 100; i += 1) hub.tasks.set(i, task(i, { state: 1, host_id: 1, create_ts: S0 - 1000 + i, start_ts: S0 - 500 + i }));
    await poll();
    tick(30_000);
    // 10 new tasks: over the cap by 10; the oldest unfinished (1..10) go.
    for (let i = 0; i < 10; i += 1) hub.tasks.set(200 + i, task(200 + i, { create_ts: S0 + 10 + i }));
    await poll();
    tick(30_000);
    for (let i = 1; i <= 10; i += 1) hub.tasks.set(i, task(i, { state: 2, host_id: 1, create_ts: S0 - 1000 + i, start_ts: S0 - 500 + i, completion_ts: S0 + 40 + i }));
    for (let i = 0; i < 3; i += 1) {
      await poll();
      tick(30_000);
    }
    expect(total((await counters()).tasks)).toBe(10);
  });

  it('BUG: max_tasks full of unfinished tasks: a task that finishes is counted, not dropped unseen in the same poll', async () => {
    const { poll, tick, counters, total } = fakeBoot({ max_tasks: 100 });
    for (let i = 1; i <= 100; i += 1) hub.tasks.set(i, task(i, { state: 1, host_id: 1, create_ts: S0 - 1000 + i, start_ts: S0 - 500 + i }));
    await poll();
    tick(30_000);
    for (let i = 1; i <= 5; i += 1) hub.tasks.set(i, task(i, { state: 2, host_id: 1, create_ts: S0 - 1000 + i, start_ts: S0 - 500 + i, completion_ts: S0 + 10 + i }));
    for (let i = 0; i < 5; i += 1) hub.tasks.set(200 + i, task(200 + i, { create_ts: S0 + 20 + i }));
    await poll();
    tick(30_000);
    await poll();
    expect(total((await counters()).tasks)).toBe(5);
  });
});
