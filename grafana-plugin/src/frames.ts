/**
 * The exporter's task JSON as data frames: the tasks table, one task's subtask x arch matrix and
 * approvals, and summary counts. Workers, jobs and events are in frames-ops.ts.
 *
 * Every column is a field the exporter sent (or a count / list of them), with a description of
 * where it comes from; timestamps are time fields (Unix ms), absent values are null.
 */
import { createDataFrame, FieldType, MappingType, type DataFrame, type FieldConfig, type ValueMapping } from '@grafana/data';
import type { ExporterTask, Subtask, SummaryResponse, TaskPage } from './types.js';

export interface FieldSpec {
  name: string;
  type: FieldType;
  values: unknown[];
  config?: FieldConfig;
}

/** Unix ms of an ISO 8601 time, or null. */
export function toMs(iso: string | undefined | null): number | null {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : null;
}

/** The normalized phases, in the order a build goes through them. */
export const PHASES = ['queued', 'running', 'success', 'failed', 'canceled', 'blocked', 'unknown'] as const;

export const PHASE_COLORS: Record<string, string> = {
  queued: 'yellow',
  running: 'blue',
  success: 'green',
  failed: 'red',
  canceled: 'purple',
  blocked: 'orange',
  unknown: 'text',
};

/** Value mappings that color each phase (and, for native statuses, the phase they map to). */
export function phaseMappings(statusPhase: Map<string, string> = new Map(PHASES.map((p) => [p, p]))): ValueMapping[] {
  const options: Record<string, { color: string; index: number }> = {};
  let index = 0;
  for (const [status, phase] of statusPhase) options[status] = { color: PHASE_COLORS[phase] ?? 'text', index: index++ };
  return [{ type: MappingType.ValueToText, options }];
}

/** Hidden in tables (old and new table panels), still usable by data links. */
const HIDDEN = { custom: { hidden: true, hideFrom: { viz: true, legend: true, tooltip: true } } };

/**
 * `:raw`: Grafana interpolates data link URLs with its `UriEncode` format by default, which would
 * turn the `%XX` escapes already in an upstream URL (karajo `?id=job%20x`) into `%25XX`.
 */
export const UPSTREAM_LINK_URL = '${__data.fields.url:raw}';
const UPSTREAM_LINK = [{ title: 'Open upstream page', url: UPSTREAM_LINK_URL, targetBlank: true }];

/** "4 success, 1 failed": the subtask x arch builds of a task, by phase. */
export function buildSummary(task: ExporterTask): string {
  const counts = new Map<string, number>();
  for (const sub of task.subtasks ?? []) for (const a of sub.archs ?? []) counts.set(a.phase, (counts.get(a.phase) ?? 0) + 1);
  const order = [...PHASES, ...[...counts.keys()].filter((p) => !(PHASES as readonly string[]).includes(p))];
  return order
    .filter((p) => counts.has(p))
    .map((p) => `${counts.get(p)} ${p}`)
    .join(', ');
}

/** The arches a task builds for: its own list, then any only its subtasks name. */
export function taskArches(task: ExporterTask): string[] {
  const arches = [...(task.archs ?? [])];
  for (const sub of task.subtasks ?? []) for (const a of sub.archs ?? []) if (!arches.includes(a.arch)) arches.push(a.arch);
  return arches;
}

