import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../util/clock.js';
import { waitUntil } from '../../util/wait-until.js';
import { ApbSimulator, type ApbSimulatorOptions } from './simulator.js';

type Json = Record<string, unknown>;
const fixture = (name: string): Json => JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8')) as Json;

/** Same keys in the same order, same JSON types, all the way down (array items against the fixture's first). */
function expectShape(actual: unknown, expected: unknown, path = '$'): void {
  const kind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  expect(kind(actual), `${path} type`).toBe(kind(expected));
  if (Array.isArray(actual) && Array.isArray(expected)) {
    if (expected.length > 0) actual.forEach((item, i) => expectShape(item, expected[0], `${path}[${i}]`));
  } else if (kind(actual) === 'object') {
    const [a, e] = [actual as Json, expected as Json];
    expect(Object.keys(a), `${path} keys`).toEqual(Object.keys(e));
    for (const k of Object.keys(e)) expectShape(a[k], e[k], `${path}.${k}`);
  }
}

interface Got {
  status: number;
  type: string;
  text: string;
  body: Json;
}

async function get(url: string, headers: Record<string, string> = {}): Promise<Got> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  let body: Json = {};
  try {
    body = JSON.parse(text) as Json;
  } catch {
    /* not JSON: the test looks at text */
  }
  return { status: res.status, type: res.headers.get('content-type') ?? '', text, body };
}

const T0 = Date.parse('2026-11-24T06:00:08.142Z');
let sims: ApbSimulator[] = [];
afterEach(async () => {
  await Promise.all(sims.map((s) => s.close()));
  sims = [];
});

async function start(options: Partial<ApbSimulatorOptions> = {}, clock = new ManualClock(T0)) {
  const sim = new ApbSimulator({ clock, servers: [{ name: 'x1', arch: 'x86_64', maxConcurrent: 1, cores: 2 }], traffic: false, ...options });
  sims.push(sim);
  const urls = await sim.listen();
  const server = (name = 'x1'): string => urls.servers.find((s) => s.name === name)?.url ?? '';
  return { sim, clock, urls, server, farm: urls.farmUrl ?? '' };
}

const ids = (body: Json): string[] => (body.builds as Json[]).map((b) => String(b.build_id ?? b.id));

