// @vitest-environment node
/**
 * EventStreamHub against a loopback HTTP server that speaks the exporter's SSE (docs/api.md
 * "Events": `retry:` + `: connected` preamble, `id:`/`event:`/`data:` frames, Last-Event-ID
 * replay from a window, `event: reset`, `event: reconnect` then the end, 429/503 limits), against
 * scripted fetch streams (byte-split parsing, idle timeout and timers, under fake timers), and
 * against the real exporter process.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Subscription } from 'rxjs';
import { waitUntil } from '../../exporter/src/util/wait-until.js';
import { GirarSimulator } from '../../exporter/src/sources/girar/simulator.js';
import { startReadyExporter, type ExporterProcess } from '../../test/support/exporter-process.js';
import { SseParser, type SseMessage } from './sse.js';
import { EventStreamHub, type StreamReset } from './stream.js';
import type { ExporterEvent } from './types.js';

const WAIT = 5000;

// ---------------------------------------------------------------------------------------------
// A loopback exporter: the event log, the window, the frames and the limits as the exporter has them.

interface SeenRequest {
  url: string;
  lastEventId: string | undefined;
  headers: IncomingMessage['headers'];
  status: number;
  closed: boolean;
  res: ServerResponse;
}

interface Scripted {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

class FakeExporter {
  readonly requests: SeenRequest[] = [];
  /** Answers for the next requests, in order (then streams). */
  readonly script: Scripted[] = [];
  private readonly log: ExporterEvent[] = [];
  private seq = 1000;
  private server!: Server;
  url = '';
  /** Events kept for replay. */
  windowSize = 1000;
  retryMs = 20;
  /** Replay from the Last-Event-ID itself (a server that overlaps by one): the hub must drop the duplicate. */
  replayInclusive = false;

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', resolve);
    });
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  get streams(): SeenRequest[] {
    return this.requests.filter((r) => r.status === 200);
  }

  get openStreams(): SeenRequest[] {
    return this.streams.filter((r) => !r.closed && !r.res.writableEnded);
  }

  get lastSeq(): number {
    return this.seq;
  }

  publish(type: string, source: string, extra: Partial<ExporterEvent> = {}): ExporterEvent {
    this.seq += 1;
    const event: ExporterEvent = { seq: this.seq, at: new Date(0).toISOString(), type, source, kind: 'girar', id: String(this.seq), ...extra };
    this.log.push(event);
    if (this.log.length > this.windowSize) this.log.shift();
    for (const r of this.openStreams) r.res.write(frame(event));
    return event;
  }

  /** Send raw text to every open stream. */
  writeRaw(text: string): void {
    for (const r of this.openStreams) r.res.write(text);
  }

  /** Tell every open stream to reconnect (as the exporter does) and end it. */
  reconnectAll(reason: string): void {
    for (const r of this.openStreams) r.res.end(`event: reconnect\ndata: ${JSON.stringify({ reason })}\n\n`);
  }

  /** Send `event: reconnect` but keep the responses open (a proxy holding the connection): the client must go by itself. */
  sayReconnect(reason: string): void {
    this.writeRaw(`event: reconnect\ndata: ${JSON.stringify({ reason })}\n\n`);
  }

  /** End every open stream without a word (a proxy timing out, a crash). */
  endAll(): void {
    for (const r of this.openStreams) r.res.end();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const header = req.headers['last-event-id'];
    const lastEventId = (Array.isArray(header) ? header[0] : header) ?? url.searchParams.get('last_event_id') ?? undefined;
    const seen: SeenRequest = { url: req.url ?? '', lastEventId, headers: req.headers, status: 200, closed: false, res };
    this.requests.push(seen);
    req.on('close', () => (seen.closed = true));
    if (url.pathname !== '/api/v1/events') return this.answer(seen, { status: 404, body: JSON.stringify({ error: `no route ${url.pathname}` }) });
    const scripted = this.script.shift();
    if (scripted) return this.answer(seen, scripted);
    if (lastEventId !== undefined && !/^\d{1,15}$/.test(lastEventId)) return this.answer(seen, { status: 400, body: JSON.stringify({ error: `bad Last-Event-ID ${lastEventId}` }) });
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no', Connection: 'keep-alive' });
    res.write(`retry: ${this.retryMs}\n: connected\n\n`);
    if (lastEventId === undefined) return;
    const last = Number(lastEventId);
    const oldest = this.log[0]?.seq ?? this.seq + 1;
    if (last < oldest - 1 || last > this.seq) {
      const reset = { oldest_seq: oldest, last_seq: this.seq, reason: `events after ${last} are no longer buffered (the oldest is ${oldest}); reload the state and continue from here` };
      res.write(`id: ${this.seq}\nevent: reset\ndata: ${JSON.stringify(reset)}\n\n`);
      return;
    }
    for (const e of this.log) if (e.seq > last || (this.replayInclusive && e.seq === last)) res.write(frame(e));
  }

  private answer(seen: SeenRequest, s: Scripted): void {
    seen.status = s.status;
    seen.res.writeHead(s.status, { 'Content-Type': 'application/json; charset=utf-8', ...s.headers });
    seen.res.end(s.body ?? JSON.stringify({ error: `status ${s.status}` }));
  }
}

