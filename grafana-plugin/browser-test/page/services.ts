/**
 * The Grafana services a datasource calls, as the page provides them: a BackendSrv over the
 * browser's fetch (to the page server, which forwards the data proxy path to the exporter, as
 * Grafana's server does) and a TemplateSrv with one dashboard variable.
 */
import { Observable, lastValueFrom } from 'rxjs';
import type { ScopedVars, TypedVariableModel } from '@grafana/data';
import type { BackendSrv, BackendSrvRequest, FetchResponse, TemplateSrv } from '@grafana/runtime';

function withParams(url: string, params: BackendSrvRequest['params']): string {
  if (!params || typeof params !== 'object') return url;
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params as Record<string, unknown>)) {
    if (v === undefined || v === null) continue;
    for (const item of Array.isArray(v) ? v : [v]) search.append(k, String(item));
  }
  const qs = search.toString();
  return qs ? `${url}${url.includes('?') ? '&' : '?'}${qs}` : url;
}

function doFetch<T>(options: BackendSrvRequest): Observable<FetchResponse<T>> {
  return new Observable<FetchResponse<T>>((subscriber) => {
    const abort = new AbortController();
    const headers: Record<string, string> = { ...(options.headers as Record<string, string> | undefined) };
    let body: BodyInit | undefined;
    if (options.data !== undefined) {
      body = typeof options.data === 'string' ? options.data : JSON.stringify(options.data);
      headers['Content-Type'] ??= 'application/json';
    }
    const init: RequestInit = { method: options.method ?? 'GET', headers, signal: abort.signal };
    if (body !== undefined) init.body = body;
    fetch(withParams(options.url, options.params), init)
      .then(async (res) => {
        const text = await res.text();
        let data: unknown = text;
        if ((res.headers.get('content-type') ?? '').includes('json') && text) {
          try {
            data = JSON.parse(text);
          } catch {
            /* keep the text */
          }
        }
        const response: FetchResponse<T> = {
          data: data as T,
          status: res.status,
          statusText: res.statusText,
          ok: res.ok,
          headers: res.headers,
          redirected: res.redirected,
          type: res.type,
          url: res.url,
          config: options,
        };
        // Grafana's BackendSrv errors with a FetchError-shaped object for a non-2xx answer.
        if (!res.ok) subscriber.error({ status: res.status, statusText: res.statusText, data, config: options });
        else {
          subscriber.next(response);
          subscriber.complete();
        }
      })
      .catch((e: unknown) => subscriber.error(e));
    return () => abort.abort();
  });
}

export function pageBackendSrv(): BackendSrv {
  const request = <T>(options: BackendSrvRequest) => lastValueFrom(doFetch<T>(options)).then((r) => r.data);
  return {
    fetch: doFetch,
    request,
    datasourceRequest: <T>(options: BackendSrvRequest) => lastValueFrom(doFetch<T>(options)),
    get: (url: string, params?: BackendSrvRequest['params'], _id?: string, options?: Partial<BackendSrvRequest>) => request({ ...options, url, params, method: 'GET' }),
    delete: (url: string, data?: unknown, options?: Partial<BackendSrvRequest>) => request({ ...options, url, data, method: 'DELETE' }),
    post: (url: string, data?: unknown, options?: Partial<BackendSrvRequest>) => request({ ...options, url, data, method: 'POST' }),
    patch: (url: string, data?: unknown, options?: Partial<BackendSrvRequest>) => request({ ...options, url, data, method: 'PATCH' }),
    put: (url: string, data?: unknown, options?: Partial<BackendSrvRequest>) => request({ ...options, url, data, method: 'PUT' }),
    chunked: () => {
      throw new Error('chunked requests are not supported by the test page');
    },
  } as BackendSrv;
}

/** A TemplateSrv with these variables (name -> value); `replace` substitutes `$name` and `${name}`. */
export function pageTemplateSrv(variables: Record<string, string>): TemplateSrv {
  const models = Object.entries(variables).map(([name, value]) => ({ name, type: 'custom', current: { text: value, value } }) as unknown as TypedVariableModel);
  return {
    getVariables: () => models,
    replace: (target?: string, scopedVars?: ScopedVars) =>
      (target ?? '').replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (match, a?: string, b?: string) => {
        const name = (a ?? b)!;
        const scoped = scopedVars?.[name]?.value;
        if (scoped !== undefined) return String(scoped);
        return variables[name] ?? match;
      }),
    containsTemplate: (target?: string) => /\$\{?\w+/.test(target ?? ''),
    updateTimeRange: () => {},
  };
}
