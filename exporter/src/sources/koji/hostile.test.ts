/**
 * Hostile hub answers for the koji adapter: a programmable fake hub on loopback (FakeUpstream)
 * that answers each multiCall call from a small model (tasks, builds, hosts, channels; the
 * listings honour state, *After filters, order, offset and limit like the hub) and lets a test
 * replace any call's answer, the whole HTTP answer, or inject odd rows. Every case: no crash, no
 * TypeError/RangeError escaping, a SourceError when the poll must fail, else the bad row left out
 * with a problem reason and the previous picture kept.
 *
 * Tests marked "BUG:" assert the correct behaviour and fail until the adapter is fixed.
 */
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../store/store.js';
import { FakeUpstream, gate, type FakeAnswer } from '../../test-support/fake-upstream.js';
import { ManualClock } from '../../util/clock.js';
import { SourceError } from '../errors.js';
import { UpstreamHttp } from '../http.js';
import type { Snapshot } from '../source.js';
import { KojiAdapter } from './adapter.js';
import { KojiFaultError } from './client.js';
import { parseKojiConfig } from './config.js';
import { TaskBook } from './task-book.js';
import type { KojiTask } from './upstream.js';
import { decodeMethodCall, encodeFault, encodeMethodCall, encodeMethodResponse, isStruct, multiCallValue, type MultiCallResult, type XmlRpcStruct, type XmlRpcValue } from './xmlrpc.js';

const T0 = Date.parse('2026-03-16T12:00:00Z');
const S0 = T0 / 1000;

/** Strings the fake hub turns into doubles the encoder refuses to write. */
const NAN = '@@nan@@';
const INF = '@@inf@@';
const NINF = '@@-inf@@';

function rawDoubles(xml: string): string {
  return xml
    .replaceAll(`<value><string>${NAN}</string></value>`, '<value><double>nan</double></value>')
    .replaceAll(`<value><string>${INF}</string></value>`, '<value><double>inf</double></value>')
    .replaceAll(`<value><string>${NINF}</string></value>`, '<value><double>-inf</double></value>');
}

const buildRequest = (scm = 'git+https://src.example.org/rpms/bash.git#abc', target = 'f42-candidate') => encodeMethodCall('build', [scm, target, {}]);

function task(id: number, over: XmlRpcStruct = {}): XmlRpcStruct {
  return {
    id, state: 0, method: 'build', arch: 'noarch', owner: 1, owner_name: 'alice', owner_type: 0, channel_id: 1, host_id: null, parent: null,
    label: null, waiting: null, awaited: null, priority: 20, weight: 0.2, create_ts: S0, start_ts: null, completion_ts: null,
    request: buildRequest(), result: null, ...over,
  };
}

function build(id: number, over: XmlRpcStruct = {}): XmlRpcStruct {
  return {
    build_id: id, state: 0, nvr: `pkg${id}-1.0-1.fc42`, name: `pkg${id}`, package_name: `pkg${id}`, version: '1.0', release: '1.fc42', epoch: null,
    owner_id: 1, owner_name: 'alice', task_id: null, creation_event_id: 50, creation_ts: S0, start_ts: S0, completion_ts: null, volume_name: 'DEFAULT',
    draft: false, extra: { source: { original_url: 'git+https://x' } }, ...over,
  };
}

function host(id: number, name: string, over: XmlRpcStruct = {}): XmlRpcStruct {
  return { id, name, arches: 'x86_64 i686', capacity: 4, task_load: 0, ready: true, enabled: true, update_ts: S0, user_id: 100 + id, description: null, comment: null, ...over };
}

/** `status`: the call is in the first multiCall of a poll (it starts with getLastEvent). */
type Override = (method: string, params: XmlRpcValue[], index: number, status: boolean) => MultiCallResult | undefined;

/** A Koji hub model that answers like the real one, with hooks for hostile answers. */
class Hub {
  tasks = new Map<number, XmlRpcStruct>();
  builds = new Map<number, XmlRpcStruct>();
  hosts: XmlRpcStruct[] = [host(1, 'builder1.example.com')];
  channels: XmlRpcStruct[] = [{ id: 1, name: 'default', enabled: true, description: null, comment: null }];
  channelHosts = new Map<number, number[]>([[1, [1]]]);
  event: XmlRpcValue = { id: 100, ts: S0 };
  /** Rows added to every (non-count) listTasks answer, unfiltered. */
  extraTaskRows: XmlRpcValue[] = [];
  extraBuildRows: XmlRpcValue[] = [];
  /** Replace one call's answer. */
  override: Override | undefined;
  /** Replace the whole HTTP answer. */
  raw: ((status: boolean) => FakeAnswer | undefined) | undefined;
  /** Every multiCall received: its calls. */
  requests: { method: string; params: XmlRpcValue[] }[][] = [];

  handle(body: string): FakeAnswer {
    const call = decodeMethodCall(body);
    const calls = (call.params[0] as XmlRpcValue[]).map((c) => (isStruct(c) ? { method: String(c.methodName), params: c.params as XmlRpcValue[] } : { method: '', params: [] }));
    this.requests.push(calls);
    const status = calls[0]?.method === 'getLastEvent';
    const raw = this.raw?.(status);
    if (raw) return raw;
    const results = calls.map((c, i) => this.override?.(c.method, c.params, i, status) ?? this.answer(c.method, c.params));
    return { body: rawDoubles(encodeMethodResponse(multiCallValue(results))), contentType: 'text/xml' };
  }

