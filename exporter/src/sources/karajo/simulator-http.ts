/**
 * The karajo simulator's HTTP answers (shuLhan/karajo httpd.go, pakakeh.go lib/http): the
 * EndpointResponse envelope, Go's JSON field order and omitempty rules, forced gzip, the log
 * endpoints' HTTP-200-with-code-404 quirk, the login cookie and the injectable faults. Pure
 * functions of the model; the simulator does the I/O.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { gunzipSync, gzipSync } from 'node:zlib';
import { isoUtc } from '../../util/clock.js';
import type { Rng } from '../girar/prng.js';
import { GO_ZERO_TIME, sec, type KarajoModel, type SimJob, type SimLog } from './simulator-model.js';

export type KarajoMode = 'ok' | 'down' | 'html' | 'badgzip' | 'plain' | 'envelope-error' | 'error500' | 'malformed' | 'slow';

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** The body is gzip-compressed JSON (environment and log endpoints). */
  gzip?: boolean;
}

export interface SimRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface ServerSettings {
  name: string;
  version: string;
  listenAddress: string;
  dirBase: string;
  /** Password by user name; empty means no login is needed. */
  users: Map<string, string>;
  /** Cookie values of live sessions. */
  sessions: Set<string>;
  rng: Rng;
}

const NS_PER_MS = 1_000_000;
/** Env.HTTPTimeout default (5 min), also each JobHTTP's http_timeout. */
const HTTP_TIMEOUT_NS = 300_000 * NS_PER_MS;
const gunzipText = (b: Buffer): string => gunzipSync(b).toString();
const INTERNAL = '{"message":"internal server error","name":"ERR_INTERNAL","code":500}';

/** encoding/json's output: like JSON.stringify, but <, >, &, U+2028 and U+2029 escaped. */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** An object with keys in the given order, entries whose value is undefined left out (omitempty). */
function obj(entries: [string, unknown][]): string {
  return `{${entries.filter(([, v]) => v !== undefined).map(([k, v]) => `${goJson(k)}:${typeof v === 'object' && v !== null && 'json' in v ? (v as { json: string }).json : goJson(v)}`).join(',')}}`;
}
const raw = (json: string): { json: string } => ({ json });
const time = (ms: number | null): string => (ms === null ? GO_ZERO_TIME : isoUtc(sec(ms)));
const nonEmpty = <T>(v: T[] | string | undefined): T[] | string | undefined => (v === undefined || v.length === 0 ? undefined : v);

/** A log entry in a job's `logs`: the JobLog struct's tags, no content. */
const logEntry = (l: SimLog): string => obj([['job_id', l.jobId], ['name', l.name], ['status', nonEmpty(l.status)], ['counter', l.counter]]);

/** JobBase's fields, in struct order. */
function base(job: SimJob): [string, unknown][] {
  const c = job.cfg;
  return [
    ['last_run', time(job.lastRun)], ['next_run', time(job.nextRun)], ['id', c.id], ['name', c.name],
    ['description', nonEmpty(c.description)], ['status', nonEmpty(job.status)], ['schedule', nonEmpty(c.schedule)],
    ['logs', job.logs.length > 0 ? raw(`[${job.logs.map(logEntry).join(',')}]`) : undefined],
    ['interval', c.intervalMs > 0 ? c.intervalMs * NS_PER_MS : undefined], ['log_retention', c.logRetention],
  ];
}

/** A JobExec or JobHTTP as encoding/json writes it. */
export function renderJob(job: SimJob): string {
  const c = job.cfg;
  if (c.kind === 'exec') return obj([['path', nonEmpty(c.path)], ['auth_kind', 'hmac-sha256'], ['header_sign', 'X-Karajo-Sign'], ['commands', nonEmpty(c.commands)], ...base(job)]);
  return obj([
    ['header_sign', 'X-Karajo-Sign'], ['http_method', c.httpMethod], ['http_url', c.httpUrl], ['http_request_type', 'json'],
    ...base(job), ['http_timeout', HTTP_TIMEOUT_NS],
  ]);
}

/** Env: jobs maps keyed by name (encoding/json sorts map keys; a nil map is null). */
export function renderEnv(model: KarajoModel, s: ServerSettings): string {
  const map = (kind: string): { json: string } => {
    const jobs = model.jobs.filter((j) => j.cfg.kind === kind).sort((a, b) => (a.cfg.name < b.cfg.name ? -1 : a.cfg.name > b.cfg.name ? 1 : 0));
    return raw(jobs.length === 0 ? 'null' : `{${jobs.map((j) => `${goJson(j.cfg.name)}:${renderJob(j)}`).join(',')}}`);
  };
  return obj([
    ['jobs', map('exec')], ['http_jobs', map('http')], ['name', s.name], ['listen_address', s.listenAddress], ['dir_base', s.dirBase],
    ['dir_public', ''], ['version', s.version], ['http_timeout', HTTP_TIMEOUT_NS], ['max_job_running', model.maxJobRunning], ['is_development', false],
  ]);
}

