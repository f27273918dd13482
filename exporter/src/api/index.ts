/**
 * The JSON API, the SSE stream, the probes and the OpenAPI document, as one registration on the
 * app. Call `await registerApi(app, deps)` on the root instance (not through `app.register`):
 * the JSON error and 404 handlers and the auth hook then cover the whole app, `/metrics` included,
 * and the OpenAPI document lists every route registered after it.
 */
import fastifySwagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { DEFAULT_WEB_SETTINGS } from '../config/schema.js';
import { WebAuthenticator } from '../web/authenticator.js';
import { registerWebGuards } from '../web/guards.js';
import { authPlugin } from './auth.js';
import type { ApiDeps } from './deps.js';
import { installErrorHandlers } from './errors.js';
import { registerTaskotekaCompat } from './compat/taskoteka.js';
import { registerEventRoutes } from './events.js';
import { registerHealthRoutes } from './health.js';
import { registerRecordRoutes } from './records.js';
import { ChangeEventSchema } from './schemas.js';
import { registerSourceRoutes } from './sources.js';
import { registerSummaryRoutes } from './summary.js';
import { registerTaskLogRoute } from './task-log.js';
import { registerTaskRoutes } from './tasks.js';
import { registerValueRoutes } from './values.js';

export type { ApiDeps } from './deps.js';
export { AUTH_AREAS, allowAll, authPlugin, type AuthArea, type AuthDecision, type Authenticator } from './auth.js';
export { sseStats, type SseStats } from './events.js';

export const OPENAPI_TITLE = 'buildscope exporter API';

export async function registerApi(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: OPENAPI_TITLE,
        version: deps.version,
        description:
          'Build-farm tasks, workers, jobs and source health as buildscope holds them, plus a Server-Sent Events stream of changes. Errors are {"error": "..."} with a 4xx/5xx status.',
      },
      tags: [
        { name: 'tasks', description: 'Tasks: list, search, detail, summaries, distinct values' },
        { name: 'records', description: 'Workers and scheduled jobs' },
        { name: 'sources', description: 'Configured sources and their health' },
        { name: 'events', description: 'Live change events' },
        { name: 'health', description: 'Probes' },
        { name: 'meta', description: 'This document' },
      ],
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
  });
  app.addSchema(ChangeEventSchema);
  installErrorHandlers(app);
  const web = deps.config.web ?? DEFAULT_WEB_SETTINGS;
  await registerWebGuards(app, { settings: web, events: deps.config.events, ...(deps.webConfig ? { webConfig: deps.webConfig } : {}) });
  await authPlugin(app, { authenticator: deps.authenticator ?? new WebAuthenticator(web, deps.webConfig) });

  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get(
    '/openapi.json',
    {
      schema: {
        tags: ['meta'],
        summary: 'This OpenAPI document',
        description: 'OpenAPI 3.0 description of every route, generated from the route schemas.',
        response: { 200: Type.Object({}, { additionalProperties: true, description: 'The OpenAPI document' }) },
      },
    },
    async () => app.swagger(),
  );
  registerHealthRoutes(api, deps);
  registerSourceRoutes(api, deps);
  registerTaskRoutes(api, deps);
  registerTaskLogRoute(api, deps);
  registerSummaryRoutes(api, deps);
  registerValueRoutes(api, deps);
  registerRecordRoutes(api, deps);
  registerEventRoutes(api, deps);
  registerTaskotekaCompat(api, deps);
}
