/**
 * Request handling of the girar simulator: taskoteka's endpoints, parameters, default-state
 * rules, error bodies and headers, plus injectable faults on `GET /tasks` and `GET /tasks/{id}`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SearchQueryError, buildSearchDoc, matchSearch, parseSearch } from '../../store/search.js';
import { GIRAR_DEFAULT_STATES, GIRAR_STATES, normalizeTask } from './normalize.js';
import { renderDetail, renderListItem, type SimTask } from './simulator-model.js';
import type { SseHub } from './simulator-sse.js';
import type { TaskListItem } from './upstream.js';

export const SIM_API_VERSION = '1.5.0';
const SEARCH_RESULT_CAP = 500;

export type SimFaultKind = 'http500' | 'http429' | 'html' | 'truncated' | 'invalid-types' | 'slow' | 'reset';

/** A fault the simulator injects into `GET /tasks`, `GET /tasks/{id}` and/or `GET /health` answers. */
export interface SimFault {
  kind: SimFaultKind;
  /** Endpoints it applies to: `list`, `detail`, `health`, or `both` (default: all three). */
  on?: 'list' | 'detail' | 'health' | 'both';
  /** `slow`: how long to wait before answering (default 10 s). */
  delayMs?: number;
  /** `http429`: the Retry-After value in seconds (default 7). */
  retryAfterSeconds?: number;
  /** Apply to this many requests, then clear itself (default: until cleared). */
  times?: number;
}

