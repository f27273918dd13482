import { afterEach, describe, expect, it } from 'vitest';
import { buildTestApi, sourceHealth, type TestApi } from './test-helpers.js';

let t: TestApi | undefined;
afterEach(async () => {
  await t?.app.close();
  t = undefined;
});

describe('probes', () => {
  it('/-/healthy always answers ok', async () => {
    t = await buildTestApi({ fill: false });
    t.setReady(false);
    const res = await t.app.inject({ url: '/-/healthy' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('/-/ready is 503 naming the sources still awaited, then 200', async () => {
    t = await buildTestApi({ fill: false });
    t.health.entries = [sourceHealth('alt', 'girar'), sourceHealth('fedora', 'koji', { lastPollAt: Date.parse('2026-03-16T12:00:00Z') }), sourceHealth('guix', 'cuirass')];
    t.setReady(false);
    const waiting = await t.app.inject({ url: '/-/ready' });
    expect(waiting.statusCode).toBe(503);
    expect(waiting.json()).toEqual({ error: 'not ready: waiting for the first poll of: alt, guix' });
    t.setReady(true);
    const ready = await t.app.inject({ url: '/-/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready' });
  });
});

describe('GET /api/v1/sources', () => {
  it('reports health in snake_case with ISO times, nulls and counts', async () => {
    t = await buildTestApi();
    t.store.apply('fedora', 'koji', {
      type: 'delta',
      workers: [{ source: 'fedora', kind: 'koji', id: 'b1', name: 'builder1', up: true, archs: ['x86_64'] }],
    });
    t.health.entries = [
      sourceHealth('alt', 'girar', {
        up: false,
        intervalSeconds: 15,
        lastPollAt: Date.parse('2026-03-16T12:00:05Z'),
        lastSuccessAt: Date.parse('2026-03-16T11:59:00Z'),
        lastPollDurationSeconds: 0.25,
        consecutiveFailures: 3,
        lastError: { code: 'http', message: 'GET http://taskoteka/tasks answered HTTP 502', at: Date.parse('2026-03-16T12:00:05Z'), status: 502 },
        nextPollAt: Date.parse('2026-03-16T12:00:20Z'),
        streamConnected: false,
        upstream: { version: '1.5.0', cacheAgeSeconds: 3 },
        polls: { ok: 10, failed: 3 },
      }),
      sourceHealth('fedora', 'koji'),
    ];
    const res = await t.app.inject({ url: '/api/v1/sources' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      sources: [
        {
          name: 'alt',
          kind: 'girar',
          up: false,
          interval_seconds: 15,
          last_poll: '2026-03-16T12:00:05Z',
          last_success: '2026-03-16T11:59:00Z',
          last_poll_duration_seconds: 0.25,
          consecutive_failures: 3,
          last_error: { code: 'http', message: 'GET http://taskoteka/tasks answered HTTP 502', at: '2026-03-16T12:00:05Z', status: 502 },
          next_poll: '2026-03-16T12:00:20Z',
          stream_connected: false,
          upstream: { version: '1.5.0', cache_age_seconds: 3 },
          polls: { ok: 10, failed: 3 },
          counts: { tasks: 14, workers: 0, jobs: 0 },
        },
        {
          name: 'fedora',
          kind: 'koji',
          up: true,
          interval_seconds: 30,
          last_poll: null,
          last_success: null,
          last_poll_duration_seconds: null,
          consecutive_failures: 0,
          last_error: null,
          next_poll: null,
          upstream: {},
          polls: { ok: 0, failed: 0 },
          counts: { tasks: 2, workers: 1, jobs: 0 },
        },
      ],
    });
  });

  it('takes no query parameters', async () => {
    t = await buildTestApi({ fill: false });
    const res = await t.app.inject({ url: '/api/v1/sources?name=alt' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'unknown query parameter "name"; this route takes no query parameters' });
  });
});
