/**
 * Query-parameter helpers shared by the routes: multi-valued lists (comma-separated and/or
 * repeated), times (ISO 8601 or Unix seconds), string enums that document themselves in
 * OpenAPI, and the check that rejects unknown parameters (typos like `stat=`) and numbers ajv
 * would let through non-finite (`limit=Infinity`).
 */
import { Type, type TArray, type TOptional, type TSchema, type TString, type TUnsafe } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { closest } from '../util/edit-distance.js';
import { badRequest } from './errors.js';

/** A string parameter limited to a fixed list (a plain JSON-schema `enum`, so errors list the values). */
export function StringEnum<const T extends readonly string[]>(values: T, options: { description?: string; default?: T[number] } = {}): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

/** A multi-valued query parameter: `?state=A,B` and `?state=A&state=B` both give `[A, B]`. */
export function ListParam(description: string): TOptional<TArray<TString>> {
  return Type.Optional(Type.Array(Type.String(), { description: `${description} Comma-separated and/or repeated.` }));
}

/** The value meaning "no filter" in list parameters (and, for `state`, "no default states"). */
export const ALL = 'ALL';

/**
 * Split a list parameter; undefined when absent. Empty items are an error: `state=` is more
 * likely a broken template variable than a wish for no filter.
 */
export function splitList(name: string, raw: readonly string[] | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const values = raw.flatMap((part) => part.split(',')).map((v) => v.trim());
  if (values.length === 0 || values.some((v) => v === '')) {
    throw badRequest(`query parameter "${name}" has an empty value; give one or more comma-separated values, or leave it out`);
  }
  return [...new Set(values)];
}

/** Like splitList, and checks every value against the allowed ones. */
export function splitEnumList<const T extends readonly string[]>(name: string, raw: readonly string[] | undefined, allowed: T): T[number][] | undefined {
  const values = splitList(name, raw);
  if (values === undefined) return undefined;
  const bad = values.filter((v) => !allowed.includes(v));
  if (bad.length > 0) {
    throw badRequest(`query parameter "${name}" has unknown value${bad.length === 1 ? '' : 's'} ${bad.map((b) => `"${b}"`).join(', ')}; allowed values: ${allowed.join(', ')}`);
  }
  return values as T[number][];
}

const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;
const UNIX_SECONDS = /^\d{1,11}(?:\.\d+)?$/;
/** Unix seconds beyond this (year 5138) are almost surely milliseconds. */
const MAX_UNIX_SECONDS = 1e11;

/**
 * Epoch milliseconds of an ISO 8601 time (UTC when it has no offset) or of Unix seconds;
 * throws a 400 ApiError naming the parameter otherwise.
 */
export function parseTimeParam(name: string, raw: string): number {
  const text = raw.trim();
  if (/^\d+(?:\.\d+)?$/.test(text)) {
    if (!UNIX_SECONDS.test(text) || Number(text) >= MAX_UNIX_SECONDS) {
      throw badRequest(`query parameter "${name}" is ${JSON.stringify(raw)}, which looks like Unix milliseconds; give Unix seconds (Grafana: \${__from:date:seconds}) or an ISO 8601 time`);
    }
    return Math.round(Number(text) * 1000);
  }
  const m = ISO_8601.exec(text);
  if (m) {
    const part = (i: number): number => (m[i] === undefined ? 0 : Number(m[i]));
    const [year, month, day, hour, minute, second] = [part(1), part(2), part(3), part(4), part(5), part(6)];
    const fraction = m[7] ? Number(`0.${m[7]}`) * 1000 : 0;
    const utc = Date.UTC(year, month - 1, day, hour, minute, second);
    const check = new Date(utc);
    const valid =
      check.getUTCFullYear() === year &&
      check.getUTCMonth() === month - 1 &&
      check.getUTCDate() === day &&
      check.getUTCHours() === hour &&
      check.getUTCMinutes() === minute &&
      check.getUTCSeconds() === second;
    if (valid) return utc + Math.round(fraction) - offsetMs(m[8]);
  }
  throw badRequest(`query parameter "${name}" is ${JSON.stringify(raw)}, which is neither an ISO 8601 time (2026-03-16T12:00:00Z) nor Unix seconds (1773662400)`);
}

