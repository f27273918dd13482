/**
 * What the datasource tests need around the plugin: the real exporter (demo farm, started once by
 * exporter/global-setup.ts), a BackendSrv
 * that performs real HTTP (Grafana's own is part of the Grafana app, not of @grafana/runtime), a
 * TemplateSrv with Grafana's replace semantics, loopback servers that answer like wrong services,
 * and a datasource pointed at a URL.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dateTime, type DataQueryRequest, type DataSourceInstanceSettings, type ScopedVars, type TimeRange } from '@grafana/data';
import { setBackendSrv, setTemplateSrv, type BackendSrv, type BackendSrvRequest, type FetchResponse, type TemplateSrv } from '@grafana/runtime';
import { Observable } from 'rxjs';
import { inject } from 'vitest';
import { waitUntil } from '../../exporter/src/util/wait-until.js';
import { DataSource } from '../src/datasource.js';
import type { BuildscopeOptions, BuildscopeQuery } from '../src/types.js';

export { waitUntil };

/** The demo exporter the project's global setup started (exporter/global-setup.ts). */
export function exporterUrl(): string {
  return inject('buildscopeExporterUrl');
}

/** Parses a body as Grafana's BackendSrv does without `responseType`: JSON when it parses, else the text. */
async function parseBody(res: Response): Promise<unknown> {
  const text = await res.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export interface HttpBackendSrv {
  /** Every URL fetched, in order. */
  urls: string[];
}

/**
 * `setBackendSrv` with a `fetch` that performs the request with Node's fetch and answers as
 * Grafana's does: a FetchResponse for 2xx; for other statuses an error `{status, statusText, data,
 * config}` (Grafana's FetchError); a network failure errors with the underlying error (no status).
 */
export function installHttpBackendSrv(): HttpBackendSrv {
  const state: HttpBackendSrv = { urls: [] };
  const doFetch = <T>(options: BackendSrvRequest): Observable<FetchResponse<T>> =>
    new Observable<FetchResponse<T>>((subscriber) => {
      const controller = new AbortController();
      state.urls.push(options.url);
      fetch(options.url, { method: options.method ?? 'GET', headers: options.headers, signal: controller.signal })
        .then(async (res) => {
          const data = (await parseBody(res)) as T;
          if (!res.ok) {
            subscriber.error({ status: res.status, statusText: res.statusText, data, config: options });
            return;
          }
          subscriber.next({ data, status: res.status, statusText: res.statusText, ok: res.ok, headers: res.headers, redirected: res.redirected, type: res.type, url: res.url, config: options });
          subscriber.complete();
        })
        .catch((err: unknown) => subscriber.error(err));
      return () => controller.abort();
    });
  const unsupported = () => {
    throw new Error('not used by the plugin');
  };
  setBackendSrv({
    fetch: doFetch,
    get: unsupported,
    delete: unsupported,
    post: unsupported,
    patch: unsupported,
    put: unsupported,
    request: unsupported,
    datasourceRequest: unsupported,
    chunked: unsupported,
  } as unknown as BackendSrv);
  return state;
}

export interface TestVariable {
  name: string;
  /** The option values, without All. */
  options: string[];
  /** Selected values; `['$__all']` for All. */
  current: string[];
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
}

const VARIABLE_PATTERN = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}/g;

/**
 * A TemplateSrv with Grafana's replace rules for the cases the plugin meets: `$x`, `${x}`,
 * `${x:format}`, `[[x]]`; scoped vars win; a variable set to All yields its `allValue`, else every
 * option value; a formatter function gets the value (string or array) and the variable; without a
 * format, several values become `{a,b}`. Unknown variables are left as written.
 */
