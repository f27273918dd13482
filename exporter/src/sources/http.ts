/**
 * The one HTTP client sources use to reach upstreams: timeouts via AbortSignal, a body size cap,
 * and a per-status-code callback that feeds `buildfarm_upstream_requests_total`.
 */
import { promisify } from 'node:util';
import { gunzip, inflate, inflateRaw, type InputType, type ZlibOptions } from 'node:zlib';
import { request, type Dispatcher } from 'undici';
import { Cancelled } from '../util/deadline.js';
import { SourceError, UpstreamHttpError, UpstreamPayloadError, redactUrl } from './errors.js';

export interface HttpGetOptions {
  signal: AbortSignal;
  headers?: Record<string, string>;
  /** Largest body accepted, in bytes; larger bodies fail with `too_large`. */
  maxBytes?: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface HttpPostFormOptions extends HttpGetOptions {
  /** Sent as application/x-www-form-urlencoded. Values may be secrets: they never reach a message. */
  form: Record<string, string>;
}

export interface HttpPostOptions extends HttpGetOptions {
  body: string;
  contentType: string;
}

export interface HttpStream {
  status: number;
  headers: Record<string, string>;
  body: AsyncIterable<Buffer>;
}

/** Records one upstream request outcome: an HTTP status code, or `error` / `timeout`. */
export type RequestRecorder = (code: string) => void;

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

export class UpstreamHttp {
  constructor(
    private readonly record: RequestRecorder = () => {},
    private readonly dispatcher?: Dispatcher,
  ) {}

  /**
   * GET a URL and return its body as text, decoded when the upstream sent it gzip- or
   * deflate-encoded (karajo always does); the cap applies to the decoded size too.
   * Non-2xx answers throw UpstreamHttpError.
   */
  async get(url: string, options: HttpGetOptions): Promise<HttpResponse> {
    return withoutSecrets(async () => this.finish(url, await this.open(url, options), options, 'GET'), url, options);
  }

  /** POST a form (a login) and return the answer like `get`. */
  async postForm(url: string, options: HttpPostFormOptions): Promise<HttpResponse> {
    const body = new URLSearchParams(options.form).toString();
    return withoutSecrets(
      async () => {
        const res = await this.open(url, { ...options, headers: { 'content-type': 'application/x-www-form-urlencoded', ...options.headers } }, 'POST', body);
        return this.finish(url, res, options, 'POST');
      },
      url,
      options,
      Object.values(options.form),
    );
  }

  /** POST a body (an XML-RPC call) and return the answer like `get`. */
  async post(url: string, options: HttpPostOptions): Promise<HttpResponse> {
    return withoutSecrets(
      async () => {
        const res = await this.open(url, { ...options, headers: { 'content-type': options.contentType, ...options.headers } }, 'POST', options.body);
        return this.finish(url, res, options, 'POST');
      },
      url,
      options,
    );
  }

  /** The same client (the same request counting) through another dispatcher, e.g. a TLS agent with a client certificate. */
  withDispatcher(dispatcher: Dispatcher): UpstreamHttp {
    return new UpstreamHttp(this.record, dispatcher);
  }

  private async finish(url: string, res: HttpStream, options: HttpGetOptions, method: 'GET' | 'POST'): Promise<HttpResponse> {
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_BODY_BYTES;
    const raw = await readCapped(res.body, maxBytes, url, options.signal, method);
    if (res.status < 200 || res.status > 299) {
      // The status is what matters here: an error body that does not decode is shown as it came.
      const body = await decode(raw, res.headers['content-encoding'], maxBytes, url, method).catch(() => raw.toString('utf8'));
      throw new UpstreamHttpError(res.status, redactUrl(url), retryAfter(res.headers['retry-after']), snippet(body), method);
    }
    return { status: res.status, headers: res.headers, body: await decode(raw, res.headers['content-encoding'], maxBytes, url, method) };
  }

  /** GET a URL and parse its body as JSON (any JSON value; validate it at the caller). */
  async getJson(url: string, options: HttpGetOptions): Promise<{ value: unknown; headers: Record<string, string> }> {
    const res = await this.get(url, { ...options, headers: { accept: 'application/json', ...options.headers } });
    return withoutSecrets(() => Promise.resolve({ value: parseUpstreamJson(res, url), headers: res.headers }), url, options);
  }

  /** Open a long-lived GET (SSE) and hand back the body stream. Non-2xx answers throw. */
  async stream(url: string, options: HttpGetOptions): Promise<HttpStream> {
    return withoutSecrets(
      async () => {
        const res = await this.open(url, { ...options, headers: { accept: 'text/event-stream', ...options.headers } });
        if (res.status < 200 || res.status > 299) {
          const body = await readCapped(res.body, 4096, url, options.signal).then((b) => b.toString('utf8'), () => '');
          throw new UpstreamHttpError(res.status, redactUrl(url), retryAfter(res.headers['retry-after']), snippet(body));
        }
        return res;
      },
      url,
      options,
    );
  }

