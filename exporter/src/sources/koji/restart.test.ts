/**
 * Koji across a restart: the first poll after it reads only what is unfinished and what finished
 * within `look_back`, yet the tasks and builds the earlier run held (finished up to
 * `keep_finished` ago) stay, and a build read through another call's row shape keeps its record.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RestartHarness, brief, collect, samples } from '../../test-support/restart.js';
import { ManualClock } from '../../util/clock.js';
import { KojiSimulator } from './simulator.js';

let clock: ManualClock;
let sim: KojiSimulator;
let harness: RestartHarness;
let url: string;

beforeEach(async () => {
  clock = new ManualClock(Date.parse('2026-11-24T10:00:00Z'));
  sim = new KojiSimulator({ clock, seed: 3 });
  url = `${await sim.listen()}/kojihub`;
  harness = new RestartHarness(clock);
});
afterEach(async () => {
  await harness.close();
  await sim.close();
});

const yaml = () => `  - name: fedora\n    kind: koji\n    url: ${url}\n    look_back: 1h\n    keep_finished: 6h\n`;
const ended = (finished: string | undefined) => (finished === undefined ? Number.NaN : clock.now() - Date.parse(finished));

describe('koji restart', () => {
  it('keeps what finished before look_back but within keep_finished, and no record flaps', async () => {
    const first = await harness.start(yaml());
    await first.runners.pollAll();
    // Two hours of farm life, polled every 15 minutes.
    for (let i = 0; i < 8; i++) {
      clock.advance(15 * 60_000);
      sim.step();
      await first.runners.pollAll();
    }
    const held = first.store.tasksOf('fedora');
    const old = held.filter((t) => ended(t.finished) > 3_600_000);
    expect(old.length).toBeGreaterThan(5);
    expect(held.some((t) => t.id.startsWith('build-') && t.phase === 'running')).toBe(true);
    const finished = await samples(first, 'buildfarm_tasks_finished_total');
    await harness.stop(first);

    clock.advance(60_000);
    const second = await harness.start(yaml());
    const seen = collect(second);
    const kept = new Map(second.store.tasksOf('fedora').map((t) => [t.id, JSON.stringify(t.native)]));
    await second.runners.pollAll();
    await second.runners.pollAll();
    // Nothing removed, nothing new; a record changes only where the hub's row did (finished
    // tasks the earlier run read before the hub's last word on them, re-read within look_back).
    const tasksEvents = seen.filter((e) => e.type.startsWith('task_'));
    expect(tasksEvents.filter((e) => e.type !== 'task_updated' || e.id.startsWith('build-')).map(brief)).toEqual([]);
    for (const e of tasksEvents) expect(JSON.stringify(second.store.getTask('fedora', e.id)?.native), e.id).not.toBe(kept.get(e.id));
    expect(second.store.tasksOf('fedora').map((t) => t.id).sort()).toEqual(held.map((t) => t.id).sort());
    expect(await samples(second, 'buildfarm_tasks_finished_total')).toEqual(finished);
  });
});
