// The subscriber side of test/bench/sse-fanout.mjs, in its own process (forked with an IPC
// channel) so that parsing a thousand streams does not skew the timing of the process that makes
// the changes. Not meant to be run by hand.
//
// Protocol (parent -> child): {type:'connect', url, clients} -> {type:'ready', connected, failed}
//   {type:'made', changes:[[taskId, epochMs], ...]}   when the parent is about to make a change
//   {type:'drain', quietMs, timeoutMs}                -> {type:'result', ...}  (after the stream went quiet)
//   {type:'close'}                                    closes every connection and exits
//
// Per client: the `id:` sequence (a gap = events missed, a repeat = a duplicate), reconnect and
// reset frames (a client told to reconnect resumes with Last-Event-ID, as EventSource does).
// Latency per received change event = time the chunk holding it arrived here - time the parent
// made the change (epoch ms with sub-ms resolution on both sides, the same system clock).
// Parsing stays cheap: frames are cut at "\n\n", the seq is read from `id:`, and only the first
// client to see a seq looks up the task id in its `data:` with indexOf (no JSON.parse).
import http from 'node:http';

const now = () => performance.timeOrigin + performance.now();

/** A latency histogram: 0.1 ms buckets up to 60 s, one overflow bucket. */
class Histogram {
  static BUCKET_MS = 0.1;
  static BUCKETS = 600_000;
  counts = new Uint32Array(Histogram.BUCKETS + 1);
  samples = 0;
  max = 0;
  record(ms) {
    const b = ms <= 0 ? 0 : Math.floor(ms / Histogram.BUCKET_MS);
    this.counts[b < Histogram.BUCKETS ? b : Histogram.BUCKETS] += 1;
    this.samples += 1;
    if (ms > this.max) this.max = ms;
  }
  quantile(p) {
    if (this.samples === 0) return Number.NaN;
    const rank = Math.ceil((p / 100) * this.samples);
    let seen = 0;
    for (let b = 0; b <= Histogram.BUCKETS; b += 1) {
      seen += this.counts[b];
      if (seen >= rank) return (b + 0.5) * Histogram.BUCKET_MS;
    }
    return Number.POSITIVE_INFINITY;
  }
  summary() {
    return { samples: this.samples, p50: this.quantile(50), p90: this.quantile(90), p99: this.quantile(99), p999: this.quantile(99.9), max: this.max };
  }
}
/** Change made -> frame at this client, for every (event, client) pair. */
const latency = new Histogram();
/** Change made -> frame at the first client that got it, one per event: the server's pipeline. */
const firstLatency = new Histogram();
/** First client that got an event -> this client: the spread of the fan-out itself. */
const spread = new Histogram();
/** seq -> time the first client got it. */
const firstRecv = new Map();
function record(ms, seq, recv) {
  latency.record(ms);
  const first = firstRecv.get(seq);
  if (first === undefined) {
    firstRecv.set(seq, recv);
    firstLatency.record(ms);
    spread.record(0);
  } else spread.record(recv - first);
}

/** taskId -> the latest change the parent announced, and which seq has claimed it. */
const made = new Map();
/** seq -> made time (number), or the receive times waiting for the change to be announced (array). */
const bySeq = new Map();
let unmatched = 0;
let lastFrameAt = 0;
let maxSeq = 0;
let frames = 0;
let frameBytes = 0;

function onMade(taskId, t) {
  const entry = made.get(taskId);
  made.set(taskId, { t, seq: undefined });
  // Receipts that arrived before their announcement (rare: the IPC message lost a race).
  if (entry?.waiting) {
    const { seq, recv } = entry.waiting;
    bySeq.set(seq, t);
    made.get(taskId).seq = seq;
    for (const r of recv.sort((a, b) => a - b)) record(r - t, seq, r);
  }
}

function madeTimeOf(seq, data, recv) {
  let t = bySeq.get(seq);
  if (typeof t === 'number') return t;
  if (Array.isArray(t)) {
    t.push(recv);
    return undefined;
  }
  const at = data.indexOf('"id":"');
  const taskId = at < 0 ? '' : data.slice(at + 6, data.indexOf('"', at + 6));
  const entry = made.get(taskId);
  if (entry && entry.seq === undefined) {
    entry.seq = seq;
    bySeq.set(seq, entry.t);
    return entry.t;
  }
  // Not announced yet (or this task's last announcement already belongs to an earlier seq).
  const recv0 = [recv];
  bySeq.set(seq, recv0);
  if (entry) entry.waiting = { seq, recv: recv0 };
  else made.set(taskId, { t: Number.NaN, seq: -1, waiting: { seq, recv: recv0 } });
  return undefined;
}

class Client {
  constructor(url) {
    this.url = url;
    this.lastSeq = 0;
    this.firstSeq = 0;
    this.received = 0;
    this.gaps = 0;
    this.missed = 0;
    this.dups = 0;
    this.reconnects = 0;
    this.resets = 0;
    this.heartbeats = 0;
    this.errors = 0;
    this.buf = '';
    this.open = false;
    this.stopped = false;
  }

