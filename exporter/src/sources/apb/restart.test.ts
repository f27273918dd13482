/**
 * APB across a restart: a build the earlier run saw finished stays finished when, after the
 * restart, only the farm's lagging list still names it (as building): not taken back to
 * running, not counted twice.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RestartHarness, brief, collect, samples } from '../../test-support/restart.js';
import { ManualClock } from '../../util/clock.js';
import { apbFixture, fakeEndpoints } from './apb-test-helpers.js';

const ROOT = apbFixture('server-GET-root.json');
const HEALTH = apbFixture('server-GET-health.json');
const FARM = apbFixture('farm-GET-farm.json');
const fake = fakeEndpoints();

let clock: ManualClock;
let harness: RestartHarness;
beforeEach(() => {
  clock = new ManualClock(Date.parse('2026-11-24T06:05:00Z'));
  harness = new RestartHarness(clock);
});
afterEach(async () => {
  await harness.close();
});

function sEntry(id: string, status: string): Record<string, unknown> {
  const done = !['queued', 'building'].includes(status);
  return { build_id: id, pkgname: `pkg-${id}`, status, start_time: '2026-11-24T06:00:00.000000+00:00', end_time: done ? '2026-11-24T06:00:30.000000+00:00' : null, duration: done ? 30 : 0 };
}
function fEntry(id: string, status: string): Record<string, unknown> {
  const done = !['queued', 'building'].includes(status);
  return { id, server_url: '127---1', server_arch: 'x86_64', pkgname: `pkg-${id}`, display_name: `pkg-${id} (1-1)`, status, start_time: '2026-11-24 06:00:00 UTC', end_time: done ? '2026-11-24 06:00:30 UTC' : null, created_at: '2026-11-24 05:59:50 UTC', username: 'u' };
}
const listing = (...builds: Record<string, unknown>[]) => ({ body: JSON.stringify({ builds, total: builds.length }) });
const record = (id: string) => ({ body: JSON.stringify({ build_id: id, pkgname: `pkg-${id}`, status: 'completed', created_at: 1795499990, start_time: 1795500000, end_time: 1795500030, duration: 30, exit_code: 0, packages: [], logs: [] }) });
const total = (lines: string[]) => lines.reduce((n, l) => n + Number(l.split(' ').pop()), 0);

describe('apb restart', () => {
  it('a build finished before the restart does not go back to building on the farm\'s lagging word', async () => {
    const s = await fake({ '/': { body: ROOT }, '/health': { body: HEALTH }, '/builds/latest': listing(), '/build/X/status-api': record('X') });
    const farm = await fake({ '/farm': { body: FARM }, '/builds/latest': listing(), '/build/X/status-api': { status: 503, body: '{"detail":"Server unavailable"}' } });
    const yaml = `  - name: ap\n    kind: apb\n    servers:\n      - url: ${s.url}\n        name: s\n    farm:\n      url: ${farm.url}\n`;
    const first = await harness.start(yaml);
    await first.runners.pollAll(); // baselines
    s.routes.set('/builds/latest', listing(sEntry('X', 'completed'), sEntry('X', 'completed')));
    farm.routes.set('/builds/latest', listing(fEntry('X', 'building')));
    await first.runners.pollAll();
    expect(first.store.getTask('ap', 'X')?.phase).toBe('success');
    const finished = total(await samples(first, 'buildfarm_tasks_finished_total'));
    expect(finished).toBe(1);
    await harness.stop(first);

    // While the exporter is down the server restarts and forgets X; the farm has not swept yet.
    s.routes.set('/builds/latest', listing());
    s.routes.set('/build/X/status-api', { status: 404, body: '{"detail":"Build not found"}' });
    const second = await harness.start(yaml);
    const seen = collect(second);
    await second.runners.pollAll();
    expect(second.store.getTask('ap', 'X')?.phase).toBe('success');
    expect(seen.filter((e) => e.type.startsWith('task_')).map(brief)).toEqual([]);
    // The farm catches up: its record of X replaces the server's, in the same state (as without a restart).
    farm.routes.set('/builds/latest', listing(fEntry('X', 'completed')));
    await second.runners.pollAll();
    expect(seen.filter((e) => e.type.startsWith('task_')).map(brief)).toEqual(['task_updated X completed>completed']);
    expect(total(await samples(second, 'buildfarm_tasks_finished_total'))).toBe(1);
  });
});
