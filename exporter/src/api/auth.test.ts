import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ExporterMetrics, metricsRoute } from '../metrics/index.js';
import { allowAll, areaOfPath, type AuthArea, type Authenticator } from './auth.js';
import { buildTestApi, type TestApi, type TestApiOptions } from './test-helpers.js';

let t: TestApi | undefined;
let metrics: ExporterMetrics | undefined;
afterEach(async () => {
  await t?.app.close();
  metrics?.close();
  t = undefined;
  metrics = undefined;
});

describe('auth seam', () => {
  it('maps route patterns to areas, failing closed', () => {
    expect(areaOfPath('/metrics')).toBe('metrics');
    expect(areaOfPath('/api/v1/events?source=alt')).toBe('events');
    expect(areaOfPath('/api/v1/tasks')).toBe('api');
    expect(areaOfPath('/api/v1/tasks/:source/:id')).toBe('api');
    expect(areaOfPath('/openapi.json')).toBe('api');
    // Public only by declaring `authArea: 'public'` (as the probes do), never by path.
    expect(areaOfPath('/-/ready')).toBe('api');
    expect(areaOfPath('/')).toBe('api');
  });

  it('lets everything through by default', async () => {
    t = await buildTestApi({ fill: false });
    expect((await t.app.inject({ url: '/api/v1/tasks' })).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/openapi.json' })).statusCode).toBe(200);
  });

  it('asks the authenticator with the area of each route, never for probes', async () => {
    const asked: [AuthArea, string][] = [];
    const authenticator: Authenticator = {
      authenticate(area, request) {
        asked.push([area, request.url]);
        if (request.headers.authorization === 'Bearer good') return { allowed: true };
        return { allowed: false, statusCode: 401, message: `credentials required for ${area}`, headers: { 'WWW-Authenticate': 'Bearer realm="buildscope"' } };
      },
    };
    t = await buildTestApi({ fill: false, authenticator, extraRoutes: (app) => app.get('/metrics', async () => 'ok') });

    const denied = await t.app.inject({ url: '/api/v1/tasks' });
    expect(denied.statusCode).toBe(401);
    expect(denied.headers['www-authenticate']).toBe('Bearer realm="buildscope"');
    expect(denied.json()).toEqual({ error: 'credentials required for api' });
    expect((await t.app.inject({ url: '/api/v1/tasks', headers: { authorization: 'Bearer good' } })).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/api/v1/events' })).json()).toEqual({ error: 'credentials required for events' });
    expect((await t.app.inject({ url: '/metrics' })).statusCode).toBe(401);
    expect((await t.app.inject({ url: '/-/healthy' })).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/-/ready' })).statusCode).toBe(200);
    expect(asked.map(([area]) => area)).toEqual(['api', 'api', 'events', 'metrics']);
  });

  it('guards a route without a declared area by its pattern, and such routes are never public', async () => {
    const asked: AuthArea[] = [];
    const denyAll: Authenticator = {
      authenticate: (area) => {
        asked.push(area);
        return { allowed: false, statusCode: 401, message: 'no' };
      },
    };
    t = await buildTestApi({
      fill: false,
      authenticator: denyAll,
      extraRoutes: (app) => {
        app.get('/', async () => 'landing');
        app.get('/-/reload', async () => 'reloaded');
        app.get('/metrics/extra', async () => 'more');
        app.get('/declared', { config: { authArea: 'events' } }, async () => 'declared');
      },
    });
    for (const url of ['/', '/-/reload', '/metrics/extra', '/declared']) expect((await t.app.inject({ url })).statusCode, url).toBe(401);
    expect(asked).toEqual(['api', 'api', 'metrics', 'events']);
  });
});

/**
 * Raw HTTP against a listening server, so the paths reach fastify byte for byte (no client-side
 * normalization of `..`, `//` or percent-escapes). Only the status line and headers are read.
 */
function rawGet(base: string, path: string, method = 'GET'): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path, method }, (res) => {
      const status = res.statusCode ?? 0;
      if ((res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
        // An open SSE stream never ends by itself: the status is the answer.
        res.destroy();
        resolve({ status, body: '' });
        return;
      }
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('auth seam: the area comes from the matched route, not the raw URL', () => {
  const asked: AuthArea[] = [];
  const denyAll: Authenticator = {
    authenticate(area) {
      asked.push(area);
      return { allowed: false, statusCode: 401, message: `credentials required for ${area}` };
    },
  };

  /** The API plus the real `/metrics` route (metrics/route.ts), listening on loopback. */
  async function serve(authenticator: Authenticator): Promise<string> {
    const options: TestApiOptions = {
      authenticator,
      extraRoutes: (app, { store, health }) => {
        metrics = new ExporterMetrics({ store, health, version: '0.0.0-test', processMetrics: false });
        void app.register(metricsRoute, { metrics });
      },
    };
    t = await buildTestApi(options);
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    return `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  }

  /** Spellings fastify routes to a protected route (it decodes the path before matching), with that route's area. */
  const PROTECTED: [string, AuthArea][] = [
    ['/metrics', 'metrics'],
    ['/%6detrics', 'metrics'],
    ['/%6D%65trics', 'metrics'],
    ['/metrics?x', 'metrics'],
    ['/%61pi/v1/tasks', 'api'],
    ['/api/v1/%74asks?state=ALL', 'api'],
    ['/api/v1/tasks/%61lt/411555', 'api'],
    ['/openapi%2Ejson', 'api'],
    ['/%61pi/v1/events', 'events'],
    ['/api/v1/event%73?source=alt', 'events'],
  ];
  /** Spellings no route matches: they must get the JSON 404, whatever the authenticator says. */
  const UNROUTED = ['//metrics', '/api/v1/../metrics', '/api/v1/./tasks', '/%2e%2e/metrics', '/metrics/', '/nope', '/api/v1/nope'];
  const PUBLIC = ['/-/healthy', '/-/ready', '/%2D/healthy', '/-/%72eady'];

  it('serves every spelling with the default authenticator (so the 401s below are real routes)', async () => {
    const base = await serve(allowAll);
    for (const [path] of PROTECTED) expect((await rawGet(base, path)).status, path).toBe(200);
    for (const path of PUBLIC) expect((await rawGet(base, path)).status, path).toBe(200);
    for (const path of UNROUTED) expect((await rawGet(base, path)).status, path).toBe(404);
  });

  it('denies every spelling of a protected route with a deny-all authenticator, probes stay open', async () => {
    asked.length = 0;
    const base = await serve(denyAll);
    for (const [path, area] of PROTECTED) {
      const res = await rawGet(base, path);
      expect(res.status, path).toBe(401);
      expect(JSON.parse(res.body), path).toEqual({ error: `credentials required for ${area}` });
    }
    expect(asked).toEqual(PROTECTED.map(([, area]) => area));
    expect((await rawGet(base, '/metrics', 'HEAD')).status).toBe(401);
    expect((await rawGet(base, '/%6detrics', 'HEAD')).status).toBe(401);
    for (const path of PUBLIC) expect((await rawGet(base, path)).status, path).toBe(200);
    for (const path of UNROUTED) {
      const res = await rawGet(base, path);
      expect(res.status, path).toBe(404);
      expect(JSON.parse(res.body).error, path).toMatch(/^no route GET /);
    }
    expect(asked).toHaveLength(PROTECTED.length + 2);
  });
});
