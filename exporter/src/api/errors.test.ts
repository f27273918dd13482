import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeValidation } from './errors.js';
import { buildTestApi, type TestApi } from './test-helpers.js';

let t: TestApi;
beforeAll(async () => {
  t = await buildTestApi({
    fill: false,
    extraRoutes: (app) =>
      app.get('/boom', async () => {
        throw new Error('secret detail');
      }),
  });
});
afterAll(async () => {
  await t.app.close();
});

describe('JSON errors', () => {
  it('answers unknown routes with a JSON 404', async () => {
    const res = await t.app.inject({ url: '/api/v2/tasks?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json()).toEqual({ error: 'no route GET /api/v2/tasks; the API is described at /openapi.json' });
    const post = await t.app.inject({ method: 'POST', url: '/api/v1/tasks' });
    expect(post.statusCode).toBe(404);
    expect(post.json()).toEqual({ error: 'no route POST /api/v1/tasks; the API is described at /openapi.json' });
  });

  it('hides internal failures behind a generic 500', async () => {
    const res = await t.app.inject({ url: '/boom' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: 'internal error while serving GET /boom; the exporter log has the details' });
    expect(res.body).not.toContain('secret');
  });
});

describe('describeValidation', () => {
  it('names the parameter for each kind of schema failure', () => {
    expect(describeValidation('querystring', [{ keyword: 'required', instancePath: '', params: { missingProperty: 'by' } }], {})).toBe('query parameter "by" is required');
    expect(describeValidation('params', [{ keyword: 'enum', instancePath: '/field', params: { allowedValues: ['a', 'b'] }, message: 'must be equal to one of the allowed values' }], { field: 'c' })).toBe(
      'path parameter "field" must be one of: a, b (got "c")',
    );
    expect(describeValidation('querystring', [{ keyword: 'type', instancePath: '/state/0', params: {}, message: 'must be string' }], {})).toBe('query parameter "state" must be string');
    expect(describeValidation('headers', [{ keyword: 'additionalProperties', instancePath: '', params: { additionalProperty: 'x-y' } }], {})).toBe('unknown header "x-y"');
  });
});
