/** taskoteka's SSE stream per source, against a real listening server. */
import { afterEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../util/wait-until.js';
import { sseStats } from '../events.js';
import { SseHarness } from '../sse-test-client.js';
import { girarTask, type TestApiOptions } from '../test-helpers.js';
import { FakeTaskotekaBackend } from './test-helpers.js';

const PATH = '/compat/taskoteka/alt/events';
const h = new SseHarness();
let backend: FakeTaskotekaBackend;

function serve(options: TestApiOptions = {}) {
  backend = new FakeTaskotekaBackend();
  return h.serve({ taskotekaBackends: new Map([['alt', backend], ['beta', new FakeTaskotekaBackend()]]), ...options });
}

afterEach(async () => {
  await h.cleanup();
});

describe('GET /compat/taskoteka/<source>/events', () => {
  it("sends taskoteka's frames for this source's task changes only, with ids", async () => {
    const { store } = await serve();
    const c = await h.connect(PATH);
    expect(c.status).toBe(200);
    expect(c.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(c.headers['cache-control']).toBe('no-store');
    expect(c.headers['x-accel-buffering']).toBe('no');
    expect(c.headers['x-api-version']).toBe('1.5.0');
    expect(c.headers['x-cache-age']).toBe('3');
    await waitUntil(() => store.events.subscriberCount === 1);

    const updated = h.touch('411555', 'FAILING');
    store.apply('fedora', 'koji', { type: 'delta', tasks: [{ source: 'fedora', kind: 'koji', id: '7003', state: 'FREE', phase: 'queued', archs: [], subtasks: [] }] });
    store.apply('beta', 'girar', { type: 'delta', tasks: [girarTask('1', 'NEW', 'p11', 'x', { source: 'beta' })] });
    const [added, removed] = store.apply('alt', 'girar', { type: 'delta', tasks: [girarTask('500000', 'NEW', 'sisyphus', 'lav')], removedTaskIds: ['411600'] });
    const frames = await c.waitForEvents(3);
    expect(frames).toEqual([
      { id: String(updated.seq), event: 'task_updated', data: '{"id":411555,"state":"FAILING","prev_state":"BUILDING","owner":"rider"}', comments: [] },
      { id: String(added?.seq), event: 'task_new', data: '{"id":500000,"state":"NEW","owner":"lav"}', comments: [] },
      { id: String(removed?.seq), event: 'task_removed', data: '{"id":411600}', comments: [] },
    ]);
  });

  it('sends heartbeats with Unix seconds', async () => {
    const { clock } = await serve({ events: { heartbeatSeconds: 0.05 } });
    const c = await h.connect(PATH);
    const [beat] = await c.waitForEvents(1, 'heartbeat');
    expect(beat).toEqual({ event: 'heartbeat', data: String(Math.floor(clock.now() / 1000)), comments: [] });
  });

  it('replays what a client missed after Last-Event-ID and ignores an id it never handed out', async () => {
    await serve();
    const first = h.touch('411555', 'FAILING');
    const second = h.touch('411555', 'FAILED');
    const resumed = await h.connect(PATH, { 'last-event-id': String(first.seq - 1) });
    expect((await resumed.waitForEvents(2)).map((f) => f.id)).toEqual([String(first.seq), String(second.seq)]);
    const junk = await h.connect(PATH, { 'last-event-id': 'not-an-id' });
    expect(junk.status).toBe(200);
  });

  it('tells clients to reconnect when the exporter shuts down', async () => {
    const { app } = await serve();
    const c = await h.connect(PATH);
    await waitUntil(() => sseStats().clients === 1);
    const closing = app.close();
    const [frame] = await c.waitForEvents(1, 'reconnect');
    expect(frame?.data).toBe('{"reason":"server shutting down"}');
    await closing;
  });

  it('shares the connection limits with the main stream: 429 per IP, 503 in all', async () => {
    await serve({ events: { max_connections_per_ip: 1 } });
    await h.connect('/api/v1/events');
    const perIp = await h.connect(PATH);
    expect(perIp.status).toBe(429);
    expect(perIp.headers['x-api-version']).toBe('1.5.0');
    expect(perIp.headers['content-type']).toBe('application/json');
    expect(await perIp.json()).toMatchObject({ error: expect.stringMatching(/too many event-stream connections from/) });
    await h.cleanup();

    await serve({ events: { max_connections: 1 } });
    await h.connect(PATH);
    const global = await h.connect(PATH);
    expect(global.status).toBe(503);
  });

  it('answers HEAD with the stream headers at once, and 404 for an unknown source', async () => {
    await serve();
    const head = await fetch(`${h.url}${PATH}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(head.headers.get('x-api-version')).toBe('1.5.0');
    expect(sseStats().clients).toBe(0);
    const unknown = await h.connect('/compat/taskoteka/fedora/events');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: 'no girar source named "fedora"; configured: alt, beta' });
  });
});
