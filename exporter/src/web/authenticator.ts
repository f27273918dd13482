/**
 * The Authenticator behind the auth seam (api/auth.ts): HTTP basic auth against the bcrypt hashes
 * of the web config file and bearer tokens from the exporter's config, per area
 * (`web.auth.{metrics,api,events}`). Comparisons are constant-time; a successful bcrypt check is
 * remembered (by a hash of user, password and stored hash) so a scrape does not pay bcrypt every
 * time; no credential is ever echoed or logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type { FastifyRequest } from 'fastify';
import type { AuthArea, AuthDecision, Authenticator } from '../api/auth.js';
import type { AuthMode, WebSettings } from '../config/schema.js';

/** A valid hash of a throw-away string: unknown users cost one bcrypt check too, so timing does not tell which users exist. */
const DUMMY_HASH = '$2b$10$AycvDOZvyzOw1Vj6fhDxzefsJ3hrKrAib4FeflXjW91hsIbdocfTq';
const REALM = 'buildscope';
const MAX_CACHED = 1024;

/** What the authenticator needs from the web config file (absent: no basic users). */
export interface UsersSource {
  users(): ReadonlyMap<string, string>;
}

type Method = 'basic' | 'bearer';

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Parse `Authorization`; undefined when absent or not a scheme we know. */
export function parseAuthorization(header: string | undefined): { scheme: Method; user?: string; secret: string } | { scheme: 'other' } | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const m = /^\s*(\S+)\s+(\S+)\s*$/.exec(header);
  if (!m) return { scheme: 'other' };
  const scheme = (m[1] ?? '').toLowerCase();
  const value = m[2] ?? '';
  if (scheme === 'bearer') return { scheme: 'bearer', secret: value };
  if (scheme !== 'basic') return { scheme: 'other' };
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { scheme: 'other' };
  return { scheme: 'basic', user: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

export class WebAuthenticator implements Authenticator {
  private readonly tokenDigests: ReadonlyArray<{ name: string; digest: Buffer }>;
  /** Keys (sha256 of user, password and hash) of bcrypt checks that succeeded. */
  private readonly verified = new Set<string>();

  constructor(
    private readonly settings: Pick<WebSettings, 'auth' | 'bearerTokens'>,
    private readonly file: UsersSource | undefined,
  ) {
    this.tokenDigests = settings.bearerTokens.map((t) => ({ name: t.name, digest: sha256(t.token) }));
  }

  /** The methods that admit a request to the area; empty = the area is open. */
  methods(area: AuthArea): Method[] {
    const mode: AuthMode = this.settings.auth[area];
    const hasUsers = (this.file?.users().size ?? 0) > 0;
    const hasTokens = this.tokenDigests.length > 0;
    switch (mode) {
      case 'none':
        return [];
      case 'basic':
        return ['basic'];
      case 'bearer':
        return ['bearer'];
      case 'any':
        return ['basic', 'bearer'];
      case 'auto':
        return [...(hasUsers ? (['basic'] as const) : []), ...(hasTokens ? (['bearer'] as const) : [])];
    }
  }

  async authenticate(area: AuthArea, request: FastifyRequest): Promise<AuthDecision> {
    const methods = this.methods(area);
    if (methods.length === 0) return { allowed: true };
    const creds = parseAuthorization(request.headers.authorization);
    const what = methods.map((m) => (m === 'basic' ? 'HTTP basic auth (a user of the web config file)' : 'an Authorization: Bearer token')).join(' or ');
    if (creds === undefined) return this.deny(methods, `authentication required for ${area}: send ${what}`);
    if (creds.scheme === 'other' || !methods.includes(creds.scheme)) {
      return this.deny(methods, `${area} takes ${what}; the Authorization header sent is not one of these`);
    }
    if (creds.scheme === 'bearer') {
      if (this.tokenName(creds.secret) !== undefined) return { allowed: true };
      request.log.info({ area, scheme: 'bearer' }, 'authentication failed');
      return this.deny(methods, 'the bearer token is not valid', 'invalid_token');
    }
    if (await this.checkUser(creds.user ?? '', creds.secret)) return { allowed: true };
    request.log.info({ area, scheme: 'basic' }, 'authentication failed');
    return this.deny(methods, 'wrong user name or password');
  }

  /** The name of the matching token; every token is compared, in constant time. */
  tokenName(candidate: string): string | undefined {
    const digest = sha256(candidate);
    let found: string | undefined;
    for (const t of this.tokenDigests) if (timingSafeEqual(digest, t.digest) && found === undefined) found = t.name;
    return found;
  }

  async checkUser(user: string, password: string): Promise<boolean> {
    const users = this.file?.users() ?? new Map<string, string>();
    const stored = users.get(user);
    const hash = stored ?? DUMMY_HASH;
    const key = createHash('sha256').update(`${user}\0${password}\0${hash}`, 'utf8').digest('hex');
    if (stored !== undefined && this.verified.has(key)) return true;
    const ok = await bcrypt.compare(password, hash);
    if (!ok || stored === undefined) return false;
    if (this.verified.size >= MAX_CACHED) this.verified.clear();
    this.verified.add(key);
    return true;
  }

  private deny(methods: Method[], message: string, bearerError?: string): AuthDecision {
    const challenges = methods.map((m) => (m === 'basic' ? `Basic realm="${REALM}", charset="UTF-8"` : `Bearer realm="${REALM}"${bearerError ? `, error="${bearerError}"` : ''}`));
    return { allowed: false, statusCode: 401, message, headers: { 'WWW-Authenticate': challenges.join(', ') } };
  }
}
