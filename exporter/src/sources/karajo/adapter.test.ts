/**
 * The karajo adapter against karajo's own payload shapes, gzip-encoded in the envelope, from a
 * plain loopback HTTP server: runs counted across polls, the HTTP-200-with-code-404 quirk, login,
 * and every kind of bad answer.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fakeUpstreams } from '../../test-support/fake-upstream.js';
import { ManualClock } from '../../util/clock.js';
import type { Snapshot } from '../source.js';
import { KarajoAdapter } from './adapter.js';
import { ENVIRONMENT_PATH, karajoAdapter, karajoAnswer } from './karajo-test-helpers.js';

const fixture = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;

const karajo = karajoAnswer;

type Log = { job_id: string; name: string; status: string; counter: number };
const log = (job: string, counter: number, status: string): Log => ({ job_id: job, name: status === 'running' ? `${job}.${counter}` : `${job}.${counter}.${status}`, status, counter });

/** The recorded environment, with the http job's retained logs replaced. */
function environment(logs: Log[], over: Record<string, unknown> = {}, envOver: Record<string, unknown> = {}): unknown {
  const env = fixture('environment.json') as { http_jobs: Record<string, Record<string, unknown>> };
  const job = env.http_jobs['Test success'] as Record<string, unknown>;
  return { code: 200, data: { ...env, ...envOver, http_jobs: { 'Test success': { ...job, logs, ...over } } } };
}

const upstream = fakeUpstreams();

const ENV = ENVIRONMENT_PATH;
const clock = new ManualClock(Date.parse('2023-01-09T00:00:30Z'));
const adapterFor = (url: string, extra: Record<string, unknown> = {}) => karajoAdapter(url, extra, clock);
const poll = (a: KarajoAdapter) => a.poll(AbortSignal.timeout(5000));

