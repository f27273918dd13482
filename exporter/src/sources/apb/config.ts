/**
 * Config keys of an `apb` source block: the build servers to poll directly and/or the farm.
 * The core config validates the common keys (`name`, `kind`, `interval`, `timeout`) and strips
 * them before this schema sees the block.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { DURATION_PATTERN, parseDuration } from '../../util/duration.js';
import { isTimeZone } from '../../util/time-zone.js';
import { DEFAULT_MAX_BODY_BYTES } from '../http.js';

const BASE_URL = '^https?://[^\\s/?#@]+(/[^\\s?#]*)?$';
const WORKER_NAME = '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}$';

export const apbServerConfigSchema = Type.Object(
  {
    url: Type.String({
      pattern: BASE_URL,
      errorMessage: 'expected the http:// or https:// base URL of an apb-server, without credentials, query or fragment (e.g. http://ppc64le-1:8000)',
      description: 'Base URL of one apb-server (default port 8000).',
    }),
    name: Type.Optional(
      Type.String({
        pattern: WORKER_NAME,
        errorMessage: 'expected letters, digits, _ . : - (at most 63 characters)',
        description: 'Worker name (the `worker` label). Default: host:port of the URL.',
      }),
    ),
    arch: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9_-]{1,32}$',
        description: "Architecture to show while the server has never answered (afterwards its supported_architecture wins).",
      }),
    ),
    labels: Type.Optional(
      Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,62}$' }), Type.String({ maxLength: 200 }), {
        description: 'Free-form labels shown with the worker in the JSON API (e.g. site, rack); not metric labels.',
      }),
    ),
  },
  { additionalProperties: false },
);

export const apbFarmConfigSchema = Type.Object(
  {
    url: Type.String({
      pattern: BASE_URL,
      errorMessage: 'expected the http:// or https:// base URL of the apb-farm, without credentials, query or fragment (e.g. http://farm:8080)',
      description: 'Base URL of the apb-farm (default port 8080).',
    }),
    token: Type.Optional(
      Type.String({
        description: 'Bearer token (from POST /auth/login) sent as `Authorization: Bearer`. With an admin token the farm shows real server URLs, so they can be matched with `servers`. Empty = none. A secret: never logged; use ${ENV}.',
      }),
    ),
    time_zone: Type.String({
      default: 'UTC',
      description: "IANA time zone of the farm host's clock. The farm writes build times as local time labelled \"UTC\"; they are read in this zone.",
    }),
    servers: Type.Boolean({
      default: true,
      description: 'Also report the servers the farm lists that are not configured under `servers`, from the farm\'s cached view (up to 90 s old).',
    }),
  },
  { additionalProperties: false },
);

export const apbConfigSchema = Type.Object(
  {
    servers: Type.Array(apbServerConfigSchema, {
      default: [],
      maxItems: 200,
      description: 'Build servers polled directly (GET /, /health, /builds/latest, /build/{id}/status-api), concurrently.',
    }),
    farm: Type.Optional(apbFarmConfigSchema),
    server_timeout: Type.String({
      pattern: DURATION_PATTERN,
      default: '10s',
      description: "Deadline of one request to a server or the farm. GET / takes at least a second (it samples the CPU for 1 s), so keep it at 5s or more.",
    }),
    wait: Type.String({
      pattern: DURATION_PATTERN,
      default: '3s',
      description: 'How long a poll waits for the servers before it publishes what it has; a slower server keeps its previous data for this poll and its answer is used by the next one (it is down only after server_timeout).',
    }),
    builds_limit: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 100,
      description: 'Builds asked for per GET /builds/latest (the farm accepts at most 100).',
    }),
    detail_budget: Type.Integer({
      minimum: 0,
      maximum: 1000,
      default: 20,
      description: 'Most GET /build/{id}/status-api requests per server (or farm) per poll: running builds first, then finished builds not yet read once.',
    }),
    detail_concurrency: Type.Integer({ minimum: 1, maximum: 16, default: 2, description: 'Parallel status-api requests per server.' }),
    health: Type.Boolean({ default: true, description: "Also poll each server's GET /health (its healthy/warning/degraded status)." }),
    max_body_bytes: Type.Integer({ minimum: 1024, default: DEFAULT_MAX_BODY_BYTES, description: 'Largest response body accepted, in bytes.' }),
  },
  { additionalProperties: false },
);

export type ApbConfig = Static<typeof apbConfigSchema>;
export type ApbServerConfig = Static<typeof apbServerConfigSchema>;
export type ApbFarmConfig = Static<typeof apbFarmConfigSchema>;

/** Fill defaults and validate a block by hand (tests and tools; the core config does this itself). */
export function parseApbConfig(raw: unknown): ApbConfig {
  const value = Value.Default(apbConfigSchema, structuredClone(raw));
  const first = Value.Errors(apbConfigSchema, value).First();
  if (first) throw new Error(`invalid apb source config at ${first.path || '/'}: ${first.message}`);
  const problems = validateApbConfig(value as ApbConfig);
  if (problems[0]) throw new Error(`invalid apb source config at ${problems[0].path}: ${problems[0].message}`);
  return value as ApbConfig;
}

/** The worker id of a configured server: its name, else host:port of its URL. */
export function serverId(server: ApbServerConfig): string {
  return server.name ?? hostPort(server.url);
}

/** host:port of an http(s) URL, or undefined when it is not one (a farm guest name). */
export function hostPortOf(url: string): string | undefined {
  if (!/^https?:\/\//i.test(url)) return undefined;
  try {
    return hostPort(url);
  } catch {
    return undefined;
  }
}

export function hostPort(url: string): string {
  const u = new URL(url);
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  return `${u.hostname}:${port}`;
}

/** Checks the schema cannot express: something to poll, unique names, sane time limits. */
export function validateApbConfig(config: ApbConfig): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  if (config.servers.length === 0 && !config.farm) {
    problems.push({ path: '/servers', message: 'an apb source needs at least one of `servers` (build server URLs) or `farm` (the farm URL)' });
  }
  const seen = new Map<string, number>();
  config.servers.forEach((s, i) => {
    const id = serverId(s);
    const first = seen.get(id);
    if (first !== undefined) problems.push({ path: `/servers/${i}`, message: `server ${JSON.stringify(id)} is configured twice (also at /servers/${first}); give each a distinct url or name` });
    else seen.set(id, i);
    if (id === 'farm') problems.push({ path: `/servers/${i}/name`, message: '"farm" is reserved for the farm; choose another name' });
  });
  const timeout = parseDuration(config.server_timeout);
  const wait = parseDuration(config.wait);
  if (timeout === undefined || timeout < 1 || timeout > 300) problems.push({ path: '/server_timeout', message: `server_timeout must be between 1s and 5m, got ${JSON.stringify(config.server_timeout)}` });
  if (wait === undefined || wait > 300) problems.push({ path: '/wait', message: `wait must be at most 5m, got ${JSON.stringify(config.wait)}` });
  else if (timeout !== undefined && wait > timeout) problems.push({ path: '/wait', message: `wait (${config.wait}) must not exceed server_timeout (${config.server_timeout})` });
  if (config.farm && !isTimeZone(config.farm.time_zone)) {
    problems.push({ path: '/farm/time_zone', message: `unknown time zone ${JSON.stringify(config.farm.time_zone)}; use an IANA name such as UTC or Europe/Berlin` });
  }
  return problems;
}
