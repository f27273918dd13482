/**
 * Config keys of a `karajo` source block. The core config validates the common keys (`name`,
 * `kind`, `interval`, `timeout`) and strips them before this schema sees the block.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { DURATION_PATTERN, parseDuration } from '../../util/duration.js';
import { DEFAULT_MAX_BODY_BYTES } from '../http.js';

export const karajoConfigSchema = Type.Object(
  {
    url: Type.String({
      pattern: '^https?://[^\\s/?#@]+(/[^\\s?#]*)?$',
      errorMessage: 'expected the http:// or https:// base URL of the karajo server, without credentials, query or fragment (e.g. http://127.0.0.1:31937)',
      description: 'Base URL of the karajo server (its API is under /karajo/api/; default listen address 127.0.0.1:31937).',
    }),
    user: Type.Optional(
      Type.Object(
        {
          name: Type.String({ minLength: 1, description: 'karajo user name (user.conf).' }),
          password: Type.String({ description: 'Its password. A secret: never logged; use ${ENV}.' }),
        },
        { additionalProperties: false, description: 'Log in (POST /karajo/api/auth/login) and send the `karajo` session cookie, for instances that have users.' },
      ),
    ),
    headers: Type.Optional(
      Type.Record(Type.String({ pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$" }), Type.String(), {
        additionalProperties: false,
        description: 'Extra request headers (e.g. Authorization for a reverse proxy). Treated as secrets: never logged.',
      }),
    ),
    overdue_grace: Type.String({
      pattern: DURATION_PATTERN,
      default: '0s',
      description: 'Slack on top of one interval (or schedule period) before a job whose next_run has passed counts as overdue.',
    }),
    max_body_bytes: Type.Integer({ minimum: 1024, default: DEFAULT_MAX_BODY_BYTES, description: 'Largest response accepted, in bytes (after gzip decoding too).' }),
  },
  { additionalProperties: false },
);

export type KarajoConfig = Static<typeof karajoConfigSchema>;

/** Fill defaults and validate a block by hand (tests and tools; the core config does this itself). */
export function parseKarajoConfig(raw: unknown): KarajoConfig {
  const value = Value.Default(karajoConfigSchema, structuredClone(raw));
  const first = Value.Errors(karajoConfigSchema, value).First();
  if (first) throw new Error(`invalid karajo source config at ${first.path || '/'}: ${first.message}`);
  const problems = validateKarajoConfig(value as KarajoConfig);
  if (problems[0]) throw new Error(`invalid karajo source config at ${problems[0].path}: ${problems[0].message}`);
  return value as KarajoConfig;
}

export function validateKarajoConfig(config: KarajoConfig): { path: string; message: string }[] {
  const grace = parseDuration(config.overdue_grace);
  if (grace === undefined || grace > 7 * 86_400) return [{ path: '/overdue_grace', message: `overdue_grace must be at most 7d, got ${JSON.stringify(config.overdue_grace)}` }];
  return [];
}
