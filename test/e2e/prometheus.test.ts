/**
 * End to end: a fake taskoteka (the girar simulator, on loopback) and a generated girar /tasks
 * tree -> the real exporter process -> a real Prometheus scraping it. Asserts through
 * Prometheus's HTTP API (and the exporter's own, for the taskoteka-compatible endpoints).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTree, type GeneratedTree } from '../../exporter/src/sources/girar/fs/generator.js';
import { GirarSimulator, type SimTaskSpec } from '../../exporter/src/sources/girar/simulator.js';
import { waitUntil } from '../../exporter/src/util/wait-until.js';
import { startReadyExporter, type ExporterProcess } from '../support/exporter-process.js';
import { startScrapingPrometheus, type PrometheusServer } from '../support/prometheus.js';
import { teardownE2e } from '../support/teardown.js';
import { requireTool } from '../support/tools.js';

const prometheusBin = requireTool('prometheus', 'prometheus');
const promtoolBin = requireTool('promtool', 'prometheus');

const gear = (pkg: string, build?: Record<string, string>) => ({ type: 'repo' as const, userid: 'rider', dir: `/gears/${pkg[0]}/${pkg}.git`, tag_name: '1.0-alt1', pkgname: pkg, ...(build ? { build } : {}) });
const TASKS: SimTaskSpec[] = [
  { id: 411555, state: 'BUILDING', repo: 'p11', owner: 'rider', try: 2, iter: 1, subtasks: { '100': gear('pdal', { x86_64: 'built' }), '200': gear('grass') } },
  { id: 411556, state: 'BUILDING', repo: 'p11', owner: 'lav', try: 1, iter: 1, subtasks: { '100': gear('libcurl') } },
  { id: 411557, state: 'BUILDING', repo: 'p11', owner: 'zerg', try: 1, iter: 1, subtasks: { '100': gear('qgis') } },
  { id: 411543, state: 'EPERM', repo: 'sisyphus', owner: 'zerg', try: 1, iter: 1, subtasks: { '300': gear('nvidia', { x86_64: 'built', i586: 'excluded' }) } },
  { id: 411469, state: 'EPERM', repo: 'sisyphus', owner: 'lav', try: 2, iter: 1, subtasks: { '100': gear('libcurl4-gnutls', { x86_64: 'built' }) } },
  { id: 389466, state: 'DONE', repo: 'sisyphus', owner: 'grenka', try: 85, iter: 1, subtasks: { '1': gear('python3', { x86_64: 'swept', i586: 'swept', aarch64: 'swept' }) } },
];

describe.skipIf(!prometheusBin || !promtoolBin)('exporter + real Prometheus', () => {
  let sim: GirarSimulator;
  let exporter: ExporterProcess;
  let prom: PrometheusServer;
  let dir: string;
  let tree: GeneratedTree;

  const value = async (promql: string): Promise<number | undefined> => (await prom.query(promql))[0]?.value;

  beforeAll(async () => {
    sim = new GirarSimulator({ warmupSteps: 0, heartbeatMs: 1000 });
    sim.setTasks(TASKS);
    const upstream = await sim.listen();
    dir = await mkdtemp(join(tmpdir(), 'buildscope-e2e-'));
    const config = join(dir, 'buildscope.yaml');
    tree = generateTree({ root: join(dir, 'girar'), tasks: 80, seed: 5, now: Date.now() });
    await writeFile(
      config,
      [
        'sources:',
        '  - name: e2e',
        '    kind: girar',
        `    url: ${upstream}`,
        '    interval: 1s',
        '    timeout: 3s',
        '  - name: e2e-fs',
        '    kind: girar',
        '    transport: fs',
        `    tasks_dir: ${tree.tasksDir}`,
        `    passwd_file: ${tree.passwdFile}`,
        '    interval: 1s',
        '    timeout: 10s',
        '    acl:',
        `      dir: ${tree.aclDir}`,
        '      default: { maint_group: "@maint", tester_group: "@tester" }',
        '',
      ].join('\n'),
    );
    exporter = await startReadyExporter(config, ['--log.level=warn']);
    prom = await startScrapingPrometheus(prometheusBin as string, exporter.url);
  }, 60_000);

  // Runs even when beforeAll failed half-way: stop whatever was started, in order, each step
  // whatever the previous ones did, then report the first failure.
  afterAll(async () => {
    const code = await teardownE2e({ prom, exporter, upstream: sim, dir });
    if (exporter) expect(code).toBe(0);
  });

  it('Prometheus scrapes buildfarm_tasks and buildfarm_source_up with the upstream values', async () => {
    await waitUntil(async () => (await value('buildfarm_source_up{source="e2e",kind="girar"}')) === 1, 20_000, { what: 'source_up == 1 in Prometheus' });
    await waitUntil(async () => (await value('buildfarm_tasks{source="e2e",repo="p11",state="BUILDING"}')) === 3, 10_000, { what: 'three BUILDING p11 tasks' });
    expect(await value('buildfarm_tasks{source="e2e",repo="sisyphus",state="EPERM",phase="blocked"}')).toBe(2);
    expect(await value('sum(buildfarm_tasks{source="e2e"})')).toBe(6);
    expect(await value('buildfarm_girar_subtask_arch_builds{source="e2e",repo="sisyphus",arch="i586",status="excluded"}')).toBe(1);
    expect(await value('up{job="buildscope"}')).toBe(1);
  });

  it('reads a girar /tasks tree: every well-formed live task, broken ones counted by reason', async () => {
    // Broken entries whose damage is one optional file still count as tasks (the field is left out).
    const readable = new Set(['broken:oversized-message', 'broken:invalid-utf8-message', 'broken:symlink-outside', 'broken:owner-symlink-inside']);
    const live = tree.tasks.filter((t) => !t.archived && (!t.category.startsWith('broken:') || readable.has(t.category)));
    await waitUntil(async () => (await value('buildfarm_source_up{source="e2e-fs",kind="girar"}')) === 1, 20_000, { what: 'the fs source up in Prometheus' });
    expect(await value('sum(buildfarm_tasks{source="e2e-fs"})')).toBe(live.length);
    const eperm = live.filter((t) => t.state === 'EPERM' && t.repo === 'sisyphus').length;
    expect((await value('buildfarm_tasks{source="e2e-fs",repo="sisyphus",state="EPERM"}')) ?? 0).toBe(eperm);
    expect(await value('buildfarm_source_skipped_records{source="e2e-fs",reason="mid_write"}')).toBe(1);
    expect(await value('buildfarm_source_skipped_records{source="e2e-fs",reason="not_a_directory"}')).toBe(2);
    expect(await value('buildfarm_source_skipped_records_total{source="e2e-fs",reason="too_large"}')).toBe(1);

    // The same tree through the taskoteka-compatible API of the running exporter.
    const compat = `${exporter.url}/compat/taskoteka/e2e-fs`;
    const res = await fetch(`${compat}/tasks?state=ALL&brief=1`);
    expect(res.headers.get('x-api-version')).toBe('1.6.0');
    expect(((await res.json()) as number[]).length).toBe(live.length);
    const maint = (await (await fetch(`${compat}/tasks?needs_approval=maint&brief=yes`)).json()) as number[];
    const expected = live.filter((t) => t.state === 'EPERM' && t.needsApproval === 'maint' && !t.features.includes('test-only') && !t.features.includes('swift'));
    expect(maint.length).toBeGreaterThan(0);
    expect(new Set(maint)).toEqual(new Set(expected.map((t) => t.id)));
  });

  it('follows a state change: gauges move and the transition is counted', async () => {
    sim.updateTask(411556, { state: 'FAILED' });
    await waitUntil(async () => (await value('buildfarm_tasks{source="e2e",repo="p11",state="BUILDING"}')) === 2, 15_000, { what: 'BUILDING p11 down to 2' });
    await waitUntil(async () => (await value('buildfarm_task_transitions_total{source="e2e",from_state="BUILDING",to_state="FAILED"}')) === 1, 10_000, { what: 'the BUILDING -> FAILED transition counted' });
    expect(await value('buildfarm_tasks_finished_total{source="e2e",repo="p11",phase="failed"}')).toBe(1);
  });

  it('marks the source down on upstream errors and keeps serving the last good state', async () => {
    sim.setFault('http500');
    await waitUntil(async () => (await value('buildfarm_source_up{source="e2e"}')) === 0, 20_000, { what: 'source_up == 0 in Prometheus' });
    expect(await value('buildfarm_tasks{source="e2e",repo="p11",state="BUILDING"}')).toBe(2);
    expect(await value('up{job="buildscope"}')).toBe(1);
    const sources = (await (await fetch(`${exporter.url}/api/v1/sources`)).json()) as { sources: { name: string; up: boolean; last_error: { code: string; status?: number } | null }[] };
    expect(sources.sources[0]).toMatchObject({ name: 'e2e', up: false, last_error: { code: 'http', status: 500 } });
    expect(sources.sources[1]).toMatchObject({ name: 'e2e-fs', up: true });
    expect(await value('buildfarm_source_up{source="e2e-fs"}')).toBe(1); // one broken upstream never breaks the others
    sim.setFault(null);
    await waitUntil(async () => (await value('buildfarm_source_up{source="e2e"}')) === 1, 30_000, { what: 'recovery' });
  });

  it('serves an exposition that passes promtool check metrics', async () => {
    const body = await (await fetch(`${exporter.url}/metrics`)).text();
    const file = join(dir, 'metrics.txt');
    await writeFile(file, body);
    const { stdout, stderr } = await promisify(execFile)('sh', ['-c', `${promtoolBin} check metrics < ${file}`]);
    expect(`${stdout}${stderr}`.trim()).toBe('');
  });
});
