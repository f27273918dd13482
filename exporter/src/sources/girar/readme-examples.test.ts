/**
 * The girar source against taskoteka's own README examples, served verbatim by a plain loopback
 * HTTP server (not the simulator, which shares code with the exporter).
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../util/clock.js';
import { UpstreamHttp } from '../http.js';
import type { Snapshot, SourceAdapter } from '../source.js';
import { parseGirarConfig } from './config.js';
import { girarSource } from './index.js';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const LIST = fixture('tasks-list.json');
const DETAIL = fixture('task-389466.json');
const NOT_FOUND = fixture('task-not-found.json');

describe('girar source on taskoteka README examples', () => {
  let server: Server;
  let adapter: SourceAdapter;
  const seen: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.url ?? '');
      const headers = { 'content-type': 'application/json', 'x-api-version': '1.4.1', 'x-cache-age': '3' };
      if (req.url === '/tasks?state=ALL') return res.writeHead(200, headers).end(LIST);
      // /tasks/1234 answers with another task's record: a broken proxy cache, say.
      if (req.url === '/tasks/389466' || req.url === '/tasks/1234') return res.writeHead(200, headers).end(DETAIL);
      const id = /^\/tasks\/(\d+)$/.exec(req.url ?? '')?.[1];
      res.writeHead(404, headers).end(id === '999999' ? NOT_FOUND : JSON.stringify({ error: `task ${id ?? '?'} not found` }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    adapter = girarSource.create(parseGirarConfig({ url, stream: false }), {
      name: 'alt',
      log: pino({ level: 'silent' }),
      clock: new ManualClock(),
      http: new UpstreamHttp(),
      pollTimeoutSeconds: 10,
    });
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('polls the README list: every item normalized, versions and cache age from the headers', async () => {
    const snap = (await adapter.poll(AbortSignal.timeout(5000))) as Snapshot;
    expect(seen[0]).toBe('/tasks?state=ALL');
    expect(snap.upstream).toEqual({ version: '1.4.1', cacheAgeSeconds: 3, observedAt: expect.any(Number) as number });
    const byId = new Map(snap.tasks.map((t) => [t.id, t]));
    expect([...byId.keys()].sort()).toEqual(['411469', '411543', '411555']);
    expect(byId.get('411555')).toMatchObject({
      source: 'alt',
      kind: 'girar',
      state: 'BUILDING',
      phase: 'running',
      repo: 'p11',
      owner: 'rider',
      message: 'update PDAL',
      created: '2026-03-16T12:22:27Z',
      url: 'https://git.altlinux.org/tasks/411555/',
      attrs: expect.objectContaining({ try: 2, iter: 1, test_only: false, fail_early: true }),
    });
    expect(byId.get('411555')?.subtasks.map((s) => [s.id, s.package, s.label])).toEqual([
      ['100', 'pdal', '/gears/p/pdal.git'],
      ['200', 'grass', '/gears/g/grass.git'],
      ['300', 'qgis', '/gears/q/qgis.git'],
    ]);
    expect(byId.get('411543')).toMatchObject({ state: 'EPERM', phase: 'blocked' });
    // Until a detail arrives, `native` is the list item exactly as served.
    expect(byId.get('411469')?.native).toEqual((JSON.parse(LIST) as unknown[])[2]);
  });

  it('refreshes the README detail: per-arch results, native record verbatim, state time from `updated`', async () => {
    const delta = await adapter.refresh!({ taskIds: ['389466', '999999'] }, AbortSignal.timeout(5000));
    expect(delta.removedTaskIds).toEqual(['999999']);
    const task = delta.tasks?.[0];
    expect(task).toMatchObject({
      id: '389466',
      state: 'DONE',
      phase: 'success',
      repo: 'sisyphus',
      owner: 'grenka',
      message: 'Python3.13',
      stateSince: '2026-03-16T17:11:06Z',
      archs: ['aarch64', 'i586', 'x86_64'],
      attrs: expect.objectContaining({ try: 85, iter: 1, shared: false }),
    });
    expect(task?.subtasks).toEqual([
      expect.objectContaining({
        id: '1',
        type: 'repo',
        package: 'python3',
        owner: 'grenka',
        archs: [
          { arch: 'aarch64', status: 'swept', phase: 'success' },
          { arch: 'i586', status: 'swept', phase: 'success' },
          { arch: 'x86_64', status: 'swept', phase: 'success' },
        ],
      }),
    ]);
    expect(task?.native).toEqual(JSON.parse(DETAIL));
  });

  it('refuses a detail that answers for another task than the one asked for', async () => {
    await expect(adapter.refresh!({ taskIds: ['1234'] }, AbortSignal.timeout(5000))).rejects.toMatchObject({
      code: 'payload',
      message: expect.stringContaining('/taskid: asked for task 1234, got task 389466') as string,
    });
  });
});
