#!/usr/bin/env node
// APB poll latency with many build servers, each taking a second to answer GET / (as apb-server
// does: it samples the CPU for 1 s): `npm run build && node test/bench/apb-servers.mjs [servers] [runs]`.
// Prints the median poll time of the apb adapter (servers polled concurrently, each on its own)
// beside the baseline of asking the same servers one after another, and the poll time with one
// server hung (it must not move).
import { pino } from 'pino';
import { ApbAdapter } from '../../exporter/dist/sources/apb/adapter.js';
import { parseApbConfig } from '../../exporter/dist/sources/apb/config.js';
import { ApbSimulator } from '../../exporter/dist/sources/apb/simulator.js';
import { UpstreamHttp } from '../../exporter/dist/sources/http.js';
import { systemClock } from '../../exporter/dist/util/clock.js';

const SERVERS = Number(process.argv[2] ?? 20);
const RUNS = Number(process.argv[3] ?? 5);
const ROOT_DELAY_MS = 1000;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const specs = Array.from({ length: SERVERS }, (_, i) => ({ name: `ppc64le-${i + 1}`, arch: 'powerpc64le', maxConcurrent: 2, cores: 16 }));
const sim = new ApbSimulator({ clock: systemClock, seed: 3, servers: specs, farm: false, rootDelayMs: ROOT_DELAY_MS });
const { servers } = await sim.listen('127.0.0.1');
for (let i = 0; i < 3 * SERVERS; i += 1) sim.step();

const config = parseApbConfig({ servers: servers.map((s) => ({ url: s.url, name: s.name })), wait: '30s', server_timeout: '60s' });
const adapter = new ApbAdapter(config, { name: 'bench', log: pino({ level: 'silent' }), clock: systemClock, http: new UpstreamHttp(), pollTimeoutSeconds: 120 });
const pollMs = async () => {
  const t = performance.now();
  const snap = await adapter.poll(AbortSignal.timeout(120_000));
  if ((snap.workers ?? []).filter((w) => w.up).length < SERVERS - 1) throw new Error('not every server answered');
  return performance.now() - t;
};
const sequentialMs = async () => {
  const t = performance.now();
  for (const s of servers) {
    for (const path of ['/', '/health', '/builds/latest?limit=100']) {
      const res = await fetch(`${s.url}${path}`);
      await res.text();
    }
  }
  return performance.now() - t;
};

await pollMs(); // first poll reads every finished build once; not timed
const adapterRuns = [];
const baselineRuns = [];
for (let i = 0; i < RUNS; i += 1) {
  adapterRuns.push(await pollMs());
  baselineRuns.push(await sequentialMs());
}
const quick = parseApbConfig({ servers: servers.map((s) => ({ url: s.url, name: s.name })), wait: '3s', server_timeout: '60s' });
const withHung = new ApbAdapter(quick, { name: 'bench2', log: pino({ level: 'silent' }), clock: systemClock, http: new UpstreamHttp(), pollTimeoutSeconds: 120 });
await withHung.poll(AbortSignal.timeout(120_000));
sim.setServerMode(servers[0].name, 'slow', 30_000);
const hungRuns = [];
for (let i = 0; i < RUNS; i += 1) {
  const t = performance.now();
  await withHung.poll(AbortSignal.timeout(120_000));
  hungRuns.push(performance.now() - t);
}
const a = median(adapterRuns);
const b = median(baselineRuns);
console.log(`servers: ${SERVERS}, GET / takes ${ROOT_DELAY_MS} ms each, median of ${RUNS}`);
console.log(`apb adapter poll (concurrent, GET / + /health + /builds/latest + status-api): ${a.toFixed(0)} ms`);
console.log(`baseline, the same three requests server after server:                      ${b.toFixed(0)} ms`);
console.log(`ratio: ${(a / b).toFixed(3)}x`);
console.log(`poll with one server answering after 30 s (wait 3s):                         ${median(hungRuns).toFixed(0)} ms`);
await withHung.close();
await adapter.close();
await sim.close();