describe('ApbSimulator: a server', () => {
  it('answers GET /, /health, /builds/latest and status-api in the recorded shapes through a build life cycle', async () => {
    const { sim, clock, server } = await start({ farm: false });
    const root = await get(`${server()}/`);
    expect(root.type).toBe('application/json');
    expectShape(root.body, fixture('server-GET-root'));
    expect(root.body).toMatchObject({ status: 'running', version: '2026-06-30', supported_architecture: 'x86_64', system_info: { architecture: 'x86_64', cpu: { cores: 2 } } });
    expectShape((await get(`${server()}/health`)).body, fixture('server-GET-health'));
    expect((await get(`${server()}/builds/latest`)).body).toEqual(fixture('server-GET-builds-latest'));

    for (const id of ['fail-0001', 'ok-0002', 'tarball-0003']) {
      sim.submit('x1', id === 'ok-0002' ? 'apb-probe-ok' : 'apb-probe-hello', { buildId: id, version: '2.1-3' });
      clock.advance(100);
    }
    sim.startBuild('fail-0001');
    const busy = await get(`${server()}/`);
    expectShape(busy.body, fixture('server-GET-root-while-building'));
    expect(busy.body.queue_status).toMatchObject({ current_builds_count: 1, queued_builds: 2, max_concurrent_builds: 1, current_build: { build_id: 'fail-0001', start_time: clock.now() / 1000 } });
    const health = await get(`${server()}/health`);
    expectShape(health.body, fixture('server-GET-health-while-building'));
    expect(health.body.status).toBe('degraded');
    const listing = await get(`${server()}/builds/latest`);
    expectShape(listing.body, fixture('server-GET-builds-latest-while-building'));
    expect(ids(listing.body)).toEqual(['tarball-0003', 'ok-0002', 'fail-0001']);
    // A queued build's start_time is its creation time.
    expect((listing.body.builds as Json[])[0]).toMatchObject({ status: 'queued', start_time: '2026-11-24T06:00:08.342000+00:00', end_time: null, duration: 0 });
    expectShape((await get(`${server()}/build/fail-0001/status-api`)).body, fixture('server-GET-build-ok-0004-status-api-02-building'));

    clock.advance(4083);
    sim.finishBuild('fail-0001', 'failed');
    sim.startBuild('ok-0002');
    clock.advance(4142);
    sim.finishBuild('ok-0002', 'completed');
    const ok = await get(`${server()}/build/ok-0002/status-api`);
    expectShape(ok.body, fixture('server-GET-build-ok-0004-status-api-03-completed'));
    expect(ok.body).toMatchObject({ status: 'completed', exit_code: 0, duration: expect.closeTo(4.142, 6) });
    expect((ok.body.packages as Json[])[0]).toEqual({ filename: 'apb-probe-ok-2.1-3-x86_64.pkg.tar.zst', size: expect.any(Number), download_url: '/build/ok-0002/download/apb-probe-ok-2.1-3-x86_64.pkg.tar.zst' });
    const failed = (await get(`${server()}/build/fail-0001/status-api`)).body;
    expect(failed).toMatchObject({ status: 'failed', exit_code: 1, packages: [], logs: [{ filename: 'build.log', download_url: '/build/fail-0001/download/build.log' }] });

    // Finished builds sit in both the active dict and the history: listed twice, counted twice.
    const partly = await get(`${server()}/builds/latest`);
    expect(ids(partly.body)).toEqual(['tarball-0003', 'ok-0002', 'ok-0002', 'fail-0001', 'fail-0001']);
    expect(partly.body.total).toBe(5);
    clock.advance(5000);
    sim.finishBuild('tarball-0003', 'failed');
    const after = await get(`${server()}/builds/latest`);
    expectShape(after.body, fixture('server-GET-builds-latest-after-builds'));
    expect(ids(after.body)).toEqual(['tarball-0003', 'tarball-0003', 'ok-0002', 'ok-0002', 'fail-0001', 'fail-0001']);
    expect(after.body.total).toBe(6);
    expect((after.body.builds as Json[])[2]).toEqual({ build_id: 'ok-0002', pkgname: 'apb-probe-ok', status: 'completed', start_time: '2026-11-24T06:00:12.525000+00:00', end_time: '2026-11-24T06:00:16.667000+00:00', duration: expect.closeTo(4.142, 6) });
    expectShape((await get(`${server()}/`)).body, fixture('server-GET-root-after-builds'));
  });

  it('filters by status, slices like Python, has no upper limit and rejects a non-integer limit', async () => {
    const { sim, clock, server } = await start({ farm: false });
    for (let i = 1; i <= 4; i++) {
      sim.submit('x1', `p${i}`, { buildId: `b${i}` });
      clock.advance(1000);
    }
    sim.finishBuild('b1', 'completed');
    expect(ids((await get(`${server()}/builds/latest?status=completed`)).body)).toEqual(['b1', 'b1']);
    expect(ids((await get(`${server()}/builds/latest?status=`)).body)).toHaveLength(5);
    expect(ids((await get(`${server()}/builds/latest?limit=2`)).body)).toEqual(['b4', 'b3']);
    expect((await get(`${server()}/builds/latest?limit=-1`)).body).toMatchObject({ total: 5 });
    expect(ids((await get(`${server()}/builds/latest?limit=-1`)).body)).toEqual(['b4', 'b3', 'b2', 'b1']);
    expect(ids((await get(`${server()}/builds/latest?limit=5000`)).body)).toHaveLength(5);
    const bad = await get(`${server()}/builds/latest?limit=ten`);
    expect(bad.status).toBe(422);
    expect(bad.body).toEqual({ detail: [{ type: 'int_parsing', loc: ['query', 'limit'], msg: 'Input should be a valid integer, unable to parse string as an integer', input: 'ten' }] });
  });

  it('writes microseconds only when there are some, as isoformat() does', async () => {
    const { sim, clock, server } = await start({ farm: false }, new ManualClock(Date.parse('2026-11-24T06:00:40Z')));
    sim.submit('x1', 'a', { buildId: 'a' });
    clock.advance(384);
    sim.submit('x1', 'b', { buildId: 'b' });
    const starts = (((await get(`${server()}/builds/latest`)).body.builds as Json[]).map((b) => b.start_time));
    expect(starts).toEqual(['2026-11-24T06:00:40.384000+00:00', '2026-11-24T06:00:40+00:00']);
  });

  it('reproduces the cancel quirk: listed twice, not stopped, later progress overwrites the status', async () => {
    const { sim, clock, server } = await start({ farm: false });
    sim.submit('x1', 'apb-probe-hello', { buildId: 'cancel-0005' });
    clock.advance(100);
    sim.submit('x1', 'apb-probe-ok', { buildId: 'run-0006' });
    sim.startBuild('run-0006');
    clock.advance(2000);
    sim.cancelBuild('cancel-0005');
    sim.cancelBuild('run-0006');
    const listing = (await get(`${server()}/builds/latest`)).body;
    expect((listing.builds as Json[]).map((b) => `${b.build_id}:${b.status}`)).toEqual(['run-0006:cancelled', 'run-0006:cancelled', 'cancel-0005:cancelled', 'cancel-0005:cancelled']);
    const queued = (await get(`${server()}/build/cancel-0005/status-api`)).body;
    expect(Object.keys(queued).slice(-1)).toEqual(['end_time']);
    expect((await get(`${server()}/build/run-0006/status-api`)).body).toMatchObject({ status: 'cancelled', duration: 2 });

    clock.advance(1000);
    sim.startBuild('cancel-0005');
    const resumed = (await get(`${server()}/build/cancel-0005/status-api`)).body;
    expect(resumed.status).toBe('building');
    expect(Object.keys(resumed).slice(-2)).toEqual(['end_time', 'start_time']);
    const mixed = (await get(`${server()}/builds/latest?limit=2`)).body.builds as Json[];
    expect(mixed.map((b) => b.status).sort()).toEqual(['cancelled', 'cancelled']);
    const all = (await get(`${server()}/builds/latest`)).body.builds as Json[];
    expect(all.filter((b) => b.build_id === 'cancel-0005').map((b) => b.status)).toEqual(['cancelled', 'building']);
    sim.finishBuild('run-0006', 'completed');
    expect((await get(`${server()}/builds/latest?status=completed`)).body.total).toBe(2);
  });

  it('forgets everything on a restart', async () => {
    const { sim, server } = await start({ farm: false });
    sim.submit('x1', 'apb-probe-ok', { buildId: 'ok-0004' });
    sim.finishBuild('ok-0004', 'completed');
    const pid = ((await get(`${server()}/`)).body.system_info as { process_info: { pid: number } }).process_info.pid;
    sim.restartServer('x1');
    const missing = await get(`${server()}/build/ok-0004/status-api`);
    expect([missing.status, missing.body]).toEqual([404, { detail: 'Build not found' }]);
    expect((await get(`${server()}/builds/latest`)).body).toEqual({ builds: [], total: 0 });
    const root = (await get(`${server()}/`)).body as { system_info: { process_info: { pid: number } }; queue_status: Json };
    expect(root.queue_status).toMatchObject({ total_active_builds: 0, build_history_count: 0 });
    expect(root.system_info.process_info.pid).not.toBe(pid);
  });

  it('serves build pages, downloads and FastAPI 404s', async () => {
    const { sim, server } = await start({ farm: false });
    sim.submit('x1', 'apb-probe-ok', { buildId: 'ok-1', version: '1.0-1' });
    sim.finishBuild('ok-1', 'completed');
    const html = await get(`${server()}/build/ok-1`);
    expect(html.type).toContain('text/html');
    const details = await get(`${server()}/build/ok-1`, { accept: 'application/json' });
    expect(Object.keys(details.body)).toEqual(['build_id', 'pkgname', 'status', 'start_time', 'end_time', 'duration', 'exit_code', 'packages', 'logs', 'sources']);
    const log = ((await get(`${server()}/build/ok-1/status-api`)).body.logs as Json[])[0] as { size: number };
    const res = await fetch(`${server()}/build/ok-1/download/build.log`);
    expect([res.status, res.headers.get('content-type'), (await res.arrayBuffer()).byteLength]).toEqual([200, 'application/octet-stream', log.size]);
    expect((await get(`${server()}/build/ok-1/download/nope.tar`)).body).toEqual({ detail: 'File not found' });
    const unknown = await get(`${server()}/no/such/path`);
    expect([unknown.status, unknown.body]).toEqual([404, { detail: 'Not Found' }]);
  });

  it('honours rootDelayMs on GET / only', async () => {
    const { server } = await start({ farm: false, rootDelayMs: 150 });
    let t = performance.now();
    await get(`${server()}/`);
    expect(performance.now() - t).toBeGreaterThanOrEqual(140);
    t = performance.now();
    await get(`${server()}/health`);
    expect(performance.now() - t).toBeLessThan(140);
  });
});

