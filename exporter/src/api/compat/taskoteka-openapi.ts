/**
 * The OpenAPI 3.0 document served at `/compat/taskoteka/<source>/openapi.json`: taskoteka's
 * endpoints as buildscope serves them for one girar source. Written by hand because the routes
 * pass taskoteka's records through as they are (no response schema may drop or reorder a key).
 */
import { GIRAR_DEFAULT_STATES, GIRAR_STATES } from '../../sources/girar/normalize.js';
import { SEARCH_LIMITS } from '../../store/search.js';

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const str = (description?: string): Schema => ({ type: 'string', ...(description ? { description } : {}) });
const int = (description?: string): Schema => ({ type: 'integer', ...(description ? { description } : {}) });
const json = (schema: Schema, description: string): Schema => ({ description, content: { 'application/json': { schema } } });
const error = (description: string): Schema => json(ref('Error'), description);
const query = (name: string, description: string, schema: Schema = str()): Schema => ({ name, in: 'query', required: false, description, schema });
const brief = query('brief', '`true`, `1` or `yes`: answer only the task id(s), as integers');

const LIST_SUBTASK_PROPS: Record<string, Schema> = {
  dir: str('Gear repository (repo subtasks)'),
  tag_name: str(),
  srpm: str('Source package file (srpm subtasks)'),
  package: str('Package (copy and delete subtasks)'),
  copy_repo: str(),
  rebuild_from: str(),
  type: str('repo, srpm, copy or delete'),
  userid: str('Who added the subtask'),
  pkgname: str(),
  approved_by: { type: 'array', items: {} },
  disapproved_by: { type: 'array', items: {} },
};

const schemas: Record<string, Schema> = {
  Error: { type: 'object', required: ['error'], properties: { error: str('What is wrong') } },
  ListSubtask: {
    type: 'object',
    description: 'A subtask; one removed with `task delsub` is only `{userid}`.',
    properties: LIST_SUBTASK_PROPS,
  },
  TaskListItem: {
    type: 'object',
    description: 'A task as `GET /tasks` lists it, keys in this order.',
    required: ['id', 'state', 'repo', 'owner', 'created', 'age', 'test_only', 'fail_early'],
    properties: {
      id: int(),
      state: { type: 'string', enum: [...GIRAR_STATES] },
      repo: str(),
      owner: str(),
      created: str('girar server-local time without a zone, `YYYY-MM-DDTHH:MM:SS`'),
      build_time: str('girar server-local time without a zone'),
      age: int('Whole weeks since the task entered its state, computed at answer time'),
      test_only: { type: 'boolean' },
      fail_early: { type: 'boolean' },
      try: int(),
      iter: int(),
      message: str(),
      subtasks: { type: 'object', additionalProperties: ref('ListSubtask'), description: 'By subtask number' },
      matches: { type: 'array', items: str(), description: 'With q only: where each term matched, e.g. `300/pkgname:lib`, `repo:p11`' },
    },
  },
  TaskDetail: {
    type: 'object',
    description: "girar's info.json (`girar task show --json`) plus taskoteka's per-subtask version/release and per-arch `build`; keys in info.json's order.",
    required: ['taskid', 'shared', 'fail_early', 'test_only', 'repo', 'state', 'age', 'owner'],
    additionalProperties: true,
    properties: {
      updated: int('Epoch seconds info.json was generated'),
      taskid: int(),
      shared: { type: 'boolean' },
      fail_early: { type: 'boolean' },
      test_only: { type: 'boolean' },
      swift: { type: 'boolean' },
      aborted_by: str(),
      repo: str(),
      state: str(),
      try: int(),
      iter: int(),
      depends: { type: 'array', items: int() },
      age: int('Whole weeks since the task entered its state'),
      build_time: str(),
      message: str(),
      owner: str(),
      subtasks: {
        type: 'object',
        additionalProperties: {
          type: 'object',
          additionalProperties: true,
          properties: { ...LIST_SUBTASK_PROPS, version: str(), release: str(), build: { type: 'object', additionalProperties: str(), description: 'arch -> built, cached, swept, excluded or failed' } },
        },
      },
    },
  },
  Health: {
    type: 'object',
    required: ['status', 'total_tasks', 'active_tasks'],
    properties: {
      status: { type: 'string', enum: ['ok', 'starting', 'stale'] },
      total_tasks: int(),
      active_tasks: int('Tasks in any state but DONE'),
      error: str('Why the status is not ok'),
    },
  },
};

