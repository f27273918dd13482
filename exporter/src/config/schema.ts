/**
 * The exporter's config file schema (YAML). Unknown keys are rejected everywhere; each source
 * block's kind-specific keys are validated by that kind's own schema (sources/<kind>/config.ts).
 */
import { Type, type Static } from '@sinclair/typebox';
import { DURATION_PATTERN } from '../util/duration.js';

const Duration = (defaultValue: string, description: string) =>
  Type.String({ pattern: DURATION_PATTERN, default: defaultValue, description: `${description} (Prometheus-style duration, e.g. 30s, 5m)` });

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** Keys every source block has; the rest belong to the kind's schema. */
export const commonSourceSchema = Type.Object(
  {
    name: Type.String({
      pattern: '^[a-zA-Z_][a-zA-Z0-9_.-]{0,62}$',
      description: 'Instance name, unique; becomes the `source` label',
      errorMessage: 'expected a name of letters, digits, _ . - (starting with a letter or _, at most 63 characters)',
    }),
    kind: Type.String({ description: 'Build-system kind (girar, ...)' }),
    interval: Duration('30s', 'Time between full polls'),
    timeout: Duration('20s', 'Deadline of one poll'),
  },
  { additionalProperties: true },
);
export const COMMON_SOURCE_KEYS = ['name', 'kind', 'interval', 'timeout'] as const;

export const eventsSchema = Type.Object(
  {
    buffer_size: Type.Integer({ minimum: 100, maximum: 1_000_000, default: 10_000, description: 'Change events kept for Last-Event-ID replay' }),
    heartbeat_interval: Duration('15s', 'SSE heartbeat interval'),
    max_connections: Type.Integer({ minimum: 1, maximum: 100_000, default: 1024, description: 'Concurrent SSE connections (503 beyond)' }),
    max_connections_per_ip: Type.Integer({ minimum: 1, maximum: 100_000, default: 64, description: 'Concurrent SSE connections per client IP (429 beyond)' }),
    max_lifetime: Duration('30m', 'SSE connections are asked to reconnect after this long'),
    client_buffer: Type.Integer({ minimum: 16, maximum: 1_000_000, default: 1024, description: 'Events queued for one slow client before it is told to reconnect' }),
    ip_header: Type.String({ default: 'x-real-ip', description: 'Header holding the client IP behind a reverse proxy (honoured only from trusted_proxies)' }),
    trusted_proxies: Type.Array(Type.String(), { default: [], description: 'Proxy IPs whose ip_header is believed' }),
  },
  { additionalProperties: false, default: {} },
);

export const apiSchema = Type.Object(
  {
    default_page_size: Type.Integer({ minimum: 1, maximum: 10_000, default: 100 }),
    max_page_size: Type.Integer({ minimum: 1, maximum: 100_000, default: 1000 }),
    search_result_cap: Type.Integer({ minimum: 1, maximum: 100_000, default: 500, description: 'Full-text search results are capped at this many (taskoteka: 500)' }),
  },
  { additionalProperties: false, default: {} },
);

export const journalSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'Keep state, events and counters across restarts in an SQLite file (off: start empty every time)' }),
    path: Type.String({ minLength: 1, default: 'data/buildscope.db', description: 'The journal file, relative to the working directory; the --journal.path flag overrides it' }),
  },
  { additionalProperties: false, default: {} },
);

export const fileSchema = Type.Object(
  {
    web: Type.Optional(
      Type.Object(
        { listen_address: Type.Optional(Type.String({ description: 'host:port; the --web.listen-address flag overrides it' })) },
        { additionalProperties: false },
      ),
    ),
    log: Type.Optional(Type.Object({ level: Type.Optional(Type.Union(LOG_LEVELS.map((l) => Type.Literal(l)))) }, { additionalProperties: false })),
    api: apiSchema,
    events: eventsSchema,
    journal: journalSchema,
    sources: Type.Array(commonSourceSchema, { minItems: 1, errorMessage: 'expected a list of at least one source' }),
  },
  { additionalProperties: false },
);

export type FileConfig = Static<typeof fileSchema>;
export type EventsConfig = Static<typeof eventsSchema>;
export type ApiConfig = Static<typeof apiSchema>;

/** A validated source block: common keys parsed, kind-specific keys defaulted and checked. */
export interface SourceConfig {
  name: string;
  kind: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  /** The kind-specific block, validated against the kind's schema (defaults filled). */
  settings: Record<string, unknown>;
}

/** The frozen config the app runs with. Durations are in seconds. */
export interface AppConfig {
  listenAddress: string;
  logLevel: (typeof LOG_LEVELS)[number];
  demo: boolean;
  api: ApiConfig;
  events: Omit<EventsConfig, 'heartbeat_interval' | 'max_lifetime'> & { heartbeatSeconds: number; maxLifetimeSeconds: number };
  /** The journal file; undefined: nothing is kept across restarts (demo mode, `journal.enabled: false`). */
  journal: { path?: string };
  sources: SourceConfig[];
}

export const DEFAULT_LISTEN_ADDRESS = ':10870';
