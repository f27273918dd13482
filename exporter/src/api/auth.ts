/**
 * The auth seam. Every request passes one `onRequest` hook that asks an Authenticator whether
 * the caller may use the route's area (`metrics`, `api`, `events`). buildscope ships no
 * authentication yet: the default authenticator lets everyone in, and putting the exporter behind
 * a reverse proxy is the way to restrict it. A later change plugs basic auth / bearer tokens per
 * area in here without touching the routes.
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
     * When unset, the area follows from the path (see `areaOfPath`).
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

/** The area of a request path when its route does not declare one; undefined = public. */
export function areaOfPath(path: string): AuthArea | undefined {
  const p = path.split('?')[0] ?? path;
  if (p === '/metrics' || p.startsWith('/metrics/')) return 'metrics';
  if (p === '/api/v1/events' || p.startsWith('/api/v1/events/')) return 'events';
  if (p.startsWith('/api/') || p === '/openapi.json' || p === '/tasks' || p.startsWith('/tasks/')) return 'api';
  return undefined;
}

export function areaOf(request: FastifyRequest): AuthArea | undefined {
  const declared = request.routeOptions.config?.authArea;
  if (declared === 'public') return undefined;
  return declared ?? areaOfPath(request.url);
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
