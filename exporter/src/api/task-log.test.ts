import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SourceError } from '../sources/errors.js';
import type { TaskLog } from '../sources/source.js';
import { buildTestApi, type TestApi } from './test-helpers.js';

const run = (id: string) => ({ source: 'cron', kind: 'karajo', id, state: 'failed', phase: 'failed' as const, repo: 'backup', archs: [], subtasks: [] });

describe('GET /api/v1/tasks/{source}/{id}/log', () => {
  let t: TestApi;
  const asked: string[] = [];
  const logs = new Map<string, () => Promise<TaskLog | undefined>>([
    ['backup#7', async () => ({ text: '2026-11-24 03:00:00 UTC job: backup: === BEGIN\nrsync: error 23\n', status: 'failed' })],
    ['backup#8', async () => undefined],
    ['backup#9', async () => Promise.reject(new SourceError('http', 'GET http://karajo:31937/karajo/api/job_exec/log?id=backup&counter=9 answered HTTP 500'))],
    ['backup#10', async () => Promise.reject(new SourceError('timeout', 'GET http://karajo:31937/... did not answer in time'))],
  ]);

  beforeAll(async () => {
    t = await buildTestApi({
      taskLogs: new Map([
        [
          'cron',
          (id: string) => {
            asked.push(id);
            return logs.get(id)?.() ?? Promise.resolve(undefined);
          },
        ],
      ]),
    });
    t.store.apply('cron', 'karajo', { type: 'snapshot', tasks: ['backup#7', 'backup#8', 'backup#9', 'backup#10'].map(run) });
  });
  afterAll(() => t.app.close());

  it('answers the log as plain text, read from the upstream when asked, with its status', async () => {
    const res = await t.app.inject({ url: '/api/v1/tasks/cron/backup%237/log' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.headers['x-log-status']).toBe('failed');
    expect(res.body).toBe('2026-11-24 03:00:00 UTC job: backup: === BEGIN\nrsync: error 23\n');
    expect(asked).toEqual(['backup#7']);
  });

  it('answers 503 with Retry-After beyond 4 log reads at once from one source', async () => {
    const release: (() => void)[] = [];
    let held = true;
    const slow = await buildTestApi({
      taskLogs: new Map([['cron', () => (held ? new Promise<TaskLog | undefined>((resolve) => release.push(() => resolve({ text: 'ok\n' }))) : Promise.resolve({ text: 'ok\n' }))]]),
    });
    slow.store.apply('cron', 'karajo', { type: 'snapshot', tasks: ['backup#7'].map(run) });
    const pending = Array.from({ length: 4 }, () => slow.app.inject({ url: '/api/v1/tasks/cron/backup%237/log' }));
    await vi.waitFor(() => expect(release).toHaveLength(4));
    const fifth = await slow.app.inject({ url: '/api/v1/tasks/cron/backup%237/log' });
    expect(fifth.statusCode).toBe(503);
    expect(fifth.headers['retry-after']).toBe('2');
    held = false;
    for (const r of release) r();
    expect((await Promise.all(pending)).map((r) => r.statusCode)).toEqual([200, 200, 200, 200]);
    // The slots are free again.
    expect((await slow.app.inject({ url: '/api/v1/tasks/cron/backup%237/log' })).statusCode).toBe(200);
    await slow.app.close();
  });

  it.each([
    ['/api/v1/tasks/cron/backup%238/log', 404, 'the upstream of cron no longer keeps the log of backup#8'],
    ['/api/v1/tasks/cron/backup%2399/log', 404, 'task backup#99 not found in source cron'],
    ['/api/v1/tasks/alt/411555/log', 404, 'source alt does not keep task logs (only karajo sources do)'],
    ['/api/v1/tasks/nowhere/1/log', 404, 'source nowhere not found; known sources: alt, cron, fedora'],
    ['/api/v1/tasks/cron/backup%239/log', 502, 'the upstream of cron failed to give the log of backup#9: GET http://karajo:31937/karajo/api/job_exec/log?id=backup&counter=9 answered HTTP 500'],
    ['/api/v1/tasks/cron/backup%2310/log', 504, 'the upstream of cron did not answer in time for the log of backup#10: GET http://karajo:31937/... did not answer in time'],
    ['/api/v1/tasks/cron/backup%237/log?tail=10', 400, undefined],
  ])('%s answers %i with a JSON error', async (url, status, error) => {
    const res = await t.app.inject({ url });
    expect(res.statusCode).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    if (error) expect(res.json()).toEqual({ error });
    else expect(res.json<{ error: string }>().error).toMatch(/tail/);
  });
});
