/**
 * Hostile input: completion counting (Snapshot.newTaskIds + the store's task_updated transitions) and
 * build-state merging, end to end: adapter polls -> store -> buildfarm_tasks_finished_total.
 * Each test describes one build that finishes once upstream; the counter must end at 1.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { scrape, series, setup } from '../../metrics/test-helpers.js';
import type { Store } from '../../store/store.js';
import { ManualClock } from '../../util/clock.js';
import { SourceRunner } from '../runner.js';
import type { Snapshot } from '../source.js';
import { ApbAdapter } from './adapter.js';
import { apbAdapter, apbFixture, fakeEndpoints, gate } from './apb-test-helpers.js';

const ROOT = apbFixture('server-GET-root.json');
const HEALTH = apbFixture('server-GET-health.json');
const FARM = apbFixture('farm-GET-farm.json');

const fake = fakeEndpoints();

function adapterFor(block: Record<string, unknown>, pollTimeoutSeconds = 10): ApbAdapter {
  return apbAdapter(block, { pollTimeoutSeconds });
}

/** One server listing entry (ISO times, like apb-server writes them). */
function sEntry(id: string, status: string, minute = 0): Record<string, unknown> {
  const t = (s: number) => `2026-11-24T06:${String(minute).padStart(2, '0')}:${String(s).padStart(2, '0')}.000000+00:00`;
  const done = !['queued', 'building'].includes(status);
  return { build_id: id, pkgname: `pkg-${id}`, status, start_time: t(0), end_time: done ? t(30) : null, duration: done ? 30 : 0 };
}
const listing = (...builds: Record<string, unknown>[]) => ({ body: JSON.stringify({ builds, total: builds.length }) });
/** One farm listing entry (local "UTC" times). */
function fEntry(id: string, status: string): Record<string, unknown> {
  const done = !['queued', 'building'].includes(status);
  return { id, server_url: '127---1', server_arch: 'x86_64', pkgname: `pkg-${id}`, display_name: `pkg-${id} (1-1)`, status, start_time: '2026-11-24 06:00:00 UTC', end_time: done ? '2026-11-24 06:00:30 UTC' : null, created_at: '2026-11-24 05:59:50 UTC', username: 'u' };
}
function record(id: string, status: string): { body: string } {
  const done = !['queued', 'building'].includes(status);
  return { body: JSON.stringify({ build_id: id, pkgname: `pkg-${id}`, status, created_at: 1795499990, start_time: 1795500000, ...(done ? { end_time: 1795500030, duration: 30, exit_code: status === 'completed' ? 0 : 1 } : {}), packages: [], logs: [] }) };
}

async function finishedTotal(metrics: ReturnType<typeof setup>['metrics']): Promise<number> {
  return Object.values(series(await scrape(metrics), 'buildfarm_tasks_finished_total')).reduce((a, b) => a + b, 0);
}

async function pollInto(adapter: ApbAdapter, store: Store): Promise<Snapshot> {
  const snap = (await adapter.poll(AbortSignal.timeout(8000))) as Snapshot;
  store.apply('ap', 'apb', snap);
  return snap;
}

