#!/usr/bin/env node
// Store and /metrics cost at scale: `npm run build && node test/bench/store-scale.mjs [tasks]`.
// Prints the initial ingest, an unchanged re-apply (same objects, as the girar adapter hands
// them over; and equal copies), the /metrics render median, and RSS. Synthetic girar-like tasks.
import { ExporterMetrics } from '../../exporter/dist/metrics/index.js';
import { lifecyclesByKind } from '../../exporter/dist/sources/registry.js';
import { Store } from '../../exporter/dist/store/store.js';

const N = Number(process.argv[2] ?? 100_000);
const STATES = ['NEW', 'AWAITING', 'BUILDING', 'FAILING', 'FAILED', 'EPERM', 'TESTED', 'PENDING', 'COMMITTING', 'DONE', 'DONE', 'DONE', 'DONE', 'DONE'];
const PHASE = { NEW: 'blocked', AWAITING: 'queued', BUILDING: 'running', FAILING: 'running', FAILED: 'failed', EPERM: 'blocked', TESTED: 'success', PENDING: 'queued', COMMITTING: 'running', DONE: 'success' };
const REPOS = ['sisyphus', 'p11', 'p10', 'c10f2'];
const task = (i) => {
  const state = STATES[i % STATES.length];
  return {
    source: 'alt',
    kind: 'girar',
    id: String(400_000 + i),
    state,
    phase: PHASE[state],
    repo: REPOS[i % 4],
    owner: `u${i % 300}`,
    message: `update pkg${i}`,
    archs: ['x86_64', 'i586'],
    subtasks: [{ id: '100', type: 'repo', archs: [{ arch: 'x86_64', status: 'built', phase: 'success' }, { arch: 'i586', status: 'built', phase: 'success' }], fields: { dir: `/gears/p/pkg${i}.git`, pkgname: `pkg${i}` } }],
  };
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = (fn) => {
  const t = performance.now();
  fn();
  return performance.now() - t;
};

const tasks = Array.from({ length: N }, (_, i) => task(i));
const store = new Store({ lifecycles: lifecyclesByKind(), eventBufferSize: 10_000 });
const metrics = new ExporterMetrics({ store, health: { health: () => [] }, version: 'bench', processMetrics: false });
const apply = (list) => store.apply('alt', 'girar', { type: 'snapshot', tasks: list }, Date.now());

console.log(`tasks: ${N}`);
console.log(`initial ingest: ${time(() => apply(tasks)).toFixed(0)} ms`);
console.log(`unchanged re-apply, same objects (median of 5): ${median(Array.from({ length: 5 }, () => time(() => apply(tasks)))).toFixed(1)} ms`);
console.log(`unchanged re-apply, equal copies (median of 5): ${median(Array.from({ length: 5 }, () => { const copies = tasks.map((t) => structuredClone(t)); return time(() => apply(copies)); })).toFixed(1)} ms`);
const renders = [];
for (let i = 0; i < 15; i += 1) {
  const t = performance.now();
  await metrics.render();
  renders.push(performance.now() - t);
}
console.log(`/metrics render (median of 15): ${median(renders).toFixed(2)} ms`);
console.log(`rss: ${(process.memoryUsage().rss / 1048576).toFixed(0)} MB (includes the benchmark's own task arrays)`);
