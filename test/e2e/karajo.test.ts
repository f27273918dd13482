/**
 * End to end for the `karajo` source: the karajo simulator (loopback, gzip + envelope, with a user,
 * so every API call needs the session cookie) -> the real exporter process -> a real Prometheus
 * scraping it. Runs are started and finished by hand on a manual clock (own job list, no start(),
 * step() only where a timer must fire), so every count is known exactly. Asserts through
 * Prometheus's HTTP API, and the exporter's own API for errors, jobs and run logs.
 *
 * Clocks: the exporter dates runs it first sees running, and decides `overdue`, with the real
 * clock. The simulator's clock starts at the current real second and is only ever moved to a real
 * second that has already begun (sync()), so karajo's times are never in the exporter's future
 * and a run's end (karajo's last_run) is never before the poll that saw it start.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KarajoSimulator, type KarajoSimJobSpec } from '../../exporter/src/sources/karajo/simulator.js';
import { parseSchedule } from '../../exporter/src/sources/karajo/simulator-model.js';
import { ManualClock } from '../../exporter/src/util/clock.js';
import { waitUntil } from '../../exporter/src/util/wait-until.js';
import { startReadyExporter, type ExporterProcess } from '../support/exporter-process.js';
import { startScrapingPrometheus, type PrometheusServer } from '../support/prometheus.js';
import { promAsserts } from '../support/prom-assert.js';
import { teardownE2e } from '../support/teardown.js';
import { requireTool } from '../support/tools.js';

const prometheusBin = requireTool('prometheus', 'prometheus');
const promtoolBin = requireTool('promtool', 'prometheus');

const SOURCE = 'cron';
const USER = 'exporter';
const PASSWORD = 'e2e-karajo-pass-4f9d1c0b7a2e48d6';
const LOGIN = 'POST /karajo/api/auth/login';
const ENV = 'GET /karajo/api/environment';

/** The current real second, in ms. */
const realSecond = (): number => Math.floor(Date.now() / 1000) * 1000;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// Scheduled jobs fire 29 to 30 minutes from now: no timer fires during the test unless
// a step() is meant to fire it, and none is ever late (the schedule's period is an hour).
const START = realSecond();
const SCHEDULE = `hourly@${(new Date(START).getUTCMinutes() + 30) % 60}`;
const NEXT_SLOT = parseSchedule(SCHEDULE)(START);
/** Manual runs never end by themselves, even when a step() lets time pass. */
const NEVER_ENDS = 24 * 3_600_000;
const JOBS: KarajoSimJobSpec[] = [
  { name: 'Build packages', kind: 'exec', schedule: SCHEDULE, durationMs: NEVER_ENDS, description: 'Builds what <b>git push</b> queued.' },
  { name: 'Deploy webhook', kind: 'exec', durationMs: NEVER_ENDS },
  { name: 'Ping mirror', kind: 'http', schedule: SCHEDULE, durationMs: NEVER_ENDS },
  { name: 'Rotate logs', kind: 'exec', schedule: SCHEDULE, durationMs: NEVER_ENDS, logRetention: 3 },
];
/** Added later, for overdue: timers every 10 s, runs that end at once. */
const PROBE_MS = 10_000;
const PROBES: KarajoSimJobSpec[] = [
  { name: 'Stale probe', kind: 'http', intervalMs: PROBE_MS, durationMs: 0 },
  { name: 'Fresh probe', kind: 'http', intervalMs: PROBE_MS, durationMs: 0 },
];

interface JobView {
  id: string;
  jobType: string;
  status: string;
  paused: boolean;
  overdue?: boolean;
  lastRun?: string;
  nextRun?: string;
  schedule?: string;
  intervalSeconds?: number;
  lastRunCounter?: number;
  logRetention?: number;
}
interface SourceView {
  name: string;
  up: boolean;
  consecutive_failures: number;
  last_error: { code: string; message: string } | null;
  polls: { ok: number; failed: number };
  upstream: { version?: string };
}

