/**
 * Pure helpers the editors use to keep every query they emit a valid member of the
 * `BuildscopeQuery` union: defaults for a new query, and switching the query type while keeping
 * the fields the new type understands.
 */
import type { DataQuery } from '@grafana/schema';
import {
  FILTER_FIELDS,
  QUERY_VERSION,
  type BuildscopeQuery,
  type FilterField,
  type QueryType,
  type TaskFilters,
} from '../types.js';
import { migrateQuery } from '../migrations.js';

/**
 * Event types of `/api/v1/events` (exporter/src/model/events.ts), and the `worker_*` / `job_*`
 * prefixes the stream's filter also understands (stream.ts `eventMatcher`).
 */
export const EVENT_TYPES = [
  'task_new',
  'task_updated',
  'task_removed',
  'worker_*',
  'worker_new',
  'worker_updated',
  'worker_removed',
  'job_*',
  'job_new',
  'job_updated',
  'job_removed',
] as const;

export const QUERY_TYPE_LABELS: Record<QueryType, string> = {
  tasks: 'Tasks',
  task: 'Task detail',
  summary: 'Summary',
  workers: 'Workers',
  jobs: 'Jobs',
  events: 'Events',
};

export const SORT_KEYS = ['id', 'updated', 'created', 'state_since'] as const;

export const MAX_LIMIT = 1000;

/** Grafana's own query keys, kept on every type change. */
type Common = Pick<DataQuery, 'refId' | 'hide' | 'key' | 'datasource'> & { version: number };

function common(query: Partial<DataQuery>): Common {
  const out: Common = { refId: query.refId ?? 'A', version: QUERY_VERSION };
  if (query.hide !== undefined) out.hide = query.hide;
  if (query.key !== undefined) out.key = query.key;
  if (query.datasource !== undefined) out.datasource = query.datasource;
  return out;
}

/** The sources a query names, as a list (the task detail's single source becomes a one-item list). */
function sourcesOf(query: Partial<BuildscopeQuery>): string[] | undefined {
  const source = (query as { source?: unknown }).source;
  if (typeof source === 'string') return source ? [source] : undefined;
  if (Array.isArray(source)) {
    const list = source.filter((s): s is string => typeof s === 'string' && s !== '');
    return list.length ? list : undefined;
  }
  return undefined;
}

/** The task filters a query carries (only tasks and summary queries have them). */
export function filtersOf(query: Partial<BuildscopeQuery>): TaskFilters {
  const out: TaskFilters = {};
  const source = sourcesOf(query);
  if (source) out.source = source;
  if (query.queryType !== 'tasks' && query.queryType !== 'summary') return out;
  for (const field of FILTER_FIELDS) {
    const values = query[field];
    if (field !== 'source' && Array.isArray(values) && values.length) out[field] = [...values];
  }
  if (query.q) out.q = query.q;
  return out;
}

/**
 * The query as `type`: Grafana's keys (refId, hide, datasource, key) kept, the filters the new type
 * understands kept (tasks <-> summary keep all of them; workers, jobs and events keep the sources;
 * the task detail takes the first source), everything else reset to the type's defaults.
 */
export function toQueryType(query: Partial<BuildscopeQuery>, type: QueryType): BuildscopeQuery {
  const base = common(query);
  if (query.queryType === type) return { ...query, ...base } as BuildscopeQuery;
  const filters = filtersOf(query);
  switch (type) {
    case 'tasks':
      return { ...base, ...filters, queryType: 'tasks' };
    case 'summary':
      return { ...base, ...filters, queryType: 'summary', by: 'state' };
    case 'task':
      return { ...base, queryType: 'task', source: filters.source?.[0] ?? '', id: '' };
    case 'workers':
    case 'jobs':
    case 'events':
      return filters.source ? { ...base, queryType: type, source: filters.source } : { ...base, queryType: type };
  }
}

/**
 * A query as the editor shows it: the current shape of whatever was saved (`migrateQuery`: a new
 * query without `queryType` is a tasks query; older shapes are upgraded). Current queries pass as they are.
 */
export function normalizeQuery(query: Partial<BuildscopeQuery> & Pick<DataQuery, 'refId'>): BuildscopeQuery {
  return migrateQuery(query);
}

/** Set a list field, dropping it when empty (so saved queries stay small and defaults apply). */
export function withList<Q extends object, K extends string>(query: Q, key: K, values: string[]): Q {
  const next = { ...query } as Record<string, unknown>;
  if (values.length) next[key] = values;
  else delete next[key];
  return next as Q;
}

/** Set an optional scalar field, dropping it when undefined. */
export function withValue<Q extends object, K extends string>(query: Q, key: K, value: unknown): Q {
  const next = { ...query } as Record<string, unknown>;
  if (value === undefined || value === '') delete next[key];
  else next[key] = value;
  return next as Q;
}

/** A positive integer within [1, max], or undefined for an empty field; an error message otherwise. */
export function parseCount(text: string, max: number): { value?: number; error?: string } {
  const trimmed = text.trim();
  if (trimmed === '') return {};
  if (!/^\d+$/.test(trimmed)) return { error: 'a whole number' };
  const n = Number(trimmed);
  if (n < 1 || n > max) return { error: `between 1 and ${max}` };
  return { value: n };
}

export type { FilterField };
