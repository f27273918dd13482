import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TaskSummarySchema } from './schemas.js';
import { buildTestApi, girarTask, type TestApi } from './test-helpers.js';

interface Item {
  source: string;
  id: string;
  state: string;
  native?: unknown;
  matches?: string[];
}
interface Page {
  total: number;
  offset: number;
  limit: number;
  truncated: boolean;
  items: Item[];
}

let t: TestApi;
beforeAll(async () => {
  t = await buildTestApi();
});
afterAll(async () => {
  await t.app.close();
});

async function page(query: string): Promise<Page> {
  const res = await t.app.inject({ url: `/api/v1/tasks${query}` });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<Page>();
}
const ids = (p: Page) => p.items.map((i) => i.id);
async function error(query: string): Promise<{ status: number; error: string }> {
  const res = await t.app.inject({ url: `/api/v1/tasks${query}` });
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  return { status: res.statusCode, error: res.json<{ error: string }>().error };
}

describe('GET /api/v1/tasks: default states', () => {
  it('lists only active states without state, owner or q (kinds without rules list everything)', async () => {
    const p = await page('');
    expect(ids(p)).toEqual(['411605', '411604', '411603', '411600', '411555', '7002', '7001']);
    expect(p).toMatchObject({ total: 7, offset: 0, limit: 100, truncated: false });
  });

  it('with owner lists every state but DONE', async () => {
    expect(ids(await page('?owner=rider'))).toEqual(['411602', '411600', '411555', '7002']);
  });

  it('with q lists every state but DONE', async () => {
    expect(ids(await page('?q=pdal'))).toEqual(['411555']);
  });

  it('state=ALL lifts the rules', async () => {
    expect(ids(await page('?owner=rider&state=ALL'))).toEqual(['411602', '411600', '411555', '389467', '7002']);
    expect((await page('?state=ALL')).total).toBe(16);
  });

  it('an explicit state or phase replaces the rules', async () => {
    expect(ids(await page('?state=DONE'))).toEqual(['389467', '389466']);
    expect(ids(await page('?phase=blocked'))).toEqual(['411543', '411470', '411469']);
  });
});

describe('GET /api/v1/tasks: filters', () => {
  it('takes comma lists and repeated parameters alike', async () => {
    expect(ids(await page('?state=EPERM,FAILED'))).toEqual(['411601', '411543', '411470', '411469']);
    expect(ids(await page('?state=EPERM&state=FAILED'))).toEqual(['411601', '411543', '411470', '411469']);
  });

  it('filters by source and kind', async () => {
    expect(ids(await page('?source=fedora'))).toEqual(['7002', '7001']);
    expect(ids(await page('?kind=girar&state=ALL')).length).toBe(14);
    expect(ids(await page('?source=alt,fedora&state=OPEN,BUILDING'))).toEqual(['411555', '7001']);
  });

  it('filters by repo, owner and arch, ANDed across parameters', async () => {
    expect(ids(await page('?repo=p10&state=ALL'))).toEqual(['411603', '411602']);
    expect(ids(await page('?repo=p11&owner=zerg,lav'))).toEqual(['411543', '411470']);
    expect(ids(await page('?arch=i586'))).toEqual(['411603']);
    expect(ids(await page('?arch=aarch64,i586'))).toEqual(['411603', '411555']);
  });

  it('treats ALL as no filter for list parameters', async () => {
    expect(ids(await page('?repo=ALL&owner=ALL'))).toEqual(ids(await page('')));
  });

  it('filters by phase and validates phases', async () => {
    expect(ids(await page('?phase=running,queued&source=alt'))).toEqual(['411605', '411604', '411603', '411602', '411600', '411555']);
    expect(await error('?phase=runing')).toEqual({
      status: 400,
      error: 'query parameter "phase" has unknown value "runing"; allowed values: queued, running, success, failed, canceled, blocked, unknown',
    });
  });

  it('filters by updated time, ISO 8601 or Unix seconds, inclusive', async () => {
    expect(ids(await page('?updated_since=2026-03-16T13:00:00Z'))).toEqual(['411603', '411600', '411555']);
    expect(ids(await page(`?updated_since=${Date.parse('2026-03-16T13:00:00Z') / 1000}`))).toEqual(['411603', '411600', '411555']);
    expect(ids(await page('?updated_since=2026-03-16T15:00:00%2B02:00&updated_until=2026-03-16T14:00:00'))).toEqual(['411603', '411600']);
    expect(ids(await page('?state=ALL&updated_until=2025-12-31'))).toEqual(['389467', '389466']);
  });

  it('rejects bad times with 400 naming the parameter', async () => {
    expect(await error('?updated_since=yesterday')).toEqual({
      status: 400,
      error: 'query parameter "updated_since" is "yesterday", which is neither an ISO 8601 time (2026-03-16T12:00:00Z) nor Unix seconds (1773662400)',
    });
    expect((await error('?updated_until=2026-02-30')).error).toMatch(/^query parameter "updated_until" is "2026-02-30", which is neither/);
    expect((await error('?updated_since=1773662400000')).error).toMatch(/looks like Unix milliseconds/);
    expect((await error('?updated_since=2026-03-17&updated_until=2026-03-16')).error).toBe('query parameter "updated_since" is after "updated_until"; swap them or widen the range');
  });

  it('rejects empty list values', async () => {
    expect(await error('?state=')).toEqual({ status: 400, error: 'query parameter "state" has an empty value; give one or more comma-separated values, or leave it out' });
    expect((await error('?repo=p11,,p10')).status).toBe(400);
  });
});

