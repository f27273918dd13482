/**
 * taskoteka's HTTP API, per girar source, under `/compat/taskoteka/<source>/`: existing taskoteka
 * clients point there and get the same endpoints, parameters, shapes (key order included), errors
 * and headers, served from the store. What the store does not hold (archived tasks, the
 * `needs_approval` ACL logic, the API version and cache age) comes from the source's
 * TaskotekaCompatBackend.
 *
 * The routes are left out of the exporter's own /openapi.json (`schema.hide`): they are described
 * per source by their own taskoteka-style document at `<prefix>/openapi.json`, and they follow
 * taskoteka's conventions (lenient parameters, bare arrays), not the main API's.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Task } from '../../model/task.js';
import { NeedsApprovalUnavailable, type TaskotekaCompatBackend } from '../../sources/girar/compat-backend.js';
import { errorMessage } from '../../sources/errors.js';
import { GIRAR_STATES } from '../../sources/girar/normalize.js';
import { systemClock } from '../../util/clock.js';
import { deadline } from '../../util/deadline.js';
import type { ApiDeps, ApiInstance } from '../deps.js';
import { ApiError, notFound } from '../errors.js';
import { registerTaskotekaEvents } from './taskoteka-events.js';
import { taskotekaOpenApi } from './taskoteka-openapi.js';
import { effectiveStates, isBrief, parseListQuery, parseTaskId, type RawQuery } from './taskoteka-query.js';
import { detail, isDetail, listItem } from './taskoteka-shape.js';

export const TASKOTEKA_PREFIX = '/compat/taskoteka';

/** How long a route waits for the backend (archive read, needs_approval) before answering 503. */
export const BACKEND_TIMEOUT_MS = 10_000;

/** What every compat route shares (also used by taskoteka-events.ts). */
export interface CompatRoute {
  /** `/compat/taskoteka/:source` */
  prefix: string;
  /** Route options: hidden from the main OpenAPI document, taskoteka's headers on every answer. */
  options: { schema: { hide: true }; onSend: (request: FastifyRequest, reply: FastifyReply, payload: unknown) => Promise<unknown> };
  /** The source's backend; a 404 ApiError naming the configured sources when there is none. */
  resolve(source: string): { name: string; backend: TaskotekaCompatBackend };
  /** Set `x-api-version` and (after the first refresh) `x-cache-age`. */
  setHeaders(reply: FastifyReply, backend: TaskotekaCompatBackend): void;
}

type Params = { source: string };
type IdParams = { source: string; id: string };

function compatRoute(backends: ReadonlyMap<string, TaskotekaCompatBackend>): CompatRoute {
  const setHeaders = (reply: FastifyReply, backend: TaskotekaCompatBackend): void => {
    reply.header('x-api-version', backend.apiVersion());
    const age = backend.cacheAgeSeconds();
    if (age !== undefined) reply.header('x-cache-age', String(Math.max(0, Math.floor(age))));
  };
  return {
    prefix: `${TASKOTEKA_PREFIX}/:source`,
    options: {
      schema: { hide: true },
      // Runs for answers and errors alike (the JSON error handler's too).
      onSend: async (request, reply, payload) => {
        const backend = backends.get((request.params as Partial<Params> | undefined)?.source ?? '');
        if (backend) setHeaders(reply, backend);
        const type = reply.getHeader('content-type');
        if (typeof type === 'string' && type.startsWith('application/json')) reply.header('content-type', 'application/json');
        return payload;
      },
    },
    resolve(source) {
      const backend = backends.get(source);
      if (backend) return { name: source, backend };
      const names = [...backends.keys()].sort();
      throw notFound(`no girar source named ${JSON.stringify(source)}; configured: ${names.length > 0 ? names.join(', ') : '(none)'}`);
    },
    setHeaders,
  };
}

/**
 * Run a backend call with a signal aborted when the client goes away or after BACKEND_TIMEOUT_MS.
 * (A timer of our own, cleared after the call: an AbortSignal.timeout inside AbortSignal.any can
 * be collected before it fires.)
 */
async function withBackendSignal<T>(reply: FastifyReply, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const gone = new AbortController();
  const onClose = () => gone.abort(new Error('the client closed the connection'));
  reply.raw.once('close', onClose);
  const limit = deadline(BACKEND_TIMEOUT_MS, gone.signal);
  try {
    return await call(limit.signal);
  } finally {
    limit.clear();
    reply.raw.off('close', onClose);
  }
}

const GIRAR_STATE_SET: ReadonlySet<string> = new Set(GIRAR_STATES);

function testOnlyOrSwift(task: Task): boolean {
  const native = task.native as { test_only?: unknown; swift?: unknown } | null | undefined;
  return task.attrs?.test_only === true || task.attrs?.swift === true || native?.test_only === true || native?.swift === true;
}