const json = (status: number, body: string, gzip = false): Reply => ({
  status, gzip, body: gzip ? gzipSync(body) : Buffer.from(body),
  headers: { 'content-type': 'application/json', ...(gzip ? { 'content-encoding': 'gzip' } : {}) },
});
/** DefaultErrorHandler: the liberrors.E alone, HTTP status = code. */
const error = (code: number, message: string, name?: string): Reply => json(code, obj([['message', message], ['name', name], ['code', code]]));
const text = (status: number, body: string): Reply => ({ status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: Buffer.from(body) });

/** apiJobExecLog / apiJobHTTPLog. */
function logReply(model: KarajoModel, kind: 'exec' | 'http', q: URLSearchParams): Reply {
  const id = (q.get('id') ?? '').toLowerCase();
  const job = model.find(id, kind);
  // An unknown JobExec is an EndpointResponse returned as error (no name); an unknown JobHTTP is ERR_INVALID_JOB_ID.
  if (!job) return kind === 'exec' ? error(404, `job ID ${id} not found`) : error(400, `invalid or empty job id: ${id}`, 'ERR_INVALID_JOB_ID');
  const counterStr = q.get('counter') ?? '';
  if (!/^[+-]?\d{1,18}$/.test(counterStr)) return error(404, `log #${counterStr} not found`);
  const log = job.logs.find((l) => l.counter === Number(counterStr));
  // The `goto out` path: a JSON code 404 in an HTTP 200 answer, not compressed.
  if (!log) return json(200, obj([['message', `log #${counterStr} not found`], ['code', 404]]));
  const data = `{"job_id":${JSON.stringify(log.jobId)},"name":${JSON.stringify(log.name)},"status":${JSON.stringify(log.status)},"counter":${log.counter},"content":"${Buffer.from(log.content).toString('base64')}"}`;
  return json(200, `{"code":200,"data":${data}}`, true);
}

function cookie(headers: IncomingHttpHeaders, name: string): string | undefined {
  for (const part of String(headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

/** httpd.go's routes. */
export function route(model: KarajoModel, req: SimRequest, s: ServerSettings): Reply {
  const { pathname: path, searchParams: q } = req.url;
  if (req.method === 'POST' && path === '/karajo/api/auth/login') {
    const form = new URLSearchParams(req.body);
    const name = (form.get('name') ?? '').trim();
    const pass = (form.get('password') ?? '').trim();
    if (name === '' || pass === '' || s.users.get(name) !== pass) return error(400, 'invalid user name and/or password', 'ERR_AUTH_LOGIN');
    const value = Array.from({ length: 32 }, () => s.rng.pick([...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'])).join('');
    s.sessions.add(value);
    return { ...json(200, '{"code":200}'), headers: { 'content-type': 'application/json', 'set-cookie': `karajo=${value}; Path=/; Max-Age=86400; HttpOnly` } };
  }
  // handleFSAuth (see fixtures/README.md): with users configured, /karajo/api/ needs a live `karajo` session.
  if (s.users.size > 0 && path.startsWith('/karajo/api/') && !s.sessions.has(cookie(req.headers, 'karajo') ?? '')) return text(401, 'Unauthorized');
  if (req.method !== 'GET' && req.method !== 'HEAD') return text(404, '404 page not found\n');
  switch (path) {
    case '/karajo/api/environment':
      return json(200, `{"data":${renderEnv(model, s)},"code":200}`, true);
    case '/karajo/api/job_exec/log':
      return logReply(model, 'exec', q);
    case '/karajo/api/job_http/log':
      return logReply(model, 'http', q);
    case '/karajo/api/job_http': {
      const id = q.get('id') ?? '';
      const job = model.find(id, 'http');
      return job ? json(200, `{"data":${renderJob(job)},"code":200}`) : error(400, `invalid or empty job id: ${id}`, 'ERR_INVALID_JOB_ID');
    }
    default:
      return text(404, '404 page not found\n');
  }
}

/** The reply under a fault mode; 'slow' and 'down' are the simulator's to apply. */
export function faulty(reply: Reply, mode: KarajoMode): Reply {
  switch (mode) {
    case 'html':
      return { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: Buffer.from('<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n<body><h1>502 Bad Gateway</h1><hr><center>nginx</center></body></html>\n') };
    case 'envelope-error':
      return json(200, INTERNAL);
    case 'error500':
      return json(500, INTERNAL);
    case 'plain':
      return reply.gzip ? json(reply.status, gunzipText(reply.body)) : reply;
    case 'badgzip': {
      // A gzip header, then a deflate block of the reserved type 11: every decoder rejects it.
      const body = Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0x03, 0xff, 0xff, 0x13, 0x37, 0x00, 0x42]);
      return { status: reply.status, headers: { ...reply.headers, 'content-encoding': 'gzip' }, body };
    }
    case 'malformed': {
      const full = reply.gzip ? gunzipText(reply.body) : reply.body.toString();
      return json(reply.status, full.slice(0, Math.max(1, Math.floor(full.length / 2))), true);
    }
    default:
      return reply;
  }
}
