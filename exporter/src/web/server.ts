/** The fastify instance over Node http, or https when the web config file configures TLS. */
import type { Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import Fastify, { type FastifyHttpOptions, type FastifyHttpsOptions, type FastifyInstance } from 'fastify';
import type { WebRuntime } from './runtime.js';

/** The API is read-only: no route takes a body, so anything beyond a few KiB is refused (413) before it is read. */
export const MAX_BODY_BYTES = 16 * 1024;

export function createFastify(web: WebRuntime | undefined, options: FastifyHttpOptions<Server>): FastifyInstance {
  const https = web?.httpsOptions();
  if (!https) return Fastify({ bodyLimit: MAX_BODY_BYTES, ...options });
  const { http: _http, ...common } = { bodyLimit: MAX_BODY_BYTES, ...options };
  const httpsOptions = { ...common, https } as FastifyHttpsOptions<HttpsServer>;
  // An https.Server serves requests as an http.Server does; fastify's types tell them apart only by the options.
  return Fastify(httpsOptions) as unknown as FastifyInstance;
}
