/**
 * The buildscope datasource: a frontend-only datasource that reads the exporter's JSON API through
 * Grafana's data proxy (plugin.json `routes`), and its event stream through one shared SSE
 * connection per datasource instance.
 */
import {
  DataSourceApi,
  LoadingState,
  type DataQueryError,
  type DataQueryRequest,
  type DataQueryResponse,
  type DataSourceInstanceSettings,
  type MetricFindValue,
  type ScopedVars,
} from '@grafana/data';
import { config } from '@grafana/runtime';
import { catchError, from, map, merge, Observable, of } from 'rxjs';
import { createAnnotationSupport } from './annotations.js';
import { ExporterApi, type Params } from './api.js';
import { noTaskPickedFrame, taskDetailFrames, summaryFrame, tasksFrame } from './frames.js';
import { appendEvent, jobsFrame, newEventsFrame, workersFrame, type ExporterJob, type ExporterWorker } from './frames-ops.js';
import { checkExporter, type HealthResult } from './health.js';
import { migrateQuery, migrateVariableQuery } from './migrations.js';
import { EventStreamHub } from './stream.js';
import {
  DEFAULT_QUERY,
  type BuildscopeOptions,
  type BuildscopeQuery,
  type EventsQuery,
  type ExporterTask,
  type FilterField,
  type SummaryResponse,
  type TaskPage,
  type TasksQuery,
  type VariableQuery,
} from './types.js';
import { BuildscopeVariableSupport, EXPORTER_ALL, filterParams, interpolateList, interpolateText, sourceParam, type VariableEditor } from './variables.js';

/** Rows a live events frame keeps when the query does not say. */
export const DEFAULT_MAX_ROWS = 1000;
/** A burst of events (a replay after a reconnect) becomes one panel update per this many ms. */
export const STREAM_THROTTLE_MS = 100;

