/**
 * Pure mapping of APB payloads to the model: build servers (and the farm's view of them) to
 * Workers, builds to Tasks. Times arrive three ways (reference/apb.md §5, §7): epoch floats in
 * status-api, ISO 8601 strings in a server's /builds/latest, and "YYYY-MM-DD HH:MM:SS UTC" in the
 * farm's local time; all leave here as ISO 8601 UTC.
 */
import type { Artifact, Phase, Task } from '../../model/task.js';
import type { Worker } from '../../model/worker.js';
import { isoUtc } from '../../util/clock.js';
import { pathSegment, saneTimeMs } from '../../util/sane.js';
import { zonedToUtc } from '../../util/time-zone.js';
import { checkServerRoot, type BuildFile, type BuildRecord, type FarmBuild, type ServerBuild, type ServerHealth, type ServerRoot } from './upstream.js';

export const APB_KIND = 'apb';

/** APB's BuildStatus words (British `cancelled`), plus the farm's own failure words. */
export const APB_PHASES: Readonly<Record<string, Phase>> = {
  queued: 'queued',
  building: 'running',
  completed: 'success',
  failed: 'failed',
  cancelled: 'canceled',
  failed_server_unavailable: 'failed',
  failed_missing_from_server: 'failed',
};

export const APB_STATUSES = Object.keys(APB_PHASES);

export function apbPhase(status: string): Phase {
  return Object.hasOwn(APB_PHASES, status) ? (APB_PHASES[status] as Phase) : 'unknown';
}

/** Builds still to be read again: they can change. */
export function isActive(status: string): boolean {
  const phase = apbPhase(status);
  return phase === 'queued' || phase === 'running' || phase === 'unknown';
}

// ---- times ----

/** Epoch seconds (float) to ISO UTC; undefined for null, 0 or nonsense. */
export function epochToIso(value: number | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  const ms = Math.round(value * 1000);
  return saneTimeMs(ms) ? isoUtc(ms) : undefined;
}

/**
 * A server listing time to ISO UTC: ISO 8601 (`2026-11-24T06:00:44.530946+00:00`, what the code
 * writes), or the `2024-01-20 10:00:00 UTC` form the server's own API document shows (read as UTC).
 */
export function isoToIso(value: string | null | undefined): string | undefined {
  if (!value) return undefined;
  if (FARM_TIME.test(value.trim())) return farmTimeToIso(value, 'UTC');
  // Only full ISO 8601 date-times: Date.parse also takes "1" (2001) and other oddities.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) return undefined;
  const ms = Date.parse(value);
  return saneTimeMs(ms) ? isoUtc(ms) : undefined;
}

const FARM_TIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?: ?UTC)?$/;

/**
 * A farm time (`2026-11-24 06:02:24 UTC`) to ISO UTC. The farm formats its local time and labels
 * it UTC, so the wall time is read in the farm's zone (`time_zone` in the config).
 */
export function farmTimeToIso(value: string | null | undefined, timeZone: string): string | undefined {
  if (!value) return undefined;
  const m = FARM_TIME.exec(value.trim());
  if (!m) return undefined;
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  if (!saneTimeMs(wall)) return undefined;
  const ms = zonedToUtc(wall, timeZone);
  return saneTimeMs(ms) ? isoUtc(ms) : undefined;
}

/** "D days, H hours, M minutes" (host uptime) in seconds. */
export function uptimeSeconds(text: string | undefined): number | undefined {
  const m = text === undefined ? null : /^(\d+) days?, (\d+) hours?, (\d+) minutes?$/.exec(text.trim());
  return m ? Number(m[1]) * 86_400 + Number(m[2]) * 3600 + Number(m[3]) * 60 : undefined;
}

// ---- workers ----

/** What the exporter knows about reaching a worker, beside what it answered. */
export interface Reachability {
  up: boolean;
  /** Epoch ms of its latest answer. */
  lastSeenMs?: number;
  lastError?: { message: string; at: number };
}

export interface ServerIdentity {
  source: string;
  id: string;
  /** Base URL of the server as configured, or as the farm reports it. */
  url?: string;
  /** Architecture to fall back on while the server never answered. */
  arch?: string;
  labels?: Record<string, string>;
}

