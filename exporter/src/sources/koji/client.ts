/**
 * Koji hub client: XML-RPC POSTs to the hub URL, batched with `multiCall`. I/O and boundary
 * checks only: a fault answering the whole call throws (1014 ServerOffline as "hub up, database
 * down"), a fault inside a multiCall is handed back with its call, and lists are checked row by
 * row so one odd row does not hide the rest.
 */
import type { TSchema, Static } from '@sinclair/typebox';
import type { TypeCheck } from '@sinclair/typebox/compiler';
import { SourceError, UpstreamPayloadError, redactUrl } from '../errors.js';
import type { UpstreamHttp } from '../http.js';
import { describeInvalid } from '../validate.js';
import { decodeMethodResponse, describe, encodeMethodCall, KOJI_FAULTS, multiCallResults, XmlRpcFormatError, type MultiCallResult, type XmlRpcFault, type XmlRpcStruct, type XmlRpcValue } from './xmlrpc.js';

export interface KojiCall {
  method: string;
  params: XmlRpcValue[];
}

/** The hub answered the call with a fault. `offline`: fault 1014, the hub is up but its database (or the hub) is offline. */
export class KojiFaultError extends SourceError {
  readonly offline: boolean;

  constructor(
    readonly fault: XmlRpcFault,
    url: string,
    method: string,
  ) {
    const offline = fault.code === KOJI_FAULTS.ServerOffline;
    const what = offline
      ? `the hub is up but offline: fault 1014 ServerOffline (${clip(fault.message)}); its database is down or the hub is in lockout, check the hub and PostgreSQL`
      : `fault ${fault.code} (${clip(fault.message)})`;
    super('fault', `${method} at ${url}: ${what}`);
    this.name = 'KojiFaultError';
    this.offline = offline;
  }
}

export interface CheckedList<T> {
  entries: T[];
  /** Rows left out: where in the list, the id when it has one, and why. */
  rejected: { index: number; id?: string; message: string }[];
}

export class KojiClient {
  readonly url: string;

  constructor(
    private http: UpstreamHttp,
    private readonly options: { url: string; maxBodyBytes: number },
  ) {
    this.url = redactUrl(options.url);
  }

  /** Send through another client from now on (the TLS one, once its files are read). */
  use(http: UpstreamHttp): void {
    this.http = http;
  }

  /** One call; its fault throws. */
  async call(method: string, params: XmlRpcValue[], signal: AbortSignal): Promise<XmlRpcValue> {
    return this.post(method, params, signal);
  }

  /** Several calls in one request; the hub runs them in one transaction and answers each. */
  async multiCall(calls: readonly KojiCall[], signal: AbortSignal): Promise<MultiCallResult[]> {
    if (calls.length === 0) return [];
    const value = await this.post('multiCall', [calls.map((c) => ({ methodName: c.method, params: c.params }))], signal);
    try {
      return multiCallResults(value, calls.length);
    } catch (err) {
      throw new UpstreamPayloadError(this.url, (err as Error).message, 'POST');
    }
  }

  private async post(method: string, params: XmlRpcValue[], signal: AbortSignal): Promise<XmlRpcValue> {
    const res = await this.http.post(this.options.url, { signal, body: encodeMethodCall(method, params), contentType: 'text/xml', headers: { accept: 'text/xml' }, maxBytes: this.options.maxBodyBytes });
    if (/^\s*<(!doctype\s+html|html)/i.test(res.body)) {
      throw new UpstreamPayloadError(this.url, `an HTML page, not an XML-RPC answer (${res.headers['content-type'] ?? 'no content-type'}); check that the URL is the hub's XML-RPC endpoint (…/kojihub), not kojiweb`, 'POST');
    }
    let answer;
    try {
      answer = decodeMethodResponse(res.body);
    } catch (err) {
      if (!(err instanceof XmlRpcFormatError)) throw err;
      throw new UpstreamPayloadError(this.url, `not an XML-RPC answer to ${method} (${res.headers['content-type'] ?? 'no content-type'}, ${res.body.length} characters): ${err.message}; starts with ${JSON.stringify(res.body.slice(0, 60))}`, 'POST');
    }
    if (answer.kind === 'fault') throw new KojiFaultError(answer.fault, this.url, method);
    return jsonSafe(answer.value);
  }
}

/**
 * The decoded answer as plain JSON data, as the store and the API keep records: an integer beyond
 * 2^53 (a bigint from `<i8>`) becomes its decimal string (so a field that must be a number fails
 * its check and the row is left out), a dateTime its ISO string, base64 a base64 string.
 */
export function jsonSafe(value: XmlRpcValue): XmlRpcValue {
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(jsonSafe);
  const out: XmlRpcStruct = {};
  for (const [k, v] of Object.entries(value)) Object.defineProperty(out, k, { value: jsonSafe(v), enumerable: true, writable: true, configurable: true });
  return out;
}

/** An array of structs checked row by row; anything but an array is a payload error naming the call. */
export function checkedList<T extends TSchema>(value: XmlRpcValue, check: TypeCheck<T>, call: string, url: string, idKey = 'id'): CheckedList<Static<T>> {
  if (!Array.isArray(value)) throw new UpstreamPayloadError(url, `${call} answered ${describe(value)}, expected an array`, 'POST');
  const out: CheckedList<Static<T>> = { entries: [], rejected: [] };
  value.forEach((row, index) => {
    if (check.Check(row)) {
      out.entries.push(row);
      return;
    }
    const raw = row !== null && typeof row === 'object' && !Array.isArray(row) ? (row as Record<string, unknown>)[idKey] : undefined;
    out.rejected.push({ index, ...(typeof raw === 'number' || typeof raw === 'string' ? { id: String(raw).slice(0, 100) } : {}), message: describeInvalid(check, row) ?? 'unexpected shape' });
  });
  return out;
}

function clip(s: string): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > 200 ? `${one.slice(0, 200)}…` : one;
}