/** One request the simulator saw, for tests that check what clients send. */
export interface RecordedRequest {
  method: string;
  /** Path and query string. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
}

/** What the handler needs from the simulator. */
export interface SimBackend {
  nowMs(): number;
  cacheAgeSeconds(): number;
  tasks(): Iterable<SimTask>;
  task(id: number): SimTask | undefined;
  /** The fault for this request, if any (counts down `times`). */
  takeFault(target: 'list' | 'detail' | 'health'): SimFault | undefined;
  record(request: RecordedRequest): void;
  sse: SseHub;
  /** Timers of delayed (`slow`) answers, cleared on close. */
  timers: Set<NodeJS.Timeout>;
}

interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export function baseHeaders(b: SimBackend): Record<string, string> {
  return { 'x-api-version': SIM_API_VERSION, 'x-cache-age': String(b.cacheAgeSeconds()) };
}

export function handleRequest(b: SimBackend, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://simulator.invalid');
  b.record({ method: req.method ?? 'GET', path: `${url.pathname}${url.search}`, headers: { ...req.headers } });
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(b, res, { status: 405, body: { error: 'method not allowed' } });
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const detail = /^\/tasks\/([^/]+)$/.exec(path);
  try {
    if (path === '/tasks') return send(b, res, listTasks(b, url.searchParams), b.takeFault('list'));
    if (detail) return send(b, res, getTask(b, detail[1] as string, url.searchParams), b.takeFault('detail'));
    if (path === '/events') return b.sse.open(req, res);
    if (path === '/owners') return send(b, res, { status: 200, body: [...new Set([...b.tasks()].map((t) => t.owner))].sort() });
    if (path === '/health') return send(b, res, { status: 200, body: health(b) }, b.takeFault('health'));
    return send(b, res, { status: 404, body: { error: `no such endpoint: ${path}` } });
  } catch (err) {
    return send(b, res, { status: 500, body: { error: `simulator error: ${(err as Error).message}` } });
  }
}

function health(b: SimBackend) {
  const all = [...b.tasks()];
  // taskoteka's /health example counts most of its cache as active: read as "not DONE".
  return { status: 'ok', total_tasks: all.length, active_tasks: all.filter((t) => t.state !== 'DONE').length };
}

function isTrue(value: string | null): boolean {
  return value !== null && ['true', '1', 'yes'].includes(value.toLowerCase());
}

function listTasks(b: SimBackend, p: URLSearchParams): Answer {
  const needsApproval = p.get('needs_approval');
  const q = p.get('q');
  if (needsApproval !== null) {
    if (q !== null) return { status: 400, body: { error: 'q cannot be combined with needs_approval' } };
    if (needsApproval !== 'maint' && needsApproval !== 'tester') {
      return { status: 400, body: { error: `invalid needs_approval value: ${needsApproval} (expected maint or tester)` } };
    }
    return { status: 503, body: { error: 'needs_approval is not available: the server runs without --acl-dir' } };
  }
  let terms: string[] | undefined;
  if (q !== null) {
    try {
      terms = parseSearch(q);
    } catch (err) {
      if (err instanceof SearchQueryError) return { status: 400, body: { error: err.message } };
      throw err;
    }
  }
  const user = p.get('user');
  const personal = (user !== null && user !== 'ALL') || terms !== undefined;
  const states = parseStates(p.get('state'), personal);
  if (typeof states === 'string') return { status: 400, body: { error: states } };
  const repoParam = p.get('repo');
  const repos = repoParam && repoParam !== 'ALL' ? new Set(repoParam.split(',').map((r) => r.trim())) : undefined;

  const now = b.nowMs();
  const selected = [...b.tasks()]
    .filter((t) => (states ? states.has(t.state) : true))
    .filter((t) => (repos ? repos.has(t.repo) : true))
    .filter((t) => (personal && user !== null && user !== 'ALL' ? t.owner === user : true))
    .sort((x, y) => y.id - x.id);
  const items: Record<string, unknown>[] = [];
  for (const t of selected) {
    const item = renderListItem(t, now);
    if (terms) {
      const task = normalizeTask('simulator', item as unknown as TaskListItem, undefined, { taskUrl: '{id}' });
      const matches = matchSearch(buildSearchDoc(task), terms);
      if (!matches) continue;
      item.matches = matches;
      if (items.length >= SEARCH_RESULT_CAP) break;
    }
    items.push(item);
  }
  if (isTrue(p.get('brief'))) return { status: 200, body: items.map((i) => i.id) };
  return { status: 200, body: items };
}

/** The state filter: a set, undefined for all states, or an error message. */
function parseStates(param: string | null, personal: boolean): Set<string> | undefined | string {
  if (param === null || param === '') {
    if (!personal) return new Set(GIRAR_DEFAULT_STATES.active);
    return new Set(GIRAR_STATES.filter((s) => !GIRAR_DEFAULT_STATES.hiddenWhenPersonal.includes(s)));
  }
  if (param.toUpperCase() === 'ALL') return undefined;
  const wanted = param.split(',').map((s) => s.trim().toUpperCase());
  const bad = wanted.find((s) => !(GIRAR_STATES as readonly string[]).includes(s));
  if (bad !== undefined) return `invalid state: ${bad}`;
  return new Set(wanted);
}

function getTask(b: SimBackend, rawId: string, p: URLSearchParams): Answer {
  if (!/^[0-9]+$/.test(rawId)) return { status: 400, body: { error: `invalid task id: ${rawId}` } };
  const id = Number(rawId);
  const task = b.task(id);
  if (!task) return { status: 404, body: { error: `task ${id} not found` } };
  if (isTrue(p.get('brief'))) return { status: 200, body: id };
  return { status: 200, body: renderDetail(task, b.nowMs()) };
}

function send(b: SimBackend, res: ServerResponse, answer: Answer, fault?: SimFault): void {
  const headers = { ...baseHeaders(b), 'content-type': 'application/json', ...answer.headers };
  if (!fault) return write(res, answer.status, headers, JSON.stringify(answer.body));
  switch (fault.kind) {
    case 'http500':
      return write(res, 500, headers, JSON.stringify({ error: 'internal server error (injected)' }));
    case 'http429':
      return write(res, 429, { ...headers, 'retry-after': String(fault.retryAfterSeconds ?? 7) }, JSON.stringify({ error: 'too many requests (injected)' }));
    case 'html':
      return write(res, 200, { ...headers, 'content-type': 'text/html; charset=utf-8' }, '<!DOCTYPE html>\n<html><head><title>Maintenance</title></head><body><h1>git.altlinux.org is under maintenance</h1></body></html>\n');
    case 'invalid-types':
      return write(res, answer.status, headers, JSON.stringify(answer.status === 200 ? stringifyTry(answer.body) : answer.body));
    case 'truncated': {
      const text = JSON.stringify(answer.body);
      res.writeHead(answer.status, headers);
      res.end(text.slice(0, Math.max(1, Math.floor(text.length / 2))));
      return;
    }
    case 'reset': {
      const text = JSON.stringify(answer.body);
      res.writeHead(answer.status, headers);
      res.write(text.slice(0, Math.max(1, Math.floor(text.length / 2))));
      setImmediate(() => res.socket?.destroy());
      return;
    }
    case 'slow': {
      const timer = setTimeout(() => {
        b.timers.delete(timer);
        if (!res.destroyed) write(res, answer.status, headers, JSON.stringify(answer.body));
      }, fault.delayMs ?? 10_000);
      b.timers.add(timer);
      return;
    }
  }
}

function write(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** `try` as a string where an integer belongs, the classic wrong-type upstream bug. */
function stringifyTry(body: unknown): unknown {
  const fix = (v: unknown): unknown => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
    const o = v as Record<string, unknown>;
    return { ...o, try: String(o.try ?? 1) };
  };
  return Array.isArray(body) ? body.map(fix) : fix(body);
}
