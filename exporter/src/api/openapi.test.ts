import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApi, type TestApi } from './test-helpers.js';

interface Operation {
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: { name: string; in: string; required?: boolean; schema?: { type?: string } }[];
  responses: Record<string, { content?: Record<string, unknown> }>;
}
interface Doc {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
}

let t: TestApi;
let doc: Doc;
beforeAll(async () => {
  t = await buildTestApi({ fill: false });
  const res = await t.app.inject({ url: '/openapi.json' });
  expect(res.statusCode).toBe(200);
  doc = res.json<Doc>();
});
afterAll(async () => {
  await t.app.close();
});

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3 document titled with the exporter version', () => {
    expect(doc.openapi).toBe('3.0.3');
    expect(doc.info).toMatchObject({ title: 'buildscope exporter API', version: '9.8.7-test' });
  });

  it('lists every route with a summary, a description and a 200 response', () => {
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        '/-/healthy',
        '/-/ready',
        '/api/v1/events',
        '/api/v1/jobs',
        '/api/v1/sources',
        '/api/v1/summary',
        '/api/v1/tasks',
        '/api/v1/tasks/{source}/{id}',
        '/api/v1/tasks/{source}/{id}/log',
        '/api/v1/values/{field}',
        '/api/v1/workers',
        '/openapi.json',
      ].sort(),
    );
    for (const [path, methods] of Object.entries(doc.paths)) {
      expect(Object.keys(methods), path).toEqual(['get']);
      const op = methods.get as Operation;
      expect(op.summary, path).toBeTruthy();
      expect(op.description, path).toBeTruthy();
      expect(op.tags?.length, path).toBe(1);
      expect(op.responses['200'], path).toBeDefined();
      expect((op.responses['200'] as { description?: string }).description, path).not.toBe('Default Response');
    }
  });

  it('serves the whole document as app.swagger() builds it', () => {
    expect(doc).toEqual(JSON.parse(JSON.stringify(t.app.swagger())));
  });

  it('documents the parameters of the routes', () => {
    const names = (path: string) => (doc.paths[path]?.get?.parameters ?? []).map((p) => `${p.in}:${p.name}`);
    expect(names('/api/v1/tasks')).toEqual(
      ['source', 'kind', 'state', 'phase', 'repo', 'owner', 'arch', 'q', 'updated_since', 'updated_until', 'sort', 'order', 'limit', 'offset'].map((n) => `query:${n}`),
    );
    expect(names('/api/v1/tasks/{source}/{id}')).toEqual(['path:source', 'path:id']);
    expect(names('/api/v1/summary')[0]).toBe('query:by');
    expect(names('/api/v1/events')).toEqual(['query:source', 'query:type', 'query:last_event_id', 'header:last-event-id']);
    expect(Object.keys(doc.paths['/api/v1/events']?.get?.responses['200']?.content ?? {})).toEqual(['text/event-stream']);
    expect(Object.keys(doc.paths['/api/v1/events']?.get?.responses ?? {})).toEqual(['200', '400', '429', '503']);
  });

  it('carries the ChangeEvent schema and stays within OpenAPI 3.0 (nullable, no type null)', () => {
    expect(doc.components.schemas).toHaveProperty('ChangeEvent');
    const text = JSON.stringify(doc);
    expect(text).not.toContain('"type":"null"');
    expect(text).toContain('"nullable":true');
  });

  it('every numeric query parameter of every route answers non-finite and unsafe numbers with a JSON 400 naming it', async () => {
    const pathValues: Record<string, string> = { source: 'alt', id: '411555', field: 'repo' };
    const requiredValues: Record<string, string> = { by: 'repo' };
    const checked: string[] = [];
    for (const [path, methods] of Object.entries(doc.paths)) {
      const params = methods.get?.parameters ?? [];
      const url = path.replace(/\{(\w+)\}/g, (_m, name: string) => pathValues[name] ?? name);
      const required = params.filter((p) => p.in === 'query' && p.required).map((p) => `${p.name}=${requiredValues[p.name] ?? 'x'}&`).join('');
      for (const param of params.filter((p) => p.in === 'query' && (p.schema?.type === 'integer' || p.schema?.type === 'number'))) {
        checked.push(`${path} ${param.name}`);
        for (const value of ['Infinity', '-Infinity', '1e309', '-1e309', '1e20', '9007199254740993']) {
          const res = await t.app.inject({ url: `${url}?${required}${param.name}=${value}` });
          expect(res.statusCode, `${path}?${param.name}=${value}: ${res.body}`).toBe(400);
          expect(res.headers['content-type']).toMatch(/^application\/json/);
          expect(res.json<{ error: string }>().error).toMatch(new RegExp(`^query parameter "${param.name}" must be .*\\(got "${value}"\\)`));
        }
      }
    }
    // The routes with numeric query parameters today; a new one is checked above as soon as it exists.
    expect(checked).toEqual(['/api/v1/tasks limit', '/api/v1/tasks offset']);
  });
});
