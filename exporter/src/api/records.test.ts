import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../model/job.js';
import type { Worker } from '../model/worker.js';
import { buildTestApi, type TestApi } from './test-helpers.js';

const worker = (source: string, id: string, more: Partial<Worker> = {}): Worker => ({ source, kind: source === 'fedora' ? 'koji' : 'apb', id, name: `host-${id}`, up: true, archs: ['x86_64'], native: { host: id }, ...more });
const job = (id: string, more: Partial<Job> = {}): Job => ({ source: 'cron', kind: 'karajo', id, name: id, jobType: 'exec', status: 'success', paused: false, native: { id }, ...more });

let t: TestApi;
beforeAll(async () => {
  t = await buildTestApi({ fill: false });
  t.store.apply('fedora', 'koji', { type: 'snapshot', tasks: [], workers: [worker('fedora', 'b2', { busy: true, load: 2, capacity: 4 }), worker('fedora', 'b1', { up: false })] });
  t.store.apply('power', 'apb', { type: 'snapshot', tasks: [], workers: [worker('power', 'ppc1', { archs: ['ppc64le'] })] });
  t.store.apply('cron', 'karajo', { type: 'snapshot', tasks: [], jobs: [job('sync', { paused: true, intervalSeconds: 300 }), job('backup', { status: 'failed', lastRun: '2026-03-16T11:00:00Z' })] });
});
afterAll(async () => {
  await t.app.close();
});

interface Items {
  items: Record<string, unknown>[];
}

describe('GET /api/v1/workers', () => {
  it('lists every worker by source then id, without native', async () => {
    const res = await t.app.inject({ url: '/api/v1/workers' });
    expect(res.statusCode).toBe(200);
    const body = res.json<Items>();
    expect(body.items.map((w) => `${w.source}/${w.id}`)).toEqual(['fedora/b1', 'fedora/b2', 'power/ppc1']);
    expect(body.items[1]).toEqual({ source: 'fedora', kind: 'koji', id: 'b2', name: 'host-b2', up: true, busy: true, load: 2, capacity: 4, archs: ['x86_64'] });
    for (const w of body.items) expect(w).not.toHaveProperty('native');
  });

  it('filters by source (comma list or repeated)', async () => {
    const one = await t.app.inject({ url: '/api/v1/workers?source=power' });
    expect(one.json<Items>().items.map((w) => w.id)).toEqual(['ppc1']);
    const two = await t.app.inject({ url: '/api/v1/workers?source=power&source=fedora' });
    expect(two.json<Items>().items.map((w) => w.id)).toEqual(['b1', 'b2', 'ppc1']);
    const none = await t.app.inject({ url: '/api/v1/workers?source=cron' });
    expect(none.json()).toEqual({ items: [] });
  });
});

describe('GET /api/v1/jobs', () => {
  it('lists jobs without native and filters by source', async () => {
    const res = await t.app.inject({ url: '/api/v1/jobs?source=cron' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      items: [
        { source: 'cron', kind: 'karajo', id: 'backup', name: 'backup', jobType: 'exec', status: 'failed', paused: false, lastRun: '2026-03-16T11:00:00Z' },
        { source: 'cron', kind: 'karajo', id: 'sync', name: 'sync', jobType: 'exec', status: 'success', paused: true, intervalSeconds: 300 },
      ],
    });
    expect((await t.app.inject({ url: '/api/v1/jobs?source=fedora' })).json()).toEqual({ items: [] });
  });

  it('rejects unknown parameters', async () => {
    const res = await t.app.inject({ url: '/api/v1/jobs?sorce=cron' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'unknown query parameter "sorce" (did you mean "source"?); known parameters: source' });
  });
});
