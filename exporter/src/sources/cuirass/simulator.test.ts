import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../util/clock.js';
import { CuirassSimulator, type CuirassSimulatorOptions } from './simulator.js';

type Json = Record<string, unknown>;
const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8'));
const kind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** Same keys in the same order and the same JSON types, all the way down (array items against the fixture's first). */
function expectShape(actual: unknown, expected: unknown, path = '$'): void {
  if (!(kind(expected) === 'null' && path.endsWith('.commit'))) expect(kind(actual), `${path} type`).toBe(kind(expected));
  if (Array.isArray(actual) && Array.isArray(expected)) {
    if (expected.length > 0) actual.forEach((item, i) => expectShape(item, expected[0], `${path}[${i}]`));
  } else if (kind(actual) === 'object') {
    const [a, e] = [actual as Json, expected as Json];
    expect(Object.keys(a), `${path} keys`).toEqual(Object.keys(e));
    for (const k of Object.keys(e)) if (!(path === '$' && k === 'buildoutputs')) expectShape(a[k], e[k], `${path}.${k}`);
  }
}

interface Got {
  status: number;
  headers: Record<string, string>;
  raw: Buffer;
  text: string;
  body: unknown;
}

async function call(url: string, method: 'GET' | 'POST' = 'GET'): Promise<Got> {
  const res = await request(url, { method, headers: { 'accept-encoding': 'identity' } });
  const raw = Buffer.from(await res.body.arrayBuffer());
  const headers = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)]));
  const text = headers['content-encoding'] === 'gzip' ? gunzipSync(raw).toString() : raw.toString();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.statusCode, headers, raw, text, body };
}

const T0 = Date.parse('2026-03-16T12:00:00Z');
const S0 = T0 / 1000;
let sims: CuirassSimulator[] = [];
afterEach(async () => {
  await Promise.all(sims.map((s) => s.close()));
  sims = [];
});

async function boot(opts: Partial<CuirassSimulatorOptions> = {}): Promise<{ sim: CuirassSimulator; clock: ManualClock; base: string }> {
  const clock = new ManualClock(T0);
  const sim = new CuirassSimulator({ clock, specs: [{ name: 'hello', systems: ['x86_64-linux', 'aarch64-linux'], jobs: 2, failRate: 0 }], ...opts });
  sims.push(sim);
  return { sim, clock, base: await sim.listen() };
}
const list = (g: Got): Json[] => g.body as Json[];

