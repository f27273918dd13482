#!/usr/bin/env node
// Benchmark of the girar `fs` reader against plain tools over the same tree, side by side in one
// run (docs/benchmarks.md): cold load vs `find -type f -exec cat {} +`, an unchanged refresh and a
// refresh with 1% of tasks changed vs a full-tree stat walk `find -printf '%T@\n'`, and RSS.
//
//   npm run build && node --expose-gc test/bench/girar-tree.mjs [--tasks 10000] [--runs 5] [--threads 4] [--dir DIR] [--keep]
//
// The tree is generated (deterministic, seed 1) unless --dir holds one already. Every figure is a
// median of --runs runs; baseline and reader runs alternate so drift hits both alike. The page cache
// is warm for both (a first untimed pass reads the whole tree): the figures compare CPU and syscall
// work, not disk latency.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    tasks: { type: 'string', default: '10000' },
    runs: { type: 'string', default: '5' },
    threads: { type: 'string', default: '4' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const tasks = Number(args.tasks);
const runs = Number(args.runs);
const threads = Number(args.threads);
if (!Number.isInteger(tasks) || tasks < 1 || !Number.isInteger(runs) || runs < 1 || !Number.isInteger(threads) || threads < 0) {
  console.error('usage: girar-tree.mjs [--tasks N>=1] [--runs N>=1] [--threads N>=0] [--dir DIR] [--keep] [--json]');
  process.exit(2);
}

const dist = new URL('../../exporter/dist/sources/girar/fs/', import.meta.url);
const { generateTree } = await import(new URL('generator.js', dist).href);
const { TaskTree } = await import(new URL('tree.js', dist).href);

const root = args.dir ?? mkdtempSync(join(tmpdir(), 'girar-bench-'));
const tasksDir = join(root, 'tasks');
const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);
let generatedIn;
if (!existsSync(tasksDir)) {
  const t0 = performance.now();
  generateTree({ root, tasks, seed: 1, now: NOW });
  generatedIn = (performance.now() - t0) / 1000;
}

