#!/usr/bin/env node
/**
 * The exporter at scale, side by side with baselines in the same run (issue: performance at scale).
 *
 *   npm run build && node test/bench/scale.mjs [--sizes 1k,10k,100k] [--seconds 5] [--rounds 3]
 *       [--connections 4] [--settle 70] [--json FILE]
 *
 * For each size N: four taskoteka simulators (test/bench/lib/girar-farm.mjs) hold N generated
 * girar tasks between them; the real exporter (exporter/dist/main.js) polls them with a detail
 * budget that fetches every task's detail in the first poll (the steady state of a long-running
 * exporter) and an interval of an hour, so nothing moves while it is measured. Then:
 *   - memory: the exporter's RSS and V8 heap once every task is in: the peak, 5 s after the
 *     first poll, and after `--settle` seconds more (V8 gives back the ingest's garbage late);
 *   - /metrics: series count, size, and render latency under load against a bare prom-client
 *     registry holding the same series with constant values (baseline-server.mjs);
 *   - task queries: an indexed filter (state=BUILDING&repo=p11, limit 100), a two-term search and
 *     a task detail, against a bare fastify route answering a constant JSON body of the same size.
 * Load is autocannon with `--connections` keep-alive connections, baseline and exporter
 * alternating `--rounds` times; figures are medians over the rounds.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getJson, startExporter, taskTotal, waitFor } from './lib/exporter.mjs';
import { seriesCount } from './lib/exposition.mjs';
import { startGirarFarm } from './lib/girar-farm.mjs';
import { sideBySide } from './lib/load.mjs';
import { peakRssBytes, rssBytes } from './lib/proc.mjs';
import { fmt, mib, parseSizes, sizeLabel } from './lib/stats.mjs';

const { values: opts } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1k,10k,100k' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '4' },
    settle: { type: 'string', default: '70' },
    search: { type: 'string', default: 'kernel p11' },
    json: { type: 'string' },
  },
});
const sizes = parseSizes(opts.sizes);
const load = { seconds: Number(opts.seconds), rounds: Number(opts.rounds), connections: Number(opts.connections) };
const SOURCES = 4;
const settleSeconds = Number(opts.settle);

/** The baseline server in its own process, like the exporter. */
async function startBaseline(routes, metricsText) {
  const dir = mkdtempSync(join(tmpdir(), 'buildscope-baseline-'));
  writeFileSync(join(dir, 'routes.json'), JSON.stringify(routes));
  writeFileSync(join(dir, 'metrics.txt'), metricsText);
  const script = fileURLToPath(new URL('./baseline-server.mjs', import.meta.url));
  const child = spawn(process.execPath, [script, join(dir, 'routes.json'), join(dir, 'metrics.txt')], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const url = await waitFor(() => /listening on (http:\/\/[\d.:]+)/.exec(out)?.[1], 30_000, 'the baseline server');
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function metricValue(text, name) {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

async function measure(n) {
  const farm = await startGirarFarm(n, { sources: SOURCES, interval: '1h', stream: false, detailBudget: Math.ceil(n / SOURCES) });
  const exporter = await startExporter({ sources: farm.sources, api: { max_page_size: 1000 } });
  try {
    const t0 = performance.now();
    await waitFor(async () => (await fetch(`${exporter.url}/-/ready`)).ok, 600_000, 'the first poll of every source');
    const firstPollMs = performance.now() - t0;
    const total = await taskTotal(exporter.url);
    if (total !== n) throw new Error(`the exporter holds ${total} tasks, expected ${n}`);
    // Memory: the peak of the ingest, RSS 5 s after it, and once V8 has given back what the
    // ingest's garbage grew (its memory reducer runs some tens of seconds after the load ends).
    const peakMiB = mib(peakRssBytes(exporter.pid));
    await new Promise((r) => setTimeout(r, 5000));
    const afterIngestMiB = mib(rssBytes(exporter.pid));
    await new Promise((r) => setTimeout(r, settleSeconds * 1000));
    const metricsText = await (await fetch(`${exporter.url}/metrics`)).text();
    const memory = {
      rssMiB: mib(rssBytes(exporter.pid)),
      afterIngestMiB,
      peakMiB,
      heapUsedMiB: mib(metricValue(metricsText, 'nodejs_heap_size_used_bytes')),
    };

    const q = new URLSearchParams({ q: opts.search }).toString();
    const filterPath = '/api/v1/tasks?state=BUILDING&repo=p11&limit=100';
    const searchPath = `/api/v1/tasks?${q}`;
    const some = (await getJson(`${exporter.url}${filterPath}`)).items[0];
    if (!some) throw new Error('the indexed filter found no task: the generated mix lacks BUILDING tasks in p11');
    const detailPath = `/api/v1/tasks/${some.source}/${some.id}`;
    const routes = {};
    const bodies = {};
    for (const [name, path] of [['filter', filterPath], ['search', searchPath], ['detail', detailPath]]) {
      const res = await fetch(`${exporter.url}${path}`);
      const text = await res.text();
      if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${text}`);
      routes[`/${name}`] = JSON.parse(text);
      bodies[name] = { path, bytes: Buffer.byteLength(text), items: routes[`/${name}`].items?.length, total: routes[`/${name}`].total };
    }
    const baseline = await startBaseline(routes, metricsText);
    const results = {};
    try {
      const baseMetrics = await (await fetch(`${baseline.url}/metrics`)).text();
      results.metrics = {
        series: seriesCount(metricsText),
        baselineSeries: seriesCount(baseMetrics),
        bytes: Buffer.byteLength(metricsText),
        ...(await sideBySide(`${baseline.url}/metrics`, `${exporter.url}/metrics`, load)),
      };
      for (const name of ['filter', 'search', 'detail']) {
        results[name] = { ...bodies[name], ...(await sideBySide(`${baseline.url}/${name}`, `${exporter.url}${bodies[name].path}`, load)) };
      }
    } finally {
      await baseline.stop();
    }
    return { tasks: n, sources: SOURCES, firstPollMs, memory, ...results, rssAfterLoadMiB: mib(rssBytes(exporter.pid)) };
  } finally {
    await exporter.stop();
    await farm.close();
  }
}

const all = [];
for (const n of sizes) {
  process.stderr.write(`measuring ${sizeLabel(n)} tasks...\n`);
  all.push(await measure(n));
}

const row = (cells) => `| ${cells.join(' | ')} |`;
console.log(`\nload: autocannon, ${load.connections} connections, ${load.seconds} s x ${load.rounds} rounds per side, medians over rounds\n`);
console.log(row(['tasks', ...all.map((r) => sizeLabel(r.tasks))]));
console.log(row(['---', ...all.map(() => '---')]));
console.log(row(['first poll, every detail (s)', ...all.map((r) => fmt(r.firstPollMs / 1000, 1))]));
console.log(row(['RSS settled / V8 heap used (MiB)', ...all.map((r) => `${fmt(r.memory.rssMiB, 0)} / ${fmt(r.memory.heapUsedMiB, 0)}`)]));
console.log(row(['RSS 5 s after the first poll / peak (MiB)', ...all.map((r) => `${fmt(r.memory.afterIngestMiB, 0)} / ${fmt(r.memory.peakMiB, 0)}`)]));
console.log(row(['/metrics series (baseline)', ...all.map((r) => `${r.metrics.series} (${r.metrics.baselineSeries})`)]));
console.log(row(['/metrics size (KiB)', ...all.map((r) => fmt(r.metrics.bytes / 1024, 0))]));
for (const name of ['metrics', 'filter', 'search', 'detail']) {
  console.log(row([`${name} p50 ms: exporter / baseline`, ...all.map((r) => `${fmt(r[name].subject.p50, 2)} / ${fmt(r[name].baseline.p50, 2)} (${fmt(r[name].subject.p50 / r[name].baseline.p50, 2)}x)`)]));
  console.log(row([`${name} p99 ms: exporter / baseline`, ...all.map((r) => `${fmt(r[name].subject.p99, 2)} / ${fmt(r[name].baseline.p99, 2)}`)]));
  console.log(row([`${name} req/s: exporter / baseline`, ...all.map((r) => `${fmt(r[name].subject.rps, 0)} / ${fmt(r[name].baseline.rps, 0)} (${fmt((100 * r[name].subject.rps) / r[name].baseline.rps, 0)} %)`)]));
}
const failures = all.flatMap((r) => ['metrics', 'filter', 'search', 'detail'].map((k) => r[k].subject.failures + r[k].baseline.failures)).reduce((a, b) => a + b, 0);
console.log(`\nfailed requests: ${failures}`);
if (opts.json) writeFileSync(opts.json, JSON.stringify({ load, results: all }, null, 2));
console.log(JSON.stringify({ bench: 'scale', load, results: all }));
if (failures > 0) process.exitCode = 1;