describe('ApbSimulator: the farm', () => {
  it('answers /farm and /health in the recorded shapes; guests see obfuscated URLs, the admin token real ones', async () => {
    const { sim, farm, server } = await start({ farm: { token: 's3cret' } });
    expect((await get(`${farm}/health`)).body).toEqual(fixture('farm-GET-health'));
    const guest = await get(`${farm}/farm`);
    expectShape(guest.body, fixture('farm-GET-farm'));
    expect(guest.body).toMatchObject({ available_architectures: ['x86_64'], total_servers: 1, authenticated: false, user_role: 'guest', servers: [{ url: '127---1', arch: 'x86_64', status: 'online' }] });
    const admin = await get(`${farm}/farm`, { authorization: 'Bearer s3cret' });
    expect(admin.body).toMatchObject({ authenticated: true, user_role: 'admin', servers: [{ url: server() }] });
    // An invalid token is not rejected on optional-auth routes: the caller is a guest.
    const wrong = await get(`${farm}/farm`, { authorization: 'Bearer nope' });
    expect([wrong.status, wrong.body.user_role]).toEqual([200, 'guest']);
    expect(sim.requests.filter((r) => r.target === 'farm' && r.path === '/farm').map((r) => r.authorization)).toEqual([undefined, 'Bearer s3cret', 'Bearer nope']);
    sim.submit('x1', 'apb-probe-hello', { buildId: 'b1' });
    sim.startBuild('b1');
    expect(sim.requests.some((r) => r.target === 'x1')).toBe(false);
  });

  it('caches a server\'s GET / for 90 s after a success and 45 s after a failure', async () => {
    const { sim, clock, farm } = await start();
    const view = async () => ((await get(`${farm}/farm`)).body.servers as Json[])[0] as { status: string; info: { _cached_at: number; queue_status: { current_builds_count: number } } | null };
    const t0 = clock.now() / 1000;
    expect((await view()).info?._cached_at).toBe(t0);
    sim.submit('x1', 'apb-probe-hello', { buildId: 'b1' });
    sim.startBuild('b1');
    clock.advance(89_000);
    expect((await view()).info).toMatchObject({ _cached_at: t0, queue_status: { current_builds_count: 0 } });
    clock.advance(1000);
    expect((await view()).info).toMatchObject({ _cached_at: t0 + 90, queue_status: { current_builds_count: 1 } });

    sim.setServerMode('x1', 'down');
    clock.advance(90_000);
    const down = await get(`${farm}/farm`);
    expectShape(down.body, fixture('farm-GET-farm-server-down-t40s'));
    expect(down.body.servers).toEqual([{ url: '127---1', arch: 'x86_64', status: 'offline', info: null }]);
    sim.setServerMode('x1', 'ok');
    clock.advance(44_000);
    expect((await view()).status).toBe('offline');
    clock.advance(1000);
    expect((await view()).status).toBe('online');
  });

  it('lists its own builds with versions and users, discovers direct ones later with null times, in local time', async () => {
    const clock = new ManualClock(Date.parse('2026-11-24T06:01:50Z'));
    const { sim, farm } = await start({ farm: { timeZone: 'Europe/Berlin' } }, clock);
    for (const id of ['fail-0001', 'ok-0002']) {
      sim.submit('x1', 'apb-probe-hello', { buildId: id });
      sim.finishBuild(id, id.startsWith('ok') ? 'completed' : 'failed');
      clock.advance(1);
    }
    expect((await get(`${farm}/builds/latest`)).body).toEqual({ builds: [] });
    sim.step();
    const discovered = (await get(`${farm}/builds/latest`)).body.builds as Json[];
    expect(discovered.map((b) => b.id)).toEqual(['fail-0001', 'ok-0002']);
    expect(discovered[1]).toEqual({ id: 'ok-0002', server_url: '127---1', server_arch: 'x86_64', pkgname: 'apb-probe-hello', display_name: 'apb-probe-hello', status: 'completed', start_time: null, end_time: null, created_at: '2026-11-24 07:01:50 UTC', username: '#anon#' });

    clock.advance(30_000);
    const id = sim.submit('x1', 'apb-probe-farm', { viaFarm: true, version: '1:3.0-1' });
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const queued = (await get(`${farm}/build/${id}/status-api`)).body;
    expect(queued).toEqual({ build_id: id, pkgname: 'apb-probe-farm', status: 'queued', server_arch: 'x86_64', created_at: clock.now() / 1000, packages: [], logs: [], queue_state: 'farm', queue_position: 1, jobs_ahead: 0, farm_queue_size: 1 });
    expect(((await get(`${farm}/builds/latest?limit=1`)).body.builds as Json[])[0]).toMatchObject({ server_url: 'unknown', status: 'queued', start_time: null });

    clock.advance(4000);
    sim.step();
    // The farm calls it building as soon as the server took it; the server has it queued.
    expect(((await get(`${farm}/builds/latest?limit=1`)).body.builds as Json[])[0]).toMatchObject({ status: 'building', start_time: '2026-11-24 07:02:24 UTC', server_url: '127---1' });
    expect((await get(`${farm}/build/${id}/status-api`)).body.status).toBe('queued');
    sim.startBuild(id);
    clock.advance(4000);
    sim.finishBuild(id, 'failed');
    clock.advance(10_000);
    sim.step();
    const after = (await get(`${farm}/builds/latest`)).body;
    const recorded = fixture('farm-GET-builds-latest-after-builds');
    expect(Object.keys(after)).toEqual(Object.keys(recorded));
    // Farm builds against the recorded farm build, discovered ones against a recorded discovered one.
    expectShape((after.builds as Json[])[0], (recorded.builds as Json[])[0]);
    expectShape((after.builds as Json[])[2], (recorded.builds as Json[])[2]);
    expect((after.builds as Json[])[0]).toEqual({ id, server_url: '127---1', server_arch: 'x86_64', pkgname: 'apb-probe-farm', display_name: 'apb-probe-farm (1:3.0-1)', status: 'failed', start_time: '2026-11-24 07:02:24 UTC', end_time: '2026-11-24 07:02:28 UTC', created_at: '2026-11-24 07:02:20 UTC', username: 'admin' });
    const status = (await get(`${farm}/build/${id}/status-api`)).body;
    expectShape(status, fixture('farm-GET-build-fail-status-api-03-failed'));
    expect(status).toMatchObject({ status: 'failed', server_url: '127---1', server_arch: 'x86_64', artifacts_ready: true });
    expect((await get(`${farm}/build/nope/status-api`)).status).toBe(404);
    expect((await get(`${farm}/build/${id}/download/build.log`)).status).toBe(200);
  });

  it('labels summer times UTC too, at the zone\'s summer offset', async () => {
    const { sim, farm } = await start({ farm: { timeZone: 'Europe/Berlin' } }, new ManualClock(Date.parse('2026-07-01T12:00:00Z')));
    sim.submit('x1', 'p', { viaFarm: true, version: '1-1' });
    expect(((await get(`${farm}/builds/latest`)).body.builds as Json[])[0]?.created_at).toBe('2026-07-01 14:00:00 UTC');
  });

  it('keeps builds on the farm queue while the server is full, with their positions', async () => {
    const { sim, clock, farm, server } = await start();
    sim.submit('x1', 'big', { buildId: 'big' });
    sim.step();
    const a = sim.submit('x1', 'a', { viaFarm: true });
    const b = sim.submit('x1', 'b', { viaFarm: true });
    sim.step();
    expect((await get(`${farm}/build/${b}/status-api`)).body).toMatchObject({ queue_state: 'farm', queue_position: 2, jobs_ahead: 1, farm_queue_size: 2 });
    sim.finishBuild('big', 'completed');
    clock.advance(91_000);
    sim.step();
    expect((await get(`${farm}/build/${a}/status-api`)).body).toMatchObject({ status: 'queued', server_url: '127---1' });
    expect((await get(`${farm}/build/${b}/status-api`)).body).toMatchObject({ queue_position: 1, farm_queue_size: 1 });
    expect(ids((await get(`${server()}/builds/latest`)).body)).toContain(a);
  });

  it('drops a cancelled build from its queue, and fails a build its restarted server forgot after 15 minutes', async () => {
    const { sim, clock, farm } = await start();
    const gone = sim.submit('x1', 'gone', { viaFarm: true });
    sim.cancelBuild(gone);
    const cancelled = await get(`${farm}/build/${gone}/status-api`);
    expect([cancelled.status, (cancelled.body.detail as Json).error]).toEqual([404, 'Build submission failed']);

    const id = sim.submit('x1', 'lost', { viaFarm: true });
    sim.step();
    clock.advance(10_000);
    sim.step();
    sim.restartServer('x1');
    const stale = (await get(`${farm}/build/${id}/status-api`)).body;
    expect(stale).toMatchObject({ status: 'building', server_unavailable: true, error_message: 'Server unavailable: 404: Build not found' });
    for (const [dt, status] of [[10_000, 'building'], [900_000, 'building'], [10_000, 'failed']] as const) {
      clock.advance(dt);
      sim.step();
      expect(((await get(`${farm}/builds/latest`)).body.builds as Json[]).find((b) => b.id === id)?.status).toBe(status);
    }
  });

  it('validates limit (1..100) with FastAPI 422 bodies and filters by status', async () => {
    const { sim, farm } = await start();
    sim.submit('x1', 'p', { viaFarm: true });
    const zero = await get(`${farm}/builds/latest?limit=0`);
    expect([zero.status, zero.body]).toEqual([422, { detail: [{ type: 'greater_than_equal', loc: ['query', 'limit'], msg: 'Input should be greater than or equal to 1', input: '0', ctx: { ge: 1 } }] }]);
    expect((await get(`${farm}/builds/latest?limit=101`)).body).toEqual({ detail: [{ type: 'less_than_equal', loc: ['query', 'limit'], msg: 'Input should be less than or equal to 100', input: '101', ctx: { le: 100 } }] });
    expect((await get(`${farm}/builds/latest?limit=x`)).status).toBe(422);
    expect((await get(`${farm}/builds/latest?limit=100`)).body.builds).toHaveLength(1);
    expect((await get(`${farm}/builds/latest?status=completed`)).body.builds).toHaveLength(0);
    expect(Object.keys((await get(`${farm}/builds/latest`)).body)).toEqual(['builds']);
  });
});