describe('CuirassSimulator', () => {
  it('answers builds, evaluations, specifications and jobs in upstream key order', async () => {
    const { sim, clock, base } = await boot();
    const ev = sim.evaluate('hello');
    clock.advance(30_000);
    const ids = sim.finishEvaluation(ev, 0);
    expect(ids).toEqual([1, 2, 3, 4]);
    clock.advance(10_000);
    sim.startBuild(1);
    clock.advance(60_000);
    sim.finishBuild(1, 0);
    const b1 = await call(`${base}/build/1`);
    expect(b1.headers['content-type']).toBe('application/json;charset=utf-8');
    expectShape(b1.body, fixture('build-finished'));
    expect(b1.body).toMatchObject({ id: 1, evaluation: ev, jobset: 'hello', timestamp: S0 + 100, starttime: S0 + 40, stoptime: S0 + 100, buildstatus: 0, weather: -1, busy: 0, finished: 1, buildproducts: [] });
    const b2 = await call(`${base}/build/2`);
    expectShape(b2.body, fixture('build-queued'));
    expect(b2.body).toMatchObject({ timestamp: S0 + 30, starttime: 0, stoptime: 0, buildstatus: -3, weather: -1, finished: 0, busy: 0 });
    const e = await call(`${base}/api/evaluation?id=${ev}`);
    expectShape(e.body, fixture('evaluation-manual'));
    expect(e.body).toMatchObject({ status: 0, timestamp: S0, evaltime: S0 + 30 });
    const specs = await call(`${base}/specifications`);
    expectShape(specs.body, fixture('specifications'));
    expect((await call(`${base}/jobsets`)).body).toEqual(specs.body);
    const jobs = await call(`${base}/api/jobs?evaluation=${ev}&system=x86_64-linux`);
    expectShape(jobs.body, fixture('jobs'));
    expect(list(jobs).map((j) => j.build)).toEqual([1, 3]);
  });

  it('runs the life cycle with weather, busy and increasing ids', async () => {
    const { sim, clock, base } = await boot({ specs: [{ name: 'hello', systems: ['x86_64-linux'], jobs: 1 }] });
    const weathers: unknown[] = [];
    for (const status of [0, 0, 1, 1, 0] as const) {
      const ev = sim.evaluate('hello');
      const [id] = sim.finishEvaluation(ev, 0);
      if (id === undefined) throw new Error('no build');
      sim.startBuild(id);
      expect((await call(`${base}/build/${id}`)).body).toMatchObject({ buildstatus: -1, busy: 1, finished: 0 });
      clock.advance(1000);
      sim.finishBuild(id, status);
      weathers.push(((await call(`${base}/build/${id}`)).body as Json).weather);
    }
    expect(weathers).toEqual([-1, 2, 1, 3, 0]);
    expect(sim.finishEvaluation(sim.evaluate('hello'), 1)).toEqual([]);
    const evs = list(await call(`${base}/api/evaluations?nr=100`));
    expect(evs.map((e) => e.id)).toEqual([6, 5, 4, 3, 2, 1]);
    expect(evs[0]).toMatchObject({ status: 1 });
  });

  it('evaluates and builds on its own when stepped', async () => {
    const { sim, clock, base } = await boot({ specs: [{ name: 'hello', systems: ['x86_64-linux'], jobs: 6, periodSeconds: 600, failRate: 0.5 }] });
    sim.step();
    expect(list(await call(`${base}/api/evaluations?nr=5`))[0]).toMatchObject({ id: 1, status: -1, evaltime: 0 });
    clock.advance(19 * 60_000);
    sim.step();
    const evs = list(await call(`${base}/api/evaluations?nr=5`));
    expect(evs.map((e) => e.id)).toEqual([2, 1]);
    const done = list(await call(`${base}/api/latestbuilds?nr=100`));
    const queued = list(await call(`${base}/api/queue?nr=100`));
    expect(done.length + queued.length).toBeGreaterThan(0);
    for (const b of done) expect(b.stoptime as number).toBeGreaterThanOrEqual(b.starttime as number);
    expect(queued.filter((b) => b.buildstatus === -1).length).toBeLessThanOrEqual(4);
    const d = new CuirassSimulator({ clock: new ManualClock(T0), seed: 7 });
    const d2 = new CuirassSimulator({ clock: new ManualClock(T0), seed: 7 });
    sims.push(d, d2);
    const [u1, u2] = [await d.listen(), await d2.listen()];
    expect((await call(`${u1}/api/latestbuilds?nr=1000`)).text).toBe((await call(`${u2}/api/latestbuilds?nr=1000`)).text);
    expect(list(await call(`${u1}/specifications`)).map((s) => s.name)).toEqual(['guix', 'hello']);
    expect(list(await call(`${u1}/api/latestbuilds?nr=1000`)).length).toBeGreaterThan(0);
  });

  it('orders the queue running first, then priority, age and id, and filters', async () => {
    const { sim, clock, base } = await boot({ specs: [{ name: 'hello', systems: ['x86_64-linux', 'aarch64-linux'], jobs: 2 }, { name: 'guix', systems: ['x86_64-linux'], jobs: 1 }] });
    const e1 = sim.finishEvaluation(sim.evaluate('hello'), 0); // 1..4, priority 9
    clock.advance(1000);
    const e2 = sim.finishEvaluation(sim.evaluate('guix'), 0); // 5, priority 2
    sim.startBuild(4);
    const q = list(await call(`${base}/api/queue?nr=10`));
    expect(q.map((b) => b.id)).toEqual([4, 5, 1, 2, 3]);
    expect(list(await call(`${base}/api/queue?nr=2`)).map((b) => b.id)).toEqual([4, 5]);
    expect(list(await call(`${base}/api/queue?nr=10&system=aarch64-linux`)).map((b) => b.id)).toEqual([4, 2]);
    for (const id of [...e1, ...e2]) sim.finishBuild(id, id === 3 ? 1 : 0);
    const l = list(await call(`${base}/api/latestbuilds?nr=10`));
    expect(l.map((b) => b.id)).toEqual([5, 4, 3, 2, 1]);
    expect(list(await call(`${base}/api/latestbuilds?nr=10&jobset=hello&system=x86_64-linux`)).map((b) => b.id)).toEqual([3, 1]);
    expect(list(await call(`${base}/api/latestbuilds?nr=10&evaluation=2`)).map((b) => b.id)).toEqual([5]);
    expect(list(await call(`${base}/api/latestbuilds?nr=10&job=${l[0]?.job as string}`)).map((b) => b.id)).toEqual([5, 1]);
    expect(list(await call(`${base}/api/latestbuilds?nr=10&jobset=guix&job=${l[0]?.job as string}`)).map((b) => b.id)).toEqual([5]);
    expect(list(await call(`${base}/api/queue?nr=10`))).toEqual([]);
    expect(list(await call(`${base}/api/evaluations?nr=10&spec=guix`)).map((e) => e.id)).toEqual([2]);
    // no URL-decoding of parameters
    expect(list(await call(`${base}/api/latestbuilds?nr=10&jobset=%68ello`))).toEqual([]);
  });

  it('answers HTTP 500 for missing or too large nr, and 404s', async () => {
    const { base } = await boot();
    for (const p of ['/api/queue', '/api/latestbuilds', '/api/queue?nr=abc', '/api/latestbuilds?nr']) {
      const g = await call(base + p);
      expect([g.status, g.text]).toEqual([500, JSON.stringify(fixture('error-nr-missing-builds'))]);
    }
    for (const p of ['/api/queue?nr=1001', '/api/latestbuilds?nr=5000']) expect((await call(base + p)).body).toEqual(fixture('error-limit'));
    expect((await call(`${base}/api/queue?nr=1000`)).status).toBe(200);
    expect((await call(`${base}/api/evaluations?nr=100000`)).status).toBe(200);
    for (const p of ['/api/evaluations', '/api/evaluation']) {
      const g = await call(base + p);
      expect([g.status, g.body]).toEqual([500, fixture('error-nr-missing-evaluations')]);
    }
    const nb = await call(`${base}/build/fff`);
    expect([nb.status, nb.body]).toEqual([404, fixture('error-build-not-found')]);
    expect((await call(`${base}/build/99`)).body).toEqual({ error: "Build with ID 99 doesn't exist." });
    for (const p of ['/api/builds', '/api/specifications', '/nope?x=1', '/build/99/log/raw']) {
      const g = await call(base + p);
      expect([g.status, g.headers['content-type'], g.text]).toEqual([404, 'text/plain;charset=utf-8', `Resource not found: ${p}`]);
    }
    expect((await call(`${base}/specifications`, 'POST')).status).toBe(404);
    for (const p of ['/status', '/workers', '/metrics', '/']) {
      const g = await call(base + p);
      expect([g.status, g.headers['content-type']?.startsWith('application/xhtml+xml')]).toEqual([200, true]);
    }
  });

  it('serves build logs gzip-encoded', async () => {
    const { sim, base } = await boot();
    const [id] = sim.finishEvaluation(sim.evaluate('hello'), 0);
    expect((await call(`${base}/build/${String(id)}/log/raw`)).status).toBe(404);
    sim.startBuild(1);
    sim.finishBuild(1, 1);
    const g = await call(`${base}/build/1/log/raw`);
    expect([g.status, g.headers['content-encoding'], g.headers['content-type']]).toEqual([200, 'gzip', 'text/plain;charset=utf-8']);
    expect(g.raw.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(g.text).toContain('failed');
    expect((await call(`${base}/eval/1/log/raw`)).headers['content-encoding']).toBe('gzip');
  });

  it('starts ids from 1 again after resetDatabase', async () => {
    const { sim, base } = await boot();
    sim.finishEvaluation(sim.evaluate('hello'), 0);
    sim.finishEvaluation(sim.evaluate('hello'), 0);
    sim.resetDatabase();
    expect(list(await call(`${base}/api/evaluations?nr=10`))).toEqual([]);
    expect((await call(`${base}/build/1`)).status).toBe(404);
    expect(sim.evaluate('hello')).toBe(1);
    expect(sim.finishEvaluation(1, 0)).toEqual([1, 2, 3, 4]);
    expect(list(await call(`${base}/specifications`)).length).toBe(1);
  });

  it('plays every mode and records requests', async () => {
    const { sim, base } = await boot();
    sim.setMode('html');
    expect((await call(`${base}/api/queue?nr=1`)).headers['content-type']).toContain('text/html');
    sim.setMode('error500');
    expect((await call(`${base}/api/queue?nr=1`)).status).toBe(500);
    sim.setMode('malformed');
    const m = await call(`${base}/specifications`);
    expect([m.status, m.body]).toEqual([200, undefined]);
    sim.setMode('huge');
    const h = await call(`${base}/api/queue?nr=1`);
    expect(h.raw.length).toBeGreaterThan(16 * 1024 * 1024);
    expect(Array.isArray(JSON.parse(h.text))).toBe(true);
    sim.setMode('slow', 150);
    const t = Date.now();
    expect((await call(`${base}/api/queue?nr=1`)).status).toBe(200);
    expect(Date.now() - t).toBeGreaterThanOrEqual(140);
    sim.setMode('down');
    await expect(call(`${base}/api/queue?nr=1`)).rejects.toThrow();
    sim.setMode('ok');
    expect((await call(`${base}/api/queue?nr=1`)).status).toBe(200);
    expect(sim.requests.at(-1)).toEqual({ method: 'GET', path: '/api/queue?nr=1' });
  });
});
