/** Hostile input: run counting when job ids collide or flip, and the 3xx-as-login message. */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { fakeUpstreams } from '../../test-support/fake-upstream.js';
import { ManualClock } from '../../util/clock.js';
import { UpstreamHttp } from '../http.js';
import { KarajoAdapter } from './adapter.js';
import { ENVIRONMENT_PATH, karajoAdapter, karajoAnswer } from './karajo-test-helpers.js';
import { parseKarajoConfig } from './config.js';

const karajo = karajoAnswer;
const log = (job: string, counter: number, status = 'success') => ({ job_id: job, name: `${job}.${counter}.${status}`, status, counter });
const range = (job: string, from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => log(job, from + i));
const job = (id: string, name: string, logs: unknown[]) => ({ id, name, status: 'success', interval: 60e9, last_run: '2023-01-09T00:00:00Z', next_run: '2023-01-09T00:01:00Z', logs });
const env = (jobs: Record<string, unknown>, http_jobs: Record<string, unknown>) => karajo({ code: 200, data: { jobs, http_jobs } });

const upstream = fakeUpstreams();
const ENV = ENVIRONMENT_PATH;
const clock = new ManualClock(Date.parse('2023-01-09T00:00:30Z'));
const adapterFor = (url: string, extra: Record<string, unknown> = {}) => karajoAdapter(url, extra, clock);
const poll = (a: KarajoAdapter) => a.poll(AbortSignal.timeout(5000));

describe('hostile input: karajo run counting across id collisions', () => {
  it('an exec job that appears with the id of an existing http job does not have its old runs counted as new', async () => {
    const f = await upstream({ [ENV]: env({}, { Dup: job('dup', 'Dup', range('dup', 1, 3)) }) });
    const a = adapterFor(f.url);
    await poll(a);
    // An exec job "dup" is added (karajo restarted with a new config); it already has runs 1..10.
    f.routes.set(ENV, env({ dup: job('dup', 'dup', range('dup', 1, 10)) }, { Dup: job('dup', 'Dup', range('dup', 1, 3)) }));
    const snap = await poll(a);
    // Its runs 4..10 are old, but they are above the http job's highest counter (3), which was kept under the same id.
    expect(snap.newTaskIds).toBeUndefined();
  });

  it("the exec job's new runs are counted once the http job it shares an id with moves to http:<id>", async () => {
    const f = await upstream({ [ENV]: env({}, { Dup: job('dup', 'Dup', range('dup', 40, 44)) }) });
    const a = adapterFor(f.url);
    await poll(a);
    f.routes.set(ENV, env({ dup: job('dup', 'dup', range('dup', 1, 2)) }, { Dup: job('dup', 'Dup', range('dup', 40, 44)) }));
    await poll(a);
    // The exec job runs #3: a new run. It is below 44, the http job's counter remembered under "dup".
    f.routes.set(ENV, env({ dup: job('dup', 'dup', range('dup', 1, 3)) }, { Dup: job('dup', 'Dup', range('dup', 40, 44)) }));
    expect((await poll(a)).newTaskIds).toEqual(['dup#3']);
  });

  it('two exec jobs whose names normalize to the same id give one snapshot duplicate task ids', async () => {
    // karajo's Env.jobs is keyed by NAME; "Backup DB" and "backup db" both get id backup_db.
    const f = await upstream({ [ENV]: env({ 'Backup DB': job('backup_db', 'Backup DB', range('backup_db', 1, 2)), 'backup db': job('backup_db', 'backup db', range('backup_db', 1, 3)) }, {}) });
    const snap = await poll(adapterFor(f.url));
    const ids = snap.tasks.map((t) => t.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(snap.jobs?.map((j) => j.id)).size).toBe(snap.jobs?.length);
  });

  it('a redirect (http -> https, a proxy) without a user is not reported as "karajo wants a login"', async () => {
    const f = await upstream({ [ENV]: { status: 301, body: '', headers: { location: 'https://karajo.example/karajo/api/environment' } } });
    const err = await poll(adapterFor(f.url)).then(() => undefined, (e: unknown) => e as Error);
    expect(err?.message).toMatch(/301/);
    expect(err?.message).not.toMatch(/wants a login/);
  });

  it('a login that keeps being refused stops after two logins (no loop)', async () => {
    let logins = 0;
    const f = await upstream({
      '/karajo/api/auth/login': () => {
        logins += 1;
        return { ...karajo({ code: 200 }), headers: { 'content-encoding': 'gzip', 'set-cookie': 'other=1; Path=/, karajo=abc; Path=/; HttpOnly' } };
      },
      [ENV]: karajo({ message: 'unauthorized', code: 401 }, 401),
    });
    await expect(poll(adapterFor(f.url, { user: { name: 'ops', password: 'pw-secret' } }))).rejects.toThrow(/401/);
    expect(logins).toBe(2);
    expect(f.requests.filter((r) => r.path === ENV).map((r) => r.cookie)).toEqual(['karajo=abc', 'karajo=abc']);
  });

  it("a run's duration mixes the exporter's clock (start) with karajo's (end): 5 min of clock skew make a 20 s run last 5 min", async () => {
    const c = new ManualClock(Date.parse('2023-01-09T00:00:00Z'));
    const f = await upstream({ [ENV]: env({ j: job('j', 'j', range('j', 1, 1)) }, {}) });
    const a = new KarajoAdapter(parseKarajoConfig({ url: f.url }), { name: 'cron', log: pino({ level: 'silent' }), clock: c, http: new UpstreamHttp(), pollTimeoutSeconds: 10 });
    await poll(a);
    c.set(Date.parse('2023-01-09T00:00:30Z'));
    f.routes.set(ENV, env({ j: { ...job('j', 'j', [log('j', 1), { job_id: 'j', name: 'j.2', status: 'running', counter: 2 }]), status: 'running' } }, {}));
    await poll(a);
    // karajo's clock is 5 min ahead; the run ended 20 s after the exporter saw it running (00:00:50 exporter time).
    f.routes.set(ENV, env({ j: { ...job('j', 'j', range('j', 1, 2)), last_run: '2023-01-09T00:05:50Z' } }, {}));
    const snap = await poll(a);
    const t = snap.tasks.find((x) => x.id === 'j#2');
    const took = (Date.parse(t?.finished ?? '') - Date.parse(t?.started ?? '')) / 1000;
    expect(took).toBeLessThanOrEqual(60);
  });
});
