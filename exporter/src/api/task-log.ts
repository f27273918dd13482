/**
 * `GET /api/v1/tasks/{source}/{id}/log`: a task's log, read from the upstream when asked (karajo:
 * a run's log), never on a poll. Plain text; the usual JSON errors otherwise.
 */
import { Type } from '@sinclair/typebox';
import { SourceError, errorMessage } from '../sources/errors.js';
import { deadline } from '../util/deadline.js';
import type { ApiDeps, ApiInstance } from './deps.js';
import { ApiError, notFound } from './errors.js';
import { checkQuery } from './params.js';
import { ErrorSchema, errorResponses } from './schemas.js';
import { knownSources } from './sources.js';

/** How long the upstream gets to answer a log request. */
export const TASK_LOG_TIMEOUT_MS = 15_000;
/** Log reads in flight per source at most (each may hold up to 8 MiB); more answer 503. */
export const TASK_LOG_CONCURRENCY = 4;

export function registerTaskLogRoute(app: ApiInstance, deps: ApiDeps): void {
  const inFlight = new Map<string, number>();
  const params = Type.Object({
    source: Type.String({ description: 'Source instance name' }),
    id: Type.String({ description: 'Task id within the source (karajo: <job>#<counter>, so %23 in the path)' }),
  });
  app.get(
    '/api/v1/tasks/:source/:id/log',
    {
      preValidation: checkQuery(undefined),
      schema: {
        tags: ['tasks'],
        summary: "One task's log, from the upstream",
        description:
          "The task's log as the upstream keeps it, read from the upstream now (karajo: the run's log). text/plain. 404 when the source keeps no logs, the task is unknown, or the upstream no longer keeps its log; 502 when the upstream failed; 504 when it did not answer in time.",
        params,
        produces: ['text/plain', 'application/json'],
        response: {
          200: Type.String({ description: 'The log text' }),
          404: errorResponses[404],
          502: { ...ErrorSchema, description: 'The upstream failed' },
          503: { ...ErrorSchema, description: 'Too many log reads from this source are running' },
          504: { ...ErrorSchema, description: 'The upstream did not answer in time' },
        },
      },
    },
    async (request, reply) => {
      const { source, id } = request.params;
      const sources = knownSources(deps);
      if (!sources.includes(source)) throw notFound(`source ${source} not found; known sources: ${sources.length > 0 ? sources.join(', ') : '(none)'}`);
      const read = deps.taskLogs?.get(source);
      if (!read) throw notFound(`source ${source} does not keep task logs (only karajo sources do)`);
      if (!deps.store.getTask(source, id)) throw notFound(`task ${id} not found in source ${source}`);
      const busy = inFlight.get(source) ?? 0;
      if (busy >= TASK_LOG_CONCURRENCY) throw new ApiError(503, `${busy} log reads from ${source} are already running; try again in a moment`, { 'retry-after': '2' });
      inFlight.set(source, busy + 1);
      const { signal, clear } = deadline(TASK_LOG_TIMEOUT_MS);
      let log;
      try {
        log = await read(id, signal);
      } catch (err) {
        if (err instanceof SourceError && err.code === 'timeout') throw new ApiError(504, `the upstream of ${source} did not answer in time for the log of ${id}: ${err.message}`);
        throw new ApiError(502, `the upstream of ${source} failed to give the log of ${id}: ${errorMessage(err)}`);
      } finally {
        clear();
        inFlight.set(source, (inFlight.get(source) ?? 1) - 1);
      }
      if (!log) throw notFound(`the upstream of ${source} no longer keeps the log of ${id}`);
      // The status comes from the upstream: only a plain word goes into a header.
      if (log.status && /^[A-Za-z0-9_-]{1,32}$/.test(log.status)) void reply.header('x-log-status', log.status);
      return reply.type('text/plain; charset=utf-8').send(log.text);
    },
  );
}
