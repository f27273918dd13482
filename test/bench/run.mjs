#!/usr/bin/env node
/**
 * The benchmark suite behind `npm run bench` (docs/benchmarks.md): runs each benchmark in its own
 * process, one after the other (they share two cores; running them together would measure each
 * other), collects their results and checks the performance targets against them.
 *
 *   npm run bench                       # the full suite: 1k/10k/100k tasks, 1,000 SSE clients
 *   npm run bench -- --quick            # small sizes and short runs: checks the suite works
 *   npm run bench -- --only scale,sse   # some benchmarks only (scale, sse, ingest)
 *
 * Writes every result to test-output/bench/<time>.json and prints the targets table. Exits 1 when
 * a benchmark failed or a target was missed (a missed latency target on a busy machine is worth a
 * second run; loss or a failed request never is). With --quick only failures, lost events and
 * failed requests count: its sizes are not the targets' sizes.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fmt } from './lib/stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
  },
});

const SUITE = {
  scale: opts.quick ? ['scale.mjs', '--sizes', '1k,10k', '--seconds', '1', '--rounds', '1', '--settle', '5'] : ['scale.mjs', '--sizes', '1k,10k,100k', '--seconds', '5', '--rounds', '3'],
  sse: opts.quick ? ['sse-fanout.mjs', '--quick', '--json'] : ['sse-fanout.mjs', '--json'],
  sse100: opts.quick ? undefined : ['sse-fanout.mjs', '--clients', '100', '--json'],
  ingest: opts.quick
    ? ['ingest.mjs', '--sizes', '1k', '--runs', '1', '--idle-seconds', '10', '--idle-large', '0', '--json']
    : ['ingest.mjs', '--json'],
};
const wanted = opts.only ? opts.only.split(',').map((s) => s.trim()) : Object.keys(SUITE);
for (const name of wanted) {
  if (!(name in SUITE)) {
    console.error(`unknown benchmark "${name}": choose from ${Object.keys(SUITE).join(', ')}`);
    process.exit(2);
  }
}

/** Run one benchmark script; its last stdout line is its JSON result. */
function run(name, argv) {
  return new Promise((resolve) => {
    const started = performance.now();
    process.stderr.write(`\n== ${name}: node test/bench/${argv.join(' ')}\n`);
    const child = spawn(process.execPath, [join(here, argv[0]), ...argv.slice(1)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      process.stderr.write(d);
    });
    child.on('exit', (code, signal) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      let result;
      try {
        result = JSON.parse(last);
      } catch {
        result = undefined;
      }
      resolve({ name, argv, code: code ?? signal, seconds: (performance.now() - started) / 1000, result });
    });
  });
}

const runs = [];
for (const name of wanted) if (SUITE[name]) runs.push(await run(name, SUITE[name]));

/** The targets of the performance issue, each checked against the results it needs. */
const checks = [];
/** `hard`: a bug, not noise (a failed request, a lost event, a benchmark that did not finish). */
const check = (target, measured, ok, hard = false) => checks.push({ target, measured, ok, hard });
const byName = Object.fromEntries(runs.map((r) => [r.name, r.result]));

const scale = byName.scale?.results;
if (scale) {
  const top = scale.at(-1);
  const at = `at ${top.tasks.toLocaleString('en')} tasks`;
  check(`RSS ${at} under 500 MB`, `${fmt(top.memory.rssMiB, 0)} MB`, top.memory.rssMiB < 500);
  const m = top.metrics;
  check(`/metrics p50 ${at}: at most 2x the bare registry, under 15 ms`, `${fmt(m.subject.p50, 2)} vs ${fmt(m.baseline.p50, 2)} ms (${fmt(m.subject.p50 / m.baseline.p50, 2)}x)`, m.subject.p50 <= 2 * m.baseline.p50 && m.subject.p50 < 15);
  // A small farm lacks some label combinations (a repo without a FAILING task); past that the
  // count must not grow with the tasks: the largest size at most 5 % above the one before.
  const series = scale.map((r) => r.metrics.series);
  const [before, last] = series.slice(-2);
  check('/metrics series independent of the task count', series.join(' / '), series.length < 2 || last <= 1.05 * before);
  for (const name of ['filter', 'detail']) {
    const q = top[name];
    check(`${name} ${at}: at least 50% of the baseline's req/s, p99 under 5 ms`, `${fmt((100 * q.subject.rps) / q.baseline.rps, 0)} %, p99 ${fmt(q.subject.p99, 2)} ms`, q.subject.rps >= 0.5 * q.baseline.rps && q.subject.p99 < 5);
  }
  check(`search ${at}: p50 under 20 ms`, `${fmt(top.search.subject.p50, 2)} ms`, top.search.subject.p50 < 20);
  const failed = scale.reduce((n, r) => n + ['metrics', 'filter', 'search', 'detail'].reduce((k, x) => k + r[x].subject.failures, 0), 0);
  check('no failed request under load', String(failed), failed === 0, true);
}
for (const key of ['sse', 'sse100']) {
  const s = byName[key];
  if (!s) continue;
  const what = `SSE ${s.config.clients} clients, ${s.config.rate_per_s} events/s for ${s.config.duration_s} s`;
  check(`${what}: p99 under 100 ms`, `${fmt(s.exporter.latency_ms.p99, 1)} ms (bare server ${s.baseline ? fmt(s.baseline.latency_ms.p99, 1) : '-'} ms)`, s.exporter.latency_ms.p99 < 100);
  check(`${what}: no event missed or repeated`, `${s.exporter.loss.missed} missed, ${s.exporter.loss.duplicates} repeated`, s.exporter.loss.loss_free, true);
}
const ingest = byName.ingest;
if (ingest) {
  for (const r of ingest.idle ?? []) check(`idle CPU, five sources (${r.label}): under 5% of a core`, `${fmt(r.exporter_core_pct, 2)} % (idle node ${fmt(r.baseline_core_pct, 2)} %)`, r.exporter_core_pct < 5);
  const big = (ingest.ingest ?? []).at(-1);
  if (big) checks.push({ target: `ingest ${big.tasks.toLocaleString('en')} tasks (reported)`, measured: `${fmt(big.first_poll_ms / 1000, 2)} s, ${big.ratio}x a bare client`, ok: true });
}
for (const r of runs) if (r.code !== 0) check(`${r.name} ran to the end`, `exit ${r.code}`, false, true);

const machine = { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model, loadavg_at_end: loadavg().map((l) => Number(l.toFixed(2))) };
const file = join(here, '../../test-output/bench', `${new Date().toISOString().replace(/[:.]/g, '-')}${opts.quick ? '-quick' : ''}.json`);
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, `${JSON.stringify({ machine, quick: opts.quick, runs, checks }, null, 2)}\n`);

console.log(`\nTargets (${opts.quick ? 'quick run: small sizes, not the figures of record' : 'full run'}; ${machine.cpus} CPUs, load ${machine.loadavg_at_end.join(' ')})\n`);
console.log('| target | measured | |');
console.log('|---|---|---|');
for (const c of checks) console.log(`| ${c.target} | ${c.measured} | ${c.ok ? 'met' : '**missed**'} |`);
console.log(`\nresults: ${file}`);
// A quick run's sizes are not those of the targets: only bugs fail it.
if (checks.some((c) => !c.ok && (c.hard || !opts.quick))) process.exitCode = 1;
