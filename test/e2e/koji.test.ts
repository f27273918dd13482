/**
 * End to end for the `koji` source: the Koji hub simulator (in process, on loopback, real
 * XML-RPC) -> the real exporter process -> a real Prometheus scraping it. The simulator runs in
 * manual mode with no history and no workload: nothing happens unless the test does it
 * (submitBuild, assignTask, openTask, finishTask, ...), so every count is exact, and every
 * duration too, to the millisecond (the hub stamps its times with sub-millisecond jitter, as
 * PostgreSQL's now() in successive transactions).
 *
 * A small recording proxy sits between the exporter and the hub: the simulator's own `calls`
 * keeps only method names, and the proxy keeps the decoded parameters, so the test can check
 * that every listing is bounded. It forwards bytes unchanged and resets the exporter's
 * connection when the hub resets its own (mode 'down').
 *
 * Clocks: the exporter judges hosts up (update_ts within host_stale_after) with the real clock,
 * the hub's times come from a ManualClock started at the current real second. The test moves the
 * ManualClock ahead of real time by about a minute in all (for exact durations); with
 * host_stale_after at 10 minutes every host stays up.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { Agent, createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOST_NAMES, KojiSimulator } from '../../exporter/src/sources/koji/simulator.js';
import { decodeMethodCall, isStruct, type XmlRpcValue } from '../../exporter/src/sources/koji/xmlrpc.js';
import { ManualClock } from '../../exporter/src/util/clock.js';
import { waitUntil } from '../../exporter/src/util/wait-until.js';
import { startReadyExporter, type ExporterProcess } from '../support/exporter-process.js';
import { startScrapingPrometheus, type PrometheusServer } from '../support/prometheus.js';
import { promAsserts } from '../support/prom-assert.js';
import { teardownE2e } from '../support/teardown.js';
import { requireTool } from '../support/tools.js';

const prometheusBin = requireTool('prometheus', 'prometheus');
const promtoolBin = requireTool('promtool', 'prometheus');

const SOURCE = 'fedora';
const PAGE_SIZE = 500;
const [B1, B2, B3, B4] = HOST_NAMES as [string, string, string, string];
/** The simulator's hosts: capacity and channels (default: all four; createrepo: 1 and 2; image: 3). */
const CAPACITY: Record<string, number> = { [B1]: 4, [B2]: 2, [B3]: 4, [B4]: 2 };

/** The first multiCall of every poll (README "What is polled"); getKojiVersion on the first poll only. */
const STATUS = ['getLastEvent', 'listTasks', 'listTasks', 'listTasks', 'listHosts', 'listChannels', 'listBuilds', 'repo.queryQueue'];
/** The second multiCall of the first poll: the baseline listings, and the hosts of each of the 3 channels. */
const FIRST_CHANGES = ['listTasks', 'listTasks', 'listBuilds', 'listBuilds', 'listHosts', 'listHosts', 'listHosts'];
/** The second multiCall of a later poll with nothing unfinished held: the incremental listings only. */
const QUIET_CHANGES = ['listTasks', 'listTasks', 'listTasks', 'listTasks', 'listBuilds', 'listBuilds'];

interface HubCall {
  method: string;
  params: XmlRpcValue[];
}
interface TaskView {
  id: string;
  state: string;
  phase: string;
  repo?: string;
  message?: string;
  archs: string[];
  started?: string;
  finished?: string;
  subtasks: { id: string; type: string; archs: { arch: string; status: string; phase: string }[] }[];
  attrs?: Record<string, unknown>;
  native?: Record<string, unknown>;
}
interface SourceView {
  name: string;
  kind: string;
  up: boolean;
  consecutive_failures: number;
  last_error: { code: string; message: string } | null;
  polls: { ok: number; failed: number };
  upstream: { version?: string };
  endpoints?: { name: string; role: string; up: boolean; reachable: boolean; last_error: { code: string; message: string } | null }[];
}
interface WorkerView {
  id: string;
  up: boolean;
  enabled?: boolean;
  health?: string;
  archs: string[];
  load?: number;
  lastSeen?: string;
}

/**
 * A loopback HTTP proxy to `target` that records each request's XML-RPC calls (a multiCall's
 * entries, decoded) before forwarding it unchanged. An upstream failure resets the client's connection.
 */
