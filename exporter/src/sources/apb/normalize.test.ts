import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BuildBook } from './builds.js';
import {
  APB_PHASES,
  apbPhase,
  buildTask,
  epochToIso,
  farmArch,
  farmTimeToIso,
  isoToIso,
  obfuscateServerUrl,
  serverWorker,
  uptimeSeconds,
} from './normalize.js';
import { checkBuildRecord, checkFarmBuild, checkServerBuild, checkServerHealth, checkServerRoot, type BuildRecord, type FarmBuild, type ServerBuild, type ServerHealth, type ServerRoot } from './upstream.js';

function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as unknown;
}
function root(name: string): ServerRoot {
  const v = fixture(name);
  if (!checkServerRoot.Check(v)) throw new Error(`${name} is not a GET / answer`);
  return v;
}
function health(name: string): ServerHealth {
  const v = fixture(name);
  if (!checkServerHealth.Check(v)) throw new Error(`${name} is not a GET /health answer`);
  return v;
}
function record(name: string): BuildRecord {
  const v = fixture(name);
  if (!checkBuildRecord.Check(v)) throw new Error(`${name} is not a status-api answer`);
  return v;
}
function serverBuilds(name: string): ServerBuild[] {
  const v = fixture(name) as { builds: unknown[] };
  return v.builds.map((b) => {
    if (!checkServerBuild.Check(b)) throw new Error(`${name}: bad entry`);
    return b;
  });
}
function farmBuilds(name: string): FarmBuild[] {
  const v = fixture(name) as { builds: unknown[] };
  return v.builds.map((b) => {
    if (!checkFarmBuild.Check(b)) throw new Error(`${name}: bad entry`);
    return b;
  });
}

const BASE = 'http://127.0.0.1:8000';
const FARM = 'http://127.0.0.1:8080';
const SEEN = Date.parse('2026-11-24T06:00:10Z');

describe('APB servers as workers', () => {
  it('maps every field of GET / and GET /health while building', () => {
    const w = serverWorker({ source: 'ap', id: 'x86-1', url: BASE, labels: { rack: 'a' } }, root('server-GET-root-while-building.json'), health('server-GET-health-while-building.json'), { up: true, lastSeenMs: SEEN });
    const { native, ...rest } = w;
    expect(rest).toEqual({
      source: 'ap',
      kind: 'apb',
      id: 'x86-1',
      name: 'x86-1',
      up: true,
      archs: ['x86_64'],
      busy: true,
      capacity: 1,
      load: 1,
      queueLength: 2,
      cpuCores: 2,
      loadAverage: 0.31396484375,
      cpuUsageRatio: 0,
      memoryUsedBytes: 158609408,
      memoryTotalBytes: 25276026880,
      diskUsedBytes: 24843976704,
      diskTotalBytes: 270553174016,
      currentTask: 'fail-0001',
      version: '2026-06-30',
      health: 'degraded',
      lastSeen: '2026-11-24T06:00:10Z',
      labels: { rack: 'a' },
      url: BASE,
    });
    expect(native).toEqual(fixture('server-GET-root-while-building.json'));
  });

  it('reads the layout of the server API document (current_build at the top level, no usage_percent)', () => {
    const w = serverWorker({ source: 'ap', id: 's' }, root('seed-GET-root.json'), health('seed-GET-health.json'), { up: true });
    expect(w).toMatchObject({ archs: ['x86_64'], busy: true, capacity: 3, load: 1, queueLength: 2, cpuCores: 8, loadAverage: 0.5, memoryUsedBytes: 8388608, memoryTotalBytes: 16777216, diskUsedBytes: 500000000, diskTotalBytes: 1000000000, currentTask: '48ea1df5-f7f3-477e-a7a7-36e526ea7cd3', version: '2025-07-11', health: 'healthy' });
    expect(w.cpuUsageRatio).toBeUndefined();
    expect(uptimeSeconds('2 days, 5 hours, 30 minutes')).toBe(2 * 86400 + 5 * 3600 + 30 * 60);
    expect(uptimeSeconds('0 days, 0 hours, 42 minutes')).toBe(42 * 60);
    expect(uptimeSeconds('soon')).toBeUndefined();
  });

  it("accepts the fallback answer GET / gives after an internal error, with what it has", () => {
    const fallback = { status: 'running', system_info: { architecture: 'ppc64le' }, queue_status: { current_builds_count: 0, queued_builds: 0 } };
    expect(checkServerRoot.Check(fallback)).toBe(true);
    const w = serverWorker({ source: 'ap', id: 's' }, fallback as ServerRoot, undefined, { up: true });
    expect(w).toEqual({ source: 'ap', kind: 'apb', id: 's', name: 's', up: true, archs: ['ppc64le'], busy: false, load: 0, queueLength: 0, native: fallback });
  });

  it('keeps only lasting facts of a server that does not answer, with the error', () => {
    const w = serverWorker({ source: 'ap', id: 's', arch: 'x86_64' }, root('server-GET-root-while-building.json'), health('server-GET-health.json'), { up: false, lastSeenMs: SEEN, lastError: { message: 'GET / refused', at: SEEN + 30_000 } });
    expect(w).toMatchObject({ up: false, capacity: 1, cpuCores: 2, memoryTotalBytes: 25276026880, diskTotalBytes: 270553174016, lastError: { message: 'GET / refused', at: '2026-11-24T06:00:40Z' } });
    for (const key of ['busy', 'load', 'queueLength', 'loadAverage', 'cpuUsageRatio', 'memoryUsedBytes', 'diskUsedBytes', 'currentTask', 'health'] as const) expect(w[key], key).toBeUndefined();
  });

  it("names servers the way the farm shows them to guests", () => {
    expect(obfuscateServerUrl('http://127.0.0.1:8000')).toBe('127---1');
    expect(obfuscateServerUrl('https://ppc64le-builder.example.org/')).toBe('ppc---g');
    expect(obfuscateServerUrl('nonsense')).toBe('ser---1');
    expect(farmArch('x86_64 (misconfigured)')).toBe('x86_64');
    expect(farmArch('powerpc64le')).toBe('powerpc64le');
  });
});

