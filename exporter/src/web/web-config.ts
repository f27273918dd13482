/**
 * The web configuration file (`--web.config.file`), in the format of the Prometheus
 * exporter-toolkit: `tls_server_config`, `http_server_config` and `basic_auth_users`, with the
 * same keys and meanings the Go exporters accept, so an existing file works unchanged. Unknown
 * keys and bad values are errors naming the key and the file. Relative paths are relative to the
 * file's directory, as the toolkit resolves them.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { SecureContextOptions, SecureVersion } from 'node:tls';
import { parseDocument } from 'yaml';

export const CLIENT_AUTH_TYPES = ['NoClientCert', 'RequestClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'] as const;
export type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];

/** exporter-toolkit version names -> Node's. */
const TLS_VERSIONS: Record<string, SecureVersion> = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' };
const VERSION_ORDER: readonly SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/**
 * Go crypto/tls cipher suite names -> OpenSSL names. The TLS 1.3 suites are accepted and, as Go
 * does, not configurable (they are always on when TLS 1.3 is).
 */
const CIPHER_SUITES: Record<string, string | null> = {
  TLS_RSA_WITH_RC4_128_SHA: 'RC4-SHA',
  TLS_RSA_WITH_3DES_EDE_CBC_SHA: 'DES-CBC3-SHA',
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_CBC_SHA256: 'AES128-SHA256',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_RC4_128_SHA: 'ECDHE-ECDSA-RC4-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_RC4_128_SHA: 'ECDHE-RSA-RC4-SHA',
  TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA: 'ECDHE-RSA-DES-CBC3-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: 'ECDHE-ECDSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: 'ECDHE-RSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_AES_128_GCM_SHA256: null,
  TLS_AES_256_GCM_SHA384: null,
  TLS_CHACHA20_POLY1305_SHA256: null,
};

/** Go curve names -> OpenSSL group names; null = accepted, not available in Node's OpenSSL build, skipped. */
const CURVES: Record<string, string | null> = { CurveP256: 'P-256', CurveP384: 'P-384', CurveP521: 'P-521', X25519: 'X25519', X25519MLKEM768: null };

/**
 * Only these response headers may be set, with these values where listed (as the toolkit allows):
 * the file cannot override what the exporter's responses mean (Content-Type, Cache-Control, ...).
 */
const ALLOWED_HEADERS: Record<string, readonly string[] | null> = {
  'strict-transport-security': null,
  'x-content-type-options': ['nosniff'],
  'x-frame-options': ['deny', 'sameorigin'],
  'x-xss-protection': null,
  'content-security-policy': null,
};

/** bcrypt hashes as htpasswd -B, Go's x/crypto/bcrypt and bcryptjs write them. */
const BCRYPT_HASH = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;

export interface TlsSettings {
  /** PEM file paths (absolute), or inline PEM (`cert` / `key`). */
  certFile?: string;
  keyFile?: string;
  cert?: string;
  key?: string;
  clientAuth: ClientAuthType;
  clientCaFile?: string;
  /** When set, a client certificate must carry one of these subject alternative names. */
  clientAllowedSans: string[];
  minVersion: SecureVersion;
  maxVersion?: SecureVersion;
  /** OpenSSL cipher names for TLS 1.2 and older (undefined: Node's defaults). */
  ciphers?: string[];
  preferServerCipherSuites: boolean;
  /** OpenSSL group names (undefined: Node's defaults). */
  curves?: string[];
}

export interface WebConfig {
  file: string;
  /** Undefined: plain HTTP. */
  tls?: TlsSettings;
  /** Accepted for compatibility; the exporter serves HTTP/1.1 (its event stream is HTTP/1.1-only). */
  http2: boolean;
  /** Extra response headers, canonical names. */
  headers: Readonly<Record<string, string>>;
  /** user -> bcrypt hash. */
  users: ReadonlyMap<string, string>;
}

export class WebConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`web config file ${file}: ${problems.length === 1 ? problems[0] : `${problems.length} problems:\n${problems.map((p) => `  ${p}`).join('\n')}`}`);
    this.name = 'WebConfigError';
  }
}