describe('ApbSimulator: faults', () => {
  it('goes down and comes back on the same port; html, malformed, error500 and slow answers', async () => {
    const { sim, server, farm, clock } = await start();
    const url = server();
    expect(((await get(`${farm}/farm`)).body.servers as Json[])[0]?.status).toBe('online');
    sim.setServerMode('x1', 'down');
    await expect(fetch(`${url}/`)).rejects.toThrow();
    sim.setServerMode('x1', 'ok');
    expect((await get(`${url}/health`)).status).toBe(200);

    sim.setServerMode('x1', 'html');
    const html = await get(`${url}/`);
    expect([html.status, html.type]).toEqual([200, 'text/html; charset=utf-8']);
    expect(() => JSON.parse(html.text) as unknown).toThrow();
    sim.setServerMode('x1', 'malformed');
    const bad = await get(`${url}/builds/latest`);
    expect([bad.status, bad.type]).toEqual([200, 'application/json']);
    expect(() => JSON.parse(bad.text) as unknown).toThrow();
    sim.setServerMode('x1', 'error500');
    const err = await get(`${url}/`);
    expect(err.status).toBe(500);
    expect(Object.keys(err.body)).toEqual(['error', 'detail', 'type']);
    // The farm counts a server that answers garbage as offline (once its cached success expires).
    clock.advance(90_000);
    expect(((await get(`${farm}/farm`)).body.servers as Json[])[0]?.status).toBe('offline');

    sim.setServerMode('x1', 'slow', 200);
    const t = performance.now();
    expect((await get(`${url}/health`)).status).toBe(200);
    expect(performance.now() - t).toBeGreaterThanOrEqual(190);
    clock.advance(46_000);
    expect(((await get(`${farm}/farm`)).body.servers as Json[])[0]?.status).toBe('online');

    sim.setFarmMode('error500');
    expect((await get(`${farm}/farm`)).status).toBe(500);
    sim.setFarmMode('down');
    await expect(fetch(`${farm}/health`)).rejects.toThrow();
    sim.setFarmMode('ok');
    expect((await get(`${farm}/health`)).status).toBe(200);
  });
});

