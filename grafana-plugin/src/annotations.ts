/**
 * Task events as annotations on time-series panels: tasks that reached a terminal phase (default
 * failed and success) in the dashboard's time range, one annotation each at its `finished` time,
 * titled with its state, owner and repo.
 *
 * The annotation's query is a tasks query (so the standard query editor edits its filters and
 * phases); `query()` runs it against `/api/v1/tasks` with the time range on `updated` (a task's
 * `updated` is at or after its `finished`), and `processEvents` turns the tasks frame into
 * annotation events, keeping the tasks whose `finished` time falls in the range.
 */
import { dateTime, type AnnotationEvent, type AnnotationQuery, type AnnotationSupport, type DataFrame, type TimeRange } from '@grafana/data';
import { of } from 'rxjs';
import { migrateQuery, toList } from './migrations.js';
import { PHASE_COLORS } from './frames.js';
import type { BuildscopeQuery, TasksQuery } from './types.js';

/** Phases that mark an annotation when no phase is chosen. */
export const DEFAULT_ANNOTATION_PHASES = ['failed', 'success'];
export const ANNOTATION_REF_ID = 'Anno';
/** The most tasks one annotation query asks for (the exporter's max page size). */
export const ANNOTATION_LIMIT = 1000;

/** The tasks query an annotation runs: its filters, the phases, newest updates first. */
export function annotationTarget(target: Partial<BuildscopeQuery> | Record<string, unknown> | undefined): TasksQuery {
  const migrated = migrateQuery({ refId: ANNOTATION_REF_ID, ...(target ?? {}), queryType: 'tasks' });
  const q = { ...migrated } as TasksQuery;
  if (!q.phase?.length) q.phase = [...DEFAULT_ANNOTATION_PHASES];
  q.sort = 'updated';
  q.order = 'desc';
  q.limit = ANNOTATION_LIMIT;
  q.useTimeRange = true;
  return q;
}

/**
 * A saved annotation as the current shape. Version 0 kept the filters on the annotation itself
 * (`phases`, `source`, `repo`, ... next to `name`, `enable`, `iconColor`) rather than in `target`.
 */
export function prepareAnnotation(json: AnnotationQuery<BuildscopeQuery> & Record<string, unknown>): AnnotationQuery<BuildscopeQuery> {
  const legacy: Record<string, unknown> = {};
  for (const key of ['source', 'sources', 'kind', 'state', 'states', 'repo', 'repos', 'owner', 'owners', 'arch', 'q', 'query']) {
    if (json[key] !== undefined && typeof json[key] !== 'object') legacy[key] = json[key];
    else if (Array.isArray(json[key])) legacy[key] = json[key];
  }
  const phases = toList(json.phases ?? json.phase);
  if (phases) legacy.phase = phases;
  const target = annotationTarget({ ...legacy, ...(json.target ?? {}) });
  const out: AnnotationQuery<BuildscopeQuery> & Record<string, unknown> = { ...json, target };
  for (const key of [...Object.keys(legacy), 'phases']) delete out[key];
  return out;
}

function column(frame: DataFrame, name: string): unknown[] | undefined {
  const field = frame.fields.find((f) => f.name === name);
  return field ? Array.from(field.values as ArrayLike<unknown>) : undefined;
}

/**
 * Text for the annotation's HTML `text`. The upstream URL is used as it is (it is already a URL:
 * `encodeURI` would turn its `%XX` escapes into `%25XX`), only escaped for the attribute.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Annotation events for the tasks frames' finished tasks (within `range` when given). */
export function tasksToAnnotations(frames: DataFrame[], range?: TimeRange): AnnotationEvent[] {
  const from = range?.from.valueOf();
  const to = range?.to.valueOf();
  const out: AnnotationEvent[] = [];
  for (const frame of frames) {
    const finished = column(frame, 'finished');
    const ids = column(frame, 'id');
    if (!finished || !ids) continue;
    const get = (name: string) => column(frame, name) ?? [];
    const [sources, states, phases, owners, repos, messages, urls] = ['source', 'state', 'phase', 'owner', 'repo', 'message', 'url'].map(get) as unknown[][];
    for (let i = 0; i < ids.length; i++) {
      const time = finished[i];
      if (typeof time !== 'number') continue;
      if ((from !== undefined && time < from) || (to !== undefined && time > to)) continue;
      const str = (col: unknown[] | undefined) => (typeof col?.[i] === 'string' ? (col[i] as string) : '');
      const [source, state, phase, owner, repo, message, url] = [sources, states, phases, owners, repos, messages, urls].map(str) as string[];
      const id = String(ids[i]);
      const title = [state, owner, repo].filter(Boolean).join(' · ');
      const lines = [escapeHtml(`${source} task ${id}${message ? `: ${message}` : ''}`)];
      if (url) lines.push(`<a href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">upstream page</a>`);
      const event: AnnotationEvent = {
        time,
        title,
        text: lines.join('<br/>'),
        tags: [source, phase, state, repo, owner].filter((t): t is string => Boolean(t)),
      };
      const color = PHASE_COLORS[phase ?? ''];
      if (color) event.color = color;
      out.push(event);
    }
  }
  return out.sort((a, b) => (a.time ?? 0) - (b.time ?? 0));
}

export function createAnnotationSupport(): AnnotationSupport<BuildscopeQuery> {
  return {
    getDefaultQuery: () => annotationTarget({ refId: ANNOTATION_REF_ID }),
    prepareAnnotation: (json) => prepareAnnotation(json as AnnotationQuery<BuildscopeQuery> & Record<string, unknown>),
    prepareQuery: (anno) => (anno.enable === false ? undefined : annotationTarget(anno.target)),
    processEvents: (_anno, frames) => of(tasksToAnnotations(frames, rangeOf(frames))),
  };
}

/** The time range a tasks frame was asked for (the datasource puts it in meta.custom), as a TimeRange for the filter. */
export function rangeOf(frames: DataFrame[]): TimeRange | undefined {
  const custom = frames[0]?.meta?.custom;
  const from = custom?.rangeFrom;
  const to = custom?.rangeTo;
  if (typeof from !== 'number' || typeof to !== 'number') return undefined;
  return { from: dateTime(from), to: dateTime(to), raw: { from: dateTime(from), to: dateTime(to) } };
}
