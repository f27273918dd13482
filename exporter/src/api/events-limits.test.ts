/** SSE limits and teardown against a real server: connection caps, heartbeats, lifetime, slow consumers. */
import { afterEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../util/wait-until.js';
import { sseStats } from './events.js';
import { SseHarness, type SseTestClient } from './sse-test-client.js';
import { buildTestApi, parseRawResponses, rawHttp } from './test-helpers.js';

const PATH = '/api/v1/events';
const h = new SseHarness();
afterEach(() => h.cleanup());

async function connected(c: SseTestClient): Promise<SseTestClient> {
  expect(c.status).toBe(200);
  await waitUntil(() => c.frames.length >= 1, 5000, { what: 'the preamble' });
  return c;
}

describe('connection limits', () => {
  it('answers 429 beyond the per-IP limit, and frees the slot on close', async () => {
    await h.serve({ events: { max_connections_per_ip: 2 } });
    const first = await connected(await h.connect());
    await connected(await h.connect());
    const third = await h.connect();
    expect(third.status).toBe(429);
    expect(third.headers['content-type']).toMatch(/^application\/json/);
    expect(third.headers['retry-after']).toBe('3');
    expect(await third.json()).toEqual({ error: 'too many event-stream connections from 127.0.0.1 (the limit is 2 per client); close some or share one connection' });
    expect(sseStats().clients).toBe(2);

    first.close();
    await waitUntil(() => sseStats().clients === 1, 5000, { what: 'the closed stream to be released' });
    await connected(await h.connect());
  });

  it('answers 503 beyond the global limit', async () => {
    await h.serve({ events: { max_connections: 2, max_connections_per_ip: 10 } });
    await connected(await h.connect());
    await connected(await h.connect());
    const third = await h.connect();
    expect(third.status).toBe(503);
    expect(await third.json()).toEqual({ error: 'too many event-stream connections (the limit is 2); retry later' });
  });

  it('counts per ip_header only when the peer is a trusted proxy', async () => {
    await h.serve({ events: { max_connections_per_ip: 1, trusted_proxies: ['127.0.0.1'] } });
    await connected(await h.connect(PATH, { 'X-Real-IP': '198.51.100.1' }));
    await connected(await h.connect(PATH, { 'X-Real-IP': '198.51.100.2' }));
    const again = await h.connect(PATH, { 'X-Real-IP': '198.51.100.1' });
    expect(again.status).toBe(429);
    expect(await again.json()).toEqual({ error: 'too many event-stream connections from 198.51.100.1 (the limit is 1 per client); close some or share one connection' });
  });

  it('ignores ip_header from an untrusted peer', async () => {
    await h.serve({ events: { max_connections_per_ip: 1, trusted_proxies: ['192.0.2.1'] } });
    await connected(await h.connect(PATH, { 'X-Real-IP': '198.51.100.1' }));
    const spoofed = await h.connect(PATH, { 'X-Real-IP': '198.51.100.2' });
    expect(spoofed.status).toBe(429);
  });
});

describe('HEAD /api/v1/events', () => {
  const HEAD = (path: string, headers = '') => `HEAD ${path} HTTP/1.1\r\nHost: test\r\n${headers}\r\n`;
  const GET_HEALTHY_AND_CLOSE = 'GET /-/healthy HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n';

  it('answers the stream headers and ends at once, holding no slot: the next request on the connection is served', async () => {
    const { store } = await h.serve({ events: { max_connections: 1, max_connections_per_ip: 1 } });
    // Pipelined: /-/healthy is answered only once the HEAD response has ended.
    const [head, healthy, ...more] = parseRawResponses(await rawHttp(h.url, HEAD(PATH) + GET_HEALTHY_AND_CLOSE));
    expect(head).toMatchObject({ status: 200, body: '' });
    expect(head?.headers).toMatchObject({ 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    expect(healthy).toMatchObject({ status: 200, body: '{"status":"ok"}' });
    expect(more).toEqual([]);
    expect(sseStats().clients).toBe(0);
    expect(store.events.subscriberCount).toBe(0);
    // The one slot is still free for a stream, and HEAD then reports the limit like GET would.
    await connected(await h.connect());
    const [full] = parseRawResponses(await rawHttp(h.url, HEAD(PATH, 'Connection: close\r\n')));
    expect(full?.status).toBe(503);
    expect(sseStats().clients).toBe(1);
  });

  it('checks the parameters like GET', async () => {
    await h.serve();
    const [bad] = parseRawResponses(await rawHttp(h.url, HEAD(`${PATH}?last_event_id=Infinity`, 'Connection: close\r\n')));
    expect(bad?.status).toBe(400);
    expect(bad?.headers['content-type']).toMatch(/^application\/json/);
    expect(sseStats().clients).toBe(0);
  });

  it('completes through inject', async () => {
    const t = await buildTestApi();
    try {
      const res = await Promise.race([
        t.app.inject({ method: 'HEAD', url: `${PATH}?source=alt&last_event_id=3` }),
        new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error('HEAD /api/v1/events did not complete')), 2000).unref()),
      ]);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      expect(res.body).toBe('');
      expect(sseStats().clients).toBe(0);
      expect(t.store.events.subscriberCount).toBe(0);
    } finally {
      await t.app.close();
    }
  });
});

