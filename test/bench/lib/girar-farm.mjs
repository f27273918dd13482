/**
 * A large girar farm for benchmarks: taskoteka simulators (the fake upstream the tests use, real
 * loopback HTTP in taskoteka's format) loaded with a seeded, generated population in a realistic
 * mix of states, repos, owners and subtasks. `startGirarFarm(n, {sources})` splits n tasks over
 * several sources; the simulators are frozen (no timer) so nothing changes unless a benchmark
 * changes it.
 */
import { GirarSimulator } from '../../../exporter/dist/sources/girar/simulator.js';
import { Rng } from '../../../exporter/dist/sources/girar/prng.js';
import { newTask } from '../../../exporter/dist/sources/girar/simulator-population.js';
import { toSpec } from '../../../exporter/dist/sources/girar/simulator-model.js';

/** State mix of a girar /tasks listing: mostly finished tasks, a few percent running. */
export const STATE_WEIGHTS = [
  ['DONE', 52], ['FAILED', 10], ['EPERM', 6], ['TESTED', 6], ['NEW', 4], ['AWAITING', 5], ['POSTPONED', 3],
  ['PENDING', 3], ['BUILDING', 6], ['FAILING', 2], ['COMMITTING', 1], ['SWEPT', 2],
];
const ARCHES = ['x86_64', 'i586', 'aarch64', 'noarch'];
const FIRST_ID = 300_000;

/** `n` task specs with ids from `firstId`, deterministic for a seed. */
export function generateSpecs(n, { seed = 1, firstId = FIRST_ID, nowMs = Date.now() } = {}) {
  const rng = new Rng(seed);
  const specs = [];
  let id = firstId;
  for (let i = 0; i < n; i += 1) {
    id += rng.int(1, 3);
    // Created over the last 90 days, oldest first.
    const createdMs = nowMs - Math.round(((n - i) / n) * 90 * 86_400_000);
    const task = newTask(rng, id, createdMs, []);
    const spec = toSpec(task);
    spec.state = rng.weighted(STATE_WEIGHTS);
    spec.updated = Math.round((createdMs + rng.int(0, 3_600_000)) / 1000);
    if (spec.state !== 'NEW') {
      spec.try = rng.int(1, 3);
      spec.iter = 1;
    }
    if (['DONE', 'FAILED', 'TESTED', 'EPERM', 'BUILDING', 'FAILING', 'COMMITTING'].includes(spec.state)) {
      const archs = ARCHES.slice(0, rng.int(2, 4));
      for (const sub of Object.values(spec.subtasks ?? {})) {
        if (!sub.pkgname) continue;
        sub.build = {};
        for (const arch of archs) {
          if ((spec.state === 'BUILDING' || spec.state === 'FAILING') && rng.chance(0.4)) continue;
          sub.build[arch] = spec.state === 'FAILED' || spec.state === 'FAILING' ? (rng.chance(0.5) ? 'failed' : 'built') : 'built';
        }
      }
    }
    specs.push(spec);
  }
  return specs;
}

/**
 * Start `sources` girar simulators holding `n` tasks between them, frozen. Returns their source
 * configs (for the exporter's YAML), the simulators, and close().
 */
export async function startGirarFarm(n, { sources = 4, seed = 1, interval = '30s', stream = true, detailBudget, nowMs = Date.now() } = {}) {
  const sims = [];
  const configs = [];
  const per = Math.ceil(n / sources);
  for (let s = 0; s < sources; s += 1) {
    const count = Math.max(0, Math.min(per, n - s * per));
    const sim = new GirarSimulator({ seed: seed + s, taskCount: count, warmupSteps: 0, heartbeatMs: 0, maxSseConnections: 16, maxSsePerIp: 16 });
    sim.setTasks(generateSpecs(count, { seed: seed * 1000 + s, firstId: FIRST_ID + s * 10_000_000, nowMs }));
    const url = await sim.listen();
    sims.push(sim);
    configs.push({
      name: `girar-${s + 1}`,
      kind: 'girar',
      transport: 'taskoteka',
      url,
      interval,
      timeout: '2m',
      stream,
      ...(detailBudget !== undefined ? { detail_budget: detailBudget } : {}),
    });
  }
  return {
    sims,
    sources: configs,
    async close() {
      await Promise.all(sims.map((s) => s.close()));
    },
  };
}
