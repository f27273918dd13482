/**
 * Hostile input: the farm side. Guest-name matching of farm servers with configured servers, the cost of
 * GET /farm lists with many servers, and active builds that drop off a listing and are never
 * resolved (held, and shown running, forever).
 */
import { describe, expect, it } from 'vitest';
import { scrape, series, setup } from '../../metrics/test-helpers.js';
import { ManualClock } from '../../util/clock.js';
import type { Snapshot } from '../source.js';
import { ApbAdapter } from './adapter.js';
import { apbAdapter, apbFixture, fakeEndpoints, gate } from './apb-test-helpers.js';

const ROOT = apbFixture('server-GET-root.json');
const HEALTH = apbFixture('server-GET-health.json');
const FARM = JSON.parse(apbFixture('farm-GET-farm.json')) as { servers: Record<string, unknown>[] } & Record<string, unknown>;

const fake = fakeEndpoints();

const adapterFor = (block: Record<string, unknown>, clock = new ManualClock()): ApbAdapter => apbAdapter(block, { clock });
const poll = async (a: ApbAdapter) => (await a.poll(AbortSignal.timeout(8000))) as Snapshot;

function farmWith(servers: Record<string, unknown>[]): { body: string } {
  return { body: JSON.stringify({ ...FARM, servers, total_servers: servers.length }) };
}
function fEntry(id: string, status: string): Record<string, unknown> {
  return { id, server_url: '127---1', server_arch: 'x86_64', pkgname: `pkg-${id}`, display_name: null, status, start_time: null, end_time: null, created_at: '2026-11-24 05:59:50 UTC', username: '#anon#' };
}
const listing = (...builds: Record<string, unknown>[]) => ({ body: JSON.stringify({ builds }) });