export function toQueryError(err: unknown, refId: string): DataQueryError {
  const e = err as { message?: unknown; status?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(err);
  return { message, refId, ...(typeof e?.status === 'number' && e.status > 0 ? { status: e.status } : {}) };
}

export class DataSource extends DataSourceApi<BuildscopeQuery, BuildscopeOptions> {
  readonly api: ExporterApi;
  /** The exporter URL as configured (jsonData.url): where the data proxy forwards to. */
  readonly exporterUrl: string | undefined;
  private hub: EventStreamHub | undefined;

  constructor(instanceSettings: DataSourceInstanceSettings<BuildscopeOptions>, variableEditor?: VariableEditor) {
    super(instanceSettings);
    this.api = new ExporterApi(instanceSettings.url ?? '');
    this.exporterUrl = instanceSettings.jsonData?.url;
    this.annotations = createAnnotationSupport();
    this.variables = new BuildscopeVariableSupport(this, variableEditor);
  }

  override getDefaultQuery(): Partial<BuildscopeQuery> {
    return DEFAULT_QUERY;
  }

  override filterQuery(query: BuildscopeQuery): boolean {
    return !query.hide;
  }

  /** The shared event stream, created on first use (one per datasource instance). */
  get eventHub(): EventStreamHub {
    if (!this.hub) {
      const orgId = (config as { bootData?: { user?: { orgId?: number } } }).bootData?.user?.orgId;
      this.hub = new EventStreamHub({ url: this.api.baseUrl, ...(orgId ? { headers: { 'X-Grafana-Org-Id': String(orgId) } } : {}) });
    }
    return this.hub;
  }

  /** Whether the event hub exists yet (it is created by the first events query). */
  get hasEventHub(): boolean {
    return this.hub !== undefined;
  }

  query(request: DataQueryRequest<BuildscopeQuery>): Observable<DataQueryResponse> {
    const targets = request.targets.filter((t) => !t.hide).map((t) => migrateQuery(t));
    if (targets.length === 0) return of({ data: [], state: LoadingState.Done });
    return merge(...targets.map((t) => (t.queryType === 'events' ? this.streamEvents(t, request) : this.runOnce(t, request))));
  }

  private runOnce(target: BuildscopeQuery, request: DataQueryRequest<BuildscopeQuery>): Observable<DataQueryResponse> {
    return from(this.frames(target, request)).pipe(
      map((data): DataQueryResponse => ({ data, key: target.refId, state: LoadingState.Done })),
      catchError((err: unknown) => {
        const error = toQueryError(err, target.refId);
        return of<DataQueryResponse>({ data: [], key: target.refId, state: LoadingState.Error, error, errors: [error] });
      }),
    );
  }

  /** The frames of one non-streaming query. */
  async frames(target: BuildscopeQuery, request: Pick<DataQueryRequest, 'range' | 'scopedVars' | 'requestId'>) {
    const scopedVars = request.scopedVars;
    const options = request.requestId ? { requestId: `${request.requestId}-${target.refId}` } : {};
    switch (target.queryType) {
      case 'tasks': {
        const params = this.tasksParams(target, request);
        const page = await this.api.get<TaskPage>('/api/v1/tasks', params, options);
        const frame = tasksFrame(page, target.refId, Date.now(), typeof params.q === 'string');
        // The range asked for, so annotations can keep the tasks that finished inside it (the filter is on `updated`).
        if (target.useTimeRange !== false && request.range) frame.meta = { ...frame.meta, custom: { ...frame.meta?.custom, rangeFrom: request.range.from.valueOf(), rangeTo: request.range.to.valueOf() } };
        return [frame];
      }
      case 'task': {
        const source = interpolateText(target.source, scopedVars);
        const id = interpolateText(target.id, scopedVars);
        // A dashboard whose task variable is still empty is not an error: an empty frame that
        // says what to pick, as Grafana shows "No data" until a variable is set.
        if (!source || !id) return [noTaskPickedFrame(target.refId)];
        const task = await this.api.get<ExporterTask>(`/api/v1/tasks/${encodeURIComponent(source)}/${encodeURIComponent(id)}`, undefined, options);
        return taskDetailFrames(task, target.refId, Date.now());
      }
      case 'summary': {
        const params: Params = { ...filterParams(target, scopedVars), by: target.by ?? 'state' };
        return [summaryFrame(await this.api.get<SummaryResponse>('/api/v1/summary', params, options), target.refId)];
      }
      case 'workers': {
        const res = await this.api.get<{ items: ExporterWorker[] }>('/api/v1/workers', { source: sourceParam(target.source, scopedVars) }, options);
        return [workersFrame(res.items ?? [], target.refId)];
      }
      case 'jobs': {
        const res = await this.api.get<{ items: ExporterJob[] }>('/api/v1/jobs', { source: sourceParam(target.source, scopedVars) }, options);
        return [jobsFrame(res.items ?? [], target.refId)];
      }
      case 'events':
        throw new Error('events queries stream; use query()');
    }
  }

  /** `/api/v1/tasks` parameters: the filters, sort, limit, and the time range on `updated` (Unix seconds). */
  tasksParams(target: TasksQuery, request: Pick<DataQueryRequest, 'range' | 'scopedVars'>): Params {
    const params: Params = filterParams(target, request.scopedVars);
    if (target.sort) params.sort = target.sort;
    if (target.order) params.order = target.order;
    if (target.limit) params.limit = Math.min(Math.max(1, Math.floor(target.limit)), 1000);
    if (target.useTimeRange !== false && request.range) {
      params.updated_since = Math.floor(request.range.from.valueOf() / 1000);
      params.updated_until = Math.ceil(request.range.to.valueOf() / 1000);
    }
    return params;
  }

  /**
   * A live events query: a circular frame (the newest `maxRows` events) keyed by the refId,
   * appended on every event of the shared stream that passes the query's filters. Unsubscribing
   * (the panel goes away or re-queries) leaves the stream; the last one to leave closes it.
   */
  private streamEvents(target: EventsQuery, request: DataQueryRequest<BuildscopeQuery>): Observable<DataQueryResponse> {
    const refId = target.refId;
    const capacity = target.maxRows && target.maxRows > 0 ? Math.floor(target.maxRows) : DEFAULT_MAX_ROWS;
    const source = sourceParam(target.source, request.scopedVars);
    const types = interpolateList(target.types, request.scopedVars)?.filter((t) => t !== EXPORTER_ALL);
    const filter = { ...(source ? { source } : {}), ...(types?.length ? { types } : {}) };
    return new Observable<DataQueryResponse>((subscriber) => {
      const frame = newEventsFrame(refId, capacity);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const emit = () => {
        timer = undefined;
        subscriber.next({ data: [frame], key: refId, state: LoadingState.Streaming });
      };
      emit();
      const sub = this.eventHub.subscribe(filter).subscribe({
        next: (event) => {
          appendEvent(frame, event);
          timer ??= setTimeout(emit, STREAM_THROTTLE_MS);
        },
        error: (err: unknown) => {
          if (timer) clearTimeout(timer);
          const error = toQueryError(err, refId);
          subscriber.next({ data: [frame], key: refId, state: LoadingState.Error, error, errors: [error] });
          subscriber.complete();
        },
        complete: () => {
          if (timer) clearTimeout(timer);
          subscriber.next({ data: [frame], key: refId, state: LoadingState.Done });
          subscriber.complete();
        },
      });
      return () => {
        if (timer) clearTimeout(timer);
        sub.unsubscribe();
      };
    });
  }

  testDatasource(): Promise<HealthResult> {
    return checkExporter(this.api, this.exporterUrl ?? '');
  }

  /** Distinct values of a field (`/api/v1/values/{field}`), optionally of some sources (may hold variables). */
  async getFieldValues(field: FilterField, source?: string, scopedVars?: ScopedVars): Promise<string[]> {
    const sources = source ? sourceParam([source], scopedVars) : undefined;
    const res = await this.api.get<{ values?: unknown }>(`/api/v1/values/${encodeURIComponent(field)}`, { source: sources });
    return Array.isArray(res.values) ? res.values.filter((v): v is string => typeof v === 'string') : [];
  }

  variableValues(query: VariableQuery, scopedVars?: ScopedVars): Promise<string[]> {
    return this.getFieldValues(query.field, query.source, scopedVars);
  }

  /** The legacy variable API (also what Grafana calls for old string variable queries, e.g. `repos`). */
  override async metricFindQuery(query: unknown, options?: { scopedVars?: ScopedVars }): Promise<MetricFindValue[]> {
    const q = migrateVariableQuery(query);
    if (!q) throw new Error(`not a buildscope variable query: ${JSON.stringify(query)}; name a field (source, kind, state, phase, repo, owner, arch)`);
    const values = await this.variableValues(q, options?.scopedVars);
    return values.map((v) => ({ text: v, value: v }));
  }

  /** Queries with variables replaced (Explore, "copy to another datasource", query inspector). */
  override interpolateVariablesInQueries(queries: BuildscopeQuery[], scopedVars: ScopedVars): BuildscopeQuery[] {
    return queries.map((raw) => {
      const q = migrateQuery(raw);
      if (q.queryType === 'task') return { ...q, source: interpolateText(q.source, scopedVars), id: interpolateText(q.id, scopedVars) };
      const out: Record<string, unknown> = { ...q };
      for (const key of ['source', 'kind', 'state', 'phase', 'repo', 'owner', 'arch', 'types'] as const) {
        const list = (q as unknown as Record<string, string[] | undefined>)[key];
        if (!list) continue;
        const values = interpolateList(list, scopedVars);
        if (values) out[key] = values;
        else delete out[key];
      }
      if (typeof out.q === 'string') out.q = interpolateText(out.q, scopedVars);
      return out as unknown as BuildscopeQuery;
    });
  }

  /** Close the shared event stream (Grafana never disposes a datasource; tests do). */
  dispose(): void {
    this.hub?.close();
    this.hub = undefined;
  }
}
