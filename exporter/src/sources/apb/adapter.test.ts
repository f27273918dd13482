/**
 * The apb adapter against recorded APB payloads served by plain loopback HTTP servers: concurrent
 * servers, a hung server, a flapping one, bad payloads, the farm token, and whole-source failure
 * through the real runner and store.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Worker } from '../../model/worker.js';
import { Store } from '../../store/store.js';
import { ManualClock } from '../../util/clock.js';
import { UpstreamHttp } from '../http.js';
import { SourceRunner } from '../runner.js';
import type { Snapshot, SourceAdapter } from '../source.js';
import { parseApbConfig } from './config.js';
import { ApbAdapter } from './adapter.js';
import { apbFixture, type FakeAnswer, FakeApbEndpoint, gate } from './apb-test-helpers.js';

const ROOT = apbFixture('server-GET-root-while-building.json');
const HEALTH = apbFixture('server-GET-health.json');
const LATEST = apbFixture('server-GET-builds-latest-while-building.json');

function serverRoutes(): Record<string, { body: string }> {
  return { '/': { body: ROOT }, '/health': { body: HEALTH }, '/builds/latest': { body: LATEST } };
}

const endpoints: FakeApbEndpoint[] = [];
async function fake(routes: Record<string, FakeAnswer> = serverRoutes()): Promise<FakeApbEndpoint> {
  const e = new FakeApbEndpoint(routes);
  await e.up();
  endpoints.push(e);
  return e;
}
afterEach(async () => {
  await Promise.all(endpoints.splice(0).map((e) => e.down()));
});

function adapterFor(block: Record<string, unknown>, log = pino({ level: 'silent' })): SourceAdapter {
  const adapter = new ApbAdapter(parseApbConfig({ server_timeout: '2s', wait: '1s', ...block }), { name: 'ap', log, clock: new ManualClock(), http: new UpstreamHttp(), pollTimeoutSeconds: 10 });
  return { poll: (s) => adapter.poll(s), problems: () => adapter.problems(), endpoints: () => adapter.endpoints(), close: () => adapter.close() };
}

const poll = async (a: SourceAdapter) => (await a.poll(AbortSignal.timeout(8000))) as Snapshot;
const byId = (workers: Worker[] | undefined) => new Map((workers ?? []).map((w) => [w.id, w]));

describe('apb adapter', () => {
  it('polls every server: workers from GET / and /health, builds from /builds/latest and status-api', async () => {
    const a = await fake({ ...serverRoutes(), '/build/fail-0001/status-api': { body: apbFixture('server-GET-build-ok-0004-status-api-02-building.json').replaceAll('ok-0004', 'fail-0001') } });
    const b = await fake({ '/': { body: apbFixture('server-GET-root.json') }, '/health': { body: HEALTH }, '/builds/latest': { body: apbFixture('server-GET-builds-latest.json') } });
    const adapter = adapterFor({ servers: [{ url: a.url, name: 'x86-a', labels: { rack: 'r1' } }, { url: b.url }] });
    const snap = await poll(adapter);
    const workers = byId(snap.workers);
    expect([...workers.keys()].sort()).toEqual([b.url.replace('http://', ''), 'x86-a'].sort());
    expect(workers.get('x86-a')).toMatchObject({ up: true, busy: true, load: 1, queueLength: 2, capacity: 1, health: 'healthy', labels: { rack: 'r1' }, url: a.url });
    expect(workers.get(b.url.replace('http://', ''))).toMatchObject({ up: true, busy: false, load: 0 });
    expect(snap.tasks.map((t) => `${t.id}:${t.state}`).sort()).toEqual(['fail-0001:building', 'ok-0002:queued', 'tarball-0003:queued']);
    expect(a.requests.map((r) => r.path)).toEqual(expect.arrayContaining(['/', '/health', '/builds/latest?limit=100', '/build/fail-0001/status-api', '/build/ok-0002/status-api', '/build/tarball-0003/status-api']));
    expect(snap.newTaskIds).toBeUndefined();
    expect(adapter.endpoints?.().map((e) => [e.name, e.role, e.up])).toEqual([['x86-a', 'server', true], [b.url.replace('http://', ''), 'server', true]]);
  });

  it('does not let a hung server delay the others: its answer is used by a later poll', async () => {
    const fast = await fake();
    const hung = gate();
    const slow = await fake({ ...serverRoutes(), '/': { body: apbFixture('server-GET-root.json'), gate: hung.promise } });
    const adapter = adapterFor({ servers: [{ url: fast.url, name: 'fast' }, { url: slow.url, name: 'slow' }], wait: '200ms', server_timeout: '30s' });
    const first = await poll(adapter);
    // The slow server has not answered GET / yet: neither up nor down, so it is not listed.
    expect([...byId(first.workers).keys()]).toEqual(['fast']);
    expect(first.tasks.length).toBe(3);
    hung.open();
    await expect.poll(async () => byId((await poll(adapter)).workers).get('slow')?.up, { timeout: 5000 }).toBe(true);
  });

  it('waits for a hung server once, then no more: later polls publish as soon as the others answer', async () => {
    const fast = await fake();
    const slow = await fake();
    const adapter = adapterFor({ servers: [{ url: fast.url, name: 'fast' }, { url: slow.url, name: 'slow' }], wait: '3s', server_timeout: '60s' });
    await poll(adapter);
    const hung = gate();
    slow.routes.set('/', { body: ROOT, gate: hung.promise });
    const timed = async () => {
      const t0 = performance.now();
      await poll(adapter);
      return performance.now() - t0;
    };
    // Its refresh starts in this poll: the poll waits for it, up to `wait`.
    expect(await timed()).toBeGreaterThanOrEqual(2900);
    // Still busy with that refresh: not waited for. 2 s of margin over a poll of a few ms.
    expect(await timed()).toBeLessThan(2000);
    hung.open();
  });

  it('marks a server whose GET / outlives server_timeout down with a timeout error', async () => {
    const fast = await fake();
    const never = gate();
    const stuck = await fake({ ...serverRoutes(), '/': { body: ROOT, gate: never.promise } });
    const adapter = adapterFor({ servers: [{ url: fast.url, name: 'fast' }, { url: stuck.url, name: 'stuck' }], wait: '100ms', server_timeout: '1s' });
    await expect.poll(async () => (await poll(adapter)).workers?.find((w) => w.id === 'stuck')?.up, { timeout: 5000 }).toBe(false);
    const stuckWorker = (await poll(adapter)).workers?.find((w) => w.id === 'stuck');
    expect(stuckWorker?.lastError?.message).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/ did not answer in time \(deadline of 1s passed\)/);
    expect(adapter.endpoints?.().find((e) => e.name === 'fast')).toMatchObject({ up: true });
    never.open();
  });

  it('marks a server that stops answering down with its error, keeps its builds, and brings it back', async () => {
    const steady = await fake();
    const flappy = await fake({ '/': { body: apbFixture('server-GET-root.json') }, '/health': { body: HEALTH }, '/builds/latest': { body: apbFixture('server-GET-builds-latest-after-builds.json').replaceAll('"build_id":"', '"build_id":"f-') } });
    const adapter = adapterFor({ servers: [{ url: steady.url, name: 'steady' }, { url: flappy.url, name: 'flappy' }], detail_budget: 0 });
    const before = await poll(adapter);
    expect(before.tasks.length).toBe(8);
    await flappy.down();
    const during = await poll(adapter);
    const down = byId(during.workers).get('flappy');
    expect(down).toMatchObject({ up: false, archs: ['x86_64'], capacity: 1 });
    expect(down?.lastError?.message).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/.* failed/);
    expect(down?.load).toBeUndefined();
    expect(byId(during.workers).get('steady')?.up).toBe(true);
    expect(during.tasks.length).toBe(8);
    expect(adapter.endpoints?.().find((e) => e.name === 'flappy')).toMatchObject({ up: false, consecutiveFailures: 1 });
    await flappy.up();
    const after = await poll(adapter);
    expect(byId(after.workers).get('flappy')).toMatchObject({ up: true });
    expect(byId(after.workers).get('flappy')?.lastError).toBeUndefined();
  });

  it.each([
    ['an HTML page', { body: '<html><body>502 Bad Gateway</body></html>', contentType: 'text/html' }, /not valid JSON \(text\/html/],
    ['truncated JSON', { body: ROOT.slice(0, 200) }, /not valid JSON/],
    ['another service', { body: '{"hello":"world"}' }, /does not look like an apb-server GET \/ answer \(\/status: required key is missing\)/],
    ['HTTP 500', { status: 500, body: '{"error":"Internal server error","detail":"boom","type":"RuntimeError"}' }, /answered HTTP 500/],
  ])('reports a server answering %s as down with a clear error; the other server is unaffected', async (_what, answer, message) => {
    const good = await fake();
    const bad = await fake({ ...serverRoutes(), '/': answer });
    const snap = await poll(adapterFor({ servers: [{ url: good.url, name: 'good' }, { url: bad.url, name: 'bad', arch: 'riscv64' }] }));
    const workers = byId(snap.workers);
    expect(workers.get('good')?.up).toBe(true);
    expect(workers.get('bad')).toMatchObject({ up: false, archs: ['riscv64'] });
    expect(workers.get('bad')?.lastError?.message).toMatch(message);
  });

  it('leaves out a malformed build entry, keeps the rest, and reports it as a record problem', async () => {
    const listing = JSON.parse(LATEST) as { builds: Record<string, unknown>[] };
    (listing.builds[1] as Record<string, unknown>).status = 42;
    const e = await fake({ ...serverRoutes(), '/builds/latest': { body: JSON.stringify(listing) } });
    const adapter = adapterFor({ servers: [{ url: e.url, name: 's' }], detail_budget: 0 });
    const snap = await poll(adapter);
    expect(snap.tasks.map((t) => t.id).sort()).toEqual(['fail-0001', 'tarball-0003']);
    const problems = adapter.problems?.();
    expect(problems?.current).toEqual({ bad_value: 1 });
    expect(problems?.total).toEqual({ bad_value: 1 });
    expect(problems?.examples[0]).toMatchObject({ id: 'ok-0002', reason: 'bad_value' });
    expect(problems?.examples[0]?.message).toContain('/status');
    await poll(adapter);
    expect(adapter.problems?.().total).toEqual({ bad_value: 1 });
  });

  it("treats a failed status-api read as a problem with that build, not with the server", async () => {
    const e = await fake({ ...serverRoutes(), '/build/fail-0001/status-api': { status: 503, body: '{"detail":"Server unavailable"}' } });
    const adapter = adapterFor({ servers: [{ url: e.url, name: 's' }] });
    const snap = await poll(adapter);
    expect(snap.workers?.[0]).toMatchObject({ up: true });
    expect(snap.workers?.[0]?.lastError).toBeUndefined();
    expect(snap.tasks.find((t) => t.id === 'fail-0001')?.state).toBe('building');
    expect(adapter.endpoints?.()[0]).toMatchObject({ up: true, reachable: true });
    const problems = adapter.problems?.();
    expect(problems?.current).toEqual({ detail_unavailable: 1 });
    expect(problems?.examples[0]).toMatchObject({ id: 'fail-0001', reason: 'detail_unavailable' });
    expect(problems?.examples[0]?.message).toMatch(/^s: GET .*\/build\/fail-0001\/status-api answered HTTP 503/);
  });

  it('says which builds are new since the previous listing, so short builds are counted', async () => {
    const e = await fake();
    const adapter = adapterFor({ servers: [{ url: e.url, name: 's' }], detail_budget: 0 });
    expect((await poll(adapter)).newTaskIds).toBeUndefined();
    e.routes.set('/builds/latest', { body: apbFixture('server-GET-builds-latest-after-builds.json') });
    const snap = await poll(adapter);
    expect([...(snap.newTaskIds ?? [])].sort()).toEqual(['cancel-0005', 'ok-0004']);
    expect(snap.tasks.find((t) => t.id === 'ok-0004')).toMatchObject({ phase: 'success', started: '2026-11-24T06:00:40Z', finished: '2026-11-24T06:00:44Z' });
  });

  it('reads the farm as a guest: its servers not polled directly become workers, its builds tasks', async () => {
    const server = await fake();
    const farm = await fake({ '/farm': { body: apbFixture('farm-GET-farm.json') }, '/builds/latest': { body: apbFixture('farm-GET-builds-latest-after-builds.json') } });
    const onlyFarm = await poll(adapterFor({ farm: { url: farm.url, time_zone: 'Europe/Berlin' }, detail_budget: 0 }));
    expect(onlyFarm.workers?.map((w) => [w.id, w.up, w.lastSeen])).toEqual([['127---1', true, '2026-11-24T06:01:49Z']]);
    expect(onlyFarm.tasks).toHaveLength(7);
    expect(onlyFarm.tasks.find((t) => t.id === 'a3d5fb60-5d9a-41fa-85f7-01ee286fd1fb')).toMatchObject({ owner: 'admin', created: '2026-11-24T05:02:20Z', attrs: { worker: '127---1' } });
    // The configured server on 127.0.0.1 is the farm's 127---1 (same guest name, same arch): listed once, polled directly.
    const both = await poll(adapterFor({ servers: [{ url: server.url, name: 'x86-a' }], farm: { url: farm.url }, detail_budget: 0 }));
    expect(both.workers?.map((w) => w.id)).toEqual(['x86-a']);
    expect(both.tasks.find((t) => t.id === 'fail-0001')).toMatchObject({ state: 'building', attrs: { worker: 'x86-a' } });
    expect(both.tasks.find((t) => t.id === 'a3d5fb60-5d9a-41fa-85f7-01ee286fd1fb')?.attrs?.worker).toBe('x86-a');
  });

  it("keeps a farm build finished while the farm's list still says building and a later read hangs", async () => {
    const listing = JSON.stringify({ builds: [{ id: 'f1', server_url: '127---1', server_arch: 'riscv64', pkgname: 'p', display_name: 'p (1-1)', status: 'building', start_time: '2026-11-24 06:00:00 UTC', end_time: null, created_at: '2026-11-24 05:59:00 UTC', username: 'admin' }] });
    const done = apbFixture('farm-GET-build-fail-status-api-03-failed.json').replaceAll('a3d5fb60-5d9a-41fa-85f7-01ee286fd1fb', 'f1');
    const farm = await fake({ '/farm': { body: apbFixture('farm-GET-farm.json') }, '/builds/latest': { body: listing }, '/build/f1/status-api': { body: done } });
    const adapter = adapterFor({ farm: { url: farm.url }, wait: '200ms', server_timeout: '30s' });
    expect((await poll(adapter)).tasks[0]).toMatchObject({ id: 'f1', state: 'failed', phase: 'failed' });
    const hang = gate();
    farm.routes.set('/build/f1/status-api', { body: done, gate: hang.promise });
    for (let i = 0; i < 3; i += 1) expect((await poll(adapter)).tasks[0]?.state).toBe('failed');
    hang.open();
  });

  it('sends the farm token and never writes it to a log, an error or the health', async () => {
    const token = 'tok-5f1e2d3c4b5a69788796a5b4c3d2e1f0';
    const farm = await fake({ '/farm': { status: 401, body: '{"detail":"Invalid or expired token"}' }, '/builds/latest': { status: 401, body: '{"detail":"Invalid or expired token"}' } });
    let logged = '';
    const log = pino({ level: 'debug' }, new Writable({ write: (chunk: Buffer, _enc, done) => ((logged += chunk.toString()), done()) }));
    const store = new Store();
    const adapter = adapterFor({ farm: { url: farm.url, token } }, log);
    const runner = new SourceRunner({ name: 'ap', kind: 'apb', intervalSeconds: 30, timeoutSeconds: 10, adapter, store, log, clock: new ManualClock() });
    await runner.pollOnce();
    expect(farm.requests[0]?.authorization).toBe(`Bearer ${token}`);
    const health = runner.health;
    expect(health.up).toBe(false);
    expect(health.lastError?.message).toMatch(/HTTP 401: the farm token was refused; log in again/);
    expect(health.endpoints?.[0]).toMatchObject({ name: 'farm', role: 'farm', up: false });
    expect(logged).toContain('poll failed');
    for (const text of [logged, JSON.stringify(health), JSON.stringify(store.listWorkers())]) expect(text).not.toContain(token);
    await runner.stop();
  });

  it('matches servers by real URL when the farm token is an admin one', async () => {
    const server = await fake();
    const farmJson = JSON.parse(apbFixture('farm-GET-farm.json')) as { servers: { url: string }[]; user_role: string; authenticated: boolean };
    farmJson.servers.push({ ...(farmJson.servers[0] as { url: string }), url: 'http://ppc64le-7.example:8000' });
    (farmJson.servers[0] as { url: string }).url = server.url;
    farmJson.user_role = 'admin';
    farmJson.authenticated = true;
    const farm = await fake({ '/farm': { body: JSON.stringify(farmJson) }, '/builds/latest': { body: '{"builds":[]}' } });
    const snap = await poll(adapterFor({ servers: [{ url: server.url, name: 'x86-a' }], farm: { url: farm.url, token: 't' } }));
    expect(snap.workers?.map((w) => w.id)).toEqual(['x86-a', 'ppc64le-7.example:8000']);
    expect(snap.workers?.[1]).toMatchObject({ up: true, url: 'http://ppc64le-7.example:8000' });
  });

  it('fails the poll only when no endpoint answers, and still applies every worker as down', async () => {
    const a = await fake();
    const store = new Store();
    const adapter = adapterFor({ servers: [{ url: a.url, name: 'a' }] });
    const runner = new SourceRunner({ name: 'ap', kind: 'apb', intervalSeconds: 30, timeoutSeconds: 10, adapter, store, log: pino({ level: 'silent' }), clock: new ManualClock() });
    await runner.pollOnce();
    expect(store.listWorkers('ap').map((w) => w.up)).toEqual([true]);
    expect(store.sourceTaskCount('ap')).toBe(3);
    await a.down();
    await runner.pollOnce();
    expect(runner.health.up).toBe(false);
    expect(runner.health.lastError?.message).toMatch(/^no APB endpoint answered \(a: GET http/);
    expect(store.listWorkers('ap').map((w) => w.up)).toEqual([false]);
    expect(store.sourceTaskCount('ap')).toBe(3);
    await runner.stop();
  });
});
