/** Hostile input: GET /api/v1/tasks/{source}/{id}/log with odd upstream answers, and the adapter's log decoding. */
import { gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApi, type TestApi } from '../../api/test-helpers.js';
import { FakeUpstream, type FakeAnswer } from '../../test-support/fake-upstream.js';
import { ManualClock } from '../../util/clock.js';
import { UpstreamHttp } from '../http.js';
import type { TaskLog } from '../source.js';
import { KarajoAdapter } from './adapter.js';
import { parseKarajoConfig } from './config.js';

const run = (id: string) => ({ source: 'cron', kind: 'karajo', id, state: 'failed', phase: 'failed' as const, repo: 'backup', archs: [], subtasks: [] });

describe('hostile input: task log route', () => {
  let t: TestApi;
  const logs = new Map<string, TaskLog>([
    ['backup#1', { text: 'ok\n', status: 'success\r\nx-evil: 1' }],
    ['backup#2', { text: 'ok\n', status: 'réussi' }],
    ['backup#3', { text: 'ok\n', status: 'success' }],
  ]);
  beforeAll(async () => {
    t = await buildTestApi({ taskLogs: new Map([['cron', (id: string) => Promise.resolve(logs.get(id))]]) });
    t.store.apply('cron', 'karajo', { type: 'snapshot', tasks: ['backup#1', 'backup#2', 'backup#3', 'http:backup#3'].map(run) });
  });
  afterAll(() => t.app.close());

  it('a log status with CR/LF from the upstream still answers the log (200), without injecting a header', async () => {
    const res = await t.app.inject({ url: '/api/v1/tasks/cron/backup%231/log' });
    expect(res.headers['x-evil']).toBeUndefined();
    expect(res.statusCode).toBe(200);
  });

  it('a non-latin1 (latin1-range) log status still answers the log (200)', async () => {
    const res = await t.app.inject({ url: '/api/v1/tasks/cron/backup%232/log' });
    expect(res.statusCode).toBe(200);
  });

  it('an http:<id> task id with a colon and %23 reaches the reader', async () => {
    const res = await t.app.inject({ url: '/api/v1/tasks/cron/http%3Abackup%233/log' });
    expect(res.statusCode).toBe(404); // known task, reader has no log for it
    expect(res.json()).toEqual({ error: 'the upstream of cron no longer keeps the log of http:backup#3' });
  });
});

const fakes: FakeUpstream[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.down()));
});
const karajo = (body: unknown): FakeAnswer => ({ body: gzipSync(JSON.stringify(body)), headers: { 'content-encoding': 'gzip' } });
const entry = { job_id: 'test_success', name: 'test_success.1.success', status: 'success', counter: 1 };

describe('hostile input: adapter.taskLog content', () => {
  it('log content that is not base64 is reported, not turned into garbage text', async () => {
    const env = { code: 200, data: { http_jobs: { T: { id: 'test_success', name: 'T', logs: [entry] } } } };
    const f = new FakeUpstream({
      '/karajo/api/environment': karajo(env),
      '/karajo/api/job_http/log?id=test_success&counter=1': karajo({ code: 200, data: { ...entry, content: 'plain text log, not base64!\n' } }),
    });
    await f.up();
    fakes.push(f);
    const a = new KarajoAdapter(parseKarajoConfig({ url: f.url }), { name: 'cron', log: pino({ level: 'silent' }), clock: new ManualClock(0), http: new UpstreamHttp(), pollTimeoutSeconds: 10 });
    await a.poll(AbortSignal.timeout(5000));
    const got = await a.taskLog('test_success#1', AbortSignal.timeout(5000)).then((l) => l?.text, (e: unknown) => e);
    expect(got === 'plain text log, not base64!\n' || got instanceof Error).toBe(true);
  });
});
