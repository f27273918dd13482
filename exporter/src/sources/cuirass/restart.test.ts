/**
 * Cuirass across a restart: builds the earlier run held unfinished that ended while the exporter
 * was down (and left every list) are read by id and their end is seen, and builds that ran
 * entirely while it was down are new and count once.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RestartHarness, collect, samples } from '../../test-support/restart.js';
import { ManualClock } from '../../util/clock.js';
import { CuirassSimulator } from './simulator.js';

let clock: ManualClock;
let sim: CuirassSimulator;
let harness: RestartHarness;
let url: string;

beforeEach(async () => {
  clock = new ManualClock(Date.parse('2026-11-24T10:00:00Z'));
  // One specification that evaluates only when the test says so.
  sim = new CuirassSimulator({ clock, specs: [{ name: 'hello', systems: ['x86_64-linux'], jobs: 3, periodSeconds: 1_000_000 }] });
  url = await sim.listen();
  harness = new RestartHarness(clock);
});
afterEach(async () => {
  await harness.close();
  await sim.close();
});

// The latest-builds window holds 3: the first evaluation's builds leave it when the second's end.
const yaml = () => `  - name: guix\n    kind: cuirass\n    url: ${url}\n    latest_limit: 3\n`;
const total = (lines: string[]) => lines.reduce((n, l) => n + Number(l.split(' ').pop()), 0);

function evaluation(): number[] {
  clock.advance(1_000);
  const ev = sim.evaluate('hello');
  clock.advance(1_000);
  return sim.finishEvaluation(ev, 0);
}

describe('cuirass restart', () => {
  it('sees the end of builds it held unfinished, and counts builds of the downtime once', async () => {
    const held = evaluation();
    expect(held).toHaveLength(3);
    sim.startBuild(held[0]!);
    const first = await harness.start(yaml());
    await first.runners.pollAll();
    clock.advance(10_000);
    await first.runners.pollAll();
    expect(first.store.tasksOf('guix').filter((t) => held.includes(Number(t.id))).map((t) => t.phase).sort()).toEqual(['queued', 'queued', 'running']);
    const finished = total(await samples(first, 'buildfarm_tasks_finished_total'));
    await harness.stop(first);

    // While the exporter is down: the held builds end, and a whole evaluation runs after them.
    for (const id of held) {
      clock.advance(5_000);
      if (id !== held[0]) sim.startBuild(id);
      sim.finishBuild(id, 0);
    }
    const later = evaluation();
    for (const id of later) {
      clock.advance(5_000);
      sim.startBuild(id);
      sim.finishBuild(id, 0);
    }
    clock.advance(5_000);

    const second = await harness.start(yaml());
    const seen = collect(second);
    await second.runners.pollAll();
    const byId = (ids: number[]) => seen.filter((e) => ids.includes(Number(e.id))).map((e) => `${e.type} ${e.id} ${e.phase ?? '-'}`).sort();
    expect(byId(held)).toEqual(held.map((id) => `task_updated ${id} success`).sort());
    expect(byId(later)).toEqual(later.map((id) => `task_new ${id} success`).sort());
    // The three held builds, the three later ones and the later evaluation each finished once.
    expect(total(await samples(second, 'buildfarm_tasks_finished_total'))).toBe(finished + 7);
    // The next poll counts nothing; the held builds, read by id once and in no list, go (as without a restart).
    const emitted = seen.length;
    await second.runners.pollAll();
    expect(seen.slice(emitted).map((e) => `${e.type} ${e.id}`).sort()).toEqual(held.map((id) => `task_removed ${id}`).sort());
    expect(total(await samples(second, 'buildfarm_tasks_finished_total'))).toBe(finished + 7);
  });
});
