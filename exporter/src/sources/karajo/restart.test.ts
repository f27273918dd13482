/**
 * karajo across a restart: the start and end times the exporter dated by its polls (karajo keeps
 * neither) survive it, and runs that began while the exporter was down count once.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RestartHarness, brief, collect, samples } from '../../test-support/restart.js';
import { ManualClock } from '../../util/clock.js';
import { KarajoSimulator } from './simulator.js';

let clock: ManualClock;
let sim: KarajoSimulator;
let harness: RestartHarness;
let url: string;

beforeEach(async () => {
  clock = new ManualClock(Date.parse('2026-11-24T10:00:00Z'));
  // Jobs that never fire on their own within the test: every run is started and ended by the test.
  sim = new KarajoSimulator({
    clock,
    jobs: [
      { name: 'nightly', kind: 'exec', intervalMs: 24 * 3_600_000, durationMs: 3_600_000 },
      { name: 'mirror', kind: 'http', intervalMs: 24 * 3_600_000, durationMs: 3_600_000 },
    ],
  });
  url = await sim.listen();
  harness = new RestartHarness(clock);
});
afterEach(async () => {
  await harness.close();
  await sim.close();
});

const yaml = () => `  - name: kj\n    kind: karajo\n    url: ${url}\n`;
const step = async (ms: number) => {
  clock.advance(ms);
  sim.step();
};

describe('karajo restart', () => {
  it('keeps the run times dated by polls, and counts runs of the downtime once', async () => {
    const first = await harness.start(yaml());
    await first.runners.pollAll();
    // Both runs are first seen running by the poll after they began: that poll dates their start.
    const nightly = sim.runNow('nightly');
    const mirror = sim.runNow('mirror');
    await step(20_000);
    await first.runners.pollAll();
    await step(30_000);
    sim.finishRun('nightly', 'success');
    await step(25_000);
    // The end of nightly is the poll that saw it ended (25 s after karajo's last_run).
    await first.runners.pollAll();
    const held = first.store.tasksOf('kj').map((t) => `${t.id} ${t.state} ${t.started ?? '-'} ${t.finished ?? '-'}`).sort();
    expect(held).toEqual([`mirror#${mirror} running 2026-11-24T10:00:20Z -`, `nightly#${nightly} success 2026-11-24T10:00:20Z 2026-11-24T10:01:15Z`]);
    const finished = await samples(first, 'buildfarm_tasks_finished_total');
    await harness.stop(first);

    const second = await harness.start(yaml());
    const seen = collect(second);
    await second.runners.pollAll();
    await second.runners.pollAll();
    expect(seen.map(brief)).toEqual([]);
    expect(second.store.tasksOf('kj').map((t) => `${t.id} ${t.state} ${t.started ?? '-'} ${t.finished ?? '-'}`).sort()).toEqual(held);
    // The run still going when the exporter stopped ends at the poll that sees it ended, as before.
    await step(10_000);
    sim.finishRun('mirror', 'failed');
    await step(5_000);
    await second.runners.pollAll();
    expect(second.store.getTask('kj', `mirror#${mirror}`)).toMatchObject({ state: 'failed', started: '2026-11-24T10:00:20Z', finished: '2026-11-24T10:01:30Z' });
    await harness.stop(second);

    // While the exporter is down, nightly runs again from start to end: one more finished run.
    const again = sim.runNow('nightly');
    await step(60_000);
    sim.finishRun('nightly', 'failed');
    await step(60_000);
    const third = await harness.start(yaml());
    const seenThird = collect(third);
    await third.runners.pollAll();
    expect(seenThird.map(brief).sort()).toEqual([`job_updated nightly success>failed`, `task_new nightly#${again} ->failed`]);
    const after = await samples(third, 'buildfarm_tasks_finished_total');
    const total = (lines: string[]) => lines.reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    expect(total(after)).toBe(total(finished) + 2);
  });
});