describe.skipIf(!prometheusBin || !promtoolBin)('karajo source: simulator -> exporter -> real Prometheus', () => {
  const clock = new ManualClock(START);
  let sim: KarajoSimulator;
  let karajoUrl: string;
  let exporter: ExporterProcess;
  let prom: PrometheusServer;
  let dir: string;

  /** Move the simulator's clock to the real second now begun: never past real time, never back. */
  const sync = (): number => {
    clock.set(Math.max(clock.now(), realSecond()));
    return clock.now();
  };
  const { value, waitValue, settle } = promAsserts(() => prom, SOURCE);
  const api = async <T>(path: string): Promise<T> => (await (await fetch(`${exporter.url}${path}`)).json()) as T;
  const jobs = async () => new Map((await api<{ items: JobView[] }>(`/api/v1/jobs?source=${SOURCE}`)).items.map((j) => [j.id, j]));
  const source = async () => (await api<{ sources: SourceView[] }>('/api/v1/sources')).sources.find((s) => s.name === SOURCE) as SourceView;
  /** A read of a run's log (not the login, whose path also has `/log`). */
  const isLogRead = (path: string) => /^\/karajo\/api\/job_(exec|http)\/log\?/.test(path);
  const calls = (what: string) => sim.requests.filter((r) => `${r.method} ${r.path}` === what);
  const sel = (labels: string) => `{source="${SOURCE}"${labels ? `,${labels}` : ''}}`;
  const runs = (job: string, result: string) => `buildfarm_karajo_runs_total${sel(`karajo_job="${job}",result="${result}"`)}`;
  const status = (job: string, s: string) => `buildfarm_karajo_job_status${sel(`karajo_job="${job}",status="${s}"`)}`;
  const jobGauge = (family: string, job: string) => `buildfarm_karajo_job_${family}${sel(`karajo_job="${job}"`)}`;
  const jobsBy = (s: string) => `buildfarm_jobs${sel(`kind="karajo",status="${s}"`)}`;
  const tasks = (repo: string, state: string) => `buildfarm_tasks${sel(`kind="karajo",repo="${repo}",state="${state}"`)}`;
  const totalRuns = `sum(buildfarm_karajo_runs_total${sel('')})`;
  /** The log as karajo itself gives it (our own login: an API client of the simulator, not the exporter). */
  const karajoLog = async (type: 'exec' | 'http', id: string, counter: number): Promise<string> => {
    const login = await fetch(`${karajoUrl}/karajo/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ name: USER, password: PASSWORD }) });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const res = await fetch(`${karajoUrl}/karajo/api/job_${type}/log?id=${id}&counter=${counter}`, { headers: { cookie } });
    const body = (await res.json()) as { code: number; data: { content: string } };
    expect(body.code).toBe(200);
    return Buffer.from(body.data.content, 'base64').toString('utf8');
  };

  beforeAll(async () => {
    sim = new KarajoSimulator({ clock, seed: 3, jobs: JOBS, users: [{ name: USER, password: PASSWORD }] });
    // A run that ended before the exporter started: held and shown, but the baseline, not news.
    expect(sim.runNow('build_packages')).toBe(1);
    sim.finishRun('build_packages', 'success');
    karajoUrl = await sim.listen();

    dir = await mkdtemp(join(tmpdir(), 'buildscope-e2e-karajo-'));
    const config = join(dir, 'buildscope.yaml');
    await writeFile(
      config,
      [
        'sources:',
        `  - name: ${SOURCE}`,
        '    kind: karajo',
        `    url: "${karajoUrl}"`,
        '    interval: 1s',
        '    timeout: 5s',
        // Quoted: in a flow map a bare ${...} is a YAML syntax error (`{` opens a flow map).
        `    user: { name: ${USER}, password: "\${KARAJO_PASSWORD}" }`,
        '',
      ].join('\n'),
    );
    // Debug logging: the most output the password or the session cookie could leak into.
    exporter = await startReadyExporter(config, ['--log.level=debug'], { KARAJO_PASSWORD: PASSWORD });
    prom = await startScrapingPrometheus(prometheusBin as string, exporter.url);
  }, 60_000);

  afterAll(async () => {
    const code = await teardownE2e({ prom, exporter, upstream: sim, dir });
    if (exporter) expect(code).toBe(0);
  });

  it('logs in, and exports every job: counts by status, one-hot status, karajo times; old runs are the baseline', async () => {
    await waitValue(`buildfarm_source_up${sel('kind="karajo"')}`, 1, 20_000);
    // It logged in before its first read, and every read carried the session cookie.
    expect(`${sim.requests[0]?.method} ${sim.requests[0]?.path}`).toBe(LOGIN);
    expect(calls(LOGIN)).toHaveLength(1);
    expect(calls(ENV).length).toBeGreaterThan(0);
    expect(calls(ENV).every((r) => /^karajo=[A-Za-z0-9]{32}$/.test(r.cookie ?? ''))).toBe(true);

    await waitValue(jobsBy('success'), 1);
    expect(await value(jobsBy('started'))).toBe(3);
    expect(await value(`sum(buildfarm_jobs${sel('')})`)).toBe(4);
    // One-hot: every status word present for every job, exactly one of them 1.
    expect(await value(`count(buildfarm_karajo_job_status${sel('')})`)).toBe(4 * 8);
    expect(await value(`sum(buildfarm_karajo_job_status${sel('')})`)).toBe(4);
    expect(await value(status('build_packages', 'success'))).toBe(1);
    expect(await value(status('build_packages', 'started'))).toBe(0);
    for (const job of ['deploy_webhook', 'ping_mirror', 'rotate_logs']) expect(await value(status(job, 'started')), job).toBe(1);
    // karajo's times: the scheduled jobs' next slot; the webhook-only job has no next run, only the job that ran a last run.
    for (const job of ['build_packages', 'ping_mirror', 'rotate_logs']) expect(await value(jobGauge('next_run_timestamp_seconds', job)), job).toBe(NEXT_SLOT / 1000);
    expect(await value(`count(${jobGauge('next_run_timestamp_seconds', 'deploy_webhook')})`)).toBeUndefined();
    expect(await value(jobGauge('last_run_timestamp_seconds', 'build_packages'))).toBe(START / 1000);
    expect(await value(`count(buildfarm_karajo_job_last_run_timestamp_seconds${sel('')})`)).toBe(1);
    expect(await value(`sum(buildfarm_karajo_job_paused${sel('')})`)).toBe(0);
    expect(await value(`sum(buildfarm_karajo_job_overdue${sel('')})`)).toBe(0);
    // The run that ended before the first poll is held, and not counted.
    expect(await value(tasks('build_packages', 'success'))).toBe(1);
    expect(await value(`count(buildfarm_karajo_runs_total${sel('')})`)).toBeUndefined();
    expect(await value(`count(buildfarm_tasks_finished_total${sel('')})`)).toBeUndefined();

    const j = await jobs();
    expect([...j.keys()]).toEqual(['build_packages', 'deploy_webhook', 'ping_mirror', 'rotate_logs']);
    expect(j.get('build_packages')).toMatchObject({ jobType: 'exec', status: 'success', paused: false, overdue: false, schedule: SCHEDULE, lastRunCounter: 1, logRetention: 5, lastRun: new Date(START).toISOString().replace('.000Z', 'Z') });
    expect(j.get('ping_mirror')).toMatchObject({ jobType: 'http', status: 'started', overdue: false });
    expect(j.get('deploy_webhook')?.nextRun).toBeUndefined();
    expect((await source()).upstream.version).toBe('0.9.3');
  });

  it('counts every run exactly once by job and result, including runs started and finished between two polls', async () => {
    const began = sync();
    expect(sim.runNow('build_packages')).toBe(2);
    expect(sim.runNow('ping_mirror')).toBe(1);
    await waitValue(tasks('build_packages', 'running'), 1);
    await waitValue(tasks('ping_mirror', 'running'), 1);
    await waitValue(jobsBy('running'), 2);
    expect(await value(status('build_packages', 'running'))).toBe(1);
    expect(await value(status('build_packages', 'success'))).toBe(0);
    // Let a second begin after the poll that saw them running, so each run lasts a whole second or more.
    await sleep(1000);

    // Both end now. Then, with no poll in between (this is all synchronous), build_packages #3
    // and deploy_webhook #1 start and end: neither is ever seen running.
    const ended = sync();
    sim.finishRun('build_packages', 'success');
    sim.finishRun('ping_mirror', 'failed');
    expect(sim.runNow('build_packages')).toBe(3);
    sim.finishRun('build_packages', 'failed');
    expect(sim.runNow('deploy_webhook')).toBe(1);
    sim.finishRun('deploy_webhook', 'success');

    await waitValue(runs('build_packages', 'success'), 1);
    await waitValue(runs('build_packages', 'failed'), 1);
    await waitValue(runs('ping_mirror', 'failed'), 1);
    await waitValue(runs('deploy_webhook', 'success'), 1);
    const seenAt = Date.now();
    await settle();
    expect(await value(runs('build_packages', 'success'))).toBe(1);
    expect(await value(runs('build_packages', 'failed'))).toBe(1);
    expect(await value(runs('ping_mirror', 'failed'))).toBe(1);
    expect(await value(runs('deploy_webhook', 'success'))).toBe(1);
    expect(await value(totalRuns)).toBe(4);
    expect(await value(`count(buildfarm_karajo_runs_total${sel('')})`)).toBe(4);
    expect(await value(`sum(buildfarm_tasks_finished_total${sel('kind="karajo"')})`)).toBe(4);
    expect(await value(`buildfarm_tasks_finished_total${sel('kind="karajo",repo="build_packages",phase="failed"')}`)).toBe(1);

    // Durations only where the start was seen: build_packages #2 and ping_mirror #1.
    const duration = (job: string, result: string, what: 'count' | 'sum') => `buildfarm_karajo_run_duration_seconds_${what}${sel(`karajo_job="${job}",result="${result}"`)}`;
    expect(await value(duration('build_packages', 'success', 'count'))).toBe(1);
    expect(await value(duration('ping_mirror', 'failed', 'count'))).toBe(1);
    expect(await value(`count(buildfarm_karajo_run_duration_seconds_count${sel('')})`)).toBe(2);
    // ping_mirror #1 was seen running: both its ends are the exporter's polls (the one that first saw
    // it running, on or after `began`, and the one that first saw it ended, by `seenAt`), whole seconds.
    const pingSum = (await value(duration('ping_mirror', 'failed', 'sum'))) as number;
    expect(pingSum).toBeGreaterThanOrEqual(1);
    expect(pingSum).toBeLessThanOrEqual(Math.ceil((seenAt - began) / 1000));
    // build_packages #2 was no longer the newest when seen ended: it ended at that poll.
    const buildSum = (await value(duration('build_packages', 'success', 'sum'))) as number;
    expect(buildSum).toBeGreaterThanOrEqual(1);
    expect(buildSum).toBeLessThanOrEqual(Math.ceil((seenAt - began) / 1000));

    // Runs held, by job and state: build_packages #1, #2 success and #3 failed.
    expect(await value(tasks('build_packages', 'success'))).toBe(2);
    expect(await value(tasks('build_packages', 'failed'))).toBe(1);
    expect(await value(tasks('deploy_webhook', 'success'))).toBe(1);
    expect(await value(tasks('ping_mirror', 'failed'))).toBe(1);
    expect(await value(`sum(buildfarm_tasks${sel('kind="karajo"')})`)).toBe(5);
    expect(await value(`count(buildfarm_tasks${sel('kind="karajo",phase="running"')} > 0)`)).toBeUndefined();

    // Jobs after their runs: status, last_run the end of the newest run; next slots unchanged.
    expect(await value(jobsBy('failed'))).toBe(2);
    expect(await value(jobsBy('success'))).toBe(1);
    expect(await value(jobsBy('started'))).toBe(1);
    expect(await value(status('build_packages', 'failed'))).toBe(1);
    expect(await value(status('deploy_webhook', 'success'))).toBe(1);
    for (const job of ['build_packages', 'ping_mirror', 'deploy_webhook']) expect(await value(jobGauge('last_run_timestamp_seconds', job)), job).toBe(ended / 1000);
    expect(await value(jobGauge('next_run_timestamp_seconds', 'build_packages'))).toBe(NEXT_SLOT / 1000);
    expect(await value(jobGauge('next_run_timestamp_seconds', 'ping_mirror'))).toBe(NEXT_SLOT / 1000);
    expect((await jobs()).get('build_packages')?.lastRunCounter).toBe(3);
    const run = await api<{ state: string; phase: string; repo: string; attrs: Record<string, unknown> }>(`/api/v1/tasks/${SOURCE}/build_packages%232`);
    expect(run).toMatchObject({ state: 'success', phase: 'success', repo: 'build_packages', attrs: { job: 'build_packages', job_type: 'exec', counter: 2 } });
  });

  it('survives a karajo restart: logs in again (sessions are gone), counts nothing twice', async () => {
    expect(calls(LOGIN)).toHaveLength(1);
    const before = await source();
    const errors = `buildfarm_source_polls_total${sel('result="error"')}`;
    const errorsBefore = await value(errors);
    const oldCookie = calls(ENV).at(-1)?.cookie;
    sync();
    sim.restart();
    await waitUntil(() => calls(LOGIN).length === 2, 10_000, { what: 'a second login after the restart', intervalMs: 20 });
    await waitUntil(() => calls(ENV).at(-1)?.cookie !== oldCookie, 10_000, { what: 'a read with the new session cookie', intervalMs: 20 });
    // The refused read, the login, and the same read again, within one poll.
    const i = sim.requests.findLastIndex((r) => `${r.method} ${r.path}` === LOGIN);
    expect(sim.requests.slice(i - 1, i + 2).map((r) => `${r.method} ${r.path}`)).toEqual([ENV, LOGIN, ENV]);
    expect(sim.requests[i - 1]?.cookie).toBe(oldCookie);
    expect(sim.requests[i + 1]?.cookie).toMatch(/^karajo=[A-Za-z0-9]{32}$/);
    expect(sim.requests[i + 1]?.cookie).not.toBe(oldCookie);

    await settle();
    expect(await value(totalRuns)).toBe(4);
    expect(await value(`count(buildfarm_karajo_runs_total${sel('')})`)).toBe(4);
    expect(await value(`sum(buildfarm_tasks_finished_total${sel('kind="karajo"')})`)).toBe(4);
    expect(await value(`sum(buildfarm_tasks${sel('kind="karajo"')})`)).toBe(5);
    expect(await value(`buildfarm_source_up${sel('')}`)).toBe(1);
    // The login retry happened inside a poll: no poll failed.
    expect(await value(errors)).toBe(errorsBefore);
    const after = await source();
    expect(after.polls.failed).toBe(before.polls.failed);
    expect(after.consecutive_failures).toBe(0);
    // karajo read its state back from the log files: the same statuses and times.
    expect(await value(status('build_packages', 'failed'))).toBe(1);
    expect(await value(jobGauge('next_run_timestamp_seconds', 'build_packages'))).toBe(NEXT_SLOT / 1000);
    expect(calls(LOGIN)).toHaveLength(2);
  });

  it("reads a run's log from karajo only when asked, as text/plain", async () => {
    // No poll ever read a log.
    expect(sim.requests.filter((r) => isLogRead(r.path))).toEqual([]);

    const res = await fetch(`${exporter.url}/api/v1/tasks/${SOURCE}/build_packages%233/log`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(res.headers.get('x-log-status')).toBe('failed');
    const text = await res.text();
    const http = await fetch(`${exporter.url}/api/v1/tasks/${SOURCE}/ping_mirror%231/log`);
    expect(http.status).toBe(200);
    const httpText = await http.text();

    // Exactly the two reads, by the exporter, with its session.
    const logReads = sim.requests.filter((r) => isLogRead(r.path));
    expect(logReads.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /karajo/api/job_exec/log?id=build_packages&counter=3', 'GET /karajo/api/job_http/log?id=ping_mirror&counter=1']);
    expect(logReads.every((r) => r.cookie === calls(ENV).at(-1)?.cookie)).toBe(true);

    expect(text).toBe(await karajoLog('exec', 'build_packages', 3));
    expect(text).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC job: build_packages: === BEGIN\n/);
    expect(text).toContain('!!! job: build_packages: exit status 1\n');
    expect(httpText).toBe(await karajoLog('http', 'ping_mirror', 1));
    expect(httpText).toContain('HTTP/1.1 502 Bad Gateway');

    // A run the exporter does not hold: 404, and karajo is not asked.
    const reads = sim.requests.length;
    const unknown = await fetch(`${exporter.url}/api/v1/tasks/${SOURCE}/build_packages%2399/log`);
    expect(unknown.status).toBe(404);
    expect(sim.requests.slice(reads).filter((r) => isLogRead(r.path))).toEqual([]);
  });

  it('shows a paused job as paused, and a stalled job as overdue once its next run is an interval late', async () => {
    // Two probes every 10 s, added now: next_run is now for both. The stale one's timer is stalled.
    const added = sync();
    for (const spec of PROBES) sim.addJob(spec);
    sim.stall('stale_probe');
    await waitValue(jobGauge('next_run_timestamp_seconds', 'stale_probe'), added / 1000);
    await waitValue(jobGauge('next_run_timestamp_seconds', 'fresh_probe'), added / 1000);
    // Seen well before either is an interval late (10 s after `added`).
    expect(await value(jobGauge('overdue', 'stale_probe'))).toBe(0);
    expect(await value(jobGauge('overdue', 'fresh_probe'))).toBe(0);
    expect(Date.now()).toBeLessThan(added + PROBE_MS);

    sim.pause('rotate_logs');
    await waitValue(jobGauge('paused', 'rotate_logs'), 1);
    expect(await value(status('rotate_logs', 'paused'))).toBe(1);
    expect(await value(status('rotate_logs', 'started'))).toBe(0);
    expect(await value(jobsBy('paused'))).toBe(1);
    expect(await value(`sum(buildfarm_karajo_job_paused${sel('')})`)).toBe(1);
    expect((await jobs()).get('rotate_logs')).toMatchObject({ status: 'paused', paused: true, overdue: false });
    // A JobExec resumes to no status at all.
    sim.resume('rotate_logs');
    await waitValue(jobGauge('paused', 'rotate_logs'), 0);
    expect(await value(status('rotate_logs', 'none'))).toBe(1);
    expect(await value(`sum(buildfarm_karajo_job_status${sel('karajo_job="rotate_logs"')})`)).toBe(1);
    expect((await value(jobsBy('paused'))) ?? 0).toBe(0);

    // 5 s on (never past real time): the fresh probe's timer fires and its run ends at once; the
    // stalled one's does not, so its next_run stays where it was.
    const stepAt = added + 5000;
    await waitUntil(() => Date.now() >= stepAt, 10_000, { what: 'real time to reach the step', intervalMs: 20 });
    expect(clock.now()).toBeLessThanOrEqual(stepAt);
    clock.set(stepAt);
    sim.step();
    await waitValue(jobGauge('next_run_timestamp_seconds', 'fresh_probe'), (added + PROBE_MS) / 1000);
    expect(await value(jobGauge('last_run_timestamp_seconds', 'fresh_probe'))).toBe(added / 1000);
    // The first run of a job that appeared after the first poll is news.
    await waitValue(runs('fresh_probe', 'success'), 1);

    // Overdue is judged on the exporter's clock: the stale probe once real time passes added + 10 s.
    await waitValue(jobGauge('overdue', 'stale_probe'), 1, 20_000);
    expect(Date.now()).toBeGreaterThan(added + PROBE_MS);
    expect(await value(jobGauge('next_run_timestamp_seconds', 'stale_probe'))).toBe(added / 1000);
    expect(await value(`count(${jobGauge('last_run_timestamp_seconds', 'stale_probe')})`)).toBeUndefined();
    expect(await value(status('stale_probe', 'started'))).toBe(1);
    // The fresh one is due at added + 10 s: late, but not yet by a whole interval.
    expect(await value(jobGauge('overdue', 'fresh_probe'))).toBe(0);
    expect(Date.now()).toBeLessThan(added + 2 * PROBE_MS);
    expect(await value(`sum(buildfarm_karajo_job_overdue${sel('')})`)).toBe(1);
    const j = await jobs();
    expect(j.get('stale_probe')).toMatchObject({ overdue: true, intervalSeconds: 10, jobType: 'http' });
    expect(j.get('fresh_probe')).toMatchObject({ overdue: false, lastRunCounter: 1 });
    expect(await value(totalRuns)).toBe(5);
  });

  it("drops a deleted job's series and keeps the others; a job added back brings no news but its new runs", async () => {
    sim.deleteJob('deploy_webhook');
    await waitValue(`count(buildfarm_karajo_job_status${sel('karajo_job="deploy_webhook"')})`, undefined);
    for (const family of ['paused', 'overdue', 'last_run_timestamp_seconds']) {
      expect(await value(`absent(${jobGauge(family, 'deploy_webhook')})`), family).toBe(1);
    }
    expect(await value(`count(buildfarm_tasks${sel('repo="deploy_webhook"')})`)).toBeUndefined();
    expect((await jobs()).has('deploy_webhook')).toBe(false);
    // The others stay.
    expect(await value(`count(buildfarm_karajo_job_status${sel('')})`)).toBe(5 * 8);
    expect(await value(status('build_packages', 'failed'))).toBe(1);
    expect(await value(`sum(buildfarm_jobs${sel('')})`)).toBe(5);
    expect(await value(tasks('build_packages', 'success'))).toBe(2);

    // Back in the config: its old run comes back from its log file, and is not counted again.
    sync();
    sim.addJob(JOBS[1] as KarajoSimJobSpec);
    await waitValue(tasks('deploy_webhook', 'success'), 1);
    expect(await value(status('deploy_webhook', 'success'))).toBe(1);
    await settle(2);
    expect(await value(runs('deploy_webhook', 'success'))).toBe(1);
    // Its next run (#2, the counter goes on), started and ended between two polls, is.
    const ended = sync();
    expect(sim.runNow('deploy_webhook')).toBe(2);
    sim.finishRun('deploy_webhook', 'failed');
    await waitValue(runs('deploy_webhook', 'failed'), 1);
    await settle(2);
    expect(await value(runs('deploy_webhook', 'success'))).toBe(1);
    expect(await value(runs('deploy_webhook', 'failed'))).toBe(1);
    expect(await value(totalRuns)).toBe(6);
    expect(await value(jobGauge('last_run_timestamp_seconds', 'deploy_webhook'))).toBe(ended / 1000);
  });

  it('marks the source down on an HTML answer with a text/html error, keeps the last jobs, and comes back', async () => {
    sim.setMode('html');
    await waitValue(`buildfarm_source_up${sel('kind="karajo"')}`, 0);
    const down = await source();
    expect(down.up).toBe(false);
    expect(down.last_error?.message).toMatch(/not valid JSON \(text\/html/);
    expect(down.consecutive_failures).toBeGreaterThan(0);
    // The last good state is still exported.
    expect(await value(`sum(buildfarm_jobs${sel('')})`)).toBe(6);
    expect(await value(status('build_packages', 'failed'))).toBe(1);
    expect(await value(jobGauge('overdue', 'stale_probe'))).toBe(1);
    expect(await value(`sum(buildfarm_tasks${sel('kind="karajo"')})`)).toBe(7);

    sim.setMode('ok');
    await waitValue(`buildfarm_source_up${sel('kind="karajo"')}`, 1);
    await settle(2);
    // Up again; the error is kept for the record, the failure streak is over.
    expect(await source()).toMatchObject({ up: true, consecutive_failures: 0, last_error: { code: 'payload' } });
    expect(await value(totalRuns)).toBe(6);
    expect(await value(`sum(buildfarm_tasks_finished_total${sel('kind="karajo"')})`)).toBe(6);
  });

  it('never shows the password or the session cookie in its output, the API or the metrics', async () => {
    const cookies = new Set(sim.requests.map((r) => r.cookie?.replace(/^karajo=/, '')).filter((c): c is string => c !== undefined));
    expect(cookies.size).toBeGreaterThanOrEqual(2);
    const output = `${exporter.stdout()}\n${exporter.stderr()}`;
    expect(output).toContain('listening on');
    const leaks = (text: string) => [PASSWORD, ...cookies].filter((secret) => text.includes(secret));
    expect(leaks(output)).toEqual([]);
    for (const path of ['/api/v1/sources', `/api/v1/jobs?source=${SOURCE}`, `/api/v1/tasks?source=${SOURCE}&limit=1000`, '/metrics']) {
      const res = await fetch(`${exporter.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(leaks(await res.text()), path).toEqual([]);
    }
  });

  it('serves an exposition that passes promtool check metrics', async () => {
    const body = await (await fetch(`${exporter.url}/metrics`)).text();
    expect(body).toContain('buildfarm_karajo_runs_total');
    expect(body).toContain('buildfarm_karajo_job_overdue');
    const file = join(dir, 'metrics.txt');
    await writeFile(file, body);
    const { stdout, stderr } = await promisify(execFile)('sh', ['-c', `${promtoolBin} check metrics < ${file}`]);
    expect(`${stdout}${stderr}`.trim()).toBe('');
  });
});