async function recordingProxy(target: string, seen: HubCall[][]): Promise<{ url: string; close(): Promise<void> }> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push(hubCalls(body.toString('utf8')));
      const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers as IncomingHttpHeaders, agent }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.on('error', () => res.destroy());
        up.pipe(res);
      });
      out.on('error', () => res.destroy());
      out.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}

/** The calls of one XML-RPC request: a multiCall's entries, or the one call; `?` when it is not XML-RPC. */
function hubCalls(xml: string): HubCall[] {
  try {
    const call = decodeMethodCall(xml);
    if (call.methodName !== 'multiCall') return [{ method: call.methodName, params: call.params }];
    const list = call.params[0];
    return Array.isArray(list) ? list.map((c) => (isStruct(c) && typeof c.methodName === 'string' && Array.isArray(c.params) ? { method: c.methodName, params: c.params } : { method: '?', params: [] })) : [{ method: '?', params: [] }];
  } catch {
    return [{ method: '?', params: [] }];
  }
}

/** The queryOpts of a listing call: listTasks(opts, queryOpts), listBuilds(**{..., queryOpts}). */
function queryOptsOf(c: HubCall): Record<string, XmlRpcValue> | undefined {
  const q = c.method === 'listTasks' ? c.params[1] : c.method === 'listBuilds' && isStruct(c.params[0]) ? c.params[0].queryOpts : undefined;
  return isStruct(q) ? q : undefined;
}

