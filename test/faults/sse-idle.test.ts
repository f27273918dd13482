/**
 * Thousands of idle SSE clients against the real exporter process: 2,000 connections (each from
 * its own client IP, told through the trusted proxy header) all get heartbeats, /metrics and the
 * API stay prompt, the per-IP and global limits answer 429 and 503 with JSON beyond them, RSS stays
 * bounded, and everything closes cleanly.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registry } from '../../exporter/src/sources/registry.js';
import type { DemoInstance } from '../../exporter/src/sources/source.js';
import { systemClock } from '../../exporter/src/util/clock.js';
import { waitUntil } from '../../exporter/src/util/wait-until.js';
import { startReadyExporter, type ExporterProcess } from '../support/exporter-process.js';
import { residentBytes } from './farm.js';

const CLIENTS = 2000;
const PER_IP = 5;
const MAX = CLIENTS + PER_IP + 5;
/** Bound on the exporter's RSS with every client connected. */
const RSS_BOUND = 400 * 2 ** 20;

interface Client {
  socket: Socket;
  head: string;
  status: number;
  heartbeats: number;
  body: string;
  closed: boolean;
}

let dir: string;
let sim: DemoInstance | undefined;
let exporter: ExporterProcess | undefined;
let port = 0;
const clients: Client[] = [];

function open(ip: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const c: Client = { socket, head: '', status: 0, heartbeats: 0, body: '', closed: false };
    let buf = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      if (c.status === 0) {
        buf += d;
        const split = buf.indexOf('\r\n\r\n');
        if (split < 0) return;
        c.head = buf.slice(0, split);
        c.status = Number(/^HTTP\/1\.1 (\d{3})/.exec(c.head)?.[1] ?? 0);
        c.body = buf.slice(split + 4);
        resolve(c);
      } else if (c.body.length < 100_000) c.body += d;
      c.heartbeats = (c.body.match(/event: heartbeat/g) ?? []).length;
    });
    socket.on('close', () => (c.closed = true));
    socket.on('error', (e) => (c.status === 0 ? reject(e) : undefined));
    socket.write(`GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nX-Real-IP: ${ip}\r\n\r\n`);
  });
}

const ipOf = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'buildscope-sse-idle-'));
  const made = await registry.cuirass?.demo?.({ log: pino({ level: 'silent' }), clock: systemClock });
  if (!made || Array.isArray(made)) throw new Error('no cuirass simulator');
  sim = made;
  const config = {
    sources: [{ ...sim.config, name: 'ci', kind: 'cuirass', interval: '5s' }],
    events: { max_connections: MAX, max_connections_per_ip: PER_IP, heartbeat_interval: '1s', trusted_proxies: ['127.0.0.1'], ip_header: 'x-real-ip' },
  };
  await writeFile(join(dir, 'buildscope.yaml'), JSON.stringify(config));
  exporter = await startReadyExporter(join(dir, 'buildscope.yaml'));
  port = Number(new URL(exporter.url).port);
}, 90_000);

afterAll(async () => {
  for (const c of clients) c.socket.destroy();
  await exporter?.stop();
  await sim?.close();
  await rm(dir, { recursive: true, force: true });
});

async function timed(path: string): Promise<{ status: number; ms: number; text: string }> {
  const t0 = performance.now();
  const res = await fetch(`${exporter?.url ?? ''}${path}`);
  const text = await res.text();
  return { status: res.status, ms: performance.now() - t0, text };
}

describe('thousands of idle SSE clients', () => {
  it(`${CLIENTS} idle clients get heartbeats, the exporter stays prompt, the limits answer JSON, all close cleanly`, async () => {
    const t0 = Date.now();
    const rssBefore = residentBytes((await timed('/metrics')).text);
    // Open in batches of 200 so the accept queue never overflows.
    for (let i = 0; i < CLIENTS; i += 200) clients.push(...(await Promise.all(Array.from({ length: Math.min(200, CLIENTS - i) }, (_, k) => open(ipOf(i + k + 1))))));
    expect(clients.filter((c) => c.status !== 200).map((c) => c.head.split('\r\n')[0])).toEqual([]);
    // Every client hears a heartbeat (1 s interval).
    await waitUntil(() => clients.every((c) => c.heartbeats >= 1 && !c.closed), 20_000, { what: 'a heartbeat on every client' });

    const metrics = await timed('/metrics');
    const sources = await timed('/api/v1/sources');
    const tasks = await timed('/api/v1/tasks?limit=50');
    expect([metrics.status, sources.status, tasks.status]).toEqual([200, 200, 200]);
    expect(/^buildfarm_exporter_sse_clients (\d+)/m.exec(metrics.text)?.[1]).toBe(String(CLIENTS));
    for (const r of [metrics, sources, tasks]) expect(r.ms).toBeLessThan(2000);
    const rss = residentBytes(metrics.text);

    // Per IP: the sixth connection from one client is refused with a JSON 429.
    const same = await Promise.all(Array.from({ length: PER_IP }, () => open('192.0.2.7')));
    clients.push(...same);
    expect(same.map((c) => c.status)).toEqual(Array(PER_IP).fill(200));
    const sixth = await open('192.0.2.7');
    clients.push(sixth);
    expect(sixth.status).toBe(429);
    expect(sixth.head).toMatch(/content-type: application\/json/i);
    await waitUntil(() => sixth.closed || sixth.body.includes('}'), 5000, { what: 'the 429 body' });
    expect((JSON.parse(sixth.body.slice(0, sixth.body.lastIndexOf('}') + 1)) as { error: string }).error).toMatch(/too many event-stream connections from 192\.0\.2\.7/);

    // Globally: fill up to the limit, then one more is a JSON 503.
    const rest = await Promise.all(Array.from({ length: MAX - CLIENTS - PER_IP }, (_, k) => open(ipOf(CLIENTS + k + 1))));
    clients.push(...rest);
    expect(rest.map((c) => c.status)).toEqual(Array(rest.length).fill(200));
    const over = await open(ipOf(CLIENTS + 100));
    clients.push(over);
    expect(over.status).toBe(503);
    expect(over.head).toMatch(/content-type: application\/json/i);
    await waitUntil(() => over.closed || over.body.includes('}'), 5000, { what: 'the 503 body' });
    expect(over.body).toMatch(/too many event-stream connections \(the limit is \d+\)/);

    // Close every client: the exporter lets go of all of them and still serves.
    for (const c of clients) c.socket.destroy();
    await waitUntil(async () => /^buildfarm_exporter_sse_clients 0$/m.test((await timed('/metrics')).text), 15_000, { what: 'every SSE client released' });
    const after = await timed('/api/v1/sources');
    expect(after.status).toBe(200);
    console.log(
      `sse idle: ${CLIENTS} clients, RSS ${Math.round(rssBefore / 2 ** 20)} MiB before, ${Math.round(rss / 2 ** 20)} MiB with all connected; /metrics ${Math.round(metrics.ms)} ms, /api/v1/sources ${Math.round(sources.ms)} ms, /api/v1/tasks ${Math.round(tasks.ms)} ms; ${Date.now() - t0} ms in all`,
    );
    expect(rss).toBeLessThan(RSS_BOUND);
  }, 90_000);
});