describe('ApbSimulator: simulated traffic', () => {
  async function run(seed: number): Promise<string> {
    const clock = new ManualClock(T0);
    const sim = new ApbSimulator({ clock, seed, servers: [{ name: 'a', arch: 'powerpc64le', cores: 16 }, { name: 'b', arch: 'powerpc64le' }, { name: 'c', arch: 'riscv64', maxConcurrent: 1 }] });
    sims.push(sim);
    const urls = await sim.listen();
    for (let i = 0; i < 150; i++) {
      clock.advance(20_000);
      sim.step();
      for (const s of urls.servers) {
        const q = ((await get(`${s.url}/`)).body.queue_status ?? {}) as { current_builds_count: number; max_concurrent_builds: number };
        expect(q.current_builds_count).toBeLessThanOrEqual(q.max_concurrent_builds);
      }
    }
    const lists = await Promise.all(urls.servers.map(async (s) => (await get(`${s.url}/builds/latest?limit=100000`)).text));
    return [...lists, (await get(`${urls.farmUrl ?? ''}/builds/latest?limit=100`)).text].join('\n');
  }

  it('is deterministic for a seed, differs between seeds, and moves builds through every state', async () => {
    const first = await run(7);
    expect(await run(7)).toBe(first);
    expect(await run(8)).not.toBe(first);
    const statuses = new Set([...first.matchAll(/"status":"(\w+)"/g)].map((m) => m[1]));
    for (const s of ['completed', 'failed', 'building']) expect(statuses).toContain(s);
    expect(first).toMatch(/"username":"(?!#anon#)/);
    expect(first).toMatch(/"username":"#anon#"/);
  });

  it('steps on a timer in demo mode until stopped', async () => {
    const clock = new ManualClock(T0);
    const { sim, server } = await start({ traffic: true, servers: [{ name: 'x1', arch: 'x86_64', maxConcurrent: 4 }] }, clock);
    sim.start({ stepMs: 2 });
    await waitUntil(async () => {
      clock.advance(60_000);
      return Number((await get(`${server()}/builds/latest`)).body.total) > 3;
    }, 5000, { what: 'builds from the demo timer' });
    sim.stop();
  });
});
