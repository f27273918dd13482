/**
 * girar (taskoteka) across a restart: the adapter picks up its detail cache from the journal, so
 * tasks beyond `detail_budget` are rebuilt as before (no spurious updates, per-arch results not
 * counted again), while what changed during the downtime is still fetched and emitted.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Exporter } from '../../app.js';
import { RestartHarness, brief, collect, samples } from '../../test-support/restart.js';
import { ManualClock } from '../../util/clock.js';
import { HAND_T as T, handTask, HandTree } from '../../test-support/girar-tree.js';
import { GirarSimulator } from './simulator.js';

const BUDGET = 20;
/** A budget the DONE tasks of the farm outnumber twice over. */
const SMALL = 6;
let clock: ManualClock;
let sim: GirarSimulator;
let harness: RestartHarness;

beforeEach(async () => {
  clock = new ManualClock(Date.parse('2026-11-24T10:00:00Z'));
  // A farm with history (warm-up) and far more tasks than the detail budget.
  sim = new GirarSimulator({ clock, seed: 7, taskCount: 200, heartbeatMs: 0 });
  await sim.listen();
  harness = new RestartHarness(clock);
});
afterEach(async () => {
  await harness.close();
  await sim.close();
});

const yaml = (budget = BUDGET) => `  - name: alt\n    kind: girar\n    url: ${sim.url}\n    stream: false\n    detail_budget: ${budget}\n`;

/** Poll until every detail is in: the arch-results counter and the events stop moving. */
async function settle(exporter: Exporter): Promise<void> {
  const seen = collect(exporter);
  let quiet = 0;
  let last = '';
  for (let i = 0; i < 40 && quiet < 2; i++) {
    const before = seen.length;
    await exporter.runners.pollAll();
    const now = (await samples(exporter, 'buildfarm_girar_arch_results_total')).join('\n');
    quiet = now === last && seen.length === before ? quiet + 1 : 0;
    last = now;
  }
  expect(quiet, 'the first run settles').toBe(2);
}

describe('girar restart', () => {
  it('rebuilds tasks beyond the detail budget from the kept details: no events, no recount', async () => {
    const first = await harness.start(yaml());
    await settle(first);
    const tasks = first.store.tasksOf('alt');
    expect(tasks.length).toBeGreaterThan(BUDGET * 3);
    // Most tasks carry per-arch results that only a detail gives.
    expect(tasks.filter((t) => t.subtasks.some((s) => s.archs.length > 0)).length).toBeGreaterThan(BUDGET);
    const arch = await samples(first, 'buildfarm_girar_arch_results_total');
    expect(arch.length).toBeGreaterThan(0);
    const transitions = await samples(first, 'buildfarm_task_transitions_total');
    await harness.stop(first);

    clock.advance(60_000);
    const second = await harness.start(yaml());
    const seen = collect(second);
    for (let i = 0; i < 4; i++) await second.runners.pollAll();
    expect(seen.map(brief)).toEqual([]);
    expect(await samples(second, 'buildfarm_girar_arch_results_total')).toEqual(arch);
    expect(await samples(second, 'buildfarm_task_transitions_total')).toEqual(transitions);
  });

  it('still fetches and emits a task whose list item changed while the exporter was down', async () => {
    const first = await harness.start(yaml());
    await settle(first);
    const done = first.store.tasksOf('alt').find((t) => t.state === 'DONE' && t.message !== undefined);
    expect(done).toBeDefined();
    const id = Number(done!.id);
    await harness.stop(first);

    // Same state, try and iter: only the message (and so the list item) says something changed.
    sim.updateTask(id, { message: 'rebuilt while the exporter was down' });
    clock.advance(60_000);
    const second = await harness.start(yaml());
    const seen = collect(second);
    await second.runners.pollAll();
    expect(seen.map(brief)).toEqual([`task_updated ${id} DONE>DONE`]);
    expect(second.store.getTask('alt', String(id))?.message).toBe('rebuilt while the exporter was down');
  });

  it('serves a kept record whose detail was not re-read yet as kept, until the detail arrives', async () => {
    const first = await harness.start(yaml(SMALL));
    await settle(first);
    const finished = first.store.tasksOf('alt').filter((t) => t.state === 'DONE' && t.subtasks.some((s) => s.archs.length > 0));
    expect(finished.length).toBeGreaterThan(SMALL * 2);
    // More list items change than one poll's budget re-reads: the rest keep their older detail.
    for (const t of finished) {
      const native = t.native as { updated: number };
      sim.updateTask(Number(t.id), { message: `reworded ${t.id}`, updated: native.updated });
    }
    await first.runners.pollAll();
    const arch = await samples(first, 'buildfarm_girar_arch_results_total');
    const waiting = first.store.tasksOf('alt').filter((t) => finished.some((f) => f.id === t.id) && 'id' in (t.native as object));
    expect(waiting.length).toBeGreaterThan(SMALL);
    await harness.stop(first);

    const second = await harness.start(yaml(SMALL));
    const seen = collect(second);
    for (let i = 0; i < 6; i++) await second.runners.pollAll();
    // Each of them changes once, when its detail arrives (as without a restart), and keeps its results.
    const perTask = new Map<string, number>();
    for (const e of seen) perTask.set(e.id, (perTask.get(e.id) ?? 0) + 1);
    expect([...perTask.keys()].sort()).toEqual(waiting.map((t) => t.id).sort());
    expect([...perTask.values()].every((n) => n === 1)).toBe(true);
    expect(await samples(second, 'buildfarm_girar_arch_results_total')).toEqual(arch);
  });
});

describe('girar fs restart', () => {

  it('a task caught mid-write by the first poll after a restart keeps its kept record', async () => {
    const hand = new HandTree();
    try {
      for (let id = 1; id <= 5; id++) handTask(hand, id, id % 2 === 0 ? 'DONE' : 'NEW');
      const yamlFs = `  - name: tree\n    kind: girar\n    transport: fs\n    tasks_dir: ${hand.tasks}\n    io_threads: 0\n`;
      const first = await harness.start(yamlFs);
      await first.runners.pollAll();
      const held = first.store.tasksOf('tree').map((t) => `${t.id} ${t.state}`).sort();
      expect(held).toHaveLength(5);
      await harness.stop(first);

      hand.file('3/task/state', '', T + 50); // girar is rewriting it
      const second = await harness.start(yamlFs);
      const seen = collect(second);
      await second.runners.pollAll();
      expect(seen.map(brief)).toEqual([]);
      expect(second.store.tasksOf('tree').map((t) => `${t.id} ${t.state}`).sort()).toEqual(held);
      hand.file('3/task/state', 'AWAITING\n', T + 60);
      await second.runners.pollAll();
      expect(seen.map(brief)).toEqual(['task_updated 3 NEW>AWAITING']);
    } finally {
      hand.remove();
    }
  });
});