  connect() {
    return new Promise((resolve) => {
      const headers = { accept: 'text/event-stream' };
      if (this.lastSeq > 0) headers['last-event-id'] = String(this.lastSeq);
      const req = http.get(this.url, { headers, agent: false }, (res) => {
        if (res.statusCode !== 200) {
          this.errors += 1;
          res.resume();
          resolve(false);
          return;
        }
        res.setEncoding('latin1');
        this.res = res;
        this.open = true;
        let ready = false;
        res.on('data', (chunk) => {
          const recv = now();
          this.parse(chunk, recv);
          if (!ready && this.buf === '') {
            ready = true;
            resolve(true);
          }
        });
        res.on('end', () => this.closed());
        res.on('error', () => this.closed());
      });
      req.on('error', () => {
        this.errors += 1;
        resolve(false);
      });
      this.req = req;
    });
  }

  closed() {
    if (!this.open) return;
    this.open = false;
    this.buf = '';
    // As EventSource does after `event: reconnect` (or a dropped stream): resume after lastSeq.
    if (!this.stopped) setTimeout(() => void this.connect(), 50);
  }

  parse(chunk, recv) {
    let text = this.buf === '' ? chunk : this.buf + chunk;
    let from = 0;
    for (;;) {
      const end = text.indexOf('\n\n', from);
      if (end < 0) break;
      this.frame(text, from, end, recv);
      from = end + 2;
    }
    this.buf = from === text.length ? '' : text.slice(from);
  }

  frame(text, from, end, recv) {
    if (text.startsWith('id: ', from)) {
      const nl = text.indexOf('\n', from);
      const seq = Number(text.slice(from + 4, nl));
      if (text.startsWith('event: reset', nl + 1)) {
        this.resets += 1;
        this.lastSeq = seq;
        return;
      }
      frames += 1;
      frameBytes += end - from + 2;
      lastFrameAt = recv;
      if (seq > maxSeq) maxSeq = seq;
      if (this.lastSeq === 0) this.firstSeq = seq;
      else if (seq <= this.lastSeq) {
        this.dups += 1;
        return;
      } else if (seq !== this.lastSeq + 1) {
        this.gaps += 1;
        this.missed += seq - this.lastSeq - 1;
      }
      this.lastSeq = seq;
      this.received += 1;
      const dataAt = text.indexOf('\ndata: ', nl);
      const t = madeTimeOf(seq, dataAt < 0 || dataAt > end ? '' : text.slice(dataAt + 7, end), recv);
      if (t !== undefined) {
        if (Number.isNaN(t)) unmatched += 1;
        else record(recv - t, seq, recv);
      }
    } else if (text.startsWith('event: heartbeat', from)) this.heartbeats += 1;
    else if (text.startsWith('event: reconnect', from)) this.reconnects += 1;
  }

  stop() {
    this.stopped = true;
    this.req?.destroy();
  }
}

const clients = [];

async function connectAll(url, n) {
  let connected = 0;
  let failed = 0;
  const batch = 50;
  for (let i = 0; i < n; i += batch) {
    const group = [];
    for (let k = i; k < Math.min(n, i + batch); k += 1) {
      const c = new Client(url);
      clients.push(c);
      group.push(c.connect());
    }
    for (const ok of await Promise.all(group)) ok ? (connected += 1) : (failed += 1);
  }
  return { connected, failed };
}

async function drain(quietMs, timeoutMs) {
  const until = now() + timeoutMs;
  for (;;) {
    const t = now();
    const allCaughtUp = clients.every((c) => !c.open || c.lastSeq === maxSeq);
    if ((allCaughtUp && t - lastFrameAt >= quietMs) || t > until) return { caughtUp: allCaughtUp };
    await new Promise((r) => setTimeout(r, 50));
  }
}

function result(extra) {
  let pending = 0;
  for (const v of bySeq.values()) if (Array.isArray(v)) pending += v.length;
  const sum = (f) => clients.reduce((a, c) => a + f(c), 0);
  const received = clients.map((c) => c.received).sort((a, b) => a - b);
  const cpu = process.cpuUsage();
  return {
    type: 'result',
    ...extra,
    clients: clients.length,
    open: clients.filter((c) => c.open).length,
    frames,
    mean_frame_bytes: frames ? Math.round(frameBytes / frames) : 0,
    events_seen: bySeq.size,
    first_seq: Math.min(...clients.map((c) => c.firstSeq || Number.POSITIVE_INFINITY)),
    max_seq: maxSeq,
    received_min: received[0] ?? 0,
    received_max: received[received.length - 1] ?? 0,
    clients_with_gaps: clients.filter((c) => c.gaps > 0).length,
    missed: sum((c) => c.missed),
    duplicates: sum((c) => c.dups),
    reconnects: sum((c) => c.reconnects),
    resets: sum((c) => c.resets),
    heartbeats: sum((c) => c.heartbeats),
    http_errors: sum((c) => c.errors),
    clients_behind: clients.filter((c) => c.lastSeq !== maxSeq).length,
    latency: latency.summary(),
    first_client_latency: firstLatency.summary(),
    spread: spread.summary(),
    unmatched: unmatched + pending,
    cpu_s: (cpu.user + cpu.system) / 1e6,
  };
}

// The parent is gone (finished or failed): never linger with open sockets.
process.on('disconnect', () => process.exit(0));

process.on('message', async (msg) => {
  switch (msg.type) {
    case 'connect': {
      const r = await connectAll(msg.url, msg.clients);
      process.send({ type: 'ready', ...r });
      break;
    }
    case 'made':
      for (const [id, t] of msg.changes) onMade(id, t);
      break;
    case 'drain': {
      const r = await drain(msg.quietMs, msg.timeoutMs);
      process.send(result(r));
      break;
    }
    case 'close':
      for (const c of clients) c.stop();
      process.exit(0);
      break;
    default:
      break;
  }
});
