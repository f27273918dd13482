/**
 * End to end for the `apb` source: the APB simulator (three build servers and a farm, on loopback)
 * -> the real exporter process -> a real Prometheus scraping it. Two servers are polled directly,
 * the third is known only through the farm (admin token, so the farm shows real URLs). Builds are
 * placed and moved by hand on a manual clock (`traffic: false`, no step()), so every count and
 * duration is known exactly. Asserts through Prometheus's HTTP API, and the exporter's own API for
 * worker errors, endpoint health and the token.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApbSimulator } from '../../exporter/src/sources/apb/simulator.js';
import { ManualClock } from '../../exporter/src/util/clock.js';
import { waitUntil } from '../../exporter/src/util/wait-until.js';
import { startReadyExporter, type ExporterProcess } from '../support/exporter-process.js';
import { startScrapingPrometheus, type PrometheusServer } from '../support/prometheus.js';
import { promAsserts } from '../support/prom-assert.js';
import { teardownE2e } from '../support/teardown.js';
import { requireTool } from '../support/tools.js';

const prometheusBin = requireTool('prometheus', 'prometheus');
const promtoolBin = requireTool('promtool', 'prometheus');

const SOURCE = 'archpower';
const TOKEN = 'e2e-farm-token-7c1f9a04d2b84e6f93a5';
const SPECS = [
  { name: 'ppc64le-1', arch: 'powerpc64le', maxConcurrent: 2, cores: 32 },
  { name: 'ppc64le-2', arch: 'powerpc64le', maxConcurrent: 3, cores: 16 },
  { name: 'riscv64-1', arch: 'riscv64', maxConcurrent: 1, cores: 4 },
];

interface WorkerView {
  id: string;
  up: boolean;
  archs: string[];
  capacity?: number;
  cpuCores?: number;
  lastError?: { message: string; at: string };
}
interface EndpointView {
  name: string;
  role: string;
  up: boolean;
  consecutive_failures: number;
  last_error: { message: string } | null;
}
interface SourceView {
  name: string;
  up: boolean;
  endpoints?: EndpointView[];
}

describe.skipIf(!prometheusBin || !promtoolBin)('apb source: simulator -> exporter -> real Prometheus', () => {
  // Whole seconds, ten minutes in the past: upstream times are never in the exporter's future,
  // and truncating them to seconds keeps every duration exact.
  const clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000 - 600_000);
  let sim: ApbSimulator;
  let exporter: ExporterProcess;
  let prom: PrometheusServer;
  let dir: string;
  /** Worker id of the server known only through the farm: host:port of the real URL an admin sees. */
  let farmOnlyWorker: string;
  /** Builds by name in this test, for the later steps. */
  const ids: Record<string, string> = {};

  const { value, waitValue, settle } = promAsserts(() => prom, SOURCE);
  const api = async <T>(path: string): Promise<T> => (await (await fetch(`${exporter.url}${path}`)).json()) as T;
  const workers = async () => new Map((await api<{ items: WorkerView[] }>(`/api/v1/workers?source=${SOURCE}`)).items.map((w) => [w.id, w]));
  const endpoints = async () => (await api<{ sources: SourceView[] }>('/api/v1/sources')).sources.find((s) => s.name === SOURCE)?.endpoints ?? [];

  beforeAll(async () => {
    sim = new ApbSimulator({ clock, seed: 7, servers: SPECS, farm: { token: TOKEN }, rootDelayMs: 50, traffic: false });
    const listening = await sim.listen();
    const url = (name: string) => listening.servers.find((s) => s.name === name)?.url as string;
    farmOnlyWorker = new URL(url('riscv64-1')).host;

    // A build that finished before the exporter started: held and shown, but the baseline, not news.
    ids.old = sim.submit('ppc64le-1', 'bash');
    sim.startBuild(ids.old);
    clock.advance(5_000);
    sim.finishBuild(ids.old, 'completed');

    dir = await mkdtemp(join(tmpdir(), 'buildscope-e2e-apb-'));
    const config = join(dir, 'buildscope.yaml');
    await writeFile(
      config,
      [
        'sources:',
        `  - name: ${SOURCE}`,
        '    kind: apb',
        '    interval: 1s',
        '    timeout: 5s',
        '    wait: 500ms',
        '    server_timeout: 2s',
        '    servers:',
        `      - { url: "${url('ppc64le-1')}", name: ppc64le-1, labels: { site: lab-a } }`,
        `      - { url: "${url('ppc64le-2')}", name: ppc64le-2 }`,
        '    farm:',
        `      url: "${listening.farmUrl as string}"`,
        '      token: ${APB_TOKEN}',
        '',
      ].join('\n'),
    );
    // Debug logging: the most output the token could leak into.
    exporter = await startReadyExporter(config, ['--log.level=debug'], { APB_TOKEN: TOKEN });
    prom = await startScrapingPrometheus(prometheusBin as string, exporter.url);
  }, 60_000);

  afterAll(async () => {
    const code = await teardownE2e({ prom, exporter, upstream: sim, dir });
    if (exporter) expect(code).toBe(0);
  });

  it('reports both direct servers and the farm-only server as workers with the simulator specs', async () => {
    for (const w of ['ppc64le-1', 'ppc64le-2', farmOnlyWorker]) {
      await waitValue(`buildfarm_worker_up{source="${SOURCE}",kind="apb",worker="${w}"}`, 1, 20_000);
    }
    await waitValue(`buildfarm_source_up{source="${SOURCE}",kind="apb"}`, 1);
    expect(await value(`buildfarm_apb_farm_up{source="${SOURCE}"}`)).toBe(1);
    expect(await value(`count(buildfarm_worker_up{source="${SOURCE}"})`)).toBe(3);
    for (const spec of SPECS) {
      const worker = spec.name === 'riscv64-1' ? farmOnlyWorker : spec.name;
      expect(await value(`buildfarm_worker_capacity{source="${SOURCE}",worker="${worker}"}`), worker).toBe(spec.maxConcurrent);
      expect(await value(`buildfarm_worker_cpu_cores{source="${SOURCE}",worker="${worker}"}`), worker).toBe(spec.cores);
      expect(await value(`buildfarm_worker_arch_info{source="${SOURCE}",worker="${worker}",arch="${spec.arch}"}`), worker).toBe(1);
    }
    expect(await value(`buildfarm_workers{source="${SOURCE}",state="down"}`)).toBe(0);
    // The build that finished before the exporter started is held, and was not counted as finished.
    await waitValue(`buildfarm_tasks{source="${SOURCE}",kind="apb",repo="powerpc64le",state="completed",phase="success"}`, 1);
    expect(await value(`buildfarm_tasks_finished_total{source="${SOURCE}"}`)).toBeUndefined();

    const w = await workers();
    expect(w.get(farmOnlyWorker)).toMatchObject({ up: true, archs: ['riscv64'], capacity: 1, cpuCores: 4 });
    expect(w.get('ppc64le-1')).toMatchObject({ up: true, labels: { site: 'lab-a' } });
  });

  it('counts every finished build exactly once, including one submitted and finished between two polls', async () => {
    // Running: a direct build and a farm build on ppc64le-1, a farm build on the farm-only riscv64-1,
    // one on ppc64le-2; one queued on ppc64le-2.
    ids.a = sim.submit('ppc64le-1', 'zlib');
    sim.startBuild(ids.a);
    ids.b = sim.submit('ppc64le-1', 'openssl', { viaFarm: true });
    sim.startBuild(ids.b);
    ids.r = sim.submit('riscv64-1', 'gcc', { viaFarm: true });
    sim.startBuild(ids.r);
    ids.q2 = sim.submit('ppc64le-2', 'llvm');
    sim.startBuild(ids.q2);
    ids.q = sim.submit('ppc64le-2', 'glibc');

    const tasks = (repo: string, state: string) => `buildfarm_tasks{source="${SOURCE}",kind="apb",repo="${repo}",state="${state}"}`;
    await waitValue(tasks('powerpc64le', 'building'), 3);
    await waitValue(tasks('riscv64', 'building'), 1);
    await waitValue(tasks('powerpc64le', 'queued'), 1);
    await waitValue(`buildfarm_worker_running_tasks{source="${SOURCE}",worker="ppc64le-1"}`, 2);
    await waitValue(`buildfarm_worker_queued_tasks{source="${SOURCE}",worker="ppc64le-2"}`, 1);
    // Both of ppc64le-1's slots busy: its /health executor probe fails, so it says degraded.
    await waitValue(`buildfarm_apb_server_health{source="${SOURCE}",worker="ppc64le-1",status="degraded"}`, 1);
    expect(await value(`buildfarm_apb_server_health{source="${SOURCE}",worker="ppc64le-2",status="healthy"}`)).toBe(1);
    // The farm-only server has no /health of its own in the exporter's view.
    expect(await value(`count(buildfarm_apb_server_health{source="${SOURCE}",worker="${farmOnlyWorker}"})`)).toBeUndefined();

    // 30 s later three builds end. Then, with no poll in between (all of this is synchronous),
    // c runs 7 s and d (through the farm) 3 s: neither is ever seen running or queued.
    clock.advance(30_000);
    sim.finishBuild(ids.a, 'completed');
    sim.finishBuild(ids.b, 'failed');
    sim.finishBuild(ids.r, 'completed');
    ids.c = sim.submit('ppc64le-1', 'rust');
    sim.startBuild(ids.c);
    clock.advance(7_000);
    sim.finishBuild(ids.c, 'completed');
    ids.d = sim.submit('ppc64le-2', 'python', { viaFarm: true });
    sim.startBuild(ids.d);
    clock.advance(3_000);
    sim.finishBuild(ids.d, 'failed');

    const finished = (repo: string, phase: string) => `buildfarm_tasks_finished_total{source="${SOURCE}",kind="apb",repo="${repo}",phase="${phase}"}`;
    const duration = (repo: string, phase: string, what: 'count' | 'sum') => `buildfarm_task_duration_seconds_${what}{source="${SOURCE}",kind="apb",repo="${repo}",phase="${phase}"}`;
    await waitValue(finished('powerpc64le', 'success'), 2); // a, c (old was the baseline)
    await waitValue(finished('powerpc64le', 'failed'), 2); // b, d
    await waitValue(finished('riscv64', 'success'), 1); // r
    await settle();
    expect(await value(finished('powerpc64le', 'success'))).toBe(2);
    expect(await value(finished('powerpc64le', 'failed'))).toBe(2);
    expect(await value(finished('riscv64', 'success'))).toBe(1);
    expect(await value(`sum(buildfarm_tasks_finished_total{source="${SOURCE}"})`)).toBe(5);
    expect(await value(duration('powerpc64le', 'success', 'count'))).toBe(2);
    expect(await value(duration('powerpc64le', 'success', 'sum'))).toBe(30 + 7);
    expect(await value(duration('powerpc64le', 'failed', 'count'))).toBe(2);
    expect(await value(duration('powerpc64le', 'failed', 'sum'))).toBe(30 + 3);
    expect(await value(duration('riscv64', 'success', 'count'))).toBe(1);
    expect(await value(duration('riscv64', 'success', 'sum'))).toBe(30);
    // First sightings already started (a, b, q2, c, d; r on riscv64): queue wait 0 each.
    expect(await value(`buildfarm_task_queue_wait_seconds_count{source="${SOURCE}",repo="powerpc64le"}`)).toBe(5);
    expect(await value(`buildfarm_task_queue_wait_seconds_count{source="${SOURCE}",repo="riscv64"}`)).toBe(1);

    // The gauges by state and arch: old, a, c completed; b, d failed; q2 building; q queued.
    expect(await value(tasks('powerpc64le', 'completed'))).toBe(3);
    expect(await value(tasks('powerpc64le', 'failed'))).toBe(2);
    expect(await value(tasks('powerpc64le', 'building'))).toBe(1);
    expect(await value(tasks('powerpc64le', 'queued'))).toBe(1);
    expect(await value(tasks('riscv64', 'completed'))).toBe(1);
    expect(await value(`sum(buildfarm_tasks{source="${SOURCE}"})`)).toBe(8);
    // The farm build on a direct server is one task with the farm's owner and the server as worker.
    const d = await api<{ owner?: string; state: string; attrs?: Record<string, unknown> }>(`/api/v1/tasks/${SOURCE}/${ids.d}`);
    expect(d).toMatchObject({ owner: 'admin', state: 'failed', attrs: { worker: 'ppc64le-2', exit_code: 1 } });
  });

  it('answers a dashboard query joining running builds with worker architectures', async () => {
    const promql = `sum by (source, arch) (buildfarm_worker_running_tasks * on (source, kind, worker) group_left (arch) buildfarm_worker_arch_info)`;
    const rows = await waitUntil(
      async () => {
        const r = await prom.query(promql);
        return r.length > 0 && r.find((x) => x.metric.arch === 'powerpc64le')?.value === 1 ? r : undefined;
      },
      15_000,
      { what: 'running builds per arch' },
    );
    expect(rows.map((r) => [r.metric.source, r.metric.arch]).sort()).toEqual([[SOURCE, 'powerpc64le'], [SOURCE, 'riscv64']]);
    // riscv64-1 is seen only through the farm's cache of its GET / (kept 90 s on the simulator's
    // clock, taken before r was submitted), so it says 0 running whatever r did.
    expect(rows.find((r) => r.metric.arch === 'riscv64')?.value).toBe(0);
  });

  it('marks a flapping server down with its error, keeps the others and its builds, and brings it back', async () => {
    sim.setServerMode('ppc64le-2', 'down');
    await waitValue(`buildfarm_worker_up{source="${SOURCE}",worker="ppc64le-2"}`, 0);
    expect(await value(`buildfarm_worker_up{source="${SOURCE}",worker="ppc64le-1"}`)).toBe(1);
    expect(await value(`buildfarm_worker_up{source="${SOURCE}",worker="${farmOnlyWorker}"}`)).toBe(1);
    expect(await value(`buildfarm_source_up{source="${SOURCE}"}`)).toBe(1);
    expect(await value(`buildfarm_apb_farm_up{source="${SOURCE}"}`)).toBe(1);
    expect(await value(`buildfarm_workers{source="${SOURCE}",state="down"}`)).toBe(1);
    // Its builds are kept as last listed.
    expect(await value(`buildfarm_tasks{source="${SOURCE}",repo="powerpc64le",state="queued"}`)).toBe(1);
    expect(await value(`buildfarm_tasks{source="${SOURCE}",repo="powerpc64le",state="building"}`)).toBe(1);

    const down = (await workers()).get('ppc64le-2');
    expect(down).toMatchObject({ up: false, capacity: 3, cpuCores: 16, archs: ['powerpc64le'] });
    expect(down?.lastError?.message).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/.* failed/);
    const eps = await endpoints();
    expect(eps.find((e) => e.name === 'ppc64le-2')).toMatchObject({ role: 'server', up: false, last_error: { message: expect.any(String) } });
    expect(eps.find((e) => e.name === 'ppc64le-2')?.consecutive_failures).toBeGreaterThan(0);
    expect(eps.find((e) => e.name === 'ppc64le-1')).toMatchObject({ up: true, consecutive_failures: 0 });
    expect(eps.find((e) => e.name === 'farm')).toMatchObject({ role: 'farm', up: true });

    // While it is unreachable, q2 finishes (50 s after it started) and q starts (50 s after it was queued).
    clock.advance(10_000);
    sim.finishBuild(ids.q2 as string, 'completed');
    sim.startBuild(ids.q as string);
    sim.setServerMode('ppc64le-2', 'ok');
    await waitValue(`buildfarm_worker_up{source="${SOURCE}",worker="ppc64le-2"}`, 1);
    await waitValue(`buildfarm_tasks_finished_total{source="${SOURCE}",repo="powerpc64le",phase="success"}`, 3);
    await waitValue(`buildfarm_tasks{source="${SOURCE}",repo="powerpc64le",state="building"}`, 1); // q
    await settle();
    expect(await value(`buildfarm_tasks_finished_total{source="${SOURCE}",repo="powerpc64le",phase="success"}`)).toBe(3);
    expect(await value(`buildfarm_task_duration_seconds_sum{source="${SOURCE}",repo="powerpc64le",phase="success"}`)).toBe(30 + 7 + 50);
    expect(await value(`buildfarm_task_queue_wait_seconds_count{source="${SOURCE}",repo="powerpc64le"}`)).toBe(6);
    expect(await value(`buildfarm_task_queue_wait_seconds_sum{source="${SOURCE}",repo="powerpc64le"}`)).toBe(50);
    expect(await value(`buildfarm_workers{source="${SOURCE}",state="down"}`)).toBe(0);
    expect((await workers()).get('ppc64le-2')?.lastError).toBeUndefined();
    expect((await endpoints()).find((e) => e.name === 'ppc64le-2')).toMatchObject({ up: true, consecutive_failures: 0 });
  });

  it('marks a server answering HTML down with a text/html error; the others are unaffected', async () => {
    sim.setServerMode('ppc64le-1', 'html');
    await waitValue(`buildfarm_worker_up{source="${SOURCE}",worker="ppc64le-1"}`, 0);
    expect(await value(`buildfarm_worker_up{source="${SOURCE}",worker="ppc64le-2"}`)).toBe(1);
    expect(await value(`buildfarm_worker_up{source="${SOURCE}",worker="${farmOnlyWorker}"}`)).toBe(1);
    expect(await value(`buildfarm_source_up{source="${SOURCE}"}`)).toBe(1);
    expect((await workers()).get('ppc64le-1')?.lastError?.message).toMatch(/not valid JSON \(text\/html/);
    expect((await endpoints()).find((e) => e.name === 'ppc64le-1')?.last_error?.message).toMatch(/text\/html/);
    // Its builds are kept as last listed: old, a and c there, q2 on ppc64le-2.
    expect(await value(`buildfarm_tasks{source="${SOURCE}",repo="powerpc64le",state="completed"}`)).toBe(4);
    sim.setServerMode('ppc64le-1', 'ok');
    await waitValue(`buildfarm_worker_up{source="${SOURCE}",worker="ppc64le-1"}`, 1);
    await settle();
    // Coming back re-lists the same builds: nothing is counted again.
    expect(await value(`sum(buildfarm_tasks_finished_total{source="${SOURCE}"})`)).toBe(6);
  });

  it('sends the farm token to the farm only, and never shows it in logs, the API or the metrics', async () => {
    const farm = sim.requests.filter((r) => r.target === 'farm');
    const servers = sim.requests.filter((r) => r.target !== 'farm');
    expect(farm.length).toBeGreaterThan(0);
    expect(farm.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(new Set(farm.map((r) => r.path.replace(/\/build\/[^/]+\//, '/build/{id}/')))).toEqual(new Set(['/farm', '/builds/latest?limit=100', '/build/{id}/status-api']));
    expect(servers.length).toBeGreaterThan(0);
    expect(servers.every((r) => r.authorization === undefined)).toBe(true);
    // The farm accepted it: it showed real URLs, so its riscv64 server is named host:port.
    expect(farmOnlyWorker).toMatch(/^127\.0\.0\.1:\d+$/);

    const output = `${exporter.stdout()}\n${exporter.stderr()}`;
    expect(output).toContain('listening on');
    expect(output).not.toContain(TOKEN);
    for (const path of ['/api/v1/sources', `/api/v1/workers`, `/api/v1/tasks?source=${SOURCE}&limit=1000`, '/metrics']) {
      const res = await fetch(`${exporter.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(await res.text(), path).not.toContain(TOKEN);
    }
  });

  it('serves an exposition that passes promtool check metrics', async () => {
    const body = await (await fetch(`${exporter.url}/metrics`)).text();
    expect(body).toContain('buildfarm_apb_farm_up');
    const file = join(dir, 'metrics.txt');
    await writeFile(file, body);
    const { stdout, stderr } = await promisify(execFile)('sh', ['-c', `${promtoolBin} check metrics < ${file}`]);
    expect(`${stdout}${stderr}`.trim()).toBe('');
  });
});
