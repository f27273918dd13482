/** What the API needs from the rest of the exporter, and the instance type its routes use. */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { AppConfig } from '../config/schema.js';
import type { HealthProvider } from '../sources/health.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import type { Authenticator } from './auth.js';
import type { WebConfigSource } from '../web/runtime.js';
import type { TaskotekaCompatBackend } from '../sources/girar/compat-backend.js';
import type { TaskLogReader } from '../sources/runners.js';

export interface ApiDeps {
  store: Store;
  health: HealthProvider;
  config: AppConfig;
  /** Time source for heartbeats (default: the system clock). */
  clock?: Clock;
  /** Exporter version, shown in the OpenAPI document. */
  version: string;
  /** true once every source has finished its first poll attempt */
  ready(): boolean;
  /** Access rules per area (default: web/authenticator.ts from config.web and webConfig; see auth.ts). */
  authenticator?: Authenticator;
  /** The --web.config.file in force (basic auth users, extra headers, reloading), when given. */
  webConfig?: WebConfigSource;
  /** girar sources that serve the taskoteka-compatible API under /compat/taskoteka/<source>/, by source name. */
  taskotekaBackends?: ReadonlyMap<string, TaskotekaCompatBackend>;
  /** Sources that read a task's log from the upstream on demand (karajo), by source name. */
  taskLogs?: ReadonlyMap<string, TaskLogReader>;
}

/** The fastify instance as the routes see it: TypeBox schemas type request and reply. */
export type ApiInstance = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;
