import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../util/clock.js';
import { waitUntil } from '../../util/wait-until.js';
import { KarajoSimulator, type KarajoSimulatorOptions } from './simulator.js';

type Json = Record<string, unknown>;
const fixture = (name: string): Json => JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8')) as Json;
const kind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** Same keys in the same order and the same JSON types, all the way down (array items against the
 * fixture's first). At the top level, `extra` keys of `actual` and `missing` keys of `expected` are skipped. */
function expectShape(actual: unknown, expected: unknown, opts: { extra?: string[]; missing?: string[] } = {}, path = '$'): void {
  expect(kind(actual), `${path} type`).toBe(kind(expected));
  if (Array.isArray(actual) && Array.isArray(expected)) {
    if (expected.length > 0) actual.forEach((item, i) => expectShape(item, expected[0], {}, `${path}[${i}]`));
  } else if (kind(actual) === 'object') {
    const [a, e] = [actual as Json, expected as Json];
    const keys = Object.keys(e).filter((k) => !opts.missing?.includes(k));
    expect(Object.keys(a).filter((k) => !opts.extra?.includes(k)), `${path} keys`).toEqual(keys);
    for (const k of keys) expectShape(a[k], e[k], {}, `${path}.${k}`);
  }
}

interface Got {
  status: number;
  headers: Record<string, string>;
  raw: Buffer;
  /** The body, gunzipped when Content-Encoding says gzip ('' if that fails). */
  text: string;
  body: Json;
}

/** undici's request does not decompress, so the test sees exactly what went over the wire. */
async function call(url: string, init: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string } = {}): Promise<Got> {
  const res = await request(url, { method: init.method ?? 'GET', headers: { 'accept-encoding': 'identity', ...init.headers }, body: init.body });
  const raw = Buffer.from(await res.body.arrayBuffer());
  const headers = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)]));
  let text = raw.toString();
  if (headers['content-encoding'] === 'gzip') {
    try {
      text = gunzipSync(raw).toString();
    } catch {
      text = '';
    }
  }
  let body: Json = {};
  try {
    body = JSON.parse(text) as Json;
  } catch {
    /* not JSON: the test looks at text */
  }
  return { status: res.statusCode, headers, raw, text, body };
}

const T0 = Date.parse('2026-03-16T12:00:00Z');
const iso = (ms: number): string => new Date(ms).toISOString().replace('.000', '');
let sims: KarajoSimulator[] = [];
afterEach(async () => {
  await Promise.all(sims.map((s) => s.close()));
  sims = [];
});

async function start(options: Partial<KarajoSimulatorOptions> = {}) {
  const clock = options.clock instanceof ManualClock ? options.clock : new ManualClock(T0);
  const sim = new KarajoSimulator({ jobs: [], ...options, clock });
  sims.push(sim);
  const url = await sim.listen();
  const env = async (): Promise<Json> => (await call(`${url}/karajo/api/environment`)).body.data as Json;
  const job = async (name: string): Promise<Json> => {
    const e = await env();
    return ({ ...(e.jobs as Json | null), ...(e.http_jobs as Json | null) })[name] as Json;
  };
  const log = (k: 'exec' | 'http', id: string, counter: string | number) => call(`${url}/karajo/api/job_${k}/log?id=${id}&counter=${counter}`);
  const tick = (ms: number): void => {
    clock.advance(ms);
    sim.step();
  };
  return { sim, clock, url, env, job, log, tick };
}

const logNames = (j: Json): string[] => ((j.logs ?? []) as Json[]).map((l) => String(l.name));
const lines = (content: unknown): string[] => Buffer.from(String(content), 'base64').toString().split('\n');