/** The document for one source served under `basePath`; `version` is the taskoteka API level served (x-api-version). */
export function taskotekaOpenApi(source: string, version: string, basePath: string): Schema {
  const stateList = GIRAR_STATES.join(', ');
  return {
    openapi: '3.0.3',
    info: {
      title: `taskoteka-compatible API of girar source ${source} (buildscope)`,
      version,
      description:
        "taskoteka's HTTP API served by buildscope from its store. Every JSON answer carries x-api-version and, once the source has been read, x-cache-age (seconds). " +
        'Errors are {"error": "..."}. Unknown query parameters are ignored.',
    },
    servers: [{ url: basePath }],
    paths: {
      '/tasks': {
        get: {
          summary: 'List tasks',
          description:
            `Tasks by id, newest first. Without state: ${GIRAR_DEFAULT_STATES.active.join(', ')}; with user or q every state but DONE. ` +
            `q: space-separated terms, all must match, case-insensitive substrings; at most ${SEARCH_LIMITS.maxChars} characters, ${SEARCH_LIMITS.maxTerms} terms, ${SEARCH_LIMITS.minTermChars} characters per term.`,
          parameters: [
            query('state', `Comma-separated states (any case): ${stateList}; ALL = every state`),
            query('repo', 'Comma-separated repositories; ALL = every repository'),
            query('user', 'Task owner; ALL = every owner'),
            brief,
            query('needs_approval', 'EPERM tasks (not test-only, not swift) that need an approval from this group', { type: 'string', enum: ['maint', 'tester'] }),
            query('q', 'Full-text search; items carry matches; cannot be combined with needs_approval'),
          ],
          responses: {
            200: json({ oneOf: [{ type: 'array', items: ref('TaskListItem') }, { type: 'array', items: int() }] }, 'The tasks (with brief: their ids)'),
            400: error('A bad parameter value'),
            503: error('needs_approval cannot be answered'),
          },
        },
      },
      '/tasks/{id}': {
        get: {
          summary: 'One task',
          description: 'The task as `girar task show --json` shows it, with age recomputed; a task that is no longer live is read from the archive on demand.',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } }, brief],
          responses: {
            200: json({ oneOf: [ref('TaskDetail'), int()] }, 'The task (with brief: its id)'),
            400: error('The id is not a positive integer'),
            404: error('No such task (`task 999999 not found`)'),
            503: error('The archive could not be read'),
          },
        },
      },
      '/events': {
        get: {
          summary: 'Task changes (Server-Sent Events)',
          description:
            'event: task_new {id, state, owner}; task_updated {id, state, prev_state, owner}; task_removed {id}; heartbeat (Unix seconds); ' +
            'reconnect {reason} before the server ends the stream. Each change carries `id:`; reconnecting with Last-Event-ID replays what was missed.',
          responses: {
            200: { description: 'The event stream', content: { 'text/event-stream': { schema: str() } } },
            429: error('Too many event streams from this client IP'),
            503: error('Too many event streams in all'),
          },
        },
      },
      '/owners': {
        get: { summary: 'Task owners', description: 'Sorted unique owners of every task.', responses: { 200: json({ type: 'array', items: str() }, 'Owners') } },
      },
      '/health': {
        get: {
          summary: 'Health and task counts',
          description: 'ok (200) while the latest poll of the source succeeded; starting or stale (503) otherwise, with the counts of the tasks still served.',
          responses: { 200: json(ref('Health'), 'Healthy'), 503: json(ref('Health'), 'Not read yet, or the latest poll failed') },
        },
      },
      '/openapi.json': {
        get: { summary: 'This document', description: 'OpenAPI 3.0 description of these endpoints.', responses: { 200: json({ type: 'object' }, 'The document') } },
      },
    },
    components: { schemas },
  };
}
