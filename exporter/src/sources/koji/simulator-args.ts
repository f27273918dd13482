/**
 * The Koji simulator's argument handling, as the hub does it: `koji.decode_args` (a trailing struct
 * marked `__starstar` holds keyword arguments), Python's binding of positional and keyword
 * arguments (a mismatch is a ParameterError, as `call_with_argcheck` makes it), `convert_value`
 * casts, time filters (float epoch or ISO string) and QueryProcessor's queryOpts (countOnly,
 * order with `-` for DESC and NULLs last ascending, offset, limit, asList).
 */
import { isStruct, KOJI_FAULTS, type XmlRpcStruct, type XmlRpcValue } from './xmlrpc.js';

/** A Koji error: answered as a fault (with a traceback inside a multiCall unless `reraised`). */
export class HubFault extends Error {
  constructor(readonly code: number, message: string, readonly reraised = false) {
    super(message);
    this.name = 'HubFault';
  }
}

export const genericError = (message: string): HubFault => new HubFault(KOJI_FAULTS.GenericError, message);
export const parameterError = (message: string): HubFault => new HubFault(KOJI_FAULTS.ParameterError, message);

/** A method signature: argument names in order; `required` leading ones have no default. */
export interface Signature {
  args: readonly string[];
  required?: number;
  defaults?: Readonly<Record<string, XmlRpcValue>>;
  /** `*args`: every positional argument goes to `args`, no keywords. */
  varargs?: boolean;
}

export type Args = ReadonlyMap<string, XmlRpcValue>;

/** Bind XML-RPC params to named arguments like Python would after decode_args. */
export function bindArgs(method: string, sig: Signature, params: readonly XmlRpcValue[]): Args {
  let positional = [...params];
  let kwargs: XmlRpcStruct = {};
  const last = positional[positional.length - 1];
  if (isStruct(last) && truthy(last.__starstar ?? null)) {
    kwargs = Object.fromEntries(Object.entries(last).filter(([k]) => k !== '__starstar'));
    positional = positional.slice(0, -1);
  }
  const out = new Map<string, XmlRpcValue>();
  if (sig.varargs) {
    const extra = Object.keys(kwargs)[0];
    if (extra !== undefined) throw parameterError(`${method}() got an unexpected keyword argument '${extra}'`);
    out.set('args', positional);
    return out;
  }
  const names = sig.args;
  if (positional.length > names.length) throw parameterError(`${method}() takes ${names.length} positional argument${names.length === 1 ? '' : 's'} but ${positional.length} were given`);
  positional.forEach((v, i) => out.set(names[i] as string, v));
  for (const [k, v] of Object.entries(kwargs)) {
    if (!names.includes(k)) throw parameterError(`${method}() got an unexpected keyword argument '${k}'`);
    if (out.has(k)) throw parameterError(`${method}() got multiple values for argument '${k}'`);
    out.set(k, v);
  }
  const missing = names.slice(0, sig.required ?? 0).filter((n) => !out.has(n));
  if (missing.length > 0) throw parameterError(`${method}() missing ${missing.length} required positional argument${missing.length === 1 ? '' : 's'}: ${missing.map((m) => `'${m}'`).join(' and ')}`);
  for (const n of names) if (!out.has(n)) out.set(n, sig.defaults?.[n] ?? null);
  return out;
}

export function arg(a: Args, name: string): XmlRpcValue {
  return a.get(name) ?? null;
}

/** Python truthiness. */
export function truthy(v: XmlRpcValue): boolean {
  if (v === null || v === false || v === 0 || v === '' || v === 0n) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isStruct(v)) return Object.keys(v).length > 0;
  return true;
}

/** Python's type name of a value, for messages. */
export function pyType(v: XmlRpcValue): string {
  if (v === null) return "<class 'NoneType'>";
  if (typeof v === 'boolean') return "<class 'bool'>";
  if (typeof v === 'number') return Number.isInteger(v) ? "<class 'int'>" : "<class 'float'>";
  if (typeof v === 'bigint') return "<class 'int'>";
  if (typeof v === 'string') return "<class 'str'>";
  if (Array.isArray(v)) return "<class 'list'>";
  if (v instanceof Date) return "<class 'xmlrpc.client.DateTime'>";
  if (v instanceof Uint8Array) return "<class 'bytes'>";
  return "<class 'dict'>";
}

function shown(v: XmlRpcValue): string {
  return typeof v === 'string' ? v : JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x)) ?? String(v);
}

/** An integer as SQL `%(x)i` takes it (int or bool only). */
export function asInt(v: XmlRpcValue, name: string): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'bigint') return Number(v);
  throw parameterError(`Invalid type for ${name}: ${pyType(v)}, expected type <class 'int'>`);
}