describe('APB builds as tasks', () => {
  it('maps every status word to a phase', () => {
    expect(APB_PHASES).toEqual({ queued: 'queued', building: 'running', completed: 'success', failed: 'failed', cancelled: 'canceled', failed_server_unavailable: 'failed', failed_missing_from_server: 'failed' });
    expect(apbPhase('canceled')).toBe('unknown');
  });

  it('reads the three time formats', () => {
    expect(epochToIso(1795500040.3845596)).toBe('2026-11-24T06:00:40Z');
    expect(epochToIso(0)).toBeUndefined();
    expect(isoToIso('2026-11-24T06:00:44.530946+00:00')).toBe('2026-11-24T06:00:44Z');
    expect(isoToIso('2024-01-20 10:00:00 UTC')).toBe('2024-01-20T10:00:00Z');
    expect(isoToIso('yesterday')).toBeUndefined();
    // The farm writes local time and calls it UTC.
    expect(farmTimeToIso('2026-11-24 06:02:24 UTC', 'UTC')).toBe('2026-11-24T06:02:24Z');
    expect(farmTimeToIso('2026-11-24 06:02:24 UTC', 'Europe/Berlin')).toBe('2026-11-24T05:02:24Z');
    expect(farmTimeToIso('2026-07-01 12:00:00 UTC', 'Europe/Berlin')).toBe('2026-07-01T10:00:00Z');
    expect(farmTimeToIso(null, 'UTC')).toBeUndefined();
  });

  it('maps a server listing while building: a queued build carries its creation time as start_time', () => {
    const [tarball, ok, fail] = serverBuilds('server-GET-builds-latest-while-building.json');
    const queued = buildTask('ap', { id: 'tarball-0003', server: { entry: tarball as ServerBuild, workerId: 'x86-1', arch: 'x86_64', base: BASE } });
    expect(queued).toEqual({
      source: 'ap',
      kind: 'apb',
      id: 'tarball-0003',
      state: 'queued',
      phase: 'queued',
      archs: ['x86_64'],
      subtasks: [{ id: '1', type: 'build', package: 'apb-probe-tarball', archs: [{ arch: 'x86_64', status: 'queued', phase: 'queued' }] }],
      repo: 'x86_64',
      message: 'apb-probe-tarball',
      created: '2026-11-24T06:00:08Z',
      stateSince: '2026-11-24T06:00:08Z',
      updated: '2026-11-24T06:00:08Z',
      url: `${BASE}/build/tarball-0003`,
      attrs: { worker: 'x86-1' },
      native: tarball,
    });
    expect(ok?.status).toBe('queued');
    const building = buildTask('ap', { id: 'fail-0001', server: { entry: fail as ServerBuild, workerId: 'x86-1', arch: 'x86_64', base: BASE } });
    expect(building).toMatchObject({ state: 'building', phase: 'running', started: '2026-11-24T06:00:08Z', stateSince: '2026-11-24T06:00:08Z' });
    expect(building.created).toBeUndefined();
    expect(building.finished).toBeUndefined();
  });

  it('maps a status-api record: epoch times, packages and logs with download URLs on the server', () => {
    const rec = record('server-GET-build-ok-0004-status-api-03-completed.json');
    const t = buildTask('ap', { id: 'ok-0004', server: { record: rec, workerId: 'x86-1', arch: 'x86_64', base: BASE } });
    expect(t).toMatchObject({
      state: 'completed',
      phase: 'success',
      message: 'apb-probe-ok',
      created: '2026-11-24T06:00:40Z',
      started: '2026-11-24T06:00:40Z',
      finished: '2026-11-24T06:00:44Z',
      stateSince: '2026-11-24T06:00:44Z',
      updated: '2026-11-24T06:00:44Z',
      attrs: { worker: 'x86-1', exit_code: 0, duration_seconds: 4.142, build_timeout_seconds: 7200 },
      native: rec,
    });
    expect(t.artifacts).toEqual([
      { name: 'apb-probe-ok-2.1-3-x86_64.pkg.tar.zst', type: 'package', size: 59, url: `${BASE}/build/ok-0004/download/apb-probe-ok-2.1-3-x86_64.pkg.tar.zst` },
      { name: 'build.log', type: 'log', size: 320, url: `${BASE}/build/ok-0004/download/build.log` },
    ]);
    const underPrefix = buildTask('ap', { id: 'ok-0004', server: { record: rec, workerId: 'x', base: 'https://proxy.example/apb/x86' } });
    expect(underPrefix.artifacts?.[1]?.url).toBe('https://proxy.example/apb/x86/build/ok-0004/download/build.log');
    const seed = buildTask('ap', { id: '48ea1df5-f7f3-477e-a7a7-36e526ea7cd3', server: { record: record('seed-GET-build-status-api.json'), workerId: 'x', base: BASE } });
    expect(seed).toMatchObject({ phase: 'success', started: '2022-01-20T16:00:00Z', finished: '2022-01-20T16:01:40Z', attrs: { exit_code: 0, duration_seconds: 100 } });
    expect(seed.artifacts?.map((a) => a.size)).toEqual([1024000, 50000]);
  });

  it("the status-api record's word wins over the listing it was read after", () => {
    const [entry] = serverBuilds('server-GET-builds-latest-while-building.json').slice(2);
    const rec = { ...record('server-GET-build-ok-0004-status-api-03-completed.json'), build_id: 'fail-0001' };
    expect(buildTask('ap', { id: 'fail-0001', server: { entry: entry as ServerBuild, record: rec, workerId: 'x', base: BASE } }).state).toBe('completed');
  });

  it('maps the seed listing, whose times say UTC', () => {
    const [b] = serverBuilds('seed-GET-builds-latest.json');
    expect(buildTask('ap', { id: 'x', server: { entry: b as ServerBuild, workerId: 'x', base: BASE } })).toMatchObject({ started: '2024-01-20T10:00:00Z', finished: '2024-01-20T10:05:00Z', attrs: { duration_seconds: 300 } });
  });

  it('maps farm builds: display name, owner, local times in the farm zone, null times', () => {
    const builds = farmBuilds('farm-GET-builds-latest-after-builds.json');
    const farmed = buildTask('ap', { id: builds[1]?.id ?? '', farm: { entry: builds[1] as FarmBuild, workerId: '127---1', base: FARM, timeZone: 'Europe/Berlin' } });
    expect(farmed).toMatchObject({
      state: 'completed',
      phase: 'success',
      owner: 'admin',
      repo: 'x86_64',
      message: 'apb-probe-farm (1:3.0-1)',
      created: '2026-11-24T05:02:20Z',
      started: '2026-11-24T05:02:24Z',
      finished: '2026-11-24T05:02:28Z',
      url: `${FARM}/build/01626411-e2a7-4894-a9ad-2e7510af48fe/status`,
      attrs: { worker: '127---1' },
    });
    expect(farmed.subtasks[0]?.label).toBe('apb-probe-farm (1:3.0-1)');
    const discovered = builds.find((b) => b.id === 'ok-0004') as FarmBuild;
    const t = buildTask('ap', { id: 'ok-0004', farm: { entry: discovered, base: FARM, timeZone: 'UTC' } });
    expect(t.owner).toBeUndefined();
    expect(t).toMatchObject({ created: '2026-11-24T06:01:50Z', phase: 'success' });
    expect(t.started).toBeUndefined();
    expect(t.finished).toBeUndefined();
  });

  it('maps a farm status-api record with its server and download URLs on the farm', () => {
    const rec = record('farm-GET-build-fail-status-api-03-failed.json');
    const t = buildTask('ap', { id: rec.build_id, farm: { record: rec, workerId: '127---1', base: FARM, timeZone: 'UTC' } });
    expect(t).toMatchObject({ state: 'failed', phase: 'failed', repo: 'x86_64', attrs: { exit_code: 1, worker: '127---1' } });
    expect(t.artifacts).toEqual([{ name: 'build.log', type: 'log', size: 303, url: `${FARM}/build/${rec.build_id}/download/build.log` }]);
  });

  it("merges the farm's word into a server's: the server's status and times win, the farm adds owner and display name", () => {
    const [entry] = serverBuilds('server-GET-builds-latest-while-building.json').slice(2);
    const farmEntry: FarmBuild = { id: 'fail-0001', server_url: '127---1', server_arch: 'x86_64', pkgname: 'apb-probe-hello', display_name: 'apb-probe-hello (1.0-1)', status: 'queued', start_time: null, end_time: null, created_at: '2026-11-24 06:00:07 UTC', username: 'alice' };
    const t = buildTask('ap', { id: 'fail-0001', server: { entry: entry as ServerBuild, workerId: 'x86-1', arch: 'x86_64', base: BASE }, farm: { entry: farmEntry, base: FARM, timeZone: 'UTC' } });
    expect(t).toMatchObject({ state: 'building', owner: 'alice', message: 'apb-probe-hello (1.0-1)', created: '2026-11-24T06:00:07Z', started: '2026-11-24T06:00:08Z', url: `${BASE}/build/fail-0001` });
  });
});