describe('GET /api/v1/tasks: search', () => {
  it('ANDs case-insensitive terms and says where each matched (taskoteka example)', async () => {
    const p = await page('?q=p11+EPERM+lib');
    expect(p.items.map((i) => [i.id, i.matches])).toEqual([
      ['411543', ['300/dir:lib', '300/pkgname:lib', 'repo:p11', 'state:eperm']],
      ['411470', ['100/dir:lib', '100/pkgname:lib', 'repo:p11', 'state:eperm']],
    ]);
    const wider = await page('?q=EPERM%20libcurl');
    expect(wider.items.map((i) => [i.id, i.matches])).toEqual([
      ['411470', ['100/dir:libcurl', '100/pkgname:libcurl', 'state:eperm']],
      ['411469', ['100/dir:libcurl', '100/pkgname:libcurl', 'message:libcurl', 'state:eperm']],
    ]);
  });

  it('matches id, owner and message; hides DONE unless state says otherwise', async () => {
    expect(ids(await page('?q=4116'))).toEqual(['411607', '411606', '411605', '411604', '411603', '411602', '411601', '411600']);
    expect(ids(await page('?q=pdal'))).toEqual(['411555']);
    expect(ids(await page('?q=pdal&state=ALL'))).toEqual(['411555', '389467']);
    expect(ids(await page('?q=GRENKA'))).toEqual([]);
    expect(ids(await page('?q=grenka&state=DONE'))).toEqual(['389466']);
  });

  it('leaves matches out without q', async () => {
    const p = await page('?limit=1');
    expect(p.items[0]).not.toHaveProperty('matches');
  });

  it('enforces the taskoteka limits with exact messages', async () => {
    expect(await error(`?q=${'a'.repeat(201)}`)).toEqual({ status: 400, error: 'search query too long: 201 characters, at most 200' });
    const eleven = Array.from({ length: 11 }, (_, i) => `t${i}`).join('+');
    expect(await error(`?q=${eleven}`)).toEqual({ status: 400, error: 'search query has 11 terms, at most 10' });
    expect(await error('?q=p11+a')).toEqual({ status: 400, error: 'search term "a" is too short: each term needs at least 2 characters' });
    expect((await error('?q=')).status).toBe(400);
  });

  it('caps search results and says so', async () => {
    const capped = await buildTestApi({ api: { search_result_cap: 2 } });
    try {
      const res = await capped.app.inject({ url: '/api/v1/tasks?q=41' });
      expect(res.json()).toMatchObject({ total: 12, truncated: true });
      expect(res.json<Page>().items.map((i) => i.id)).toEqual(['411607', '411606']);
      const second = await capped.app.inject({ url: '/api/v1/tasks?q=41&offset=2' });
      expect(second.json<Page>().items).toEqual([]);
    } finally {
      await capped.app.close();
    }
  });
});

