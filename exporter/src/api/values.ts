/** `GET /api/v1/values/:field`: sorted distinct values of a task field, for Grafana template variables. */
import { Type } from '@sinclair/typebox';
import { INDEXED_FIELDS, type IndexedField } from '../store/task-index.js';
import type { ApiDeps, ApiInstance } from './deps.js';
import { ALL, checkQuery, ListParam, splitList, StringEnum } from './params.js';
import { errorResponses } from './schemas.js';

/** Distinct values of a field, over every held task or over the tasks of some sources. */
export function distinctValues(deps: Pick<ApiDeps, 'store' | 'health'>, field: IndexedField, sources: readonly string[] | undefined): string[] {
  const values = new Set<string>();
  if (sources === undefined) {
    for (const v of deps.store.distinct(field).keys()) values.add(v);
  } else {
    for (const row of deps.store.summarize(field, { source: [...sources], state: 'ALL' }).rows) values.add(row.value);
  }
  // Configured sources (and their kinds) are values even before their first task arrives.
  if (field === 'source' || field === 'kind') {
    for (const h of deps.health.health()) {
      if (sources === undefined || sources.includes(h.name)) values.add(field === 'source' ? h.name : h.kind);
    }
  }
  return [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export function registerValueRoutes(app: ApiInstance, deps: ApiDeps): void {
  const querystring = Type.Object({ source: ListParam('Only values found in these sources. ALL = every source.') }, { additionalProperties: false });
  app.get(
    '/api/v1/values/:field',
    {
      preValidation: checkQuery(querystring),
      schema: {
        tags: ['tasks'],
        summary: 'Distinct values of a task field',
        description: 'Sorted distinct values of one task field over every held task in every state (for Grafana template variables). Configured sources and their kinds are listed even before they hold tasks.',
        params: Type.Object({ field: StringEnum(INDEXED_FIELDS, { description: 'Task field' }) }),
        querystring,
        response: { 200: Type.Object({ field: StringEnum(INDEXED_FIELDS), values: Type.Array(Type.String()) }, { description: 'Sorted distinct values' }), 400: errorResponses[400] },
      },
    },
    async (request) => {
      const { field } = request.params;
      const sources = splitList('source', request.query.source);
      return { field, values: distinctValues(deps, field, sources?.includes(ALL) ? undefined : sources) };
    },
  );
}
