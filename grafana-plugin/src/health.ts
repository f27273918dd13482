/**
 * "Save & test": is the configured URL a buildscope exporter, can Grafana reach it with the
 * configured credentials, and does it have a source that is up? Two requests through the data
 * proxy, `GET /-/ready` (public) then `GET /api/v1/sources` (the `api` auth area), and one message
 * saying precisely what is wrong:
 * - unreachable: no HTTP answer (direct) or the data proxy's 502/504;
 * - 401 (or the proxy's "Authentication to data source failed" 400) and 403: the token;
 * - wrong service: `/-/ready` or `/api/v1/sources` answered, but not with the exporter's JSON;
 * - not ready yet (503 naming the sources still awaited);
 * - no sources configured, or none up (each down source with its last error).
 */
import type { TestDataSourceResponse } from '@grafana/data';
import { bodyMessage, ExporterError, type ExporterApi } from './api.js';
import type { SourceInfo } from './types.js';

export type HealthStatus = 'success' | 'warning' | 'error';

export interface HealthResult extends TestDataSourceResponse {
  status: HealthStatus;
}

function result(status: HealthStatus, message: string, verbose?: string): HealthResult {
  return verbose ? { status, message, details: { message, verboseMessage: verbose } } : { status, message };
}

/** Where the exporter is, for messages: the configured URL (jsonData.url) or the proxy URL. */
function where(exporterUrl: string | undefined, api: ExporterApi): string {
  return exporterUrl?.trim() || api.baseUrl || '(no URL)';
}

function looksLikeHtml(data: unknown): boolean {
  return typeof data === 'string' && /^\s*<(!doctype|html|head|body)/i.test(data);
}

function describeBody(data: unknown): string {
  if (data === undefined || data === null || data === '') return 'an empty body';
  if (looksLikeHtml(data)) return 'an HTML page';
  if (typeof data === 'object') return `JSON without the exporter's fields (${JSON.stringify(data).slice(0, 100)})`;
  return `"${bodyMessage(data)}"`;
}

function failure(err: unknown, url: string, step: 'ready' | 'sources'): HealthResult {
  const e = err instanceof ExporterError ? err : new ExporterError(String((err as Error)?.message ?? err), 0, 'other');
  const detail = bodyMessage(e.data);
  switch (e.kind) {
    case 'unreachable':
      return result(
        'error',
        `Cannot reach the exporter at ${url}: ${e.status ? `Grafana's data proxy answered HTTP ${e.status}` : 'no answer'}. Check the URL (scheme, host, port) and that the exporter runs and is reachable from the Grafana server.`,
        e.message,
      );
    case 'unauthorized':
      return result(
        'error',
        `The exporter at ${url} refused the credentials (HTTP 401)${detail && !detail.includes('Authentication to data source failed') ? `: ${detail}` : ''}. Set the bearer token the exporter expects (or clear it if the exporter needs none).`,
        e.message,
      );
    case 'forbidden':
      return result('error', `The exporter at ${url} denied access to ${step === 'ready' ? '/-/ready' : '/api/v1/sources'} (HTTP 403)${detail ? `: ${detail}` : ''}. The token is valid but not for the API.`, e.message);
    case 'not_found':
      return result(
        'error',
        `${url} is not a buildscope exporter: ${step === 'ready' ? '/-/ready' : '/api/v1/sources'} is not found (HTTP 404). Check the URL (the exporter's base URL, e.g. http://exporter:10870, without /api).`,
        e.message,
      );
    case 'unavailable':
      if (step === 'ready' && e.status === 503 && detail?.startsWith('not ready')) {
        return result('error', `The exporter at ${url} is starting: ${detail}. Try again in a few seconds.`, e.message);
      }
      return result('error', `The exporter at ${url} is not available (HTTP ${e.status})${detail ? `: ${detail}` : ''}.`, e.message);
    default:
      if (e.status && e.data !== undefined && !(e.data && typeof e.data === 'object' && 'error' in e.data)) {
        return result('error', `${url} is not a buildscope exporter: ${step === 'ready' ? '/-/ready' : '/api/v1/sources'} answered HTTP ${e.status} with ${describeBody(e.data)}.`, e.message);
      }
      return result('error', `The exporter at ${url} failed: ${e.message}`, e.message);
  }
}

function isSourceList(data: unknown): data is { sources: SourceInfo[] } {
  if (!data || typeof data !== 'object') return false;
  const list = (data as { sources?: unknown }).sources;
  return Array.isArray(list) && list.every((s) => s && typeof s === 'object' && typeof (s as SourceInfo).name === 'string' && typeof (s as SourceInfo).up === 'boolean');
}

function downReason(s: SourceInfo): string {
  return s.last_error ? `${s.name} (${s.last_error.code}: ${s.last_error.message})` : `${s.name} (no successful poll yet)`;
}

export async function checkExporter(api: ExporterApi, exporterUrl: string | undefined): Promise<HealthResult> {
  const url = where(exporterUrl, api);
  if (!exporterUrl?.trim()) {
    return result('error', 'No exporter URL configured: set it to the exporter’s base URL, e.g. http://exporter:10870.');
  }
  try {
    const ready = await api.fetch<unknown>('/-/ready');
    const body = ready.data as { status?: unknown } | undefined;
    if (!body || typeof body !== 'object' || body.status !== 'ready') {
      return result('error', `${url} is not a buildscope exporter: /-/ready answered HTTP ${ready.status} with ${describeBody(ready.data)}, not {"status":"ready"}.`);
    }
  } catch (err) {
    return failure(err, url, 'ready');
  }
  let sources: SourceInfo[];
  try {
    const res = await api.fetch<unknown>('/api/v1/sources');
    if (!isSourceList(res.data)) {
      return result('error', `${url} is not a buildscope exporter: /api/v1/sources answered HTTP ${res.status} with ${describeBody(res.data)}, not a source list.`);
    }
    sources = res.data.sources;
  } catch (err) {
    return failure(err, url, 'sources');
  }
  if (sources.length === 0) {
    return result('error', `The exporter at ${url} has no sources configured: add sources to its config file (docs/configuration.md).`);
  }
  const up = sources.filter((s) => s.up);
  const down = sources.filter((s) => !s.up);
  if (up.length === 0) {
    return result('error', `The exporter at ${url} answers, but no source is up (${sources.length} configured): ${down.map(downReason).join('; ')}.`);
  }
  if (down.length > 0) {
    return result('warning', `Connected to the exporter at ${url}: ${up.length} of ${sources.length} sources up; down: ${down.map(downReason).join('; ')}.`);
  }
  return result('success', `Connected to the exporter at ${url}: ${sources.length} source${sources.length === 1 ? '' : 's'} up (${sources.map((s) => s.name).join(', ')}).`);
}
