/** Reloading the web config file: throttled checks (injected clock), last good config kept, errors logged once. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import type { FastifyBaseLogger } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { authSetupProblems, WebRuntime } from './runtime.js';

const dir = mkdtempSync(join(tmpdir(), 'web-runtime-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const HASH_A = bcrypt.hashSync('a', 4);
const HASH_B = bcrypt.hashSync('b', 4);

interface Logged {
  level: 'info' | 'error';
  obj: unknown;
  msg: string;
}

function fakeLog(): { log: FastifyBaseLogger; lines: Logged[] } {
  const lines: Logged[] = [];
  const log = {
    info: (obj: unknown, msg: string) => lines.push({ level: 'info', obj, msg }),
    error: (obj: unknown, msg: string) => lines.push({ level: 'error', obj, msg }),
  } as unknown as FastifyBaseLogger;
  return { log, lines };
}

describe('WebRuntime', () => {
  it('re-reads a changed file at most once a second, keeps the last good config when it turns invalid, and logs that once', () => {
    const file = join(dir, 'web.yml');
    writeFileSync(file, `basic_auth_users:\n  alice: '${HASH_A}'\n`);
    let now = 1_000_000;
    const runtime = new WebRuntime(file, () => now);
    const { log, lines } = fakeLog();
    const server = createServer();
    runtime.attach(server, log);
    expect(runtime.users().get('alice')).toBe(HASH_A);

    runtime.check();
    writeFileSync(file, `basic_auth_users:\n  alice: '${HASH_B}'\n  bob: '${HASH_A}'\n`);
    now += 999;
    runtime.check();
    expect(runtime.users().get('alice')).toBe(HASH_A);
    now += 1;
    runtime.check();
    expect(runtime.users().get('alice')).toBe(HASH_B);
    expect([...runtime.users().keys()]).toEqual(['alice', 'bob']);
    expect(lines).toEqual([{ level: 'info', obj: { file, tls: false, users: 2 }, msg: 'web config reloaded' }]);

    writeFileSync(file, `basic_auth_users:\n  alice: 'plain-secret'\n`);
    for (let i = 0; i < 3; i += 1) {
      now += 1000;
      runtime.check();
    }
    expect(runtime.users().get('alice')).toBe(HASH_B);
    expect(lines.filter((l) => l.level === 'error')).toEqual([
      {
        level: 'error',
        obj: { file },
        msg: `web config file ${file}: basic_auth_users.alice is not a bcrypt hash ($2a$, $2b$ or $2y$, e.g. from "htpasswd -nBC 10 alice"); plain-text passwords are not accepted; keeping the last good web config`,
      },
    ]);
    expect(JSON.stringify(lines)).not.toContain('plain-secret');

    writeFileSync(file, 'tls_server_config:\n  cert: x\n  key: y\n');
    now += 1000;
    runtime.check();
    expect(lines.at(-1)?.msg).toMatch(/switching between HTTP and HTTPS needs a restart; keeping the last good web config$/);

    writeFileSync(file, `basic_auth_users:\n  carol: '${HASH_A}'\n`);
    now += 1000;
    runtime.check();
    expect([...runtime.users().keys()]).toEqual(['carol']);
    server.close();
  });

  it('a server connection triggers the check', () => {
    const file = join(dir, 'web2.yml');
    writeFileSync(file, '');
    let checks = 0;
    const runtime = new WebRuntime(file, () => {
      checks += 1;
      return checks * 10_000;
    });
    const server = createServer();
    runtime.attach(server, fakeLog().log);
    server.emit('connection', { on: () => undefined, destroy: () => undefined });
    expect(checks).toBe(1);
    server.close();
  });
});

describe('authSetupProblems', () => {
  it('refuses an area that needs basic auth when no file has users', () => {
    expect(authSetupProblems({ auth: { metrics: 'basic', api: 'auto', events: 'none' } }, undefined)).toEqual([
      'web.auth.metrics is "basic" but no --web.config.file with basic_auth_users is given; add users or choose another mode',
    ]);
    expect(authSetupProblems({ auth: { metrics: 'auto', api: 'any', events: 'bearer' } }, undefined)).toEqual([]);
    expect(authSetupProblems({ auth: { metrics: 'basic', api: 'auto', events: 'auto' } }, { file: 'w.yml', http2: true, headers: {}, users: new Map([['a', HASH_A]]) })).toEqual([]);
  });
});