  answer(method: string, params: XmlRpcValue[]): MultiCallResult {
    const ok = (value: XmlRpcValue): MultiCallResult => ({ ok: true, value });
    switch (method) {
      case 'getLastEvent':
        return ok(this.event);
      case 'getKojiVersion':
        return ok('1.35.3');
      case 'repo.queryQueue':
        return ok(0);
      case 'listChannels':
        return ok(this.channels);
      case 'listHosts': {
        const kw = isStruct(params[0]) ? params[0] : {};
        if (typeof kw.channelID === 'number') {
          const ids = new Set(this.channelHosts.get(kw.channelID) ?? []);
          return ok(this.hosts.filter((h) => isStruct(h) && ids.has(h.id as number)));
        }
        return ok(this.hosts);
      }
      case 'listTasks':
        return ok(this.listTasks(params));
      case 'getTaskInfo': {
        const ids = Array.isArray(params[0]) ? params[0] : [params[0] ?? null];
        return ok(ids.map((id) => {
          const t = typeof id === 'number' ? this.tasks.get(id) : undefined;
          if (!t) return null;
          const { request: _r, result: _s, owner_name: _n, owner_type: _t, ...info } = t;
          return info;
        }));
      }
      case 'listBuilds':
        return ok(this.listBuilds(params));
      case 'getBuild':
        return ok(this.builds.get(params[0] as number) ?? null);
      default:
        return { ok: false, fault: { code: 1000, message: `Invalid method: ${method}` } };
    }
  }

  private listTasks(params: XmlRpcValue[]): XmlRpcValue {
    const opts = isStruct(params[0]) ? params[0] : {};
    const qo = isStruct(params[1]) ? params[1] : {};
    let rows = [...this.tasks.values()];
    if (Array.isArray(opts.state)) {
      const states = opts.state;
      rows = rows.filter((r) => states.includes(r.state as number));
    }
    rows = filterAfter(rows, opts, [['createdAfter', 'create_ts'], ['startedAfter', 'start_ts'], ['completeAfter', 'completion_ts']]);
    if (qo.countOnly === true) return rows.length;
    return [...query(rows, qo), ...this.extraTaskRows];
  }

  private listBuilds(params: XmlRpcValue[]): XmlRpcValue {
    const kw = isStruct(params[0]) ? params[0] : {};
    const qo = isStruct(kw.queryOpts) ? kw.queryOpts : {};
    let rows = [...this.builds.values()];
    if (typeof kw.state === 'number') rows = rows.filter((r) => r.state === kw.state);
    rows = filterAfter(rows, kw, [['createdAfter', 'creation_ts'], ['completeAfter', 'completion_ts']]);
    if (qo.countOnly === true) return rows.length;
    return [...query(rows, qo), ...this.extraBuildRows];
  }
}

function filterAfter(rows: XmlRpcStruct[], opts: XmlRpcStruct, keys: [string, string][]): XmlRpcStruct[] {
  let out = rows;
  for (const [key, field] of keys) {
    const since = opts[key];
    if (typeof since === 'number') out = out.filter((r) => typeof r[field] === 'number' && (r[field] as number) > since);
  }
  return out;
}

function query(rows: XmlRpcStruct[], qo: XmlRpcStruct): XmlRpcStruct[] {
  let out = [...rows];
  if (typeof qo.order === 'string') {
    const terms = qo.order.split(',').map((o) => (o.startsWith('-') ? { key: o.slice(1), desc: true } : { key: o, desc: false }));
    out.sort((a, b) => {
      for (const t of terms) {
        const [x, y] = [a[t.key], b[t.key]];
        if (x === y) continue;
        if (x === null || x === undefined) return 1;
        if (y === null || y === undefined) return -1;
        const c = (x as number) < (y as number) ? -1 : 1;
        return t.desc ? -c : c;
      }
      return 0;
    });
  }
  if (typeof qo.offset === 'number') out = out.slice(qo.offset);
  if (typeof qo.limit === 'number') out = out.slice(0, qo.limit);
  return out;
}

const upstream = new FakeUpstream();
let hub = new Hub();
let baseUrl = '';

beforeAll(async () => {
  upstream.routes.set('/kojihub', () => hub.handle(upstream.requests.at(-1)?.body ?? ''));
  baseUrl = await upstream.up();
});
afterAll(() => upstream.down());
const gates: (() => void)[] = [];
afterEach(() => {
  for (const open of gates.splice(0)) open();
  hub = new Hub();
  upstream.requests.length = 0;
});

function boot(config: Record<string, unknown> = {}) {
  const clock = new ManualClock(T0);
  const adapter = new KojiAdapter(parseKojiConfig({ url: `${baseUrl}/kojihub`, ...config }), { name: 'fedora', log: pino({ level: 'silent' }), clock, http: new UpstreamHttp(), pollTimeoutSeconds: 10 });
  const poll = (ms = 10_000): Promise<Snapshot> => adapter.poll(AbortSignal.timeout(ms));
  /** Move both clocks on: the exporter's and the hub's (its event and host check-ins). */
  const tick = (ms: number) => {
    clock.advance(ms);
    const s = clock.now() / 1000;
    if (isStruct(hub.event)) hub.event = { ...hub.event, ts: s };
    hub.hosts = hub.hosts.map((h) => (isStruct(h) && typeof h.update_ts === 'number' ? { ...h, update_ts: s } : h));
  };
  const hubNow = () => clock.now() / 1000;
  return { clock, adapter, poll, tick, hubNow };
}

