import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthArea, Authenticator } from '../auth.js';
import { buildTestApi, kojiTasks, sourceHealth, type TestApi } from '../test-helpers.js';
import { girarTask } from '../../test-support/tasks.js';
import { FIXTURE_NOW, FakeTaskotekaBackend, README_ARCHIVED, README_ITEMS, fixtureTasks } from './test-helpers.js';

const BASE = '/compat/taskoteka/alt';
let t: TestApi;
let alt: FakeTaskotekaBackend;

async function serve(options: { searchCap?: number; authenticator?: Authenticator } = {}): Promise<{ api: TestApi; backend: FakeTaskotekaBackend }> {
  const backend = new FakeTaskotekaBackend();
  const beta = new FakeTaskotekaBackend();
  const api = await buildTestApi({
    fill: false,
    taskotekaBackends: new Map([
      ['alt', backend],
      ['beta', beta],
    ]),
    ...(options.searchCap ? { api: { search_result_cap: options.searchCap } } : {}),
    ...(options.authenticator ? { authenticator: options.authenticator } : {}),
  });
  api.clock.set(FIXTURE_NOW);
  api.health.entries = [sourceHealth('alt', 'girar', { lastPollAt: FIXTURE_NOW }), sourceHealth('beta', 'girar', { lastPollAt: FIXTURE_NOW }), sourceHealth('fedora', 'koji')];
  api.store.apply('alt', 'girar', { type: 'snapshot', tasks: fixtureTasks() });
  api.store.apply('beta', 'girar', { type: 'snapshot', tasks: [girarTask({ id: '411999', state: 'BUILDING', owner: 'someone' }, 'beta')] });
  api.store.apply('fedora', 'koji', { type: 'snapshot', tasks: kojiTasks() });
  return { api, backend };
}

beforeAll(async () => {
  ({ api: t, backend: alt } = await serve());
});
afterAll(async () => {
  await t.app.close();
});

async function get(path: string, app: TestApi = t): Promise<{ status: number; body: string; json: unknown; headers: Record<string, unknown> }> {
  const res = await app.app.inject({ url: `${BASE}${path}` });
  return { status: res.statusCode, body: res.body, json: JSON.parse(res.body) as unknown, headers: res.headers };
}
async function ok(path: string): Promise<unknown> {
  const res = await get(path);
  expect(res.status, res.body).toBe(200);
  return res.json;
}
const ids = async (path: string): Promise<number[]> => ((await ok(path)) as { id: number }[]).map((i) => i.id);
async function error(path: string, status: number): Promise<string> {
  const res = await get(path);
  expect(res.status, res.body).toBe(status);
  expect(Object.keys(res.json as object)).toEqual(['error']);
  return (res.json as { error: string }).error;
}

describe('GET /tasks: the README examples', () => {
  it('answers the active-tasks example in the same shape, key order included', async () => {
    const res = await get('/tasks');
    const item = (JSON.parse(res.body) as { id: number }[]).find((i) => i.id === 411555);
    expect(JSON.stringify(item)).toBe(JSON.stringify(README_ITEMS['411555']));
  });

  it('answers the search example exactly, with matches', async () => {
    const res = await get('/tasks?q=p11+EPERM+lib');
    expect(res.status).toBe(200);
    expect(res.body).toBe(
      JSON.stringify([
        { ...README_ITEMS['411543'], matches: ['300/dir:lib', '300/pkgname:lib', 'repo:p11', 'state:eperm'] },
        { ...README_ITEMS['411469'], matches: ['100/dir:lib', '100/pkgname:lib', 'message:lib', 'repo:p11', 'state:eperm'] },
      ]),
    );
  });

  it('answers brief with integer ids, newest first', async () => {
    const res = await get('/tasks?brief=true&state=BUILDING,EPERM&repo=p11');
    expect(res.body).toBe('[411555,411543,411469]');
    for (const v of ['1', 'yes', 'TRUE']) expect(await ok(`/tasks?brief=${v}&state=BUILDING`)).toEqual([411555]);
    expect(((await ok('/tasks?brief=false&state=BUILDING')) as unknown[])[0]).toMatchObject({ id: 411555 });
  });

  it('filters by user, state lists and repo as the other examples do', async () => {
    expect(await ids('/tasks?user=rider')).toEqual([411555]);
    expect(await ids('/tasks?state=EPERM&repo=sisyphus')).toEqual([411481, 411480]);
    expect(await ids('/tasks?state=BUILDING,FAILED')).toEqual([411555, 411300]);
    expect(await ids('/tasks?state=ALL')).toEqual([411610, 411600, 411590, 411555, 411543, 411481, 411480, 411469, 411400, 411300]);
  });
});

