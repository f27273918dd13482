/**
 * Saved queries from older versions of the plugin, brought to the current `BuildscopeQuery` shape.
 *
 * Version 0 is every query saved without `version`: the first drafts of the plugin, and queries
 * written by hand in provisioned dashboards. Their shapes:
 * - no `queryType` (a tasks table), or `queryType` `"search"` (tasks with a full-text `q`,
 *   which version 0 also called `query`, `search` or `text`), `"detail"` / `"taskDetail"` (the
 *   task detail), `"counts"` (summary), `"stream"` / `"live"` (events);
 * - filters as comma-separated strings (`"source": "alt,beta"`) or under plural names (`sources`,
 *   `states`, `phases`, `repos`, `owners`, `kinds`, `archs`, `arches`);
 * - task detail with `taskId` / `task` instead of `id`, a numeric id, or `"source/id"` in one field;
 * - summary with `groupBy` / `field` instead of `by`;
 * - events with `eventTypes` / `type` instead of `types`, `limit` / `capacity` instead of `maxRows`;
 * - tasks with `timeFilter` / `filterByTime` instead of `useTimeRange`, numbers as strings.
 *
 * `migrateQuery` is idempotent and keeps Grafana's own keys (refId, hide, key, datasource,
 * queryType) and drops keys the query type does not know.
 */
import { FILTER_FIELDS, QUERY_TYPES, QUERY_VERSION, type BuildscopeQuery, type FilterField, type QueryType, type VariableQuery } from './types.js';

type Loose = Record<string, unknown>;

const TYPE_ALIASES: Record<string, QueryType> = {
  tasks: 'tasks',
  table: 'tasks',
  search: 'tasks',
  task: 'task',
  detail: 'task',
  taskdetail: 'task',
  task_detail: 'task',
  summary: 'summary',
  counts: 'summary',
  workers: 'workers',
  jobs: 'jobs',
  events: 'events',
  stream: 'events',
  live: 'events',
};

const PLURALS: Record<FilterField, string[]> = {
  source: ['sources'],
  kind: ['kinds'],
  state: ['states'],
  phase: ['phases'],
  repo: ['repos', 'repositories'],
  owner: ['owners', 'users', 'user'],
  arch: ['archs', 'arches', 'architectures'],
};

const SORTS = ['id', 'updated', 'created', 'state_since'] as const;

/** A list from a string list, a comma-separated string, or a number; undefined when empty. */
export function toList(value: unknown): string[] | undefined {
  let items: unknown[];
  if (Array.isArray(value)) items = value;
  else if (typeof value === 'string') items = value.split(',');
  else if (typeof value === 'number' && Number.isFinite(value)) items = [String(value)];
  else return undefined;
  const out: string[] = [];
  for (const item of items) {
    if (typeof item !== 'string' && typeof item !== 'number') continue;
    const text = String(item).trim();
    if (text && !out.includes(text)) out.push(text);
  }
  return out.length ? out : undefined;
}

function toPositiveInt(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 ? n : undefined;
}

function toBool(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return undefined;
}