/** The error a promise rejects with (fails the test when it resolves). */
async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the poll to fail');
}

/** A poll that must fail: a SourceError with this code, never a TypeError/RangeError. */
async function mustFail(p: Promise<unknown>, code: string): Promise<SourceError> {
  const err = await failure(p);
  expect(err, `${err.name}: ${err.message}`).toBeInstanceOf(SourceError);
  expect((err as SourceError).code).toBe(code);
  return err as SourceError;
}

const ids = (snap: Snapshot) => snap.tasks.map((t) => t.id).sort();
const byId = (snap: Snapshot, id: string | number) => snap.tasks.find((t) => t.id === String(id));

describe('koji adapter: hostile rows', () => {
  it('leaves out rows of the wrong shape with bad_value and keeps the rest', async () => {
    const { poll, tick, adapter } = boot();
    hub.tasks.set(1, task(1));
    await poll();
    tick(30_000);
    const s = S0 + 10;
    hub.tasks.set(2, task(2, { create_ts: s }));
    hub.extraTaskRows = [
      null, 'a string', 42, [1, 2], {},
      task(-5, { create_ts: s }), // negative id
      task(10, { state: 'open', create_ts: s }),
      task(11, { method: 7, create_ts: s }),
      task(12, { create_ts: NAN }),
      task(13, { create_ts: INF }),
      task(14, { start_ts: NINF, create_ts: s }),
      task(15, { owner: null, create_ts: s }),
      task(16, { host_id: -1, create_ts: s }),
      task(17, { channel_id: 'default', create_ts: s }),
      task(18, { state: 5000, create_ts: s }), // beyond any state
      task(19, { weight: NAN, create_ts: s }),
      task(20, { parent: 2.5, create_ts: s }),
      task(21, { create_ts: null }),
    ];
    const snap = await poll();
    expect(ids(snap)).toEqual(['1', '2']);
    const problems = adapter.problems();
    // 5 listings return every extra row; a row is a problem once per listing.
    expect(problems.current.bad_value).toBeGreaterThanOrEqual(hub.extraTaskRows.length);
    expect(problems.examples.length).toBeGreaterThan(0);
    expect(JSON.stringify(problems)).not.toMatch(/@@/);
  });

  it('maps an unknown state number to STATE_<n> / unknown, not a crash', async () => {
    const { poll, tick } = boot();
    await poll();
    tick(10_000);
    hub.tasks.set(7, task(7, { state: 7, create_ts: S0 + 5 }));
    const snap = await poll();
    expect(byId(snap, 7)).toMatchObject({ state: 'STATE_7', phase: 'unknown' });
    // The hub counts only FREE/ASSIGNED/OPEN: STATE_7 adds nothing to buildfarm_koji_tasks.
    expect((snap.upstream?.figures ?? []).filter((f) => f.name === 'tasks' && f.labels?.state === 'STATE_7')).toEqual([]);
  });

  it('keeps NaN / Infinity / negative / far-future *_ts out of the record times', async () => {
    const { poll, tick } = boot();
    await poll();
    tick(10_000);
    hub.tasks.set(30, task(30, { create_ts: -1, state: 2, start_ts: 0, completion_ts: 1e15 }));
    hub.tasks.set(31, task(31, { create_ts: S0 + 5, state: 1, start_ts: 4102444800 * 3 }));
    hub.extraTaskRows = [task(32, { create_ts: S0 + 5, completion_ts: NAN, state: 2 })];
    const snap = await poll();
    const t30 = byId(snap, 30);
    expect(t30?.created).toBeUndefined();
    expect(t30?.started).toBeUndefined();
    expect(t30?.finished).toBeUndefined();
    expect(byId(snap, 31)?.started).toBeUndefined();
    expect(byId(snap, 32)).toBeUndefined();
    expect(() => JSON.stringify(snap)).not.toThrow();
  });

  it('BUG: a row whose id is an <i8> beyond 2^53 (bigint) is left out with bad_value, not a TypeError', async () => {
    const { poll, tick, adapter } = boot();
    await poll();
    tick(10_000);
    hub.tasks.set(40, task(40, { create_ts: S0 + 5 }));
    hub.extraTaskRows = [task(0, { id: 2n ** 60n, create_ts: S0 + 5 })];
    const snap = await poll();
    expect(ids(snap)).toEqual(['40']);
    expect(adapter.problems().current.bad_value).toBeGreaterThan(0);
  });

  it('BUG: a host row whose id is a bigint does not fail the poll with a TypeError', async () => {
    const { poll } = boot();
    hub.hosts.push(host(0, 'big.example.com', { id: 2n ** 55n }));
    const snap = await poll().catch((err: unknown) => err as Error);
    expect(snap).not.toBeInstanceOf(TypeError);
    expect((snap as Snapshot).workers?.map((w) => w.id)).toEqual(['builder1.example.com']);
  });

  it('BUG: an extra member holding a bigint (build extra, a newer hub field) never reaches the store as a bigint', async () => {
    const { poll, tick } = boot();
    await poll();
    tick(10_000);
    hub.builds.set(1, build(1, { creation_event_id: 150, creation_ts: S0 + 5, extra: { image: { size: 2n ** 60n } } }));
    hub.tasks.set(41, task(41, { create_ts: S0 + 5, new_counter: 2n ** 60n }));
    hub.hosts[0] = host(1, 'builder1.example.com', { update_ts: S0 + 10, new_counter: 2n ** 60n });
    const snap = await poll();
    expect(byId(snap, 'build-1')).toBeDefined();
    expect(byId(snap, 41)).toBeDefined();
    // The runner hands the snapshot to the store, which fingerprints records with JSON.stringify; the API serves them as JSON.
    expect(() => JSON.stringify(snap)).not.toThrow();
    const store = new Store({});
    expect(() => store.apply('fedora', 'koji', snap)).not.toThrow();
    expect(() => store.apply('fedora', 'koji', snap)).not.toThrow();
  });

  it('survives strings of 1 MB in every text field (method, label, arch, host and channel names)', async () => {
    const { poll, tick } = boot({ max_body_bytes: 64 * 1024 * 1024 });
    const big = 'x'.repeat(1024 * 1024);
    hub.hosts.push(host(2, big), host(3, 'evil\t\r\n\u202e\u0085host\u007f'), host(4, 'h'.repeat(1024)));
    hub.channels.push({ id: 2, name: big, enabled: true, description: big, comment: null }, { id: 3, name: 'we\tird"chan\\nel{}', enabled: true, description: null, comment: null });
    hub.channelHosts.set(2, [2, 3]);
    hub.channelHosts.set(3, [4]);
    await poll();
    tick(10_000);
    hub.tasks.set(50, task(50, { method: big, label: big, arch: big, create_ts: S0 + 5, request: big, result: big }));
    hub.tasks.set(51, task(51, { channel_id: 2, host_id: 2, state: 1, start_ts: S0 + 6, create_ts: S0 + 5 }));
    const snap = await poll();
    expect(byId(snap, 50)).toBeDefined();
    expect(byId(snap, 51)).toMatchObject({ repo: big });
    expect(snap.workers?.length).toBe(4);
    // The request summary is never the megabyte itself.
    expect((byId(snap, 50)?.native as Record<string, unknown>).request).toBeUndefined();
  });

  it('counts a task listed twice in one answer and in several listings once', async () => {
    const { poll, tick } = boot();
    await poll();
    tick(30_000);
    // Created, started and completed since the last poll: in three listings, and twice in the first.
    const row = task(60, { create_ts: S0 + 10, start_ts: S0 + 12, completion_ts: S0 + 20, state: 2, host_id: 1 });
    hub.tasks.set(60, row);
    hub.extraTaskRows = [row];
    const snap = await poll();
    expect(snap.newTaskIds).toEqual(['60']);
    expect(snap.tasks.filter((t) => t.id === '60')).toHaveLength(1);
    tick(30_000);
    expect((await poll()).newTaskIds).toBeUndefined();
  });

  it('takes a task whose parent is itself, a parent cycle, a parent never seen, and thousands of children without looping', async () => {
    const { poll, tick } = boot();
    await poll();
    tick(30_000);
    hub.tasks.set(70, task(70, { parent: 70, create_ts: S0 + 1 }));
    hub.tasks.set(71, task(71, { parent: 72, create_ts: S0 + 1 }));
    hub.tasks.set(72, task(72, { parent: 71, create_ts: S0 + 1 }));
    hub.tasks.set(73, task(73, { parent: 999_999, create_ts: S0 + 1 }));
    hub.tasks.set(80, task(80, { create_ts: S0 + 1 }));
    for (let i = 0; i < 3000; i += 1) hub.tasks.set(1000 + i, task(1000 + i, { parent: 80, method: 'buildArch', arch: i % 2 ? 'x86_64' : 'aarch64', create_ts: S0 + 2 + i / 1000 }));
    const started = performance.now();
    let snap = await poll();
    for (let i = 0; i < 10 && snap.tasks.length < 3005; i += 1) snap = await poll();
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(byId(snap, 70)?.subtasks.length).toBeLessThanOrEqual(1);
    expect(byId(snap, 71)?.subtasks.map((s) => s.id)).toEqual(['72']);
    expect(byId(snap, 72)?.subtasks.map((s) => s.id)).toEqual(['71']);
    expect(byId(snap, 73)?.attrs?.parent).toBe(999_999);
    expect(byId(snap, 80)?.subtasks).toHaveLength(3000);
    expect(byId(snap, 80)?.archs.sort()).toEqual(['aarch64', 'x86_64']);
    expect(() => JSON.stringify(snap)).not.toThrow();
  });

  it('reads a request that is not XML-RPC, truncated, deep or huge as no summary', async () => {
    const { poll, tick } = boot();
    await poll();
    tick(30_000);
    let deep = '<value><string>x</string></value>';
    for (let i = 0; i < 200; i += 1) deep = `<value><array><data>${deep}</data></array></value>`;
    const requests = [
      'not xml at all',
      '<methodCall><methodName>build</methodName><params><param><value><string>trunc',
      `<methodCall><methodName>build</methodName><params><param>${deep}</param></params></methodCall>`,
      `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><methodCall><methodName>build</methodName><params><param><value>&a;</value></param></params></methodCall>`,
      encodeMethodCall('build', ['y'.repeat(999_000), 'f42']),
      encodeMethodCall('build', ['z'.repeat(1_200_000), 'f42']),
      encodeMethodCall('build', [{ a: 1 }, 5]),
      '',
    ];
    requests.forEach((request, i) => hub.tasks.set(90 + i, task(90 + i, { request, create_ts: S0 + 1 + i })));
    const snap = await poll();
    for (let i = 0; i < requests.length; i += 1) {
      const t = byId(snap, 90 + i);
      expect(t, `request ${i}`).toBeDefined();
      expect((t?.message ?? '').length, `request ${i}`).toBeLessThan(300);
    }
    expect(byId(snap, 90)?.message).toBe('build');
  });

  it('keeps owner names across rows that lack them, and shows none for an owner never named', async () => {
    const { poll, tick } = boot();
    await poll();
    tick(30_000);
    const { owner_name: _n, owner_type: _t, ...anonymous } = task(100, { owner: 9, create_ts: S0 + 1 });
    hub.tasks.set(100, anonymous);
    hub.tasks.set(101, task(101, { owner: 1, owner_name: null, create_ts: S0 + 2 }));
    const snap = await poll();
    expect(byId(snap, 100)?.owner).toBeUndefined();
    expect(byId(snap, 101)?.owner).toBeUndefined();
    hub.tasks.set(102, task(102, { owner: 1, create_ts: S0 + 3 }));
    tick(30_000);
    await poll();
    tick(30_000);
    hub.tasks.set(101, task(101, { owner: 1, owner_name: null, create_ts: S0 + 2, state: 1, start_ts: S0 + 70 }));
    expect(byId(await poll(), 101)?.owner).toBe('alice');
  });

  it('answers nil or a struct where a list is expected: the poll fails for listHosts, the call is dropped for a listing', async () => {
    const { poll, tick, adapter } = boot();
    hub.tasks.set(1, task(1));
    const first = await poll();
    tick(30_000);
    hub.override = (m, p) => {
      if (m === 'listTasks' && !(isStruct(p[1]) && p[1].countOnly === true)) return { ok: true, value: null };
      if (m === 'getTaskInfo') return { ok: true, value: { id: 1 } };
      if (m === 'listBuilds') return { ok: true, value: 'nope' };
      return undefined;
    };
    const snap = await poll();
    expect(ids(snap)).toEqual(ids(first));
    expect(adapter.problems().current.bad_value).toBeGreaterThanOrEqual(4);
    hub.override = (m, p) => (m === 'listHosts' && p.length === 0 ? { ok: true, value: null } : undefined);
    await mustFail(poll(), 'payload');
    hub.override = (m) => (m === 'getLastEvent' ? { ok: true, value: [] } : undefined);
    await mustFail(poll(), 'payload');
    hub.override = (m) => (m === 'getLastEvent' ? { ok: true, value: { id: 200, ts: NAN } } : undefined);
    await mustFail(poll(), 'payload');
    hub.override = undefined;
    expect(ids(await poll())).toEqual(ids(first));
  });

  it('BUG: a build the hub no longer knows (getBuild answers nil) is dropped, not re-read first forever', async () => {
    const { poll, tick } = boot();
    for (let i = 1; i <= 25; i += 1) hub.builds.set(i, build(i));
    await poll();
    hub.builds.delete(1);
    for (let i = 0; i < 3; i += 1) {
      tick(30_000);
      await poll();
    }
    const asked = hub.requests.at(-1)?.filter((c) => c.method === 'getBuild').map((c) => c.params[0]);
    expect(asked).not.toContain(1);
  });
});