describe('hostile input: one finished build is counted once', () => {
  it('a finished build that leaves the truncated listing and comes back is not new again', async () => {
    // /builds/latest?limit=N returns N *entries*, and a finished build takes two (active + history),
    // a running one one. When an entry above the cut goes away (a build deleted from `active` by the
    // timeout path, the hourly cleanup), an older build that had fallen off re-enters the window.
    const { store, metrics } = setup();
    const s = await fake({ '/': { body: ROOT }, '/health': { body: HEALTH }, '/builds/latest': listing() });
    const adapter = adapterFor({ servers: [{ url: s.url, name: 's' }], detail_budget: 0 });
    await pollInto(adapter, store); // baseline: empty
    s.routes.set('/builds/latest', listing(sEntry('A', 'completed', 1), sEntry('A', 'completed', 1)));
    await pollInto(adapter, store); // A is new and finished: counted
    s.routes.set('/builds/latest', listing(sEntry('B', 'completed', 2), sEntry('B', 'completed', 2)));
    await pollInto(adapter, store); // B counted; A fell off the window
    s.routes.set('/builds/latest', listing(sEntry('B', 'completed', 2), sEntry('A', 'completed', 1)));
    const snap = await pollInto(adapter, store); // A is back at the tail
    // before the fix: { newTaskIds: ['A'], finished: 3 }
    expect({ newTaskIds: snap.newTaskIds ?? [], finished: await finishedTotal(metrics) }).toEqual({ newTaskIds: [], finished: 2 });
  });

  it('a build finished on its server does not go back to building when the server forgets it while the farm lags', async () => {
    // README: "A finished record is final: the farm's list trails its builds by a sweep and may
    // still say building." Enforced per endpoint, but not across endpoints: once the server's book
    // drops the build (restart: its list is empty; or it scrolled out), the farm's lagging word wins.
    const { store, metrics } = setup();
    const s = await fake({ '/': { body: ROOT }, '/health': { body: HEALTH }, '/builds/latest': listing(), '/build/X/status-api': record('X', 'completed') });
    const farm = await fake({ '/farm': { body: FARM }, '/builds/latest': listing(), '/build/X/status-api': { status: 503, body: '{"detail":"Server unavailable"}' } });
    const adapter = adapterFor({ servers: [{ url: s.url, name: 's' }], farm: { url: farm.url } });
    await pollInto(adapter, store); // baselines
    s.routes.set('/builds/latest', listing(sEntry('X', 'completed'), sEntry('X', 'completed')));
    farm.routes.set('/builds/latest', listing(fEntry('X', 'building')));
    const second = await pollInto(adapter, store);
    expect(second.tasks.find((t) => t.id === 'X')?.phase).toBe('success');
    expect(await finishedTotal(metrics)).toBe(1);
    // The server restarts: its in-memory history is gone. The farm has not swept yet.
    s.routes.set('/builds/latest', listing());
    s.routes.set('/build/X/status-api', { status: 404, body: '{"detail":"Build not found"}' });
    const third = await pollInto(adapter, store);
    const phaseAfterRestart = third.tasks.find((t) => t.id === 'X')?.phase;
    farm.routes.set('/builds/latest', listing(fEntry('X', 'completed')));
    await pollInto(adapter, store);
    // before the fix: { phaseAfterRestart: 'running' (the farm's lagging word), finished: 2 (running -> success counted again) }
    expect({ phaseAfterRestart, finished: await finishedTotal(metrics) }).toEqual({ phaseAfterRestart: 'success', finished: 1 });
  });

  it("a cancelled build that runs on: the live status-api record's later word wins (README: 'the status-api record tells the build's real state')", async () => {
    const { store } = setup();
    const s = await fake({ '/': { body: ROOT }, '/health': { body: HEALTH }, '/builds/latest': listing(sEntry('X', 'queued')), '/build/X/status-api': record('X', 'queued') });
    const adapter = adapterFor({ servers: [{ url: s.url, name: 's' }] });
    await pollInto(adapter, store);
    // routes.cancel_build: the record says cancelled, a copy goes to history, the build is not stopped.
    s.routes.set('/builds/latest', listing(sEntry('X', 'cancelled'), sEntry('X', 'cancelled')));
    s.routes.set('/build/X/status-api', record('X', 'cancelled'));
    await pollInto(adapter, store);
    // The executor starts it anyway and it completes: active copy and status-api say completed.
    s.routes.set('/builds/latest', listing(sEntry('X', 'cancelled'), sEntry('X', 'completed')));
    s.routes.set('/build/X/status-api', record('X', 'completed'));
    const before = s.requests.length;
    const snap = await pollInto(adapter, store);
    const reads = s.requests.slice(before).filter((r) => r.path === '/build/X/status-api').length;
    expect({ state: snap.tasks.find((t) => t.id === 'X')?.state, reads }).toEqual({ state: 'completed', reads: 1 }); // before the fix: cancelled, 0 (frozen)
  });

  it('a poll the runner times out (source timeout below `wait`) does not lose the new builds it consumed', async () => {
    const { store, metrics } = setup();
    const fast = await fake({ '/': { body: ROOT }, '/health': { body: HEALTH }, '/builds/latest': listing() });
    const slow = await fake({ '/': { body: ROOT }, '/health': { body: HEALTH }, '/builds/latest': listing() });
    // The adapter is told the source timeout (1s), as the runners give it: wait is cut to half of it.
    const adapter = adapterFor({ servers: [{ url: fast.url, name: 'fast' }, { url: slow.url, name: 'slow' }], wait: '2s', server_timeout: '5s', detail_budget: 0 }, 1);
    const log = pino({ level: 'silent' });
    // timeout 1s is accepted with wait 2s: nothing relates the source timeout to `wait`.
    const runner = new SourceRunner({ name: 'ap', kind: 'apb', intervalSeconds: 30, timeoutSeconds: 1, adapter, store, log, clock: new ManualClock() });
    await runner.pollOnce();
    expect(runner.health.up).toBe(true);
    fast.routes.set('/builds/latest', listing(sEntry('N', 'completed'), sEntry('N', 'completed')));
    const hung = gate();
    slow.routes.set('/', { body: ROOT, gate: hung.promise });
    await runner.pollOnce(); // waits up to 2s for slow; the runner gives up at 1s and drops the snapshot
    await runner.pollOnce(); // slow is still refreshing: not waited; N is applied, but no longer "new"
    hung.open();
    expect(store.getTask('ap', 'N')?.phase).toBe('success');
    expect(await finishedTotal(metrics)).toBe(1); // before the fix: 0
    await runner.stop();
  });

  it('a build cancelled while queued has no start time (the listing writes start_time = created_at for it)', async () => {
    // apb-server lists `start_time or created_at`; the status-api record has no start_time at all.
    const entry = { build_id: 'C', pkgname: 'p', status: 'cancelled', start_time: '2026-11-24T06:00:00.000000+00:00', end_time: '2026-11-24T06:10:00.000000+00:00', duration: null };
    const rec = { build_id: 'C', pkgname: 'p', status: 'cancelled', created_at: 1795500000, end_time: 1795500600, packages: [], logs: [] };
    const { store } = setup();
    const s = await fake({ '/': { body: ROOT }, '/health': { body: HEALTH }, '/builds/latest': listing(), '/build/C/status-api': { body: JSON.stringify(rec) } });
    const adapter = adapterFor({ servers: [{ url: s.url, name: 's' }] });
    await pollInto(adapter, store);
    s.routes.set('/builds/latest', listing(entry, entry));
    const snap = await pollInto(adapter, store);
    // before the fix: started '2026-11-24T06:00:00Z' (= created), so a 10-minute queue wait is observed as a
    // 10-minute run in buildfarm_task_duration_seconds{phase="canceled"}
    expect(snap.tasks.find((t) => t.id === 'C')?.started).toBeUndefined();
  });
});