function frame(e: ExporterEvent): string {
  return `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
}

interface Collected {
  events: ExporterEvent[];
  errors: unknown[];
  completed: boolean;
  sub: Subscription;
}

function collect(hub: EventStreamHub, filter?: Parameters<EventStreamHub['subscribe']>[0]): Collected {
  const c: Collected = { events: [], errors: [], completed: false, sub: undefined as unknown as Subscription };
  c.sub = hub.subscribe(filter).subscribe({ next: (e) => c.events.push(e), error: (e: unknown) => c.errors.push(e), complete: () => (c.completed = true) });
  return c;
}

const seqs = (events: ExporterEvent[]) => events.map((e) => e.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function setup(opts: { retryMs?: number } = {}): Promise<{ server: FakeExporter; hub: EventStreamHub }> {
  const server = await new FakeExporter().start();
  if (opts.retryMs !== undefined) server.retryMs = opts.retryMs;
  const hub = new EventStreamHub({ url: `${server.url}/`, minRetryMs: 10, maxRetryMs: 200, headers: { 'x-test': 'yes' } });
  cleanups.push(() => server.stop(), () => hub.close());
  return { server, hub };
}

// ---------------------------------------------------------------------------------------------

describe('EventStreamHub against a loopback exporter', () => {
  it('shares one connection among subscribers and filters for each', async () => {
    const { server, hub } = await setup();
    const all = collect(hub);
    const girar = collect(hub, { source: ['alt'] });
    const workers = collect(hub, { types: ['worker_*', 'task_removed'], source: [] });
    await waitUntil(() => server.streams.length === 1 && hub.connections === 1, WAIT, { what: 'the stream to open' });
    expect(server.streams[0]?.headers.accept).toBe('text/event-stream');
    expect(server.streams[0]?.headers['x-test']).toBe('yes');
    expect(server.streams[0]?.lastEventId).toBeUndefined();

    const published = [
      server.publish('task_new', 'alt'),
      server.publish('worker_new', 'koji'),
      server.publish('task_updated', 'koji'),
      server.publish('task_removed', 'alt'),
      server.publish('worker_updated', 'alt'),
    ];
    await waitUntil(() => all.events.length === 5, WAIT, { what: 'five events' });
    expect(all.events).toEqual(published);
    expect(girar.events.map((e) => [e.type, e.source])).toEqual([['task_new', 'alt'], ['task_removed', 'alt'], ['worker_updated', 'alt']]);
    expect(workers.events.map((e) => e.type)).toEqual(['worker_new', 'task_removed', 'worker_updated']);
    expect(server.requests).toHaveLength(1);
    expect(hub.connections).toBe(1);
    expect(hub.lastEventId).toBe(published[4]?.seq);
  });

  it('closes the connection when the last subscriber leaves and resumes with Last-Event-ID', async () => {
    const { server, hub } = await setup();
    const a = collect(hub);
    const b = collect(hub, { types: ['task_new'] });
    await waitUntil(() => server.openStreams.length === 1, WAIT, { what: 'the stream to open' });
    const first = server.publish('task_new', 'alt');
    await waitUntil(() => a.events.length === 1 && b.events.length === 1, WAIT, { what: 'the first event' });

    a.sub.unsubscribe();
    await Promise.resolve();
    expect(server.streams[0]?.closed).toBe(false);
    expect(hub.connections).toBe(1);
    b.sub.unsubscribe();
    await waitUntil(() => server.streams[0]?.closed && hub.connections === 0, WAIT, { what: 'the server to see the request closed' });
    expect(hub.lastEventId).toBe(first.seq);

    // Missed while nobody listened: replayed to the next subscriber, on a new connection.
    const missed = [server.publish('task_updated', 'alt'), server.publish('task_new', 'koji')];
    const c = collect(hub);
    await waitUntil(() => c.events.length === 2, WAIT, { what: 'the replay' });
    expect(server.streams).toHaveLength(2);
    expect(server.streams[1]?.lastEventId).toBe(String(first.seq));
    expect(c.events).toEqual(missed);
    const live = server.publish('task_removed', 'alt');
    await waitUntil(() => c.events.length === 3, WAIT, { what: 'a live event' });
    expect(c.events[2]).toEqual(live);
    expect(hub.connections).toBe(1);
    expect(server.openStreams).toHaveLength(1);
  });

  it('keeps the connection across an unsubscribe immediately followed by a subscribe', async () => {
    const { server, hub } = await setup();
    const a = collect(hub);
    await waitUntil(() => server.openStreams.length === 1, WAIT, { what: 'the stream to open' });
    a.sub.unsubscribe();
    const b = collect(hub);
    server.publish('task_new', 'alt');
    await waitUntil(() => b.events.length === 1, WAIT, { what: 'an event' });
    expect(server.requests).toHaveLength(1);
    expect(a.events).toHaveLength(0);
  });

  it.each([
    ['ends the stream', (s: FakeExporter) => s.endAll()],
    ['sends event: reconnect', (s: FakeExporter) => s.reconnectAll('max lifetime')],
  ])('reconnects with Last-Event-ID when the server %s, without losing or repeating events', async (_name, cut) => {
    const { server, hub } = await setup();
    const c = collect(hub);
    await waitUntil(() => server.openStreams.length === 1, WAIT, { what: 'the stream to open' });
    const before = [server.publish('task_new', 'alt'), server.publish('task_updated', 'alt')];
    await waitUntil(() => c.events.length === 2, WAIT, { what: 'two events' });
    // Several cuts in a row, with events published while disconnected.
    for (let round = 0; round < 3; round += 1) {
      const n = server.streams.length;
      cut(server);
      server.publish('task_updated', 'koji');
      server.publish('worker_updated', 'koji');
      await waitUntil(() => server.openStreams.length === 1 && server.streams.length === n + 1, WAIT, { what: `reconnect ${round + 1}` });
      server.publish('task_removed', 'alt');
    }
    await waitUntil(() => c.events.length === 2 + 3 * 3, WAIT, { what: 'every event' });
    expect(seqs(c.events)).toEqual(range(before[0]!.seq, server.lastSeq));
    // Each reconnect asked for exactly what followed the last event received.
    const ids = server.streams.map((r) => r.lastEventId);
    expect(ids[0]).toBeUndefined();
    expect(ids[1]).toBe(String(before[1]!.seq));
    for (const r of server.streams.slice(1)) expect(Number(r.lastEventId)).toBeGreaterThan(before[0]!.seq);
    expect(c.errors).toEqual([]);
    expect(hub.connections).toBe(1);
  });

  it('drops the connection itself on event: reconnect, even if the response stays open', async () => {
    const { server, hub } = await setup();
    const c = collect(hub);
    await waitUntil(() => server.openStreams.length === 1, WAIT, { what: 'the stream to open' });
    const first = server.publish('task_new', 'alt');
    await waitUntil(() => c.events.length === 1, WAIT, { what: 'an event' });
    server.sayReconnect('server shutting down');
    await waitUntil(() => server.streams[0]?.closed && server.streams.length === 2, WAIT, { what: 'the client to close and reconnect' });
    expect(server.streams[1]?.lastEventId).toBe(String(first.seq));
    const next = server.publish('task_updated', 'alt');
    await waitUntil(() => c.events.length === 2, WAIT, { what: 'an event on the new connection' });
    expect(c.events).toEqual([first, next]);
  });

  it('drops an event the server replays twice', async () => {
    const { server, hub } = await setup();
    server.replayInclusive = true;
    const c = collect(hub);
    await waitUntil(() => server.openStreams.length === 1, WAIT, { what: 'the stream to open' });
    server.publish('task_new', 'alt');
    await waitUntil(() => c.events.length === 1, WAIT, { what: 'an event' });
    server.endAll();
    server.publish('task_updated', 'alt');
    await waitUntil(() => c.events.length === 2 && server.openStreams.length === 1, WAIT, { what: 'the replay' });
    server.publish('task_removed', 'alt');
    await waitUntil(() => c.events.length === 3, WAIT, { what: 'a live event' });
    expect(seqs(c.events)).toEqual(range(server.lastSeq - 2, server.lastSeq));
  });

  it('notifies a reset (not as an event) and follows the stream after it', async () => {
    const { server, hub } = await setup();
    server.windowSize = 3;
    const resets: StreamReset[] = [];
    const resetSub = hub.resets.subscribe((r) => resets.push(r));
    cleanups.push(() => resetSub.unsubscribe());
    const a = collect(hub);
    await waitUntil(() => server.openStreams.length === 1, WAIT, { what: 'the stream to open' });
    server.publish('task_new', 'alt');
    await waitUntil(() => a.events.length === 1, WAIT, { what: 'an event' });
    a.sub.unsubscribe();
    await waitUntil(() => hub.connections === 0 && server.openStreams.length === 0, WAIT, { what: 'the connection to close' });
    for (let i = 0; i < 5; i += 1) server.publish('task_updated', 'alt'); // more than the window
    const b = collect(hub);
    await waitUntil(() => resets.length === 1, WAIT, { what: 'the reset' });
    expect(resets[0]).toMatchObject({ oldest_seq: server.lastSeq - 2, last_seq: server.lastSeq });
    expect(resets[0]?.reason).toMatch(/no longer buffered/);
    expect(hub.lastEventId).toBe(server.lastSeq);
    const live = server.publish('task_removed', 'alt');
    await waitUntil(() => b.events.length === 1, WAIT, { what: 'a live event after the reset' });
    expect(b.events).toEqual([live]);
  });

  it('errors the subscribers on 401 with what the server said, and stops', async () => {
    const { server, hub } = await setup();
    server.script.push({ status: 401, body: JSON.stringify({ error: 'missing or wrong bearer token' }) });
    const a = collect(hub);
    const b = collect(hub, { source: ['alt'] });
    await waitUntil(() => a.errors.length === 1 && b.errors.length === 1, WAIT, { what: 'the error' });
    const err = a.errors[0] as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/HTTP 401 .*missing or wrong bearer token/);
    expect(err.message).toContain('/api/v1/events');
    expect(b.errors[0]).toBe(err);
    expect(hub.connections).toBe(0);
    expect(server.requests).toHaveLength(1);
    // A later subscriber tries again.
    const c = collect(hub);
    await waitUntil(() => server.openStreams.length === 1, WAIT, { what: 'a new stream' });
    server.publish('task_new', 'alt');
    await waitUntil(() => c.events.length === 1, WAIT, { what: 'an event' });
    expect(a.events).toEqual([]);
  });

  it('backs off and retries on 503 and 429', async () => {
    const { server, hub } = await setup();
    server.script.push(
      { status: 503, body: JSON.stringify({ error: 'too many event-stream connections (the limit is 1); retry later' }), headers: { 'Retry-After': '3' } },
      { status: 429, body: JSON.stringify({ error: 'too many event-stream connections from 127.0.0.1' }), headers: { 'Retry-After': '3' } },
      { status: 502, body: 'Bad Gateway' },
    );
    const c = collect(hub);
    await waitUntil(() => server.openStreams.length === 1, WAIT, { what: 'the stream after the refusals' });
    expect(server.requests.map((r) => r.status)).toEqual([503, 429, 502, 200]);
    server.publish('task_new', 'alt');
    await waitUntil(() => c.events.length === 1, WAIT, { what: 'an event' });
    expect(c.errors).toEqual([]);
  });

  it('retries when the server cannot be reached, then connects', async () => {
    const server = await new FakeExporter().start();
    const url = server.url;
    await server.stop();
    const hub = new EventStreamHub({ url, minRetryMs: 10, maxRetryMs: 50 });
    cleanups.push(() => hub.close());
    const c = collect(hub);
    await waitUntil(() => hub.connections === 0, WAIT, { what: 'the first attempt to fail' });
    // Same port again: the hub keeps trying until it is back.
    const again = await new FakeExporter().start(Number(new URL(url).port));
    cleanups.push(() => again.stop());
    await waitUntil(() => again.openStreams.length === 1, WAIT, { what: 'the stream once the server is back' });
    again.publish('task_new', 'alt');
    await waitUntil(() => c.events.length === 1, WAIT, { what: 'an event' });
  });

  it('errors on a response that is not an event stream', async () => {
    const server = await new FakeExporter().start();
    const hub = new EventStreamHub({ url: `${server.url}/not-the-exporter`, minRetryMs: 10 });
    cleanups.push(() => server.stop(), () => hub.close());
    const c = collect(hub);
    await waitUntil(() => c.errors.length === 1, WAIT, { what: 'the error' });
    expect((c.errors[0] as Error).message).toMatch(/HTTP 404.*no route \/not-the-exporter\/api\/v1\/events/);

    const html = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>login</html>');
    });
    await new Promise<void>((resolve) => html.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => html.close(resolve)));
    const hub2 = new EventStreamHub({ url: `http://127.0.0.1:${(html.address() as AddressInfo).port}`, minRetryMs: 10 });
    cleanups.push(() => hub2.close());
    const d = collect(hub2);
    await waitUntil(() => d.errors.length === 1, WAIT, { what: 'the error' });
    expect((d.errors[0] as Error).message).toMatch(/expected text\/event-stream, got text\/html/);
  });

  it('skips malformed data and odd frames without losing the stream; parses CRLF, comments, multi-line data', async () => {
    const { server, hub } = await setup();
    const c = collect(hub);
    await waitUntil(() => server.openStreams.length === 1, WAIT, { what: 'the stream to open' });
    const ok1 = { seq: 5001, at: 'x', type: 'task_new', source: 'alt', kind: 'girar', id: '1' };
    const ok2 = { seq: 5002, at: 'x', type: 'task_updated', source: 'alt', kind: 'girar', id: '2', owner: 'ü✓' };
    server.writeRaw('id: 5000\r\nevent: task_new\r\ndata: {"seq":5000,"type":"task_new", oops\r\n\r\n');
    server.writeRaw(': a comment\r\nevent: heartbeat\r\ndata: 1795502574\r\n\r\n');
    server.writeRaw(`id: 5001\nevent: task_new\ndata: ${JSON.stringify(ok1)}\n\n`);
    server.writeRaw('event: task_new\ndata: [1,2,3]\n\nevent: task_new\ndata: {"seq":"no"}\n\n');
    const multi = JSON.stringify(ok2, null, 1).split('\n').map((l) => `data: ${l}`).join('\r');
    server.writeRaw(`id: 5002\revent: task_updated\r${multi}\r\r`);
    await waitUntil(() => c.events.length === 2, WAIT, { what: 'the two good events' });
    expect(c.events).toEqual([ok1, ok2]);
    expect(hub.lastEventId).toBe(5002);
    expect(c.errors).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });
});