describe('koji adapter: hostile multiCall answers', () => {
  it('fails with payload when a multiCall answers the wrong number of results, and keeps the picture', async () => {
    const { poll, tick } = boot();
    hub.tasks.set(1, task(1));
    const first = await poll();
    tick(30_000);
    hub.raw = () => ({ body: encodeMethodResponse(multiCallValue([{ ok: true, value: 1 }])), contentType: 'text/xml' });
    const err = await mustFail(poll(), 'payload');
    expect(err.message).toMatch(/answered 1 results/);
    hub.raw = (status) => (status ? undefined : { body: encodeMethodResponse(multiCallValue([{ ok: true, value: [] }])), contentType: 'text/xml' });
    await mustFail(poll(), 'payload');
    hub.raw = undefined;
    tick(30_000);
    expect(ids(await poll())).toEqual(ids(first));
  });

  it('a fault in each position of the status multiCall: getLastEvent and listHosts fail the poll, the rest only drop their call', async () => {
    const { poll, tick, adapter } = boot();
    hub.tasks.set(1, task(1));
    await poll();
    tick(30_000);
    await poll();
    const status = hub.requests[hub.requests.length - 2]?.map((c) => c.method) ?? [];
    expect(status).toEqual(['getLastEvent', 'listTasks', 'listTasks', 'listTasks', 'listHosts', 'listChannels', 'listBuilds', 'repo.queryQueue']);
    for (let i = 0; i < status.length; i += 1) {
      tick(30_000);
      hub.override = (_m, _p, index, isStatus) => (isStatus && index === i ? { ok: false, fault: { code: 1000, message: `boom ${i}` } } : undefined);
      const result = await poll().catch((err: unknown) => err as Error);
      const method = status[i] as string;
      if (i === 0 || i === 4) {
        expect(result, method).toBeInstanceOf(KojiFaultError);
        expect((result as KojiFaultError).offline).toBe(false);
        expect((result as Error).message).toMatch(new RegExp(`${method}.*fault 1000 \\(boom ${i}\\)`));
        expect(adapter.endpoints()[0]).toMatchObject({ reachable: true, up: false });
      } else {
        expect(result, `${method}: ${(result as Error).message}`).not.toBeInstanceOf(Error);
        expect(adapter.problems().current.fault, method).toBe(1);
        expect(ids(result as Snapshot)).toEqual(['1']);
      }
    }
  });

  it('a fault in each position of the changes multiCall drops only that call', async () => {
    const { poll, tick, adapter } = boot();
    hub.tasks.set(1, task(1));
    hub.builds.set(1, build(1));
    await poll();
    tick(30_000);
    await poll();
    const changes = hub.requests.at(-1)?.map((c) => c.method) ?? [];
    expect(changes.length).toBeGreaterThanOrEqual(8);
    for (let i = 0; i < changes.length; i += 1) {
      tick(30_000);
      hub.override = (_m, _p, index, isStatus) => (!isStatus && index === i ? { ok: false, fault: { code: 1019, message: 'ParameterError: nope', traceback: ['x'] } } : undefined);
      const snap = await poll();
      expect(adapter.problems().current, changes[i]).toEqual({ fault: 1 });
      expect(ids(snap)).toEqual(['1', 'build-1']);
    }
  });

  it('fault 1014 inside the second multiCall fails the poll as hub up / database down and keeps the picture', async () => {
    const { poll, tick, adapter } = boot();
    hub.tasks.set(1, task(1));
    await poll();
    tick(30_000);
    hub.tasks.set(2, task(2, { create_ts: S0 + 10 }));
    hub.override = (m, _p, _i, isStatus) => (!isStatus && m === 'getTaskInfo' ? { ok: false, fault: { code: 1014, message: 'database outage' } } : undefined);
    const err = await failure(poll());
    expect(err).toBeInstanceOf(KojiFaultError);
    expect((err as KojiFaultError).offline).toBe(true);
    expect(adapter.endpoints().map((e) => [e.name, e.reachable, e.up])).toEqual([['hub', true, false], ['database', false, false]]);
    hub.override = undefined;
    tick(30_000);
    const snap = await poll();
    expect(ids(snap)).toEqual(['1', '2']);
    expect(snap.newTaskIds).toEqual(['2']);
  });

  it('a top-level fault other than 1014 fails the poll with code fault, hub reachable', async () => {
    const { poll, adapter } = boot();
    hub.raw = () => ({ body: encodeFault({ code: 1002, message: 'AuthError: anonymous access refused' }), contentType: 'text/xml' });
    const err = await mustFail(poll(), 'fault');
    expect(err).toBeInstanceOf(KojiFaultError);
    expect((err as KojiFaultError).offline).toBe(false);
    expect(adapter.endpoints()[0]).toMatchObject({ reachable: true, up: false });
  });

  it.each([
    ['HTTP 500', { status: 500, body: 'Internal Server Error', contentType: 'text/plain' }, 'http'],
    ['HTTP 502 with HTML', { status: 502, body: '<html><body>Bad gateway</body></html>', contentType: 'text/html' }, 'http'],
    ['HTML with 200', { body: '<!DOCTYPE html><html><body>kojiweb</body></html>', contentType: 'text/html' }, 'payload'],
    ['truncated XML', { body: "<?xml version='1.0'?>\n<methodResponse><params><param><value><array><data><value><arr", contentType: 'text/xml' }, 'payload'],
    ['an empty body', { body: '', contentType: 'text/xml' }, 'payload'],
    ['JSON', { body: '{"detail":"Not Found"}', contentType: 'application/json' }, 'payload'],
    ['XML that is not XML-RPC', { body: '<?xml version="1.0"?><rss/>', contentType: 'text/xml' }, 'payload'],
    ['a methodResponse holding a string where a multiCall array belongs', { body: encodeMethodResponse('ok'), contentType: 'text/xml' }, 'payload'],
    ['a multiCall entry of two elements', { body: encodeMethodResponse([[1, 2]]), contentType: 'text/xml' }, 'payload'],
    ['a body over max_body_bytes', { body: `<?xml version='1.0'?><methodResponse><params><param><value><string>${'x'.repeat(100_000)}</string></value></param></params></methodResponse>`, contentType: 'text/xml' }, 'too_large'],
    ['a billion-laughs DOCTYPE', { body: '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><methodResponse><params><param><value>&lol2;</value></param></params></methodResponse>', contentType: 'text/xml' }, 'payload'],
  ] as [string, FakeAnswer, string][])('%s fails the poll with %s and keeps the picture', async (_name, answer, code) => {
    const { poll, tick } = boot({ max_body_bytes: 64 * 1024 });
    hub.tasks.set(1, task(1));
    const first = await poll();
    for (const which of [0, 1]) {
      tick(30_000);
      hub.raw = (status) => (status === (which === 0) ? answer : undefined);
      const err = await mustFail(poll(), code);
      expect(err.message).not.toMatch(/undefined/);
    }
    hub.raw = undefined;
    tick(30_000);
    expect(ids(await poll())).toEqual(ids(first));
  });

  it('a slow answer gives way to the poll signal with a timeout SourceError', async () => {
    const { poll, tick } = boot();
    await poll();
    for (const which of [0, 1]) {
      const g = gate();
      gates.push(g.open);
      hub.raw = (status) => (status === (which === 0) ? { gate: g.promise, body: encodeMethodResponse([]), contentType: 'text/xml' } : undefined);
      tick(30_000);
      const t0 = performance.now();
      await mustFail(poll(300), 'timeout');
      expect(performance.now() - t0).toBeLessThan(5000);
      g.open();
    }
    hub.raw = undefined;
    await poll();
  });
});

