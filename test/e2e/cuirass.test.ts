/**
 * End to end for the `cuirass` source: the Cuirass simulator (in process, on loopback) -> the real
 * exporter process -> a real Prometheus scraping it. The simulator has its own small
 * specifications and a manual clock, and is never stepped: nothing happens unless the test does it
 * (evaluate, finishEvaluation, startBuild, finishBuild), so every count and duration is exact.
 * Asserts through Prometheus's HTTP API and the exporter's own API.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CuirassSimulator } from '../../exporter/src/sources/cuirass/simulator.js';
import { ManualClock } from '../../exporter/src/util/clock.js';
import { waitUntil } from '../../exporter/src/util/wait-until.js';
import { startReadyExporter, type ExporterProcess } from '../support/exporter-process.js';
import { startScrapingPrometheus, type PrometheusServer } from '../support/prometheus.js';
import { promAsserts } from '../support/prom-assert.js';
import { teardownE2e } from '../support/teardown.js';
import { requireTool } from '../support/tools.js';

const prometheusBin = requireTool('prometheus', 'prometheus');
const promtoolBin = requireTool('promtool', 'prometheus');

const SOURCE = 'guix-ci';
const X86 = 'x86_64-linux';
const ARM = 'aarch64-linux';
/** guix: 3 jobs x 2 systems = 6 builds per evaluation, in job then system order; hello: 2 jobs x 1 system. */
const SPECS = [
  { name: 'guix', systems: [X86, ARM], jobs: 3, periodSeconds: 900, failRate: 0 },
  { name: 'hello', systems: [X86], jobs: 2, periodSeconds: 300, failRate: 0 },
];

interface SourceView {
  name: string;
  up: boolean;
  consecutive_failures: number;
  last_error: { code: string; message: string } | null;
  problems?: { current: Record<string, number>; total: Record<string, number> };
}
interface TaskView {
  id: string;
  state: string;
  phase: string;
  repo?: string;
  archs: string[];
  attrs?: Record<string, unknown>;
  native?: Record<string, unknown>;
}