function toText(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

function first(q: Loose, keys: string[]): unknown {
  for (const key of keys) if (q[key] !== undefined && q[key] !== null && q[key] !== '') return q[key];
  return undefined;
}

export function queryTypeOf(q: Loose): QueryType {
  const raw = typeof q.queryType === 'string' ? q.queryType.trim().toLowerCase().replace(/[\s-]/g, '_') : '';
  const known = TYPE_ALIASES[raw] ?? TYPE_ALIASES[raw.replace(/_/g, '')];
  if (known) return known;
  if ((QUERY_TYPES as readonly string[]).includes(raw)) return raw as QueryType;
  return 'tasks';
}

/** Grafana's keys, kept as they are. */
function base(q: Loose): Loose {
  const out: Loose = { refId: typeof q.refId === 'string' && q.refId ? q.refId : 'A' };
  for (const key of ['hide', 'key', 'datasource', 'queryType']) if (q[key] !== undefined) out[key] = q[key];
  return out;
}

function filters(q: Loose, out: Loose): void {
  for (const field of FILTER_FIELDS) {
    const list = toList(first(q, [field, ...PLURALS[field]]));
    if (list) out[field] = list;
  }
  const text = toText(first(q, ['q', 'query', 'search', 'text']));
  if (text) out.q = text;
}

function sources(q: Loose, out: Loose): void {
  const list = toList(first(q, ['source', 'sources']));
  if (list) out.source = list;
}

/** The current shape of any saved query (see the module comment). */
export function migrateQuery(saved: Partial<BuildscopeQuery> | Loose): BuildscopeQuery {
  const q = saved as Loose;
  if (q.version === QUERY_VERSION && typeof q.queryType === 'string' && (QUERY_TYPES as readonly string[]).includes(q.queryType)) {
    return saved as BuildscopeQuery;
  }
  const type = queryTypeOf(q);
  const out = base(q);
  out.queryType = type;
  switch (type) {
    case 'tasks': {
      filters(q, out);
      const sort = first(q, ['sort', 'sortBy', 'orderBy']);
      if (typeof sort === 'string' && (SORTS as readonly string[]).includes(sort === 'stateSince' ? 'state_since' : sort)) out.sort = sort === 'stateSince' ? 'state_since' : sort;
      const order = typeof q.order === 'string' ? q.order.toLowerCase() : undefined;
      if (order === 'asc' || order === 'desc') out.order = order;
      const limit = toPositiveInt(first(q, ['limit', 'size', 'pageSize']));
      if (limit !== undefined) out.limit = Math.min(limit, 1000);
      const useTime = toBool(first(q, ['useTimeRange', 'timeFilter', 'filterByTime']));
      if (useTime !== undefined) out.useTimeRange = useTime;
      break;
    }
    case 'summary': {
      filters(q, out);
      const by = first(q, ['by', 'groupBy', 'field']);
      const field = typeof by === 'string' ? fieldOf(by) : undefined;
      out.by = field ?? 'state';
      break;
    }
    case 'task': {
      const rawSource = first(q, ['source', 'sources']);
      let source = toText(Array.isArray(rawSource) ? rawSource[0] : rawSource);
      let id = toText(first(q, ['id', 'taskId', 'task']));
      if (source?.includes(',')) source = source.split(',')[0]!.trim();
      // "alt/411523" in the id field (version 0 allowed that).
      if (id && !source && /^[^/\s]+\/[^/\s]+$/.test(id)) [source, id] = id.split('/') as [string, string];
      out.source = source ?? '';
      out.id = id ?? '';
      break;
    }
    case 'workers':
    case 'jobs':
      sources(q, out);
      break;
    case 'events': {
      sources(q, out);
      const types = toList(first(q, ['types', 'eventTypes', 'type']));
      if (types) out.types = types;
      const maxRows = toPositiveInt(first(q, ['maxRows', 'limit', 'capacity']));
      if (maxRows !== undefined) out.maxRows = maxRows;
      break;
    }
  }
  out.version = QUERY_VERSION;
  return out as unknown as BuildscopeQuery;
}

/** A filter field from its name, a plural or an alias (`arches`, `repos`, `users`); undefined when unknown. */
export function fieldOf(name: string): FilterField | undefined {
  const n = name.trim().toLowerCase();
  if ((FILTER_FIELDS as readonly string[]).includes(n)) return n as FilterField;
  return FILTER_FIELDS.find((f) => PLURALS[f].includes(n));
}

/**
 * A template variable's saved query as a VariableQuery. Version 0 saved a string: a field name
 * or plural (`repos`), optionally with a source (`repo?source=alt`, `repos(alt)`, `values(repo)`);
 * objects may name the field `values` or `type`. Undefined when no field can be made out.
 */
export function migrateVariableQuery(saved: unknown): VariableQuery | undefined {
  if (typeof saved === 'string') {
    const text = saved.trim();
    const m = /^(?:values\()?\s*([a-z_]+)\s*\)?\s*(?:\?source=([^&\s]+)|\(\s*([^)\s]+)\s*\))?$/i.exec(text);
    const field = m ? fieldOf(m[1]!) : undefined;
    if (!field) return undefined;
    const source = m?.[2] ?? m?.[3];
    return source ? { field, source: decodeURIComponent(source) } : { field };
  }
  if (!saved || typeof saved !== 'object') return undefined;
  const q = saved as Loose;
  const name = first(q, ['field', 'values', 'type']);
  const field = typeof name === 'string' ? fieldOf(name) : undefined;
  if (!field) return typeof q.query === 'string' ? migrateVariableQuery(q.query) : undefined;
  const source = toText(q.source);
  return source ? { field, source } : { field };
}
