/**
 * The real exporter with --web.config.file: TLS (minimum version, client certificates per
 * client_auth_type), basic auth and bearer tokens per area, reloading a changed file (password
 * hash, certificate, client policy) without a restart, keeping the last good config when the file
 * turns invalid, and refusing to start with an invalid file. Certificates are made with openssl.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SecureVersion, TLSSocket } from 'node:tls';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../exporter/src/util/wait-until.js';
import { MAIN_JS, startExporter, type ExporterProcess } from '../support/exporter-process.js';
import { requireTool } from '../support/tools.js';

const openssl = requireTool('openssl', 'openssl');
const TOKEN = 'e2e-bearer-token-0123456789abcdef';

interface Answer {
  status?: number;
  body?: string;
  /** sha256 fingerprint of the server certificate. */
  cert?: string;
  /** Set when the connection failed (handshake refused, reset). */
  error?: string;
}

interface ClientOptions {
  cert?: string;
  key?: string;
  maxVersion?: SecureVersion;
  headers?: Record<string, string>;
  method?: string;
}

let dir = '';
const pem = (name: string) => readFileSync(join(dir, name), 'utf8');

function sh(args: string[]): void {
  execFileSync(openssl as string, args, { cwd: dir, stdio: 'pipe' });
}

/** A key and a certificate signed by the CA (or self-signed when `ca` is false). */
function issue(name: string, subject: string, san: string, ca = true): void {
  sh(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
  writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\n`);
  if (ca) sh(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', `${name}.crt`, '-extfile', `${name}.ext`]);
  else sh(['x509', '-req', '-in', `${name}.csr`, '-signkey', `${name}.key`, '-days', '2', '-out', `${name}.crt`, '-extfile', `${name}.ext`]);
}

/** One request on a fresh connection (so each sees the server's current TLS settings). */
function get(base: string, path: string, options: ClientOptions = {}): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request(
      `${base}${path}`,
      {
        method: options.method ?? 'GET',
        agent: false,
        ca: pem('ca.crt'),
        ...(options.cert ? { cert: pem(options.cert), key: pem(options.key ?? '') } : {}),
        ...(options.maxVersion ? { maxVersion: options.maxVersion } : {}),
        headers: options.headers ?? {},
        timeout: 10_000,
      },
      (res) => {
        const cert = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, cert }));
        res.on('error', (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }));
    req.end();
  });
}

const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

function webConfig(options: { users: Record<string, string>; cert?: string; clientAuth?: string; minVersion?: string; sans?: string[] }): string {
  const users = Object.entries(options.users)
    .map(([u, h]) => `  ${u}: '${h}'`)
    .join('\n');
  return [
    'tls_server_config:',
    `  cert_file: ${options.cert ?? 'server'}.crt`,
    `  key_file: ${options.cert ?? 'server'}.key`,
    `  min_version: ${options.minVersion ?? 'TLS13'}`,
    ...(options.clientAuth ? [`  client_auth_type: ${options.clientAuth}`, '  client_ca_file: ca.crt'] : []),
    ...(options.sans ? [`  client_allowed_sans: [${options.sans.join(', ')}]`] : []),
    'http_server_config:',
    '  headers:',
    '    Strict-Transport-Security: max-age=31536000',
    'basic_auth_users:',
    users,
    '',
  ].join('\n');
}

function fingerprint(name: string): string {
  return execFileSync(openssl as string, ['x509', '-in', `${name}.crt`, '-noout', '-fingerprint', '-sha256'], { cwd: dir, encoding: 'utf8' })
    .trim()
    .replace(/^.*=/, '');
}

describe.skipIf(openssl === undefined)('the exporter with --web.config.file (real TLS)', () => {
  let exporter: ExporterProcess | undefined;
  let base = '';
  const hash1 = bcrypt.hashSync('first password', 4);
  const hash2 = bcrypt.hashSync('second password', 4);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'buildscope-web-tls-'));
    sh(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=buildscope test CA']);
    issue('server', '/CN=server one', 'IP:127.0.0.1');
    issue('server2', '/CN=server two', 'IP:127.0.0.1');
    issue('client', '/CN=client', 'DNS:client.example.org');
    issue('rogue', '/CN=rogue', 'DNS:rogue.example.org', false);
    writeFileSync(join(dir, 'token.txt'), `${TOKEN}\n`);
    writeFileSync(
      join(dir, 'buildscope.yaml'),
      ['web:', '  bearer_tokens:', '    - name: grafana', '      token_file: token.txt', 'sources:', '  - name: alt', '    kind: girar', '    url: http://127.0.0.1:9/', '    stream: false', ''].join('\n'),
    );
    writeFileSync(join(dir, 'web.yml'), webConfig({ users: { alice: hash1 } }));
    exporter = await startExporter([`--config.file=${join(dir, 'buildscope.yaml')}`, `--web.config.file=${join(dir, 'web.yml')}`]);
    base = exporter.url;
  }, 60_000);

  afterAll(async () => {
    await exporter?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Rewrite the web config and wait until the exporter answers as `ready` says (it checks about once a second). */
  async function reconfigure(text: string, ready: () => Promise<boolean>, what: string): Promise<void> {
    writeFileSync(join(dir, 'web.yml'), text);
    await waitUntil(async () => (await ready()) || undefined, 10_000, { what });
  }

  it('serves HTTPS only to TLS 1.3 clients when min_version is TLS13', async () => {
    expect(base).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const old = await get(base, '/-/healthy', { maxVersion: 'TLSv1.2' });
    expect(old.status).toBeUndefined();
    expect(old.error).toBeDefined();
    const ok = await get(base, '/-/healthy');
    expect(ok).toMatchObject({ status: 200, cert: fingerprint('server') });
  });

  it('guards /metrics, /api/ and the event stream with basic auth or the bearer token; probes stay open', async () => {
    expect((await get(base, '/-/healthy')).status).toBe(200);
    expect((await get(base, '/-/ready')).status).not.toBe(401);
    for (const path of ['/metrics', '/api/v1/tasks', '/api/v1/sources']) {
      const missing = await get(base, path);
      expect(missing.status, path).toBe(401);
      expect(JSON.parse(missing.body ?? '{}').error, path).toMatch(/^authentication required for (metrics|api)/);
      expect((await get(base, path, { headers: basic('alice', 'first password') })).status, path).toBe(200);
      const wrong = await get(base, path, { headers: basic('alice', 'not it') });
      expect(wrong.status, path).toBe(401);
      expect(wrong.body).not.toContain('not it');
      expect((await get(base, path, { headers: { authorization: `Bearer ${TOKEN}` } })).status, path).toBe(200);
      expect((await get(base, path, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status, path).toBe(401);
    }
    expect((await get(base, '/api/v1/events', { method: 'HEAD' })).status).toBe(401);
    expect((await get(base, '/api/v1/events', { method: 'HEAD', headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  });

  it('streams events over TLS to a bearer-token client', async () => {
    const first = await new Promise<{ status: number; type: string | undefined; chunk: string }>((resolve, reject) => {
      const req = request(`${base}/api/v1/events`, { agent: false, ca: pem('ca.crt'), headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
        res.setEncoding('utf8');
        res.once('data', (chunk: string) => {
          resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], chunk });
          req.destroy();
        });
      });
      req.on('error', reject);
      req.end();
    });
    expect(first.status).toBe(200);
    expect(first.type).toBe('text/event-stream; charset=utf-8');
    expect(first.chunk).toContain('retry: 3000');
  });

  it('reloads a changed password hash and certificate without a restart', async () => {
    await reconfigure(
      webConfig({ users: { alice: hash2 }, cert: 'server2' }),
      async () => (await get(base, '/metrics', { headers: basic('alice', 'second password') })).status === 200,
      'the new password to work',
    );
    expect((await get(base, '/metrics', { headers: basic('alice', 'first password') })).status).toBe(401);
    expect((await get(base, '/-/healthy')).cert).toBe(fingerprint('server2'));
    expect(exporter?.stderr()).toContain('web config reloaded');
  });

  it('keeps the last good config when the file becomes invalid, and logs why without secrets', async () => {
    writeFileSync(join(dir, 'web.yml'), `${webConfig({ users: { alice: hash1 } })}tls_server_config_typo: 1\n`);
    // The file is checked on new connections and requests: keep making them until the error shows.
    await waitUntil(
      async () => {
        await get(base, '/-/healthy');
        return exporter?.stderr().includes('unknown key \\"tls_server_config_typo') || undefined;
      },
      10_000,
      { what: 'the reload error in the log' },
    );
    expect(exporter?.stderr()).toContain(`web config file ${join(dir, 'web.yml')}`);
    expect(exporter?.stderr()).toContain('keeping the last good web config');
    expect(exporter?.stderr()).not.toContain(hash1);
    expect((await get(base, '/metrics', { headers: basic('alice', 'second password') })).status).toBe(200);
    expect((await get(base, '/metrics', { headers: basic('alice', 'first password') })).status).toBe(401);
  });

  it('requires and verifies client certificates per client_auth_type, switched by reloading', async () => {
    const auth = basic('alice', 'second password');
    const good = { cert: 'client.crt', key: 'client.key', headers: auth };
    const rogue = { cert: 'rogue.crt', key: 'rogue.key', headers: auth };
    const none = { headers: auth };

    await reconfigure(
      webConfig({ users: { alice: hash2 }, cert: 'server2', clientAuth: 'RequireAndVerifyClientCert' }),
      async () => (await get(base, '/metrics', none)).error !== undefined,
      'RequireAndVerifyClientCert to refuse a client without a certificate',
    );
    expect((await get(base, '/metrics', good)).status).toBe(200);
    expect((await get(base, '/metrics', rogue)).error).toBeDefined();
    // The certificate admits the connection; the areas still want credentials.
    expect((await get(base, '/metrics', { cert: 'client.crt', key: 'client.key' })).status).toBe(401);

    await reconfigure(
      webConfig({ users: { alice: hash2 }, cert: 'server2', clientAuth: 'RequireAndVerifyClientCert', sans: ['other.example.org'] }),
      async () => (await get(base, '/metrics', good)).error !== undefined,
      'client_allowed_sans to refuse a verified certificate without an allowed SAN',
    );
    await reconfigure(
      webConfig({ users: { alice: hash2 }, cert: 'server2', clientAuth: 'RequireAndVerifyClientCert', sans: ['other.example.org', 'client.example.org'] }),
      async () => (await get(base, '/metrics', good)).status === 200,
      'client_allowed_sans to admit a certificate with an allowed SAN',
    );

    await reconfigure(
      webConfig({ users: { alice: hash2 }, cert: 'server2', clientAuth: 'VerifyClientCertIfGiven' }),
      async () => (await get(base, '/metrics', none)).status === 200,
      'VerifyClientCertIfGiven to admit a client without a certificate',
    );
    expect((await get(base, '/metrics', good)).status).toBe(200);
    expect((await get(base, '/metrics', rogue)).error).toBeDefined();

    await reconfigure(
      webConfig({ users: { alice: hash2 }, cert: 'server2', clientAuth: 'RequireAnyClientCert' }),
      async () => (await get(base, '/metrics', rogue)).status === 200,
      'RequireAnyClientCert to admit an unverified certificate',
    );
    expect((await get(base, '/metrics', none)).error).toBeDefined();
    expect((await get(base, '/metrics', good)).status).toBe(200);

    await reconfigure(
      webConfig({ users: { alice: hash2 }, cert: 'server2', clientAuth: 'RequestClientCert' }),
      async () => (await get(base, '/metrics', none)).status === 200,
      'RequestClientCert to admit a client without a certificate',
    );
    expect((await get(base, '/metrics', rogue)).status).toBe(200);
  });
});

describe.skipIf(openssl === undefined)('an invalid web config file at start', () => {
  it('exits 1 with a message naming the file and the problem', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'buildscope-web-bad-'));
    try {
      writeFileSync(join(tmp, 'buildscope.yaml'), 'sources:\n  - name: alt\n    kind: girar\n    url: http://127.0.0.1:9/\n    stream: false\n');
      const run = (web: string) =>
        spawnSync(process.execPath, [MAIN_JS, `--config.file=${join(tmp, 'buildscope.yaml')}`, `--web.config.file=${join(tmp, web)}`, '--web.listen-address=127.0.0.1:0'], { encoding: 'utf8', timeout: 30_000 });

      writeFileSync(join(tmp, 'web.yml'), "basic_auth_users:\n  alice: 'plain-text-secret'\n");
      const plain = run('web.yml');
      expect(plain.status).toBe(1);
      expect(plain.stderr).toContain(`web config file ${join(tmp, 'web.yml')}: basic_auth_users.alice is not a bcrypt hash`);
      expect(plain.stderr).not.toContain('plain-text-secret');

      writeFileSync(join(tmp, 'tls.yml'), 'tls_server_config:\n  cert_file: missing.crt\n  key_file: missing.key\n');
      const missing = run('tls.yml');
      expect(missing.status).toBe(1);
      expect(missing.stderr).toContain(`web config file ${join(tmp, 'tls.yml')}: cannot read cert_file ${join(tmp, 'missing.crt')}: ENOENT`);

      const absent = run('absent.yml');
      expect(absent.status).toBe(1);
      expect(absent.stderr).toContain(`web config file ${join(tmp, 'absent.yml')}: cannot read the file: ENOENT`);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 60_000);
});