/** An apb-server as a Worker: its `GET /` (latest good one) and `GET /health`, and whether it answers now. */
export function serverWorker(who: ServerIdentity, root: ServerRoot | undefined, health: ServerHealth | undefined, reach: Reachability): Worker {
  const sys = root?.system_info;
  const queue = root?.queue_status;
  const arch = root?.supported_architecture ?? sys?.architecture ?? who.arch;
  const running = queue?.current_builds_count;
  // The server's API document puts current_build at the top level; the code, inside queue_status.
  const current = queue?.current_build ?? root?.current_build;
  const worker: Worker = {
    source: who.source,
    kind: APB_KIND,
    id: who.id,
    name: who.id,
    up: reach.up,
    archs: arch ? [arch] : [],
  };
  if (running !== undefined) worker.busy = running > 0;
  setNumber(worker, 'capacity', queue?.max_concurrent_builds);
  setNumber(worker, 'load', running);
  setNumber(worker, 'queueLength', queue?.queued_builds);
  setNumber(worker, 'cpuCores', sys?.cpu?.cores);
  setNumber(worker, 'loadAverage', sys?.cpu?.load_average?.[0]);
  setNumber(worker, 'cpuUsageRatio', sys?.cpu?.usage_percent === undefined ? undefined : Math.min(1, sys.cpu.usage_percent / 100));
  setNumber(worker, 'memoryUsedBytes', sys?.memory?.used);
  setNumber(worker, 'memoryTotalBytes', sys?.memory?.total);
  setNumber(worker, 'diskUsedBytes', sys?.disk?.used);
  setNumber(worker, 'diskTotalBytes', sys?.disk?.total);
  if (current?.build_id) worker.currentTask = current.build_id;
  if (root?.version) worker.version = root.version;
  if (health?.status) worker.health = health.status;
  if (reach.lastSeenMs !== undefined) worker.lastSeen = isoUtc(reach.lastSeenMs);
  if (reach.lastError) worker.lastError = { message: reach.lastError.message, at: isoUtc(reach.lastError.at) };
  if (who.labels && Object.keys(who.labels).length > 0) worker.labels = { ...who.labels };
  if (who.url) worker.url = who.url;
  if (root) worker.native = root;
  if (!reach.up) forgetVolatile(worker);
  return worker;
}

/**
 * A worker that does not answer now: what it was doing is unknown, so only its lasting facts
 * (capacity, cores, totals, version, arch) stay; its load, queue and current build are left out.
 */
function forgetVolatile(worker: Worker): void {
  for (const key of ['busy', 'load', 'queueLength', 'loadAverage', 'cpuUsageRatio', 'memoryUsedBytes', 'diskUsedBytes', 'currentTask', 'health'] as const) delete worker[key];
}

type NumericWorkerKey = 'capacity' | 'load' | 'queueLength' | 'cpuCores' | 'loadAverage' | 'cpuUsageRatio' | 'memoryUsedBytes' | 'memoryTotalBytes' | 'diskUsedBytes' | 'diskTotalBytes';

function setNumber(worker: Worker, key: NumericWorkerKey, value: number | undefined): void {
  if (value !== undefined && Number.isFinite(value) && value >= 0) worker[key] = value;
}

/**
 * How the farm names a server to guests: the first three characters of the host name, `---`,
 * and its last character (`127.0.0.1` -> `127---1`); `ser---1` when there is no host name.
 */
export function obfuscateServerUrl(url: string): string {
  let host = '';
  try {
    host = new URL(url).hostname;
  } catch {
    host = '';
  }
  if (!host) return 'ser---1';
  return `${host.slice(0, 3)}---${host.slice(-1)}`;
}

/** Memory, disk and cores of a server's GET / (or the farm's copy of it), to tell machines apart. */
export function fingerprintOf(info: unknown): string | undefined {
  if (!info || !checkServerRoot.Check(info)) return undefined;
  const sys = info.system_info;
  const parts = [sys?.memory?.total, sys?.disk?.total, sys?.cpu?.cores];
  return parts.every((p) => p !== undefined) ? parts.join('/') : undefined;
}

/** The farm's arch word without its decorations (`x86_64 (misconfigured)` -> `x86_64`). */
export function farmArch(arch: string): string {
  return arch.replace(/\s*\(.*\)\s*$/, '').trim();
}

// ---- builds ----

/** Everything seen of one build this round: listing entries and, when read, its status-api record. */
export interface BuildSighting {
  id: string;
  /** From a server polled directly. */
  server?: { entry?: ServerBuild; record?: BuildRecord; workerId: string; arch?: string; base: string };
  /** From the farm. */
  farm?: { entry?: FarmBuild; record?: BuildRecord; workerId?: string; base: string; timeZone: string };
}

const ANONYMOUS = '#anon#';

