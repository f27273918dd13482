import { describe, expect, it } from 'vitest';
import type { Task } from '../model/task.js';
import { Store } from '../store/store.js';
import { archBuildCounts } from './girar-metrics.js';
import { girarTask, scrape, series, setup, T0 } from './test-helpers.js';

describe('buildfarm_girar_subtask_arch_builds', () => {
  it('counts current subtask x arch results per repo and status, unknown words as other', async () => {
    const s = setup();
    s.snapshot(0, [
      girarTask(1, 'BUILDING', { subtasks: [{ x86_64: 'built', i586: 'weird-word' }, { x86_64: 'cached', aarch64: 'excluded' }] }),
      girarTask(2, 'DONE', { repo: 'p10', subtasks: [{ x86_64: 'built' }] }),
    ]);
    expect(series(await scrape(s.metrics), 'buildfarm_girar_subtask_arch_builds')).toEqual({
      'arch=x86_64,repo=sisyphus,source=alt,status=built': 1,
      'arch=i586,repo=sisyphus,source=alt,status=other': 1,
      'arch=x86_64,repo=sisyphus,source=alt,status=cached': 1,
      'arch=aarch64,repo=sisyphus,source=alt,status=excluded': 1,
      'arch=x86_64,repo=p10,source=alt,status=built': 1,
    });
    s.snapshot(60, [girarTask(1, 'TESTED', { subtasks: [{ x86_64: 'built', i586: 'built' }, { x86_64: 'built', aarch64: 'excluded' }] })]);
    expect(series(await scrape(s.metrics), 'buildfarm_girar_subtask_arch_builds')).toEqual({
      'arch=x86_64,repo=sisyphus,source=alt,status=built': 2,
      'arch=i586,repo=sisyphus,source=alt,status=built': 1,
      'arch=aarch64,repo=sisyphus,source=alt,status=excluded': 1,
    });
  });

  it('names an empty status word by its phase: building while the task builds, failed after', async () => {
    const s = setup();
    s.snapshot(0, [girarTask(1, 'BUILDING', { subtasks: [{ x86_64: '', i586: 'built' }] })]);
    expect(series(await scrape(s.metrics), 'buildfarm_girar_subtask_arch_builds')).toEqual({
      'arch=x86_64,repo=sisyphus,source=alt,status=building': 1,
      'arch=i586,repo=sisyphus,source=alt,status=built': 1,
    });
    s.snapshot(60, [girarTask(1, 'FAILED', { subtasks: [{ x86_64: '', i586: 'built' }] })]);
    const samples = await scrape(s.metrics);
    expect(series(samples, 'buildfarm_girar_subtask_arch_builds')).toEqual({
      'arch=x86_64,repo=sisyphus,source=alt,status=failed': 1,
      'arch=i586,repo=sisyphus,source=alt,status=built': 1,
    });
    expect(series(samples, 'buildfarm_girar_arch_results_total')).toEqual({ 'arch=x86_64,source=alt,status=failed': 1 });
  });

  it('stays equal to a recount over the store through random updates and removals', async () => {
    const s = setup();
    const statuses = ['built', 'cached', 'swept', 'excluded', 'failed', '', 'odd'];
    const states = ['NEW', 'AWAITING', 'BUILDING', 'FAILED', 'TESTED', 'DONE'];
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const held = new Map<number, Task>();
    for (let step = 0; step < 40; step += 1) {
      for (let k = 0; k < 15; k += 1) {
        const id = rand(30);
        if (rand(6) === 0) {
          held.delete(id);
          continue;
        }
        const subtasks = Array.from({ length: 1 + rand(3) }, () => Object.fromEntries(['x86_64', 'i586', 'aarch64'].filter(() => rand(3) > 0).map((a) => [a, statuses[rand(statuses.length)] as string])));
        held.set(id, girarTask(id, states[rand(states.length)] as string, { repo: ['sisyphus', 'p10', 'p11'][rand(3)], subtasks }));
      }
      s.snapshot(step * 30, [...held.values()]);
      const expected = [...archBuildCounts([...s.store.allEntries()].map((e) => e.task)).values()];
      const want: Record<string, number> = {};
      for (const { labels, count } of expected) want[`arch=${labels.arch},repo=${labels.repo},source=${labels.source},status=${labels.status}`] = count;
      expect(series(await scrape(s.metrics), 'buildfarm_girar_subtask_arch_builds')).toEqual(want);
    }
  });

  it('starts from the tasks a store already holds', async () => {
    const store = new Store();
    store.apply('alt', 'girar', { type: 'snapshot', tasks: [girarTask(1, 'DONE', { subtasks: [{ x86_64: 'built' }] })] }, T0);
    const s = setup({ store });
    expect(series(await scrape(s.metrics), 'buildfarm_girar_subtask_arch_builds')).toEqual({ 'arch=x86_64,repo=sisyphus,source=alt,status=built': 1 });
  });

  it('ignores tasks of other kinds', async () => {
    const s = setup();
    const koji: Task = { ...girarTask(1, 'BUILDING', { subtasks: [{ x86_64: 'built' }] }), kind: 'koji' };
    s.store.apply('alt', 'koji', { type: 'snapshot', tasks: [koji] }, T0);
    expect(series(await scrape(s.metrics), 'buildfarm_girar_subtask_arch_builds')).toEqual({});
  });
});

describe('buildfarm_girar_arch_results_total', () => {
  it('counts results that appear or change in updates, not on first sight, and keeps them after removal', async () => {
    const s = setup();
    s.snapshot(0, [girarTask(1, 'BUILDING', { subtasks: [{ x86_64: 'built' }] }), girarTask(2, 'DONE', { subtasks: [{ x86_64: 'built' }] })]);
    expect(series(await scrape(s.metrics), 'buildfarm_girar_arch_results_total')).toEqual({});

    // x86_64 unchanged, i586 appears, a second subtask appears with aarch64.
    s.snapshot(60, [girarTask(1, 'BUILDING', { subtasks: [{ x86_64: 'built', i586: 'failed' }, { aarch64: 'excluded' }] }), girarTask(2, 'DONE', { subtasks: [{ x86_64: 'built' }] })]);
    // i586 rebuilt: failed -> built.
    s.snapshot(120, [girarTask(1, 'TESTED', { subtasks: [{ x86_64: 'built', i586: 'built' }, { aarch64: 'excluded' }] })]);
    s.snapshot(180, []);
    expect(series(await scrape(s.metrics), 'buildfarm_girar_arch_results_total')).toEqual({
      'arch=i586,source=alt,status=failed': 1,
      'arch=i586,source=alt,status=built': 1,
      'arch=aarch64,source=alt,status=excluded': 1,
    });
  });
});