describe('hostile input: farm', () => {
  it('a guest name shared by two servers hides the one that is not polled directly', async () => {
    // obfuscate_server_url keeps 3 leading + 1 trailing host characters: ppc64le-1.archpower.org and
    // ppc64le-2.archpower.org are both "ppc---g"; 10.0.0.5 and 10.0.0.15 both "10.---5". Here
    // 127.0.0.1 (polled directly) and another host the farm also shows as 127---1.
    const server = await fake({ '/': { body: ROOT }, '/health': { body: HEALTH }, '/builds/latest': listing() });
    const base = FARM.servers[0] as { info: { system_info: { memory: Record<string, number> } } };
    const other = structuredClone(base);
    other.info.system_info.memory.total = 8 * 2 ** 30; // a different machine
    const farm = await fake({ '/farm': farmWith([base, other]), '/builds/latest': listing() });
    const snap = await poll(adapterFor({ servers: [{ url: server.url, name: 'direct' }], farm: { url: farm.url } }));
    // before the fix: ['direct'] -- every farm entry named 127---1 with the same arch is taken for the configured server
    expect(snap.workers?.length).toBe(2);
  });

  it('a farm listing many servers under one guest name does not stall the event loop (O(n^2) id de-duplication)', async () => {
    const base = FARM.servers[0] as Record<string, unknown>;
    const servers = Array.from({ length: 3000 }, () => base);
    const farm = await fake({ '/farm': farmWith(servers), '/builds/latest': listing() });
    // Three configured servers of another arch: their guest name is 127---1 too, so only the arch keeps them apart.
    const riscv = ROOT.replaceAll('x86_64', 'riscv64');
    const direct = await Promise.all([1, 2, 3].map(() => fake({ '/': { body: riscv }, '/health': { body: HEALTH }, '/builds/latest': listing() })));
    const adapter = adapterFor({ servers: direct.map((d, i) => ({ url: d.url, name: `d${i}`, arch: 'riscv64' })), farm: { url: farm.url }, wait: '5s', server_timeout: '5s' });
    await poll(adapter);
    const t0 = performance.now();
    const snap = await poll(adapter);
    const ms = performance.now() - t0;
    // At most MAX_FARM_SERVERS (300) farm servers are reported, the rest said in the problems; the
    // three configured servers are riscv64, so none of the x86_64 entries is one of them.
    expect(snap.workers?.length).toBe(3 + 300);
    expect(adapter.problems().current).toMatchObject({ over_limit: 1 });
    // Linear in the entries (it was quadratic: ~1-3 s for 3,000, ~45 s for 10,000, all synchronous).
    expect(ms).toBeLessThan(250);
  });

  it('an active build that drops off the list is resolved even when more than detail_budget builds are active', async () => {
    // toRead: running, then queued, then dropped. With >= detail_budget active builds listed (a busy
    // farm queue), a dropped build is never read and stays "building" forever.
    const queued = Array.from({ length: 3 }, (_, i) => fEntry(`q${i}`, 'queued'));
    const farm = await fake({ '/farm': farmWith([FARM.servers[0] as Record<string, unknown>]), '/builds/latest': listing(fEntry('X', 'building'), ...queued) });
    for (const q of queued) farm.routes.set(`/build/${q.id as string}/status-api`, { body: JSON.stringify({ build_id: q.id, pkgname: 'p', status: 'queued' }) });
    farm.routes.set('/build/X/status-api', { body: JSON.stringify({ build_id: 'X', pkgname: 'p', status: 'building', start_time: 1795500000 }) });
    const adapter = adapterFor({ farm: { url: farm.url }, detail_budget: 2 });
    await poll(adapter);
    farm.routes.set('/builds/latest', listing(...queued)); // X scrolled off, and then finished
    farm.routes.set('/build/X/status-api', { body: JSON.stringify({ build_id: 'X', pkgname: 'p', status: 'completed', start_time: 1795500000, end_time: 1795500030 }) });
    // Dropped builds are read before queued ones: the next poll learns X completed; the one after
    // lets it go, since no list has it any more.
    const states: (string | undefined)[] = [];
    for (let i = 0; i < 3; i += 1) states.push((await poll(adapter)).tasks.find((t) => t.id === 'X')?.state);
    expect(states).toEqual(['completed', undefined, undefined]);
  });

  it('an active build that drops off the list and whose status-api keeps failing is not held (running) forever', async () => {
    const clock = new ManualClock();
    const farm = await fake({ '/farm': farmWith([FARM.servers[0] as Record<string, unknown>]), '/builds/latest': listing(fEntry('X', 'building')), '/build/X/status-api': { status: 503, body: '{"detail":"Server unavailable"}' } });
    const adapter = adapterFor({ farm: { url: farm.url } }, clock);
    await poll(adapter);
    farm.routes.set('/builds/latest', listing());
    for (let day = 0; day < 3; day += 1) {
      clock.advance(86_400_000);
      await poll(adapter);
    }
    // Let go after DROPPED_MAX_MS (6 h; build_timeout is at most 4 h upstream), whatever its reads do.
    expect((await poll(adapter)).tasks.find((t) => t.id === 'X')).toBeUndefined();
  });

  it('worker label cardinality stays bounded, but a configured server is not folded into worker="other" by farm servers', async () => {
    // Checked fine: 10,000 farm servers give at most 100 worker label values per family (LabelGuard).
    // But the guard's slots go first come first served for the life of the process, and gauges
    // *set* (not add) the folded series, so "other" shows one arbitrary worker's value.
    const { store, metrics } = setup();
    const base = FARM.servers[0] as Record<string, unknown>;
    const farm = await fake({ '/farm': farmWith(Array.from({ length: 150 }, (_, i) => ({ ...base, url: `http://n${i}.example:8000` }))), '/builds/latest': listing() });
    const slow = gate();
    const direct = await fake({ '/': { body: ROOT, gate: slow.promise }, '/health': { body: HEALTH }, '/builds/latest': listing() });
    const adapter = adapterFor({ servers: [{ url: direct.url, name: 'direct' }], farm: { url: farm.url }, wait: '300ms', server_timeout: '5s' });
    store.apply('ap', 'apb', await poll(adapter)); // GET / of the configured server is slow the first time
    const first = series(await scrape(metrics), 'buildfarm_worker_up');
    expect(Object.keys(first).length).toBeLessThanOrEqual(1000); // bounded: the worker label allows 1,000 values per source
    slow.open();
    await new Promise((r) => setTimeout(r, 100));
    store.apply('ap', 'apb', await poll(adapter));
    const up = series(await scrape(metrics), 'buildfarm_worker_up');
    // The configured server has its own series, not worker="other".
    expect(up['kind=apb,source=ap,worker=direct']).toBe(1);
    expect(up['kind=apb,source=ap,worker=other']).toBeUndefined();
  });
});
