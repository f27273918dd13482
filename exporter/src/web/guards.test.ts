/** Safe headers, the request-target limit, CORS and the API rate limit (injected requests; counts, not time). */
import { afterEach, describe, expect, it } from 'vitest';
import { buildTestApi, type TestApi, type TestApiOptions } from '../api/test-helpers.js';
import { HTML_CSP } from './guards.js';
import type { WebConfigSource } from './runtime.js';

let t: TestApi | undefined;
afterEach(async () => {
  await t?.app.close();
  t = undefined;
});

async function serve(options: TestApiOptions = {}): Promise<TestApi> {
  t = await buildTestApi({
    fill: false,
    ...options,
    extraRoutes: (app) => {
      app.get('/metrics', async () => 'up 1\n');
      app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send('<!doctype html><p>hi</p>'));
    },
  });
  return t;
}

function app(): TestApi['app'] {
  if (!t) throw new Error('no app');
  return t.app;
}

describe('safe headers', () => {
  it('marks every answer no-sniff and not cacheable: JSON, errors, 404, metrics, the event stream', async () => {
    await serve();
    for (const url of ['/api/v1/tasks', '/api/v1/tasks?limit=0', '/nope', '/metrics', '/-/healthy', '/openapi.json']) {
      const res = await app().inject({ url });
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      expect(res.headers['cache-control'], url).toBe('no-store');
    }
    const sse = await app().inject({ method: 'HEAD', url: '/api/v1/events' });
    expect(sse.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(sse.headers['cache-control']).toBe('no-store');
    expect(sse.headers['x-content-type-options']).toBe('nosniff');
  });

  it('gives HTML a strict content security policy and forbids framing; JSON gets neither', async () => {
    await serve();
    const html = await app().inject({ url: '/' });
    expect(html.headers['content-security-policy']).toBe(HTML_CSP);
    expect(html.headers['x-frame-options']).toBe('DENY');
    expect(html.headers['referrer-policy']).toBe('no-referrer');
    const json = await app().inject({ url: '/api/v1/tasks' });
    expect(json.headers['content-security-policy']).toBeUndefined();
  });

  it('adds the web config file headers to every answer, overriding the HTML defaults', async () => {
    const webConfig: WebConfigSource = {
      users: () => new Map(),
      check: () => undefined,
      headers: () => ({ 'Strict-Transport-Security': 'max-age=63072000', 'X-Frame-Options': 'sameorigin', 'Content-Security-Policy': "default-src 'self'" }),
    };
    await serve({ webConfig });
    const html = await app().inject({ url: '/' });
    expect(html.headers['strict-transport-security']).toBe('max-age=63072000');
    expect(html.headers['x-frame-options']).toBe('sameorigin');
    expect(html.headers['content-security-policy']).toBe("default-src 'self'");
    expect((await app().inject({ url: '/api/v1/sources' })).headers['strict-transport-security']).toBe('max-age=63072000');
  });
});

describe('request limits', () => {
  it('answers 414 with JSON beyond web.max_url_length', async () => {
    await serve({ web: { maxUrlLength: 300 } });
    const long = await app().inject({ url: `/api/v1/tasks?q=${'a'.repeat(300)}` });
    expect(long.statusCode).toBe(414);
    expect(long.json()).toEqual({ error: 'the request target is 316 bytes, more than the limit of 300 (web.max_url_length); use fewer or shorter query parameters' });
    expect((await app().inject({ url: `/api/v1/tasks?q=${'a'.repeat(100)}` })).statusCode).toBe(200);
  });

  it('answers 413 with JSON to a request body beyond 16 KiB (the API takes none)', async () => {
    await serve();
    const big = await app().inject({ method: 'POST', url: '/api/v1/tasks', payload: 'x'.repeat(16 * 1024 + 1), headers: { 'content-type': 'application/json' } });
    expect(big.statusCode).toBe(413);
    expect(big.json()).toEqual({ error: 'the request body is too large (at most 16384 bytes): the API is read-only and takes no request bodies' });
    const small = await app().inject({ method: 'POST', url: '/api/v1/tasks', payload: '{}', headers: { 'content-type': 'application/json' } });
    expect(small.statusCode).toBe(404);
  });

  it('keeps the full-text and page-size limits (400, JSON)', async () => {
    await serve();
    const terms = await app().inject({ url: `/api/v1/tasks?q=${encodeURIComponent(Array.from({ length: 11 }, (_, i) => `t${i}`).join(' '))}` });
    expect(terms.statusCode).toBe(400);
    expect(terms.json()).toEqual({ error: 'search query has 11 terms, at most 10' });
    const long = await app().inject({ url: `/api/v1/tasks?q=${'x'.repeat(201)}` });
    expect(long.json()).toEqual({ error: 'search query too long: 201 characters, at most 200' });
    const page = await app().inject({ url: '/api/v1/tasks?limit=1001' });
    expect(page.statusCode).toBe(400);
    expect(page.json().error).toMatch(/^query parameter "limit" must be <= 1000/);
  });
});

describe('CORS', () => {
  const preflight = { method: 'OPTIONS' as const, url: '/api/v1/tasks', headers: { origin: 'https://grafana.example.org', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } };

  it('is off unless configured: no CORS headers, preflight is a JSON 404', async () => {
    await serve();
    const res = await app().inject({ url: '/api/v1/tasks', headers: { origin: 'https://evil.example' } });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const pre = await app().inject(preflight);
    expect(pre.statusCode).toBe(404);
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
    expect(pre.json().error).toMatch(/^no route OPTIONS/);
  });

  it('answers preflights for the allowed origins, before authentication, and only those', async () => {
    await serve({ web: { corsOrigins: ['https://grafana.example.org'], auth: { metrics: 'bearer', api: 'bearer', events: 'bearer' }, bearerTokens: [{ name: 'g', token: 'abcdefghijklmnopqrstuvwxyz' }] } });
    const pre = await app().inject(preflight);
    expect(pre.statusCode).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('https://grafana.example.org');
    expect(pre.headers['access-control-allow-methods']).toBe('GET, HEAD');
    expect(pre.headers['access-control-allow-headers']).toBe('Authorization, Last-Event-ID, Content-Type');
    const other = await app().inject({ ...preflight, headers: { ...preflight.headers, origin: 'https://evil.example' } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const get = await app().inject({ url: '/api/v1/tasks', headers: { origin: 'https://grafana.example.org', authorization: 'Bearer abcdefghijklmnopqrstuvwxyz' } });
    expect(get.statusCode).toBe(200);
    expect(get.headers['access-control-allow-origin']).toBe('https://grafana.example.org');
    const denied = await app().inject({ url: '/api/v1/tasks', headers: { origin: 'https://grafana.example.org' } });
    expect(denied.statusCode).toBe(401);
  });
});

describe('rate limit', () => {
  it('answers 429 with JSON and Retry-After beyond the limit per client IP; metrics and probes are exempt', async () => {
    await serve({ web: { rateLimit: { max: 3, windowSeconds: 60 } } });
    for (let i = 0; i < 3; i += 1) expect((await app().inject({ url: '/api/v1/tasks' })).statusCode).toBe(200);
    const limited = await app().inject({ url: '/api/v1/sources' });
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(limited.headers['x-content-type-options']).toBe('nosniff');
    expect(limited.json().error).toMatch(/^too many API requests from 127\.0\.0\.1 \(the limit is 3 per 1 min, web\.rate_limit\); retry in \d+ s$/);
    expect((await app().inject({ method: 'HEAD', url: '/api/v1/events' })).statusCode).toBe(429);
    for (let i = 0; i < 5; i += 1) {
      expect((await app().inject({ url: '/metrics' })).statusCode).toBe(200);
      expect((await app().inject({ url: '/-/healthy' })).statusCode).toBe(200);
      expect((await app().inject({ url: '/-/ready' })).statusCode).toBe(200);
    }
    // Another client has its own budget.
    expect((await app().inject({ url: '/api/v1/tasks', remoteAddress: '192.0.2.7' })).statusCode).toBe(200);
  });

  it('counts by the proxy header only from trusted proxies', async () => {
    await serve({ web: { rateLimit: { max: 1, windowSeconds: 60 } }, events: { trusted_proxies: ['10.0.0.1'] } });
    const via = (ip: string, peer = '10.0.0.1') => app().inject({ url: '/api/v1/tasks', remoteAddress: peer, headers: { 'x-real-ip': ip } });
    expect((await via('198.51.100.1')).statusCode).toBe(200);
    expect((await via('198.51.100.2')).statusCode).toBe(200);
    const again = await via('198.51.100.1');
    expect(again.statusCode).toBe(429);
    expect(again.json().error).toMatch(/from 198\.51\.100\.1 /);
    // An untrusted peer's header is ignored: both requests count for the peer.
    expect((await via('198.51.100.3', '203.0.113.9')).statusCode).toBe(200);
    expect((await via('198.51.100.4', '203.0.113.9')).statusCode).toBe(429);
  });

  it('counts before authentication, so guessing credentials is limited too', async () => {
    await serve({ web: { rateLimit: { max: 2, windowSeconds: 60 }, auth: { metrics: 'bearer', api: 'bearer', events: 'bearer' }, bearerTokens: [{ name: 'g', token: 'abcdefghijklmnopqrstuvwxyz' }] } });
    for (let i = 0; i < 2; i += 1) expect((await app().inject({ url: '/api/v1/tasks', headers: { authorization: `Bearer guess-${i}-xxxxxxxxxxxxxxxx` } })).statusCode).toBe(401);
    expect((await app().inject({ url: '/api/v1/tasks', headers: { authorization: 'Bearer abcdefghijklmnopqrstuvwxyz' } })).statusCode).toBe(429);
  });

  it('can be turned off', async () => {
    await serve({ web: { rateLimit: { max: 0, windowSeconds: 60 } } });
    for (let i = 0; i < 20; i += 1) expect((await app().inject({ url: '/api/v1/tasks' })).statusCode).toBe(200);
    expect((await app().inject({ url: '/api/v1/tasks' })).headers['x-ratelimit-limit']).toBeUndefined();
  });
});
