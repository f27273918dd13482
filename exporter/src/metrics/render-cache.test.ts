/**
 * /metrics reuses the text of `fromStore` families while the store has not changed. A seeded run
 * of store changes of every kind (tasks, workers, jobs), poll outcomes, label allowlists and a
 * forgotten source, rendering after each step: the cached answer must equal a fresh render of the
 * same registry every time. A family wrongly marked fromStore, or a change path that does not
 * move the version, fails here.
 */
import { describe, expect, it } from 'vitest';
import type { Phase, Task } from '../model/task.js';
import type { Job } from '../model/job.js';
import type { Worker } from '../model/worker.js';
import { Rng } from '../sources/girar/prng.js';
import { lifecyclesByKind } from '../sources/registry.js';
import { Store } from '../store/store.js';
import { METRIC_DEFINITIONS } from './definitions.js';
import { setup, sourceHealth } from './test-helpers.js';

interface KindSpec {
  source: string;
  kind: string;
  states: readonly (readonly [string, Phase])[];
}

const KINDS: readonly KindSpec[] = [
  { source: 'alt', kind: 'girar', states: [['NEW', 'blocked'], ['AWAITING', 'queued'], ['BUILDING', 'running'], ['FAILED', 'failed'], ['DONE', 'success']] },
  { source: 'fedora', kind: 'koji', states: [['FREE', 'queued'], ['OPEN', 'running'], ['CLOSED', 'success'], ['FAILED', 'failed']] },
  { source: 'guix', kind: 'cuirass', states: [['scheduled', 'queued'], ['started', 'running'], ['succeeded', 'success'], ['failed', 'failed']] },
  { source: 'cron', kind: 'karajo', states: [['running', 'running'], ['success', 'success'], ['failed', 'failed']] },
  { source: 'power', kind: 'apb', states: [['queued', 'queued'], ['building', 'running'], ['completed', 'success'], ['failed', 'failed']] },
];

function task(rng: Rng, k: KindSpec, id: number, at: number): Task {
  const [state, phase] = rng.pick(k.states);
  const archs = ['x86_64', 'aarch64', 'i586'].filter(() => rng.chance(0.6));
  return {
    source: k.source,
    kind: k.kind,
    id: k.kind === 'karajo' ? `job${id % 3}#${id}` : String(id),
    state,
    phase,
    repo: rng.pick(['sisyphus', 'p11', 'x86_64-linux', 'f42']),
    owner: rng.pick(['vt', 'rider']),
    created: new Date(at - 3_600_000).toISOString(),
    ...(phase !== 'queued' ? { started: new Date(at - 1_800_000).toISOString() } : {}),
    ...(phase === 'success' || phase === 'failed' ? { finished: new Date(at).toISOString() } : {}),
    archs,
    subtasks: [{ id: '100', type: 'repo', archs: archs.map((arch) => ({ arch, status: rng.pick(['built', 'failed', 'building']), phase: 'running' as Phase })) }],
    ...(k.kind === 'koji' ? { attrs: { method: rng.pick(['build', 'buildArch', 'newRepo']), channel: 'default' } } : {}),
  };
}

function worker(rng: Rng, id: number): Worker {
  return {
    source: 'power', kind: 'apb', id: `srv${id}`, name: `srv${id}`, up: rng.chance(0.8), archs: ['ppc64le'],
    capacity: 4, load: rng.int(0, 4), cpuCores: 8, loadAverage: rng.int(0, 800) / 100, memoryUsedBytes: rng.int(1, 9) * 1e9, memoryTotalBytes: 16e9,
    diskUsedBytes: rng.int(1, 90) * 1e9, diskTotalBytes: 100e9, health: rng.pick(['healthy', 'warning', 'degraded']), lastSeen: new Date(Date.UTC(2026, 2, 16, 12, rng.int(0, 59))).toISOString(),
  };
}

function job(rng: Rng, id: number): Job {
  return {
    source: 'cron', kind: 'karajo', id: `job${id}`, name: `job${id}`, jobType: 'exec', status: rng.pick(['success', 'failed', 'running', '']), paused: rng.chance(0.2),
    lastRun: new Date(Date.UTC(2026, 2, 16, rng.int(0, 11))).toISOString(), nextRun: new Date(Date.UTC(2026, 2, 16, rng.int(12, 23))).toISOString(), intervalSeconds: 3600, overdue: rng.chance(0.2),
  };
}

describe('/metrics exposition cache', () => {
  it('marks every transition family fromStore and no family that reads source health or the clock', () => {
    for (const def of METRIC_DEFINITIONS) {
      if (def.updated === 'transition') expect(def.fromStore, def.name).toBe(true);
      if (def.updated === 'scrape' || def.updated === 'poll_outcome') expect(def.fromStore, def.name).toBeUndefined();
      if (/^buildfarm_(source|koji_(hub|database|tasks$|builds_in|repo|last|host|channel)|apb_farm)/.test(def.name)) expect(def.fromStore, def.name).toBeUndefined();
    }
  });

  it('answers exactly what a fresh render answers, after every kind of change', async () => {
    const rng = new Rng(11);
    const { store, health, metrics } = setup({ store: new Store({ lifecycles: lifecyclesByKind() }) });
    health.sources = KINDS.map((k) => sourceHealth(k.source, { kind: k.kind }));
    let at = Date.UTC(2026, 2, 16, 12);
    let cachedRenders = 0;
    // The series count of the previous response is the one line that differs by design.
    const body = async (render: Promise<{ body: string }>) => (await render).body.replace(/^buildfarm_exporter_scrape_series .*$/m, '');
    const check = async (what: string) => {
      const cached = await body(metrics.render());
      const fresh = await body(metrics.renderUncached());
      expect(cached, what).toBe(fresh);
      cachedRenders += 1;
    };
    await check('empty');
    for (let step = 0; step < 120; step += 1) {
      at += 30_000;
      const roll = rng.int(0, 9);
      const k = rng.pick(KINDS);
      if (roll <= 4) {
        const tasks = Array.from({ length: rng.int(1, 12) }, () => task(rng, k, rng.int(1, 40), at));
        const byId = new Map(tasks.map((t) => [t.id, t]));
        store.apply(k.source, k.kind, { type: 'delta', tasks: [...byId.values()], removedTaskIds: rng.chance(0.3) ? [String(rng.int(1, 40))] : [] }, at);
      } else if (roll === 5) {
        store.apply('power', 'apb', { type: 'delta', tasks: [], workers: Array.from({ length: rng.int(1, 4) }, () => worker(rng, rng.int(1, 6))), removedWorkerIds: rng.chance(0.2) ? [`srv${rng.int(1, 6)}`] : [] }, at);
      } else if (roll === 6) {
        store.apply('cron', 'karajo', { type: 'delta', tasks: [], jobs: Array.from({ length: rng.int(1, 3) }, () => job(rng, rng.int(1, 4))) }, at);
      } else if (roll === 7) {
        metrics.pollFinished(k.source, k.kind, rng.int(1, 5000) / 1000, rng.chance(0.8));
        metrics.requestRecorder(k.source)(rng.pick(['200', '500', 'timeout']));
      } else if (roll === 8) {
        metrics.restrictLabel('fedora', 'method', rng.chance(0.5) ? ['build'] : ['build', 'buildArch']);
      } else {
        // Nothing changed: the cached text must still be right (and is what is served).
      }
      await check(`step ${step} (roll ${roll}, ${k.kind})`);
    }
    metrics.forgetSource('guix');
    store.dropSource('guix', 'cuirass');
    await check('after a source was forgotten');
    expect(cachedRenders).toBe(122);
  });
});
