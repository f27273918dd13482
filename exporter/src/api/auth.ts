/**
 * The auth seam. Every request passes one `onRequest` hook that asks an Authenticator whether
 * the caller may use the route's area (`metrics`, `api`, `events`). registerApi plugs in
 * web/authenticator.ts (basic auth users of --web.config.file, bearer tokens, `web.auth` per
 * area); `allowAll` is what this hook uses when given no authenticator.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ErrorBody } from './errors.js';

export const AUTH_AREAS = ['metrics', 'api', 'events'] as const;
/** A part of the exporter with its own access rule. */
export type AuthArea = (typeof AUTH_AREAS)[number];

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Which access rule guards the route; `public` for probes (`/-/healthy`, `/-/ready`).
     * When unset, the area follows from the route's pattern (see `areaOfPath`): `api` for anything
     * outside `/metrics` and `/api/v1/events`. A route is public only by declaring it.
     */
    authArea?: AuthArea | 'public';
  }
}

export type AuthDecision =
  | { allowed: true }
  | {
      allowed: false;
      /** 401 when credentials are missing or wrong, 403 when they are valid but not for this area. */
      statusCode: 401 | 403;
      /** Sent as `{"error": message}`; must say what to do (and never echo a credential). */
      message: string;
      /** E.g. `{ 'WWW-Authenticate': 'Basic realm="buildscope"' }`. */
      headers?: Record<string, string>;
    };

/** Decides whether a request may use an area. May be async (e.g. a hashed-password check). */
export interface Authenticator {
  authenticate(area: AuthArea, request: FastifyRequest): AuthDecision | Promise<AuthDecision>;
}

/** The default: no authentication configured, every request is allowed. */
export const allowAll: Authenticator = { authenticate: () => ({ allowed: true }) };

/**
 * The area of a route pattern (fastify's `routeOptions.url`, e.g. `/api/v1/tasks/:source/:id`)
 * for a route that does not declare one.
 *
 * Only ever give it a route pattern, never `request.url`: fastify percent-decodes the path before
 * routing, so `/%6detrics` is served by `/metrics` and a check on the raw URL would wave it
 * through. There is no public default: anything outside `/metrics` and `/api/v1/events` is `api`
 * (fail closed), so a new route is public only when it declares `authArea: 'public'`.
 */
export function areaOfPath(path: string): AuthArea {
  const p = path.split('?')[0] ?? path;
  if (p === '/metrics' || p.startsWith('/metrics/')) return 'metrics';
  if (p === '/api/v1/events' || p.startsWith('/api/v1/events/')) return 'events';
  return 'api';
}

/**
 * The area guarding a request, from the route fastify matched (never from the raw URL, see
 * `areaOfPath`): the route's declared `config.authArea`, else the area of its pattern.
 * Undefined = public: routes declaring `authArea: 'public'` (the probes), and requests no route
 * matched, which only ever get the JSON 404 (nothing is served, so nothing needs guarding, and a
 * 404 stays a 404 under any authenticator).
 */
export function areaOf(request: FastifyRequest): AuthArea | undefined {
  if (request.is404) return undefined;
  const declared = request.routeOptions.config?.authArea;
  if (declared === 'public') return undefined;
  if (declared !== undefined) return declared;
  const pattern = request.routeOptions.url;
  // A matched route always has its pattern; should one ever lack it, ask for credentials.
  return pattern === undefined ? 'api' : areaOfPath(pattern);
}

export interface AuthOptions {
  authenticator?: Authenticator;
}

/**
 * Install the auth hook on the given instance (call it on the root instance, before or after
 * the routes: it guards every route of the instance, `/metrics` included).
 */
export async function authPlugin(app: FastifyInstance, options: AuthOptions = {}): Promise<void> {
  const authenticator = options.authenticator ?? allowAll;
  app.addHook('onRequest', async (request, reply) => {
    const area = areaOf(request);
    if (area === undefined) return;
    const decision = await authenticator.authenticate(area, request);
    if (decision.allowed) return;
    await reply
      .code(decision.statusCode)
      .headers(decision.headers ?? {})
      .send({ error: decision.message } satisfies ErrorBody);
  });
}
