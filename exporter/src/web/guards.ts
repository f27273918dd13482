/**
 * What every response and request goes through before the auth hook: safe response headers
 * (no-sniff, no caching, a strict policy on HTML), the web config file's extra headers, the
 * request-target length limit (414), CORS (off unless `web.cors.allowed_origins`) and the API
 * rate limit per client IP (429 with Retry-After; `/metrics` and the probes are exempt). Every
 * refusal is `{"error": ...}`.
 */
import fastifyCors from '@fastify/cors';
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { areaOf } from '../api/auth.js';
import { ClientIpResolver } from '../api/client-ip.js';
import { ApiError } from '../api/errors.js';
import type { EventsConfig, WebSettings } from '../config/schema.js';
import type { WebConfigSource } from './runtime.js';

/** The landing page is static HTML without scripts, styles or frames. */
export const HTML_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export interface WebGuardOptions {
  settings: WebSettings;
  /** For the client IP the rate limit counts by: events.ip_header, events.trusted_proxies. */
  events: Pick<EventsConfig, 'ip_header' | 'trusted_proxies'>;
  webConfig?: WebConfigSource;
}

function windowText(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** Requests the rate limit never counts: `/metrics`, public routes (the probes) and unmatched ones (the 404). */
function rateLimitExempt(request: FastifyRequest): boolean {
  const area = areaOf(request);
  return area === undefined || area === 'metrics';
}

/** Install on the root instance, before the auth hook (see registerApi). */
export async function registerWebGuards(app: FastifyInstance, options: WebGuardOptions): Promise<void> {
  const { settings, webConfig } = options;
  const ips = new ClientIpResolver(options.events.ip_header, options.events.trusted_proxies);

  app.addHook('onRequest', async (request, reply) => {
    webConfig?.check();
    // Nothing the exporter serves is static: no cache may keep it (and a shared one must never keep an authorized answer).
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('Cache-Control', 'no-store');
    for (const [name, value] of Object.entries(webConfig?.headers() ?? {})) reply.header(name, value);
    const length = Buffer.byteLength(request.raw.url ?? '');
    if (length > settings.maxUrlLength) {
      throw new ApiError(414, `the request target is ${length} bytes, more than the limit of ${settings.maxUrlLength} (web.max_url_length); use fewer or shorter query parameters`);
    }
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    const type = reply.getHeader('content-type');
    if (typeof type === 'string' && type.startsWith('text/html')) {
      if (!reply.hasHeader('content-security-policy')) reply.header('Content-Security-Policy', HTML_CSP);
      if (!reply.hasHeader('x-frame-options')) reply.header('X-Frame-Options', 'DENY');
      reply.header('Referrer-Policy', 'no-referrer');
    }
    return payload;
  });

  if (settings.corsOrigins.length > 0) {
    await app.register(fastifyCors, {
      origin: settings.corsOrigins.includes('*') ? '*' : [...settings.corsOrigins],
      methods: ['GET', 'HEAD'],
      allowedHeaders: ['Authorization', 'Last-Event-ID', 'Content-Type'],
      exposedHeaders: ['Retry-After', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'],
      maxAge: 600,
      strictPreflight: false,
    });
  }

  const { max, windowSeconds } = settings.rateLimit;
  if (max > 0) {
    // Not the plugin's per-route hooks (they run after every app-level hook, so after authentication):
    // one app-level onRequest hook, installed before the auth hook, so guessing credentials counts too.
    await app.register(fastifyRateLimit, {
      global: false,
      max,
      timeWindow: windowSeconds * 1000,
      keyGenerator: (request) => ips.resolve(request.socket.remoteAddress, request.headers),
      allowList: (request) => rateLimitExempt(request),
      errorResponseBuilder: (request, context) =>
        new ApiError(
          429,
          `too many API requests from ${ips.resolve(request.socket.remoteAddress, request.headers)} (the limit is ${max} per ${windowText(windowSeconds)}, web.rate_limit); retry in ${Math.max(1, Math.ceil(context.ttl / 1000))} s`,
          { 'Retry-After': String(Math.max(1, Math.ceil(context.ttl / 1000))) },
        ),
    });
    const limit = app.rateLimit();
    app.addHook('onRequest', async (request, reply) => limit.call(app, request, reply));
  }
}
