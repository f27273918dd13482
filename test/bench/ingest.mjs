#!/usr/bin/env node
// Ingestion and idle CPU of the real exporter (docs/benchmarks.md), each against a baseline taken
// in the same run:
//
//   npm run build && node test/bench/ingest.mjs [--sizes 1k,10k,100k] [--runs 5] [--runs-large 3]
//       [--idle-seconds 300] [--skip-ingest] [--skip-idle] [--json]
//
// 1. Ingest: frozen taskoteka simulators (4 sources) hold N generated tasks. The exporter starts
//    against them and its first poll of each source is timed (GET /tasks?state=ALL, validation,
//    normalization, up to detail_budget GET /tasks/{id}, store.apply); also the wall time from
//    "listening" until the API counts all N tasks, and RSS once it has settled. Baseline: a fresh
//    node process making the same upstream requests (each list, then the same number of details
//    with the same concurrency, in parallel over the sources) with undici and JSON.parse only.
// 2. Idle CPU: five sources (girar/taskoteka, apb servers + farm, karajo, cuirass, koji) on their
//    simulators, frozen (no step timer, so nothing changes), default intervals. After a warm-up of
//    one interval the exporter's CPU seconds over --idle-seconds are read from /proc, as % of one
//    core. Baseline over the same window: an idle node process with a bare http server. Done at
//    demo size and with the girar source holding 100,000 tasks (all details fetched in the first
//    poll, so the window sees the steady state). The default window, 300 s, is one girar
//    resync_interval: it holds one full list read, the rest are /health polls (the stream is up).
//
// Figures are medians of --runs runs (--runs-large at 100k and above). The last stdout line is
// the results object with --json.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEMO_SERVERS } from '../../exporter/dist/sources/apb/index.js';
import { ApbSimulator } from '../../exporter/dist/sources/apb/simulator.js';
import { CuirassSimulator } from '../../exporter/dist/sources/cuirass/simulator.js';
import { GirarSimulator } from '../../exporter/dist/sources/girar/simulator.js';
import { KarajoSimulator } from '../../exporter/dist/sources/karajo/simulator.js';
import { KojiSimulator } from '../../exporter/dist/sources/koji/simulator.js';
import { systemClock as clock } from '../../exporter/dist/util/clock.js';
import { getJson, startExporter, taskTotal, waitFor } from './lib/exporter.mjs';
import { generateSpecs, startGirarFarm } from './lib/girar-farm.mjs';
import { cpuSeconds, rssBytes } from './lib/proc.mjs';
import { fmt, median, mib, parseSizes, sizeLabel } from './lib/stats.mjs';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1k,10k,100k' },
    runs: { type: 'string', default: '5' },
    'runs-large': { type: 'string', default: '3' },
    'idle-seconds': { type: 'string', default: '300' },
    'idle-large': { type: 'string', default: '100k' },
    'skip-ingest': { type: 'boolean', default: false },
    'skip-idle': { type: 'boolean', default: false },
    'serve-girar': { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
// Internal: serve a frozen taskoteka simulator with N tasks in this process and print its URL (the
// large idle farm runs apart from the benchmark, so serializing its 40 MB list never stalls the
// other simulators' answers).
if (args['serve-girar'] !== undefined) {
  const n = Number(args['serve-girar']);
  const girar = new GirarSimulator({ clock, seed: 1, taskCount: n, warmupSteps: 0 });
  girar.setTasks(generateSpecs(n, { seed: 11 }));
  console.log(await girar.listen(0, '127.0.0.1'));
  process.on('SIGTERM', () => void girar.close().then(() => process.exit(0)));
  await new Promise(() => {});
}

const usage = 'usage: ingest.mjs [--sizes 1k,10k,100k] [--runs N>=1] [--runs-large N>=1] [--idle-seconds S>=10] [--idle-large N] [--skip-ingest] [--skip-idle] [--json]';
const sizes = parseSizes(args.sizes);
const idleLarge = parseSizes(args['idle-large'])[0] ?? 0;
const runs = Number(args.runs);
const runsLarge = Number(args['runs-large']);
const idleSeconds = Number(args['idle-seconds']);
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(runsLarge) || runsLarge < 1 || !Number.isFinite(idleSeconds) || idleSeconds < 10 || sizes.some((n) => n < 1)) {
  console.error(usage);
  process.exit(2);
}

const GIRAR_SOURCES = 4;
/** The girar source's defaults (config.ts): the exporter's first poll fetches this many details. */
const DETAIL_BUDGET = 500;
const DETAIL_CONCURRENCY = 4;
/** The default source interval (config/schema.ts). */
const DEFAULT_INTERVAL_S = 30;
const log = (...xs) => console.error(...xs);

