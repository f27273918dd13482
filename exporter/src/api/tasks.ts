/** `GET /api/v1/tasks` (filtered, searched, paged list) and `GET /api/v1/tasks/:source/:id` (one task with native). */
import { Type, type Static } from '@sinclair/typebox';
import type { Task } from '../model/task.js';
import { SORT_FIELDS } from '../store/query.js';
import type { ApiDeps, ApiInstance } from './deps.js';
import { notFound } from './errors.js';
import { checkQuery, StringEnum } from './params.js';
import { errorResponses, TaskDetailSchema, TaskSummarySchema } from './schemas.js';
import { knownSources } from './sources.js';
import { taskFilterProps, toTaskQuery } from './task-filters.js';

type TaskSummary = Static<typeof TaskSummarySchema>;

/**
 * A task as lists show it: exactly the fields of TaskSummarySchema, in its order (no upstream
 * record, no artifacts). The list route serializes with JSON.stringify, not from the schema, so
 * this projection is what keeps anything else out of the answer.
 */
export function taskSummary(task: Task, matches?: string[]): TaskSummary {
  const out: TaskSummary = { source: task.source, kind: task.kind, id: task.id, state: task.state, phase: task.phase } as TaskSummary;
  if (task.owner !== undefined) out.owner = task.owner;
  if (task.repo !== undefined) out.repo = task.repo;
  if (task.message !== undefined) out.message = task.message;
  if (task.created !== undefined) out.created = task.created;
  if (task.started !== undefined) out.started = task.started;
  if (task.finished !== undefined) out.finished = task.finished;
  if (task.updated !== undefined) out.updated = task.updated;
  if (task.stateSince !== undefined) out.stateSince = task.stateSince;
  out.archs = task.archs;
  out.subtasks = task.subtasks;
  if (task.url !== undefined) out.url = task.url;
  if (task.attrs !== undefined) out.attrs = task.attrs;
  if (matches) out.matches = matches;
  return out;
}

/**
 * JSON.stringify for a route's answers. The schema stays for validation of tests and the OpenAPI
 * document; fastify's schema-compiled serializer is several times slower than V8's own
 * JSON.stringify on nested task records (docs/benchmarks.md, task queries).
 */
const plainJson = () => (data: unknown) => JSON.stringify(data);

export function registerTaskRoutes(app: ApiInstance, deps: ApiDeps): void {
  const { default_page_size: defaultLimit, max_page_size: maxLimit, search_result_cap: searchCap } = deps.config.api;
  const querystring = Type.Object(
    {
      ...taskFilterProps,
      sort: Type.Optional(StringEnum(SORT_FIELDS, { default: 'id', description: 'Sort key (ties broken by id)' })),
      order: Type.Optional(StringEnum(['asc', 'desc'] as const, { default: 'desc' })),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: maxLimit, default: defaultLimit, description: `Page size, 1..${maxLimit}` })),
      offset: Type.Optional(Type.Integer({ minimum: 0, default: 0, description: 'Items to skip' })),
    },
    { additionalProperties: false },
  );

  app.get(
    '/api/v1/tasks',
    {
      preValidation: checkQuery(querystring),
      serializerCompiler: plainJson,
      schema: {
        tags: ['tasks'],
        summary: 'List and search tasks',
        description:
          `Tasks matching every given filter (values within one filter are alternatives). Without state and phase, each kind's default states apply; state=ALL lifts them. ` +
          `With q, items carry matches and results are capped at ${searchCap} (truncated says so; total counts every hit). Sorted by id descending unless told otherwise.`,
        querystring,
        response: {
          200: Type.Object({
            total: Type.Integer({ description: 'Matching tasks before paging' }),
            offset: Type.Integer(),
            limit: Type.Integer(),
            truncated: Type.Boolean({ description: `True when a search matched more than ${searchCap} tasks and only the first ${searchCap} can be paged through` }),
            items: Type.Array(TaskSummarySchema),
          }, { description: 'A page of matching tasks' }),
          400: errorResponses[400],
        },
      },
    },
    async (request) => {
      const { sort, order, limit = defaultLimit, offset = 0, ...filters } = request.query;
      const query = toTaskQuery(filters);
      const result = deps.store.queryTasks({ ...query, sort: sort ?? 'id', order: order ?? 'desc', limit, offset });
      return { total: result.total, offset, limit, truncated: result.truncated, items: result.items.map((hit) => taskSummary(hit.task, hit.matches)) };
    },
  );

  const params = Type.Object({
    source: Type.String({ description: 'Source instance name' }),
    id: Type.String({ description: 'Task id within the source' }),
  });
  app.get(
    '/api/v1/tasks/:source/:id',
    {
      preValidation: checkQuery(undefined),
      schema: {
        tags: ['tasks'],
        summary: 'One task, with its upstream record',
        description: 'The task as in the list, plus native: the upstream record as the upstream serves it (girar: girar task show --json).',
        params,
        response: { 200: { ...TaskDetailSchema, description: 'The task' }, 404: errorResponses[404] },
      },
    },
    async (request) => {
      const { source, id } = request.params;
      const task = deps.store.getTask(source, id);
      if (task) return { ...task, native: task.native ?? null };
      const sources = knownSources(deps);
      if (!sources.includes(source)) {
        throw notFound(`source ${source} not found; known sources: ${sources.length > 0 ? sources.join(', ') : '(none)'}`);
      }
      throw notFound(`task ${id} not found in source ${source}`);
    },
  );
}
