import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApi, sourceHealth, type TestApi } from './test-helpers.js';

let t: TestApi;
beforeAll(async () => {
  t = await buildTestApi();
  t.health.entries = [...t.health.entries, sourceHealth('guix', 'cuirass')];
});
afterAll(async () => {
  await t.app.close();
});

async function values(url: string): Promise<unknown> {
  const res = await t.app.inject({ url });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

describe('GET /api/v1/values/:field', () => {
  it('lists sorted distinct values over every task in every state', async () => {
    expect(await values('/api/v1/values/state')).toEqual({
      field: 'state',
      values: ['AWAITING', 'BUILDING', 'CLOSED', 'DONE', 'EPERM', 'FAILED', 'FAILING', 'NEW', 'OPEN', 'PENDING', 'POSTPONED', 'SWEPT', 'TESTED'],
    });
    expect(await values('/api/v1/values/arch')).toEqual({ field: 'arch', values: ['aarch64', 'i586', 'x86_64'] });
    expect(await values('/api/v1/values/repo')).toEqual({ field: 'repo', values: ['f42', 'p10', 'p11', 'sisyphus'] });
  });

  it('lists configured sources and kinds even before they hold tasks', async () => {
    expect(await values('/api/v1/values/source')).toEqual({ field: 'source', values: ['alt', 'fedora', 'guix'] });
    expect(await values('/api/v1/values/kind')).toEqual({ field: 'kind', values: ['cuirass', 'girar', 'koji'] });
  });

  it('restricts to the given sources', async () => {
    expect(await values('/api/v1/values/owner?source=fedora')).toEqual({ field: 'owner', values: ['kojiadmin', 'rider'] });
    expect(await values('/api/v1/values/repo?source=alt')).toEqual({ field: 'repo', values: ['p10', 'p11', 'sisyphus'] });
    expect(await values('/api/v1/values/repo?source=fedora,guix')).toEqual({ field: 'repo', values: ['f42'] });
    expect(await values('/api/v1/values/kind?source=guix')).toEqual({ field: 'kind', values: ['cuirass'] });
    expect(await values('/api/v1/values/repo?source=nowhere')).toEqual({ field: 'repo', values: [] });
    expect(await values('/api/v1/values/repo?source=ALL')).toEqual(await values('/api/v1/values/repo'));
  });

  it('rejects unknown fields and parameters', async () => {
    const field = await t.app.inject({ url: '/api/v1/values/message' });
    expect(field.statusCode).toBe(400);
    expect(field.json<{ error: string }>().error).toMatch(/^path parameter "field" must be one of: source, kind, state, phase, repo, owner, arch \(got "message"\)/);
    const param = await t.app.inject({ url: '/api/v1/values/repo?kind=girar' });
    expect(param.statusCode).toBe(400);
    expect(param.json()).toEqual({ error: 'unknown query parameter "kind"; known parameters: source' });
  });
});
