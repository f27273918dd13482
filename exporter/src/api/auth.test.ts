import { afterEach, describe, expect, it } from 'vitest';
import { areaOfPath, type AuthArea, type Authenticator } from './auth.js';
import { buildTestApi, type TestApi } from './test-helpers.js';

let t: TestApi | undefined;
afterEach(async () => {
  await t?.app.close();
  t = undefined;
});

describe('auth seam', () => {
  it('maps paths to areas', () => {
    expect(areaOfPath('/metrics')).toBe('metrics');
    expect(areaOfPath('/api/v1/events?source=alt')).toBe('events');
    expect(areaOfPath('/api/v1/tasks')).toBe('api');
    expect(areaOfPath('/openapi.json')).toBe('api');
    expect(areaOfPath('/-/ready')).toBeUndefined();
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
});
