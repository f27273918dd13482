#!/usr/bin/env node
// SSE fan-out of the real exporter against a bare node:http SSE server, side by side in one run
// (docs/benchmarks.md; issue: 1,000 subscribers, 200 change events/s for 60 s, delivery latency
// p99 under 100 ms, zero loss for clients that keep up, bounded RSS growth).
//
//   npm run build && node test/bench/sse-fanout.mjs [--clients 1000] [--rate 200] [--duration 60]
//       [--sources 4] [--tasks-per-source 60] [--quick] [--no-baseline] [--json] [--json-file F]
//       [--cpu-prof DIR]
// Exits 1 when a client missed or repeated an event; latency misses only show in the table/JSON.
//
// The exporter (exporter/dist/main.js, from a YAML config) follows girar sources over taskoteka's
// SSE `/events`, each a taskoteka simulator (real loopback HTTP) in this process. The driver here
// changes one simulator task every 1/rate s (a steady flow from a 5 ms timer, sources and tasks in
// turn: the task's `message`), the simulator announces it on its stream, the exporter fetches the
// task's detail, the store applies it and publishes a `task_updated` event to every subscriber of
// /api/v1/events. The subscribers run in a child process (sse-fanout-clients.mjs, plain node:http
// clients, no JSON.parse per frame).
//
// LATENCY covers the whole path: from the moment the driver makes the change (just before
// simulator.updateTask) to the moment the chunk holding the event's frame arrives at a subscriber
// (the 'data' callback in the clients process), for every (event, subscriber) pair. On the
// exporter side that is: simulator SSE frame -> exporter stream parser -> GET /tasks/<id> to the
// simulator -> normalize -> store.apply -> event log -> 1,000 socket writes -> client parse.
// The baseline (baseline-sse-server.mjs, its own process) gets the same changes from the driver
// over IPC and fans out a frame of the same shape at once: its latency is IPC hop + fan-out +
// client parse. Both sides use the system clock with sub-ms resolution (performance.timeOrigin +
// performance.now()); the event's own `at` is not used (it has second resolution).
//
// LOSS: every subscriber checks its `id:` sequence (a gap = missed events, a repeat = a duplicate)
// and counts `event: reconnect` (a client too slow for `events.client_buffer`) and `event: reset`;
// a client told to reconnect resumes with Last-Event-ID, as EventSource does. After the run the
// clients wait until the stream is quiet and check that each one holds the last seq.
//
// RSS of the exporter: before the clients connect, with them connected, during the run (sampled
// every second: max, and the first vs the last quarter for growth), after the run, after the
// clients left. CPU: seconds of each process over the run window, as % of one core (2 cores in
// total on the reference machine: the processes compete).
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startExporter, taskTotal, waitFor } from './lib/exporter.mjs';
import { startGirarFarm } from './lib/girar-farm.mjs';
import { cpuSeconds, rssBytes } from './lib/proc.mjs';
import { fmt, mib, ratio } from './lib/stats.mjs';

const USAGE =
  'usage: sse-fanout.mjs [--clients N>=1] [--rate EVENTS_PER_S>0] [--duration SECONDS>0] [--sources N>=1] [--tasks-per-source N>=1] [--quick] [--no-baseline] [--json] [--json-file FILE] [--cpu-prof DIR]';