/** Wait until the RSS of `pid` moves less than 1% over 2 s (at most 20 s); the last reading. */
async function settledRss(pid) {
  let prev = rssBytes(pid);
  for (let i = 0; i < 10; i += 1) {
    await new Promise((r) => setTimeout(r, 2000));
    const now = rssBytes(pid);
    if (Math.abs(now - prev) / prev < 0.01) return now;
    prev = now;
  }
  return prev;
}

// ---------------------------------------------------------------------------------------------
// 1. Ingest

/** The bare client, run in a fresh node process so it starts as cold as the exporter does. */
const BASELINE_CHILD = `
import { request } from 'undici';
const { urls, budget, concurrency } = JSON.parse(process.argv[1]);
const get = async (url) => {
  const res = await request(url);
  if (res.statusCode !== 200) throw new Error(url + ': HTTP ' + res.statusCode);
  return JSON.parse(await res.body.text());
};
const t0 = performance.now();
let tasks = 0;
let details = 0;
await Promise.all(urls.map(async (base) => {
  const list = await get(base + '/tasks?state=ALL');
  tasks += list.length;
  const ids = list.slice(0, budget).map((t) => t.id);
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < ids.length) { const id = ids[next++]; await get(base + '/tasks/' + id); details += 1; }
  }));
}));
process.stdout.write(JSON.stringify({ ms: performance.now() - t0, tasks, details }));
`;

function runBaselineClient(urls, budget) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', BASELINE_CHILD, JSON.stringify({ urls, budget, concurrency: DETAIL_CONCURRENCY })], {
      cwd: new URL('../..', import.meta.url),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`baseline client exited ${code}`))));
  });
}

async function ingestOnce(farm, n, budget) {
  // One poll per source: a long interval keeps the first poll's duration the last one.
  const sources = farm.sources.map((s) => ({ ...s, interval: '1h', detail_budget: budget }));
  const exporter = await startExporter({ sources });
  const t0 = performance.now();
  try {
    await waitFor(async () => (await taskTotal(exporter.url)) === n, 600_000, `the exporter to hold ${n} tasks`, 20);
    const wallMs = performance.now() - t0;
    const view = await waitFor(async () => {
      const body = await getJson(`${exporter.url}/api/v1/sources`);
      return body.sources.every((s) => s.polls.ok >= 1) ? body.sources : undefined;
    }, 60_000, 'every first poll to be recorded');
    const bad = view.find((s) => s.polls.failed > 0 || s.polls.ok !== 1);
    if (bad) throw new Error(`source ${bad.name}: ${JSON.stringify(bad.polls)} ${JSON.stringify(bad.last_error)}`);
    const pollMs = Math.max(...view.map((s) => s.last_poll_duration_seconds * 1000));
    const rss = await settledRss(exporter.pid);
    return { pollMs, wallMs, rss };
  } finally {
    await exporter.stop();
  }
}

