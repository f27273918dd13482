#!/usr/bin/env node
// `npm run soak [-- flags]`: a bounded soak test of the real exporter (exporter/dist/main.js) on
// the accelerated demo farm, with a mixed client load: SSE clients that check every event id,
// paced API clients over a mix of routes, /metrics scrapes. It samples the exporter's RSS and
// heap, then reports and asserts: no error responses, no lost events, RSS flat after warm-up.
// Exit 0 when every check holds, 1 when one fails, 2 on bad flags. See docs/reliability.md.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const MAIN_JS = fileURLToPath(new URL('../exporter/dist/main.js', import.meta.url));

const USAGE = `usage: node scripts/soak.mjs [flags]   (npm run soak -- [flags])

  --duration=D     how long the load runs: 600, 90s, 10m (default 10m; 60s with --smoke)
  --smoke          the short mode the test suite runs (60 s, faster samples, shorter client cycles)
  --speed=N        demo farm speed, passed as --demo.speed (default 100)
  --rps=N          API requests per second, spread over 4 paced clients (default 40)
  --rss-growth=P   largest RSS growth allowed after warm-up, in percent (default 10, 25 with --smoke; see docs/reliability.md)
  --json=FILE      also write the JSON summary to FILE (it is always printed after the table)
  --help           this text
`;

/** What the run is judged on; docs/reliability.md explains each. */
const DEFAULT_RSS_GROWTH_PERCENT = 10;
/** The smoke mode's 60 s end inside the warm-up (the replay window is not full yet) and its thirds
 * are 20 s, one or two GC cycles: it only catches gross growth. */
const SMOKE_RSS_GROWTH_PERCENT = 25;

class UsageError extends Error {}

function parseDuration(text) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new UsageError(`--duration must be a number of seconds or one like 90s, 10m, 1h; got "${text}"`);
  const seconds = Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] ?? 's'];
  if (!(seconds >= 10 && seconds <= 24 * 3600)) throw new UsageError(`--duration must be from 10 s to 24 h, got "${text}"`);
  return seconds;
}

function positive(name, text, max) {
  const n = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
  if (!(n > 0 && n <= max)) throw new UsageError(`--${name} must be a positive number up to ${max}, got "${text}"`);
  return n;
}

export function parseSoakArgs(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        duration: { type: 'string' },
        smoke: { type: 'boolean', default: false },
        speed: { type: 'string' },
        rps: { type: 'string' },
        'rss-growth': { type: 'string' },
        json: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (err) {
    throw new UsageError(err.message);
  }
  const v = parsed.values;
  const smoke = v.smoke ?? false;
  return {
    help: v.help ?? false,
    smoke,
    durationS: v.duration !== undefined ? parseDuration(v.duration) : smoke ? 60 : 600,
    speed: v.speed !== undefined ? positive('speed', v.speed, 1000) : 100,
    rps: v.rps !== undefined ? positive('rps', v.rps, 1000) : 40,
    rssGrowthPercent: v['rss-growth'] !== undefined ? positive('rss-growth', v['rss-growth'], 1000) : smoke ? SMOKE_RSS_GROWTH_PERCENT : DEFAULT_RSS_GROWTH_PERCENT,
    json: v.json,
  };
}

// ---------------------------------------------------------------------------------------------
// The exporter process

