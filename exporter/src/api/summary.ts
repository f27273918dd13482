/** `GET /api/v1/summary?by=<field>`: counts of matching tasks by one field, largest first. */
import { Type } from '@sinclair/typebox';
import { INDEXED_FIELDS } from '../store/task-index.js';
import type { ApiDeps, ApiInstance } from './deps.js';
import { checkQuery, StringEnum } from './params.js';
import { errorResponses } from './schemas.js';
import { taskFilterProps, toTaskQuery } from './task-filters.js';

export function registerSummaryRoutes(app: ApiInstance, deps: ApiDeps): void {
  const querystring = Type.Object(
    {
      by: StringEnum(INDEXED_FIELDS, { description: 'Field to count by' }),
      ...taskFilterProps,
    },
    { additionalProperties: false },
  );
  app.get(
    '/api/v1/summary',
    {
      preValidation: checkQuery(querystring),
      schema: {
        tags: ['tasks'],
        summary: 'Task counts by one field',
        description:
          'Counts of the tasks matching the filters (same filters and default states as /api/v1/tasks), grouped by one field, largest first. ' +
          'total is the number of matching tasks; with by=arch a task building for several architectures counts once per arch in rows but once in total. Tasks without a repo or owner are left out of those rows.',
        querystring,
        response: {
          200: Type.Object({
            by: StringEnum(INDEXED_FIELDS),
            total: Type.Integer(),
            rows: Type.Array(Type.Object({ value: Type.String(), count: Type.Integer() })),
          }, { description: 'Counts by the field' }),
          400: errorResponses[400],
        },
      },
    },
    async (request) => {
      const { by, ...filters } = request.query;
      const { total, rows } = deps.store.summarize(by, toTaskQuery(filters));
      return { by, total, rows };
    },
  );
}
