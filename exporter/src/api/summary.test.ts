import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApi, type TestApi } from './test-helpers.js';

let t: TestApi;
beforeAll(async () => {
  t = await buildTestApi();
});
afterAll(async () => {
  await t.app.close();
});

async function get(url: string): Promise<{ status: number; body: unknown }> {
  const res = await t.app.inject({ url });
  return { status: res.statusCode, body: res.json() };
}

describe('GET /api/v1/summary', () => {
  it('counts the default-state tasks by state, largest first then by value', async () => {
    expect(await get('/api/v1/summary?by=kind')).toEqual({ status: 200, body: { by: 'kind', total: 7, rows: [{ value: 'girar', count: 5 }, { value: 'koji', count: 2 }] } });
  });

  it('applies the task filters and state=ALL', async () => {
    expect(await get('/api/v1/summary?by=state&source=alt&state=ALL')).toEqual({
      status: 200,
      body: {
        by: 'state',
        total: 14,
        rows: [
          { value: 'EPERM', count: 3 },
          { value: 'DONE', count: 2 },
          { value: 'AWAITING', count: 1 },
          { value: 'BUILDING', count: 1 },
          { value: 'FAILED', count: 1 },
          { value: 'FAILING', count: 1 },
          { value: 'NEW', count: 1 },
          { value: 'PENDING', count: 1 },
          { value: 'POSTPONED', count: 1 },
          { value: 'SWEPT', count: 1 },
          { value: 'TESTED', count: 1 },
        ],
      },
    });
    expect(await get('/api/v1/summary?by=repo&q=libcurl')).toEqual({ status: 200, body: { by: 'repo', total: 2, rows: [{ value: 'p11', count: 1 }, { value: 'sisyphus', count: 1 }] } });
    expect(await get('/api/v1/summary?by=phase&owner=rider')).toEqual({
      status: 200,
      body: { by: 'phase', total: 4, rows: [{ value: 'queued', count: 2 }, { value: 'running', count: 1 }, { value: 'success', count: 1 }] },
    });
  });

  it('counts a multi-arch task once in total and once per arch in rows', async () => {
    expect(await get('/api/v1/summary?by=arch&source=alt')).toEqual({
      status: 200,
      body: { by: 'arch', total: 5, rows: [{ value: 'x86_64', count: 5 }, { value: 'aarch64', count: 1 }, { value: 'i586', count: 1 }] },
    });
  });

  it('needs a valid by and valid filters', async () => {
    expect(await get('/api/v1/summary')).toEqual({ status: 400, body: { error: 'query parameter "by" is required; see /openapi.json for the parameters of /api/v1/summary' } });
    expect(await get('/api/v1/summary?by=message')).toEqual({
      status: 400,
      body: { error: 'query parameter "by" must be one of: source, kind, state, phase, repo, owner, arch (got "message"); see /openapi.json for the parameters of /api/v1/summary' },
    });
    expect((await get('/api/v1/summary?by=state&q=x')).status).toBe(400);
    expect((await get('/api/v1/summary?by=state&limit=5')).body).toEqual({
      error: 'unknown query parameter "limit"; known parameters: by, source, kind, state, phase, repo, owner, arch, q, updated_since, updated_until',
    });
  });
});