describe('GET /api/v1/tasks: sorting and paging', () => {
  it('pages with limit and offset', async () => {
    const all = ids(await page('?state=ALL'));
    const first = await page('?state=ALL&limit=5');
    const second = await page('?state=ALL&limit=5&offset=5');
    expect(first).toMatchObject({ total: 16, limit: 5, offset: 0 });
    expect([...ids(first), ...ids(second)]).toEqual(all.slice(0, 10));
    expect(ids(await page('?state=ALL&offset=100'))).toEqual([]);
  });

  it('sorts by id, updated, created, state_since in either order', async () => {
    expect(ids(await page('?source=alt&sort=id&order=asc'))).toEqual(['411555', '411600', '411603', '411604', '411605']);
    expect(ids(await page('?source=alt&sort=updated'))).toEqual(['411555', '411603', '411600', '411605', '411604']);
    expect(ids(await page('?source=alt&sort=created&order=asc'))).toEqual(['411600', '411603', '411604', '411605', '411555']);
    expect((await page('?sort=state_since')).total).toBe(7);
  });

  it('caps the page size at api.max_page_size and defaults to api.default_page_size', async () => {
    const small = await buildTestApi({ api: { default_page_size: 3, max_page_size: 4 } });
    try {
      expect((await small.app.inject({ url: '/api/v1/tasks' })).json()).toMatchObject({ limit: 3, total: 7 });
      expect((await small.app.inject({ url: '/api/v1/tasks?limit=4' })).json<Page>().items).toHaveLength(4);
      const over = await small.app.inject({ url: '/api/v1/tasks?limit=5' });
      expect(over.statusCode).toBe(400);
      expect(over.json()).toEqual({ error: 'query parameter "limit" must be <= 4 (got 5); see /openapi.json for the parameters of /api/v1/tasks' });
    } finally {
      await small.app.close();
    }
  });

  it('rejects bad sort, order, limit and offset', async () => {
    expect(await error('?sort=name')).toEqual({
      status: 400,
      error: 'query parameter "sort" must be one of: id, updated, created, state_since (got "name"); see /openapi.json for the parameters of /api/v1/tasks',
    });
    expect((await error('?order=up')).error).toMatch(/^query parameter "order" must be one of: asc, desc/);
    expect((await error('?limit=0')).error).toMatch(/^query parameter "limit" must be >= 1/);
    expect((await error('?limit=ten')).error).toMatch(/^query parameter "limit" must be an integer from 1 to 1000, in decimal digits \(got "ten"\)/);
    expect((await error('?offset=-1')).error).toMatch(/^query parameter "offset" must be >= 0/);
    expect((await error('?q=aa&q=bb')).error).toMatch(/^query parameter "q" must be string/);
  });

  it('rejects non-finite and unsafe integers with 400 naming the parameter, before the query runs', async () => {
    // ajv coerces these to ±Infinity, 1e20 or 16 and lets ±Infinity past minimum/maximum: the store
    // would page with them and the serializer throw (a 500).
    const query = vi.spyOn(t.store, 'queryTasks');
    try {
      for (const value of ['Infinity', '-Infinity', '1e309', '-1e309', '1e20', '9007199254740993', '0x10', '1e2', 'NaN', '']) {
        expect(await error(`?limit=${value}`), `limit=${value}`).toEqual({
          status: 400,
          error: `query parameter "limit" must be an integer from 1 to 1000, in decimal digits (got ${JSON.stringify(value)}); see /openapi.json for the parameters of /api/v1/tasks`,
        });
        expect(await error(`?offset=${value}`), `offset=${value}`).toEqual({
          status: 400,
          error: `query parameter "offset" must be an integer from 0 to 9007199254740991, in decimal digits (got ${JSON.stringify(value)}); see /openapi.json for the parameters of /api/v1/tasks`,
        });
      }
      expect((await error('?limit=5&limit=Infinity')).error).toMatch(/^query parameter "limit" must be an integer from 1 to 1000, in decimal digits \(got "Infinity"\)/);
      expect(query).not.toHaveBeenCalled();
    } finally {
      query.mockRestore();
    }
    // Still fine: signs, spaces ajv ignores, the largest safe offset.
    expect((await page('?limit=%2B2&offset=%200')).limit).toBe(2);
    expect(await page('?offset=9007199254740991')).toMatchObject({ offset: 9007199254740991, items: [] });
  });

  it('rejects unknown parameters, suggesting the likely one', async () => {
    expect(await error('?stat=BUILDING')).toEqual({
      status: 400,
      error:
        'unknown query parameter "stat" (did you mean "state"?); known parameters: source, kind, state, phase, repo, owner, arch, q, updated_since, updated_until, sort, order, limit, offset',
    });
    expect((await error('?user=rider&brief=1')).error).toMatch(/^unknown query parameters "user", "brief"; known parameters/);
  });
});

