/** Hostile input: Content-Encoding decoding in UpstreamHttp (sources/http.ts). */
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeUpstream, type FakeRoute } from '../test-support/fake-upstream.js';
import { UpstreamHttp } from './http.js';
import { UpstreamHttpError as UpstreamHttpErrorE } from './errors.js';

const fakes: FakeUpstream[] = [];
async function upstream(routes: Record<string, FakeRoute>): Promise<FakeUpstream> {
  const f = new FakeUpstream(routes);
  await f.up();
  fakes.push(f);
  return f;
}
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.down()));
});
const get = (url: string, maxBytes?: number) => new UpstreamHttp().get(url, { signal: AbortSignal.timeout(5000), ...(maxBytes ? { maxBytes } : {}) });

describe('hostile input: UpstreamHttp decoding', () => {
  it('uppercase GZIP and zlib deflate decode', async () => {
    const f = await upstream({ '/a': { body: gzipSync('hello'), headers: { 'content-encoding': 'GZIP' } }, '/b': { body: deflateSync('hello'), headers: { 'content-encoding': 'Deflate' } } });
    expect((await get(`${f.url}/a`)).body).toBe('hello');
    expect((await get(`${f.url}/b`)).body).toBe('hello');
  });

  it('a gzip bomb stops at maxBytes decoded', async () => {
    const f = await upstream({ '/bomb': { body: gzipSync(Buffer.alloc(50 * 1024 * 1024)), headers: { 'content-encoding': 'gzip' } } });
    await expect(get(`${f.url}/bomb`, 1024 * 1024)).rejects.toThrow(/decodes to more than 1048576 bytes/);
  });

  it('"gzip, gzip" (two codings, RFC 9110 8.4) is decoded', async () => {
    const f = await upstream({ '/x': { body: gzipSync(gzipSync('hello')), headers: { 'content-encoding': 'gzip, gzip' } } });
    expect((await get(`${f.url}/x`)).body).toBe('hello');
  });

  it('raw deflate (no zlib header, as some servers send "deflate") is decoded', async () => {
    const f = await upstream({ '/x': { body: deflateRawSync('hello'), headers: { 'content-encoding': 'deflate' } } });
    expect((await get(`${f.url}/x`)).body).toBe('hello');
  });

  it('a 401 whose body does not decode is still an HTTP 401 (not a payload error hiding the status)', async () => {
    const f = await upstream({ '/x': { status: 401, body: '', headers: { 'content-encoding': 'gzip' } } });
    const err = await get(`${f.url}/x`).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamHttpErrorE);
  });

  it('a body that is not UTF-8 is a payload error naming the byte, gzipped or not (never silently U+FFFD)', async () => {
    const bad = Buffer.concat([Buffer.from('{"owner":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const good = '{"owner":"Jos\u00e9 \ud83d\ude00"}';
    const f = await upstream({ '/plain': { body: bad }, '/gz': { body: gzipSync(bad), headers: { 'content-encoding': 'gzip' } }, '/ok': { body: good } });
    for (const path of ['/plain', '/gz']) {
      const err = await get(`${f.url}${path}`).then(() => undefined, (e: unknown) => e);
      expect((err as { code?: string }).code).toBe('payload');
      expect((err as Error).message).toContain('the body is not valid UTF-8: byte 0xff at offset 10 (after "{\\"owner\\":\\"")');
    }
    expect((await get(`${f.url}/ok`)).body).toBe(good);
  });

  it('an error body that is not UTF-8 still reports the status', async () => {
    const f = await upstream({ '/x': { status: 503, body: Buffer.from([0x3c, 0xff, 0x3e]) } });
    const err = await get(`${f.url}/x`).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamHttpErrorE);
  });

  it('an upstream that echoes the credentials in its error page never gets them into the message', async () => {
    const echo = (req: import('node:http').IncomingMessage) => ({ status: 401, contentType: 'text/plain', body: `bad credentials: ${req.headers.authorization ?? ''} ${req.headers['x-api-key'] ?? ''} ${req.url ?? ''}` });
    const f = await upstream({ '/x': echo, '/login': { status: 400, body: 'wrong password pw-Secret-42 for exporter' } });
    const http = new UpstreamHttp();
    const err = await http
      .get(`${f.url}/x?token=tok-Secret-1`, { signal: AbortSignal.timeout(5000), headers: { authorization: 'Bearer bearer-Secret-7', 'x-api-key': 'key-Secret-9' } })
      .then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamHttpErrorE);
    const message = (err as Error).message;
    expect(message).toContain('HTTP 401: bad credentials: <redacted> <redacted> /x?token=<redacted>');
    for (const secret of ['bearer-Secret-7', 'key-Secret-9', 'tok-Secret-1']) expect(message).not.toContain(secret);
    const login = await http.postForm(`${f.url}/login`, { signal: AbortSignal.timeout(5000), form: { name: 'exporter', password: 'pw-Secret-42' } }).then(() => undefined, (e: unknown) => e);
    expect((login as Error).message).toContain('wrong password <redacted> for');
    expect((login as Error).message).not.toContain('pw-Secret-42');
  });
});
