/**
 * Workers, jobs and the live events frame. A worker or job field the upstream does not report is
 * absent in the exporter's JSON and null here.
 */
import { CircularDataFrame, createDataFrame, FieldType, type DataFrame, type FieldConfig } from '@grafana/data';
import { toMs, UPSTREAM_LINK_URL, type FieldSpec } from './frames.js';
import type { ExporterEvent } from './types.js';

/** `/api/v1/workers` items as the plugin reads them (docs/api.md, "Workers and jobs"). */
export interface ExporterWorker {
  source: string;
  kind: string;
  id: string;
  name?: string;
  up?: boolean;
  enabled?: boolean;
  busy?: boolean;
  archs?: string[];
  capacity?: number;
  load?: number;
  queueLength?: number;
  cpuCores?: number;
  loadAverage?: number;
  cpuUsageRatio?: number;
  memoryUsedBytes?: number;
  memoryTotalBytes?: number;
  diskUsedBytes?: number;
  diskTotalBytes?: number;
  currentTask?: string;
  version?: string;
  health?: string;
  lastSeen?: string;
  lastError?: { message: string; at?: string } | null;
  labels?: Record<string, string>;
  url?: string;
}

/** `/api/v1/jobs` items. */
export interface ExporterJob {
  source: string;
  kind: string;
  id: string;
  name?: string;
  jobType?: string;
  status?: string;
  paused?: boolean;
  lastRun?: string;
  nextRun?: string;
  intervalSeconds?: number;
  schedule?: string;
  overdue?: boolean;
  logRetention?: number;
  lastRunCounter?: number;
  description?: string;
  url?: string;
}

const LINK = [{ title: 'Open upstream page', url: UPSTREAM_LINK_URL, targetBlank: true }];
const HIDDEN = { custom: { hidden: true, hideFrom: { viz: true, legend: true, tooltip: true } } };

function spec<T>(items: T[], name: string, type: FieldType, get: (item: T) => unknown, config?: FieldConfig): FieldSpec {
  return {
    name,
    type,
    values: items.map((item) => {
      const v = get(item);
      return v === undefined ? null : v;
    }),
    ...(config ? { config } : {}),
  };
}

export function workersFrame(items: ExporterWorker[], refId: string): DataFrame {
  const S = FieldType.string;
  const N = FieldType.number;
  const B = FieldType.boolean;
  return createDataFrame({
    refId,
    name: 'workers',
    fields: [
      spec(items, 'source', S, (w) => w.source),
      spec(items, 'kind', S, (w) => w.kind),
      spec(items, 'id', S, (w) => w.id, { description: 'Worker id (the `worker` metric label)' }),
      spec(items, 'name', S, (w) => w.name, { links: LINK }),
      spec(items, 'up', B, (w) => w.up, { description: 'It answered its last poll' }),
      spec(items, 'enabled', B, (w) => w.enabled),
      spec(items, 'busy', B, (w) => w.busy),
      spec(items, 'health', S, (w) => w.health),
      spec(items, 'archs', S, (w) => w.archs?.join(', ')),
      spec(items, 'load', N, (w) => w.load, { description: 'Tasks it runs now' }),
      spec(items, 'capacity', N, (w) => w.capacity, { description: 'Tasks it runs at once at most' }),
      spec(items, 'queue', N, (w) => w.queueLength),
      spec(items, 'current task', S, (w) => w.currentTask),
      spec(items, 'cpu cores', N, (w) => w.cpuCores),
      spec(items, 'load average', N, (w) => w.loadAverage, { description: '1-minute load average', decimals: 2 }),
      spec(items, 'cpu usage', N, (w) => w.cpuUsageRatio, { unit: 'percentunit', min: 0, max: 1 }),
      spec(items, 'memory used', N, (w) => w.memoryUsedBytes, { unit: 'bytes' }),
      spec(items, 'memory total', N, (w) => w.memoryTotalBytes, { unit: 'bytes' }),
      spec(items, 'disk used', N, (w) => w.diskUsedBytes, { unit: 'bytes' }),
      spec(items, 'disk total', N, (w) => w.diskTotalBytes, { unit: 'bytes' }),
      spec(items, 'version', S, (w) => w.version),
      spec(items, 'last seen', FieldType.time, (w) => toMs(w.lastSeen), { description: 'When it last answered' }),
      spec(items, 'last error', S, (w) => w.lastError?.message, { description: 'Why it is down, or which request failed' }),
      spec(items, 'labels', S, (w) => (w.labels ? Object.entries(w.labels).map(([k, v]) => `${k}=${v}`).join(', ') : undefined)),
      spec(items, 'url', S, (w) => w.url, HIDDEN),
    ],
    meta: { preferredVisualisationType: 'table' },
  });
}