async function ingest() {
  const rows = [];
  for (const n of sizes) {
    const reps = n >= 100_000 ? runsLarge : runs;
    log(`ingest ${sizeLabel(n)}: generating the farm`);
    const farm = await startGirarFarm(n, { sources: GIRAR_SOURCES, stream: false });
    const urls = farm.sources.map((s) => s.url);
    try {
      await runBaselineClient(urls, DETAIL_BUDGET); // warms the simulators' response paths alike for both
      // The default detail budget, and the list alone (one detail per source): the first is what a
      // user sees, the second shows how the per-task work grows without the fixed detail requests.
      for (const [mode, budget] of [['default', DETAIL_BUDGET], ['list', 1]]) {
        const base = [];
        const exp = [];
        for (let r = 0; r < reps; r += 1) {
          // Alternate, so drift on a shared machine hits both alike.
          const b = await runBaselineClient(urls, budget);
          if (b.tasks !== n) throw new Error(`baseline read ${b.tasks} tasks, expected ${n}`);
          base.push(b);
          exp.push(await ingestOnce(farm, n, budget));
          log(`  ${mode} run ${r + 1}/${reps}: baseline ${fmt(b.ms, 0)} ms, exporter first poll ${fmt(exp.at(-1).pollMs, 0)} ms, wall ${fmt(exp.at(-1).wallMs, 0)} ms`);
        }
        const baselineMs = median(base.map((b) => b.ms));
        const pollMs = median(exp.map((e) => e.pollMs));
        rows.push({
          tasks: n,
          mode,
          detail_budget: budget,
          runs: reps,
          details_fetched: base[0].details,
          baseline_ms: Math.round(baselineMs),
          first_poll_ms: Math.round(pollMs),
          wall_ms: Math.round(median(exp.map((e) => e.wallMs))),
          ratio: Number((pollMs / baselineMs).toFixed(2)),
          rss_mb: Math.round(mib(median(exp.map((e) => e.rss)))),
          per_1k_tasks_ms: Number(((pollMs / n) * 1000).toFixed(1)),
        });
      }
    } finally {
      await farm.close();
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// 2. Idle CPU

/** The five demo simulators, not started (no step timer): nothing changes upstream. */
async function startIdleFarm(girarTasks) {
  const closers = [];
  try {
    let girarUrl;
    if (girarTasks) {
      const child = spawn(process.execPath, [fileURLToPath(import.meta.url), `--serve-girar=${girarTasks}`], { stdio: ['ignore', 'pipe', 'inherit'] });
      closers.push(() => new Promise((r) => { child.once('exit', r); child.kill('SIGTERM'); }));
      girarUrl = await new Promise((resolve, reject) => {
        child.stdout.once('data', (d) => resolve(String(d).trim()));
        child.once('exit', (code) => reject(new Error(`the girar simulator process exited ${code}`)));
      });
    } else {
      const girar = new GirarSimulator({ clock, seed: 1 });
      girarUrl = await girar.listen(0, '127.0.0.1');
      closers.push(() => girar.close());
    }

    const apb = new ApbSimulator({
      clock,
      seed: 4,
      servers: DEMO_SERVERS.map((s) => ({ ...s })),
      farm: { token: 'bench-farm-token' },
      rootDelayMs: 1000,
    });
    const { farmUrl, servers } = await apb.listen('127.0.0.1');
    closers.push(() => apb.close());

    const karajo = new KarajoSimulator({ clock, seed: 5 });
    const karajoUrl = await karajo.listen('127.0.0.1');
    closers.push(() => karajo.close());

    const cuirass = new CuirassSimulator({ clock, seed: 6 });
    const cuirassUrl = await cuirass.listen('127.0.0.1');
    closers.push(() => cuirass.close());

    const koji = new KojiSimulator({ clock, seed: 7, offlineEvery: true });
    const kojiBase = await koji.listen('127.0.0.1');
    closers.push(() => koji.close());

    const sources = [
      // With 100k tasks, every detail in the first poll: the window then sees the steady state, not
      // the catch-up of 200 polls that the default detail_budget of 500 takes (reported apart).
      { name: 'girar', kind: 'girar', url: girarUrl, ...(girarTasks ? { detail_budget: girarTasks } : {}) },
      { name: 'apb', kind: 'apb', servers: servers.slice(0, 3).map((s) => ({ url: s.url, name: s.name, arch: s.arch })), farm: { url: farmUrl, token: 'bench-farm-token' }, wait: '2s', server_timeout: '5s' },
      { name: 'karajo', kind: 'karajo', url: karajoUrl },
      { name: 'cuirass', kind: 'cuirass', url: cuirassUrl },
      { name: 'koji', kind: 'koji', url: `${kojiBase}/kojihub`, web_url: `${kojiBase}/koji` },
    ];
    return { sources, close: () => Promise.allSettled(closers.map((c) => c())) };
  } catch (err) {
    await Promise.allSettled(closers.map((c) => c()));
    throw err;
  }
}

/** An idle node process (a bare http server), the baseline of the idle figure. */
function startIdleBaseline() {
  const child = spawn(process.execPath, ['-e', "require('node:http').createServer((q, r) => r.end()).listen(0, '127.0.0.1', () => console.log('up'))"], { stdio: ['ignore', 'pipe', 'inherit'] });
  const up = new Promise((resolve, reject) => {
    child.stdout.once('data', resolve);
    child.once('exit', (code) => reject(new Error(`baseline process exited ${code}`)));
  });
  return {
    pid: child.pid,
    up,
    stop: () => {
      child.removeAllListeners('exit');
      child.kill('SIGTERM');
    },
  };
}

async function idle(label, girarTasks) {
  log(`idle ${label}: starting five simulators${girarTasks ? ` (girar with ${girarTasks} tasks)` : ''}`);
  const farm = await startIdleFarm(girarTasks);
  const baseline = startIdleBaseline();
  let exporter;
  try {
    await baseline.up;
    exporter = await startExporter({ sources: farm.sources });
    const polled = async () => {
      const body = await getJson(`${exporter.url}/api/v1/sources`);
      return body.sources.every((s) => s.polls.ok >= 1) ? body.sources : undefined;
    };
    await waitFor(polled, 300_000, 'every source to finish its first poll', 200);
    // One full interval (plus its 10% jitter) after the first polls: every source polled again.
    const warmupS = DEFAULT_INTERVAL_S * 1.1 + 1;
    log(`  warm-up ${fmt(warmupS, 0)} s, then ${idleSeconds} s measured`);
    await new Promise((r) => setTimeout(r, warmupS * 1000));
    const before = await getJson(`${exporter.url}/api/v1/sources`);
    const c0 = cpuSeconds(exporter.pid);
    const b0 = cpuSeconds(baseline.pid);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, idleSeconds * 1000));
    const c1 = cpuSeconds(exporter.pid);
    const b1 = cpuSeconds(baseline.pid);
    const wallS = (performance.now() - t0) / 1000;
    const after = await getJson(`${exporter.url}/api/v1/sources`);
    const rss = rssBytes(exporter.pid);
    const polls = Object.fromEntries(after.sources.map((s) => [s.name, s.polls.ok - (before.sources.find((b) => b.name === s.name)?.polls.ok ?? 0)]));
    const failed = after.sources.filter((s) => s.polls.failed > 0).map((s) => `${s.name}: ${s.last_error?.message}`);
    const durations = Object.fromEntries(after.sources.map((s) => [s.name, Math.round(s.last_poll_duration_seconds * 1000)]));
    const tasks = after.sources.reduce((sum, s) => sum + s.counts.tasks, 0);
    return {
      label,
      tasks,
      window_s: Number(wallS.toFixed(1)),
      exporter_cpu_s: Number((c1 - c0).toFixed(2)),
      exporter_core_pct: Number((((c1 - c0) / wallS) * 100).toFixed(2)),
      baseline_cpu_s: Number((b1 - b0).toFixed(2)),
      baseline_core_pct: Number((((b1 - b0) / wallS) * 100).toFixed(2)),
      polls_in_window: polls,
      last_poll_ms: durations,
      failed_sources: failed,
      rss_mb: Math.round(mib(rss)),
      target_pct: 5,
    };
  } finally {
    baseline.stop();
    await exporter?.stop();
    await farm.close();
  }
}

// ---------------------------------------------------------------------------------------------

const result = { machine: { node: process.version, cpus: (await import('node:os')).cpus().length }, ingest: [], idle: [] };
if (!args['skip-ingest']) result.ingest = await ingest();
if (!args['skip-idle']) {
  result.idle.push(await idle('demo size', 0));
  if (idleLarge > 0) result.idle.push(await idle(`girar ${sizeLabel(idleLarge)}`, idleLarge));
}

if (result.ingest.length > 0) {
  console.log(`Ingest: ${GIRAR_SOURCES} frozen taskoteka simulators; the exporter's first poll (each list + up to ${DETAIL_BUDGET} details per source by default, or 1 with the list alone) vs a bare undici + JSON.parse client making the same requests`);
  console.log(`  ${'tasks'.padStart(6)} ${'details'.padStart(8)} ${'runs'.padStart(4)} ${'baseline'.padStart(10)} ${'1st poll'.padStart(10)} ${'ratio'.padStart(6)} ${'wall'.padStart(9)} ${'ms/1k'.padStart(7)} ${'RSS'.padStart(8)}`);
  for (const r of result.ingest) {
    console.log(`  ${sizeLabel(r.tasks).padStart(6)} ${String(r.details_fetched).padStart(8)} ${String(r.runs).padStart(4)} ${`${r.baseline_ms} ms`.padStart(10)} ${`${r.first_poll_ms} ms`.padStart(10)} ${`${r.ratio}x`.padStart(6)} ${`${r.wall_ms} ms`.padStart(9)} ${String(r.per_1k_tasks_ms).padStart(7)} ${`${r.rss_mb} MB`.padStart(8)}`);
  }
}
if (result.idle.length > 0) {
  console.log(`Idle CPU: five frozen sources at the default ${DEFAULT_INTERVAL_S} s interval, ${idleSeconds} s window after a one-interval warm-up (target < 5% of one core)`);
  for (const r of result.idle) {
    console.log(`  ${r.label.padEnd(12)} ${String(r.tasks).padStart(7)} tasks: exporter ${fmt(r.exporter_core_pct, 2)}% (${r.exporter_cpu_s} s CPU), idle node ${fmt(r.baseline_core_pct, 2)}%; RSS ${r.rss_mb} MB; polls ${JSON.stringify(r.polls_in_window)}; last poll ms ${JSON.stringify(r.last_poll_ms)}${r.failed_sources.length ? `; FAILED ${r.failed_sources.join('; ')}` : ''}`);
  }
}
if (args.json) console.log(JSON.stringify(result));