describe.skipIf(!prometheusBin || !promtoolBin)('cuirass source: simulator -> exporter -> real Prometheus', () => {
  // Real now, whole seconds: upstream times are epoch seconds, so every duration is exact.
  const T0 = Math.floor(Date.now() / 1000) * 1000;
  const clock = new ManualClock(T0);
  let sim: CuirassSimulator;
  let simUrl: string;
  let exporter: ExporterProcess;
  let prom: PrometheusServer;
  let dir: string;
  /** Builds and evaluations by name in this test, for the later steps. */
  const ev: Record<string, number> = {};
  let guix1: number[] = [];
  let hello1: number[] = [];

  const { value, waitValue, settle } = promAsserts(() => prom, SOURCE);
  const api = async <T>(path: string): Promise<T> => (await (await fetch(`${exporter.url}${path}`)).json()) as T;
  const source = async () => (await api<{ sources: SourceView[] }>('/api/v1/sources')).sources.find((s) => s.name === SOURCE) as SourceView;
  const sel = (more: string) => `{source="${SOURCE}"${more ? `,${more}` : ''}}`;
  const pending = (repo: string, arch: string, state: string) => `buildfarm_cuirass_pending_builds${sel(`repo="${repo}",arch="${arch}",state="${state}"`)}`;
  const completed = (repo: string, arch: string, result: string) => `buildfarm_cuirass_builds_completed_total${sel(`repo="${repo}",arch="${arch}",result="${result}"`)}`;
  const evalTasks = (repo: string, state: string) => `buildfarm_tasks${sel(`kind="cuirass",repo="${repo}",state="${state}"`)}`;
  const evalDuration = (repo: string, result: string, what: 'count' | 'sum') => `buildfarm_cuirass_evaluation_duration_seconds_${what}${sel(`repo="${repo}",result="${result}"`)}`;
  const totalCompleted = `sum(buildfarm_cuirass_builds_completed_total${sel('')})`;

  beforeAll(async () => {
    sim = new CuirassSimulator({ clock, seed: 11, specs: SPECS });
    simUrl = await sim.listen();
    dir = await mkdtemp(join(tmpdir(), 'buildscope-e2e-cuirass-'));
    const config = join(dir, 'buildscope.yaml');
    await writeFile(config, ['sources:', `  - name: ${SOURCE}`, '    kind: cuirass', `    url: "${simUrl}"`, '    interval: 1s', '    timeout: 5s', ''].join('\n'));
    exporter = await startReadyExporter(config, []);
    prom = await startScrapingPrometheus(prometheusBin as string, exporter.url);
  }, 60_000);

  afterAll(async () => {
    const code = await teardownE2e({ prom, exporter, upstream: sim, dir });
    if (exporter) expect(code).toBe(0);
  });

  it('is up on an empty database that nothing evaluates unless the test does', async () => {
    await waitValue(`buildfarm_source_up${sel('kind="cuirass"')}`, 1, 20_000);
    await settle(2);
    const paths = new Set(sim.requests.map((r) => r.path));
    expect(paths).toEqual(new Set(['/api/queue?nr=1000', '/api/latestbuilds?nr=500', '/api/evaluations?nr=50', '/specifications']));
    // Given specifications start empty: no step(), no evaluation.
    const evals = (await (await fetch(`${simUrl}/api/evaluations?nr=10`)).json()) as unknown[];
    expect(evals).toEqual([]);
    expect(await value(`count(buildfarm_tasks${sel('kind="cuirass"')} > 0)`)).toBeUndefined();
    expect(await value(`count(buildfarm_cuirass_pending_builds${sel('')})`)).toBeUndefined();
    expect(await value(`buildfarm_cuirass_oldest_pending_timestamp_seconds${sel('')}`)).toBeUndefined();
  });

  it('shows running evaluations, then the queue of the builds they submitted', async () => {
    ev.guix1 = sim.evaluate('guix');
    ev.hello1 = sim.evaluate('hello');
    await waitValue(evalTasks('guix', 'evaluating'), 1);
    await waitValue(evalTasks('hello', 'evaluating'), 1);

    clock.advance(30_000);
    hello1 = sim.finishEvaluation(ev.hello1, 0);
    clock.advance(10_000);
    guix1 = sim.finishEvaluation(ev.guix1, 0);
    expect(hello1).toHaveLength(2);
    expect(guix1).toHaveLength(6);

    await waitValue(pending('guix', X86, 'submitted'), 3);
    await waitValue(pending('guix', ARM, 'submitted'), 3);
    await waitValue(pending('hello', X86, 'submitted'), 2);
    // Never stepped: the builds stay submitted, none is scheduled.
    expect(await value(`count(buildfarm_cuirass_pending_builds${sel('state="scheduled"')})`)).toBeUndefined();
    expect(await value(`sum(buildfarm_cuirass_pending_builds${sel('')})`)).toBe(8);
    // hello's builds were created first, 30 s in.
    expect(await value(`buildfarm_cuirass_oldest_pending_timestamp_seconds${sel('')}`)).toBe(T0 / 1000 + 30);

    await waitValue(evalTasks('guix', 'evaluated'), 1);
    await waitValue(evalTasks('hello', 'evaluated'), 1);
    // No evaluation is running any more: the series is gone (or 0).
    expect((await value(evalTasks('guix', 'evaluating'))) ?? 0).toBe(0);
    await settle(2);
    expect(await value(evalDuration('guix', 'evaluated', 'count'))).toBe(1);
    expect(await value(evalDuration('guix', 'evaluated', 'sum'))).toBe(40);
    expect(await value(evalDuration('hello', 'evaluated', 'count'))).toBe(1);
    expect(await value(evalDuration('hello', 'evaluated', 'sum'))).toBe(30);
    expect(await value(totalCompleted)).toBeUndefined();
  });

  it('counts started and finished builds exactly once, including one never seen pending', async () => {
    const [g0x, g0a, g1x, g1a, g2x] = guix1 as [number, number, number, number, number, number];
    clock.advance(5_000);
    sim.startBuild(g0x);
    sim.startBuild(g1x);
    sim.startBuild(g0a);
    await waitValue(pending('guix', X86, 'started'), 2);
    await waitValue(pending('guix', ARM, 'started'), 1);
    expect(await value(pending('guix', X86, 'submitted'))).toBe(1);
    expect(await value(pending('guix', ARM, 'submitted'))).toBe(2);

    clock.advance(20_000);
    sim.finishBuild(g0x, 0); // hello.x86_64-linux of guix: succeeded
    sim.finishBuild(g1x, 1);
    sim.finishBuild(g0a, 2);
    sim.finishBuild(g1a, 4); // canceled while submitted
    sim.finishBuild(hello1[0] as number, 0); // never started, finished
    await waitValue(completed('guix', X86, 'succeeded'), 1);
    await waitValue(completed('guix', X86, 'failed'), 1);
    await waitValue(completed('guix', ARM, 'failed-dependency'), 1);
    await waitValue(completed('guix', ARM, 'canceled'), 1);
    await waitValue(completed('hello', X86, 'succeeded'), 1);

    // A second guix evaluation, evaluated, and one of its builds submitted, started and finished,
    // all between two polls: new ids, counted though never seen pending.
    clock.advance(5_000);
    ev.guix2 = sim.evaluate('guix');
    clock.advance(25_000);
    const guix2 = sim.finishEvaluation(ev.guix2, 0);
    const [n0x] = guix2 as [number];
    sim.startBuild(n0x);
    clock.advance(7_000);
    sim.finishBuild(n0x, 1); // hello.x86_64-linux again: it succeeded before, so a new failure
    ev.hello2 = sim.evaluate('hello');
    clock.advance(21_000);
    sim.finishEvaluation(ev.hello2, 1);
    sim.finishBuild(g2x, 3);

    await waitValue(completed('guix', X86, 'failed'), 2);
    await waitValue(completed('guix', X86, 'failed-other'), 1);
    await waitValue(`buildfarm_cuirass_new_failures_total${sel(`repo="guix",arch="${X86}"`)}`, 1);
    await waitValue(evalDuration('guix', 'evaluated', 'count'), 2);
    await waitValue(evalDuration('hello', 'evaluation-failed', 'count'), 1);
    await settle();
    expect(await value(completed('guix', X86, 'succeeded'))).toBe(1);
    expect(await value(completed('guix', X86, 'failed'))).toBe(2);
    expect(await value(completed('guix', X86, 'failed-other'))).toBe(1);
    expect(await value(completed('guix', ARM, 'failed-dependency'))).toBe(1);
    expect(await value(completed('guix', ARM, 'canceled'))).toBe(1);
    expect(await value(completed('hello', X86, 'succeeded'))).toBe(1);
    expect(await value(totalCompleted)).toBe(7);
    expect(await value(`sum(buildfarm_cuirass_new_failures_total${sel('')})`)).toBe(1);
    expect(await value(evalDuration('guix', 'evaluated', 'sum'))).toBe(40 + 25);
    expect(await value(evalDuration('hello', 'evaluation-failed', 'sum'))).toBe(21);
    expect(await value(evalTasks('guix', 'evaluated'))).toBe(2);
    expect(await value(evalTasks('hello', 'evaluated'))).toBe(1);
    expect(await value(evalTasks('hello', 'evaluation-failed'))).toBe(1);
    // The queue now: guix eval 1 has g2a submitted; eval 2 has 5 submitted (n0x finished); hello1[1] submitted.
    expect(await value(pending('guix', X86, 'submitted'))).toBe(2);
    expect(await value(pending('guix', ARM, 'submitted'))).toBe(4);
    expect(await value(pending('hello', X86, 'submitted'))).toBe(1);
    expect(await value(`count(buildfarm_cuirass_pending_builds${sel('state="started"')} > 0)`)).toBeUndefined();
    // Durations of the generic family: builds seen with a start and an end (g0x, g1x, g0a 20 s; n0x 7 s;
    // hello1[0], g2x started at their end: 0 s; the canceled one never started). Evaluations have no
    // run start, so they are only in buildfarm_cuirass_evaluation_duration_seconds.
    const durationCount = `sum(buildfarm_task_duration_seconds_count${sel('kind="cuirass"')})`;
    expect(await value(durationCount)).toBe(6);

    const g = await api<TaskView>(`/api/v1/tasks/${SOURCE}/${n0x}`);
    expect(g).toMatchObject({ id: String(n0x), state: 'failed', phase: 'failed', repo: 'guix', archs: [X86], attrs: { job: `hello.${X86}`, weather: 'new-failure', evaluation: ev.guix2 } });
    expect(g.native).toMatchObject({ id: n0x, jobset: 'guix', system: X86, buildstatus: 1, weather: 1, evaluation: ev.guix2 });
  });

  it('lists evaluations as eval-<id> tasks', async () => {
    const list = await api<{ items: TaskView[] }>(`/api/v1/tasks?source=${SOURCE}&state=ALL&limit=1000`);
    const evals = list.items.filter((t) => t.id.startsWith('eval-')).map((t) => [t.id, t.repo, t.state]).sort();
    expect(evals).toEqual(
      [
        [`eval-${ev.guix1}`, 'guix', 'evaluated'],
        [`eval-${ev.guix2}`, 'guix', 'evaluated'],
        [`eval-${ev.hello1}`, 'hello', 'evaluated'],
        [`eval-${ev.hello2}`, 'hello', 'evaluation-failed'],
      ].sort(),
    );
    expect(list.items.filter((t) => !t.id.startsWith('eval-'))).toHaveLength(14);
  });

  it('marks the source down on an HTML answer, keeps the last good state, and comes back', async () => {
    sim.setMode('html');
    await waitValue(`buildfarm_source_up${sel('kind="cuirass"')}`, 0);
    const down = await source();
    expect(down.up).toBe(false);
    expect(down.last_error?.message).toMatch(/not valid JSON \(text\/html/);
    expect(down.consecutive_failures).toBeGreaterThan(0);
    expect(await value(`sum(buildfarm_cuirass_pending_builds${sel('')})`)).toBe(7);
    expect(await value(totalCompleted)).toBe(7);
    sim.setMode('ok');
    await waitValue(`buildfarm_source_up${sel('kind="cuirass"')}`, 1);
    await settle(2);
    expect(await source()).toMatchObject({ up: true, consecutive_failures: 0 });
    expect(await value(totalCompleted)).toBe(7);
  });

  it('takes a wiped database as a new baseline: nothing counted twice, new builds counted after', async () => {
    const before = (await value(`sum(buildfarm_source_polls_total${sel('')})`)) ?? 0;
    sim.resetDatabase();
    // The empty database is polled at least once.
    await waitUntil(async () => ((await value(`sum(buildfarm_source_polls_total${sel('')})`)) ?? 0) >= before + 2, 15_000, { what: 'polls of the empty database' });
    await waitValue(`count(buildfarm_cuirass_pending_builds${sel('')})`, undefined);
    // A new evaluation with builds, ids from 1 again (4 < 14 / 2), one finished before the next poll:
    // the reset poll is the baseline and counts nothing.
    const e = sim.evaluate('hello');
    clock.advance(30_000);
    const [h0, h1] = sim.finishEvaluation(e, 0) as [number, number];
    expect(h0).toBe(1);
    sim.finishBuild(h0, 0);
    await waitUntil(async () => ((await source()).problems?.total.ids_reset ?? 0) >= 1, 15_000, { what: 'ids_reset reported' });
    await waitValue(pending('hello', X86, 'submitted'), 1);
    await settle(2);
    expect(await value(totalCompleted)).toBe(7);

    // Builds after the baseline are counted.
    sim.startBuild(h1);
    clock.advance(3_000);
    sim.finishBuild(h1, 1);
    await waitValue(completed('hello', X86, 'failed'), 1);
    await settle();
    expect(await value(totalCompleted)).toBe(8);
    expect(await value(completed('hello', X86, 'succeeded'))).toBe(1);
  });

  it('serves an exposition that passes promtool check metrics', async () => {
    const body = await (await fetch(`${exporter.url}/metrics`)).text();
    expect(body).toContain('buildfarm_cuirass_builds_completed_total');
    const file = join(dir, 'metrics.txt');
    await writeFile(file, body);
    const { stdout, stderr } = await promisify(execFile)('sh', ['-c', `${promtoolBin} check metrics < ${file}`]);
    expect(`${stdout}${stderr}`.trim()).toBe('');
  });
});