describe('GET /tasks: parameters', () => {
  it('lists the queue states by default; with user or q every state but DONE', async () => {
    expect(await ids('/tasks')).toEqual([411610, 411600, 411555]);
    expect(await ids('/tasks?user=vt')).toEqual([411610, 411590]);
    expect(await ids('/tasks?user=ALL')).toEqual([411610, 411600, 411555]);
    expect(await ids('/tasks?q=pdal')).toEqual([411555]);
    expect(await ids('/tasks?q=pdal&state=ALL')).toEqual([411555, 411400]);
    expect(await ids('/tasks?user=rider&state=DONE')).toEqual([411400]);
  });

  it('takes states in any case and repo lists with ALL', async () => {
    expect(await ids('/tasks?state=eperm,Failed&repo=p10,p11')).toEqual([411543, 411469, 411300]);
    expect(await ids('/tasks?state=all&repo=ALL')).toHaveLength(10);
    expect(await ids('/tasks?state=FAILURE')).toEqual([]);
  });

  it('accepts a state girar does not have yet once a task of the source is in it', async () => {
    expect(await error('/tasks?state=REVIEW', 400)).toMatch(/^invalid state REVIEW/);
    t.store.apply('alt', 'girar', { type: 'delta', tasks: [girarTask({ id: '411620', state: 'REVIEW', owner: 'vt' })] });
    expect(await ids('/tasks?state=review')).toEqual([411620]);
    expect(await ids('/tasks?user=vt')).toEqual([411620, 411610, 411590]);
    t.store.apply('alt', 'girar', { type: 'delta', removedTaskIds: ['411620'] });
  });

  it('answers 400 for unknown states, listing the valid ones', async () => {
    expect(await error('/tasks?state=BUILDING,BOGUS', 400)).toBe(
      'invalid state BOGUS: expected a comma-separated list of NEW, AWAITING, PENDING, BUILDING, COMMITTING, TESTED, FAILING, FAILED, DONE, SWEPT, EPERM, POSTPONED, FAILURE, or ALL',
    );
  });

  it('ignores unknown parameters, as taskoteka clients may send newer ones', async () => {
    expect(await ids('/tasks?state=BUILDING&refresh=1&limit=5')).toEqual([411555]);
  });

  it('enforces the search limits with 400', async () => {
    expect(await error('/tasks?q=a', 400)).toMatch(/too short/);
    expect(await error(`/tasks?q=${'ab+'.repeat(11)}`, 400)).toMatch(/11 terms, at most 10/);
    expect(await error(`/tasks?q=${'x'.repeat(201)}`, 400)).toMatch(/201 characters, at most 200/);
    expect(await error('/tasks?q=', 400)).toMatch(/empty/);
  });

  it('caps search results', async () => {
    const { api } = await serve({ searchCap: 2 });
    try {
      const res = await get('/tasks?q=alt1&state=ALL', api);
      expect((res.json as { id: number }[]).map((i) => i.id)).toEqual([411610, 411600]);
    } finally {
      await api.app.close();
    }
  });
});

describe('GET /tasks?needs_approval', () => {
  it('lists the EPERM tasks the backend names, skipping test-only and swift ones', async () => {
    alt.approvals = { maint: ['411543', '411480', '411481', '411555'], tester: ['411469'] };
    expect(await ids('/tasks?needs_approval=maint')).toEqual([411543]);
    expect(await ids('/tasks?needs_approval=tester')).toEqual([411469]);
    expect(await ids('/tasks?needs_approval=tester&repo=sisyphus')).toEqual([]);
    expect(await ok('/tasks?needs_approval=maint&brief=yes')).toEqual([411543]);
    expect(await ids('/tasks?needs_approval=maint&state=BUILDING')).toEqual([411543]);
  });

  it('answers 503 when the backend cannot answer, 400 for other groups and with q', async () => {
    alt.approvals = undefined;
    expect(await error('/tasks?needs_approval=maint', 503)).toBe('needs_approval is not available: no ACL dir is configured for this source');
    alt.approvals = {};
    expect(await error('/tasks?needs_approval=admin', 400)).toBe('invalid needs_approval value "admin": expected maint or tester');
    expect(await error('/tasks?needs_approval=maint&q=lib', 400)).toBe('q cannot be combined with needs_approval: use one or the other');
  });
});

describe('GET /tasks/:id', () => {
  it('serves the live detail with age recomputed and brief as the bare id', async () => {
    const res = await get('/tasks/411300');
    const native = t.store.getTask('alt', '411300')?.native as Record<string, unknown>;
    expect(res.body).toBe(JSON.stringify({ ...native, age: 3 }));
    expect((await get('/tasks/411300?brief=true')).body).toBe('411300');
  });

  it('falls back to the archive, served as is, then 404 with the README text', async () => {
    alt.archive.set(389466, README_ARCHIVED);
    const res = await get('/tasks/389466');
    expect(res.body).toBe(JSON.stringify(README_ARCHIVED));
    expect((await get('/tasks/389466?brief=1')).body).toBe('389466');
    expect(await error('/tasks/999999', 404)).toBe('task 999999 not found');
    expect(alt.calls).toContain('archived 999999');
  });

  it('answers 503 when the archive fails and 400 for ids that are not positive integers', async () => {
    alt.archiveFails = new Error('NFS is down');
    expect(await error('/tasks/999998', 503)).toBe('task 999998 is not among the live tasks and the archive could not be read (NFS is down); retry later');
    alt.archiveFails = undefined;
    for (const bad of ['abc', '0', '-5', '1.5', '99999999999999999']) expect(await error(`/tasks/${bad}`, 400)).toMatch(/^invalid task id .*: expected a positive integer$/);
    expect((await get('/tasks/0411555?brief=true')).body).toBe('411555');
  });
});

