/**
 * Config keys specific to a `girar` source block. The core config validates the common keys
 * (`name`, `kind`, `interval`, `timeout`) and strips them before this schema sees the block.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { isTimeZone } from '../../util/time-zone.js';
import { DURATION_PATTERN, parseDuration } from '../../util/duration.js';
import { DEFAULT_MAX_BODY_BYTES } from '../http.js';
import { girarAclConfigSchema } from './fs/acl-config.js';

export const DEFAULT_TASK_URL = 'https://git.altlinux.org/tasks/{id}/';

const timeZone = () =>
  Type.String({
    default: 'UTC',
    description:
      "IANA time zone of the girar server's clock: girar writes `build_time`, `fetched` (and taskoteka `created`) in server-local time without a zone, e.g. Europe/Moscow.",
  });
const taskUrl = () =>
  Type.String({
    pattern: '\\{id\\}',
    default: DEFAULT_TASK_URL,
    description: 'Link to a task page; `{id}` is replaced by the task id.',
  });
const taskotekaApi = () =>
  Type.Boolean({
    default: true,
    description: 'Serve the taskoteka-compatible API for this source under /compat/taskoteka/<name>/.',
  });

/** The `taskoteka` transport: taskoteka's HTTP API. `transport` may be left out (the default). */
export const girarTaskotekaConfigSchema = Type.Object(
  {
    transport: Type.Literal('taskoteka', {
      default: 'taskoteka',
      description: 'How tasks are read. `taskoteka`: its HTTP API (GET /tasks, /tasks/{id}, /events).',
    }),
    url: Type.String({
      pattern: '^https?://[^\\s/?#]+[^\\s?#]*$',
      errorMessage: 'expected an http:// or https:// URL of the taskoteka API, without a query or fragment',
      description: 'Base URL of the taskoteka API, e.g. https://git.altlinux.org/tasks/api',
    }),
    stream: Type.Boolean({
      default: true,
      description: "Subscribe to taskoteka's GET /events and refresh changed tasks between polls.",
    }),
    resync_interval: Type.String({
      pattern: DURATION_PATTERN,
      default: '5m',
      description:
        'With a live stream, how often a poll reads the full task list again; the polls between fetch only the details the stream cannot announce (running tasks past their age). Without a stream every poll reads the list.',
    }),
    detail_concurrency: Type.Integer({
      minimum: 1,
      maximum: 32,
      default: 4,
      description: 'Parallel GET /tasks/{id} requests.',
    }),
    detail_budget: Type.Integer({
      minimum: 1,
      default: 500,
      description: 'Most GET /tasks/{id} requests per poll; the rest are fetched by the next polls.',
    }),
    headers: Type.Optional(
      Type.Record(Type.String({ pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$" }), Type.String(), {
        additionalProperties: false,
        description: 'Extra request headers (e.g. Authorization for a reverse proxy). Treated as secrets: never logged.',
      }),
    ),
    max_body_bytes: Type.Integer({
      minimum: 1024,
      default: DEFAULT_MAX_BODY_BYTES,
      description: 'Largest response body accepted, in bytes.',
    }),
    time_zone: timeZone(),
    task_url: taskUrl(),
    taskoteka_api: taskotekaApi(),
  },
  { additionalProperties: false },
);

export const DEFAULT_TASKS_DIR = '/tasks';

/** The `fs` transport: girar's `/tasks` tree itself (the build host, or an NFS mount of it). */
export const girarFsConfigSchema = Type.Object(
  {
    transport: Type.Literal('fs', { description: 'How tasks are read. `fs`: the /tasks tree girar writes, read directly.' }),
    tasks_dir: Type.String({
      pattern: '^/',
      default: DEFAULT_TASKS_DIR,
      errorMessage: 'expected an absolute directory path',
      description: "girar's tasks directory (TASKS_DIR), holding /tasks/<id>/.",
    }),
    archive_dir: Type.Optional(
      Type.String({
        pattern: '^(/.*)?$',
        errorMessage: 'expected an absolute directory path, or "" for no archive',
        description: 'Root of archived DONE tasks, read on demand as <archive_dir>/_<id/1024>/<id>. Default <tasks_dir>/archive/done; "" = no archive.',
      }),
    ),
    acl: Type.Optional(girarAclConfigSchema),
    io_threads: Type.Integer({
      minimum: 0,
      maximum: 64,
      default: 4,
      description: 'Reader threads doing file I/O in parallel (what NFS latency needs). 0 = on the main thread (small trees only).',
    }),
    max_file_bytes: Type.Integer({
      minimum: 1024,
      maximum: 64 * 1024 * 1024,
      default: 1024 * 1024,
      description: 'Largest file read from a task directory, in bytes; a larger file is skipped and counted.',
    }),
    full_reread_interval: Type.String({
      pattern: DURATION_PATTERN,
      default: '10m',
      description: 'Every task is re-read in full at least this often (spread out), whatever its mtimes say.',
    }),
    passwd_file: Type.String({
      pattern: '^(/.*)?$',
      default: '/etc/passwd',
      description: 'passwd file mapping uids to alt_<login> users, for `aborted_by` (the owner of task/abort). "" = report the uid.',
    }),
    time_zone: timeZone(),
    task_url: taskUrl(),
    taskoteka_api: taskotekaApi(),
  },
  { additionalProperties: false },
);

export const girarConfigSchema = Type.Union([girarTaskotekaConfigSchema, girarFsConfigSchema]);

export type GirarTaskotekaConfig = Static<typeof girarTaskotekaConfigSchema>;
export type GirarFsConfig = Static<typeof girarFsConfigSchema>;
export type GirarConfig = GirarTaskotekaConfig | GirarFsConfig;

const transportSchema = Type.Object(
  { transport: Type.Union([Type.Literal('taskoteka'), Type.Literal('fs')]) },
  { additionalProperties: true },
);

/** The schema of one girar block, chosen by its `transport` (so errors speak about that transport only). */
export function girarSchemaFor(block: Record<string, unknown>): typeof girarTaskotekaConfigSchema | typeof girarFsConfigSchema | typeof transportSchema {
  const t = block.transport;
  if (t === undefined || t === 'taskoteka') return girarTaskotekaConfigSchema;
  if (t === 'fs') return girarFsConfigSchema;
  return transportSchema;
}

/**
 * Fill defaults and validate a girar block (without the common keys). The core config does this
 * itself; this helper serves tests and tools that build a block by hand.
 */
export function parseGirarConfig(raw: unknown): GirarConfig {
  const schema = girarSchemaFor(raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {});
  const value = Value.Default(schema, structuredClone(raw));
  const first = Value.Errors(schema, value).First();
  if (first) {
    // Header values are secrets: report the path and the rule, never the offending value.
    throw new Error(`invalid girar source config at ${first.path || '/'}: ${first.message}`);
  }
  return value as GirarConfig;
}

/** Checks beyond the schema: a time zone this Node.js knows, a sane re-read interval. */
export function validateGirarConfig(config: GirarConfig): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  if (!isTimeZone(config.time_zone)) problems.push({ path: '/time_zone', message: `unknown time zone ${JSON.stringify(config.time_zone)}; use an IANA name such as UTC or Europe/Moscow` });
  if (config.transport === 'taskoteka') {
    const s = parseDuration(config.resync_interval);
    if (s === undefined || s < 1 || s > 86_400) problems.push({ path: '/resync_interval', message: `resync_interval must be between 1s and 1d, got ${JSON.stringify(config.resync_interval)}` });
  }
  if (config.transport === 'fs') {
    const s = parseDuration(config.full_reread_interval);
    if (s === undefined || s < 10 || s > 86_400) problems.push({ path: '/full_reread_interval', message: `full_reread_interval must be between 10s and 1d, got ${JSON.stringify(config.full_reread_interval)}` });
  }
  return problems;
}

/** The archive root of an fs source: the configured one, `<tasks_dir>/archive/done` by default, none for "". */
export function archiveDirOf(config: GirarFsConfig): string | undefined {
  if (config.archive_dir === undefined) return `${config.tasks_dir.replace(/\/+$/, '')}/archive/done`;
  return config.archive_dir === '' ? undefined : config.archive_dir;
}
