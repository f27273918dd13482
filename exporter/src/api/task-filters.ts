/**
 * The task filters shared by `/api/v1/tasks` and `/api/v1/summary`, and their translation to a
 * store TaskQuery (taskoteka semantics: default states, `state=ALL`, full-text `q`).
 */
import { Type, type Static } from '@sinclair/typebox';
import { PHASES } from '../model/task.js';
import { parseSearch, SearchQueryError, SEARCH_LIMITS } from '../store/search.js';
import type { TaskQuery } from '../store/query.js';
import { ApiError, badRequest } from './errors.js';
import { ALL, ListParam, parseTimeParam, splitEnumList, splitList } from './params.js';

export const taskFilterProps = {
  source: ListParam('Source instance names. ALL = no filter.'),
  kind: ListParam('Build-system kinds (girar, apb, karajo, cuirass, koji). ALL = no filter.'),
  state: ListParam(
    'Native states, e.g. BUILDING,FAILING. ALL = every state. When neither state nor phase is given, each kind\'s default states apply (girar: AWAITING, BUILDING, COMMITTING, FAILING, PENDING, POSTPONED; with owner or q: every state but DONE).',
  ),
  phase: ListParam(`Normalized phases: ${PHASES.join(', ')}. Giving a phase lifts the default states.`),
  repo: ListParam('Repositories (girar repo, Koji tag, Cuirass specification, APB architecture). ALL = no filter.'),
  owner: ListParam('Task owners. ALL = no filter.'),
  arch: ListParam('Architectures the task builds for. ALL = no filter.'),
  q: Type.Optional(
    Type.String({
      description: `Full-text search: space-separated terms, all must match, case-insensitive substring over id, owner, repo, state, message and subtask fields. At most ${SEARCH_LIMITS.maxChars} characters and ${SEARCH_LIMITS.maxTerms} terms, each at least ${SEARCH_LIMITS.minTermChars} characters. Adds matches to each item.`,
    }),
  ),
  updated_since: Type.Optional(Type.String({ description: 'Only tasks updated at or after this time: ISO 8601 (UTC unless it has an offset) or Unix seconds' })),
  updated_until: Type.Optional(Type.String({ description: 'Only tasks updated at or before this time: ISO 8601 or Unix seconds' })),
};

const filterSchema = Type.Object(taskFilterProps);
export type TaskFilterParams = Static<typeof filterSchema>;

const LIST_FIELDS = ['source', 'kind', 'repo', 'owner', 'arch'] as const;

/** The store query for the filters; throws a 400 ApiError naming the bad parameter. */
export function toTaskQuery(params: TaskFilterParams): TaskQuery {
  const query: TaskQuery = {};
  for (const field of LIST_FIELDS) {
    const values = splitList(field, params[field]);
    if (values !== undefined && !values.includes(ALL)) query[field] = values;
  }
  const states = splitList('state', params.state);
  if (states !== undefined) query.state = states.includes(ALL) ? 'ALL' : states;
  const phases = splitEnumList('phase', params.phase, PHASES);
  if (phases !== undefined) query.phase = phases;
  if (params.q !== undefined) query.terms = parseQ(params.q);
  if (params.updated_since !== undefined) query.updatedSince = parseTimeParam('updated_since', params.updated_since);
  if (params.updated_until !== undefined) query.updatedUntil = parseTimeParam('updated_until', params.updated_until);
  if (query.updatedSince !== undefined && query.updatedUntil !== undefined && query.updatedSince > query.updatedUntil) {
    throw badRequest('query parameter "updated_since" is after "updated_until"; swap them or widen the range');
  }
  return query;
}

function parseQ(q: string): string[] {
  try {
    return parseSearch(q);
  } catch (err) {
    if (err instanceof SearchQueryError) throw new ApiError(400, err.message);
    throw err;
  }
}
