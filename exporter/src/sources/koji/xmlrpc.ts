/**
 * XML-RPC as Koji's hub speaks it (koji/xmlrpcplus.py, kojixmlrpc.py): `<nil/>` for every NULL,
 * `<i8>` above 32 bits, datetimes as plain strings, keyword arguments as a trailing struct marked
 * `__starstar`, faults answered with HTTP 200, and `multiCall` answering each call with a
 * one-element array or a fault struct. Parsing is saxes (strict XML, no DTDs, no external
 * entities); the XML-RPC rules on top are here. Used by the client and by the simulator.
 */
import { SaxesParser } from 'saxes';

/** A decoded XML-RPC value. Integers beyond 2^53 come back as bigint; `base64` as a Uint8Array. */
export type XmlRpcValue = null | boolean | number | bigint | string | Date | Uint8Array | XmlRpcValue[] | XmlRpcStruct;
export interface XmlRpcStruct {
  [name: string]: XmlRpcValue;
}

export interface XmlRpcFault {
  code: number;
  message: string;
  /** Koji's own errors add the hub's traceback lines inside a multiCall. */
  traceback?: string[];
}

export type XmlRpcResponse = { kind: 'result'; value: XmlRpcValue } | { kind: 'fault'; fault: XmlRpcFault };

export interface XmlRpcCall {
  methodName: string;
  params: XmlRpcValue[];
}

/** One entry of a multiCall answer. */
export type MultiCallResult = { ok: true; value: XmlRpcValue } | { ok: false; fault: XmlRpcFault };

/** Koji's fault codes (koji/__init__.py) the exporter acts on. */
export const KOJI_FAULTS = {
  GenericError: 1000,
  AuthError: 1002,
  ParameterError: 1019,
  /** The hub answers but its database is down (or the hub is in lockout / offline). */
  ServerOffline: 1014,
} as const;

/** The wire did not hold a well-formed XML-RPC message; says where and what. */
export class XmlRpcFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XmlRpcFormatError';
  }
}

/** Deepest nesting of XML-RPC values accepted (arrays and structs); real Koji answers are a few levels deep. */
export const MAX_VALUE_DEPTH = 64;

/** A struct that is passed as Python keyword arguments (`koji.encode_args`). */
export function kwargs(values: Record<string, XmlRpcValue | undefined>): XmlRpcStruct {
  const out: XmlRpcStruct = { __starstar: true };
  for (const [k, v] of Object.entries(values)) if (v !== undefined) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Encoding

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export function encodeMethodCall(methodName: string, params: readonly XmlRpcValue[]): string {
  if (!/^[A-Za-z0-9_.:/]+$/.test(methodName)) throw new XmlRpcFormatError(`method name ${JSON.stringify(methodName)} has characters XML-RPC does not allow`);
  const body = params.map((p) => `<param>${encodeValue(p, 0)}</param>`).join('');
  return `<?xml version='1.0'?>\n<methodCall><methodName>${methodName}</methodName><params>${body}</params></methodCall>\n`;
}

export function encodeMethodResponse(value: XmlRpcValue): string {
  return `<?xml version='1.0'?>\n<methodResponse><params><param>${encodeValue(value, 0)}</param></params></methodResponse>\n`;
}

export function encodeFault(fault: XmlRpcFault): string {
  const struct: XmlRpcStruct = { faultCode: fault.code, faultString: fault.message };
  return `<?xml version='1.0'?>\n<methodResponse><fault>${encodeValue(struct, 0)}</fault></methodResponse>\n`;
}

/** A multiCall's answer value: a one-element array per success, a fault struct per failure. */
export function multiCallValue(results: readonly MultiCallResult[]): XmlRpcValue {
  return results.map((r) =>
    r.ok ? [r.value] : { faultCode: r.fault.code, faultString: r.fault.message, ...(r.fault.traceback ? { traceback: r.fault.traceback } : {}) },
  );
}

function encodeValue(v: XmlRpcValue, depth: number): string {
  if (depth > MAX_VALUE_DEPTH) throw new XmlRpcFormatError(`value nested deeper than ${MAX_VALUE_DEPTH} levels`);
  if (v === null) return '<value><nil/></value>';
  switch (typeof v) {
    case 'boolean':
      return `<value><boolean>${v ? 1 : 0}</boolean></value>`;
    case 'string':
      return `<value><string>${escapeText(v)}</string></value>`;
    case 'bigint':
      if (v < INT64_MIN || v > INT64_MAX) throw new XmlRpcFormatError(`integer ${v} does not fit in i8 (64 bits)`);
      return v >= BigInt(INT32_MIN) && v <= BigInt(INT32_MAX) ? `<value><int>${v}</int></value>` : `<value><i8>${v}</i8></value>`;
    case 'number':
      if (!Number.isFinite(v)) throw new XmlRpcFormatError(`${v} cannot be sent in XML-RPC`);
      if (Number.isInteger(v)) {
        if (v >= INT32_MIN && v <= INT32_MAX) return `<value><int>${v}</int></value>`;
        if (Number.isSafeInteger(v)) return `<value><i8>${v}</i8></value>`;
      }
      return `<value><double>${formatDouble(v)}</double></value>`;
    default:
      break;
  }
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) throw new XmlRpcFormatError('an invalid Date cannot be sent in XML-RPC');
    const year = v.getUTCFullYear();
    if (year < 1 || year > 9999) throw new XmlRpcFormatError(`a date in year ${year} cannot be sent in XML-RPC (years 1 to 9999)`);
    return `<value><dateTime.iso8601>${v.toISOString().replace(/[-]|\.\d+Z$/g, '').replace(/Z$/, '')}</dateTime.iso8601></value>`;
  }
  if (v instanceof Uint8Array) return `<value><base64>${Buffer.from(v).toString('base64')}</base64></value>`;
  if (Array.isArray(v)) return `<value><array><data>${v.map((x) => encodeValue(x, depth + 1)).join('')}</data></array></value>`;
  const members = Object.entries(v)
    .map(([name, x]) => `<member><name>${escapeText(name)}</name>${encodeValue(x, depth + 1)}</member>`)
    .join('');
  return `<value><struct>${members}</struct></value>`;
}

