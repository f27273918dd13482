import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SourceError, UpstreamHttpError, UpstreamPayloadError } from './errors.js';
import { MAX_JSON_DEPTH, UpstreamHttp, parseUpstreamJson } from './http.js';

const JSON_BODY = JSON.stringify({ code: 200, data: { hello: 'wörld' } });
const routes: Record<string, (req: IncomingMessage, res: ServerResponse, body: string) => void> = {
  '/gzip': (_req, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(gzipSync(JSON_BODY)),
  '/deflate': (_req, res) => res.writeHead(200, { 'content-encoding': 'deflate' }).end(deflateSync(JSON_BODY)),
  '/bad-gzip': (_req, res) => res.writeHead(200, { 'content-encoding': 'gzip' }).end(Buffer.from('not gzip at all')),
  '/bomb': (_req, res) => res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync(Buffer.alloc(4 * 1024 * 1024))),
  '/br': (_req, res) => res.writeHead(200, { 'content-encoding': 'br' }).end('x'),
  '/gzip-error': (_req, res) => res.writeHead(401, { 'content-encoding': 'gzip' }).end(gzipSync('{"message":"who are you","code":401}')),
  '/deep': (_req, res) => res.writeHead(200).end('['.repeat(5000) + ']'.repeat(5000)),
  '/login': (req, res, body) => {
    if (req.method !== 'POST' || req.headers['content-type'] !== 'application/x-www-form-urlencoded') return res.writeHead(405).end();
    const form = new URLSearchParams(body);
    if (form.get('password') === 'right horse') return res.writeHead(200, { 'set-cookie': 'karajo=abc123; Path=/; HttpOnly' }).end('{"code":200}');
    res.writeHead(400).end('{"message":"invalid name or password","name":"ERR_AUTH_LOGIN","code":400}');
  },
};

describe('UpstreamHttp', () => {
  let server: Server;
  let base: string;
  const http = new UpstreamHttp();
  const signal = () => AbortSignal.timeout(5000);

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => (routes[req.url ?? ''] ?? ((_q, r) => r.writeHead(404).end()))(req, res, body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('decodes gzip and deflate bodies whatever was asked for', async () => {
    expect((await http.getJson(`${base}/gzip`, { signal: signal() })).value).toEqual({ code: 200, data: { hello: 'wörld' } });
    expect((await http.get(`${base}/deflate`, { signal: signal() })).body).toBe(JSON_BODY);
  });

  it('says so when a body claims gzip but is not, or uses an encoding it cannot read', async () => {
    const bad = http.get(`${base}/bad-gzip`, { signal: signal() });
    await expect(bad).rejects.toBeInstanceOf(UpstreamPayloadError);
    await expect(bad).rejects.toThrow(/says Content-Encoding: gzip but does not decode/);
    await expect(http.get(`${base}/br`, { signal: signal() })).rejects.toThrow(/encoded as "br", which buildscope cannot decode/);
  });

  it('refuses JSON nested deeper than the store can re-serialize', async () => {
    await expect(http.getJson(`${base}/deep`, { signal: signal() })).rejects.toThrow(/JSON nested deeper than 64 levels/);
    expect((await http.getJson(`${base}/gzip`, { signal: signal() })).value).toBeDefined();
  });
  it('takes JSON nested exactly MAX_JSON_DEPTH levels, in arrays and objects, and refuses one level more', () => {
    const nest = (levels: number, leaf: string) => {
      let text = leaf;
      for (let i = 0; i < levels - 1; i += 1) text = i % 2 === 0 ? `[1,${text},"x"]` : `{"a":1,"b":${text}}`;
      return text;
    };
    const res = (body: string) => ({ status: 200, headers: {}, body });
    // A list of shallow items with one deep one last: the walk must not stop at the first items.
    const list = (levels: number) => `[${'{"id":1,"s":{"100":{}}},'.repeat(3)}${nest(levels - 1, '{}')}]`;
    expect(parseUpstreamJson(res(list(MAX_JSON_DEPTH)), 'http://u/x')).toHaveLength(4);
    expect(() => parseUpstreamJson(res(list(MAX_JSON_DEPTH + 1)), 'http://u/x')).toThrow(/JSON nested deeper than 64 levels/);
    expect(parseUpstreamJson(res(nest(MAX_JSON_DEPTH, '[]')), 'http://u/x')).toBeDefined();
    expect(() => parseUpstreamJson(res(nest(MAX_JSON_DEPTH + 1, '[]')), 'http://u/x')).toThrow(/deeper/);
    expect(parseUpstreamJson(res('"flat"'), 'http://u/x')).toBe('flat');
  });

  it('caps the decoded size, so a small gzip body cannot blow up memory', async () => {
    const err = await http.get(`${base}/bomb`, { signal: signal(), maxBytes: 1024 * 1024 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).code).toBe('too_large');
    expect((err as Error).message).toMatch(/decodes to more than 1048576 bytes/);
  });

  it('decodes an error body too, so the message shows what the upstream said', async () => {
    const err = await http.get(`${base}/gzip-error`, { signal: signal() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamHttpError);
    expect((err as Error).message).toContain('answered HTTP 401: {"message":"who are you","code":401}');
  });

  it('posts a form and never puts its values in an error', async () => {
    const ok = await http.postForm(`${base}/login`, { signal: signal(), form: { name: 'ops', password: 'right horse' } });
    expect(ok.headers['set-cookie']).toContain('karajo=abc123');
    const err = await http.postForm(`${base}/login`, { signal: signal(), form: { name: 'ops', password: 'wrong staple' } }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^POST http:\/\/127\.0\.0\.1:\d+\/login answered HTTP 400/);
    expect((err as Error).message).not.toContain('wrong staple');
  });
});
