/** Turns schema validation errors into one readable problem per path. */
import type { TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';
import { redactUrl } from '../sources/errors.js';
import { DURATION_PATTERN } from '../util/duration.js';
import { closest } from '../util/edit-distance.js';

export interface ConfigProblem {
  /** JSON pointer into the config file, e.g. `/sources/0/url`. */
  path: string;
  message: string;
}

/**
 * One problem per failing path. Values are quoted to help, except where they may be secrets:
 * under secret-looking keys, values taken from the environment (`fromEnv` paths), and URLs with
 * credentials (shown redacted).
 */
export function describeErrors(schema: TSchema, value: unknown, prefix: string, fromEnv: ReadonlySet<string> = new Set()): ConfigProblem[] {
  const seen = new Set<string>();
  const out: ConfigProblem[] = [];
  for (const error of Value.Errors(schema, value)) {
    const path = `${prefix}${error.path}`;
    if (seen.has(path) || [...seen].some((p) => path.startsWith(`${p}/`))) continue;
    seen.add(path);
    out.push({ path, message: safeMessage(describe(error), path, error.value, fromEnv) });
  }
  return out;
}

/** Values under these keys are secrets: problems name the path and the rule, never the value. */
function isSecretPath(path: string): boolean {
  return /\/(headers|[a-z_]*password|[a-z_]*passphrase|token|bearer_token|secret|key_file_content)(\/|$)/i.test(path);
}

function safeMessage(message: string, path: string, value: unknown, fromEnv: ReadonlySet<string>): string {
  if (isSecretPath(path) || fromEnv.has(path)) return message.replace(JSON.stringify(value), '<redacted>');
  if (typeof value === 'string' && /^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    const redacted = redactUrl(value);
    if (redacted !== value && redacted !== `${value}/`) return message.replace(JSON.stringify(value), JSON.stringify(redacted));
  }
  return message;
}

function describe(error: ValueError): string {
  const key = error.path.split('/').pop() ?? '';
  const custom = (error.schema as { errorMessage?: unknown }).errorMessage;
  if (typeof custom === 'string' && error.type !== ValueErrorType.ObjectAdditionalProperties && error.type !== ValueErrorType.ObjectRequiredProperty) {
    return `${custom}, got ${JSON.stringify(error.value)}`;
  }
  switch (error.type) {
    case ValueErrorType.ObjectAdditionalProperties:
      return `unknown key "${key}"${suggest(key, error)}`;
    case ValueErrorType.ObjectRequiredProperty:
      return `missing required key "${key}"`;
    case ValueErrorType.StringPattern:
      if (error.schema.pattern === DURATION_PATTERN) return `expected a duration such as 30s, 5m or 1h30m, got ${JSON.stringify(error.value)}`;
      return `${JSON.stringify(error.value)} does not match the pattern ${error.schema.pattern as string}`;
    case ValueErrorType.Union: {
      const options = (error.schema.anyOf as TSchema[] | undefined)?.map((s) => s.const).filter((c) => c !== undefined);
      if (options && options.length > 0) return `expected one of ${options.join(', ')}, got ${JSON.stringify(error.value)}`;
      return `${error.message}, got ${JSON.stringify(error.value)}`;
    }
    case ValueErrorType.Literal:
      return `expected ${JSON.stringify(error.schema.const)}, got ${JSON.stringify(error.value)}`;
    default:
      return `${error.message.replace(/^Expected/, 'expected')}, got ${JSON.stringify(error.value)}`;
  }
}

/** A near-miss key name from the enclosing object's schema (at most 2 edits away), as a hint. */
function suggest(key: string, error: ValueError): string {
  const props = (error.schema as { properties?: Record<string, unknown> }).properties;
  if (!props) return '';
  const best = closest(key, Object.keys(props), 2);
  return best ? ` (did you mean "${best}"?)` : '';
}
