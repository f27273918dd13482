/** Basic auth, bearer tokens and per-area modes through the auth seam (injected requests). */
import bcrypt from 'bcryptjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AuthMode } from '../config/schema.js';
import { buildTestApi, type TestApi } from '../api/test-helpers.js';
import { parseAuthorization, WebAuthenticator } from './authenticator.js';
import type { WebConfigSource } from './runtime.js';

const PASSWORD = 'correct horse battery';
const HASH = bcrypt.hashSync(PASSWORD, 4);
const TOKEN = 'grafana-token-0123456789abcdef';

function usersSource(users: Record<string, string>): WebConfigSource & { set(u: Record<string, string>): void } {
  let map = new Map(Object.entries(users));
  return { users: () => map, check: () => undefined, headers: () => ({}), set: (u) => (map = new Map(Object.entries(u))) };
}

const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

let t: TestApi | undefined;
afterEach(async () => {
  await t?.app.close();
  t = undefined;
  vi.restoreAllMocks();
});

async function serve(auth: Partial<Record<'metrics' | 'api' | 'events', AuthMode>>, options: { users?: Record<string, string>; tokens?: boolean } = {}): Promise<TestApi> {
  t = await buildTestApi({
    fill: false,
    web: { auth: { metrics: 'auto', api: 'auto', events: 'auto', ...auth }, bearerTokens: options.tokens ? [{ name: 'grafana', token: TOKEN }] : [] },
    ...(options.users ? { webConfig: usersSource(options.users) } : {}),
    extraRoutes: (app) => app.get('/metrics', async () => 'up 1\n'),
  });
  return t;
}

async function status(url: string, headers: Record<string, string> = {}): Promise<number> {
  if (!t) throw new Error('no app');
  return (await t.app.inject({ url, method: url.endsWith('/events') ? 'HEAD' : 'GET', headers })).statusCode;
}

describe('parseAuthorization', () => {
  it('reads basic and bearer, case-insensitive scheme, and refuses anything else', () => {
    expect(parseAuthorization(basic('alice', 'pa:ss').authorization)).toEqual({ scheme: 'basic', user: 'alice', secret: 'pa:ss' });
    expect(parseAuthorization(`bearer ${TOKEN}`)).toEqual({ scheme: 'bearer', secret: TOKEN });
    expect(parseAuthorization(undefined)).toBeUndefined();
    expect(parseAuthorization('  ')).toBeUndefined();
    expect(parseAuthorization('Digest a=b, c=d')).toEqual({ scheme: 'other' });
    expect(parseAuthorization(`Basic ${Buffer.from('no-colon').toString('base64')}`)).toEqual({ scheme: 'other' });
  });
});

describe('default modes (auto)', () => {
  it('leave every area open when nothing is configured', async () => {
    await serve({});
    for (const url of ['/metrics', '/api/v1/tasks', '/api/v1/events', '/-/healthy']) expect(await status(url), url).toBe(200);
  });

  it('require a basic auth user everywhere once users exist, probes excepted', async () => {
    await serve({}, { users: { alice: HASH } });
    for (const url of ['/metrics', '/api/v1/tasks', '/api/v1/events', '/openapi.json']) {
      expect(await status(url), url).toBe(401);
      expect(await status(url, basic('alice', PASSWORD)), url).toBe(200);
      expect(await status(url, basic('alice', 'wrong')), url).toBe(401);
      expect(await status(url, basic('mallory', PASSWORD)), url).toBe(401);
    }
    expect(await status('/-/healthy')).toBe(200);
    expect(await status('/-/ready')).toBe(200);
  });

  it('take either method when users and tokens exist', async () => {
    await serve({}, { users: { alice: HASH }, tokens: true });
    expect(await status('/api/v1/tasks', bearer(TOKEN))).toBe(200);
    expect(await status('/api/v1/events', bearer(TOKEN))).toBe(200);
    expect(await status('/metrics', basic('alice', PASSWORD))).toBe(200);
    const missing = await t?.app.inject({ url: '/api/v1/tasks' });
    expect(missing?.headers['www-authenticate']).toBe('Basic realm="buildscope", charset="UTF-8", Bearer realm="buildscope"');
    expect(missing?.json()).toEqual({ error: 'authentication required for api: send HTTP basic auth (a user of the web config file) or an Authorization: Bearer token' });
  });
});