function sh(cmd) {
  const t0 = performance.now();
  const r = spawnSync('sh', ['-c', cmd], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`${cmd} exited with ${r.status}`);
  return performance.now() - t0;
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const q = (p) => `'${p.replaceAll("'", "'\\''")}'`;
const CAT = `find ${q(tasksDir)} -path ${q(join(tasksDir, 'archive'))} -prune -o -type f -exec cat {} + >/dev/null`;
const WALK = `find ${q(tasksDir)} -path ${q(join(tasksDir, 'archive'))} -prune -o -printf '%T@\\n' >/dev/null`;
const files = Number(spawnSync('sh', ['-c', `find ${q(tasksDir)} -path ${q(join(tasksDir, 'archive'))} -prune -o -type f -print | wc -l`]).stdout.toString().trim());

const signal = new AbortController().signal;

const options = { tasksDir, timeZone: 'UTC', maxFileBytes: 1024 * 1024, threads, fullRereadMs: 3600_000, now: () => NOW };

sh(CAT); // warm the page cache for both sides

// 1. Cold load: a fresh reader (new threads, empty cache) vs reading every file with cat.
const cold = { base: [], reader: [] };
let loaded;
for (let i = 0; i < runs; i++) {
  cold.base.push(sh(CAT));
  const tree = new TaskTree(options);
  const t0 = performance.now();
  const stats = await tree.refresh(signal);
  cold.reader.push(performance.now() - t0);
  if (i < runs - 1) await tree.close();
  else loaded = { tree, stats };
}
const { tree } = loaded;

// 2. RSS with the tree loaded, in a fresh process that loads it once (this one has loaded it
// --runs times, and its memory says more about those loads than about the tree).
// Median of three: what glibc keeps of the reader threads' malloc arenas varies from run to run;
// with MALLOC_ARENA_MAX=2 (as the systemd unit sets) it keeps less, and the same every time.
const rssOf = (env) => {
  const runs = [0, 1, 2].map(() => {
    const run = spawnSync(process.execPath, ['--expose-gc', new URL('girar-tree-rss.mjs', import.meta.url).pathname, tasksDir, String(threads)], { encoding: 'utf8', env: { ...process.env, ...env } });
    if (run.status !== 0) throw new Error(`girar-tree-rss.mjs failed: ${run.stderr}`);
    return JSON.parse(run.stdout);
  });
  const mbs = runs.map((r) => r.rss_mb);
  return { ...runs[0], rss_mb: median(mbs), rss_range: `${Math.min(...mbs)}-${Math.max(...mbs)}` };
};
const rss = rssOf({});
const rssArena2 = rssOf({ MALLOC_ARENA_MAX: '2' });

// 3. Refresh with nothing changed vs a full-tree stat walk.
const idle = { base: [], reader: [], read: [] };
for (let i = 0; i < runs; i++) {
  idle.base.push(sh(WALK));
  const t0 = performance.now();
  const s = await tree.refresh(signal);
  idle.reader.push(performance.now() - t0);
  idle.read.push(s.read);
}

// 4. Refresh with 1% of the tasks changed (task/state rewritten with a new mtime, as girar does).
const ids = readdirSync(tasksDir).filter((n) => /^[1-9]\d*$/.test(n));
const changedPerRun = Math.max(1, Math.round(ids.length / 100));
const busy = { base: [], reader: [], read: [] };
for (let i = 0; i < runs; i++) {
  for (let k = 0; k < changedPerRun; k++) {
    const id = ids[(i * changedPerRun + k * 97) % ids.length];
    const p = join(tasksDir, id, 'task', 'state');
    if (!existsSync(p)) continue;
    const t = Math.floor(statSync(p).mtimeMs / 1000) + 1; // a new mtime, also on a tree kept from an earlier run
    utimesSync(p, t, t);
  }
  busy.base.push(sh(WALK));
  const t0 = performance.now();
  const s = await tree.refresh(signal);
  busy.reader.push(performance.now() - t0);
  busy.read.push(s.read);
}
await tree.close();

const fmt = (ms) => `${ms.toFixed(0)} ms`;
const row = (name, base, reader, target) => {
  const b = median(base);
  const r = median(reader);
  return { name, baseline_ms: Math.round(b), reader_ms: Math.round(r), ratio: Number((r / b).toFixed(2)), target };
};
const result = {
  tasks: loaded.stats.listed,
  files,
  threads,
  runs,
  generated_in_s: generatedIn === undefined ? undefined : Number(generatedIn.toFixed(1)),
  rows: [
    row('cold load vs find -exec cat', cold.base, cold.reader, '<= 2x'),
    row('refresh, nothing changed vs find -printf', idle.base, idle.reader, '<= 0.5x'),
    row(`refresh, ${changedPerRun} tasks (1%) changed vs find -printf`, busy.base, busy.reader, '<= 1x'),
  ],
  reread_per_refresh: { unchanged: median(idle.read), one_percent: median(busy.read) },
  rss_mb: rss.rss_mb,
  rss_range_mb: rss.rss_range,
  rss_arena2_mb: rssArena2.rss_mb,
  rss_arena2_range_mb: rssArena2.rss_range,
  bare_rss_mb: rss.bare_rss_mb,
  heap_used_mb: rss.heap_used_mb,
};
if (args.json) console.log(JSON.stringify(result));
else {
  console.log(`girar fs reader: ${result.tasks} tasks, ${files} files, ${threads} threads, median of ${runs} runs${generatedIn ? ` (tree generated in ${result.generated_in_s} s)` : ''}`);
  for (const r of result.rows) console.log(`  ${r.name.padEnd(48)} baseline ${fmt(r.baseline_ms).padStart(8)}  reader ${fmt(r.reader_ms).padStart(8)}  ratio ${r.ratio} (target ${r.target})`);
  console.log(`  tasks re-read per refresh: ${result.reread_per_refresh.unchanged} unchanged, ${result.reread_per_refresh.one_percent} with 1% changed (running tasks are always re-read)`);
  console.log(`  RSS with the tree loaded (a fresh process, threads stopped, after GC; median of 3): ${result.rss_mb} MB (range ${result.rss_range_mb}); with MALLOC_ARENA_MAX=2 ${result.rss_arena2_mb} MB (range ${result.rss_arena2_range_mb}) (before loading: ${result.bare_rss_mb} MB; V8 heap used ${result.heap_used_mb} MB)`);
}
if (!args.dir && !args.keep) rmSync(root, { recursive: true, force: true });
else if (!args.dir) writeFileSync(join(root, 'KEPT'), 'kept by --keep\n');
