#!/usr/bin/env node
// RSS of a fresh process holding a loaded girar tree (used by girar-tree.mjs; run it alone too):
//   node --expose-gc test/bench/girar-tree-rss.mjs <tasks dir> [threads]
// Prints {"bare_rss_mb", "rss_mb", "heap_used_mb", "load_ms"} as JSON: RSS before loading, and
// after one load once the reader threads have stopped and V8 has given back the load's memory.
const [tasksDir, threadsArg = '4'] = process.argv.slice(2);
if (!tasksDir) {
  console.error('usage: girar-tree-rss.mjs <tasks dir> [threads]');
  process.exit(2);
}
const { TaskTree } = await import(new URL('../../exporter/dist/sources/girar/fs/tree.js', import.meta.url).href);
const mb = (x) => Math.round(x / 1048576);
globalThis.gc?.();
const bare = process.memoryUsage().rss;
const tree = new TaskTree({ tasksDir, timeZone: 'UTC', maxFileBytes: 1024 * 1024, threads: Number(threadsArg), fullRereadMs: 3600_000, now: () => Date.now() });
const t0 = performance.now();
await tree.refresh(new AbortController().signal);
const loadMs = performance.now() - t0;
await new Promise((r) => setTimeout(r, 12_000));
globalThis.gc?.();
const m = process.memoryUsage();
console.log(JSON.stringify({ tasks: tree.size, bare_rss_mb: mb(bare), rss_mb: mb(m.rss), heap_used_mb: mb(m.heapUsed), load_ms: Math.round(loadMs) }));
await tree.close();