/** The tasks table's columns for these tasks (also the task detail's `task` frame). */
export function taskFields(tasks: ExporterTask[], now: number, withMatches = false): FieldSpec[] {
  const col = <T>(fn: (t: ExporterTask) => T) => tasks.map(fn);
  const time = (name: string, key: 'created' | 'started' | 'finished' | 'updated' | 'stateSince', description: string): FieldSpec => ({
    name,
    type: FieldType.time,
    values: col((t) => toMs(t[key])),
    config: { description },
  });
  const fields: FieldSpec[] = [
    { name: 'id', type: FieldType.string, values: col((t) => t.id), config: { description: 'Task id in its source; links to the upstream page', links: UPSTREAM_LINK } },
    { name: 'source', type: FieldType.string, values: col((t) => t.source), config: { description: 'Configured source name' } },
    { name: 'kind', type: FieldType.string, values: col((t) => t.kind), config: { description: 'Build system (girar, apb, karajo, cuirass, koji)' } },
    { name: 'state', type: FieldType.string, values: col((t) => t.state), config: { description: 'Native state, as the upstream names it' } },
    { name: 'phase', type: FieldType.string, values: col((t) => t.phase), config: { description: 'Normalized phase', mappings: phaseMappings() } },
    { name: 'owner', type: FieldType.string, values: col((t) => t.owner ?? null), config: { description: 'Task owner' } },
    { name: 'repo', type: FieldType.string, values: col((t) => t.repo ?? null), config: { description: 'Target repository (girar branch, Koji tag, karajo job, ...)' } },
    {
      name: 'age',
      type: FieldType.number,
      values: col((t) => {
        const since = toMs(t.created) ?? toMs(t.stateSince);
        return since === null ? null : Math.max(0, Math.round((now - since) / 1000));
      }),
      config: { unit: 's', description: 'Time since the task was created (since it entered its state when the upstream gives no creation time), at query time' },
    },
    { name: 'message', type: FieldType.string, values: col((t) => t.message ?? null), config: { description: 'Task message' } },
    { name: 'subtasks', type: FieldType.number, values: col((t) => t.subtasks?.length ?? 0), config: { description: 'Number of subtasks' } },
    { name: 'arches', type: FieldType.string, values: col((t) => taskArches(t).join(', ')), config: { description: 'Architectures the task builds for' } },
    { name: 'builds', type: FieldType.string, values: col(buildSummary), config: { description: 'Subtask x arch builds by phase' } },
    time('created', 'created', 'When the task was created'),
    time('updated', 'updated', 'Last change the exporter saw (the dashboard time range filters on this)'),
    time('state since', 'stateSince', 'When the task entered its state'),
    time('started', 'started', 'When the current run started'),
    time('finished', 'finished', 'When the run reached a terminal phase'),
  ];
  if (withMatches) {
    fields.push({ name: 'matches', type: FieldType.string, values: col((t) => (t.matches ?? []).join(', ')), config: { description: 'Where each search term matched' } });
  }
  fields.push({ name: 'url', type: FieldType.string, values: col((t) => t.url ?? null), config: { description: 'Upstream page', ...HIDDEN } });
  return fields;
}

export function tasksFrame(page: TaskPage, refId: string, now: number, searched: boolean): DataFrame {
  const shown = page.items.length;
  const notices = [];
  if (page.truncated) {
    notices.push({ severity: 'warning' as const, text: `Search results were capped at ${shown} of ${page.total} hits (the exporter's api.search_result_cap); narrow the search.` });
  } else if (page.total > page.offset + shown) {
    notices.push({ severity: 'info' as const, text: `Showing ${shown} of ${page.total} matching tasks; raise the limit (at most 1000) or narrow the filters.` });
  }
  return createDataFrame({
    refId,
    name: 'tasks',
    fields: taskFields(page.items, now, searched),
    meta: { preferredVisualisationType: 'table', custom: { total: page.total, truncated: page.truncated }, ...(notices.length ? { notices } : {}) },
  });
}

/** Approvals of a subtask: the detailed list, else the bare approvedBy / disapprovedBy names. */
function approvalsOf(sub: Subtask): Array<{ by: string; verdict: string; at: number | null; comment: string | null }> {
  if (sub.approvals?.length) return sub.approvals.map((a) => ({ by: a.by, verdict: a.verdict, at: toMs(a.at), comment: a.comment ?? null }));
  return [
    ...(sub.approvedBy ?? []).map((by) => ({ by, verdict: 'approved', at: null, comment: null })),
    ...(sub.disapprovedBy ?? []).map((by) => ({ by, verdict: 'disapproved', at: null, comment: null })),
  ];
}

/**
 * One task as three frames: `matrix` (a row per subtask, a column per arch holding the build
 * status, colored by its phase), `approvals` (a row per approval) and `task` (the task's row as in
 * the tasks table).
 */