describe('GET /owners, /health', () => {
  it('lists the sorted unique owners of every task of the source only', async () => {
    expect(await ok('/owners')).toEqual(['aris', 'cas', 'lav', 'ldv', 'rider', 'vt', 'zerg']);
  });

  it('counts total and not-DONE tasks, and is 503 stale or starting while the source is not up', async () => {
    expect(await get('/health')).toMatchObject({ status: 200, body: '{"status":"ok","total_tasks":10,"active_tasks":9}' });
    t.health.entries[0] = sourceHealth('alt', 'girar', { up: false, lastPollAt: FIXTURE_NOW, lastError: { code: 'network', message: 'connection refused', at: FIXTURE_NOW } });
    expect(await get('/health')).toMatchObject({
      status: 503,
      json: { status: 'stale', total_tasks: 10, active_tasks: 9, error: 'the latest poll of source alt failed: connection refused; the tasks are those of the last successful poll' },
    });
    t.health.entries[0] = sourceHealth('alt', 'girar', { up: false });
    expect(await get('/health')).toMatchObject({ status: 503, json: { status: 'starting' } });
    t.health.entries[0] = sourceHealth('alt', 'girar', { lastPollAt: FIXTURE_NOW });
  });
});

describe('headers, errors and sources', () => {
  it('sends application/json, x-api-version and x-cache-age on answers and errors alike', async () => {
    for (const path of ['/tasks', '/tasks/411555?brief=1', '/owners', '/health', '/openapi.json', '/tasks/999999', '/tasks?state=X']) {
      const res = await get(path);
      expect(res.headers['content-type'], path).toBe('application/json');
      expect(res.headers['x-api-version'], path).toBe('1.5.0');
      expect(res.headers['x-cache-age'], path).toBe('3');
    }
    alt.cacheAge = undefined;
    alt.version = '1.6.0';
    const res = await get('/owners');
    expect(res.headers['x-cache-age']).toBeUndefined();
    expect(res.headers['x-api-version']).toBe('1.6.0');
    alt.cacheAge = 3;
    alt.version = '1.5.0';
  });

  it('answers 404 naming the configured girar sources for any other source', async () => {
    for (const name of ['nope', 'fedora']) {
      const res = await t.app.inject({ url: `/compat/taskoteka/${name}/tasks` });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ error: `no girar source named "${name}"; configured: alt, beta` });
      expect(res.headers['x-api-version']).toBeUndefined();
    }
    expect((await t.app.inject({ url: '/compat/taskoteka/beta/owners' })).json()).toEqual(['someone']);
  });

  it('guards the task routes as the api area and the event stream as the events area', async () => {
    const seen: AuthArea[] = [];
    const authenticator: Authenticator = {
      authenticate: (area) => {
        seen.push(area);
        return area === 'events' ? { allowed: false, statusCode: 401, message: 'events need a token' } : { allowed: true };
      },
    };
    const { api } = await serve({ authenticator });
    try {
      expect((await api.app.inject({ url: `${BASE}/tasks` })).statusCode).toBe(200);
      const events = await api.app.inject({ url: `${BASE}/events` });
      expect(events.statusCode).toBe(401);
      expect(events.json()).toEqual({ error: 'events need a token' });
      expect(seen).toEqual(['api', 'events']);
    } finally {
      await api.app.close();
    }
  });

  it('serves its own OpenAPI 3.0 document, and stays out of the main one', async () => {
    const doc = (await ok('/openapi.json')) as { openapi: string; info: { version: string }; servers: { url: string }[]; paths: Record<string, { get: { responses: object } }> };
    expect(doc.openapi).toBe('3.0.3');
    expect(doc.info.version).toBe('1.5.0');
    expect(doc.servers).toEqual([{ url: BASE }]);
    expect(Object.keys(doc.paths)).toEqual(['/tasks', '/tasks/{id}', '/events', '/owners', '/health', '/openapi.json']);
    const text = JSON.stringify(doc);
    for (const [, name] of text.matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)) expect((doc as unknown as { components: { schemas: object } }).components.schemas).toHaveProperty(name ?? '');
    expect(text).not.toMatch(/"type":"null"|patternProperties|"const"/);
    const main = (await t.app.inject({ url: '/openapi.json' })).json<{ paths: object }>();
    expect(Object.keys(main.paths).filter((p) => p.startsWith('/compat'))).toEqual([]);
  });
});