type Problems = string[];

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function checkKeys(block: Record<string, unknown>, where: string, known: readonly string[], problems: Problems): void {
  for (const key of Object.keys(block)) {
    if (!known.includes(key)) problems.push(`unknown key "${key}"${where ? ` in ${where}` : ''}; known keys: ${known.join(', ')}`);
  }
}

function optString(block: Record<string, unknown>, key: string, where: string, problems: Problems): string | undefined {
  const v = block[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') {
    problems.push(`${where}.${key} must be a string, got ${JSON.stringify(v)}`);
    return undefined;
  }
  return v;
}

function optBool(block: Record<string, unknown>, key: string, where: string, fallback: boolean, problems: Problems): boolean {
  const v = block[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') {
    problems.push(`${where}.${key} must be true or false, got ${JSON.stringify(v)}`);
    return fallback;
  }
  return v;
}

function optStringList(block: Record<string, unknown>, key: string, where: string, problems: Problems): string[] | undefined {
  const v = block[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    problems.push(`${where}.${key} must be a list of strings, got ${JSON.stringify(v)}`);
    return undefined;
  }
  return v as string[];
}

function version(block: Record<string, unknown>, key: string, problems: Problems): SecureVersion | undefined {
  const raw = optString(block, key, 'tls_server_config', problems);
  if (raw === undefined) return undefined;
  const v = TLS_VERSIONS[raw];
  if (v === undefined) problems.push(`tls_server_config.${key} must be one of ${Object.keys(TLS_VERSIONS).join(', ')}, got "${raw}"`);
  return v;
}

function parseTls(block: unknown, base: string, problems: Problems): TlsSettings | undefined {
  if (block === undefined || block === null) return undefined;
  if (!isMap(block)) {
    problems.push('tls_server_config must be a mapping');
    return undefined;
  }
  const where = 'tls_server_config';
  checkKeys(
    block,
    where,
    ['cert_file', 'key_file', 'cert', 'key', 'client_auth_type', 'client_ca_file', 'client_allowed_sans', 'min_version', 'max_version', 'cipher_suites', 'prefer_server_cipher_suites', 'curve_preferences'],
    problems,
  );
  const at = (p: string | undefined) => (p === undefined ? undefined : isAbsolute(p) ? p : resolve(base, p));
  const certFile = at(optString(block, 'cert_file', where, problems));
  const keyFile = at(optString(block, 'key_file', where, problems));
  const cert = optString(block, 'cert', where, problems);
  const key = optString(block, 'key', where, problems);
  const hasCert = certFile !== undefined || cert !== undefined;
  const hasKey = keyFile !== undefined || key !== undefined;
  if (certFile !== undefined && cert !== undefined) problems.push(`${where}: give cert_file or cert, not both`);
  if (keyFile !== undefined && key !== undefined) problems.push(`${where}: give key_file or key, not both`);
  const clientAuthRaw = optString(block, 'client_auth_type', where, problems) ?? 'NoClientCert';
  // "RequireClientCert" is the toolkit's older spelling of RequireAnyClientCert.
  const clientAuthName = clientAuthRaw === 'RequireClientCert' ? 'RequireAnyClientCert' : clientAuthRaw;
  let clientAuth: ClientAuthType = 'NoClientCert';
  if ((CLIENT_AUTH_TYPES as readonly string[]).includes(clientAuthName)) clientAuth = clientAuthName as ClientAuthType;
  else problems.push(`${where}.client_auth_type must be one of ${CLIENT_AUTH_TYPES.join(', ')}, got "${clientAuthRaw}"`);
  const clientCaFile = at(optString(block, 'client_ca_file', where, problems));
  const clientAllowedSans = optStringList(block, 'client_allowed_sans', where, problems) ?? [];
  const minVersion = version(block, 'min_version', problems) ?? 'TLSv1.2';
  const maxVersion = version(block, 'max_version', problems);
  const suites = optStringList(block, 'cipher_suites', where, problems);
  const curveNames = optStringList(block, 'curve_preferences', where, problems);
  const preferServerCipherSuites = optBool(block, 'prefer_server_cipher_suites', where, true, problems);

  if (!hasCert && !hasKey) {
    // The toolkit serves plain HTTP when no certificate is configured, but then the TLS keys mean nothing.
    const extra = Object.keys(block).filter((k) => block[k] !== undefined && block[k] !== null && block[k] !== '');
    if (extra.length > 0) problems.push(`${where} sets ${extra.join(', ')} but neither cert_file nor key_file; give both to serve HTTPS, or remove the block`);
    return undefined;
  }
  if (!hasCert) problems.push(`${where}: key_file is set but cert_file is missing`);
  if (!hasKey) problems.push(`${where}: cert_file is set but key_file is missing`);
  if (clientCaFile !== undefined && clientAuth === 'NoClientCert') {
    problems.push(`${where}: client_ca_file is set but client_auth_type is NoClientCert; set client_auth_type (e.g. RequireAndVerifyClientCert) or remove client_ca_file`);
  }
  if (clientAllowedSans.length > 0 && clientAuth !== 'RequireAndVerifyClientCert') {
    problems.push(`${where}: client_allowed_sans needs client_auth_type RequireAndVerifyClientCert`);
  }
  if (maxVersion !== undefined && VERSION_ORDER.indexOf(maxVersion) < VERSION_ORDER.indexOf(minVersion)) {
    problems.push(`${where}: max_version is below min_version`);
  }
  let ciphers: string[] | undefined;
  if (suites !== undefined) {
    const unknown = suites.filter((s) => !(s in CIPHER_SUITES));
    if (unknown.length > 0) problems.push(`${where}.cipher_suites: unknown cipher suite${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')} (use Go names, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)`);
    ciphers = suites.map((s) => CIPHER_SUITES[s]).filter((c): c is string => typeof c === 'string');
    if (ciphers.length === 0) ciphers = undefined;
  }
  let curves: string[] | undefined;
  if (curveNames !== undefined) {
    const unknown = curveNames.filter((c) => !(c in CURVES));
    if (unknown.length > 0) problems.push(`${where}.curve_preferences: unknown curve${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')}; known: ${Object.keys(CURVES).join(', ')}`);
    curves = curveNames.map((c) => CURVES[c]).filter((c): c is string => typeof c === 'string');
    if (curves.length === 0) curves = undefined;
  }
  return {
    ...(certFile !== undefined ? { certFile } : {}),
    ...(keyFile !== undefined ? { keyFile } : {}),
    ...(cert !== undefined ? { cert } : {}),
    ...(key !== undefined ? { key } : {}),
    clientAuth,
    ...(clientCaFile !== undefined ? { clientCaFile } : {}),
    clientAllowedSans,
    minVersion,
    ...(maxVersion !== undefined ? { maxVersion } : {}),
    ...(ciphers !== undefined ? { ciphers } : {}),
    preferServerCipherSuites,
    ...(curves !== undefined ? { curves } : {}),
  };
}

