/** The exporter-toolkit web config parser: every key, every bad value. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadWebConfigFile, parseWebConfig, referencedFiles, secureContextOptions, WebConfigError } from './web-config.js';

const FILE = '/etc/buildscope/web.yml';
const HASH = '$2y$10$X0gYLCnbk5uTIIuEdzzJZ.OIYBHAqN8Q4nJJ0p2B2e66u5KAxyy3S';

function problems(text: string): string[] {
  try {
    parseWebConfig(text, FILE);
  } catch (err) {
    expect(err).toBeInstanceOf(WebConfigError);
    expect((err as WebConfigError).message).toContain(FILE);
    return (err as WebConfigError).problems;
  }
  throw new Error('expected a WebConfigError');
}

describe('parseWebConfig', () => {
  it('reads an exporter-toolkit file with every key', () => {
    const c = parseWebConfig(
      `
tls_server_config:
  cert_file: server.crt
  key_file: /abs/server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
  client_allowed_sans: [client.example.org]
  min_version: TLS13
  max_version: TLS13
  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256]
  prefer_server_cipher_suites: false
  curve_preferences: [X25519, CurveP256, X25519MLKEM768]
http_server_config:
  http2: false
  headers:
    Strict-Transport-Security: max-age=31536000
    x-content-type-options: nosniff
    X-Frame-Options: deny
    X-XSS-Protection: 1; mode=block
    Content-Security-Policy: default-src 'self'
basic_auth_users:
  alice: '${HASH}'
`,
      FILE,
    );
    expect(c.tls).toEqual({
      certFile: '/etc/buildscope/server.crt',
      keyFile: '/abs/server.key',
      clientAuth: 'RequireAndVerifyClientCert',
      clientCaFile: '/etc/buildscope/ca.crt',
      clientAllowedSans: ['client.example.org'],
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
      ciphers: ['ECDHE-RSA-AES128-GCM-SHA256'],
      preferServerCipherSuites: false,
      curves: ['X25519', 'P-256'],
    });
    expect(c.http2).toBe(false);
    expect(c.headers).toEqual({
      'Strict-Transport-Security': 'max-age=31536000',
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'deny',
      'X-XSS-Protection': '1; mode=block',
      'Content-Security-Policy': "default-src 'self'",
    });
    expect([...c.users]).toEqual([['alice', HASH]]);
    expect(referencedFiles(c)).toEqual(['/etc/buildscope/server.crt', '/abs/server.key', '/etc/buildscope/ca.crt']);
  });

  it('takes the toolkit defaults: plain HTTP, TLS 1.2 minimum, no client certs, server cipher order', () => {
    expect(parseWebConfig('', FILE)).toEqual({ file: FILE, http2: true, headers: {}, users: new Map() });
    expect(parseWebConfig('tls_server_config: {}\n', FILE).tls).toBeUndefined();
    const c = parseWebConfig('tls_server_config:\n  cert: "PEM"\n  key: "PEM"\n', FILE);
    expect(c.tls).toEqual({ cert: 'PEM', key: 'PEM', clientAuth: 'NoClientCert', clientAllowedSans: [], minVersion: 'TLSv1.2', preferServerCipherSuites: true });
    for (const [name, node] of [['TLS10', 'TLSv1'], ['TLS11', 'TLSv1.1'], ['TLS12', 'TLSv1.2']] as const) {
      expect(parseWebConfig(`tls_server_config: {cert: a, key: b, min_version: ${name}}`, FILE).tls?.minVersion).toBe(node);
    }
    for (const auth of ['NoClientCert', 'RequestClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'RequireAndVerifyClientCert']) {
      expect(parseWebConfig(`tls_server_config: {cert: a, key: b, client_auth_type: ${auth}}`, FILE).tls?.clientAuth).toBe(auth);
    }
    // The toolkit's older spelling.
    expect(parseWebConfig('tls_server_config: {cert: a, key: b, client_auth_type: RequireClientCert}', FILE).tls?.clientAuth).toBe('RequireAnyClientCert');
  });

  it('accepts the three bcrypt variants and refuses anything else without echoing it', () => {
    for (const prefix of ['$2a$', '$2b$', '$2y$']) {
      expect(parseWebConfig(`basic_auth_users:\n  u: '${prefix}${HASH.slice(4)}'`, FILE).users.size).toBe(1);
    }
    const bad = problems("basic_auth_users:\n  bob: 'hunter2-plain'\n  carol: 12\n  'a:b': '" + HASH + "'\n");
    expect(bad).toEqual([
      'basic_auth_users.bob is not a bcrypt hash ($2a$, $2b$ or $2y$, e.g. from "htpasswd -nBC 10 bob"); plain-text passwords are not accepted',
      'basic_auth_users.carol is not a bcrypt hash ($2a$, $2b$ or $2y$, e.g. from "htpasswd -nBC 10 carol"); plain-text passwords are not accepted',
      'basic_auth_users: user name "a:b" is not valid (it must be non-empty and must not contain ":")',
    ]);
    expect(bad.join('\n')).not.toContain('hunter2');
    expect(problems('basic_auth_users: [a, b]')).toEqual(['basic_auth_users must be a mapping of user name to bcrypt hash']);
  });

  it('names unknown keys and where they are', () => {
    expect(problems('tls_config: {}\n')).toEqual(['unknown key "tls_config"; known keys: tls_server_config, http_server_config, basic_auth_users']);
    expect(problems('tls_server_config: {cert_file: a, key_file: b, min_versoin: TLS12}')[0]).toMatch(/^unknown key "min_versoin" in tls_server_config; known keys: cert_file, /);
    expect(problems('http_server_config: {http3: true}')).toEqual(['unknown key "http3" in http_server_config; known keys: http2, headers']);
  });

  it('refuses every bad TLS value', () => {
    const tls = (body: string) => problems(`tls_server_config: {${body}}`);
    expect(tls('cert_file: a, key_file: b, min_version: TLS14')).toEqual(['tls_server_config.min_version must be one of TLS10, TLS11, TLS12, TLS13, got "TLS14"']);
    expect(tls('cert_file: a, key_file: b, max_version: SSL3')).toEqual(['tls_server_config.max_version must be one of TLS10, TLS11, TLS12, TLS13, got "SSL3"']);
    expect(tls('cert_file: a, key_file: b, min_version: TLS13, max_version: TLS12')).toEqual(['tls_server_config: max_version is below min_version']);
    expect(tls('cert_file: a, key_file: b, client_auth_type: Maybe')[0]).toBe(
      'tls_server_config.client_auth_type must be one of NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert, got "Maybe"',
    );
    expect(tls('cert_file: a')).toEqual(['tls_server_config: cert_file is set but key_file is missing']);
    expect(tls('key_file: b')).toEqual(['tls_server_config: key_file is set but cert_file is missing']);
    expect(tls('cert_file: a, cert: x, key_file: b')).toEqual(['tls_server_config: give cert_file or cert, not both']);
    expect(tls('cert_file: a, key_file: b, key: x')).toEqual(['tls_server_config: give key_file or key, not both']);
    expect(tls('min_version: TLS13')).toEqual(['tls_server_config sets min_version but neither cert_file nor key_file; give both to serve HTTPS, or remove the block']);
    expect(tls('cert_file: a, key_file: b, client_ca_file: ca')[0]).toMatch(/client_ca_file is set but client_auth_type is NoClientCert/);
    expect(tls('cert_file: a, key_file: b, client_auth_type: RequireAnyClientCert, client_allowed_sans: [x]')).toEqual(['tls_server_config: client_allowed_sans needs client_auth_type RequireAndVerifyClientCert']);
    expect(tls('cert_file: a, key_file: b, cipher_suites: [TLS_FANCY]')[0]).toMatch(/^tls_server_config.cipher_suites: unknown cipher suite TLS_FANCY \(use Go names/);
    expect(tls('cert_file: a, key_file: b, cipher_suites: TLS_RSA_WITH_AES_128_CBC_SHA')).toEqual(['tls_server_config.cipher_suites must be a list of strings, got "TLS_RSA_WITH_AES_128_CBC_SHA"']);
    expect(tls('cert_file: a, key_file: b, curve_preferences: [P256]')).toEqual(['tls_server_config.curve_preferences: unknown curve P256; known: CurveP256, CurveP384, CurveP521, X25519, X25519MLKEM768']);
    expect(tls('cert_file: a, key_file: b, prefer_server_cipher_suites: yes please')).toEqual(['tls_server_config.prefer_server_cipher_suites must be true or false, got "yes please"']);
    expect(tls('cert_file: 12, key_file: b')).toEqual(['tls_server_config.cert_file must be a string, got 12', 'tls_server_config: key_file is set but cert_file is missing']);
    expect(problems('tls_server_config: [a]')).toEqual(['tls_server_config must be a mapping']);
  });

  it('allows only the toolkit headers, with their values', () => {
    expect(problems('http_server_config: {headers: {Cache-Control: public}}')[0]).toBe(
      'http_server_config.headers: header "Cache-Control" cannot be configured; allowed: Strict-Transport-Security, X-Content-Type-Options, X-Frame-Options, X-XSS-Protection, Content-Security-Policy',
    );
    expect(problems('http_server_config: {headers: {X-Frame-Options: allow-from x}}')).toEqual(['http_server_config.headers.X-Frame-Options must be one of deny, sameorigin, got "allow-from x"']);
    expect(problems('http_server_config: {headers: {X-Content-Type-Options: sniff}}')).toEqual(['http_server_config.headers.X-Content-Type-Options must be one of nosniff, got "sniff"']);
    expect(problems('http_server_config: {headers: {Content-Security-Policy: ""}}')).toEqual(['http_server_config.headers.Content-Security-Policy must be a one-line, non-empty string']);
    expect(problems('http_server_config: {headers: [a]}')).toEqual(['http_server_config.headers must be a mapping of header name to value']);
    expect(problems('http_server_config: {http2: 1}')).toEqual(['http_server_config.http2 must be true or false, got 1']);
    expect(problems('http_server_config: 3')).toEqual(['http_server_config must be a mapping']);
  });

  it('reports YAML errors, duplicate keys and a file that is not a mapping', () => {
    expect(problems('basic_auth_users: {a: 1\n')[0]).toMatch(/^YAML syntax error/);
    expect(problems(`basic_auth_users:\n  a: '${HASH}'\n  a: '${HASH}'\n`)[0]).toMatch(/^YAML syntax error: Map keys must be unique/);
    expect(problems('- a\n')).toEqual(['the file must hold a YAML mapping (tls_server_config, http_server_config, basic_auth_users)']);
  });
});

describe('loading', () => {
  const dir = mkdtempSync(join(tmpdir(), 'web-config-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the file that cannot be read', () => {
    expect(() => loadWebConfigFile(join(dir, 'missing.yml'))).toThrow(`web config file ${join(dir, 'missing.yml')}: cannot read the file: ENOENT`);
  });

  it('names a certificate file that cannot be read, and a certificate that cannot be used', () => {
    const file = join(dir, 'web.yml');
    writeFileSync(file, 'tls_server_config: {cert_file: nope.crt, key_file: nope.key}\n');
    const config = loadWebConfigFile(file);
    expect(() => secureContextOptions(config, () => undefined)).toThrow(`web config file ${file}: cannot read cert_file ${join(dir, 'nope.crt')}: ENOENT`);
    writeFileSync(join(dir, 'nope.crt'), 'not a certificate');
    writeFileSync(join(dir, 'nope.key'), 'not a key');
    expect(() =>
      secureContextOptions(config, () => {
        throw new Error('error:0480006C:PEM routines::no start line');
      }),
    ).toThrow(`web config file ${file}: the TLS certificate, key or client CA cannot be used: error:0480006C:PEM routines::no start line`);
  });
});

describe('docs/security.md', () => {
  it('has a full example that parses', () => {
    const doc = readFileSync(fileURLToPath(new URL('../../../docs/security.md', import.meta.url)), 'utf8');
    const example = /```yaml\n(tls_server_config:[\s\S]*?)```/.exec(doc)?.[1];
    expect(example).toBeDefined();
    const c = parseWebConfig(example ?? '', '/etc/buildscope/web.yml');
    expect(c.tls?.clientAuth).toBe('RequireAndVerifyClientCert');
    expect([...c.users.keys()]).toEqual(['prometheus', 'grafana']);
    expect(Object.keys(c.headers)).toHaveLength(5);
  });
});