// ---------------------------------------------------------------------------------------------
// Scripted fetch: deterministic chunking and fake timers.

interface FakeConnection {
  init: RequestInit;
  headers: Record<string, string>;
  push(text: string | Uint8Array): void;
  end(): void;
  cancelled: boolean;
  aborted: boolean;
}

function scriptedFetch() {
  const connections: FakeConnection[] = [];
  const encoder = new TextEncoder();
  const fn = (async (_input: RequestInfo | URL, init?: RequestInit) => {
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const conn: FakeConnection = {
      init: init ?? {},
      headers: { ...(init?.headers as Record<string, string>) },
      push: (t) => controller.enqueue(typeof t === 'string' ? encoder.encode(t) : t),
      end: () => controller.close(),
      cancelled: false,
      aborted: false,
    };
    const body = new ReadableStream<Uint8Array>({
      start: (c) => void (controller = c),
      cancel: () => void (conn.cancelled = true),
    });
    init?.signal?.addEventListener('abort', () => {
      conn.aborted = true;
      try {
        controller.error(new DOMException('aborted', 'AbortError'));
      } catch {
        /* already closed */
      }
    });
    connections.push(conn);
    return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream; charset=utf-8' } });
  }) as typeof fetch;
  return { fn, connections };
}

const SAMPLE_EVENTS: ExporterEvent[] = [
  { seq: 7, at: '2026-11-24T06:42:54Z', type: 'task_new', source: 'alt', kind: 'girar', id: '411523', owner: 'grenka' },
  { seq: 8, at: '2026-11-24T06:42:55Z', type: 'task_updated', source: 'alt', kind: 'girar', id: '411523', owner: 'Ёлка ✓ 😀', repo: 'p10' },
  { seq: 9, at: '2026-11-24T06:42:56Z', type: 'worker_updated', source: 'koji', kind: 'koji', id: 'b1' },
];