function canonicalHeader(name: string): string {
  return name
    .toLowerCase()
    .split('-')
    .map((w) => (w === 'xss' ? 'XSS' : (w[0] ?? '').toUpperCase() + w.slice(1)))
    .join('-');
}

function parseHttp(block: unknown, problems: Problems): { http2: boolean; headers: Record<string, string> } {
  if (block === undefined || block === null) return { http2: true, headers: {} };
  if (!isMap(block)) {
    problems.push('http_server_config must be a mapping');
    return { http2: true, headers: {} };
  }
  checkKeys(block, 'http_server_config', ['http2', 'headers'], problems);
  const http2 = optBool(block, 'http2', 'http_server_config', true, problems);
  const headers: Record<string, string> = {};
  const raw = block.headers;
  if (raw !== undefined && raw !== null) {
    if (!isMap(raw)) problems.push('http_server_config.headers must be a mapping of header name to value');
    else {
      for (const [name, value] of Object.entries(raw)) {
        const allowed = ALLOWED_HEADERS[name.toLowerCase()];
        if (allowed === undefined) {
          problems.push(`http_server_config.headers: header "${name}" cannot be configured; allowed: ${Object.keys(ALLOWED_HEADERS).map(canonicalHeader).join(', ')}`);
          continue;
        }
        if (typeof value !== 'string' || value === '' || /[\r\n]/.test(value)) {
          problems.push(`http_server_config.headers.${name} must be a one-line, non-empty string`);
          continue;
        }
        if (allowed !== null && !allowed.includes(value.toLowerCase())) {
          problems.push(`http_server_config.headers.${name} must be one of ${allowed.join(', ')}, got "${value}"`);
          continue;
        }
        headers[canonicalHeader(name)] = value;
      }
    }
  }
  return { http2, headers };
}