/** Python's repr-like form: always a decimal point, so the hub reads it back as a float. */
function formatDouble(v: number): string {
  const s = String(v);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

// XML 1.0 allows tab, LF, CR and everything from U+0020 except lone surrogates, U+FFFE and U+FFFF.
// eslint-disable-next-line no-control-regex
const XML_ILLEGAL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function escapeText(s: string): string {
  if (XML_ILLEGAL.test(s)) throw new XmlRpcFormatError(`string ${JSON.stringify(s.slice(0, 40))} holds a character XML 1.0 cannot carry`);
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
}

// ---------------------------------------------------------------------------------------------
// Decoding

interface Element {
  name: string;
  children: Element[];
  text: string;
  line: number;
}

/** Elements accepted in one document: bounds the work a hostile answer can cause beyond its byte size. */
const MAX_ELEMENTS = 5_000_000;
/** XML nesting allowed: each XML-RPC level takes up to four elements (value, array, data / struct, member). */
const MAX_XML_DEPTH = MAX_VALUE_DEPTH * 4 + 8;

/** Parse an XML document into a small element tree (strict XML; a DOCTYPE is refused). */
function parseTree(xml: string): Element {
  // saxes lets a lone surrogate through (and swallows what follows it); a body decoded from UTF-8 never holds one.
  if (LONE_SURROGATE.test(xml)) throw new XmlRpcFormatError('not well-formed XML: a lone surrogate');
  const parser = new SaxesParser({ xmlns: false, position: true });
  const stack: Element[] = [];
  let root: Element | undefined;
  let count = 0;
  let failure: Error | undefined;
  parser.on('error', (err) => {
    failure ??= new XmlRpcFormatError(`not well-formed XML: ${err.message}`);
  });
  parser.on('doctype', () => {
    failure ??= new XmlRpcFormatError('a DOCTYPE is not allowed in XML-RPC');
  });
  parser.on('opentag', (tag) => {
    count += 1;
    if (count > MAX_ELEMENTS) failure ??= new XmlRpcFormatError(`more than ${MAX_ELEMENTS} elements`);
    if (stack.length >= MAX_XML_DEPTH) failure ??= new XmlRpcFormatError(`XML nested deeper than ${MAX_XML_DEPTH} elements`);
    const el: Element = { name: tag.name, children: [], text: '', line: parser.line };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(el);
    else root = el;
    stack.push(el);
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  const onText = (t: string) => {
    const top = stack[stack.length - 1];
    if (top) top.text += t;
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  // saxes keeps going after an error unless told otherwise; stop feeding at the first problem.
  const CHUNK = 1 << 16;
  for (let i = 0; i < xml.length && !failure; i += CHUNK) parser.write(xml.slice(i, i + CHUNK));
  if (!failure) parser.close();
  if (failure) throw failure;
  if (!root) throw new XmlRpcFormatError('empty document');
  return root;
}

function only(el: Element, name: string, where: string): Element {
  const found = el.children.filter((c) => c.name === name);
  if (found.length !== 1 || el.children.length !== 1) {
    const got = el.children.map((c) => `<${c.name}>`).join(', ') || 'nothing';
    throw new XmlRpcFormatError(`${where}: expected exactly one <${name}> (line ${el.line}), found ${got}`);
  }
  return found[0] as Element;
}

export function decodeMethodResponse(xml: string): XmlRpcResponse {
  const root = parseTree(xml);
  if (root.name !== 'methodResponse') throw new XmlRpcFormatError(`expected <methodResponse>, found <${root.name}>`);
  const first = root.children[0];
  if (root.children.length !== 1 || !first) throw new XmlRpcFormatError('<methodResponse> must hold exactly one <params> or <fault>');
  if (first.name === 'fault') {
    const value = decodeValue(only(first, 'value', '<fault>'), 0);
    const fault = asFault(value);
    if (!fault) throw new XmlRpcFormatError('<fault> does not hold a {faultCode, faultString} struct');
    return { kind: 'fault', fault };
  }
  if (first.name !== 'params') throw new XmlRpcFormatError(`<methodResponse> holds <${first.name}>, expected <params> or <fault>`);
  const param = only(first, 'param', '<params> of a response');
  return { kind: 'result', value: decodeValue(only(param, 'value', '<param>'), 0) };
}

export function decodeMethodCall(xml: string): XmlRpcCall {
  const root = parseTree(xml);
  if (root.name !== 'methodCall') throw new XmlRpcFormatError(`expected <methodCall>, found <${root.name}>`);
  const nameEl = root.children.find((c) => c.name === 'methodName');
  if (!nameEl) throw new XmlRpcFormatError('<methodCall> has no <methodName>');
  const methodName = nameEl.text.trim();
  if (methodName === '') throw new XmlRpcFormatError('<methodName> is empty');
  const paramsEl = root.children.find((c) => c.name === 'params');
  const params: XmlRpcValue[] = [];
  for (const p of paramsEl?.children ?? []) {
    if (p.name !== 'param') throw new XmlRpcFormatError(`<params> holds <${p.name}>, expected <param>`);
    params.push(decodeValue(only(p, 'value', '<param>'), 0));
  }
  return { methodName, params };
}

/** A `{faultCode, faultString}` struct as a fault (inside `<fault>` or a multiCall answer), else undefined. */
export function asFault(v: XmlRpcValue): XmlRpcFault | undefined {
  if (!isStruct(v)) return undefined;
  const code = v.faultCode;
  const message = v.faultString;
  if (typeof code !== 'number' || !Number.isInteger(code) || typeof message !== 'string') return undefined;
  const tb = v.traceback;
  const traceback = Array.isArray(tb) ? tb.filter((l): l is string => typeof l === 'string') : undefined;
  return { code, message, ...(traceback ? { traceback } : {}) };
}

/** Split a multiCall answer into one result per call sent; a wrong shape or count is a format error. */
export function multiCallResults(value: XmlRpcValue, expected: number): MultiCallResult[] {
  if (!Array.isArray(value)) throw new XmlRpcFormatError(`a multiCall answer must be an array, got ${describe(value)}`);
  if (value.length !== expected) throw new XmlRpcFormatError(`a multiCall of ${expected} calls answered ${value.length} results`);
  return value.map((entry, i) => {
    if (Array.isArray(entry)) {
      if (entry.length !== 1) throw new XmlRpcFormatError(`multiCall result ${i} is an array of ${entry.length}, expected one element`);
      return { ok: true, value: entry[0] as XmlRpcValue };
    }
    const fault = asFault(entry);
    if (!fault) throw new XmlRpcFormatError(`multiCall result ${i} is neither [result] nor a fault struct (${describe(entry)})`);
    return { ok: false, fault };
  });
}

export function isStruct(v: XmlRpcValue | undefined): v is XmlRpcStruct {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date) && !(v instanceof Uint8Array);
}

export function describe(v: XmlRpcValue | undefined): string {
  if (v === null) return 'nil';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Date) return 'a dateTime';
  if (v instanceof Uint8Array) return 'base64 data';
  if (typeof v === 'object') return 'a struct';
  return `a ${typeof v}`;
}

const INT_RE = /^\s*[+-]?\d+\s*$/;
const DOUBLE_RE = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/** Type element names, with Apache's `ex:` namespace forms of the extensions. */
function typeName(name: string): string {
  return name.startsWith('ex:') ? name.slice(3) : name;
}

/**
 * A copy of a decoded string that shares no memory with the document. The parser's text is cut
 * from the response (V8 keeps such a cut as a view of the whole string), so one task name held by
 * the store would otherwise keep its entire hub answer alive, poll after poll.
 */
function detached(s: string): string {
  return s.length < 13 ? s : structuredClone(s);
}

function decodeValue(el: Element, depth: number): XmlRpcValue {
  if (depth > MAX_VALUE_DEPTH) throw new XmlRpcFormatError(`values nested deeper than ${MAX_VALUE_DEPTH} levels`);
  if (el.name !== 'value') throw new XmlRpcFormatError(`expected <value>, found <${el.name}> (line ${el.line})`);
  // No type element: the text itself is a string (whitespace kept).
  if (el.children.length === 0) return detached(el.text);
  if (el.children.length !== 1 || el.text.trim() !== '') throw new XmlRpcFormatError(`<value> on line ${el.line} holds more than one type element or mixed text`);
  const t = el.children[0] as Element;
  const text = t.text;
  const where = `<${t.name}> on line ${t.line}`;
  const type = typeName(t.name);
  if (type !== 'array' && type !== 'struct' && t.children.length > 0) throw new XmlRpcFormatError(`${where}: a scalar holds elements (<${t.children[0]?.name}>)`);
  switch (type) {
    case 'nil':
      return null;
    case 'string':
      return detached(text);
    case 'int':
    case 'i4':
    case 'i8':
    case 'i2':
    case 'i1': {
      if (!INT_RE.test(text)) throw new XmlRpcFormatError(`${where}: ${JSON.stringify(text.slice(0, 40))} is not an integer`);
      const big = BigInt(text.trim());
      if (big < INT64_MIN || big > INT64_MAX) throw new XmlRpcFormatError(`${where}: ${text.trim().slice(0, 40)} does not fit in 64 bits`);
      const n = Number(big);
      return Number.isSafeInteger(n) ? n : big;
    }
    case 'boolean': {
      const s = text.trim();
      if (s === '1' || s === 'true') return true;
      if (s === '0' || s === 'false') return false;
      throw new XmlRpcFormatError(`${where}: ${JSON.stringify(s.slice(0, 40))} is not a boolean (0 or 1)`);
    }
    case 'double':
    case 'float': {
      const s = text.trim().toLowerCase();
      if (s === 'inf' || s === '+inf' || s === 'infinity') return Number.POSITIVE_INFINITY;
      if (s === '-inf' || s === '-infinity') return Number.NEGATIVE_INFINITY;
      if (s === 'nan') return Number.NaN;
      if (!DOUBLE_RE.test(s)) throw new XmlRpcFormatError(`${where}: ${JSON.stringify(text.slice(0, 40))} is not a number`);
      return Number(s);
    }
    case 'dateTime.iso8601':
      return parseIsoDateTime(text.trim(), where);
    case 'base64': {
      const b64 = text.replace(/\s+/g, '');
      if (b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new XmlRpcFormatError(`${where}: not base64`);
      return new Uint8Array(Buffer.from(b64, 'base64'));
    }
    case 'array': {
      const data = only(t, 'data', where);
      return data.children.map((c) => decodeValue(c, depth + 1));
    }
    case 'struct': {
      const out: XmlRpcStruct = {};
      for (const m of t.children) {
        if (m.name !== 'member') throw new XmlRpcFormatError(`${where}: holds <${m.name}>, expected <member>`);
        const nameEl = m.children.find((c) => c.name === 'name');
        const valueEl = m.children.find((c) => c.name === 'value');
        if (!nameEl || !valueEl || m.children.length !== 2) throw new XmlRpcFormatError(`<member> on line ${m.line} needs one <name> and one <value>`);
        // defineProperty: a member named __proto__ stays a plain own property.
        Object.defineProperty(out, nameEl.text, { value: decodeValue(valueEl, depth + 1), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    default:
      throw new XmlRpcFormatError(`${where}: unknown XML-RPC type`);
  }
}

/** `19980717T14:08:55`, also with dashes, fraction and zone; a time without a zone is UTC (as the hub means it). */
function parseIsoDateTime(s: string, where: string): Date {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})T(\d{2}):?(\d{2}):?(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/.exec(s);
  if (!m) throw new XmlRpcFormatError(`${where}: ${JSON.stringify(s.slice(0, 40))} is not an ISO 8601 dateTime`);
  const zone = m[8] === undefined || m[8] === 'Z' ? 'Z' : m[8].replace(/^([+-]\d{2})(\d{2})$/, '$1:$2');
  const [y, mo, day, h, mi, sec] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  const calendar = new Date(Date.UTC(2000, mo - 1, day));
  calendar.setUTCFullYear(y);
  // Date rolls 30 February over into March; Python (and so the hub) refuses such a date.
  if (calendar.getUTCMonth() !== mo - 1 || calendar.getUTCDate() !== day || h > 23 || mi > 59 || sec > 59) throw new XmlRpcFormatError(`${where}: ${JSON.stringify(s.slice(0, 40))} is not a valid date`);
  const d = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[7] ?? ''}${zone}`);
  if (Number.isNaN(d.getTime())) throw new XmlRpcFormatError(`${where}: ${JSON.stringify(s.slice(0, 40))} is not a valid date`);
  return d;
}
