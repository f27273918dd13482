/**
 * The datasource's query model and settings. Queries are a discriminated union on `queryType`;
 * saved queries from older versions are brought to this shape by `migrateQuery` (migrations.ts).
 */
import type { DataQuery, DataSourceJsonData } from '@grafana/schema';

/** Bumped when the saved query shape changes; `migrateQuery` upgrades older ones. */
export const QUERY_VERSION = 1;

/** Task filters the exporter's `/api/v1/tasks` and `/api/v1/summary` take. Each may hold template variables and several values. */
export interface TaskFilters {
  source?: string[];
  kind?: string[];
  state?: string[];
  phase?: string[];
  repo?: string[];
  owner?: string[];
  arch?: string[];
  /** Full-text search (taskoteka semantics: space-separated terms, all must match). */
  q?: string;
}

export const FILTER_FIELDS = ['source', 'kind', 'state', 'phase', 'repo', 'owner', 'arch'] as const;
export type FilterField = (typeof FILTER_FIELDS)[number];

/** Fields `/api/v1/summary?by=` and `/api/v1/values/{field}` accept. */
export const SUMMARY_FIELDS = FILTER_FIELDS;

interface QueryBase extends DataQuery {
  /** Saved-query version; absent on queries saved before versioning (version 0). */
  version?: number;
}

/** A table of tasks; the dashboard time range filters by `updated`. */
export interface TasksQuery extends QueryBase, TaskFilters {
  queryType: 'tasks';
  /** Sort key and order (exporter defaults: id, desc). */
  sort?: 'id' | 'updated' | 'created' | 'state_since';
  order?: 'asc' | 'desc';
  /** Rows asked for (1..1000, default 100). */
  limit?: number;
  /** Filter by the dashboard time range on `updated` (default true). */
  useTimeRange?: boolean;
}

/** One task's subtasks x arch build-status matrix and approvals. */
export interface TaskDetailQuery extends QueryBase {
  queryType: 'task';
  source: string;
  id: string;
}

/** Task counts by one field, for stat, bar and pie panels. */
export interface SummaryQuery extends QueryBase, TaskFilters {
  queryType: 'summary';
  by: FilterField;
}

export interface WorkersQuery extends QueryBase {
  queryType: 'workers';
  source?: string[];
}

export interface JobsQuery extends QueryBase {
  queryType: 'jobs';
  source?: string[];
}

/** A live stream of task events (SSE), shown as a circular frame. */
export interface EventsQuery extends QueryBase {
  queryType: 'events';
  source?: string[];
  /** Event types (`task_new`, `task_updated`, `task_removed`, `worker_*`, `job_*`); empty = all. */
  types?: string[];
  /** Rows kept in the circular frame (default 1000). */
  maxRows?: number;
}

export type BuildscopeQuery = TasksQuery | TaskDetailQuery | SummaryQuery | WorkersQuery | JobsQuery | EventsQuery;
export type QueryType = BuildscopeQuery['queryType'];
export const QUERY_TYPES: readonly QueryType[] = ['tasks', 'task', 'summary', 'workers', 'jobs', 'events'];

export const DEFAULT_QUERY: Partial<BuildscopeQuery> = { queryType: 'tasks', version: QUERY_VERSION };

/** Stored in the datasource's jsonData. */
export interface BuildscopeOptions extends DataSourceJsonData {
  /** The exporter's base URL (e.g. http://exporter:10870); the data proxy route forwards to it. */
  url?: string;
}

/** Stored in secureJsonData: never sent back to the browser. */
export interface BuildscopeSecureOptions {
  /** Bearer token the data proxy adds for the exporter's /api/ (optional). */
  token?: string;
}

/** A template variable query (metricFindQuery / CustomVariableSupport). */
export interface VariableQuery {
  /** Which distinct values: `/api/v1/values/{field}`. */
  field: FilterField;
  /** Restrict to these sources (may hold variables). */
  source?: string;
}

/** Annotation query: task events as annotations on time-series panels. */
export interface AnnotationQuery extends TaskFilters {
  /** Phases whose entry marks an annotation (default: failed, success). */
  phases?: string[];
}

// ---------------------------------------------------------------------------------------------
// The exporter's JSON (docs/api.md), as the plugin reads it.

export interface ArchResult {
  arch: string;
  status: string;
  phase: string;
}

export interface Approval {
  by: string;
  verdict: 'approved' | 'disapproved';
  at?: string;
  comment?: string;
}

export interface Subtask {
  id: string;
  type: string;
  package?: string;
  label?: string;
  owner?: string;
  archs: ArchResult[];
  approvedBy?: string[];
  disapprovedBy?: string[];
  approvals?: Approval[];
  fields?: Record<string, string>;
}

export interface ExporterTask {
  source: string;
  kind: string;
  id: string;
  state: string;
  phase: string;
  owner?: string;
  repo?: string;
  message?: string;
  created?: string;
  started?: string;
  finished?: string;
  updated?: string;
  stateSince?: string;
  archs: string[];
  subtasks: Subtask[];
  url?: string;
  attrs?: Record<string, string | number | boolean>;
  /** Search hits only. */
  matches?: string[];
}

export interface TaskPage {
  total: number;
  offset: number;
  limit: number;
  truncated: boolean;
  items: ExporterTask[];
}

export interface SummaryResponse {
  by: string;
  total: number;
  rows: { value: string; count: number }[];
}

export interface ExporterEvent {
  seq: number;
  at: string;
  type: string;
  source: string;
  kind: string;
  id: string;
  state?: string;
  phase?: string;
  prev_state?: string;
  prev_phase?: string;
  owner?: string;
  repo?: string;
}

export interface SourceInfo {
  name: string;
  kind: string;
  up: boolean;
  last_error: { code: string; message: string } | null;
}