describe('list items and GET /api/v1/tasks/:source/:id', () => {
  it('lists tasks without native', async () => {
    const p = await page('?state=ALL');
    for (const item of p.items) expect(item).not.toHaveProperty('native');
  });

  it('lists exactly the summary fields of every task, whatever else the record holds', async () => {
    const full = girarTask('500002', 'DONE', 'p11', 'x', {
      started: '2026-03-16T10:05:00Z',
      finished: '2026-03-16T11:00:00Z',
      stateSince: '2026-03-16T11:00:00Z',
      attrs: { try: 2 },
      artifacts: [{ name: 'x.rpm', type: 'package' }],
    });
    // A field the model may gain later without the schema: it must not reach a list either.
    t.store.apply('alt', 'girar', { type: 'delta', tasks: [{ ...full, internal: 'secret' } as typeof full] });
    try {
      const item = (await page('?state=ALL&q=500002')).items.find((i) => i.id === '500002');
      expect(item).toBeDefined();
      expect(Object.keys(item ?? {})).toEqual([
        'source', 'kind', 'id', 'state', 'phase', 'owner', 'repo', 'message', 'created', 'started', 'finished', 'updated', 'stateSince', 'archs', 'subtasks', 'url', 'attrs', 'matches',
      ]);
      const schemaKeys = Object.keys(TaskSummarySchema.properties);
      for (const key of Object.keys(item ?? {})) expect(schemaKeys).toContain(key);
    } finally {
      t.store.apply('alt', 'girar', { type: 'delta', removedTaskIds: ['500002'] });
    }
  });

  it('returns one task with native', async () => {
    const res = await t.app.inject({ url: '/api/v1/tasks/alt/411555' });
    expect(res.statusCode).toBe(200);
    const body = res.json<Item & { subtasks: { fields: Record<string, string> }[] }>();
    expect(body).toMatchObject({ source: 'alt', id: '411555', state: 'BUILDING', native: { taskid: 411555, state: 'BUILDING', repo: 'p11', owner: 'rider' } });
    expect(body.subtasks[0]?.fields).toEqual({ dir: '/gears/p/pdal.git', pkgname: 'pdal', userid: 'rider', tag_name: '1.0-alt1' });
    expect(body).toEqual({ ...t.store.getTask('alt', '411555') });
  });

  it('answers 404 for an unknown task and, differently, for an unknown source', async () => {
    const task = await t.app.inject({ url: '/api/v1/tasks/alt/999999' });
    expect(task.statusCode).toBe(404);
    expect(task.json()).toEqual({ error: 'task 999999 not found in source alt' });
    const source = await t.app.inject({ url: '/api/v1/tasks/altt/411555' });
    expect(source.statusCode).toBe(404);
    expect(source.json()).toEqual({ error: 'source altt not found; known sources: alt, fedora' });
  });

  it('serves a task without native as native: null', async () => {
    t.store.apply('alt', 'girar', { type: 'delta', tasks: [{ ...girarTask('500001', 'NEW', 'p11', 'x'), native: undefined }] });
    const res = await t.app.inject({ url: '/api/v1/tasks/alt/500001' });
    expect(res.json()).toMatchObject({ id: '500001', native: null });
    t.store.apply('alt', 'girar', { type: 'delta', removedTaskIds: ['500001'] });
  });
});
