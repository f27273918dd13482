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
    write_coalesce: Duration('10ms', 'Events published within this window go to each client in one socket write (0s: each at once); bounds the added latency'),
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

export const AUTH_MODES = ['auto', 'none', 'basic', 'bearer', 'any'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];
const AuthModeSchema = Type.Union(AUTH_MODES.map((m) => Type.Literal(m)), {
  description: 'auto (default): every configured method (basic users of --web.config.file, bearer_tokens), none when neither is configured; none: open; basic; bearer; any: basic or bearer',
});

/** `web:` keys for access control and limits (see docs/security.md). */
const webSecurityProps = {
  auth: Type.Optional(Type.Object({ metrics: Type.Optional(AuthModeSchema), api: Type.Optional(AuthModeSchema), events: Type.Optional(AuthModeSchema) }, { additionalProperties: false })),
  bearer_tokens: Type.Optional(
    Type.Array(
      Type.Object(
        {
          name: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,63}$', description: 'Names the token in logs (never the token itself)', errorMessage: 'expected a name of letters, digits, _ . - (at most 63 characters)' }),
          token: Type.Optional(Type.String({ description: 'The token; use ${ENV} to keep it out of the file' })),
          token_file: Type.Optional(Type.String({ description: 'A file holding the token (trailing newline ignored); relative to the config file' })),
        },
        { additionalProperties: false },
      ),
    ),
  ),
  cors: Type.Optional(
    Type.Object(
      { allowed_origins: Type.Array(Type.String({ pattern: '^(\\*|https?://[^/\\s]+)$', errorMessage: 'expected an origin such as https://grafana.example.org (scheme://host[:port], no path) or *' })) },
      { additionalProperties: false },
    ),
  ),
  rate_limit: Type.Optional(
    Type.Object(
      {
        max: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 1200, description: 'API requests per client IP per window; 0 turns rate limiting off' }),
        window: Duration('1m', 'The rate-limit window'),
      },
      { additionalProperties: false },
    ),
  ),
  max_url_length: Type.Optional(Type.Integer({ minimum: 256, maximum: 65_536, description: 'Longest request target (path and query) in bytes; 414 beyond (default 8192)' })),
};

/** The web settings the app runs with (see webSecurityProps); tokens are read from their files. */
export interface WebSettings {
  auth: Readonly<Record<'metrics' | 'api' | 'events', AuthMode>>;
  bearerTokens: ReadonlyArray<{ name: string; token: string }>;
  corsOrigins: readonly string[];
  /** max 0 = off. */
  rateLimit: { max: number; windowSeconds: number };
  maxUrlLength: number;
}

export const DEFAULT_WEB_SETTINGS: WebSettings = {
  auth: { metrics: 'auto', api: 'auto', events: 'auto' },
  bearerTokens: [],
  corsOrigins: [],
  rateLimit: { max: 1200, windowSeconds: 60 },
  maxUrlLength: 8192,
};

export const fileSchema = Type.Object(
  {
    web: Type.Optional(
      Type.Object(
        {
          listen_address: Type.Optional(Type.String({ description: 'host:port; the --web.listen-address flag overrides it' })),
          ...webSecurityProps,
        },
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
  events: Omit<EventsConfig, 'heartbeat_interval' | 'max_lifetime' | 'write_coalesce'> & { heartbeatSeconds: number; maxLifetimeSeconds: number; coalesceMs: number };
  /** The journal file; undefined: nothing is kept across restarts (demo mode, `journal.enabled: false`). */
  journal: { path?: string };
  sources: SourceConfig[];
  /** Access control and limits; DEFAULT_WEB_SETTINGS when absent. */
  web?: WebSettings;
}

export const DEFAULT_LISTEN_ADDRESS = ':10870';
