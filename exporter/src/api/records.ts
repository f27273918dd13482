/** `GET /api/v1/workers` and `GET /api/v1/jobs`: builders/hosts and scheduled jobs, without their upstream records. */
import { Type } from '@sinclair/typebox';
import type { Job } from '../model/job.js';
import type { Worker } from '../model/worker.js';
import type { ApiDeps, ApiInstance } from './deps.js';
import { ALL, checkQuery, ListParam, splitList } from './params.js';
import { errorResponses, JobSchema, WorkerSchema } from './schemas.js';

function withoutNative<T extends { native?: unknown }>(record: T): Omit<T, 'native'> {
  const { native: _native, ...rest } = record;
  return rest;
}

function bySources<T extends { source: string; id: string }>(list: (source?: string) => T[], sources: string[] | undefined): T[] {
  const records = sources === undefined || sources.includes(ALL) ? list() : sources.flatMap((s) => list(s));
  return records.sort((a, b) => (a.source === b.source ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.source < b.source ? -1 : 1));
}

export function registerRecordRoutes(app: ApiInstance, deps: ApiDeps): void {
  const querystring = Type.Object({ source: ListParam('Source instance names. ALL = every source.') }, { additionalProperties: false });

  app.get(
    '/api/v1/workers',
    {
      preValidation: checkQuery(querystring),
      schema: {
        tags: ['records'],
        summary: 'Workers (builders, hosts)',
        description: 'APB servers, Koji hosts, Cuirass workers: up, busy, capacity and load, architectures, resources where known. Sorted by source, then id.',
        querystring,
        response: { 200: Type.Object({ items: Type.Array(WorkerSchema) }, { description: 'Workers' }), 400: errorResponses[400] },
      },
    },
    async (request) => {
      const workers: Worker[] = bySources((s) => deps.store.listWorkers(s), splitList('source', request.query.source));
      return { items: workers.map(withoutNative) };
    },
  );

  app.get(
    '/api/v1/jobs',
    {
      preValidation: checkQuery(querystring),
      schema: {
        tags: ['records'],
        summary: 'Scheduled jobs',
        description: 'karajo jobs: status, paused, last and next run, interval or schedule, last duration. Their runs are tasks. Sorted by source, then id.',
        querystring,
        response: { 200: Type.Object({ items: Type.Array(JobSchema) }, { description: 'Jobs' }), 400: errorResponses[400] },
      },
    },
    async (request) => {
      const jobs: Job[] = bySources((s) => deps.store.listJobs(s), splitList('source', request.query.source));
      return { items: jobs.map(withoutNative) };
    },
  );
}