  private async open(url: string, options: HttpGetOptions, method: 'GET' | 'POST' = 'GET', body?: string): Promise<HttpStream> {
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method,
        ...(body !== undefined ? { body } : {}),
        signal: options.signal,
        headers: { 'user-agent': 'buildscope-exporter', ...options.headers },
        ...(this.dispatcher ? { dispatcher: this.dispatcher } : {}),
      });
    } catch (err) {
      if (options.signal.aborted && options.signal.reason instanceof Cancelled) {
        this.record('canceled');
        throw new SourceError('canceled', `${method} ${redactUrl(url)} was cancelled: ${options.signal.reason.message}`, { cause: err });
      }
      if (options.signal.aborted) {
        this.record('timeout');
        throw new SourceError('timeout', `${method} ${redactUrl(url)} did not answer in time (${abortReason(options.signal)})`, { cause: err });
      }
      this.record('error');
      throw new SourceError('network', `${method} ${redactUrl(url)} failed: ${(err as Error).message}; check the URL and that the upstream is running`, { cause: err });
    }
    this.record(String(res.statusCode));
    return { status: res.statusCode, headers: flatHeaders(res.headers), body: res.body };
  }
}

/** Deepest nesting accepted in an upstream JSON body: real payloads are a few levels deep, and the store re-serializes records recursively. */
export const MAX_JSON_DEPTH = 64;

/** Parse an upstream body as JSON: a payload error when it is not JSON or nests deeper than MAX_JSON_DEPTH. */
export function parseUpstreamJson(res: HttpResponse, url: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(res.body) as unknown;
  } catch (err) {
    const type = res.headers['content-type'] ?? 'no content-type';
    throw new UpstreamPayloadError(redactUrl(url), `not valid JSON (${type}, ${res.body.length} bytes): ${(err as Error).message}; starts with ${JSON.stringify(res.body.slice(0, 60))}`);
  }
  if (jsonDepth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) throw new UpstreamPayloadError(redactUrl(url), `JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  return value;
}

/**
 * Nesting depth of a parsed JSON value, given up past `limit` (so the recursion never goes deeper
 * than `limit` + 1 frames). Walks without allocating: it runs over every list the upstreams send,
 * 100,000 tasks at a time on a large farm, on every poll.
 */
function jsonDepth(value: unknown, limit: number): number {
  if (value === null || typeof value !== 'object') return 0;
  let deepest = 0;
  if (Array.isArray(value)) {
    for (const child of value) {
      if (child === null || typeof child !== 'object') continue;
      const d = limit > 0 ? jsonDepth(child, limit - 1) : 1;
      if (d > deepest) deepest = d;
      if (deepest > limit - 1) break;
    }
  } else {
    const obj = value as Record<string, unknown>;
    for (const key in obj) {
      const child = obj[key];
      if (child === null || typeof child !== 'object') continue;
      const d = limit > 0 ? jsonDepth(child, limit - 1) : 1;
      if (d > deepest) deepest = d;
      if (deepest > limit - 1) break;
    }
  }
  return deepest + 1;
}

const gunzipAsync = promisify<InputType, ZlibOptions, Buffer>(gunzip);
const inflateAsync = promisify<InputType, ZlibOptions, Buffer>(inflate);
const inflateRawAsync = promisify<InputType, ZlibOptions, Buffer>(inflateRaw);

/** The body as text, decoded per Content-Encoding (gzip, deflate, in the order applied); never more than `maxBytes` decoded. */
async function decode(raw: Buffer, encoding: string | undefined, maxBytes: number, url: string, method: 'GET' | 'POST'): Promise<string> {
  const codings = (encoding ?? '').split(',').map((c) => c.trim().toLowerCase()).filter((c) => c !== '' && c !== 'identity');
  let data = raw;
  // Codings are listed in the order they were applied: undo them from the last.
  for (const coding of codings.reverse()) data = await decodeOne(data, coding, maxBytes, url, method);
  return utf8Text(data, url, method);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A body as UTF-8 text, or a payload error naming the first bad byte: JSON and Koji's XML-RPC are
 * UTF-8, and decoding leniently would turn the bytes into U+FFFD silently (a state name that no
 * longer matches, an owner nobody can search for).
 */
function utf8Text(data: Buffer, url: string, method: 'GET' | 'POST'): string {
  try {
    return strictUtf8.decode(data);
  } catch {
    const at = firstInvalidUtf8(data);
    const around = data.subarray(Math.max(0, at - 20), at).toString('utf8');
    throw new UpstreamPayloadError(redactUrl(url), `the body is not valid UTF-8: byte 0x${(data[at] ?? 0).toString(16).padStart(2, '0')} at offset ${at} (after ${JSON.stringify(around)}); the upstream must send UTF-8`, method);
  }
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence. */
function firstInvalidUtf8(data: Buffer): number {
  let i = 0;
  while (i < data.length) {
    const b = data[i] ?? 0;
    const len = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (len === 0 || i + len > data.length) return i;
    try {
      strictUtf8.decode(data.subarray(i, i + len));
    } catch {
      return i;
    }
    i += len;
  }
  return data.length;
}

async function decodeOne(raw: Buffer, coding: string, maxBytes: number, url: string, method: 'GET' | 'POST'): Promise<Buffer> {
  const attempts = coding === 'gzip' || coding === 'x-gzip' ? [gunzipAsync] : coding === 'deflate' ? [inflateAsync, inflateRawAsync] : undefined;
  if (!attempts) throw new UpstreamPayloadError(redactUrl(url), `the body is encoded as ${JSON.stringify(coding)}, which buildscope cannot decode (it reads gzip and deflate)`);
  let last: NodeJS.ErrnoException | undefined;
  for (const inflater of attempts) {
    try {
      return await inflater(raw, { maxOutputLength: maxBytes });
    } catch (err) {
      last = err as NodeJS.ErrnoException;
      if (last.code === 'ERR_BUFFER_TOO_LARGE' || /Cannot create a Buffer larger|maxOutputLength/i.test(last.message)) {
        throw new SourceError('too_large', `${method} ${redactUrl(url)}: the ${coding} body decodes to more than ${maxBytes} bytes; raise the source's max_body_bytes if this is expected`);
      }
    }
  }
  throw new UpstreamPayloadError(redactUrl(url), `the body says Content-Encoding: ${coding} but does not decode (${last?.message ?? 'unknown error'}); starts with ${JSON.stringify(raw.subarray(0, 16).toString('hex'))}`);
}