export function jobsFrame(items: ExporterJob[], refId: string): DataFrame {
  const S = FieldType.string;
  const N = FieldType.number;
  const B = FieldType.boolean;
  return createDataFrame({
    refId,
    name: 'jobs',
    fields: [
      spec(items, 'source', S, (j) => j.source),
      spec(items, 'kind', S, (j) => j.kind),
      spec(items, 'id', S, (j) => j.id, { description: 'Job id (the `karajo_job` metric label); its runs are tasks with repo = this id' }),
      spec(items, 'name', S, (j) => j.name, { links: LINK }),
      spec(items, 'type', S, (j) => j.jobType),
      spec(items, 'status', S, (j) => j.status, { description: 'The upstream word (karajo leaves it empty after a resume)' }),
      spec(items, 'paused', B, (j) => j.paused),
      spec(items, 'overdue', B, (j) => j.overdue, { description: 'Next run more than one interval late while neither paused nor running' }),
      spec(items, 'last run', FieldType.time, (j) => toMs(j.lastRun)),
      spec(items, 'next run', FieldType.time, (j) => toMs(j.nextRun)),
      spec(items, 'interval', N, (j) => j.intervalSeconds, { unit: 's' }),
      spec(items, 'schedule', S, (j) => j.schedule),
      spec(items, 'runs', N, (j) => j.lastRunCounter, { description: 'Counter of the last run' }),
      spec(items, 'log retention', N, (j) => j.logRetention),
      spec(items, 'description', S, (j) => j.description),
      spec(items, 'url', S, (j) => j.url, HIDDEN),
    ],
    meta: { preferredVisualisationType: 'table' },
  });
}

/** The columns of the events frame, in order; `time` is the event's `at`. */
export const EVENT_COLUMNS = ['time', 'seq', 'type', 'source', 'kind', 'id', 'state', 'phase', 'prev_state', 'prev_phase', 'owner', 'repo'] as const;

/** An empty circular frame for a live events query: the newest `capacity` events, oldest first. */
export function newEventsFrame(refId: string, capacity: number): CircularDataFrame {
  const frame = new CircularDataFrame({ append: 'tail', capacity });
  frame.refId = refId;
  frame.name = 'events';
  for (const name of EVENT_COLUMNS) {
    const type = name === 'time' ? FieldType.time : name === 'seq' ? FieldType.number : FieldType.string;
    frame.addField({ name, type, config: name === 'seq' ? { description: 'Event sequence number (the SSE id)' } : {} });
  }
  frame.meta = { preferredVisualisationType: 'table' };
  return frame;
}

export function appendEvent(frame: CircularDataFrame, event: ExporterEvent): void {
  frame.add({
    time: toMs(event.at) ?? Date.now(),
    seq: event.seq,
    type: event.type,
    source: event.source,
    kind: event.kind,
    id: event.id,
    state: event.state ?? null,
    phase: event.phase ?? null,
    prev_state: event.prev_state ?? null,
    prev_phase: event.prev_phase ?? null,
    owner: event.owner ?? null,
    repo: event.repo ?? null,
  });
}