async function startExporter(speed) {
  if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: run npm run build first (npm run soak builds the exporter)`);
  // With the journal on, as a real deployment runs: every batch is committed (fsync) before its
  // events reach the SSE clients, so the soak measures that path too.
  const journalDir = mkdtempSync(join(tmpdir(), 'buildscope-soak-journal-'));
  const child = spawn(process.execPath, [MAIN_JS, '--demo', `--demo.speed=${speed}`, '--web.listen-address=127.0.0.1:0', '--log.level=warn', `--journal.path=${join(journalDir, 'journal.db')}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const logs = { lines: 0, byLevel: {}, errors: [], nodeWarnings: {} };
  let errTail = '';
  child.stdout.on('data', (d) => (out += d.toString()));
  child.stderr.on('data', (d) => {
    errTail += d.toString();
    let nl;
    while ((nl = errTail.indexOf('\n')) >= 0) {
      const line = errTail.slice(0, nl);
      errTail = errTail.slice(nl + 1);
      if (line.trim() === '') continue;
      // Node's own process warnings (e.g. MaxListenersExceededWarning) are tallied by text, not failed:
      // the memory check judges leaks. Any other line that is not pino JSON (a crash trace) fails the run.
      const warning = /^\(node:\d+\) (\w+: .*)$/.exec(line);
      if (warning) {
        logs.nodeWarnings[warning[1]] = (logs.nodeWarnings[warning[1]] ?? 0) + 1;
        continue;
      }
      if (line.startsWith('(Use `node --trace-') || /^\s+at /.test(line)) continue;
      logs.lines++;
      let level = 'unparsed';
      try {
        const rec = JSON.parse(line);
        level = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' }[rec.level] ?? String(rec.level);
      } catch {
        /* not pino JSON */
      }
      logs.byLevel[level] = (logs.byLevel[level] ?? 0) + 1;
      if ((level === 'error' || level === 'fatal' || level === 'unparsed') && logs.errors.length < 20) logs.errors.push(line.slice(0, 500));
    }
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))).then((r) => {
    rmSync(journalDir, { recursive: true, force: true });
    return r;
  });
  const deadline = Date.now() + 90_000;
  for (;;) {
    const url = /listening on (http:\/\/[\d.:]+)/.exec(out)?.[1];
    if (url) return { child, url, logs, exited, stdout: () => out };
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the exporter exited before listening (code ${child.exitCode}, signal ${child.signalCode}):\n${out}\n${logs.errors.join('\n')}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the exporter did not say where it listens within 90 s:\n${out}`);
    }
    await sleep(50);
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function rssKiB(pid) {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// SSE clients

/**
 * One event-stream client. It parses the stream, records every event id and checks that each is
 * the one after the last (the stream is unfiltered) or, filtered, keeps the ids for a later check
 * against a reference. It reconnects with Last-Event-ID whenever the stream ends (told to or
 * not). Modes: `steady` reads everything; `slow` stops reading for long stretches (the exporter's
 * slow-consumer limit ends its stream); `away` disconnects now and then and comes back later;
 * `ahead` now and then reconnects with an id beyond the newest (the exporter answers `reset`).
 */
export class SseClient {
  constructor(name, base, mode, opts = {}) {
    Object.assign(this, { name, base, mode, opts });
    this.query = opts.query ?? '';
    this.filtered = this.query !== '';
    this.lastId = undefined;
    this.ids = this.filtered ? new Set() : undefined;
    this.sources = opts.reference ? new Map() : undefined;
    this.received = 0;
    this.firstId = undefined;
    this.gaps = [];
    this.duplicates = 0;
    this.seqMismatches = 0;
    this.resets = [];
    this.reconnectReasons = {};
    this.connects = 0;
    this.endedWithoutReason = 0;
    this.errorResponses = [];
    this.transportErrors = 0;
    this.retryMs = 3000;
    this.stopped = false;
    this.paused = false;
    this.req = undefined;
    this.res = undefined;
    this.timers = new Set();
    this.pendingAhead = false;
  }

  start() {
    this.connect();
    if (this.mode === 'slow') this.cycle(this.opts.readMs, () => this.setPaused(true), this.opts.pauseMs, () => this.setPaused(false));
    if (this.mode === 'away') this.cycle(this.opts.stayMs, () => this.leave(), this.opts.awayMs, () => this.connect());
    if (this.mode === 'ahead') this.every(this.opts.everyMs, () => {
      this.pendingAhead = true;
      this.leave();
      this.connect();
    });
  }

  /** Alternate: after `aMs` run `a`, after `bMs` more run `b`, repeat. */
  cycle(aMs, a, bMs, b) {
    const run = () => {
      this.later(aMs, () => {
        a();
        this.later(bMs, () => {
          b();
          run();
        });
      });
    };
    run();
  }

  every(ms, fn) {
    this.later(ms, () => {
      fn();
      this.every(ms, fn);
    });
  }

  later(ms, fn) {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.stopped) fn();
    }, ms);
    this.timers.add(t);
  }

  setPaused(paused) {
    this.paused = paused;
    if (!this.res) return;
    if (paused) this.res.pause();
    else this.res.resume();
  }

  /** Drop the connection on purpose (no reconnect from the close handler). */
  leave() {
    const req = this.req;
    this.req = undefined;
    this.res = undefined;
    req?.destroy();
  }

  connect() {
    if (this.stopped || this.req) return;
    const ahead = this.pendingAhead && this.lastId !== undefined;
    this.pendingAhead = false;
    const resumeFrom = ahead ? this.lastId + 1_000_000_000 : this.lastId;
    const headers = resumeFrom !== undefined ? { 'Last-Event-ID': String(resumeFrom) } : {};
    const req = httpRequest(`${this.base}/api/v1/events${this.query}`, { headers });
    this.req = req;
    this.connects++;
    let sawReason = false;
    let buffer = '';
    let frame = { id: undefined, event: 'message', data: [] };
    const done = () => {
      if (this.req !== req) return; // left on purpose, or already handled
      this.req = undefined;
      this.res = undefined;
      if (!sawReason) this.endedWithoutReason++;
      if (!this.stopped) this.later(this.stopping ? 50 : this.retryMs, () => this.connect());
    };
    req.on('error', () => {
      if (this.req === req) this.transportErrors++;
      done();
    });
    req.on('response', (res) => {
      if (this.req !== req) {
        res.destroy();
        return;
      }
      if (res.statusCode !== 200) {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => {
          this.errorResponses.push({ status: res.statusCode, body: body.slice(0, 300) });
          sawReason = true;
          done();
        });
        return;
      }
      this.res = res;
      if (this.paused) res.pause();
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        buffer += chunk;
        let nl;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl).replace(/\r$/, '');
          buffer = buffer.slice(nl + 1);
          if (line === '') {
            if (frame.data.length > 0 || frame.id !== undefined) {
              if (this.dispatch(frame) === 'reason') sawReason = true;
            }
            frame = { id: undefined, event: 'message', data: [] };
            continue;
          }
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'id') frame.id = value;
          else if (field === 'event') frame.event = value;
          else if (field === 'data') frame.data.push(value);
          else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
        }
      });
      res.on('end', done);
      res.on('close', done);
      res.on('error', () => done());
    });
    req.end();
  }

  dispatch(frame) {
    const data = frame.data.join('\n');
    if (frame.event === 'heartbeat') return;
    if (frame.event === 'reconnect') {
      const reason = safeJson(data)?.reason ?? 'unparsed';
      this.reconnectReasons[reason] = (this.reconnectReasons[reason] ?? 0) + 1;
      return 'reason';
    }
    const id = Number(frame.id);
    if (frame.event === 'reset') {
      const body = safeJson(data) ?? {};
      // Events after lastId up to the reset's id are skipped on purpose: the client reloads its state.
      this.resets.push({ after: this.lastId, to: id, skipped: this.lastId === undefined ? 0 : Math.max(0, id - this.lastId), reason: body.reason });
      this.lastId = id;
      return;
    }
    if (!Number.isSafeInteger(id)) {
      this.seqMismatches++;
      return;
    }
    const event = safeJson(data);
    if (!event || event.seq !== id) this.seqMismatches++;
    this.received++;
    if (this.firstId === undefined) this.firstId = id;
    if (this.filtered) {
      if (this.lastId !== undefined && id <= this.lastId) this.duplicates++;
      this.ids.add(id);
    } else if (this.lastId !== undefined) {
      if (id <= this.lastId) this.duplicates++;
      else if (id !== this.lastId + 1 && this.gaps.length < 100) this.gaps.push({ after: this.lastId, got: id, missing: id - this.lastId - 1 });
    }
    this.sources?.set(id, event?.source);
    if (this.lastId === undefined || id > this.lastId) this.lastId = id;
  }

  /** End of the load: read everything, come back if away, and stop the cycles. */
  drain() {
    this.stopping = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.setPaused(false);
    if (!this.req) this.connect();
  }

  stop() {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.leave();
  }

  summary() {
    return {
      name: this.name,
      mode: this.mode,
      ...(this.filtered ? { query: this.query } : {}),
      connects: this.connects,
      events: this.received,
      first_id: this.firstId ?? null,
      last_id: this.lastId ?? null,
      gaps: this.gaps.length,
      missing_events: this.gaps.reduce((n, g) => n + g.missing, 0),
      duplicates: this.duplicates,
      seq_mismatches: this.seqMismatches,
      resets: this.resets.length,
      skipped_by_reset: this.resets.reduce((n, r) => n + r.skipped, 0),
      reconnect_reasons: this.reconnectReasons,
      ended_without_reason: this.endedWithoutReason,
      transport_errors: this.transportErrors,
      error_responses: this.errorResponses.length,
      ...(this.gaps.length > 0 ? { gap_examples: this.gaps.slice(0, 5) } : {}),
      ...(this.errorResponses.length > 0 ? { error_examples: this.errorResponses.slice(0, 5) } : {}),
    };
  }
}

function safeJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * A filtered client's ids against the reference (unfiltered, steady) client: every reference event
 * of the filter's source between the filtered client's first and last id must have arrived,
 * unless a reset skipped it.
 */
export function checkFiltered(client, reference, source) {
  if (client.firstId === undefined) return { checked: 0, missing: 0, examples: [] };
  let checked = 0;
  const missing = [];
  const lo = Math.max(client.firstId, reference.firstId ?? Infinity);
  const hi = Math.min(client.lastId, reference.lastId ?? -Infinity);
  const skipped = (id) => client.resets.some((r) => r.after !== undefined && id > r.after && id <= r.to);
  for (const [id, s] of reference.sources) {
    if (id < lo || id > hi || s !== source) continue;
    checked++;
    if (!client.ids.has(id) && !skipped(id)) missing.push(id);
  }
  return { checked, missing: missing.length, examples: missing.slice(0, 5) };
}

// ---------------------------------------------------------------------------------------------
// API clients

/** Routes of the mix: name, weight, a path maker, and the statuses counted as right. */
function routeMix(state) {
  const ok = [200];
  const pick = (arr) => arr[Math.floor(Math.random() * arr.length)];
  return [
    { name: 'tasks', weight: 4, path: () => '/api/v1/tasks?limit=50', ok },
    {
      name: 'tasks (filters)',
      weight: 4,
      path: () =>
        pick([
          '/api/v1/tasks?source=demo-girar&state=ALL&sort=updated&order=desc&limit=20',
          '/api/v1/tasks?phase=running,queued&sort=state_since&limit=100',
          '/api/v1/tasks?source=demo-koji,demo-cuirass&state=ALL&limit=100&offset=20',
          `/api/v1/tasks?state=ALL&updated_since=${Math.floor(Date.now() / 1000) - 600}&sort=created`,
          '/api/v1/tasks?kind=apb,karajo&phase=failed,success&limit=10',
        ]),
      ok,
    },
    { name: 'tasks (search)', weight: 3, path: () => `/api/v1/tasks?q=${encodeURIComponent(state.terms.length > 0 ? pick(state.terms) : 'build')}&limit=20`, ok },
    {
      name: 'task detail',
      weight: 3,
      // 404: the task left the store between the list that named it and this request (girar
      // sweeps finished tasks); counted apart, not as an error.
      path: () => (state.tasks.length > 0 ? `/api/v1/tasks/${pick(state.tasks)}` : '/api/v1/tasks?limit=1'),
      ok,
      gone: [404],
    },
    { name: 'sources', weight: 2, path: () => '/api/v1/sources', ok },
    { name: 'summary', weight: 2, path: () => `/api/v1/summary?by=${pick(['state', 'phase', 'source', 'owner', 'arch', 'repo'])}`, ok },
    { name: 'workers', weight: 2, path: () => '/api/v1/workers', ok },
    { name: 'jobs', weight: 2, path: () => '/api/v1/jobs', ok },
    { name: 'values', weight: 1, path: () => `/api/v1/values/${pick(['owner', 'repo', 'arch', 'state'])}`, ok },
    // Deliberate bad requests: they must get exactly this status with a JSON error.
    { name: 'bad request (deliberate)', weight: 1, path: () => pick(['/api/v1/tasks?limit=0', '/api/v1/tasks?sort=nope', '/api/v1/summary?by=colour']), ok: [400], deliberate: true },
    { name: 'unknown task (deliberate)', weight: 1, path: () => '/api/v1/tasks/demo-girar/999999999', ok: [404], deliberate: true },
  ];
}

class RouteStats {
  constructor() {
    this.routes = new Map();
  }
  record(name, ms, outcome) {
    let r = this.routes.get(name);
    if (!r) this.routes.set(name, (r = { latencies: [], ok: 0, gone: 0, errors: 0, examples: [] }));
    r.latencies.push(ms);
    if (outcome === 'ok') r.ok++;
    else if (outcome === 'gone') r.gone++;
    else {
      r.errors++;
      if (r.examples.length < 5) r.examples.push(outcome);
    }
  }
}

async function timedGet(base, path) {
  const started = performance.now();
  try {
    const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(30_000) });
    const body = await res.text();
    return { ms: performance.now() - started, status: res.status, body, type: res.headers.get('content-type') ?? '' };
  } catch (err) {
    return { ms: performance.now() - started, status: 0, body: String(err?.cause?.code ?? err?.message ?? err), type: '' };
  }
}

/** One paced API client: a request from the mix every `periodMs` (or as fast as answers come back). */
async function apiClient(base, mix, state, stats, periodMs, until) {
  const total = mix.reduce((n, r) => n + r.weight, 0);
  while (Date.now() < until()) {
    let x = Math.random() * total;
    const route = mix.find((r) => (x -= r.weight) < 0) ?? mix[0];
    const path = route.path();
    const started = Date.now();
    const res = await timedGet(base, path);
    const json = res.type.startsWith('application/json') ? safeJson(res.body) : undefined;
    let outcome;
    if (route.ok.includes(res.status) && json !== undefined && (res.status < 300 || typeof json.error === 'string')) outcome = 'ok';
    else if (route.gone?.includes(res.status) && typeof json?.error === 'string') outcome = 'gone';
    else outcome = { path, status: res.status, body: res.body.slice(0, 300) };
    stats.record(route.name, res.ms, outcome);
    if (outcome === 'ok' && res.status === 200 && Array.isArray(json.items) && path.startsWith('/api/v1/tasks?')) {
      const items = json.items.filter((t) => typeof t.source === 'string' && typeof t.id === 'string');
      if (items.length > 0) state.tasks = items.slice(0, 50).map((t) => `${encodeURIComponent(t.source)}/${encodeURIComponent(t.id)}`);
      const owners = items.map((t) => t.owner).filter((o) => typeof o === 'string' && o.length >= 3);
      if (owners.length > 0) state.terms = [...new Set([...owners.slice(0, 5), 'fail', 'build', ...state.terms])].slice(0, 20);
    }
    const wait = periodMs - (Date.now() - started);
    if (wait > 0) await sleep(wait);
  }
}

/** Prometheus text: the value of an unlabelled sample. */
function metricValue(text, name) {
  const m = new RegExp(`^${name} ([0-9.eE+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Figures

function quantile(sorted, q) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

function median(values) {
  return quantile([...values].sort((a, b) => a - b), 0.5);
}

/**
 * RSS flat after warm-up: the samples split in three by time; the first third is the warm-up
 * (the store fills, the JIT settles); the median of the last third may be at most `allowed`
 * percent above the median of the second third.
 */
export function rssVerdict(samples, allowedPercent) {
  if (samples.length < 6) return { ok: false, reason: `only ${samples.length} RSS samples` };
  const t0 = samples[0].t;
  const span = samples[samples.length - 1].t - t0;
  const second = samples.filter((s) => s.t >= t0 + span / 3 && s.t < t0 + (2 * span) / 3).map((s) => s.rss_kib);
  const last = samples.filter((s) => s.t >= t0 + (2 * span) / 3).map((s) => s.rss_kib);
  const m2 = median(second);
  const m3 = median(last);
  if (m2 === null || m3 === null) return { ok: false, reason: 'a third without samples' };
  const growth = ((m3 - m2) / m2) * 100;
  return { ok: growth <= allowedPercent, second_third_median_mib: round(m2 / 1024, 1), last_third_median_mib: round(m3 / 1024, 1), growth_percent: round(growth, 2), allowed_percent: allowedPercent };
}

function round(x, digits = 1) {
  if (x === null || x === undefined || !Number.isFinite(x)) return x ?? null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

// ---------------------------------------------------------------------------------------------
// The run

export async function runSoak(o, log = (line) => process.stderr.write(`${line}\n`)) {
  const exporter = await startExporter(o.speed);
  const { child, url } = exporter;
  const startedAt = new Date();
  log(`soak: exporter pid ${child.pid} at ${url} (demo at ${o.speed}x); load for ${o.durationS} s`);
  let exitedEarly;
  exporter.exited.then((e) => (exitedEarly = e));
  // The exporter gives itself 10 s to shut down; SIGKILL after 30 s, and say how long it took.
  const stopExporter = async () => {
    const asked = performance.now();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timeout = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const r = await exporter.exited;
    clearTimeout(timeout);
    return { ...r, seconds: round((performance.now() - asked) / 1000, 1) };
  };
  const onSignal = () => {
    child.kill('SIGTERM');
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const readyBy = Date.now() + 60_000;
    while (!(await timedGet(url, '/-/ready')).status.toString().startsWith('2')) {
      if (Date.now() > readyBy) throw new Error('the exporter was not ready (every source polled once) within 60 s');
      if (exitedEarly) throw new Error(`the exporter exited during start-up: ${JSON.stringify(exitedEarly)}`);
      await sleep(200);
    }

    const smoke = o.smoke;
    const sampleMs = smoke ? 2000 : 5000;
    const scrapeMs = smoke ? 2000 : 5000;
    const clients = [
      new SseClient('steady-1', url, 'steady', { reference: true }),
      new SseClient('steady-2', url, 'steady'),
      new SseClient('steady-3', url, 'steady'),
      // Paused long enough that the kernel's socket buffers (several MB on loopback) and then the
      // exporter's client_buffer fill: the exporter ends the stream as a slow consumer (full runs only).
      new SseClient('slow-1', url, 'slow', smoke ? { readMs: 5_000, pauseMs: 25_000 } : { readMs: 20_000, pauseMs: 200_000 }),
      new SseClient('slow-2', url, 'slow', smoke ? { readMs: 8_000, pauseMs: 20_000 } : { readMs: 30_000, pauseMs: 45_000 }),
      new SseClient('away-1', url, 'away', smoke ? { stayMs: 10_000, awayMs: 5_000 } : { stayMs: 30_000, awayMs: 20_000 }),
      // Away long enough to leave the replay window (buffer_size 10,000 events) at 100x: a real reset.
      new SseClient('away-long', url, 'away', smoke ? { stayMs: 15_000, awayMs: 15_000 } : { stayMs: 60_000, awayMs: 150_000 }),
      new SseClient('ahead-1', url, 'ahead', { everyMs: smoke ? 15_000 : 60_000 }),
      new SseClient('koji-only', url, 'steady', { query: '?source=demo-koji' }),
    ];
    for (const c of clients) c.start();

    const loadEnd = Date.now() + o.durationS * 1000;
    const t0 = performance.now();
    const samples = [];
    let lastMetrics = {};
    const metricsStats = new RouteStats();
    const sampler = setInterval(() => {
      const rss = rssKiB(child.pid);
      if (rss !== undefined) samples.push({ t: round((performance.now() - t0) / 1000, 1), rss_kib: rss, heap_used_bytes: lastMetrics.heap ?? null, events_seq: clients[0].lastId ?? null });
    }, sampleMs);
    const scrape = async () => {
      while (Date.now() < loadEnd) {
        const started = Date.now();
        const res = await timedGet(url, '/metrics');
        const fine = res.status === 200 && res.type.startsWith('text/plain') && res.body.includes('buildfarm_source_up');
        metricsStats.record('/metrics', res.ms, fine ? 'ok' : { path: '/metrics', status: res.status, body: res.body.slice(0, 300) });
        if (fine) lastMetrics = { heap: metricValue(res.body, 'nodejs_heap_size_used_bytes'), rss: metricValue(res.body, 'process_resident_memory_bytes') };
        const wait = scrapeMs - (Date.now() - started);
        if (wait > 0) await sleep(wait);
      }
    };
    const stats = new RouteStats();
    const state = { tasks: [], terms: [] };
    const mix = routeMix(state);
    const workers = 4;
    const periodMs = (1000 * workers) / o.rps;
    const progress = setInterval(() => {
      const s = samples[samples.length - 1];
      const done = Math.round((performance.now() - t0) / 1000);
      log(`soak: ${done}/${o.durationS} s, RSS ${s ? round(s.rss_kib / 1024, 1) : '?'} MiB, events seq ${clients[0].lastId ?? '?'}`);
    }, smoke ? 15_000 : 30_000);
    await Promise.all([scrape(), ...Array.from({ length: workers }, () => apiClient(url, mix, state, stats, periodMs, () => loadEnd))]);
    const loadSeconds = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    clearInterval(progress);
    if (exitedEarly) throw new Error(`the exporter exited during the run: ${JSON.stringify(exitedEarly)}`);

    // Drain: every client reads on (and the away ones come back) until it has the newest event
    // any client had seen when the load stopped.
    const target = Math.max(...clients.filter((c) => !c.filtered).map((c) => c.lastId ?? 0));
    for (const c of clients) c.drain();
    const drainBy = Date.now() + 60_000;
    const behind = () => clients.filter((c) => !c.filtered && (c.lastId ?? -1) < target);
    while (behind().length > 0 && Date.now() < drainBy) await sleep(100);
    const lagging = behind().map((c) => ({ name: c.name, last_id: c.lastId ?? null }));
    // The filtered client: up to the last koji event at or below the target the reference saw.
    const kojiTarget = Math.max(-1, ...[...clients[0].sources].filter(([id, s]) => s === 'demo-koji' && id <= target).map(([id]) => id));
    while (kojiTarget >= 0 && (clients[8].lastId ?? -1) < kojiTarget && Date.now() < drainBy) await sleep(100);
    for (const c of clients) c.stop();

    const exit = await stopExporter();
    const summary = report({ o, url, startedAt, loadSeconds, clients, stats, metricsStats, samples, lagging, target, kojiTarget, exit, logs: exporter.logs });
    return summary;
  } catch (err) {
    await stopExporter();
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function report({ o, url, startedAt, loadSeconds, clients, stats, metricsStats, samples, lagging, target, kojiTarget, exit, logs }) {
  const routes = {};
  let requests = 0;
  let errorResponses = 0;
  const errorExamples = [];
  for (const s of [stats, metricsStats]) {
    for (const [name, r] of s.routes) {
      const sorted = [...r.latencies].sort((a, b) => a - b);
      routes[name] = { requests: sorted.length, ok: r.ok, gone: r.gone, errors: r.errors, p50_ms: round(quantile(sorted, 0.5), 1), p99_ms: round(quantile(sorted, 0.99), 1), max_ms: round(sorted[sorted.length - 1] ?? null, 1) };
      requests += sorted.length;
      errorResponses += r.errors;
      errorExamples.push(...r.examples.map((e) => ({ route: name, ...e })));
    }
  }
  const sse = clients.map((c) => c.summary());
  const filtered = checkFiltered(clients[8], clients[0], 'demo-koji');
  const reference = clients[0];
  const eventsSeen = reference.lastId !== undefined && reference.firstId !== undefined ? reference.lastId - reference.firstId + 1 : 0;
  const rss = rssVerdict(samples, o.rssGrowthPercent);
  const heapSamples = samples.filter((s) => typeof s.heap_used_bytes === 'number');
  const heapThird = (k) => median(heapSamples.filter((_, i) => Math.floor((3 * i) / heapSamples.length) === k).map((s) => s.heap_used_bytes));
  const sseErrors = sse.reduce((n, c) => n + c.error_responses, 0);
  const lost = sse.reduce((n, c) => n + c.missing_events + c.duplicates + c.seq_mismatches, 0) + filtered.missing;
  const slowDrops = sse.reduce((n, c) => n + (c.reconnect_reasons['slow consumer'] ?? 0), 0);
  const realResets = clients.filter((c) => c.mode === 'away').reduce((n, c) => n + c.resets.length, 0);
  const aheadResets = clients.filter((c) => c.mode === 'ahead').reduce((n, c) => n + c.resets.length, 0);
  const checks = [
    { name: 'no error responses (API, /metrics, SSE)', ok: errorResponses === 0 && sseErrors === 0, detail: `${errorResponses} API/metrics, ${sseErrors} SSE` },
    { name: 'no lost, duplicated or mismatched events', ok: lost === 0, detail: `${lost} (filtered client checked against the reference on ${filtered.checked} events)` },
    { name: 'every client caught up at the end', ok: lagging.length === 0 && (kojiTarget < 0 || (clients[8].lastId ?? -1) >= kojiTarget), detail: lagging.length === 0 ? `all reached event ${target}` : `behind: ${JSON.stringify(lagging)}` },
    { name: 'events flowed', ok: eventsSeen > 0 && reference.received > 0, detail: `${eventsSeen} events` },
    { name: 'a reset answers a Last-Event-ID beyond the newest event', ok: aheadResets > 0, detail: `${aheadResets} resets` },
    { name: `RSS flat after warm-up (last third median <= ${o.rssGrowthPercent}% above second third)`, ok: rss.ok, detail: rss.reason ?? `${rss.growth_percent}%: ${rss.second_third_median_mib} -> ${rss.last_third_median_mib} MiB` },
    { name: 'no error-level exporter logs', ok: (logs.byLevel.error ?? 0) + (logs.byLevel.fatal ?? 0) + (logs.byLevel.unparsed ?? 0) === 0, detail: JSON.stringify(logs.byLevel) },
    { name: 'the exporter exits 0 on SIGTERM within its own 10 s', ok: exit.code === 0 && exit.seconds <= 10, detail: `${JSON.stringify({ code: exit.code, signal: exit.signal })} after ${exit.seconds} s` },
  ];
  return {
    ok: checks.every((c) => c.ok),
    started_at: startedAt.toISOString(),
    command: `node scripts/soak.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    settings: { duration_s: o.durationS, smoke: o.smoke, speed: o.speed, target_rps: o.rps, rss_growth_allowed_percent: o.rssGrowthPercent, exporter: url },
    machine: { nproc: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memory_gib: round(totalmem() / 2 ** 30, 1), node: process.version, platform: `${process.platform} ${process.arch}` },
    load_seconds: round(loadSeconds, 1),
    checks,
    requests: { total: requests, per_second: round(requests / loadSeconds, 1), error_responses: errorResponses, error_examples: errorExamples.slice(0, 10) },
    routes,
    events: {
      newest_seq: target,
      per_second: round(eventsSeen / loadSeconds, 1),
      slow_consumer_drops: slowDrops,
      resets_after_absence: realResets,
      resets_for_ids_ahead: aheadResets,
      filtered_check: filtered,
      clients: sse,
    },
    memory: {
      samples: samples.length,
      rss: rss,
      rss_min_mib: round(Math.min(...samples.map((s) => s.rss_kib)) / 1024, 1),
      rss_max_mib: round(Math.max(...samples.map((s) => s.rss_kib)) / 1024, 1),
      heap_used_median_mib_by_third: [0, 1, 2].map((k) => round((heapThird(k) ?? NaN) / 2 ** 20, 1)),
      series: samples,
    },
    exporter_logs: logs,
  };
}

function pad(s, n) {
  s = String(s);
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

export function table(summary) {
  const lines = [];
  lines.push(`soak: ${summary.load_seconds} s of load at ${summary.settings.speed}x on ${summary.machine.nproc} CPUs, ${summary.machine.memory_gib} GiB, node ${summary.machine.node}`);
  lines.push('');
  lines.push(`${pad('route', 28)}${pad('requests', 10)}${pad('errors', 8)}${pad('gone', 6)}${pad('p50 ms', 9)}${pad('p99 ms', 9)}max ms`);
  for (const [name, r] of Object.entries(summary.routes)) lines.push(`${pad(name, 28)}${pad(r.requests, 10)}${pad(r.errors, 8)}${pad(r.gone, 6)}${pad(r.p50_ms, 9)}${pad(r.p99_ms, 9)}${r.max_ms}`);
  lines.push(`${pad('all', 28)}${pad(summary.requests.total, 10)}${pad(summary.requests.error_responses, 8)}   (${summary.requests.per_second} requests/s)`);
  lines.push('');
  lines.push(`${pad('SSE client', 12)}${pad('mode', 8)}${pad('connects', 10)}${pad('events', 9)}${pad('missing', 9)}${pad('dups', 6)}${pad('resets', 8)}reconnect reasons`);
  for (const c of summary.events.clients) lines.push(`${pad(c.name, 12)}${pad(c.mode, 8)}${pad(c.connects, 10)}${pad(c.events, 9)}${pad(c.missing_events, 9)}${pad(c.duplicates, 6)}${pad(c.resets, 8)}${JSON.stringify(c.reconnect_reasons)}`);
  lines.push(`events: ${summary.events.per_second}/s, newest seq ${summary.events.newest_seq}, ${summary.events.slow_consumer_drops} slow-consumer drops, ${summary.events.resets_after_absence} resets after a long absence`);
  lines.push('');
  const m = summary.memory;
  lines.push(`memory: RSS ${m.rss_min_mib}..${m.rss_max_mib} MiB over ${m.samples} samples; medians of the 2nd/3rd third ${m.rss.second_third_median_mib}/${m.rss.last_third_median_mib} MiB (${m.rss.growth_percent}%); heap used by third ${m.heap_used_median_mib_by_third.join(' / ')} MiB`);
  const warnings = Object.entries(summary.exporter_logs.nodeWarnings);
  lines.push(`exporter logs: ${JSON.stringify(summary.exporter_logs.byLevel)}${warnings.length > 0 ? `; node warnings: ${warnings.map(([w, n]) => `${n}x ${w}`).join('; ')}` : ''}`);
  lines.push('');
  for (const c of summary.checks) lines.push(`${c.ok ? 'PASS' : 'FAIL'}  ${c.name}: ${c.detail}`);
  lines.push(summary.ok ? 'soak: every check passed' : 'soak: FAILED');
  return lines.join('\n');
}

async function main() {
  let o;
  try {
    o = parseSoakArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (o.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const summary = await runSoak(o);
  const json = JSON.stringify(summary, null, 2);
  if (o.json) writeFileSync(o.json, `${json}\n`);
  process.stdout.write(`${table(summary)}\n\n${json}\n`);
  return summary.ok ? 0 : 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then(
    (code) => (process.exitCode = code),
    (err) => {
      process.stderr.write(`soak failed: ${err?.stack ?? err}\n`);
      process.exitCode = 1;
    },
  );
}
