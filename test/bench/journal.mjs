#!/usr/bin/env node
// What the SQLite journal costs on the store's write path, against the memory journal in the same
// run: `npm run build && node test/bench/journal.mjs [tasks]`. Synthetic girar-like tasks, built in
// this process. Prints, for each journal: the initial ingest (every task new), a poll with
// 1% of the tasks changed (median of 7), an unchanged poll; then for the SQLite journal the time
// to reopen and restore everything (what a restart costs) and the file size.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lifecyclesByKind } from '../../exporter/dist/sources/registry.js';
import { MemoryJournal } from '../../exporter/dist/store/journal.js';
import { SqliteJournal } from '../../exporter/dist/store/sqlite-journal.js';
import { Store } from '../../exporter/dist/store/store.js';

const N = Number(process.argv[2] ?? 10_000);
const STATES = ['AWAITING', 'BUILDING', 'FAILED', 'EPERM', 'PENDING', 'DONE', 'DONE', 'DONE'];
const PHASE = { AWAITING: 'queued', BUILDING: 'running', FAILED: 'failed', EPERM: 'blocked', PENDING: 'queued', DONE: 'success' };
const task = (i, round = 0) => {
  const state = STATES[(i + round) % STATES.length];
  return {
    source: 'alt', kind: 'girar', id: String(400_000 + i), state, phase: PHASE[state], repo: ['sisyphus', 'p11', 'p10'][i % 3], owner: `u${i % 300}`,
    message: `update pkg${i}`, archs: ['x86_64', 'i586'],
    subtasks: [{ id: '100', type: 'repo', archs: [{ arch: 'x86_64', status: 'built', phase: 'success' }, { arch: 'i586', status: 'built', phase: 'success' }], fields: { dir: `/gears/p/pkg${i}.git`, pkgname: `pkg${i}` } }],
  };
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = (fn) => {
  const t = performance.now();
  fn();
  return performance.now() - t;
};

const top = mkdtempSync(join(tmpdir(), 'buildscope-journal-bench-'));
const dir = join(top, 'j');
const file = join(dir, 'journal.db');
const sources = new Map([['alt', 'girar']]);
const results = {};
// Alternating, twice each; the second run of each counts (the first warms up the JIT).
for (const name of ['memory', 'sqlite', 'memory', 'sqlite']) {
  if (name === 'sqlite') rmSync(dir, { recursive: true, force: true });
  const journal = name === 'memory' ? new MemoryJournal(0) : SqliteJournal.open({ path: file, eventWindow: 10_000, sources, freshSeq: 0 }).journal;
  const store = new Store({ lifecycles: lifecyclesByKind(), eventBufferSize: 10_000, journal });
  let tasks = Array.from({ length: N }, (_, i) => task(i));
  const apply = (list) => store.apply('alt', 'girar', { type: 'snapshot', tasks: list }, Date.now());
  const r = { initial: time(() => apply(tasks)) };
  const changed = [];
  for (let round = 1; round <= 7; round++) {
    tasks = tasks.map((t, i) => (i % 100 === round ? task(i, round) : t));
    changed.push(time(() => apply(tasks)));
  }
  r.changed1pct = median(changed);
  r.unchanged = median(Array.from({ length: 5 }, () => time(() => apply(tasks))));
  store.close();
  results[name] = r;
}
const reopen = [];
for (let i = 0; i < 3; i++) {
  const t = performance.now();
  const { journal } = SqliteJournal.open({ path: file, eventWindow: 10_000, sources, freshSeq: 0 });
  const state = journal.restore();
  const store = new Store({ lifecycles: lifecyclesByKind(), eventBufferSize: 10_000, journal });
  store.restore(state);
  reopen.push(performance.now() - t);
  journal.close();
}
const size = statSync(file).size;
rmSync(top, { recursive: true, force: true });
const f = (ms) => `${ms.toFixed(1)} ms`;
console.log(`tasks: ${N}`);
console.log(`| step | memory journal | SQLite journal | ratio |`);
console.log(`|---|---|---|---|`);
for (const [k, label] of [['initial', 'initial ingest (all new)'], ['changed1pct', 'poll, 1% changed (median of 7)'], ['unchanged', 'poll, unchanged (median of 5)']]) {
  console.log(`| ${label} | ${f(results.memory[k])} | ${f(results.sqlite[k])} | ${(results.sqlite[k] / results.memory[k]).toFixed(2)}x |`);
}
console.log(`restart (open + restore + rebuild the store, median of 3): ${f(median(reopen))}; journal file ${(size / 1048576).toFixed(1)} MB`);