describe('koji adapter: events, hosts and channels', () => {
  it('event id back by one: a new baseline (ids_reset); forward hugely: nothing special', async () => {
    const { poll, tick, adapter } = boot();
    hub.tasks.set(1, task(1));
    await poll();
    tick(30_000);
    hub.event = { id: 99, ts: S0 + 30 };
    const snap = await poll();
    expect(adapter.problems().current).toEqual({ ids_reset: 1 });
    expect(snap.newTaskIds).toBeUndefined();
    tick(30_000);
    hub.event = { id: 2 ** 52, ts: S0 + 60 };
    hub.tasks.set(2, task(2, { create_ts: S0 + 50 }));
    const next = await poll();
    expect(adapter.problems().current).toEqual({});
    expect(next.newTaskIds).toEqual(['2']);
    expect(next.upstream?.figures).toContainEqual({ name: 'last_event_id', value: 2 ** 52 });
  });

  it('an event id beyond 2^53 (bigint) fails the poll with payload', async () => {
    const { poll } = boot();
    hub.event = { id: 2n ** 60n, ts: S0 };
    await mustFail(poll(), 'payload');
  });

  it('BUG: a far-future host check-in or event time at the baseline does not stop counting for good', async () => {
    const { poll, tick } = boot();
    hub.hosts.push(host(2, 'skewed.example.com', { update_ts: 4102444800 /* 2100-01-01 */ }));
    await poll();
    tick(30_000);
    hub.hosts = hub.hosts.map((h) => (isStruct(h) && h.id === 2 ? { ...h, update_ts: S0 + 30 } : h));
    hub.tasks.set(5, task(5, { create_ts: S0 + 20 }));
    const snap = await poll();
    expect(byId(snap, 5)).toBeDefined();
    expect(snap.newTaskIds).toEqual(['5']);
  });

  it('BUG: one row with a far-future create_ts does not move the createdAfter mark past every later task', async () => {
    const { poll, tick } = boot();
    await poll();
    tick(30_000);
    hub.tasks.set(6, task(6, { create_ts: 4102444800 }));
    await poll();
    tick(30_000);
    hub.tasks.set(7, task(7, { create_ts: S0 + 50 }));
    const snap = await poll();
    expect(byId(snap, 7)).toBeDefined();
    expect(snap.newTaskIds).toEqual(['7']);
  });

  it('BUG: a full page of rows that are all rejected still moves the listing on', async () => {
    const { poll, tick } = boot({ page_size: 10 });
    await poll();
    tick(60_000);
    for (let i = 0; i < 10; i += 1) hub.tasks.set(200 + i, task(200 + i, { create_ts: S0 + 1 + i, method: 0 }));
    hub.tasks.set(300, task(300, { create_ts: S0 + 30 }));
    let seen = false;
    for (let i = 0; i < 4 && !seen; i += 1) {
      tick(10_000);
      seen = byId(await poll(), 300) !== undefined;
    }
    expect(seen).toBe(true);
  });

  it('lists 10,000 hosts, one with control characters and one 1 KB long, without a crash; figures per host', async () => {
    const { poll } = boot({ max_body_bytes: 64 * 1024 * 1024 });
    hub.hosts = Array.from({ length: 10_000 }, (_, i) => host(i + 1, `b${i}.example.com`));
    hub.hosts.push(host(20_001, 'ctl\t\r\nhost\u007f'), host(20_002, 'n'.repeat(1024)));
    hub.channelHosts.set(1, hub.hosts.map((h) => (h as XmlRpcStruct).id as number));
    const t0 = performance.now();
    const snap = await poll();
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(snap.workers).toHaveLength(10_002);
    const figures = snap.upstream?.figures ?? [];
    expect(figures.filter((f) => f.name === 'host_ready')).toHaveLength(10_002);
    expect(figures).toContainEqual({ name: 'channel_hosts', labels: { channel: 'default', state: 'ready' }, value: 10_002 });
  });

  it('BUG: 130,000 hosts do not blow the stack with a RangeError (Math.max(...spread))', { timeout: 60_000 }, async () => {
    const { poll } = boot({ max_body_bytes: 128 * 1024 * 1024 });
    hub.hosts = Array.from({ length: 130_000 }, (_, i) => ({ id: i + 1, name: `h${i}`, arches: 'x86_64', capacity: 1, task_load: 0, ready: true, enabled: true, update_ts: S0 }));
    hub.channelHosts.set(1, []);
    const result = await poll(50_000).catch((err: unknown) => err as Error);
    // Decoding takes seconds here, so the second request may meet a keep-alive connection the server just closed (a SourceError): fine.
    if (result instanceof Error) expect(result, `${result.name}: ${result.message.slice(0, 200)}`).toBeInstanceOf(SourceError);
    else expect(result.workers).toHaveLength(130_000);
  });

  it('BUG: more than 100 channels does not ask listHosts(channelID) for 100 channels on every poll', async () => {
    const { poll, tick } = boot();
    hub.channels = Array.from({ length: 150 }, (_, i) => ({ id: i + 1, name: `chan-${i}`, enabled: true, description: null, comment: null }));
    await poll();
    expect(hub.requests.at(-1)?.filter((c) => c.method === 'listHosts')).toHaveLength(100);
    tick(30_000); // well within channels_interval (10 min)
    await poll();
    expect(hub.requests.at(-1)?.filter((c) => c.method === 'listHosts')).toHaveLength(0);
  });

  it('BUG: buildfarm_koji_tasks per state adds up to the hub\'s count even when the held tasks are more', async () => {
    const { poll } = boot();
    for (let i = 1; i <= 3; i += 1) hub.tasks.set(i, task(i));
    hub.override = (m, p) => (m === 'listTasks' && isStruct(p[1]) && p[1].countOnly === true ? { ok: true, value: 1 } : undefined);
    const snap = await poll();
    const free = (snap.upstream?.figures ?? []).filter((f) => f.name === 'tasks' && f.labels?.state === 'FREE');
    expect(free.reduce((n, f) => n + f.value, 0)).toBe(1);
    expect(free.every((f) => f.value >= 0)).toBe(true);
  });
});