function parseUsers(block: unknown, problems: Problems): Map<string, string> {
  const users = new Map<string, string>();
  if (block === undefined || block === null) return users;
  if (!isMap(block)) {
    problems.push('basic_auth_users must be a mapping of user name to bcrypt hash');
    return users;
  }
  for (const [user, hash] of Object.entries(block)) {
    if (user === '' || user.includes(':')) {
      problems.push(`basic_auth_users: user name ${JSON.stringify(user)} is not valid (it must be non-empty and must not contain ":")`);
      continue;
    }
    // The value is a secret's hash: never echo it.
    if (typeof hash !== 'string' || !BCRYPT_HASH.test(hash)) {
      problems.push(`basic_auth_users.${user} is not a bcrypt hash ($2a$, $2b$ or $2y$, e.g. from "htpasswd -nBC 10 ${user}"); plain-text passwords are not accepted`);
      continue;
    }
    users.set(user, hash);
  }
  return users;
}

/** Parse the text of a web config file (`file` names it in errors and anchors relative paths). */
export function parseWebConfig(text: string, file: string): WebConfig {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) throw new WebConfigError(file, doc.errors.map((e) => `YAML syntax error: ${e.message.split('\n')[0]}`));
  const raw: unknown = doc.toJS() ?? {};
  if (!isMap(raw)) throw new WebConfigError(file, ['the file must hold a YAML mapping (tls_server_config, http_server_config, basic_auth_users)']);
  const problems: Problems = [];
  checkKeys(raw, '', ['tls_server_config', 'http_server_config', 'basic_auth_users'], problems);
  const tls = parseTls(raw.tls_server_config, dirname(resolve(file)), problems);
  const http = parseHttp(raw.http_server_config, problems);
  const users = parseUsers(raw.basic_auth_users, problems);
  if (problems.length > 0) throw new WebConfigError(file, problems);
  return { file, ...(tls ? { tls } : {}), http2: http.http2, headers: http.headers, users };
}

/** The files a parsed config depends on (for change detection). */
export function referencedFiles(config: WebConfig): string[] {
  const t = config.tls;
  return t ? [t.certFile, t.keyFile, t.clientCaFile].filter((f): f is string => f !== undefined) : [];
}

function readPem(path: string, what: string, file: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new WebConfigError(file, [`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
  }
}

/**
 * The TLS options of a config: certificate, key and client CA read from their files, then tried
 * with `createSecureContext` so a bad certificate or a key that does not match is an error naming
 * the file now, not a failed handshake later.
 */
export function secureContextOptions(config: WebConfig, createContext: (o: SecureContextOptions) => unknown): SecureContextOptions | undefined {
  const t = config.tls;
  if (!t) return undefined;
  const options: SecureContextOptions = {
    cert: t.certFile !== undefined ? readPem(t.certFile, 'cert_file', config.file) : t.cert,
    key: t.keyFile !== undefined ? readPem(t.keyFile, 'key_file', config.file) : t.key,
    minVersion: t.minVersion,
    ...(t.maxVersion ? { maxVersion: t.maxVersion } : {}),
    ...(t.clientCaFile !== undefined ? { ca: readPem(t.clientCaFile, 'client_ca_file', config.file) } : {}),
    ...(t.ciphers ? { ciphers: t.ciphers.join(':') } : {}),
    ...(t.curves ? { ecdhCurve: t.curves.join(':') } : {}),
    honorCipherOrder: t.preferServerCipherSuites,
  };
  try {
    createContext(options);
  } catch (err) {
    // OpenSSL's message names what failed (e.g. "key values mismatch"); it never contains key material.
    throw new WebConfigError(config.file, [`the TLS certificate, key or client CA cannot be used: ${(err as Error).message}`]);
  }
  return options;
}

/** Read and parse the file. */
export function loadWebConfigFile(file: string): WebConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new WebConfigError(file, [`cannot read the file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
  }
  return parseWebConfig(text, file);
}