const { values: args } = parseArgs({
  options: {
    clients: { type: 'string' },
    rate: { type: 'string' },
    duration: { type: 'string' },
    sources: { type: 'string', default: '4' },
    'tasks-per-source': { type: 'string', default: '60' },
    quick: { type: 'boolean', default: false },
    'no-baseline': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    'json-file': { type: 'string' },
    'cpu-prof': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
// --quick: a short check of the whole path (a few seconds), not a figure to quote.
const preset = args.quick ? { clients: 200, rate: 200, duration: 8 } : { clients: 1000, rate: 200, duration: 60 };
const cfg = {
  clients: Number(args.clients ?? preset.clients),
  rate: Number(args.rate ?? preset.rate),
  duration: Number(args.duration ?? preset.duration),
  sources: Number(args.sources),
  tasksPerSource: Number(args['tasks-per-source']),
};
if (
  !Number.isInteger(cfg.clients) || cfg.clients < 1 || !(cfg.rate > 0) || !(cfg.duration > 0) ||
  !Number.isInteger(cfg.sources) || cfg.sources < 1 || !Number.isInteger(cfg.tasksPerSource) || cfg.tasksPerSource < 1
) {
  console.error(USAGE);
  process.exit(2);
}
// Every task changes once per (sources * tasks-per-source / rate) s: keep that well above the
// latency so that two changes of one task never share a refresh (they would make one event).
if ((cfg.sources * cfg.tasksPerSource) / cfg.rate < 0.5) {
  console.error(`--sources x --tasks-per-source (${cfg.sources * cfg.tasksPerSource}) must be at least rate/2 (${cfg.rate / 2}): each task may change at most twice a second`);
  process.exit(2);
}

const now = () => performance.timeOrigin + performance.now();
const log = (msg) => {
  if (!args.json) console.error(msg);
};
const CLIENTS_JS = new URL('sse-fanout-clients.mjs', import.meta.url).pathname;
const BASELINE_JS = new URL('baseline-sse-server.mjs', import.meta.url).pathname;

/** A forked helper with an IPC channel and a way to wait for its next message of a type. */
function forkHelper(file) {
  const child = fork(file, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiters = [];
  child.on('message', (msg) => {
    const i = waiters.findIndex((w) => w.type === msg.type);
    if (i >= 0) waiters.splice(i, 1)[0].resolve(msg);
  });
  const exited = new Promise((r) => child.once('exit', r));
  return {
    child,
    exited,
    next(type, ms = 120_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${file}: no "${type}" message within ${ms} ms`)), ms);
        waiters.push({ type, resolve: (m) => (clearTimeout(timer), resolve(m)) });
        child.once('exit', (code) => reject(new Error(`${file} exited (${code}) while waiting for "${type}"`)));
      });
    },
  };
}

/**
 * One side of the comparison: connect the clients, drive `rate` changes/s for `duration` s through
 * `change(batch)`, sample the subject's RSS, wait for the clients to drain, collect everything.
 */
async function runSide(name, { url, pid, tasks, change }) {
  log(`${name}: connecting ${cfg.clients} clients to ${url}/api/v1/events`);
  const rssIdle = rssBytes(pid);
  const clients = forkHelper(CLIENTS_JS);
  clients.child.send({ type: 'connect', url: `${url}/api/v1/events`, clients: cfg.clients });
  const ready = await clients.next('ready', 180_000);
  if (ready.failed > 0) throw new Error(`${name}: ${ready.failed} of ${cfg.clients} clients could not connect`);
  const rssConnected = rssBytes(pid);

  log(`${name}: ${cfg.rate} changes/s for ${cfg.duration} s`);
  const cpu0 = { subject: cpuSeconds(pid), clients: cpuSeconds(clients.child.pid), driver: cpuSeconds(process.pid) };
  const samples = [];
  const sampler = setInterval(() => samples.push(rssBytes(pid)), 1000);
  const total = Math.round(cfg.rate * cfg.duration);
  const start = now();
  let made = 0;
  let lateTicks = 0;
  await new Promise((resolveDone) => {
    const timer = setInterval(() => {
      const t = now();
      const due = Math.min(total, Math.floor(((t - start) * cfg.rate) / 1000));
      if (due - made > Math.max(2, cfg.rate / 50)) lateTicks += 1; // more than ~20 ms behind the schedule
      const batch = [];
      for (; made < due; made += 1) batch.push(tasks[made % tasks.length]);
      if (batch.length > 0) {
        // The announcement goes first, so the clients know the change before its frame can arrive.
        const at = now();
        clients.child.send({ type: 'made', changes: batch.map((task) => [task.id, at]) });
        change(batch, made);
      }
      if (made >= total) {
        clearInterval(timer);
        resolveDone();
      }
    }, 5);
  });
  const driveSeconds = (now() - start) / 1000;
  clients.child.send({ type: 'drain', quietMs: 1000, timeoutMs: 30_000 });
  const result = await clients.next('result', 60_000);
  clearInterval(sampler);
  const windowSeconds = (now() - start) / 1000;
  const cpu1 = { subject: cpuSeconds(pid), clients: cpuSeconds(clients.child.pid), driver: cpuSeconds(process.pid) };
  const rssAfterRun = rssBytes(pid);
  clients.child.send({ type: 'close' });
  await clients.exited;
  // Give the subject a moment to see the sockets close and drop the sessions.
  await new Promise((r) => setTimeout(r, 1000));
  const rssAfterClients = rssBytes(pid);

  const quarter = Math.max(1, Math.floor(samples.length / 4));
  const avg = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const pct = (s) => Math.round((100 * s) / windowSeconds);
  const lossFree = result.missed === 0 && result.duplicates === 0 && result.clients_behind === 0;
  return {
    name,
    changes_made: made,
    drive_s: Number(driveSeconds.toFixed(2)),
    late_ticks: lateTicks,
    events: result.max_seq - result.first_seq + 1,
    clients: result.clients,
    frames_received: result.frames,
    mean_frame_bytes: result.mean_frame_bytes,
    latency_ms: {
      p50: Number(fmt(result.latency.p50, 2)),
      p90: Number(fmt(result.latency.p90, 2)),
      p99: Number(fmt(result.latency.p99, 2)),
      p999: Number(fmt(result.latency.p999, 2)),
      max: Number(fmt(result.latency.max, 2)),
      samples: result.latency.samples,
    },
    /** Change made -> the first client to get the event (one per event): the server's own pipeline. */
    first_client_latency_ms: { p50: Number(fmt(result.first_client_latency.p50, 2)), p99: Number(fmt(result.first_client_latency.p99, 2)) },
    /** First client -> each client for the same event: what fanning out to every client adds. */
    fanout_spread_ms: { p50: Number(fmt(result.spread.p50, 2)), p99: Number(fmt(result.spread.p99, 2)) },
    loss: {
      loss_free: lossFree,
      clients_with_gaps: result.clients_with_gaps,
      missed: result.missed,
      duplicates: result.duplicates,
      clients_behind_at_end: result.clients_behind,
      reconnects: result.reconnects,
      resets: result.resets,
      http_errors: result.http_errors,
      unmatched_latency: result.unmatched,
      received_min: result.received_min,
      received_max: result.received_max,
    },
    rss_mb: {
      before_clients: Number(fmt(mib(rssIdle))),
      clients_connected: Number(fmt(mib(rssConnected))),
      during_max: Number(fmt(mib(Math.max(...samples)))),
      first_quarter: Number(fmt(mib(avg(samples.slice(0, quarter))))),
      last_quarter: Number(fmt(mib(avg(samples.slice(-quarter))))),
      after_run: Number(fmt(mib(rssAfterRun))),
      after_clients_left: Number(fmt(mib(rssAfterClients))),
    },
    cpu_pct_of_one_core: {
      subject: pct(cpu1.subject - cpu0.subject),
      clients: pct(cpu1.clients - cpu0.clients),
      driver: pct(cpu1.driver - cpu0.driver),
    },
    cpu_s: {
      subject: Number((cpu1.subject - cpu0.subject).toFixed(2)),
      clients: Number((cpu1.clients - cpu0.clients).toFixed(2)),
      driver: Number((cpu1.driver - cpu0.driver).toFixed(2)),
    },
    /** Server CPU per delivered frame (the fan-out cost per client and event, all work included). */
    server_cpu_us_per_frame: Number((((cpu1.subject - cpu0.subject) * 1e6) / Math.max(1, result.frames)).toFixed(2)),
    window_s: Number(windowSeconds.toFixed(1)),
  };
}

async function baselineSide() {
  const server = forkHelper(BASELINE_JS);
  const { url } = await server.next('listening');
  const tasks = [];
  for (let s = 0; s < cfg.sources; s += 1) {
    for (let i = 0; i < cfg.tasksPerSource; i += 1) tasks.push({ id: String(900_000 + s * 10_000 + i), source: `girar-${s + 1}`, state: 'DONE', owner: 'builder', repo: 'sisyphus' });
  }
  // Interleave sources as the exporter side does.
  const order = [];
  for (let i = 0; i < cfg.tasksPerSource; i += 1) for (let s = 0; s < cfg.sources; s += 1) order.push(tasks[s * cfg.tasksPerSource + i]);
  try {
    return await runSide('baseline (bare node:http SSE)', {
      url,
      pid: server.child.pid,
      tasks: order,
      change: (batch) => server.child.send({ type: 'publish', changes: batch }),
    });
  } finally {
    server.child.send({ type: 'close' });
    await server.exited;
  }
}

async function exporterSide() {
  log(`exporter: ${cfg.sources} taskoteka simulators with ${cfg.tasksPerSource} tasks each`);
  const farm = await startGirarFarm(cfg.sources * cfg.tasksPerSource, { sources: cfg.sources, interval: '10m', stream: true });
  let exporter;
  try {
    const nodeArgs = [];
    if (args['cpu-prof']) {
      const dir = resolve(args['cpu-prof']);
      mkdirSync(dir, { recursive: true });
      nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${dir}`);
    }
    exporter = await startExporter(
      {
        sources: farm.sources,
        events: { max_connections: cfg.clients + 64, max_connections_per_ip: cfg.clients + 64 },
      },
      { nodeArgs },
    );
    const pool = cfg.sources * cfg.tasksPerSource;
    await waitFor(async () => (await taskTotal(exporter.url)) === pool && farm.sims.every((s) => s.sseClients > 0), 60_000, `the exporter to hold ${pool} tasks and follow every simulator's stream`);
    // Sources in turn, then tasks: a steady flow on every upstream stream.
    const perSim = farm.sims.map((sim) => [...sim.states().keys()]);
    const tasks = [];
    for (let i = 0; i < cfg.tasksPerSource; i += 1) for (let s = 0; s < cfg.sources; s += 1) if (perSim[s][i] !== undefined) tasks.push({ id: String(perSim[s][i]), sim: farm.sims[s], num: perSim[s][i] });
    let n = 0;
    return await runSide('buildscope exporter', {
      url: exporter.url,
      pid: exporter.pid,
      tasks,
      change: (batch) => {
        for (const task of batch) task.sim.updateTask(task.num, { message: `bench change ${(n += 1)}` });
      },
    });
  } finally {
    if (exporter) {
      const code = await exporter.stop();
      if (code !== 0 && code !== null) log(`exporter exited with ${code}: ${exporter.output().stderr.slice(-2000)}`);
    }
    await farm.close();
  }
}

const sides = [];
if (!args['no-baseline']) sides.push(await baselineSide());
sides.push(await exporterSide());
const [baseline, subject] = sides.length === 2 ? sides : [undefined, sides[0]];

const results = {
  benchmark: 'sse-fanout',
  config: { clients: cfg.clients, rate_per_s: cfg.rate, duration_s: cfg.duration, sources: cfg.sources, tasks_per_source: cfg.tasksPerSource, quick: args.quick },
  baseline,
  exporter: subject,
  ratio: baseline
    ? { p50: Number((subject.latency_ms.p50 / baseline.latency_ms.p50).toFixed(2)), p99: Number((subject.latency_ms.p99 / baseline.latency_ms.p99).toFixed(2)) }
    : undefined,
  target: { p99_ms: 100, p99_met: subject.latency_ms.p99 < 100, loss_free: subject.loss.loss_free },
};

if (!args.json) {
  const cols = sides;
  const line = (label, f) => console.log(`  ${label.padEnd(40)}${cols.map((s) => String(f(s)).padStart(34)).join('')}`);
  console.log(`\nSSE fan-out: ${cfg.clients} clients, ${cfg.rate} events/s for ${cfg.duration} s (latency: change made -> frame at the client)`);
  line('', (s) => s.name);
  line('events published / changes made', (s) => `${s.events} / ${s.changes_made}`);
  line('frames received (mean bytes)', (s) => `${s.frames_received} (${s.mean_frame_bytes} B)`);
  line('latency p50 / p90 ms', (s) => `${fmt(s.latency_ms.p50, 2)} / ${fmt(s.latency_ms.p90, 2)}`);
  line('latency p99 / p99.9 / max ms', (s) => `${fmt(s.latency_ms.p99, 2)} / ${fmt(s.latency_ms.p999, 2)} / ${fmt(s.latency_ms.max, 1)}`);
  line('first client p50 / p99 ms (pipeline)', (s) => `${fmt(s.first_client_latency_ms.p50, 2)} / ${fmt(s.first_client_latency_ms.p99, 2)}`);
  line('spread first->each client p50 / p99 ms', (s) => `${fmt(s.fanout_spread_ms.p50, 2)} / ${fmt(s.fanout_spread_ms.p99, 2)}`);
  line('clients with gaps / missed / dups', (s) => `${s.loss.clients_with_gaps} / ${s.loss.missed} / ${s.loss.duplicates}`);
  line('reconnect / reset frames', (s) => `${s.loss.reconnects} / ${s.loss.resets}`);
  line('clients behind at the end', (s) => s.loss.clients_behind_at_end);
  line('RSS MB before / connected', (s) => `${s.rss_mb.before_clients} / ${s.rss_mb.clients_connected}`);
  line('RSS MB 1st quarter / last quarter / max', (s) => `${s.rss_mb.first_quarter} / ${s.rss_mb.last_quarter} / ${s.rss_mb.during_max}`);
  line('RSS MB after run / clients left', (s) => `${s.rss_mb.after_run} / ${s.rss_mb.after_clients_left}`);
  line('CPU % of a core: server/clients/driver', (s) => `${s.cpu_pct_of_one_core.subject} / ${s.cpu_pct_of_one_core.clients} / ${s.cpu_pct_of_one_core.driver}`);
  line('server CPU s / us per frame delivered', (s) => `${s.cpu_s.subject} / ${s.server_cpu_us_per_frame}`);
  line('driver ticks >20 ms behind schedule', (s) => s.late_ticks);
  if (baseline) console.log(`  ratio exporter/baseline: p50 ${ratio(subject.latency_ms.p50, baseline.latency_ms.p50)}, p99 ${ratio(subject.latency_ms.p99, baseline.latency_ms.p99)}`);
  console.log(`  target p99 < 100 ms: ${results.target.p99_met ? 'met' : 'MISSED'}; zero loss: ${subject.loss.loss_free ? 'yes' : 'NO'}`);
}
if (args['json-file']) writeFileSync(args['json-file'], `${JSON.stringify(results, null, 2)}\n`);
if (args.json) console.log(JSON.stringify(results));
// Loss is a bug, not noise: fail the run (latency misses on a busy machine do not).
if (!subject.loss.loss_free || (baseline && !baseline.loss.loss_free)) {
  console.error('sse-fanout: some clients missed or repeated events (see the loss figures)');
  process.exitCode = 1;
}
