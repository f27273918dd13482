/** A structural check of the query union, as the datasource reads saved queries. */
import { FILTER_FIELDS, QUERY_TYPES, type BuildscopeQuery, type FilterField } from '../../types.js';

const LISTS = [...FILTER_FIELDS, 'types'] as const;

/** Throws unless `q` is a well-formed member of the BuildscopeQuery union (as the datasource reads it). */
export function assertValidQuery(q: unknown): asserts q is BuildscopeQuery {
  const query = q as Record<string, unknown>;
  const fail = (why: string) => {
    throw new Error(`invalid query (${why}): ${JSON.stringify(q)}`);
  };
  if (typeof query.refId !== 'string' || !query.refId) fail('refId');
  if (!QUERY_TYPES.includes(query.queryType as BuildscopeQuery['queryType'])) fail('queryType');
  const allowed: Record<string, string[]> = {
    tasks: [...FILTER_FIELDS, 'q', 'sort', 'order', 'limit', 'useTimeRange'],
    summary: [...FILTER_FIELDS, 'q', 'by'],
    task: ['source', 'id'],
    workers: ['source'],
    jobs: ['source'],
    events: ['source', 'types', 'maxRows'],
  };
  const common = ['refId', 'queryType', 'version', 'hide', 'key', 'datasource'];
  for (const key of Object.keys(query)) {
    if (!common.includes(key) && !allowed[query.queryType as string]!.includes(key)) fail(`${key} does not belong to ${String(query.queryType)}`);
  }
  if (query.queryType === 'task') {
    if (typeof query.source !== 'string' || typeof query.id !== 'string') fail('task needs string source and id');
  } else {
    for (const key of LISTS) {
      const v = query[key];
      if (v !== undefined && (!Array.isArray(v) || v.length === 0 || v.some((s) => typeof s !== 'string' || !s))) fail(`${key} must be a non-empty string list`);
    }
  }
  if (query.queryType === 'summary' && !FILTER_FIELDS.includes(query.by as FilterField)) fail('summary needs by');
  for (const key of ['limit', 'maxRows']) {
    const v = query[key];
    if (v !== undefined && (!Number.isInteger(v) || (v as number) < 1)) fail(`${key} must be a positive integer`);
  }
}
