/**
 * Pure mapping of Koji hub structs to the shared model (reference/koji.md §3, §5): tasks keep
 * Koji's numeric id, builds are tasks `build-<build_id>`, hosts are workers. Times come from the
 * `*_ts` doubles (epoch seconds, microsecond precision kept to the millisecond).
 */
import type { Phase, Subtask, Task } from '../../model/task.js';
import type { Worker } from '../../model/worker.js';
import { saneTimeMs } from '../../util/sane.js';
import type { KojiBuild, KojiHost, KojiTask } from './upstream.js';
import { decodeMethodCall, isStruct, type XmlRpcValue } from './xmlrpc.js';

export const KOJI_KIND = 'koji';

/** TASK_STATES: native word (Koji's enum name) and phase. */
export const TASK_STATE_PHASES: Readonly<Record<number, { name: string; phase: Phase }>> = {
  0: { name: 'FREE', phase: 'queued' },
  1: { name: 'OPEN', phase: 'running' },
  2: { name: 'CLOSED', phase: 'success' },
  3: { name: 'CANCELED', phase: 'canceled' },
  4: { name: 'ASSIGNED', phase: 'queued' },
  5: { name: 'FAILED', phase: 'failed' },
};

/**
 * BUILD_STATES: lower-case words (as kojiweb shows them), so a build's `failed` never reads as a
 * task's `FAILED` in state filters and state-labelled metrics. DELETED is a completed build whose
 * files were removed later: its outcome is no longer known from the record.
 */
export const BUILD_STATE_PHASES: Readonly<Record<number, { name: string; phase: Phase }>> = {
  0: { name: 'building', phase: 'running' },
  1: { name: 'complete', phase: 'success' },
  2: { name: 'deleted', phase: 'unknown' },
  3: { name: 'failed', phase: 'failed' },
  4: { name: 'canceled', phase: 'canceled' },
};

export function taskState(code: number): { name: string; phase: Phase } {
  return TASK_STATE_PHASES[code] ?? { name: `STATE_${code}`, phase: 'unknown' };
}

export function buildState(code: number): { name: string; phase: Phase } {
  return BUILD_STATE_PHASES[code] ?? { name: `state-${code}`, phase: 'unknown' };
}

export const buildTaskId = (buildId: number): string => `build-${buildId}`;
export const isBuildTaskId = (id: string): boolean => id.startsWith('build-');

/** Epoch seconds (a Koji `*_ts` double) to ISO 8601 UTC with milliseconds; undefined for nil or nonsense. */
export function tsIso(seconds: number | null | undefined): string | undefined {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds <= 0) return undefined;
  const ms = Math.round(seconds * 1000);
  return saneTimeMs(ms) ? new Date(ms).toISOString() : undefined;
}

/** What the exporter knows around a task row: names for ids, kojiweb's base, the method allowlist. */
export interface TaskContext {
  source: string;
  web: string;
  channelName(id: number): string | undefined;
  hostName(id: number): string | undefined;
  /** The owner's name when this row lacks it (getTaskInfo has only the numeric owner). */
  ownerName?: string;
  /** The request summary kept from an earlier row (getTaskInfo rows carry no request). */
  summary?: RequestSummary;
}

/** What a task's XML-RPC request says, in a few words: the build target and a short description. */
export interface RequestSummary {
  text: string;
  target?: string;
}

const MAX_SUMMARY = 200;

/**
 * Read a task request (an XML-RPC methodCall string) into a short description: `build` →
 * source and target, `buildArch` → SRPM path and arch, `newRepo` → tag, others → their string
 * arguments. Undefined when the request is missing or not XML-RPC.
 */
export function summarizeRequest(method: string, request: string | null | undefined): RequestSummary | undefined {
  if (typeof request !== 'string' || request === '' || request.length > 1_000_000) return undefined;
  let params: XmlRpcValue[];
  try {
    params = decodeMethodCall(request).params;
  } catch {
    return undefined;
  }
  const strings = params.filter((p): p is string => typeof p === 'string');
  const target = method === 'build' && typeof params[1] === 'string' ? params[1] : undefined;
  let text: string;
  if (method === 'build' && typeof params[0] === 'string') text = `${params[0]}${target ? ` → ${target}` : ''}`;
  else if (method === 'newRepo' && typeof params[0] === 'string') text = params[0];
  else text = strings.slice(0, 3).join(' ');
  if (text === '' && isStruct(params[0])) text = Object.keys(params[0]).slice(0, 5).join(', ');
  text = text.replace(/\s+/g, ' ').trim();
  if (text.length > MAX_SUMMARY) text = `${text.slice(0, MAX_SUMMARY - 1)}…`;
  return { text, ...(target ? { target: target.slice(0, 200) } : {}) };
}

/** A task row as the exporter keeps it in `native`: the row without its request and result XML. */
export function nativeTask(row: KojiTask): Record<string, unknown> {
  const { request: _request, result: _result, ...rest } = row;
  return rest;
}

