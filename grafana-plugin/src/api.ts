/**
 * HTTP to the exporter through Grafana's backend service (`getBackendSrv().fetch`), i.e. through
 * the data proxy: `${instanceSettings.url}/api/...` and `${instanceSettings.url}/-/...` are the
 * plugin.json routes that forward to the exporter's `/api/...` and `/-/...` (with the bearer
 * token added server-side). Query strings are built here (comma lists, RFC 3986 escapes), so the
 * URL the exporter sees does not depend on how a BackendSrv serialises `params`.
 */
import { getBackendSrv, type FetchResponse } from '@grafana/runtime';
import { lastValueFrom } from 'rxjs';

export type ParamValue = string | number | boolean | readonly string[] | undefined;
export type Params = Record<string, ParamValue>;

/** Why a request failed, classified for messages (testDatasource) and frames' errors. */
export type FailureKind = 'unreachable' | 'unauthorized' | 'forbidden' | 'not_found' | 'unavailable' | 'bad_request' | 'server' | 'other';

export class ExporterError extends Error {
  constructor(
    message: string,
    /** HTTP status; 0 when no HTTP answer came (connection refused, DNS, TLS, abort). */
    readonly status: number,
    readonly kind: FailureKind,
    /** The response body as Grafana parsed it (JSON object, text, or undefined). */
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'ExporterError';
  }
}

/** `?a=1&b=x,y`: arrays joined by commas, empty lists and undefined left out. */
export function queryString(params: Params = {}): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(',') : String(value);
    if (Array.isArray(value) && value.length === 0) continue;
    parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(text)}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

/** The exporter's `{"error": "..."}` message, or a short excerpt of whatever else came back. */
export function bodyMessage(data: unknown): string | undefined {
  if (data && typeof data === 'object') {
    const d = data as Record<string, unknown>;
    if (typeof d.error === 'string' && d.error) return d.error;
    if (typeof d.message === 'string' && d.message) return d.message;
    return undefined;
  }
  if (typeof data === 'string' && data.trim()) {
    const text = data.replace(/\s+/g, ' ').trim();
    return text.length > 120 ? `${text.slice(0, 120)}…` : text;
  }
  return undefined;
}

/**
 * Grafana's data proxy turns an upstream 401 into a 400 with this body (so a browser never sees a
 * 401 from a datasource and logs the user out).
 */
const PROXY_AUTH_FAILED = 'Authentication to data source failed';

function isProxyAuthFailure(status: number, data: unknown): boolean {
  if (status !== 400) return false;
  const text = typeof data === 'string' ? data : bodyMessage(data);
  return typeof text === 'string' && text.includes(PROXY_AUTH_FAILED);
}

/** An ExporterError for whatever `getBackendSrv().fetch` threw (a FetchError, or a network error). */
export function toExporterError(err: unknown, what: string): ExporterError {
  if (err instanceof ExporterError) return err;
  const e = (err ?? {}) as { status?: unknown; statusText?: unknown; data?: unknown; message?: unknown; cancelled?: unknown };
  const status = typeof e.status === 'number' ? e.status : 0;
  if (status <= 0) {
    const cause = (err as { cause?: { message?: unknown; code?: unknown } })?.cause;
    const reason = [typeof e.message === 'string' ? e.message : undefined, typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : undefined]
      .filter(Boolean)
      .join(': ');
    return new ExporterError(`${what}: no answer from the exporter${reason ? ` (${reason})` : ''}`, 0, 'unreachable', e.data);
  }
  const detail = bodyMessage(e.data) ?? (typeof e.statusText === 'string' && e.statusText ? e.statusText : undefined);
  const suffix = detail ? `: ${detail}` : '';
  if (status === 401 || isProxyAuthFailure(status, e.data)) {
    return new ExporterError(`${what}: the exporter refused the credentials (HTTP 401)${suffix}`, 401, 'unauthorized', e.data);
  }
  if (status === 403) return new ExporterError(`${what}: access denied (HTTP 403)${suffix}`, 403, 'forbidden', e.data);
  if (status === 404) return new ExporterError(`${what}: not found (HTTP 404)${suffix}`, 404, 'not_found', e.data);
  // The data proxy answers 502 when it cannot connect to the route's URL, 504 on its timeout.
  if (status === 502 || status === 504) {
    return new ExporterError(`${what}: Grafana's data proxy could not reach the exporter (HTTP ${status})${suffix}`, status, 'unreachable', e.data);
  }
  if (status === 503 || status === 429) return new ExporterError(`${what}: the exporter is not available (HTTP ${status})${suffix}`, status, 'unavailable', e.data);
  if (status === 400) return new ExporterError(`${what}: the exporter refused the request (HTTP 400)${suffix}`, 400, 'bad_request', e.data);
  if (status >= 500) return new ExporterError(`${what}: the exporter failed (HTTP ${status})${suffix}`, status, 'server', e.data);
  return new ExporterError(`${what}: HTTP ${status}${suffix}`, status, 'other', e.data);
}

export interface RequestOptions {
  /** Grafana cancels an in-flight request when another one with the same id starts. */
  requestId?: string;
}

/** The exporter's API as seen through the datasource's proxy URL. */
export class ExporterApi {
  readonly baseUrl: string;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  url(path: string, params?: Params): string {
    return `${this.baseUrl}${path}${queryString(params)}`;
  }

  /** The raw response (any 2xx); non-2xx and network failures throw ExporterError. */
  async fetch<T = unknown>(path: string, params?: Params, options: RequestOptions = {}): Promise<FetchResponse<T>> {
    let res: FetchResponse<T> | undefined;
    try {
      res = await lastValueFrom(
        getBackendSrv().fetch<T>({
          url: this.url(path, params),
          method: 'GET',
          showErrorAlert: false,
          showSuccessAlert: false,
          ...(options.requestId ? { requestId: options.requestId } : {}),
        }),
        { defaultValue: undefined },
      );
    } catch (err) {
      throw toExporterError(err, `GET ${path}`);
    }
    // Grafana completes a request without a value when a newer one with the same requestId replaces it.
    if (!res) throw new ExporterError(`GET ${path}: cancelled (a newer request replaced it)`, 0, 'other');
    return res;
  }

  /** The JSON body of a 2xx answer; throws ExporterError unless it is a JSON object. */
  async get<T extends object>(path: string, params?: Params, options?: RequestOptions): Promise<T> {
    const res = await this.fetch<unknown>(path, params, options);
    if (!res.data || typeof res.data !== 'object') {
      throw new ExporterError(`GET ${path}: the answer is not JSON (${bodyMessage(res.data) ?? 'empty body'}); is the URL a buildscope exporter?`, res.status, 'other', res.data);
    }
    return res.data as T;
  }
}