/** One build as a Task. A server's own word wins over the farm's, which can lag it by a poll or more. */
export function buildTask(source: string, s: BuildSighting): Task {
  const sv = s.server;
  const fm = s.farm;
  const record = sv?.record ?? fm?.record;
  // The record is read after the listing, so it is the newer word; a listing entry serves when the budget left the record unread.
  const status = sv?.record?.status ?? sv?.entry?.status ?? fm?.record?.status ?? fm?.entry?.status ?? 'unknown';
  const phase = apbPhase(status);
  const pkgname = record?.pkgname ?? sv?.entry?.pkgname ?? fm?.entry?.pkgname ?? s.id;
  const arch = sv?.arch ?? (record?.server_arch ? farmArch(record.server_arch) : undefined) ?? (fm?.entry?.server_arch ? farmArch(fm.entry.server_arch) : undefined);
  const zone = fm?.timeZone ?? 'UTC';

  // A server listing says start_time even for a build that never started (queued, or cancelled
  // while queued): it is then the creation time. With a record, the record says whether it started.
  const listedStart = sv?.entry && !sv.record && sv.entry.status !== 'queued' && sv.entry.status !== 'cancelled' ? isoToIso(sv.entry.start_time) : undefined;
  const created = epochToIso(record?.created_at) ?? (sv?.entry?.status === 'queued' ? isoToIso(sv.entry.start_time) : undefined) ?? farmTimeToIso(fm?.entry?.created_at, zone);
  const started = phase === 'queued' ? undefined : (epochToIso(record?.start_time) ?? listedStart ?? farmTimeToIso(fm?.entry?.start_time, zone));
  const finished = TERMINAL.has(phase) ? (epochToIso(record?.end_time) ?? isoToIso(sv?.entry?.end_time) ?? farmTimeToIso(fm?.entry?.end_time, zone)) : undefined;
  // Times from a broken upstream can disagree; an end before the start leaves the start unknown.
  const startedOk = started !== undefined && finished !== undefined && started > finished ? undefined : started;
  const stateSince = phase === 'queued' ? created : phase === 'running' ? startedOk : finished;

  const task: Task = {
    source,
    kind: APB_KIND,
    id: s.id,
    state: status,
    phase,
    archs: arch ? [arch] : [],
    subtasks: [
      {
        id: '1',
        type: 'build',
        package: pkgname,
        ...(fm?.entry?.display_name ? { label: fm.entry.display_name } : {}),
        archs: arch ? [{ arch, status, phase }] : [],
      },
    ],
  };
  const owner = fm?.entry?.username;
  if (owner && owner !== ANONYMOUS) task.owner = owner;
  if (arch) task.repo = arch;
  task.message = fm?.entry?.display_name ?? pkgname;
  if (created) task.created = created;
  if (startedOk) task.started = startedOk;
  if (finished) task.finished = finished;
  if (stateSince) task.stateSince = stateSince;
  const updated = latest([created, started, finished]);
  if (updated) task.updated = updated;
  const base = sv?.base ?? fm?.base;
  if (base) task.url = sv ? `${base}/build/${pathSegment(s.id)}` : `${base}/build/${pathSegment(s.id)}/status`;
  const artifacts = record && base ? artifactsOf(record, sv?.record ? sv.base : (fm?.base ?? base)) : [];
  if (artifacts.length > 0) task.artifacts = artifacts;
  const attrs: Record<string, string | number | boolean> = {};
  const worker = sv?.workerId ?? fm?.workerId;
  if (worker) attrs.worker = worker;
  if (record?.exit_code !== undefined && record.exit_code !== null) attrs.exit_code = record.exit_code;
  const duration = record?.duration ?? sv?.entry?.duration;
  // Sane durations only: up to a year (APB's build_timeout is at most 4 h).
  if (TERMINAL.has(phase) && typeof duration === 'number' && duration > 0 && duration < 366 * 86_400) attrs.duration_seconds = Math.round(duration * 1000) / 1000;
  if (typeof record?.build_timeout === 'number' && Number.isFinite(record.build_timeout)) attrs.build_timeout_seconds = record.build_timeout;
  if (fm?.record?.queue_state) attrs.queue_state = fm.record.queue_state;
  if (Object.keys(attrs).length > 0) task.attrs = attrs;
  task.native = record ?? sv?.entry ?? fm?.entry;
  return task;
}

const TERMINAL: ReadonlySet<Phase> = new Set<Phase>(['success', 'failed', 'canceled']);

/** Packages and logs with absolute download URLs on the endpoint the record came from. */
export function artifactsOf(record: BuildRecord, base: string): Artifact[] {
  const out: Artifact[] = [];
  const add = (file: BuildFile, type: string) => {
    const a: Artifact = { name: file.filename, type };
    if (typeof file.size === 'number' && Number.isFinite(file.size)) a.size = file.size;
    const url = absoluteUrl(base, file.download_url ?? `/build/${pathSegment(record.build_id)}/download/${pathSegment(file.filename)}`);
    if (url) a.url = url;
    out.push(a);
  };
  for (const f of record.packages ?? []) add(f, 'package');
  for (const f of record.logs ?? []) add(f, 'log');
  return out;
}

/** A download path on the endpoint (APB writes `/build/<id>/download/<file>`), kept under the base URL's own path. */
function absoluteUrl(base: string, path: string): string | undefined {
  if (/^https?:\/\//i.test(path)) return path;
  try {
    return new URL(`${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`).toString();
  } catch {
    return undefined;
  }
}

function latest(times: (string | undefined)[]): string | undefined {
  let best: string | undefined;
  for (const t of times) if (t !== undefined && (best === undefined || t > best)) best = t;
  return best;
}