export function registerTaskotekaCompat(app: ApiInstance, deps: ApiDeps): void {
  const backends = deps.taskotekaBackends ?? new Map<string, TaskotekaCompatBackend>();
  const clock = deps.clock ?? systemClock;
  const route = compatRoute(backends);
  const { prefix } = route;
  const options = { ...route.options, config: { authArea: 'api' as const } };
  const store = deps.store;
  const allOf = (source: string): Task[] =>
    store.queryTasks({ source: [source], state: 'ALL', sort: 'id', order: 'desc', limit: store.sourceTaskCount(source) }).items.map((hit) => hit.task);

  /** States of the source's tasks that girar's 13 do not include (a state a newer girar added): few distinct values, one index lookup each. */
  const statesBeyondGirar = (source: string): string[] =>
    [...store.distinct('state').keys()].filter((s) => !GIRAR_STATE_SET.has(s) && store.queryTasks({ source: [source], state: [s], limit: 0 }).total > 0);

  app.get<{ Params: Params; Querystring: RawQuery }>(`${prefix}/tasks`, options, async (request, reply) => {
    const { name, backend } = route.resolve(request.params.source);
    const known = statesBeyondGirar(name);
    const query = parseListQuery(request.query, known);
    const result = store.queryTasks({
      source: [name],
      state: effectiveStates(query, known),
      ...(query.repos ? { repo: query.repos } : {}),
      ...(query.user !== undefined ? { owner: [query.user] } : {}),
      ...(query.terms ? { terms: query.terms } : {}),
      sort: 'id',
      order: 'desc',
      limit: store.sourceTaskCount(name),
    });
    let hits = result.items;
    const group = query.needsApproval;
    if (group) {
      let wanted: ReadonlySet<string>;
      try {
        wanted = await withBackendSignal(reply, (signal) => backend.needsApproval(group, signal));
      } catch (err) {
        if (err instanceof NeedsApprovalUnavailable) throw new ApiError(503, err.message);
        request.log.warn({ err, source: name }, 'needs_approval could not be answered');
        throw new ApiError(503, `needs_approval could not be answered (${errorMessage(err)}); retry later`);
      }
      // girar task ls --needs-approval skips test-only and swift tasks: they need no approval to end.
      hits = hits.filter((hit) => wanted.has(hit.task.id) && !testOnlyOrSwift(hit.task));
    }
    if (query.brief) return hits.map((hit) => Number(hit.task.id));
    const now = clock.now();
    return hits.map((hit) => {
      const item = listItem(hit.task, backend, now);
      if (hit.matches) item.matches = hit.matches;
      return item;
    });
  });

  app.get<{ Params: IdParams; Querystring: RawQuery }>(`${prefix}/tasks/:id`, options, async (request, reply) => {
    const { name, backend } = route.resolve(request.params.source);
    const id = parseTaskId(request.params.id);
    const brief = isBrief(request.query);
    const task = store.getTask(name, String(id));
    if (task) return brief ? id : detail(task, backend, clock.now());
    let archived: unknown;
    try {
      archived = await withBackendSignal(reply, (signal) => backend.archived(id, signal));
    } catch (err) {
      request.log.warn({ err, source: name, taskId: id }, 'archived task could not be read');
      throw new ApiError(503, `task ${id} is not among the live tasks and the archive could not be read (${errorMessage(err)}); retry later`);
    }
    if (isDetail(archived)) return brief ? id : archived;
    throw notFound(`task ${id} not found`);
  });

  app.get<{ Params: Params }>(`${prefix}/owners`, options, async (request) => {
    const { name } = route.resolve(request.params.source);
    const owners = new Set<string>();
    for (const task of allOf(name)) if (task.owner) owners.add(task.owner);
    return [...owners].sort();
  });

  app.get<{ Params: Params }>(`${prefix}/health`, options, async (request, reply) => {
    const { name } = route.resolve(request.params.source);
    const total = store.sourceTaskCount(name);
    const done = store.queryTasks({ source: [name], state: ['DONE'], limit: 0 }).total;
    const body = { status: 'ok', total_tasks: total, active_tasks: total - done };
    const health = deps.health.health().find((h) => h.name === name);
    if (health?.up) return body;
    // The tasks are still served, but from the last good poll: say so, with a status monitors notice.
    reply.code(503);
    if (health?.lastPollAt === undefined) return { ...body, status: 'starting', error: `source ${name} has not finished its first poll yet` };
    const why = health.lastError ? `: ${health.lastError.message}` : '';
    return { ...body, status: 'stale', error: `the latest poll of source ${name} failed${why}; the tasks are those of the last successful poll` };
  });

  app.get<{ Params: Params }>(`${prefix}/openapi.json`, options, async (request) => {
    const { name, backend } = route.resolve(request.params.source);
    return taskotekaOpenApi(name, backend.apiVersion(), `${TASKOTEKA_PREFIX}/${encodeURIComponent(name)}`);
  });

  registerTaskotekaEvents(app, deps, route);
}