export function kojiTask(row: KojiTask, ctx: TaskContext, summary: RequestSummary | undefined): Task {
  const state = taskState(row.state);
  const channel = ctx.channelName(row.channel_id);
  const host = row.host_id === null ? undefined : ctx.hostName(row.host_id);
  const created = tsIso(row.create_ts);
  const started = tsIso(row.start_ts);
  const finished = state.phase === 'success' || state.phase === 'failed' || state.phase === 'canceled' ? tsIso(row.completion_ts) : undefined;
  const updated = [finished, started, created].find((t) => t !== undefined);
  const owner = row.owner_name ?? ctx.ownerName;
  const attrs: Record<string, string | number | boolean> = { method: row.method, channel_id: row.channel_id };
  if (channel !== undefined) attrs.channel = channel;
  if (host !== undefined) attrs.host = host;
  if (row.host_id !== null) attrs.host_id = row.host_id;
  if (row.parent !== null) attrs.parent = row.parent;
  if (row.priority !== undefined) attrs.priority = row.priority;
  if (typeof row.weight === 'number') attrs.weight = row.weight;
  if (row.waiting === true) attrs.waiting = true;
  if (summary?.target !== undefined) attrs.target = summary.target;
  const label = typeof row.label === 'string' && row.label !== '' ? ` (${row.label})` : '';
  return {
    source: ctx.source,
    kind: KOJI_KIND,
    id: String(row.id),
    state: state.name,
    phase: state.phase,
    ...(owner ? { owner } : {}),
    ...(channel !== undefined ? { repo: channel } : {}),
    message: `${row.method}${label}${summary && summary.text !== '' ? `: ${summary.text}` : ''}`,
    ...(created ? { created } : {}),
    ...(started ? { started } : {}),
    ...(finished ? { finished } : {}),
    ...(updated ? { updated } : {}),
    archs: row.arch ? [row.arch] : [],
    subtasks: [],
    url: `${ctx.web}/taskinfo?taskID=${row.id}`,
    native: nativeTask(row),
    attrs,
  };
}

/** The parent's children as subtasks: one line per child with its state on its arch (kojiweb's task tree). */
export function childSubtasks(children: readonly Task[]): Subtask[] {
  return [...children]
    .sort((a, b) => Number(a.id) - Number(b.id))
    .map((c) => {
      const arch = c.archs[0] ?? 'noarch';
      const method = typeof c.attrs?.method === 'string' ? c.attrs.method : 'task';
      const label = c.message ?? method;
      return { id: c.id, type: method, label, ...(c.owner ? { owner: c.owner } : {}), archs: [{ arch, status: c.state, phase: c.phase }] };
    });
}

/**
 * A build row as the exporter keeps it in `native`: one shape whichever call read it. getBuild
 * adds `id` (the build_id again) and `cg_id`/`cg_name` (null but for content-generator builds) to
 * listBuilds' fields; they are left out when they say nothing, so the record does not change when
 * the other call reads the build next (or first, after a restart).
 */
export function nativeBuild(row: KojiBuild): Record<string, unknown> {
  const { id: _id, cg_id, cg_name, ...rest } = row as KojiBuild & { id?: unknown; cg_id?: unknown; cg_name?: unknown };
  return { ...rest, ...(cg_id !== null && cg_id !== undefined ? { cg_id } : {}), ...(cg_name !== null && cg_name !== undefined ? { cg_name } : {}) };
}

export function kojiBuild(row: KojiBuild, source: string, web: string, target: string | undefined): Task {
  const state = buildState(row.state);
  const created = tsIso(row.creation_ts);
  const started = tsIso(row.start_ts ?? null) ?? created;
  const finished = state.phase === 'running' ? undefined : tsIso(row.completion_ts);
  const updated = [finished, started, created].find((t) => t !== undefined);
  const attrs: Record<string, string | number | boolean> = { nvr: row.nvr, creation_event_id: row.creation_event_id };
  const pkg = row.package_name ?? row.name;
  if (pkg !== undefined) attrs.package = pkg;
  if (row.task_id !== null) attrs.task_id = row.task_id;
  if (row.volume_name) attrs.volume = row.volume_name;
  if (row.draft === true) attrs.draft = true;
  if (target !== undefined) attrs.target = target;
  return {
    source,
    kind: KOJI_KIND,
    id: buildTaskId(row.build_id),
    state: state.name,
    phase: state.phase,
    ...(row.owner_name ? { owner: row.owner_name } : {}),
    ...(target !== undefined ? { repo: target } : {}),
    message: `build ${row.nvr}`,
    ...(created ? { created } : {}),
    ...(started ? { started } : {}),
    ...(finished ? { finished } : {}),
    ...(updated ? { updated } : {}),
    archs: [],
    subtasks: [],
    url: `${web}/buildinfo?buildID=${row.build_id}`,
    native: nativeBuild(row),
    attrs,
  };
}

/** Host health words, as `Worker.health`. */
export function hostHealth(h: KojiHost): 'disabled' | 'ready' | 'not ready' {
  if (!h.enabled) return 'disabled';
  return h.ready ? 'ready' : 'not ready';
}

/**
 * A host as a worker. `up`: it checked in (update_ts) within `staleAfterMs` of `now`; `load`:
 * the tasks the exporter holds OPEN on it; Koji's own task_load and capacity (weights, not task
 * counts) are in the `buildfarm_koji_host_*` families.
 */
export function kojiWorker(h: KojiHost, source: string, web: string, now: number, staleAfterMs: number, running: number, channels: readonly string[]): Worker {
  const seen = tsIso(h.update_ts);
  const up = seen !== undefined && now - Date.parse(seen) <= staleAfterMs;
  return {
    source,
    kind: KOJI_KIND,
    id: h.name,
    name: h.name,
    up,
    busy: h.task_load > 0 || running > 0,
    enabled: h.enabled,
    archs: h.arches.split(/\s+/).filter((a) => a !== ''),
    load: running,
    health: hostHealth(h),
    ...(seen ? { lastSeen: seen } : {}),
    url: `${web}/hostinfo?hostID=${h.id}`,
    native: { ...h, channels: [...channels] },
  };
}