describe('koji adapter: cost with 20,000 held tasks', () => {
  it('the TaskBook operations of a poll are not quadratic', () => {
    const book = new TaskBook();
    const ctx = { source: 'fedora', web: 'https://koji/koji', now: T0, channelName: () => 'default', hostName: () => 'b1' };
    const row = (id: number, over: Partial<KojiTask> = {}): KojiTask => ({ id, state: id % 3 === 0 ? 2 : id % 3 === 1 ? 1 : 0, method: 'buildArch', arch: 'x86_64', owner: 1, owner_name: 'alice', channel_id: 1, host_id: id % 50, parent: 1 + (id % 200), create_ts: S0 - 20_000 + id, start_ts: S0 - 10_000 + id, completion_ts: id % 3 === 0 ? S0 - 5000 + id / 10 : null, ...over });
    const timeIt = (f: () => void) => {
      const t0 = performance.now();
      f();
      return performance.now() - t0;
    };
    const put = timeIt(() => {
      for (let id = 1; id <= 20_000; id += 1) book.putTask(row(id), ctx);
    });
    const settle = timeIt(() => book.settle());
    const ops = timeIt(() => {
      book.stalest(100, new Set());
      book.stalestBuilds(20);
      book.activeByStateAndMethod();
      book.openByHost();
      book.unfinished('ASSIGNED');
      book.all();
    });
    const retain = timeIt(() => book.retain(T0 - 6 * 3600_000, 19_000));
    // eslint-disable-next-line no-console
    console.log(`TaskBook 20k: put ${put.toFixed(0)} ms, settle ${settle.toFixed(0)} ms, audit/figures ${ops.toFixed(0)} ms, retain ${retain.toFixed(0)} ms`);
    expect(put + settle + ops + retain).toBeLessThan(5000);
    expect(book.taskCount).toBe(19_000);
  });

  it('a poll with 20,000 held tasks', async () => {
    const { poll, tick } = boot({ page_size: 5000, overlap: '0s', max_body_bytes: 256 * 1024 * 1024 });
    await poll();
    tick(2 * 3600_000);
    for (let i = 0; i < 20_000; i += 1) hub.tasks.set(10_000 + i, task(10_000 + i, { create_ts: S0 + 10 + i * 0.05, parent: i % 10 === 0 ? null : 10_000 + i - (i % 10), method: i % 10 === 0 ? 'build' : 'buildArch', request: null }));
    let snap = await poll();
    for (let i = 0; i < 6 && snap.tasks.length < 20_000; i += 1) {
      tick(1000);
      snap = await poll();
    }
    expect(snap.tasks).toHaveLength(20_000);
    tick(30_000);
    const t0 = performance.now();
    await poll();
    const quiet = performance.now() - t0;
    // 500 changes: started.
    for (let i = 0; i < 500; i += 1) {
      const id = 10_000 + i * 40;
      hub.tasks.set(id, { ...(hub.tasks.get(id) as XmlRpcStruct), state: 1, host_id: 1, start_ts: S0 + 7200 + 31 + i / 1000 });
    }
    tick(30_000);
    const t1 = performance.now();
    await poll();
    const busy = performance.now() - t1;
    // eslint-disable-next-line no-console
    console.log(`koji poll with 20k held tasks: quiet ${quiet.toFixed(0)} ms, 500 changes ${busy.toFixed(0)} ms`);
    expect(quiet).toBeLessThan(2000);
    expect(busy).toBeLessThan(3000);
  });
});