export function installTemplateSrv(variables: TestVariable[] = []): void {
  const models = variables.map((v) => ({
    name: v.name,
    type: 'custom',
    multi: v.multi ?? v.current.length > 1,
    includeAll: v.includeAll ?? v.current.includes('$__all'),
    allValue: v.allValue,
    current: { value: v.current.length === 1 && !v.multi ? v.current[0] : v.current, text: v.current.includes('$__all') ? 'All' : v.current.join(' + ') },
    options: v.options.map((o) => ({ value: o, text: o, selected: v.current.includes(o) })),
  }));
  const format = (value: string | string[], fmt: unknown, variable: unknown): string => {
    if (typeof fmt === 'function') return String(fmt(value, variable, format));
    if (Array.isArray(value)) {
      if (fmt === 'csv') return value.join(',');
      if (fmt === 'pipe') return value.join('|');
      return value.length === 1 ? value[0]! : `{${value.join(',')}}`;
    }
    return value;
  };
  const srv = {
    getVariables: () => models,
    containsTemplate: (target?: string) => Boolean(target && new RegExp(VARIABLE_PATTERN.source).test(target)),
    updateTimeRange: () => {},
    replace(target?: string, scopedVars?: ScopedVars, fmt?: unknown): string {
      if (!target) return target ?? '';
      return target.replace(VARIABLE_PATTERN, (match, a?: string, b?: string, bFmt?: string, c?: string, _path?: string, cFmt?: string) => {
        const name = (a ?? b ?? c)!;
        const useFmt = fmt ?? bFmt ?? cFmt;
        const scoped = scopedVars?.[name];
        if (scoped) return format(scoped.value as string | string[], useFmt, { name });
        const model = models.find((m) => m.name === name);
        const variable = variables.find((v) => v.name === name);
        if (!model || !variable) return match;
        if (variable.current.includes('$__all')) {
          if (variable.allValue !== undefined) return format(variable.allValue, useFmt, model);
          return format(variable.options, useFmt, model);
        }
        return format(variable.multi || variable.current.length > 1 ? variable.current : variable.current[0]!, useFmt, model);
      });
    },
  };
  setTemplateSrv(srv as unknown as TemplateSrv);
}

export function makeDatasource(url: string, exporterUrl: string = url): DataSource {
  const settings = {
    id: 1,
    uid: 'buildscope-test',
    type: 'buildscope-buildfarm-datasource',
    name: 'buildscope',
    url,
    access: 'proxy',
    readOnly: false,
    jsonData: { url: exporterUrl },
    meta: { id: 'buildscope-buildfarm-datasource', name: 'buildscope', type: 'datasource', info: {}, module: '', baseUrl: '' },
  } as unknown as DataSourceInstanceSettings<BuildscopeOptions>;
  return new DataSource(settings);
}

/** The last `minutes` minutes up to a little after now. */
export function lastMinutes(minutes: number): TimeRange {
  const to = dateTime(Date.now() + 60_000);
  const from = dateTime(Date.now() - minutes * 60_000);
  return { from, to, raw: { from: `now-${minutes}m`, to: 'now' } };
}

export function makeRequest(targets: BuildscopeQuery[], range: TimeRange = lastMinutes(60 * 24), scopedVars: ScopedVars = {}): DataQueryRequest<BuildscopeQuery> {
  return {
    requestId: `test-${Math.random().toString(36).slice(2)}`,
    interval: '1m',
    intervalMs: 60_000,
    range,
    scopedVars,
    targets,
    timezone: 'utc',
    app: 'dashboard',
    startTime: Date.now(),
  } as DataQueryRequest<BuildscopeQuery>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A loopback HTTP server answering with `handler`; `url` is its base URL. */
export async function startServer(handler: Handler): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

/** A field's values as a plain array (frames may hold vectors). */
export function values(frame: { fields: Array<{ name: string; values: unknown }> }, name: string): unknown[] {
  const field = frame.fields.find((f) => f.name === name);
  if (!field) throw new Error(`no field "${name}" in ${frame.fields.map((f) => f.name).join(', ')}`);
  return Array.from(field.values as ArrayLike<unknown>);
}