describe('KarajoSimulator: environment', () => {
  it('is always gzip, in the data-first envelope, with Env, JobExec and JobHTTP in Go field order', async () => {
    const { url, job } = await start({ name: 'My karajo', jobs: [
      { name: 'Test job success', kind: 'exec' },
      { name: 'Test success', kind: 'http', intervalMs: 60_000, description: 'HTTP job to for a <i>success</i> call.' },
    ] });
    const got = await call(`${url}/karajo/api/environment`, { headers: { 'accept-encoding': 'identity' } });
    expect([got.status, got.headers['content-type'], got.headers['content-encoding']]).toEqual([200, 'application/json', 'gzip']);
    expect([...got.raw.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    // EndpointResponse marshals Data before the embedded E (pakakeh.go endpoint_response_example_test.go).
    expect(Object.keys(got.body)).toEqual(Object.keys(fixture('job-exec-run-response')).filter((k) => k !== 'message'));
    expect(got.text).toMatch(/^\{"data":\{"jobs":\{"Test job success":\{"path":"\/test-job-success",.*,"code":200\}$/);
    expect(got.text).toContain('"description":"HTTP job to for a \\u003ci\\u003esuccess\\u003c/i\\u003e call."');
    const data = got.body.data as Json;
    const env = fixture('environment');
    const keys = Object.keys(env);
    keys.splice(keys.indexOf('dir_public') + 1, 0, 'version');
    expect(Object.keys(data)).toEqual(keys);
    expect(data).toMatchObject({ name: 'My karajo', listen_address: url.slice(7), version: '0.9.3', http_timeout: 300_000_000_000, max_job_running: 1, is_development: false });
    expectShape((data.jobs as Json)['Test job success'], (env.jobs as Json)['Test job success']);
    expectShape((data.http_jobs as Json)['Test success'], (env.http_jobs as Json)['Test success'], { missing: ['http_headers'] });
    expect(await job('Test job success')).toMatchObject({ id: 'test_job_success', status: 'started', last_run: '0001-01-01T00:00:00Z', next_run: '0001-01-01T00:00:00Z', log_retention: 5 });
    // A fresh interval job is due at once (computeNextInterval from a zero last_run).
    expect(await job('Test success')).toMatchObject({ id: 'test_success', status: 'started', interval: 60_000_000_000, last_run: '0001-01-01T00:00:00Z', next_run: iso(T0) });
  });

  it('derives ids like NormalizeForID, sorts the job maps by name and writes null for an empty one', async () => {
    const { sim, env } = await start({ jobs: [{ name: 'zeta', kind: 'exec' }, { name: '1st Job!', kind: 'exec' }, { name: 'Alpha.Beta', kind: 'exec' }] });
    const e = await env();
    expect(Object.keys(e.jobs as Json)).toEqual(['1st Job!', 'Alpha.Beta', 'zeta']);
    expect(Object.values(e.jobs as Json).map((j) => (j as Json).id)).toEqual(['_1st_job_', 'alpha_beta', 'zeta']);
    expect(e.http_jobs).toBeNull();
    expect(() => sim.addJob({ name: 'ZETA', kind: 'http' })).toThrow(/already exists/);
  });
});

describe('KarajoSimulator: job life cycle', () => {
  it('runs an interval job: running log, rename on finish, last_run/next_run, failEvery, retention, catch-up', async () => {
    const { job, tick } = await start({ jobs: [{ name: 'Nightly build', kind: 'exec', intervalMs: 60_000, durationMs: 10_000, failEvery: 3, logRetention: 2 }] });
    tick(0);
    expect(await job('Nightly build')).toMatchObject({ status: 'running', last_run: '0001-01-01T00:00:00Z', next_run: iso(T0), logs: [{ job_id: 'nightly_build', name: 'nightly_build.1', status: 'running', counter: 1 }] });
    tick(10_000);
    const done = await job('Nightly build');
    expectShape(done, fixture('job-exec-after-run'), { extra: ['commands', 'interval'] });
    expect(done).toMatchObject({ status: 'success', last_run: iso(T0 + 10_000), next_run: iso(T0 + 70_000), logs: [{ name: 'nightly_build.1.success', status: 'success' }] });
    tick(60_000);
    expect(logNames(await job('Nightly build'))).toEqual(['nightly_build.1.success', 'nightly_build.2']);
    tick(80_000);
    // Run 3 fails; the retention keeps the newest two logs, a running one included.
    expect(await job('Nightly build')).toMatchObject({ status: 'failed', last_run: iso(T0 + 150_000), next_run: iso(T0 + 210_000) });
    expect(logNames(await job('Nightly build'))).toEqual(['nightly_build.2.success', 'nightly_build.3.failed']);
    // One big step plays every run in between: runs start 70 s apart.
    tick(250_000);
    expect(await job('Nightly build')).toMatchObject({ status: 'failed', last_run: iso(T0 + 360_000), next_run: iso(T0 + 420_000) });
    expect(logNames(await job('Nightly build'))).toEqual(['nightly_build.5.success', 'nightly_build.6.failed']);
  });

  it('runs schedule jobs on their slots; next_run stays on the slot while running', async () => {
    const { job, tick } = await start({ jobs: [
      { name: 'half', kind: 'http', schedule: 'hourly@0,30', durationMs: 2_000 },
      { name: 'midnight', kind: 'exec', schedule: 'daily@00:00' },
      { name: 'every minute', kind: 'http', schedule: 'minutely', intervalMs: 5_000 },
    ] });
    expect(await job('midnight')).toMatchObject({ schedule: 'daily@00:00', next_run: '2026-03-17T00:00:00Z' });
    expect(await job('every minute')).toMatchObject({ next_run: '2026-03-16T12:01:00Z' });
    expect('interval' in (await job('every minute'))).toBe(false);
    expect(await job('half')).toMatchObject({ next_run: '2026-03-16T12:30:00Z', status: 'started' });
    tick(30 * 60_000);
    expect(await job('half')).toMatchObject({ status: 'running', next_run: '2026-03-16T12:30:00Z', logs: [{ name: 'half.1' }] });
    tick(2_000);
    expect(await job('half')).toMatchObject({ status: 'success', last_run: '2026-03-16T12:30:02Z', next_run: '2026-03-16T13:00:00Z' });
    expect((await job('every minute')).logs).toHaveLength(5);
  });

  it('queues JobExec runs behind max_job_running = 1 without a queued status; JobHTTP does not wait', async () => {
    const { job, tick } = await start({ jobs: [
      { name: 'a', kind: 'exec', intervalMs: 60_000, durationMs: 20_000 },
      { name: 'b', kind: 'exec', intervalMs: 60_000, durationMs: 20_000 },
      { name: 'h', kind: 'http', intervalMs: 60_000, durationMs: 20_000 },
    ] });
    tick(0);
    expect([(await job('a')).status, (await job('b')).status, (await job('h')).status]).toEqual(['running', 'started', 'running']);
    expect(await job('b')).toMatchObject({ next_run: iso(T0) });
    tick(20_000);
    expect(await job('b')).toMatchObject({ status: 'running', logs: [{ name: 'b.1' }] });
  });

  it('pause: paused logs while last_run and next_run move on; resume to "" (exec) and "started" (http)', async () => {
    const { sim, job, log, tick } = await start({ jobs: [{ name: 'e', kind: 'exec', intervalMs: 60_000, durationMs: 1_000 }, { name: 'h', kind: 'http', intervalMs: 60_000, durationMs: 1_000 }] });
    tick(0);
    tick(1_000);
    sim.pause('e');
    sim.pause('h');
    expectShape(await job('e'), fixture('job-exec-paused'), { extra: ['logs', 'interval'] });
    expect(() => sim.runNow('e')).toThrow(/paused/);
    tick(60_000);
    for (const id of ['e', 'h']) {
      expect(await job(id)).toMatchObject({ status: 'paused', last_run: iso(T0 + 61_000), next_run: iso(T0 + 121_000), logs: [{ status: 'success' }, { name: `${id}.2.paused`, status: 'paused', counter: 2 }] });
    }
    expect((await log('exec', 'e', 2)).body).toEqual({ code: 200, data: { job_id: 'e', name: 'e.2.paused', status: 'paused', counter: 2, content: '' } });
    tick(60_000);
    expect(logNames(await job('h'))).toEqual(['h.1.success', 'h.2.paused', 'h.3.paused']);
    sim.resume('e');
    sim.resume('h');
    expect('status' in (await job('e'))).toBe(false);
    expectShape(await job('h'), fixture('job-http-resumed'), { missing: ['http_headers', 'description'] });
    expect((await job('h')).status).toBe('started');
    tick(60_000);
    expect(await job('e')).toMatchObject({ status: 'running', logs: [{}, {}, {}, { name: 'e.4', status: 'running' }] });
    // JobBase.finish: a pause set during a run is overwritten by the run's result.
    sim.pause('e');
    tick(1_000);
    expect((await job('e')).status).toBe('success');
  });

  it('manual runs, finishRun, stall (overdue until restart) and canceled runs', async () => {
    const { sim, job, tick } = await start({ jobs: [{ name: 'hook', kind: 'exec', durationMs: 60_000 }, { name: 'tick', kind: 'http', intervalMs: 60_000 }] });
    expect(sim.runNow('hook')).toBe(1);
    expect(() => sim.runNow('hook')).toThrow(/already running/);
    tick(5_000);
    sim.finishRun('hook', 'canceled');
    expect(await job('hook')).toMatchObject({ status: 'canceled', last_run: iso(T0 + 5_000), next_run: '0001-01-01T00:00:00Z', logs: [{ name: 'hook.1.canceled' }] });
    expect(() => sim.finishRun('hook', 'success')).toThrow(/no run in progress/);
    sim.stall('tick');
    tick(300_000);
    expect(await job('tick')).toMatchObject({ status: 'success', next_run: iso(T0 + 62_000), logs: [{ name: 'tick.1.success' }] });
    sim.restart();
    sim.step();
    expect(await job('tick')).toMatchObject({ status: 'running', logs: [{}, { name: 'tick.2' }] });
  });
});

describe('KarajoSimulator: log endpoints', () => {
  it('answer gzip JobLogs with content, the HTTP 200 + code 404 quirk, and real 404/400 errors', async () => {
    const { url, log, tick } = await start({ jobs: [{ name: 'Test job success', kind: 'exec', intervalMs: 60_000, durationMs: 3_000 }, { name: 'Test success', kind: 'http', intervalMs: 60_000, durationMs: 3_000, failEvery: 2 }] });
    tick(0);
    const running = await log('exec', 'TEST_JOB_SUCCESS', 1);
    expect([running.status, running.headers['content-encoding']]).toEqual([200, 'gzip']);
    expect(running.text).toMatch(/^\{"code":200,"data":\{"job_id":"test_job_success","name":"test_job_success.1","status":"running","counter":1,"content":"/);
    const sample = fixture('job-exec-log');
    // job_log.go marshalJSON writes counter before content; the fixture was re-marshalled from the struct.
    expect(Object.keys(running.body.data as Json)).toEqual(['job_id', 'name', 'status', 'counter', 'content']);
    expect(Object.keys(running.body.data as Json).sort()).toEqual(Object.keys(sample).sort());
    const upstream = lines(sample.content);
    const ours = lines((running.body.data as Json).content);
    expect(ours.slice(0, 3)).toEqual(upstream.slice(0, 3).map((l) => l.replace('2023-01-09 00:00:00', '2026-03-16 12:00:00').replace(/echo Test job success/, 'echo Running Test job success')));
    tick(60_000);
    const done = (await log('exec', 'test_job_success', 1)).body.data as Json;
    expect(done.name).toBe('test_job_success.1.success');
    expect(lines(done.content).slice(-3)).toEqual(['2026-03-16 12:00:03 UTC job: test_job_success: === DONE', '2026-03-16 12:00:03 UTC job: test_job_success: === job: test_job_success: finished.', '']);
    tick(10_000);
    const failed = (await log('http', 'test_success', 2)).body.data as Json;
    expect(Object.keys(failed).sort()).toEqual(Object.keys(fixture('job-http-log')).sort());
    expect(failed).toMatchObject({ name: 'test_success.2.failed', status: 'failed' });
    expect(lines(failed.content)[0]).toBe('2026-03-16 12:01:03 UTC job_http: test_success: === BEGIN');
    expect(lines(failed.content).at(-2)).toBe('2026-03-16 12:01:06 UTC job_http: test_success: !!! job_http: test_success: execute: 502 Bad Gateway');

    const missing = await log('exec', 'test_job_success', 99);
    expect([missing.status, missing.headers['content-encoding'], missing.text]).toEqual([200, undefined, '{"message":"log #99 not found","code":404}']);
    expectShape(missing.body, fixture('log-not-found-200'));
    expect((await log('http', 'test_success', 7)).text).toBe('{"message":"log #7 not found","code":404}');
    const nan = await log('exec', 'test_job_success', 'abc');
    expect([nan.status, nan.text]).toEqual([404, '{"message":"log #abc not found","code":404}']);
    const unknownExec = await log('exec', 'nope', 1);
    expect([unknownExec.status, unknownExec.text]).toEqual([404, '{"message":"job ID nope not found","code":404}']);
    const unknownHttp = await log('http', 'nope', 1);
    expect(unknownHttp.status).toBe(400);
    expectShape(unknownHttp.body, fixture('error-invalid-job-id'));
    expect(unknownHttp.body.message).toBe('invalid or empty job id: nope');
    const one = await call(`${url}/karajo/api/job_http?id=test_success`);
    expect([one.status, one.headers['content-encoding'], Object.keys(one.body)]).toEqual([200, undefined, ['data', 'code']]);
    expectShape(one.body.data, fixture('job-http-paused'), { missing: ['http_headers', 'description'] });
    expect((await call(`${url}/karajo/api/job_http?id=nope`)).status).toBe(400);
  });
});

describe('KarajoSimulator: restart and reconfiguration', () => {
  it('rebuilds state from the log files; counters continue, but an unflushed running log is lost', async () => {
    const { sim, job, tick, env } = await start({ jobs: [{ name: 'r', kind: 'exec', intervalMs: 60_000, durationMs: 1_000, logRetention: 3 }] });
    tick(0);
    tick(184_000);
    expect(logNames(await job('r'))).toEqual(['r.2.success', 'r.3.success', 'r.4.success']);
    tick(30_000);
    sim.restart();
    expect(await job('r')).toMatchObject({ status: 'success', last_run: iso(T0 + 184_000), next_run: iso(T0 + 244_000) });
    tick(30_000);
    expect(logNames(await job('r'))).toEqual(['r.3.success', 'r.4.success', 'r.5']);
    // Restart mid-run: r.5 was never flushed, so the next run is #5 again.
    sim.restart();
    expect(await job('r')).toMatchObject({ status: 'success', next_run: iso(T0 + 244_000) });
    sim.step();
    expect(logNames(await job('r'))).toEqual(['r.3.success', 'r.4.success', 'r.5']);
    tick(1_000);
    sim.pause('r');
    tick(60_000);
    sim.restart();
    // The highest log says paused, so the job comes back paused.
    expect(await job('r')).toMatchObject({ status: 'paused', logs: [{}, { name: 'r.5.success' }, { name: 'r.6.paused' }] });
    sim.deleteJob('r');
    expect((await env()).jobs).toBeNull();
    expect(sim.addJob({ name: 'r', kind: 'exec', intervalMs: 60_000, durationMs: 1_000, logRetention: 3 })).toBe('r');
    expect(await job('r')).toMatchObject({ status: 'paused', logs: [{ counter: 4 }, { counter: 5 }, { counter: 6 }] });
    sim.resume('r');
    tick(60_000);
    expect(logNames(await job('r'))).toEqual(['r.5.success', 'r.6.paused', 'r.7']);
  });
});

describe('KarajoSimulator: login', () => {
  it('needs the karajo cookie from POST /karajo/api/auth/login when users are set; restart drops sessions', async () => {
    const { sim, url } = await start({ users: [{ name: 'tester', password: 's3cret' }], jobs: [{ name: 'a', kind: 'exec' }] });
    const denied = await call(`${url}/karajo/api/environment`);
    expect([denied.status, denied.headers['content-type'], denied.text]).toEqual([401, 'text/plain; charset=utf-8', 'Unauthorized']);
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    for (const body of ['name=tester&password=nope', 'name=&password=', 'name=who&password=s3cret']) {
      const bad = await call(`${url}/karajo/api/auth/login`, { method: 'POST', headers: form, body });
      expect([bad.status, bad.body]).toEqual([400, fixture('error-auth-login')]);
    }
    const ok = await call(`${url}/karajo/api/auth/login`, { method: 'POST', headers: form, body: 'name=+tester+&password=s3cret' });
    expect([ok.status, ok.body]).toEqual([200, fixture('login-ok')]);
    expect(ok.headers['set-cookie']).toMatch(/^karajo=[A-Za-z0-9]{32}; Path=\/; Max-Age=86400; HttpOnly$/);
    const cookie = ok.headers['set-cookie']?.split(';')[0] ?? '';
    const env = await call(`${url}/karajo/api/environment`, { headers: { cookie } });
    expect([env.status, env.headers['content-encoding'], Object.keys(env.body.data as Json)[0]]).toEqual([200, 'gzip', 'jobs']);
    expect((await call(`${url}/karajo/api/job_exec/log?id=a&counter=1`)).status).toBe(401);
    expect(sim.requests.at(-2)).toEqual({ method: 'GET', path: '/karajo/api/environment', cookie });
    sim.restart();
    expect((await call(`${url}/karajo/api/environment`, { headers: { cookie } })).status).toBe(401);
  });
});

describe('KarajoSimulator: faults', () => {
  it('html, badgzip, plain, envelope-error, error500, malformed, slow, and down then ok on the same port', async () => {
    const { sim, url } = await start({ jobs: [{ name: 'a', kind: 'exec' }] });
    const envUrl = `${url}/karajo/api/environment`;
    sim.setMode('html');
    const html = await call(envUrl);
    expect([html.status, html.headers['content-type']]).toEqual([200, 'text/html; charset=utf-8']);
    expect(() => JSON.parse(html.text) as unknown).toThrow();
    sim.setMode('badgzip');
    const bad = await call(envUrl);
    expect([bad.status, bad.headers['content-encoding']]).toEqual([200, 'gzip']);
    expect(() => gunzipSync(bad.raw)).toThrow();
    sim.setMode('plain');
    const plain = await call(envUrl, { headers: { 'accept-encoding': 'gzip' } });
    expect([plain.headers['content-encoding'], Object.keys(plain.body)]).toEqual([undefined, ['data', 'code']]);
    sim.setMode('envelope-error');
    const envErr = await call(envUrl);
    expect([envErr.status, envErr.body]).toEqual([200, fixture('error-internal')]);
    sim.setMode('error500');
    const e500 = await call(envUrl);
    expect([e500.status, e500.body]).toEqual([500, fixture('error-internal')]);
    sim.setMode('malformed');
    const mal = await call(envUrl);
    expect([mal.status, mal.headers['content-encoding']]).toEqual([200, 'gzip']);
    expect(mal.text.length).toBeGreaterThan(0);
    expect(() => JSON.parse(mal.text) as unknown).toThrow();
    sim.setMode('slow', 200);
    const t = performance.now();
    expect((await call(envUrl)).status).toBe(200);
    expect(performance.now() - t).toBeGreaterThanOrEqual(190);
    sim.setMode('down');
    await expect(call(envUrl)).rejects.toThrow();
    sim.setMode('ok');
    expect((await call(envUrl)).status).toBe(200);
  });
});

describe('KarajoSimulator: default jobs and demo mode', () => {
  const runDefault = async (seed: number): Promise<string> => {
    const { url, tick } = await start({ seed, jobs: undefined });
    for (let i = 0; i < 40; i++) tick(15_000);
    return (await call(`${url}/karajo/api/environment`)).text.replace(/"listen_address":"[^"]*"/, '');
  };

  it('has a realistic, deterministic default set with history on disk', async () => {
    const first = await runDefault(7);
    expect(await runDefault(7)).toBe(first);
    expect(await runDefault(8)).not.toBe(first);
    const data = (JSON.parse(first.replace(',,', ',')) as Json).data as Json;
    const all = [...Object.values(data.jobs as Json), ...Object.values(data.http_jobs as Json)] as Json[];
    expect([Object.keys(data.jobs as Json).length, Object.keys(data.http_jobs as Json).length]).toEqual([5, 2]);
    expect(all.some((j) => j.status === 'paused')).toBe(true);
    expect(all.some((j) => j.next_run === '0001-01-01T00:00:00Z' && j.last_run !== '0001-01-01T00:00:00Z')).toBe(true);
    expect(first).toMatch(/\.failed"/);
    expect(all.every((j) => ((j.logs as Json[])[0]?.counter as number) > 1)).toBe(true);
  });

  it('steps on a timer in demo mode, pausing a job and stalling the overdue-prone one now and then', async () => {
    const { sim, url, clock } = await start({ jobs: undefined });
    const seen = new Set<string>();
    sim.start({ stepMs: 2 });
    await waitUntil(async () => {
      clock.advance(30_000);
      const data = (await call(`${url}/karajo/api/environment`)).body.data as Json;
      for (const j of [...Object.values(data.jobs as Json), ...Object.values(data.http_jobs as Json)] as Json[]) {
        if (j.status === 'paused' && j.id !== 'rotate_logs') seen.add('paused');
        if (j.next_run !== '0001-01-01T00:00:00Z' && Date.parse(String(j.next_run)) < clock.now() - 120_000) seen.add(`overdue:${String(j.id)}`);
      }
      return seen.has('paused') && seen.has('overdue:ping_mirror');
    }, 5000, { what: 'a paused and an overdue job from the demo timer' });
    sim.stop();
  });
});