describe.skipIf(!prometheusBin || !promtoolBin)('koji source: hub simulator -> exporter -> real Prometheus', () => {
  // Real now, whole seconds. The simulator is made 9 s earlier and moved to T0, so each of its
  // four hosts (first check-ins 3 s apart) has checked in once when the exporter starts.
  const T0 = Math.floor(Date.now() / 1000) * 1000;
  const clock = new ManualClock(T0 - 9_000);
  let sim: KojiSimulator;
  let proxy: { url: string; close(): Promise<void> };
  let exporter: ExporterProcess;
  let prom: PrometheusServer;
  let dir: string;
  /** Every request the exporter sent to the hub, decoded. */
  const seen: HubCall[][] = [];
  /** What is counted once the build and the failed task are done: checked again after each outage. */
  const totals = { tasks: 8, builds: 1 };

  const { value, waitValue, settle } = promAsserts(() => prom, SOURCE);
  const api = async <T>(path: string): Promise<T> => (await (await fetch(`${exporter.url}${path}`)).json()) as T;
  const source = async () => (await api<{ sources: SourceView[] }>('/api/v1/sources')).sources.find((s) => s.name === SOURCE) as SourceView;
  const task = (id: string | number) => api<TaskView>(`/api/v1/tasks/${SOURCE}/${id}`);
  const allTasks = () => api<{ total: number; items: TaskView[] }>(`/api/v1/tasks?source=${SOURCE}&state=ALL&limit=1000`);
  const workers = async () => new Map((await api<{ items: WorkerView[] }>(`/api/v1/workers?source=${SOURCE}`)).items.map((w) => [w.id, w]));
  /** Wait until the exporter holds task `id` in `state` (the exporter's API is a poll ahead of Prometheus). */
  const waitTask = (id: string | number, state: string) =>
    waitUntil(async () => (await fetch(`${exporter.url}/api/v1/tasks/${SOURCE}/${id}`).then((r) => (r.ok ? (r.json() as Promise<TaskView>) : undefined)))?.state === state, 15_000, { what: `task ${id} ${state} in the exporter`, intervalMs: 50 });

  const sel = (more: string) => `{source="${SOURCE}"${more ? `,${more}` : ''}}`;
  const up = `buildfarm_source_up${sel('kind="koji"')}`;
  const hubUp = `buildfarm_koji_hub_up${sel('')}`;
  const dbUp = `buildfarm_koji_database_up${sel('')}`;
  const kojiTasks = (state: string, method: string) => `buildfarm_koji_tasks${sel(`state="${state}",method="${method}"`)}`;
  const completed = (method: string, result: string) => `buildfarm_koji_tasks_completed_total${sel(`method="${method}",result="${result}"`)}`;
  const duration = (method: string, what: 'count' | 'sum') => `buildfarm_koji_task_duration_seconds_${what}${sel(`method="${method}",channel="default"`)}`;
  const queueWait = (method: string, what: 'count' | 'sum') => `buildfarm_koji_task_queue_wait_seconds_${what}${sel(`method="${method}",channel="default"`)}`;
  const buildsCompleted = (result: string) => `buildfarm_koji_builds_completed_total${sel(`result="${result}"`)}`;
  const channelHosts = (channel: string, state: string) => `buildfarm_koji_channel_hosts${sel(`channel="${channel}",state="${state}"`)}`;
  const hostFigure = (family: string, worker: string) => `buildfarm_koji_host_${family}${sel(`worker="${worker}"`)}`;
  const totalCompleted = `sum(buildfarm_koji_tasks_completed_total${sel('')})`;
  const totalBuilds = `sum(buildfarm_koji_builds_completed_total${sel('')})`;

  beforeAll(async () => {
    sim = new KojiSimulator({ clock, seed: 21, history: false, workload: false, manual: true, failRate: 0 });
    clock.set(T0);
    sim.step();
    const base = await sim.listen();
    proxy = await recordingProxy(base, seen);
    dir = await mkdtemp(join(tmpdir(), 'buildscope-e2e-koji-'));
    const config = join(dir, 'buildscope.yaml');
    await writeFile(
      config,
      ['sources:', `  - name: ${SOURCE}`, '    kind: koji', `    url: "${proxy.url}/kojihub"`, '    interval: 1s', '    timeout: 5s', '    host_stale_after: 10m', ''].join('\n'),
    );
    exporter = await startReadyExporter(config, []);
    prom = await startScrapingPrometheus(prometheusBin as string, exporter.url);
  }, 60_000);

  afterAll(async () => {
    const hub = { close: async () => Promise.all([proxy?.close(), sim?.close()]).then(() => undefined) };
    const code = await teardownE2e({ prom, exporter, upstream: hub, dir });
    if (exporter) expect(code).toBe(0);
  });

  it('is up on an empty hub: hub and database up, hosts as workers, channels, two multiCalls per poll', async () => {
    await waitValue(up, 1, 20_000);
    await settle(2);
    expect(await value(hubUp)).toBe(1);
    expect(await value(dbUp)).toBe(1);
    expect(await value(`buildfarm_koji_last_event_id${sel('')}`)).toBe(1);
    expect(await value(`buildfarm_koji_builds_in_progress${sel('')}`)).toBe(0);
    expect(await value(`buildfarm_koji_repo_queue_length${sel('')}`)).toBe(0);
    // Nothing unfinished: each state's count is there, as `other`, at 0.
    expect(await value(`count(buildfarm_koji_tasks${sel('method="other"')})`)).toBe(3);
    expect(await value(`sum(buildfarm_koji_tasks${sel('')})`)).toBe(0);

    // The four hosts, as workers and in the koji families.
    for (const h of HOST_NAMES) {
      expect(await value(`buildfarm_worker_up${sel(`kind="koji",worker="${h}"`)}`), h).toBe(1);
      expect(await value(hostFigure('ready', h)), h).toBe(1);
      expect(await value(hostFigure('enabled', h)), h).toBe(1);
      expect(await value(hostFigure('capacity', h)), h).toBe(CAPACITY[h]);
      expect(await value(hostFigure('task_load', h)), h).toBe(0);
    }
    const w = await workers();
    expect([...w.keys()]).toEqual(HOST_NAMES);
    for (const h of HOST_NAMES) expect(w.get(h), h).toMatchObject({ up: true, enabled: true, health: 'ready', load: 0 });
    expect(w.get(B1)?.archs).toEqual(['x86_64', 'i686']);
    expect(w.get(B4)?.archs).toEqual(['ppc64le']);
    // Each host checked in within 9 s before T0 (builder4 at T0).
    expect(Date.parse(w.get(B4)?.lastSeen ?? '')).toBeGreaterThanOrEqual(T0);
    expect(Date.parse(w.get(B1)?.lastSeen ?? '')).toBeGreaterThanOrEqual(T0 - 9_000);

    // Channels: default has all four hosts, createrepo builder1 and 2, image builder3.
    for (const [channel, ready, capacity] of [['default', 4, 12], ['createrepo', 2, 6], ['image', 1, 4]] as const) {
      expect(await value(channelHosts(channel, 'ready')), channel).toBe(ready);
      expect(await value(channelHosts(channel, 'not_ready')), channel).toBe(0);
      expect(await value(channelHosts(channel, 'disabled')), channel).toBe(0);
      expect(await value(`buildfarm_koji_channel_capacity${sel(`channel="${channel}"`)}`), channel).toBe(capacity);
      expect(await value(`buildfarm_koji_channel_load${sel(`channel="${channel}"`)}`), channel).toBe(0);
    }
    expect((await source()).upstream.version).toBe('1.35.3');

    // The call budget: every request is one multiCall, status then changes, each poll two requests.
    const polls = await source();
    const requests = seen.slice();
    const names = sim.calls.slice(0, requests.length);
    expect(names.length).toBeGreaterThanOrEqual(requests.length - 1);
    expect(names).toEqual(requests.slice(0, names.length).map((r) => ['multiCall', ...r.map((c) => c.method)]));
    expect(requests[0]?.map((c) => c.method)).toEqual([...STATUS, 'getKojiVersion']);
    expect(requests[1]?.map((c) => c.method)).toEqual(FIRST_CHANGES);
    requests.slice(2).forEach((r, i) => expect(r.map((c) => c.method), `request ${i + 2}`).toEqual(i % 2 === 0 ? STATUS : QUIET_CHANGES));
    const statusRequests = Math.ceil(requests.length / 2);
    expect(statusRequests - (polls.polls.ok + polls.polls.failed)).toBeGreaterThanOrEqual(0);
    expect(statusRequests - (polls.polls.ok + polls.polls.failed)).toBeLessThanOrEqual(1);
    expect(polls.polls.failed).toBe(0);
    // The counts are countOnly; every other listing carries a limit.
    const status = requests[0] as HubCall[];
    expect(status.slice(1, 4).map((c) => c.params)).toEqual([[{ state: [0] }, { countOnly: true }], [{ state: [4] }, { countOnly: true }], [{ state: [1] }, { countOnly: true }]]);
    expect(queryOptsOf(status[6] as HubCall)).toEqual({ countOnly: true });
    for (const c of (requests[1] as HubCall[]).concat(requests[3] ?? [])) if (c.method !== 'listHosts') expect(queryOptsOf(c)?.limit, c.method).toBe(PAGE_SIZE);
  });

  it('follows a build from FREE to CLOSED through its subtasks, and counts each task and the build once', async () => {
    // Times in seconds after T0: submitted 0, assigned 2, opened 3 (waited 3); SRPM created 3,
    // opened 7 (waited 4), closed 17 (ran 10); buildArch x3 created 17, opened 19 (waited 2),
    // closed 39, 39, 49 (ran 20, 20, 30); tagBuild created 49, opened 50 (waited 1), closed 51
    // (ran 1), and with it the build task (ran 48).
    const id = sim.submitBuild('alice', 'hello');
    expect(id).toBe(1);
    await waitValue(kojiTasks('FREE', 'build'), 1);
    expect(await value(kojiTasks('FREE', 'other'))).toBe(0);
    expect(await value(`sum(buildfarm_koji_tasks${sel('')})`)).toBe(1);
    const free = await task(id);
    expect(free).toMatchObject({ state: 'FREE', phase: 'queued', repo: 'default', subtasks: [], attrs: { method: 'build', channel: 'default', target: 'f41-candidate' } });
    expect(free.message).toMatch(/^build: git\+https:\/\/src\.example\.org\/rpms\/hello\.git#[0-9a-f]{40} → f41-candidate$/);

    clock.advance(2_000);
    sim.assignTask(id, B1);
    await waitValue(kojiTasks('ASSIGNED', 'build'), 1);
    expect(await value(kojiTasks('FREE', 'build'))).toBeUndefined();
    expect((await task(id)).attrs).toMatchObject({ host: B1 });

    clock.advance(1_000);
    sim.openTask(id);
    await waitValue(kojiTasks('OPEN', 'build'), 1);
    await waitValue(kojiTasks('FREE', 'buildSRPMFromSCM'), 1);
    await waitValue(queueWait('build', 'count'), 1);
    expect(await value(queueWait('build', 'sum'))).toBeCloseTo(3, 2);
    const srpm = 2;
    await waitUntil(async () => (await task(id)).subtasks.length === 1, 15_000, { what: 'the SRPM subtask' });
    expect((await task(id)).subtasks).toEqual([expect.objectContaining({ id: String(srpm), type: 'buildSRPMFromSCM', archs: [{ arch: 'noarch', status: 'FREE', phase: 'queued' }] })]);

    clock.advance(4_000);
    sim.assignTask(srpm, B3);
    sim.openTask(srpm);
    clock.advance(10_000);
    sim.finishTask(srpm, 'CLOSED');
    // The SRPM is built: the build record (BUILDING) and one buildArch per arch.
    const arches = { x86_64: 3, aarch64: 4, ppc64le: 5 };
    await waitValue(kojiTasks('FREE', 'buildArch'), 3);
    await waitValue(`buildfarm_koji_builds_in_progress${sel('')}`, 1);
    expect(await value(completed('buildSRPMFromSCM', 'CLOSED'))).toBe(1);
    await waitTask('build-1', 'building');
    expect(await task('build-1')).toMatchObject({ phase: 'running', repo: 'f41-candidate', message: 'build hello-2.12.1-1.fc41', attrs: { nvr: 'hello-2.12.1-1.fc41', package: 'hello', task_id: id } });
    expect((await task(id)).subtasks.map((s) => [s.id, s.type, s.archs])).toEqual([
      ['2', 'buildSRPMFromSCM', [{ arch: 'noarch', status: 'CLOSED', phase: 'success' }]],
      ['3', 'buildArch', [{ arch: 'x86_64', status: 'FREE', phase: 'queued' }]],
      ['4', 'buildArch', [{ arch: 'aarch64', status: 'FREE', phase: 'queued' }]],
      ['5', 'buildArch', [{ arch: 'ppc64le', status: 'FREE', phase: 'queued' }]],
    ]);

    clock.advance(2_000);
    sim.assignTask(arches.x86_64, B1);
    sim.assignTask(arches.aarch64, B2);
    sim.assignTask(arches.ppc64le, B4);
    for (const a of Object.values(arches)) sim.openTask(a);
    await waitValue(kojiTasks('OPEN', 'buildArch'), 3);
    // Load in task weights: the build task (0.2) and a buildArch (1.5) on builder1, a buildArch on 2 and 4.
    // (Host figures come from the poll's first multiCall, the split by method from its second: the
    // opens may have fallen between the two, so wait for the hosts too.)
    await waitValue(hostFigure('task_load', B4), 1.5);
    expect(await value(hostFigure('task_load', B1))).toBeCloseTo(1.7, 6);
    expect(await value(hostFigure('task_load', B2))).toBe(1.5);
    expect(await value(hostFigure('task_load', B3))).toBe(0);
    expect(await value(`buildfarm_koji_channel_load${sel('channel="default"')}`)).toBeCloseTo(4.7, 6);
    expect(await value(`buildfarm_worker_running_tasks${sel(`kind="koji",worker="${B1}"`)}`)).toBe(2);
    expect(await value(queueWait('buildArch', 'count'))).toBe(3);
    // The parent is found by its children's arches.
    expect((await task(id)).archs).toEqual(['noarch', 'x86_64', 'aarch64', 'ppc64le']);

    clock.advance(20_000);
    sim.finishTask(arches.x86_64, 'CLOSED');
    sim.finishTask(arches.aarch64, 'CLOSED');
    clock.advance(10_000);
    sim.finishTask(arches.ppc64le, 'CLOSED');
    const tag = 6;
    clock.advance(1_000);
    sim.assignTask(tag, B3);
    sim.openTask(tag);
    clock.advance(1_000);
    sim.finishTask(tag, 'CLOSED');

    await waitValue(completed('build', 'CLOSED'), 1);
    await waitValue(buildsCompleted('complete'), 1);
    await settle(2);
    expect(await value(completed('build', 'CLOSED'))).toBe(1);
    expect(await value(completed('buildSRPMFromSCM', 'CLOSED'))).toBe(1);
    expect(await value(completed('buildArch', 'CLOSED'))).toBe(3);
    expect(await value(completed('tagBuild', 'CLOSED'))).toBe(1);
    expect(await value(totalCompleted)).toBe(6);
    expect(await value(`count(buildfarm_koji_tasks_completed_total${sel('')})`)).toBe(4);
    expect(await value(buildsCompleted('complete'))).toBe(1);
    expect(await value(totalBuilds)).toBe(1);
    for (const [method, count, ran, waited] of [['build', 1, 48, 3], ['buildSRPMFromSCM', 1, 10, 4], ['buildArch', 3, 70, 6], ['tagBuild', 1, 1, 1]] as const) {
      expect(await value(duration(method, 'count')), method).toBe(count);
      expect(await value(duration(method, 'sum')), method).toBeCloseTo(ran, 2);
      expect(await value(queueWait(method, 'count')), method).toBe(count);
      expect(await value(queueWait(method, 'sum')), method).toBeCloseTo(waited, 2);
    }
    // Nothing unfinished now; the tag request waits for a newRepo nobody schedules.
    expect(await value(`sum(buildfarm_koji_tasks${sel('')})`)).toBe(0);
    expect(await value(`buildfarm_koji_builds_in_progress${sel('')}`)).toBe(0);
    expect(await value(`buildfarm_koji_repo_queue_length${sel('')}`)).toBe(1);
    expect(await value(`sum(buildfarm_koji_host_task_load${sel('')})`)).toBe(0);

    const parent = await task(id);
    expect(parent).toMatchObject({ state: 'CLOSED', phase: 'success', repo: 'default' });
    expect((Date.parse(parent.finished ?? '') - Date.parse(parent.started ?? '')) / 1000).toBeCloseTo(48, 2);
    expect(parent.subtasks.map((s) => [s.id, s.type, s.archs])).toEqual([
      ['2', 'buildSRPMFromSCM', [{ arch: 'noarch', status: 'CLOSED', phase: 'success' }]],
      ['3', 'buildArch', [{ arch: 'x86_64', status: 'CLOSED', phase: 'success' }]],
      ['4', 'buildArch', [{ arch: 'aarch64', status: 'CLOSED', phase: 'success' }]],
      ['5', 'buildArch', [{ arch: 'ppc64le', status: 'CLOSED', phase: 'success' }]],
      ['6', 'tagBuild', [{ arch: 'noarch', status: 'CLOSED', phase: 'success' }]],
    ]);
    expect(parent.native).toMatchObject({ id, method: 'build', state: 2, host_id: 1 });
    expect(parent.native).not.toHaveProperty('request');
    expect(await task('build-1')).toMatchObject({ state: 'complete', phase: 'success' });
    const list = await allTasks();
    expect(list.items.map((t) => [t.id, t.state]).sort()).toEqual([['1', 'CLOSED'], ['2', 'CLOSED'], ['3', 'CLOSED'], ['4', 'CLOSED'], ['5', 'CLOSED'], ['6', 'CLOSED'], ['build-1', 'complete']]);
  });

  it('counts a task submitted, opened and failed between two polls exactly once', async () => {
    // All in one synchronous block: the hub answers no request in between.
    clock.advance(5_000);
    const id = sim.submitBuild('bob', 'curl', 'rawhide');
    clock.advance(3_000);
    sim.assignTask(id, B1);
    sim.openTask(id); // its SRPM task is created, FREE
    clock.advance(5_000);
    sim.finishTask(id, 'FAILED'); // the SRPM task is canceled with it
    expect(id).toBe(7);

    await waitValue(completed('build', 'FAILED'), 1);
    await waitValue(completed('buildSRPMFromSCM', 'CANCELED'), 1);
    await settle(2);
    expect(await value(completed('build', 'FAILED'))).toBe(1);
    expect(await value(completed('buildSRPMFromSCM', 'CANCELED'))).toBe(1);
    expect(await value(completed('build', 'CLOSED'))).toBe(1);
    expect(await value(totalCompleted)).toBe(totals.tasks);
    // Ran 5 s after waiting 3 s; the canceled SRPM never started: no duration, no wait.
    expect(await value(duration('build', 'count'))).toBe(2);
    expect(await value(duration('build', 'sum'))).toBeCloseTo(48 + 5, 2);
    expect(await value(queueWait('build', 'count'))).toBe(2);
    expect(await value(queueWait('build', 'sum'))).toBeCloseTo(3 + 3, 2);
    expect(await value(duration('buildSRPMFromSCM', 'count'))).toBe(1);
    expect(await value(queueWait('buildSRPMFromSCM', 'count'))).toBe(1);
    // No build record: the SRPM was never built.
    expect(await value(totalBuilds)).toBe(1);
    expect(await value(`sum(buildfarm_koji_tasks${sel('')})`)).toBe(0);

    const failed = await task(id);
    expect(failed).toMatchObject({ state: 'FAILED', phase: 'failed', attrs: { target: 'rawhide', host: B1 } });
    expect(failed.subtasks.map((s) => [s.id, s.type, s.archs])).toEqual([['8', 'buildSRPMFromSCM', [{ arch: 'noarch', status: 'CANCELED', phase: 'canceled' }]]]);
  });

  it('reports a database outage (fault 1014) as hub up, database down; keeps the tasks; counts nothing twice', async () => {
    const held = (await allTasks()).total;
    expect(held).toBe(9);
    sim.setMode('offline');
    await waitValue(dbUp, 0);
    expect(await value(hubUp)).toBe(1);
    await waitValue(up, 0);
    const down = await source();
    expect(down.up).toBe(false);
    expect(down.last_error?.code).toBe('fault');
    expect(down.last_error?.message).toMatch(/1014/);
    expect(down.consecutive_failures).toBeGreaterThan(0);
    expect(down.endpoints?.find((e) => e.role === 'hub')).toMatchObject({ reachable: true });
    expect(down.endpoints?.find((e) => e.role === 'database')).toMatchObject({ up: false, last_error: { code: 'fault' } });
    // The hub's figures go absent, not stale; tasks and counters stay.
    await waitValue(`count(buildfarm_koji_tasks${sel('')})`, undefined);
    expect(await value(`count(buildfarm_koji_host_ready${sel('')})`)).toBeUndefined();
    expect(await value(`count(buildfarm_koji_channel_hosts${sel('')})`)).toBeUndefined();
    expect((await allTasks()).total).toBe(held);
    expect(await value(totalCompleted)).toBe(totals.tasks);

    // A build submitted while the database is "down" (the simulator still takes controls).
    clock.advance(1_000);
    const late = sim.submitBuild('carol', 'bash', 'f42-candidate');
    sim.setMode('ok');
    await waitValue(dbUp, 1);
    await waitValue(up, 1);
    await waitValue(kojiTasks('FREE', 'build'), 1);
    await settle(2);
    expect(await value(hubUp)).toBe(1);
    expect(await source()).toMatchObject({ up: true, consecutive_failures: 0, last_error: { code: 'fault' } });
    expect(await value(totalCompleted)).toBe(totals.tasks);
    expect(await value(totalBuilds)).toBe(totals.builds);
    expect(await value(`count(buildfarm_koji_host_ready${sel('')})`)).toBe(4);
    expect((await task(late)).state).toBe('FREE');
    expect((await allTasks()).total).toBe(held + 1);
  });

  it('reports an unreachable hub as hub down with no database figure, and comes back', async () => {
    sim.setMode('down');
    await waitValue(hubUp, 0);
    await waitValue(dbUp, undefined);
    await waitValue(up, 0);
    const down = await source();
    expect(down.last_error?.code).toBe('network');
    expect(down.endpoints?.find((e) => e.role === 'hub')).toMatchObject({ up: false, reachable: false });
    expect(await value(`count(buildfarm_koji_tasks${sel('')})`)).toBeUndefined();
    expect(await value(totalCompleted)).toBe(totals.tasks);

    sim.setMode('ok');
    await waitValue(hubUp, 1);
    await waitValue(dbUp, 1);
    await waitValue(up, 1);
    await settle(2);
    expect(await value(kojiTasks('FREE', 'build'))).toBe(1);
    expect(await value(totalCompleted)).toBe(totals.tasks);
    expect(await value(totalBuilds)).toBe(totals.builds);
  });

  it('shows a host going not ready, then disabled, per host and per channel', async () => {
    sim.setHostAlive(B4, false);
    await waitValue(hostFigure('ready', B4), 0);
    expect(await value(hostFigure('enabled', B4))).toBe(1);
    expect(await value(channelHosts('default', 'ready'))).toBe(3);
    expect(await value(channelHosts('default', 'not_ready'))).toBe(1);
    expect(await value(channelHosts('default', 'disabled'))).toBe(0);
    expect((await workers()).get(B4)).toMatchObject({ up: true, enabled: true, health: 'not ready' });

    sim.setHostEnabled(B4, false);
    await waitValue(hostFigure('enabled', B4), 0);
    expect(await value(channelHosts('default', 'disabled'))).toBe(1);
    expect(await value(channelHosts('default', 'not_ready'))).toBe(0);
    expect(await value(channelHosts('default', 'ready'))).toBe(3);
    // Only enabled hosts count in a channel's capacity; builder4 is in no other channel.
    expect(await value(`buildfarm_koji_channel_capacity${sel('channel="default"')}`)).toBe(12 - (CAPACITY[B4] as number));
    expect(await value(channelHosts('createrepo', 'ready'))).toBe(2);
    expect(await value(`sum(buildfarm_koji_channel_hosts${sel('state="disabled"')})`)).toBe(1);
    expect((await workers()).get(B4)).toMatchObject({ enabled: false, health: 'disabled' });

    sim.setHostEnabled(B4, true);
    sim.setHostAlive(B4, true);
    await waitValue(channelHosts('default', 'ready'), 4);
    expect(await value(`sum(buildfarm_koji_channel_hosts${sel('state!="ready"')})`)).toBe(0);
    expect(await value(`buildfarm_koji_channel_capacity${sel('channel="default"')}`)).toBe(12);
  });

  it('kept to its call budget all along: two multiCalls per poll, every listing bounded', async () => {
    const requests = seen.slice();
    const polls = (await source()).polls;
    expect(requests.length).toBeLessThanOrEqual(2 * (polls.ok + polls.failed) + 2);
    for (const [i, r] of requests.entries()) {
      expect(sim.calls[i]?.[0] ?? 'multiCall', `request ${i}`).toBe('multiCall');
      const methods = r.map((c) => c.method);
      if (methods[0] === 'getLastEvent') {
        expect(methods.slice(0, STATUS.length), `request ${i}`).toEqual(STATUS);
        continue;
      }
      // A changes multiCall: at most 8 listings and the build audit (the channels' hosts only the first time).
      expect(methods.filter((m) => m === 'getBuild').length, `request ${i}`).toBeLessThanOrEqual(20);
      expect(methods.filter((m) => m !== 'getBuild' && m !== 'listHosts').length, `request ${i}`).toBeLessThanOrEqual(8);
      expect(new Set(methods.filter((m) => !['listTasks', 'listBuilds', 'getTaskInfo', 'getBuild'].includes(m))), `request ${i}`).toEqual(i === 1 ? new Set(['listHosts']) : new Set());
      for (const c of r) {
        if (c.method === 'listTasks' || c.method === 'listBuilds') {
          const q = queryOptsOf(c);
          expect(q?.countOnly === true || q?.limit === PAGE_SIZE, `request ${i}: ${c.method} ${JSON.stringify(c.params)}`).toBe(true);
        }
        if (c.method === 'getTaskInfo') expect((c.params[0] as number[]).length).toBeLessThanOrEqual(100);
      }
    }
    // Every change listing asked for a page, and the status counts only counted.
    const listings = requests.flat().filter((c) => c.method === 'listTasks' || c.method === 'listBuilds');
    expect(listings.filter((c) => queryOptsOf(c)?.countOnly !== true).every((c) => queryOptsOf(c)?.limit === PAGE_SIZE)).toBe(true);
    // The rolling audit re-read unfinished tasks by id while there were some.
    expect(requests.some((r) => r.some((c) => c.method === 'getTaskInfo'))).toBe(true);
    expect(requests.some((r) => r.some((c) => c.method === 'getBuild'))).toBe(true);
  });

  it('serves an exposition that passes promtool check metrics', async () => {
    const body = await (await fetch(`${exporter.url}/metrics`)).text();
    expect(body).toContain('buildfarm_koji_tasks_completed_total');
    expect(body).toContain('buildfarm_koji_channel_hosts');
    const file = join(dir, 'metrics.txt');
    await writeFile(file, body);
    const { stdout, stderr } = await promisify(execFile)('sh', ['-c', `${promtoolBin} check metrics < ${file}`]);
    expect(`${stdout}${stderr}`.trim()).toBe('');
  });
});