/** A stream with a BOM, every line ending, comments, multi-line data, junk and non-ASCII. */
const SAMPLE_STREAM =
  '\uFEFFretry: 3000\r\n: connected\r\n\r\n' +
  `id: 7\nevent: task_new\ndata: ${JSON.stringify(SAMPLE_EVENTS[0])}\n\n` +
  'event: heartbeat\r\ndata: 1795502574\r\n\r\n' +
  'id: 7\nevent: task_new\ndata: {"broken\n\n' +
  `: comment\rid: 8\revent: task_updated\r${JSON.stringify(SAMPLE_EVENTS[1], null, 2)
    .split('\n')
    .map((l) => `data:${l}`)
    .join('\r')}\r\r` +
  'unknownfield: x\nid\nid: 9\n' +
  `event: worker_updated\r\ndata: ${JSON.stringify(SAMPLE_EVENTS[2])}\r\n\r\n` +
  'event: task_new\ndata: {"seq":10,"type":"task_new","source":"alt","kind":"girar","id":"unterminated"}\n';

describe('EventStreamHub with a scripted fetch', () => {
  it('parses the sample stream the same whatever the chunking (every byte its own chunk)', async () => {
    const bytes = new TextEncoder().encode(SAMPLE_STREAM);
    for (const chunking of ['whole', 'bytes'] as const) {
      const { fn, connections } = scriptedFetch();
      const hub = new EventStreamHub({ url: 'http://exporter', fetch: fn, minRetryMs: 10, maxRetryMs: 20 });
      cleanups.push(() => hub.close());
      const c = collect(hub);
      await waitUntil(() => connections.length === 1, WAIT, { what: 'fetch' });
      const conn = connections[0]!;
      if (chunking === 'whole') conn.push(bytes);
      else for (let i = 0; i < bytes.length; i += 1) conn.push(bytes.slice(i, i + 1));
      await waitUntil(() => c.events.length === 3, WAIT, { what: `three events (${chunking})` });
      expect(c.events, chunking).toEqual(SAMPLE_EVENTS);
      expect(hub.lastEventId).toBe(9);
      conn.end();
      // The unterminated last event is discarded; the reconnect resumes after 9.
      await waitUntil(() => connections.length === 2, WAIT, { what: 'the reconnect' });
      expect(connections[1]?.headers['Last-Event-ID']).toBe('9');
      expect(c.events).toHaveLength(3);
      hub.close();
      expect(c.completed).toBe(true);
    }
  });

  it('aborts and reconnects a silent connection, and leaves no timer after close', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const { fn, connections } = scriptedFetch();
    const hub = new EventStreamHub({ url: 'http://exporter', fetch: fn, minRetryMs: 1000, maxRetryMs: 30_000 });
    cleanups.push(() => hub.close());
    const c = collect(hub);
    await vi.advanceTimersByTimeAsync(0);
    expect(connections).toHaveLength(1);
    connections[0]!.push(`retry: 3000\n: connected\n\nid: 41\nevent: task_new\ndata: ${JSON.stringify({ ...SAMPLE_EVENTS[0], seq: 41 })}\n\n`);
    // Heartbeats every 15 s keep it open well past 90 s.
    for (let t = 0; t < 10; t += 1) {
      await vi.advanceTimersByTimeAsync(15_000);
      connections[0]!.push('event: heartbeat\ndata: 1\n\n');
    }
    expect(connections).toHaveLength(1);
    expect(hub.connections).toBe(1);
    // Silence: aborted after 90 s, then reconnected after the server's retry (3 s, up to 1.5x with jitter).
    await vi.advanceTimersByTimeAsync(89_000);
    expect(connections[0]!.aborted || connections[0]!.cancelled).toBe(false);
    await vi.advanceTimersByTimeAsync(1_500);
    expect(connections[0]!.aborted || connections[0]!.cancelled).toBe(true);
    expect(hub.connections).toBe(0);
    expect(vi.getTimerCount()).toBe(1); // the retry
    // Aborted at +90 s, now +90.5 s: the retry comes between +93 s and +94.5 s.
    await vi.advanceTimersByTimeAsync(2_400);
    expect(connections).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_600);
    expect(connections).toHaveLength(2);
    expect(connections[1]!.headers['Last-Event-ID']).toBe('41');
    expect(hub.connections).toBe(1);

    hub.close();
    expect(c.completed).toBe(true);
    expect(hub.connections).toBe(0);
    expect(connections[1]!.aborted).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('backs off exponentially with jitter up to maxRetryMs, resets after data, and cancels the wait on unsubscribe', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const attempts: number[] = [];
    let status = 503;
    const inner = scriptedFetch();
    const fn = (async (input: RequestInfo | URL, init?: RequestInit) => {
      attempts.push(Date.now());
      if (status !== 200) return new Response('{"error":"busy"}', { status });
      return inner.fn(input, init);
    }) as typeof fetch;
    const hub = new EventStreamHub({ url: 'http://exporter', fetch: fn, minRetryMs: 1000, maxRetryMs: 8000 });
    cleanups.push(() => hub.close());
    const c = collect(hub);
    await vi.advanceTimersByTimeAsync(0);
    for (let i = 0; i < 6; i += 1) await vi.advanceTimersByTimeAsync(12_000);
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
    // 1000·2^n, times 1..1.5, capped at 8000.
    const expected = [1000, 2000, 4000, 8000, 8000];
    expected.forEach((e, i) => {
      expect(gaps[i]).toBeGreaterThanOrEqual(e);
      expect(gaps[i]).toBeLessThanOrEqual(Math.min(8000, e * 1.5));
    });
    // A working connection resets the backoff.
    status = 200;
    await vi.advanceTimersByTimeAsync(8000);
    expect(inner.connections).toHaveLength(1);
    inner.connections[0]!.push(': connected\n\n');
    await vi.advanceTimersByTimeAsync(0);
    inner.connections[0]!.end();
    await vi.advanceTimersByTimeAsync(0);
    const ended = Date.now();
    await vi.advanceTimersByTimeAsync(1500);
    expect(inner.connections).toHaveLength(2);
    expect(attempts.at(-1)! - ended).toBeLessThanOrEqual(1500);
    // Unsubscribing during a wait leaves nothing pending.
    status = 503;
    inner.connections[1]!.end();
    await vi.advanceTimersByTimeAsync(0);
    expect(vi.getTimerCount()).toBe(1);
    c.sub.unsubscribe();
    await vi.advanceTimersByTimeAsync(0);
    expect(vi.getTimerCount()).toBe(0);
    expect(hub.connections).toBe(0);
    const n = attempts.length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(attempts).toHaveLength(n);
  });

  it('leaves no timer after a fatal 401', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    let calls = 0;
    const fn = (async () => {
      calls += 1;
      return new Response('{"error":"unauthorized"}', { status: 401, statusText: 'Unauthorized' });
    }) as typeof fetch;
    const hub = new EventStreamHub({ url: 'http://exporter', fetch: fn });
    cleanups.push(() => hub.close());
    const c = collect(hub);
    await vi.advanceTimersByTimeAsync(0);
    expect((c.errors[0] as Error).message).toBe('event stream http://exporter/api/v1/events: HTTP 401 Unauthorized: unauthorized');
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(calls).toBe(1);
  });

  it('refuses subscribers after close', async () => {
    const hub = new EventStreamHub({ url: 'http://exporter', fetch: scriptedFetch().fn });
    hub.close();
    const c = collect(hub);
    expect((c.errors[0] as Error).message).toMatch(/closed/);
    expect(hub.connections).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------

describe('SseParser', () => {
  function parseAll(chunks: string[]): { messages: SseMessage[]; retries: number[]; comments: string[]; ids: string[] } {
    const out = { messages: [] as SseMessage[], retries: [] as number[], comments: [] as string[], ids: [] as string[] };
    const p = new SseParser({
      onMessage: (m) => out.messages.push(m),
      onRetry: (ms) => out.retries.push(ms),
      onComment: (t) => out.comments.push(t),
      onLastEventId: (id) => out.ids.push(id),
    });
    for (const c of chunks) p.push(c);
    p.end();
    return out;
  }

  const whole = parseAll([SAMPLE_STREAM]);

  it('reads the sample stream', () => {
    expect(whole.retries).toEqual([3000]);
    expect(whole.comments).toEqual(['connected', 'comment']);
    expect(whole.messages.map((m) => [m.type, m.lastEventId])).toEqual([
      ['task_new', '7'],
      ['heartbeat', '7'],
      ['task_new', '7'],
      ['task_updated', '8'],
      ['worker_updated', '9'],
    ]);
    expect(JSON.parse(whole.messages[3]!.data)).toEqual(SAMPLE_EVENTS[1]);
    expect(whole.messages[2]?.data).toBe('{"broken');
  });

  it('gives the same result for a split at every position and for one-character chunks', () => {
    for (let i = 0; i <= SAMPLE_STREAM.length; i += 1) {
      expect(parseAll([SAMPLE_STREAM.slice(0, i), SAMPLE_STREAM.slice(i)]), `split at ${i}`).toEqual(whole);
    }
    expect(parseAll([...SAMPLE_STREAM])).toEqual(whole);
  });

  it('follows the standard on fields, ids, data and line ends', () => {
    const r = parseAll([
      'data\n\n', // a field with no colon: empty data, still an event
      'data:x\ndata\ndata: y\n\n', // no space after the colon; an empty data line
      'data:  two spaces\n\n',
      'event: custom\nid: 1\n\n', // no data: no event, but the id changes
      'data: a\r\n\r\n',
      'id\ndata: b\n\n', // `id` alone clears the last event id
      'id: 3\u00004\ndata: c\n\n', // an id with NUL is ignored
      'retry: 10x\nretry: 250\n\n',
      '\uFEFFdata: a BOM after the start is part of the field name\n\n',
      'data: pending',
    ]);
    expect(r.messages).toEqual([
      { type: 'message', data: '', lastEventId: '' },
      { type: 'message', data: 'x\n\ny', lastEventId: '' },
      { type: 'message', data: ' two spaces', lastEventId: '' },
      { type: 'message', data: 'a', lastEventId: '1' },
      { type: 'message', data: 'b', lastEventId: '' },
      { type: 'message', data: 'c', lastEventId: '' },
    ]);
    expect(r.ids).toEqual(['1']);
    expect(r.retries).toEqual([250]);
  });

  it('treats CR, LF and CRLF (even split across chunks) as one line end each', () => {
    const texts = ['data: 1\r\n\r\ndata: 2\r\rdata: 3\n\n', 'data: 4\r', '\n\r', '\ndata: 5\r\r\n'];
    const r = parseAll(texts);
    expect(r.messages.map((m) => m.data)).toEqual(['1', '2', '3', '4', '5']);
  });
});

// ---------------------------------------------------------------------------------------------

/**
 * The real exporter process (exporter/dist/main.js; `npm run -s build` first) following the girar
 * simulator that demo mode runs (the same class, stepping every 300 ms). Not `--demo` itself: the
 * demo farm also generates a girar /tasks tree on disk, which takes 6-30 s to start on a loaded
 * machine, too slow for this file's budget.
 */
describe('EventStreamHub against the real exporter', () => {
  let exporter: ExporterProcess | undefined;
  let sim: GirarSimulator | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await exporter?.stop();
    sim?.stop();
    await sim?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    exporter = undefined;
    sim = undefined;
    dir = undefined;
  });

  it('follows a girar source, shares one connection, and resumes after a gap without loss', async () => {
    sim = new GirarSimulator({ seed: 1 });
    const upstream = await sim.listen(0, '127.0.0.1');
    sim.start({ stepMs: 300 });
    dir = await mkdtemp(join(tmpdir(), 'buildscope-stream-'));
    const config = join(dir, 'buildscope.yaml');
    await writeFile(config, ['sources:', '  - name: alt', '    kind: girar', `    url: ${upstream}`, '    interval: 1s', '    timeout: 3s', ''].join('\n'));
    exporter = await startReadyExporter(config, ['--log.level=warn']);

    const hub = new EventStreamHub({ url: exporter.url, minRetryMs: 50, maxRetryMs: 500 });
    cleanups.push(() => hub.close());
    const all = collect(hub);
    const updates = collect(hub, { types: ['task_updated'] });
    const none = collect(hub, { source: ['koji'] });
    await waitUntil(() => all.events.length >= 3 && updates.events.length >= 1, 10_000, { what: 'events from the exporter' });
    expect(hub.connections).toBe(1);
    for (const e of all.events) {
      expect(e).toMatchObject({ seq: expect.any(Number), at: expect.any(String), type: expect.stringMatching(/^task_/), source: 'alt', kind: 'girar', id: expect.any(String) });
    }
    expect(seqs(all.events)).toEqual(range(all.events[0]!.seq, all.events.at(-1)!.seq));
    expect(updates.events.every((e) => e.type === 'task_updated')).toBe(true);
    expect(none.events).toEqual([]);
    // One connection for three subscribers: the exporter counts its SSE clients.
    const metrics = await (await fetch(`${exporter.url}/metrics`)).text();
    expect(/^buildfarm_exporter_sse_clients (\d+)$/m.exec(metrics)?.[1]).toBe('1');

    all.sub.unsubscribe();
    updates.sub.unsubscribe();
    none.sub.unsubscribe();
    await waitUntil(() => hub.connections === 0, WAIT, { what: 'the connection to close' });
    await waitUntil(async () => /^buildfarm_exporter_sse_clients 0$/m.test(await (await fetch(`${exporter!.url}/metrics`)).text()), WAIT, { what: 'the exporter to see the client gone' });
    const last = hub.lastEventId!;
    expect(last).toBe(all.events.at(-1)!.seq);

    // Events happen while nobody listens; resuming replays them from Last-Event-ID.
    const probeHub = new EventStreamHub({ url: exporter.url });
    cleanups.push(() => probeHub.close());
    const probe = collect(probeHub);
    await waitUntil(() => probe.events.length >= 1, 10_000, { what: 'an event during the gap' });
    probe.sub.unsubscribe();
    const again = collect(hub);
    await waitUntil(() => again.events.length >= 2 && again.events.at(-1)!.seq > probe.events[0]!.seq, 10_000, { what: 'events after resuming' });
    expect(again.events[0]!.seq).toBe(last + 1);
    expect(seqs(again.events)).toEqual(range(last + 1, again.events.at(-1)!.seq));
  });
});