function offsetMs(zone: string | undefined): number {
  if (zone === undefined || zone.toUpperCase() === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60_000;
}

/** Names of the properties an object schema declares. */
export function schemaKeys(schema: TSchema): string[] {
  const props = (schema as { properties?: Record<string, unknown> }).properties;
  return props ? Object.keys(props) : [];
}

/** An unknown parameter at most this many edits from a known one gets a "did you mean". */
const MAX_SUGGESTION_DISTANCE = 2;

/** How an integer query parameter must be written: decimal digits, optionally signed (spaces around are ignored, as ajv does). */
const DECIMAL_INTEGER = /^\s*[+-]?\d+\s*$/;

interface NumericParam {
  name: string;
  integer: boolean;
  minimum: number;
  maximum: number;
}

/** The `integer` and `number` properties of a query schema, with their bounds (the safe-integer range when the schema has none). */
export function numericParams(querySchema: TSchema | undefined): NumericParam[] {
  const props = (querySchema as { properties?: Record<string, { type?: unknown; minimum?: unknown; maximum?: unknown }> } | undefined)?.properties ?? {};
  return Object.entries(props).flatMap(([name, prop]) => {
    if (prop.type !== 'integer' && prop.type !== 'number') return [];
    const minimum = typeof prop.minimum === 'number' ? Math.max(prop.minimum, Number.MIN_SAFE_INTEGER) : Number.MIN_SAFE_INTEGER;
    const maximum = typeof prop.maximum === 'number' ? Math.min(prop.maximum, Number.MAX_SAFE_INTEGER) : Number.MAX_SAFE_INTEGER;
    return [{ name, integer: prop.type === 'integer', minimum, maximum }];
  });
}

/**
 * Whether a raw query value is one a numeric parameter may take before its schema checks the
 * bounds. ajv (with fastify's type coercion) takes `Infinity`, `-Infinity`, `1e309`, `1e20` and
 * `0x10` as integers and lets ±Infinity through `minimum`/`maximum`, so the route would run with
 * a non-finite number (and the response serializer throw): integers must be decimal digits and
 * safe integers, numbers finite.
 */
function numericValueOk(raw: string, integer: boolean): boolean {
  if (integer) return DECIMAL_INTEGER.test(raw) && Number.isSafeInteger(Number(raw));
  return raw.trim() !== '' && Number.isFinite(Number(raw)) && Math.abs(Number(raw)) <= Number.MAX_SAFE_INTEGER;
}

function numericRule(param: NumericParam): string {
  return param.integer ? `an integer from ${param.minimum} to ${param.maximum}, in decimal digits` : `a finite number from ${param.minimum} to ${param.maximum}`;
}

/**
 * A preValidation hook checking the raw query against the route's query schema before fastify's
 * validation and coercion: it rejects parameters the route does not declare (fastify's ajv runs
 * with removeAdditional, so `additionalProperties: false` alone would drop them silently: typos
 * like `stat=`), and numeric parameters that are not finite, safe, decimal numbers.
 */
export function checkQuery(querySchema: TSchema | undefined): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const known = querySchema ? schemaKeys(querySchema) : [];
  const numeric = numericParams(querySchema);
  return async (request) => {
    const query = request.query;
    if (query === null || typeof query !== 'object') return;
    const unknown = Object.keys(query).filter((k) => !known.includes(k));
    if (unknown.length > 0) {
      const hints = unknown.map((u) => {
        const guess = closest(u, known, MAX_SUGGESTION_DISTANCE);
        return guess ? `"${u}" (did you mean "${guess}"?)` : `"${u}"`;
      });
      const allowed = known.length > 0 ? `known parameters: ${known.join(', ')}` : 'this route takes no query parameters';
      throw badRequest(`unknown query parameter${unknown.length === 1 ? '' : 's'} ${hints.join(', ')}; ${allowed}`);
    }
    for (const param of numeric) {
      const value: unknown = (query as Record<string, unknown>)[param.name];
      if (value === undefined) continue;
      const raws = Array.isArray(value) ? value : [value];
      const bad = raws.find((raw) => typeof raw !== 'string' || !numericValueOk(raw, param.integer));
      if (bad === undefined) continue;
      const route = request.routeOptions.url ?? request.url.split('?')[0];
      throw badRequest(`query parameter "${param.name}" must be ${numericRule(param)} (got ${JSON.stringify(bad)}); see /openapi.json for the parameters of ${route}`);
    }
  };
}