describe('timers', () => {
  it('sends heartbeats with Unix seconds and no id', async () => {
    const { clock } = await h.serve({ events: { heartbeatSeconds: 0.02 } });
    const c = await connected(await h.connect());
    const [beat] = await c.waitForEvents(2, 'heartbeat');
    expect(beat).toEqual({ event: 'heartbeat', data: String(Math.floor(clock.now() / 1000)), comments: [] });
    expect(c.events().every((f) => f.event === 'heartbeat' && f.id === undefined)).toBe(true);
  });

  it('asks the client to reconnect after the maximum lifetime and releases everything', async () => {
    const { store } = await h.serve({ events: { maxLifetimeSeconds: 0.05 } });
    const c = await connected(await h.connect());
    await waitUntil(() => c.ended, 5000, { what: 'the stream to end' });
    expect(c.events()).toEqual([{ event: 'reconnect', data: '{"reason":"max lifetime"}', comments: [] }]);
    expect(store.events.subscriberCount).toBe(0);
    await waitUntil(() => sseStats().clients === 0);
  });
});

describe('teardown', () => {
  it('unsubscribes when the client goes away', async () => {
    const { store } = await h.serve();
    const clients = [await connected(await h.connect()), await connected(await h.connect())];
    expect(store.events.subscriberCount).toBe(2);
    expect(sseStats().clients).toBe(2);
    for (const c of clients) c.close();
    await waitUntil(() => store.events.subscriberCount === 0 && sseStats().clients === 0, 5000, { what: 'subscriptions to be released' });
    h.touch('411555', 'DONE');
    expect(store.events.subscriberCount).toBe(0);
  });

  it('ends open streams with reconnect when the app closes', async () => {
    const { app, store } = await h.serve();
    const c = await connected(await h.connect());
    await app.close();
    await waitUntil(() => c.ended, 5000, { what: 'the stream to end' });
    expect(c.events()).toEqual([{ event: 'reconnect', data: '{"reason":"server shutting down"}', comments: [] }]);
    expect(store.events.subscriberCount).toBe(0);
  });

  it('tells a slow consumer to reconnect, keeps memory bounded, and loses nothing on resume', async () => {
    const { store } = await h.serve({ events: { client_buffer: 4 } });
    const slow = await connected(await h.connect());
    const before = sseStats();
    slow.pause();
    // Events big enough to fill the kernel's socket buffers quickly, then the 4-event queue.
    const owner = 'x'.repeat(256 * 1024);
    let pushed = 0;
    while (sseStats().dropped_slow === before.dropped_slow) {
      store.events.append({ at: '2026-03-16T12:00:00Z', type: 'task_updated', source: 'alt', kind: 'girar', id: String(pushed), owner });
      pushed += 1;
      if (pushed > 2000) throw new Error('the slow consumer was never dropped');
    }
    expect(store.events.subscriberCount).toBe(0);
    store.events.append({ at: '2026-03-16T12:00:00Z', type: 'task_updated', source: 'alt', kind: 'girar', id: 'after', owner });
    const after = sseStats();
    expect(after.dropped_slow).toBe(before.dropped_slow + 1);
    // Sent: what reached the socket; the last 5 pushed (4 queued + the one that overflowed) were not.
    expect(after.sent - before.sent).toBe(pushed - 5);

    slow.resume();
    await waitUntil(() => slow.ended, 10_000, { what: 'the slow stream to end' });
    const events = slow.events();
    expect(events.at(-1)).toEqual({ event: 'reconnect', data: '{"reason":"slow consumer"}', comments: [] });
    const received = events.slice(0, -1).map((f) => Number(f.id));
    const firstSeq = store.events.lastSeq - pushed;
    expect(received).toEqual(Array.from({ length: pushed - 5 }, (_, i) => firstSeq + i));

    const resumed = await connected(await h.connect(`${PATH}?type=task_updated`, { 'Last-Event-ID': String(received.at(-1)) }));
    // A replay longer than client_buffer is not a slow consumer: it comes from the shared log.
    await resumed.waitForEvents(6);
    expect(resumed.events().map((f) => Number(f.id))).toEqual(Array.from({ length: 6 }, (_, i) => firstSeq + pushed - 5 + i));
    expect(resumed.ended).toBe(false);
    expect(sseStats().dropped_slow).toBe(after.dropped_slow);
  });
});