async function readCapped(body: AsyncIterable<Buffer>, maxBytes: number, url: string, signal?: AbortSignal, method: 'GET' | 'POST' = 'GET'): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      size += chunk.length;
      if (size > maxBytes) {
        throw new SourceError('too_large', `${method} ${redactUrl(url)} returned more than ${maxBytes} bytes; raise the source's max_body_bytes if this is expected`);
      }
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof SourceError) {
      const destroyable = body as { destroy?: () => void };
      destroyable.destroy?.();
      throw err;
    }
    if (signal?.aborted && signal.reason instanceof Cancelled) {
      throw new SourceError('canceled', `${method} ${redactUrl(url)} was cancelled while reading the body: ${signal.reason.message}`, { cause: err });
    }
    if (signal?.aborted) {
      throw new SourceError('timeout', `${method} ${redactUrl(url)} answered but did not finish sending its body in time (${abortReason(signal)}); raise the source's timeout if the upstream is just slow`, { cause: err });
    }
    throw new SourceError('network', `${method} ${redactUrl(url)}: the connection broke while reading the body (${(err as Error).message})`, { cause: err });
  }
  return Buffer.concat(chunks);
}

function flatHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/** Parse Retry-After: delta-seconds or an HTTP date. */
export function retryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.round((at - now) / 1000));
}

/** Headers whose values are not secrets; every other header a source sends may be (config `headers`, Authorization, Cookie). */
const PLAIN_HEADERS = new Set(['accept', 'content-type', 'user-agent', 'accept-encoding']);

/**
 * What a request carried that must never come back in a message: URL userinfo, secret-looking
 * query values, header values (and each word of them: the token in `Bearer <token>`), form values.
 */
export function secretValues(url: string, headers: Record<string, string> = {}, extra: readonly string[] = []): string[] {
  const out = new Set<string>();
  const add = (v: string) => {
    if (v.length >= 4) out.add(v);
  };
  try {
    const u = new URL(url);
    for (const v of [u.username, u.password]) {
      add(v);
      add(safeDecode(v));
    }
    for (const [k, v] of u.searchParams) if (/token|key|secret|pass|auth/i.test(k)) add(v);
  } catch {
    // An invalid URL never reaches a message (redactUrl says <invalid url>).
  }
  for (const [k, v] of Object.entries(headers)) {
    if (PLAIN_HEADERS.has(k.toLowerCase())) continue;
    add(v);
    for (const word of v.split(/[\s,;=]+/)) add(word);
  }
  for (const v of extra) add(v);
  // Longest first, so a value is replaced whole before any part of it.
  return [...out].sort((a, b) => b.length - a.length);
}

function safeDecode(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

/**
 * Run a request; a failure whose message repeats a secret of the request (an upstream that echoes
 * the Authorization header or the login form in its error page) has it replaced by <redacted>.
 */
async function withoutSecrets<T>(work: () => Promise<T>, url: string, options: HttpGetOptions, extra: readonly string[] = []): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    const secrets = secretValues(url, options.headers, extra);
    if (!secrets.some((v) => err.message.includes(v))) throw err;
    let message = err.message;
    for (const v of secrets) message = message.split(v).join('<redacted>');
    Object.defineProperty(err, 'message', { value: message, configurable: true, writable: true });
    if (err.stack) Object.defineProperty(err, 'stack', { value: `${err.name}: ${message}`, configurable: true, writable: true });
    throw err;
  }
}

function snippet(body: string): string {
  const text = body.replace(/\s+/g, ' ').trim();
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

function abortReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason.message;
  return 'aborted';
}
