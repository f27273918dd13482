/** SSE against a real listening server and raw HTTP clients: no inject, no fixed sleeps. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { waitUntil } from '../util/wait-until.js';
import { sseStats } from './events.js';
import { SseHarness, type SseTestClient } from './sse-test-client.js';
import { girarTask, type TestApiOptions } from './test-helpers.js';

const PATH = '/api/v1/events';
const h = new SseHarness();
const serve = (options?: TestApiOptions) => h.serve(options);
const connect = (path?: string, headers?: Record<string, string>) => h.connect(path, headers);
const touch = (id: string, state: string) => h.touch(id, state);
const ids = (c: SseTestClient) => c.events().map((f) => Number(f.id));

afterEach(async () => {
  vi.restoreAllMocks();
  await h.cleanup();
});

describe('GET /api/v1/events: stream basics', () => {
  it('sends the SSE headers, the preamble and live events with ids', async () => {
    const { store } = await serve();
    const c = await connect();
    expect(c.status).toBe(200);
    expect(c.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(c.headers['cache-control']).toBe('no-store');
    expect(c.headers['x-accel-buffering']).toBe('no');
    expect(c.headers.connection).toBe('keep-alive');
    await waitUntil(() => c.frames.length >= 1, 5000, { what: 'the preamble' });
    expect(c.head.startsWith('retry: 3000\n: connected\n\n')).toBe(true);
    expect(c.frames[0]).toEqual({ retry: '3000', comments: ['connected'] });
    await waitUntil(() => store.events.subscriberCount === 1);

    const sent = touch('411555', 'FAILING');
    const [frame] = await c.waitForEvents(1);
    expect(frame).toEqual({ id: String(sent.seq), event: 'task_updated', data: JSON.stringify(sent), comments: [] });
    expect(JSON.parse(frame?.data ?? '')).toMatchObject({ type: 'task_updated', source: 'alt', id: '411555', state: 'FAILING', prev_state: 'BUILDING' });
    expect(sseStats().clients).toBe(1);
  });

  it('filters by source and type', async () => {
    const { store } = await serve();
    const girarOnly = await connect(`${PATH}?source=alt&type=task_new,task_removed`);
    const everything = await connect();
    await waitUntil(() => store.events.subscriberCount === 2);
    store.apply('fedora', 'koji', { type: 'delta', tasks: [{ source: 'fedora', kind: 'koji', id: '7003', state: 'FREE', phase: 'queued', archs: [], subtasks: [] }] });
    touch('411555', 'DONE');
    store.apply('alt', 'girar', { type: 'delta', tasks: [girarTask('500000', 'NEW', 'p11', 'x')], removedTaskIds: ['411600'] });
    const all = await everything.waitForEvents(4);
    expect(all.map((f) => f.event)).toEqual(['task_new', 'task_updated', 'task_new', 'task_removed']);
    await girarOnly.waitForEvents(2);
    expect(girarOnly.events().map((f) => [f.event, JSON.parse(f.data ?? '{}').id])).toEqual([
      ['task_new', '500000'],
      ['task_removed', '411600'],
    ]);
  });

  it('serializes each event once, however many clients it goes to', async () => {
    const { store } = await serve();
    const clients = await Promise.all([connect(), connect(), connect(), connect(`${PATH}?type=task_updated`), connect(`${PATH}?source=fedora`)]);
    await waitUntil(() => store.events.subscriberCount === clients.length);
    const stringify = vi.spyOn(JSON, 'stringify');
    const first = touch('411555', 'FAILING');
    const second = touch('411555', 'DONE');
    for (const c of clients.slice(0, 4)) await c.waitForEvents(2);
    const serialized = stringify.mock.calls.filter(([value]) => value === first || value === second).length;
    stringify.mockRestore();
    expect(serialized).toBe(2);
    for (const c of clients.slice(0, 4)) expect(c.events().map((f) => f.data)).toEqual([JSON.stringify(first), JSON.stringify(second)]);
    expect(clients[4]?.events()).toEqual([]);
  });

  it('rejects unknown types, unknown parameters and malformed ids with JSON 400', async () => {
    await serve();
    const badType = await connect(`${PATH}?type=task_new,task_gone`);
    expect(badType.status).toBe(400);
    expect(await badType.json()).toEqual({
      error: 'query parameter "type" has unknown value "task_gone"; allowed values: task_new, task_updated, task_removed, worker_new, worker_updated, worker_removed, job_new, job_updated, job_removed',
    });
    const typo = await connect(`${PATH}?sources=alt`);
    expect(typo.status).toBe(400);
    expect(await typo.json()).toEqual({ error: 'unknown query parameter "sources" (did you mean "source"?); known parameters: source, type, last_event_id' });
    const badId = await connect(PATH, { 'last-event-id': 'abc' });
    expect(badId.status).toBe(400);
    expect(await badId.json()).toEqual({ error: 'Last-Event-ID header is "abc", which is not an event id; give the id of the last event received (a non-negative integer) or leave it out' });
    const badQueryId = await connect(`${PATH}?last_event_id=-1`);
    expect(badQueryId.status).toBe(400);
    for (const value of ['Infinity', '-Infinity', '1e309', '1e3', '9999999999999999', '0x10']) {
      const query = await connect(`${PATH}?last_event_id=${value}`);
      expect(query.status, `last_event_id=${value}`).toBe(400);
      expect(await query.json()).toEqual({
        error: `query parameter "last_event_id" is "${value}", which is not an event id; give the id of the last event received (a non-negative integer) or leave it out`,
      });
      const header = await connect(PATH, { 'Last-Event-ID': value });
      expect(header.status, `Last-Event-ID: ${value}`).toBe(400);
    }
    expect(sseStats().clients).toBe(0);
  });
});

describe('GET /api/v1/events: resuming', () => {
  it('replays exactly the missed events after Last-Event-ID, then continues live', async () => {
    const { store } = await serve();
    expect(store.events.lastSeq).toBe(16);
    const c = await connect(PATH, { 'Last-Event-ID': '10' });
    await c.waitForEvents(6);
    expect(ids(c)).toEqual([11, 12, 13, 14, 15, 16]);
    const live = touch('411555', 'DONE');
    await c.waitForEvents(7);
    expect(ids(c)).toEqual([11, 12, 13, 14, 15, 16, live.seq]);
    expect(live.seq).toBe(17);
  });

  it('takes last_event_id from the query; the header wins when both are given', async () => {
    await serve();
    const query = await connect(`${PATH}?last_event_id=14`);
    await query.waitForEvents(2);
    expect(ids(query)).toEqual([15, 16]);
    const both = await connect(`${PATH}?last_event_id=1`, { 'Last-Event-ID': '15' });
    await both.waitForEvents(1);
    touch('411555', 'DONE');
    await both.waitForEvents(2);
    expect(ids(both)).toEqual([16, 17]);
  });

  it('replays through the filters', async () => {
    await serve();
    const c = await connect(`${PATH}?source=fedora`, { 'Last-Event-ID': '0' });
    await c.waitForEvents(2);
    touch('411555', 'DONE');
    const koji = h.api.store.apply('fedora', 'koji', { type: 'delta', removedTaskIds: ['7001'] });
    await c.waitForEvents(3);
    expect(ids(c)).toEqual([15, 16, koji[0]?.seq]);
  });

  it('sends reset when the id is older than the buffer, or ahead of the newest event', async () => {
    const { store } = await serve({ events: { buffer_size: 5 } });
    expect([store.events.oldestSeq, store.events.lastSeq]).toEqual([12, 16]);
    const old = await connect(PATH, { 'Last-Event-ID': '3' });
    const [reset] = await old.waitForEvents(1);
    expect(reset).toMatchObject({ id: '16', event: 'reset' });
    expect(JSON.parse(reset?.data ?? '')).toEqual({ oldest_seq: 12, last_seq: 16, reason: 'events after 3 are no longer buffered (the oldest is 12); reload the state and continue from here' });
    const live = touch('411555', 'DONE');
    await old.waitForEvents(2);
    expect(old.events().map((f) => [f.event, Number(f.id)])).toEqual([
      ['reset', 16],
      ['task_updated', live.seq],
    ]);

    const future = await connect(PATH, { 'Last-Event-ID': '99' });
    const [ahead] = await future.waitForEvents(1);
    expect(JSON.parse(ahead?.data ?? '')).toEqual({
      oldest_seq: 13,
      last_seq: 17,
      reason: 'last event id 99 is ahead of the newest event 17 (the exporter lost its journal?); reload the state and continue from here',
    });

    const edge = await connect(PATH, { 'Last-Event-ID': '12' });
    await edge.waitForEvents(5);
    expect(ids(edge)).toEqual([13, 14, 15, 16, 17]);
  });
});