/** What a task-detail query answers before its source and id are set (e.g. an empty `$task`). */
export function noTaskPickedFrame(refId: string): DataFrame {
  const frame = createDataFrame({ refId, name: 'subtasks', fields: [] });
  frame.meta = { notices: [{ severity: 'info', text: 'Pick a task: the query needs a source and a task id (either may be a $variable).' }] };
  return frame;
}

export function taskDetailFrames(task: ExporterTask, refId: string, now: number): DataFrame[] {
  const subs = task.subtasks ?? [];
  const arches = taskArches(task);
  const statusPhase = new Map<string, string>();
  for (const sub of subs) for (const a of sub.archs ?? []) if (!statusPhase.has(a.status)) statusPhase.set(a.status, a.phase);
  const mappings = phaseMappings(statusPhase);
  const archFields: FieldSpec[] = arches.map((arch) => ({
    name: arch,
    type: FieldType.string,
    values: subs.map((s) => s.archs?.find((a) => a.arch === arch)?.status ?? null),
    config: { description: `Build status on ${arch} (native status, colored by phase)`, mappings, custom: { cellOptions: { type: 'color-background' } } },
  }));
  const approvals = subs.flatMap((s) => approvalsOf(s).map((a) => ({ sub: s, ...a })));
  const matrix = createDataFrame({
    refId,
    name: 'matrix',
    fields: [
      { name: 'subtask', type: FieldType.string, values: subs.map((s) => s.id), config: { description: 'Subtask id' } },
      { name: 'type', type: FieldType.string, values: subs.map((s) => s.type) },
      { name: 'package', type: FieldType.string, values: subs.map((s) => s.package ?? null) },
      { name: 'label', type: FieldType.string, values: subs.map((s) => s.label ?? null), config: { description: 'What the subtask builds (girar: the gear dir or srpm)' } },
      { name: 'owner', type: FieldType.string, values: subs.map((s) => s.owner ?? null) },
      ...archFields,
      {
        name: 'approvals',
        type: FieldType.string,
        values: subs.map((s) =>
          approvalsOf(s)
            .map((a) => `${a.verdict === 'approved' ? '+' : '-'}${a.by}`)
            .join(' '),
        ),
        config: { description: 'Approvals (+name) and disapprovals (-name)' },
      },
    ],
    meta: { preferredVisualisationType: 'table', custom: { source: task.source, id: task.id, arches } },
  });
  const approvalsFrame = createDataFrame({
    refId,
    name: 'approvals',
    fields: [
      { name: 'subtask', type: FieldType.string, values: approvals.map((a) => a.sub.id) },
      { name: 'package', type: FieldType.string, values: approvals.map((a) => a.sub.package ?? null) },
      { name: 'by', type: FieldType.string, values: approvals.map((a) => a.by) },
      { name: 'verdict', type: FieldType.string, values: approvals.map((a) => a.verdict) },
      { name: 'at', type: FieldType.time, values: approvals.map((a) => a.at) },
      { name: 'comment', type: FieldType.string, values: approvals.map((a) => a.comment) },
    ],
    meta: { preferredVisualisationType: 'table' },
  });
  const taskFrame = createDataFrame({ refId, name: 'task', fields: taskFields([task], now), meta: { preferredVisualisationType: 'table' } });
  return [matrix, approvalsFrame, taskFrame];
}

/**
 * Counts by one field: a string field named after it and a `count` field, largest first. Stat,
 * bar chart and pie chart panels show one value per row ("All values" in stat and pie).
 */
export function summaryFrame(summary: SummaryResponse, refId: string): DataFrame {
  return createDataFrame({
    refId,
    name: `tasks by ${summary.by}`,
    fields: [
      { name: summary.by, type: FieldType.string, values: summary.rows.map((r) => r.value) },
      { name: 'count', type: FieldType.number, values: summary.rows.map((r) => r.count), config: { description: `Tasks per ${summary.by}`, unit: 'none' } },
    ],
    meta: { custom: { total: summary.total, by: summary.by } },
  });
}