describe('a build list between refreshes', () => {
  const book = () => new BuildBook<ServerBuild>((e) => ({ id: e.build_id, status: e.status }));

  it('lists each build once although APB lists finished builds twice', () => {
    const b = book();
    b.applyListing(serverBuilds('server-GET-builds-latest-after-builds.json'));
    expect([...b.builds.keys()]).toEqual(['cancel-0005', 'ok-0004', 'tarball-0003', 'ok-0002', 'fail-0001']);
  });

  it('reports builds new since the previous listing, never on the first one', () => {
    const b = book();
    b.applyListing(serverBuilds('server-GET-builds-latest-while-building.json'));
    expect(b.takeNewIds()).toEqual([]);
    b.applyListing(serverBuilds('server-GET-builds-latest-after-builds.json'));
    expect(b.takeNewIds()).toEqual(['cancel-0005', 'ok-0004']);
    expect(b.takeNewIds()).toEqual([]);
  });

  it('reads running builds first, then dropped active ones, then queued, then unread finished ones, within the budget', () => {
    const b = book();
    const listing = serverBuilds('server-GET-builds-latest-while-building.json');
    b.applyListing(listing);
    expect(b.toRead(10)).toEqual(['fail-0001', 'tarball-0003', 'ok-0002']);
    expect(b.toRead(1)).toEqual(['fail-0001']);
    expect(b.toRead(10, new Set(['fail-0001']))).toEqual(['tarball-0003', 'ok-0002']);
    // The running build drops off the list: it is kept until a read tells how it ended.
    b.applyListing(listing.slice(0, 2));
    expect(b.builds.has('fail-0001')).toBe(true);
    expect(b.toRead(10)).toEqual(['fail-0001', 'tarball-0003', 'ok-0002']);
  });

  it("keeps a finished record when a lagging list still says the build runs (the farm's list trails a sweep)", () => {
    const b = new BuildBook<FarmBuild>((e) => ({ id: e.id, status: e.status }));
    const running: FarmBuild = { id: 'f1', server_url: '127---1', server_arch: 'riscv64', pkgname: 'p', status: 'building', start_time: null, end_time: null, created_at: null, username: null };
    b.applyListing([running]);
    const finished = { ...record('farm-GET-build-fail-status-api-03-failed.json'), build_id: 'f1' };
    (b as unknown as { setRecord(id: string, r: BuildRecord): void }).setRecord('f1', finished);
    b.applyListing([running]);
    expect(b.builds.get('f1')?.record?.status).toBe('failed');
    expect(b.toRead(10)).toEqual([]);
    // An active record the listing moved past is stale and read again.
    const queuedRecord = { ...finished, status: 'queued' };
    (b as unknown as { setRecord(id: string, r: BuildRecord): void }).setRecord('f1', queuedRecord);
    b.applyListing([running]);
    expect(b.builds.get('f1')?.record).toBeUndefined();
    expect(b.toRead(10)).toEqual(['f1']);
  });
});