/** convert_value(v, cast=int): Python's int() of a number or numeric string. */
export function castInt(v: XmlRpcValue): number {
  if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v)) return Number.parseInt(v, 10);
  throw parameterError(`Invalid type for value '${shown(v)}': ${pyType(v)}, expected type <class 'int'>`);
}

export function asStruct(v: XmlRpcValue, name: string): XmlRpcStruct {
  if (v === null) return {};
  if (!isStruct(v)) throw parameterError(`Invalid type for ${name}: ${pyType(v)}, expected type <class 'dict'>`);
  return v;
}

export function asList(v: XmlRpcValue, name: string): XmlRpcValue[] {
  if (!Array.isArray(v)) throw parameterError(`Invalid type for ${name}: ${pyType(v)}, expected type <class 'list'>`);
  return v;
}

/** A time filter as microseconds: a float epoch (fromtimestamp, hub in UTC) or an ISO string (no zone = UTC). */
export function timeUs(v: XmlRpcValue, name: string): number {
  if (typeof v === 'number' && Number.isFinite(v)) return Math.round(v * 1e6);
  if (typeof v === 'boolean') return v ? 1e6 : 0;
  if (typeof v === 'string') {
    const m = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,6}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(v.trim());
    if (m) {
      let zone = m[4] ?? 'Z';
      if (/^[+-]\d{2}$/.test(zone)) zone += ':00';
      const base = Date.parse(`${m[1]}T${m[2] ?? '00:00'}${(m[2] ?? '').length === 5 ? ':00' : ''}${zone.replace(/^([+-]\d{2})(\d{2})$/, '$1:$2')}`);
      if (Number.isFinite(base)) return base * 1000 + Number((m[3] ?? '').padEnd(6, '0'));
    }
    throw parameterError(`Invalid time for ${name}: ${JSON.stringify(v)} (expected a float epoch or an ISO date string)`);
  }
  throw parameterError(`Invalid type for ${name}: ${pyType(v)}, expected a timestamp (float) or a date string`);
}

export interface QueryOpts {
  countOnly: boolean;
  asList: boolean;
  order: string | null;
  limit: number | null;
  offset: number | null;
}

export function queryOpts(v: XmlRpcValue, name = 'queryOpts'): QueryOpts {
  const q = asStruct(v, name);
  const order = q.order ?? null;
  if (order !== null && typeof order !== 'string') throw parameterError(`Invalid type for order: ${pyType(order)}, expected type <class 'str'>`);
  const num = (k: string): number | null => (q[k] === undefined || q[k] === null ? null : asInt(q[k] as XmlRpcValue, k));
  return { countOnly: truthy(q.countOnly ?? null), asList: truthy(q.asList ?? null), order, limit: num('limit'), offset: num('offset') };
}

function compare(a: XmlRpcValue, b: XmlRpcValue): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  if (typeof a === 'boolean' || typeof b === 'boolean') return Number(a) - Number(b);
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const [x, y] = [typeof a === 'string' ? a : JSON.stringify(a), typeof b === 'string' ? b : JSON.stringify(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Filtered items in, the answer out: order by the aliases in `q.order` (an unknown one is an error),
 * then offset and limit, then a count or the rows (as lists with asList).
 */
export function runQuery<T>(items: readonly T[], q: QueryOpts, aliases: readonly string[], value: (item: T, alias: string) => XmlRpcValue, row: (item: T) => XmlRpcStruct): XmlRpcValue {
  let list = [...items];
  if (q.order && !q.countOnly) {
    const terms = q.order.split(',').map((o) => {
      const desc = o.startsWith('-');
      const alias = desc ? o.slice(1) : o;
      if (!aliases.includes(alias)) throw genericError(`Invalid order: ${alias}`);
      return { alias, desc };
    });
    const keyed = list.map((item, i) => ({ item, i, keys: terms.map((t) => value(item, t.alias)) }));
    keyed.sort((a, b) => {
      for (const [n, t] of terms.entries()) {
        const [x, y] = [a.keys[n] as XmlRpcValue, b.keys[n] as XmlRpcValue];
        // PostgreSQL: NULLS LAST when ascending, NULLS FIRST when descending.
        const c = t.desc ? -compare(x, y) : compare(x, y);
        if (c !== 0) return c;
      }
      return a.i - b.i;
    });
    list = keyed.map((k) => k.item);
  }
  if (q.offset !== null && q.offset > 0) list = list.slice(q.offset);
  if (q.limit !== null && q.limit >= 0) list = list.slice(0, q.limit);
  if (q.countOnly) return list.length;
  const rows = list.map(row);
  return q.asList ? rows.map((r) => Object.values(r)) : rows;
}
