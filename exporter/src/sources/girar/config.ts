/**
 * Config keys specific to a `girar` source block. The core config validates the common keys
 * (`name`, `kind`, `interval`, `timeout`) and strips them before this schema sees the block.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { isTimeZone } from '../../util/time-zone.js';
import { DEFAULT_MAX_BODY_BYTES } from '../http.js';

export const DEFAULT_TASK_URL = 'https://git.altlinux.org/tasks/{id}/';

/**
 * The `taskoteka` transport: taskoteka's HTTP API. When the `fs` transport lands this becomes a
 * union discriminated by `transport`, so existing blocks stay valid unchanged.
 */
export const girarConfigSchema = Type.Object(
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
    time_zone: Type.String({
      default: 'UTC',
      description:
        "IANA time zone of the girar server's clock: taskoteka's `created` and `build_time` carry no zone (girar writes them in server-local time), e.g. Europe/Moscow.",
    }),
    task_url: Type.String({
      pattern: '\\{id\\}',
      default: DEFAULT_TASK_URL,
      description: 'Link to a task page; `{id}` is replaced by the task id.',
    }),
  },
  { additionalProperties: false },
);

export type GirarConfig = Static<typeof girarConfigSchema>;

/**
 * Fill defaults and validate a girar block (without the common keys). The core config does this
 * itself; this helper serves tests and tools that build a block by hand.
 */
export function parseGirarConfig(raw: unknown): GirarConfig {
  const value = Value.Default(girarConfigSchema, structuredClone(raw));
  const first = Value.Errors(girarConfigSchema, value).First();
  if (first) {
    // Header values are secrets: report the path and the rule, never the offending value.
    throw new Error(`invalid girar source config at ${first.path || '/'}: ${first.message}`);
  }
  return value as GirarConfig;
}

/** Checks beyond the schema: the time zone must be one this Node.js knows. */
export function validateGirarConfig(config: GirarConfig): { path: string; message: string }[] {
  return isTimeZone(config.time_zone) ? [] : [{ path: '/time_zone', message: `unknown time zone ${JSON.stringify(config.time_zone)}; use an IANA name such as UTC or Europe/Moscow` }];
}
