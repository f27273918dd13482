/**
 * Config keys of a `cuirass` source block. The core config validates the common keys (`name`,
 * `kind`, `interval`, `timeout`) and strips them before this schema sees the block.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { DURATION_PATTERN, parseDuration } from '../../util/duration.js';
import { DEFAULT_MAX_BODY_BYTES } from '../http.js';

/** Cuirass refuses more than this many builds per /api/queue or /api/latestbuilds call (HTTP 500). */
export const CUIRASS_NR_MAX = 1000;

export const cuirassConfigSchema = Type.Object(
  {
    url: Type.String({
      pattern: '^https?://[^\\s/?#@]+(/[^\\s?#]*)?$',
      errorMessage: 'expected the http:// or https:// base URL of `cuirass web`, without credentials, query or fragment (e.g. https://ci.guix.gnu.org)',
      description: 'Base URL of the Cuirass web interface (default port 8080).',
    }),
    queue_limit: Type.Integer({ minimum: 1, maximum: CUIRASS_NR_MAX, default: CUIRASS_NR_MAX, description: 'Pending builds asked for per GET /api/queue (running ones come first).' }),
    latest_limit: Type.Integer({ minimum: 1, maximum: CUIRASS_NR_MAX, default: 500, description: 'Finished builds asked for per GET /api/latestbuilds (newest evaluations first).' }),
    evaluations_limit: Type.Integer({ minimum: 1, maximum: 1000, default: 50, description: 'Evaluations asked for per GET /api/evaluations.' }),
    specifications_interval: Type.String({ pattern: DURATION_PATTERN, default: '10m', description: 'How often GET /specifications is read again.' }),
    max_body_bytes: Type.Integer({ minimum: 1024, default: DEFAULT_MAX_BODY_BYTES, description: 'Largest response accepted, in bytes.' }),
  },
  { additionalProperties: false },
);

export type CuirassConfig = Static<typeof cuirassConfigSchema>;

export function parseCuirassConfig(raw: unknown): CuirassConfig {
  const value = Value.Default(cuirassConfigSchema, structuredClone(raw));
  const first = Value.Errors(cuirassConfigSchema, value).First();
  if (first) throw new Error(`invalid cuirass source config at ${first.path || '/'}: ${first.message}`);
  const problems = validateCuirassConfig(value as CuirassConfig);
  if (problems[0]) throw new Error(`invalid cuirass source config at ${problems[0].path}: ${problems[0].message}`);
  return value as CuirassConfig;
}

export function validateCuirassConfig(config: CuirassConfig): { path: string; message: string }[] {
  const s = parseDuration(config.specifications_interval);
  if (s === undefined || s < 10 || s > 86_400) return [{ path: '/specifications_interval', message: `specifications_interval must be between 10s and 1d, got ${JSON.stringify(config.specifications_interval)}` }];
  return [];
}
