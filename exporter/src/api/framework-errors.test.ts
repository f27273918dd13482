/**
 * Errors raised before any route runs, in the `{"error": ...}` shape: paths fastify cannot decode
 * (frameworkErrors) and requests Node's HTTP parser rejects (clientErrorHandler), through inject and
 * through a real listening server, on the test API and on the app as app.ts builds it.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildExporter, type Exporter } from '../app.js';
import { describeClientError } from './errors.js';
import { buildTestApi, parseRawResponses, rawHttp, testConfig, type TestApi } from './test-helpers.js';

const BAD_PATH = (path: string) =>
  `the path ${path} is not valid percent-encoding: encode every byte outside printable ASCII as UTF-8 %XX escapes (e.g. %C3%A9 for é) and a literal % as %25`;
const BAD_TARGET = 'the request target is not a valid URL: bytes outside printable ASCII must be percent-encoded as UTF-8, e.g. %C3%A9 for é';

let t: TestApi;
let exporter: Exporter;
let base: string;
beforeAll(async () => {
  t = await buildTestApi({ fill: false });
  exporter = await buildExporter(testConfig(), { log: pino({ level: 'silent' }) });
  base = await exporter.app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await t.app.close();
  await exporter.close();
});

/** One raw request on its own connection; its single response. */
async function raw(request: Buffer | string): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const responses = parseRawResponses(await rawHttp(base, request));
  expect(responses).toHaveLength(1);
  return responses[0] as { status: number; headers: Record<string, string>; body: string };
}
const get = (target: Buffer | string, headers = '') => Buffer.concat([Buffer.from('GET '), Buffer.from(target), Buffer.from(` HTTP/1.1\r\nHost: test\r\nConnection: close\r\n${headers}\r\n`)]);

describe('paths that are not valid percent-encoding', () => {
  it('answer a JSON 400 through inject, on the test API and on the app', async () => {
    for (const app of [t.app, exporter.app]) {
      for (const path of ['/api/v1/tasks/demo-girar/%ff', '/api/v1/tasks/%', '/metrics/%zz']) {
        const res = await app.inject({ url: `${path}?limit=1` });
        expect(res.statusCode, path).toBe(400);
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        expect(res.json(), path).toEqual({ error: BAD_PATH(path) });
      }
    }
  });

  it('answer a JSON 400 from a listening server', async () => {
    const res = await raw(get('/api/v1/tasks/demo-girar/%ff'));
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(res.body)).toEqual({ error: BAD_PATH('/api/v1/tasks/demo-girar/%ff') });
  });
});

describe('requests the HTTP parser rejects', () => {
  it('a raw non-ASCII byte in the path: JSON 400 saying to percent-encode', async () => {
    for (const target of [Buffer.from('/api/v1/tasks/demo-girar/\xff', 'latin1'), Buffer.from('/api/v1/tasks/demo-girar/é', 'utf8'), Buffer.from('/api/v1/tasks/demo-girar/\x7f', 'latin1')]) {
      const res = await raw(get(target));
      expect(res.status, target.toString('latin1')).toBe(400);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(JSON.parse(res.body)).toEqual({ error: BAD_TARGET });
    }
  });

  it('other malformed requests and too large headers: JSON with our shape', async () => {
    // A space ends the request target: the parser then finds no HTTP version.
    const space = await raw(get('/api/v1/tasks/a b/1'));
    expect(space.status).toBe(400);
    expect(JSON.parse(space.body)).toEqual({ error: 'the request is not valid HTTP/1.1 (HPE_INVALID_CONSTANT: Expected HTTP/, RTSP/ or ICE/)' });
    const garbage = await raw('NOT HTTP AT ALL\r\n\r\n');
    expect(garbage.status).toBe(400);
    expect(JSON.parse(garbage.body)).toEqual({ error: expect.stringMatching(/^the request is not valid HTTP\/1\.1 \(HPE_[A-Z_]+(: .+)?\)$/) });
    const badHeader = await raw(get('/-/healthy', 'Bad Header\r\n'));
    expect(badHeader.status).toBe(400);
    expect(Object.keys(JSON.parse(badHeader.body))).toEqual(['error']);
    const huge = await raw(get('/-/healthy', `X-Big: ${'a'.repeat(64 * 1024)}\r\n`));
    expect(huge.status).toBe(431);
    expect(JSON.parse(huge.body)).toEqual({ error: 'the request headers are too large; send fewer or shorter headers' });
  });

  it('leave the server serving', async () => {
    const res = await raw(get('/-/healthy'));
    expect(res).toMatchObject({ status: 200, body: '{"status":"ok"}' });
  });
});

describe('describeClientError', () => {
  it('maps Node parser errors to a status and a sentence', () => {
    const err = (code: string, reason?: string) => Object.assign(new Error('x'), { code, reason });
    expect(describeClientError(err('ERR_HTTP_REQUEST_TIMEOUT'))).toEqual({ status: 408, error: 'the request did not arrive in time; send it again' });
    expect(describeClientError(err('HPE_HEADER_OVERFLOW')).status).toBe(431);
    expect(describeClientError(err('HPE_INVALID_URL'))).toEqual({ status: 400, error: BAD_TARGET });
    expect(describeClientError(err('HPE_INVALID_METHOD', 'Invalid method encountered'))).toEqual({ status: 400, error: 'the request is not valid HTTP/1.1 (HPE_INVALID_METHOD: Invalid method encountered)' });
    expect(describeClientError(new Error('?'))).toEqual({ status: 400, error: 'the request is not valid HTTP/1.1 (parse error)' });
  });
});