describe('karajo adapter', () => {
  it('polls the environment: both jobs, the http job runs, the server version', async () => {
    const f = await upstream({ [ENV]: karajo(environment([log('test_success', 1, 'success'), log('test_success', 2, 'running')], {}, { version: '0.9.3' })) });
    const snap: Snapshot = await poll(adapterFor(f.url));
    expect(snap.jobs?.map((j) => [j.id, j.jobType, j.status, j.lastRunCounter])).toEqual([['test_job_success', 'exec', 'started', undefined], ['test_success', 'http', 'started', 2]]);
    expect(snap.tasks.map((t) => [t.id, t.state, t.phase, t.repo])).toEqual([['test_success#1', 'success', 'success', 'test_success'], ['test_success#2', 'running', 'running', 'test_success']]);
    expect(snap.upstream).toEqual({ version: '0.9.3' });
    expect(snap.newTaskIds).toBeUndefined();
  });

  it('counts a run as new once: its counter above the highest seen, also when it started and ended between polls', async () => {
    const f = await upstream({ [ENV]: karajo(environment([log('test_success', 4, 'success')])) });
    const a = adapterFor(f.url);
    expect((await poll(a)).newTaskIds).toBeUndefined();
    f.routes.set(ENV, karajo(environment([log('test_success', 4, 'success'), log('test_success', 5, 'failed'), log('test_success', 6, 'running')])));
    expect((await poll(a)).newTaskIds).toEqual(['test_success#5', 'test_success#6']);
    f.routes.set(ENV, karajo(environment([log('test_success', 5, 'failed'), log('test_success', 6, 'success')], { last_run: '2023-01-09T00:02:07Z' })));
    clock.set(Date.parse('2023-01-09T00:01:00Z'));
    const third = await poll(a);
    clock.set(Date.parse('2023-01-09T00:00:30Z'));
    expect(third.newTaskIds).toBeUndefined();
    // It began after the previous poll and was first seen running by the second one: its start. Its
    // end is the poll that saw it ended, on the same clock (karajo's last_run may be skewed).
    expect(third.tasks.find((t) => t.id === 'test_success#6')).toMatchObject({ state: 'success', started: '2023-01-09T00:00:30Z', finished: '2023-01-09T00:01:00Z' });
    // Run 5 was new but already finished when first seen: no start known.
    expect(third.tasks.find((t) => t.id === 'test_success#5')?.started).toBeUndefined();
    // karajo restarted: the same logs again, nothing new.
    expect((await poll(a)).newTaskIds).toBeUndefined();
  });

  it('counts a run that reuses the number of a run a karajo restart interrupted', async () => {
    const f = await upstream({ [ENV]: karajo(environment([log('test_success', 1, 'success')])) });
    const a = adapterFor(f.url);
    await poll(a);
    f.routes.set(ENV, karajo(environment([log('test_success', 1, 'success'), log('test_success', 2, 'running')])));
    expect((await poll(a)).newTaskIds).toEqual(['test_success#2']);
    // karajo restarts mid-run: #2 never wrote its log, so it is gone and its number is free again.
    f.routes.set(ENV, karajo(environment([log('test_success', 1, 'success')])));
    expect((await poll(a)).tasks.map((t) => t.id)).toEqual(['test_success#1']);
    // The next run is #2 again; it started and ended between two polls.
    f.routes.set(ENV, karajo(environment([log('test_success', 1, 'success'), log('test_success', 2, 'failed')])));
    expect((await poll(a)).newTaskIds).toEqual(['test_success#2']);
    expect((await poll(a)).newTaskIds).toBeUndefined();
  });

  it('drops a deleted job and its runs, and does not count them again when the job comes back', async () => {
    const f = await upstream({ [ENV]: karajo(environment([log('test_success', 1, 'success')])) });
    const a = adapterFor(f.url);
    await poll(a);
    const env = environment([]) as { data: { http_jobs: unknown } };
    f.routes.set(ENV, karajo({ ...env, data: { ...env.data, http_jobs: {} } }));
    const gone = await poll(a);
    expect(gone.jobs?.map((j) => j.id)).toEqual(['test_job_success']);
    expect(gone.tasks).toEqual([]);
    f.routes.set(ENV, karajo(environment([log('test_success', 1, 'success'), log('test_success', 2, 'success')])));
    expect((await poll(a)).newTaskIds).toEqual(['test_success#2']);
  });

  it.each([
    ['an envelope whose code says failure, on HTTP 200', karajo({ message: 'internal server error', name: 'ERR_INTERNAL', code: 500 }), /karajo answered code 500 \(ERR_INTERNAL: internal server error\)/],
    ['an HTML page', { body: '<html>502 Bad Gateway</html>', contentType: 'text/html' }, /not valid JSON \(text\/html/],
    ['a body that says gzip but is not', { body: 'plain text', headers: { 'content-encoding': 'gzip' } }, /says Content-Encoding: gzip but does not decode/],
    ['JSON without the envelope', karajo({ jobs: {} }), /not karajo's \{code, message, name, data\} envelope \(\/code: required key is missing\)/],
    ['an envelope whose data is not an Env', karajo({ code: 200, data: { jobs: 'none' } }), /data does not look like karajo's Env \(\/jobs/],
    ['HTTP 500', karajo({ message: 'internal server error', name: 'ERR_INTERNAL', code: 500 }, 500), /answered HTTP 500/],
  ])('fails a poll that gets %s with a clear error', async (_what, answer, message) => {
    const f = await upstream({ [ENV]: answer });
    await expect(poll(adapterFor(f.url))).rejects.toThrow(message);
  });

  it('says to configure a user when karajo wants a login', async () => {
    const f = await upstream({ [ENV]: karajo({ message: 'unauthorized', code: 401 }, 401) });
    await expect(poll(adapterFor(f.url))).rejects.toThrow(/karajo wants a login: set `user`/);
  });

  it('logs in with the configured user, sends the session cookie, logs in again when refused, and never shows the password', async () => {
    const password = 'c0rrect-h0rse-battery';
    let sessions = 0;
    const f = await upstream({
      '/karajo/api/auth/login': () => {
        sessions += 1;
        return { ...karajo({ code: 200 }), headers: { 'content-encoding': 'gzip', 'set-cookie': `karajo=s${sessions}; Path=/; Max-Age=86400; HttpOnly` } };
      },
      [ENV]: (req) => (req.headers.cookie === `karajo=s${sessions}` && sessions > 0 ? karajo(environment([])) : karajo({ message: 'unauthorized', code: 401 }, 401)),
    });
    const a = adapterFor(f.url, { user: { name: 'ops', password } });
    await poll(a);
    expect(f.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /karajo/api/auth/login', `GET ${ENV}`]);
    expect(new URLSearchParams(f.requests[0]?.body).get('password')).toBe(password);
    sessions += 1; // the server forgot the session (restart)
    await poll(a);
    expect(f.requests.map((r) => `${r.method} ${r.path}`).slice(2)).toEqual([`GET ${ENV}`, 'POST /karajo/api/auth/login', `GET ${ENV}`]);
    f.routes.set('/karajo/api/auth/login', karajo({ message: 'invalid name or password', name: 'ERR_AUTH_LOGIN', code: 400 }, 400));
    sessions += 1;
    const err = (await poll(a).then(
      () => new Error('the poll should have failed'),
      (e: unknown) => e as Error,
    ));
    expect(err.message).toMatch(/karajo refused the login of user "ops" \(HTTP 400\); check user.name and user.password/);
    expect(JSON.stringify(err)).not.toContain(password);
    expect(err.message).not.toContain(password);
  });

  it('leaves out a malformed job and keeps the others, reporting it as a record problem', async () => {
    const env = environment([log('test_success', 1, 'success')]) as { data: { jobs: Record<string, unknown> } };
    env.data.jobs.Broken = { id: 42, name: 'Broken' };
    const f = await upstream({ [ENV]: karajo(env) });
    const a = adapterFor(f.url);
    const snap = await poll(a);
    expect(snap.jobs?.map((j) => j.id)).toEqual(['test_job_success', 'test_success']);
    expect(a.problems().current).toEqual({ bad_value: 1 });
    expect(a.problems().examples[0]?.message).toMatch(/^exec job "Broken": \/id: expected string/);
  });

  it("reads a run's log only when asked, and says when karajo no longer keeps it (HTTP 200 with code 404)", async () => {
    const content = Buffer.from('2023-01-09 00:00:00 UTC job_http: test_success: === BEGIN\nok\n').toString('base64');
    const f = await upstream({
      [ENV]: karajo(environment([log('test_success', 1, 'success'), log('test_success', 2, 'failed')])),
      '/karajo/api/job_http/log?id=test_success&counter=2': karajo({ code: 200, data: { ...log('test_success', 2, 'failed'), content } }),
      '/karajo/api/job_http/log?id=test_success&counter=1': karajo({ message: 'log #1 not found', code: 404 }),
    });
    const a = adapterFor(f.url);
    await poll(a);
    expect(f.requests.filter((r) => r.path.includes('/log')).length).toBe(0);
    expect(await a.taskLog('test_success#2', AbortSignal.timeout(5000))).toEqual({ text: '2023-01-09 00:00:00 UTC job_http: test_success: === BEGIN\nok\n', status: 'failed' });
    expect(await a.taskLog('test_success#1', AbortSignal.timeout(5000))).toBeUndefined();
    expect(await a.taskLog('test_success#9', AbortSignal.timeout(5000))).toBeUndefined();
  });
});