describe('explicit modes per area', () => {
  it('metrics open, api bearer only, events basic or bearer', async () => {
    await serve({ metrics: 'none', api: 'bearer', events: 'any' }, { users: { alice: HASH }, tokens: true });
    expect(await status('/metrics')).toBe(200);
    expect(await status('/api/v1/tasks', bearer(TOKEN))).toBe(200);
    const wrongScheme = await t?.app.inject({ url: '/api/v1/tasks', headers: basic('alice', PASSWORD) });
    expect(wrongScheme?.statusCode).toBe(401);
    expect(wrongScheme?.headers['www-authenticate']).toBe('Bearer realm="buildscope"');
    expect(wrongScheme?.json()).toEqual({ error: 'api takes an Authorization: Bearer token; the Authorization header sent is not one of these' });
    expect(await status('/api/v1/events', bearer(TOKEN))).toBe(200);
    expect(await status('/api/v1/events', basic('alice', PASSWORD))).toBe(200);
    expect(await status('/api/v1/events')).toBe(401);
  });

  it('answers a wrong token with invalid_token and never echoes a credential', async () => {
    await serve({ api: 'bearer' }, { tokens: true });
    const wrong = await t?.app.inject({ url: '/api/v1/tasks', headers: bearer('not-the-token-at-all-0000') });
    expect(wrong?.statusCode).toBe(401);
    expect(wrong?.headers['www-authenticate']).toBe('Bearer realm="buildscope", error="invalid_token"');
    expect(wrong?.json()).toEqual({ error: 'the bearer token is not valid' });
    expect(wrong?.body).not.toContain('not-the-token');
    const badPassword = await (async () => {
      await t?.app.close();
      await serve({}, { users: { alice: HASH } });
      return t?.app.inject({ url: '/api/v1/tasks', headers: basic('alice', 'hunter2') });
    })();
    expect(badPassword?.json()).toEqual({ error: 'wrong user name or password' });
    expect(badPassword?.body).not.toContain('hunter2');
  });

  it('a basic-only area without users admits nobody (fail closed)', async () => {
    await serve({ api: 'basic' });
    expect(await status('/api/v1/tasks')).toBe(401);
    expect(await status('/metrics')).toBe(200);
  });
});

describe('bcrypt cost', () => {
  it('pays bcrypt once per good credential, every time for bad ones and unknown users, and again after the hash changes', async () => {
    const source = usersSource({ alice: HASH });
    const auth = new WebAuthenticator({ auth: { metrics: 'auto', api: 'auto', events: 'auto' }, bearerTokens: [] }, source);
    const compare = vi.spyOn(bcrypt, 'compare');
    expect(await auth.checkUser('alice', PASSWORD)).toBe(true);
    expect(await auth.checkUser('alice', PASSWORD)).toBe(true);
    expect(await auth.checkUser('alice', PASSWORD)).toBe(true);
    expect(compare).toHaveBeenCalledTimes(1);
    expect(await auth.checkUser('alice', 'wrong')).toBe(false);
    expect(await auth.checkUser('alice', 'wrong')).toBe(false);
    expect(compare).toHaveBeenCalledTimes(3);
    expect(await auth.checkUser('nobody', PASSWORD)).toBe(false);
    expect(compare).toHaveBeenCalledTimes(4);
    source.set({ alice: bcrypt.hashSync('new password', 4) });
    expect(await auth.checkUser('alice', PASSWORD)).toBe(false);
    expect(await auth.checkUser('alice', 'new password')).toBe(true);
    expect(compare).toHaveBeenCalledTimes(6);
  });

  it('finds a token among several', () => {
    const auth = new WebAuthenticator(
      { auth: { metrics: 'auto', api: 'auto', events: 'auto' }, bearerTokens: [{ name: 'a', token: 'aaaaaaaaaaaaaaaaaaaa' }, { name: 'b', token: 'bbbbbbbbbbbbbbbbbbbb' }] },
      undefined,
    );
    expect(auth.tokenName('bbbbbbbbbbbbbbbbbbbb')).toBe('b');
    expect(auth.tokenName('aaaaaaaaaaaaaaaaaaaa')).toBe('a');
    expect(auth.tokenName('aaaaaaaaaaaaaaaaaaa')).toBeUndefined();
    expect(auth.methods('api')).toEqual(['bearer']);
  });
});
