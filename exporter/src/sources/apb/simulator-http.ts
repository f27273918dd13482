/**
 * The APB simulator's HTTP answers: the server's and the farm's routes with upstream's bodies
 * and key order, FastAPI's error shapes (`{"detail": ...}`, 422 validation lists) and the
 * injectable faults. Pure functions of the model and the time; the simulator does the I/O.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Rng } from '../girar/prng.js';
import { utcToZonedText } from '../../util/time-zone.js';
import type { FarmBuild, FarmModel } from './simulator-farm.js';
import { APB_VERSION, GIB, type ApbBuildRecord, type JsonObject, type ServerModel } from './simulator-model.js';

export type ApbServerMode = 'ok' | 'down' | 'html' | 'malformed' | 'error500' | 'slow';

export interface Reply {
  status: number;
  type: string;
  body: string | Buffer;
  headers?: Record<string, string>;
  /** Latency to add before answering, ms (the farm waiting on servers it contacted). */
  delayMs?: number;
}

export interface SimRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
}

const json = (status: number, body: unknown): Reply => ({ status, type: 'application/json', body: JSON.stringify(body) });
const page = (status: number, title: string, text: string): Reply => ({
  status, type: 'text/html; charset=utf-8', body: `<!DOCTYPE html>\n<html>\n<head><title>${title}</title></head>\n<body><h1>${title}</h1><p>${text}</p></body>\n</html>\n`,
});
const notFound = (): Reply => json(404, { detail: 'Not Found' });
const round1 = (x: number): number => Math.round(x * 10) / 10;
const MACHINE: Record<string, string> = { powerpc64le: 'ppc64le', powerpc64: 'ppc64', powerpc: 'ppc' };

/** Python's `datetime.fromtimestamp(t, timezone.utc).isoformat()`: microseconds unless zero. */
export function isoPy(sec: number): string {
  const us = Math.round(sec * 1e6);
  const frac = ((us % 1e6) + 1e6) % 1e6;
  const base = new Date((us - frac) / 1000).toISOString().slice(0, 19);
  return `${base}${frac ? `.${String(frac).padStart(6, '0')}` : ''}+00:00`;
}

/** An answer under a fault mode; 'slow' and 'down' are the simulator's to apply. */
export function faulty(reply: Reply, mode: ApbServerMode): Reply {
  if (mode === 'html') return page(200, '502 Bad Gateway', 'nginx: the upstream server did not answer');
  if (mode === 'error500') return json(500, { error: 'Internal server error', detail: '[Errno 24] Too many open files', type: 'OSError' });
  if (mode !== 'malformed') return reply;
  const text = reply.type === 'application/json' ? String(reply.body) : '{"detail":"Not Found"}';
  return { status: 200, type: 'application/json', body: text.slice(0, Math.max(1, Math.floor(text.length / 2))) };
}

/** A FastAPI `int` query parameter: its value, or the 422 answer. */
function intParam(p: URLSearchParams, name: string, def: number, bounds: { ge?: number; le?: number } = {}): number | Reply {
  const raw = p.get(name);
  if (raw === null) return def;
  const loc = ['query', name];
  const invalid = (type: string, msg: string, ctx?: JsonObject): Reply => json(422, { detail: [{ type, loc, msg, input: raw, ...(ctx ? { ctx } : {}) }] });
  if (!/^\s*[+-]?\d+\s*$/.test(raw)) return invalid('int_parsing', 'Input should be a valid integer, unable to parse string as an integer');
  const v = Number(raw);
  if (bounds.ge !== undefined && v < bounds.ge) return invalid('greater_than_equal', `Input should be greater than or equal to ${bounds.ge}`, { ge: bounds.ge });
  if (bounds.le !== undefined && v > bounds.le) return invalid('less_than_equal', `Input should be less than or equal to ${bounds.le}`, { le: bounds.le });
  return v;
}

/** A server's `GET /` (engine.get_system_info + get_queue_status). */
export function renderRoot(m: ServerModel, now: number): JsonObject {
  const h = m.host;
  const up = Math.max(0, now - h.bootSec);
  const available = Math.round(h.memTotal - h.memUsed - 0.3 * GIB);
  const used = Math.round(h.diskUsed);
  const all = [...m.active.values()];
  const building = all.filter((b) => b.status === 'building');
  const first = building[0];
  return {
    status: 'running',
    version: APB_VERSION,
    supported_architecture: m.spec.arch,
    system_info: {
      architecture: MACHINE[m.spec.arch] ?? m.spec.arch,
      cpu: { model: 'Unknown', cores: m.spec.cores, usage_percent: round1(h.cpu), load_average: h.load.map((l) => Math.round(l * 2048) / 2048) },
      memory: { total: h.memTotal, available, used: Math.round(h.memUsed), percentage: round1(((h.memTotal - available) / h.memTotal) * 100) },
      disk: { total: h.diskTotal, used, free: Math.round(h.diskTotal * 0.95) - used, percentage: (used / h.diskTotal) * 100 },
      uptime: `${Math.floor(up / 86_400)} days, ${Math.floor((up % 86_400) / 3600)} hours, ${Math.floor((up % 3600) / 60)} minutes`,
      process_info: { pid: h.pid, thread_count: 3 + m.runningCount, open_files: 2 + m.runningCount, memory_usage: 38_000_000 + 4096 * (m.active.size + m.history.size) },
    },
    queue_status: {
      current_builds_count: building.length,
      queued_builds: all.filter((b) => b.status === 'queued').length,
      max_concurrent_builds: m.spec.maxConcurrent,
      current_build: first ? { build_id: first.build_id, pkgname: first.pkgname, status: 'building', start_time: first.start_time ?? now, buildroot_recreation: false } : null,
      total_active_builds: m.active.size,
      build_history_count: m.history.size,
      buildroot_recreation_count: 0,
      buildroot_recreation_builds: [],
      server_busy_with_buildroot: false,
    },
  };
}

/** A server's `GET /health`. The executor probe waits 1 s for a worker, so it errors while all are busy. */
function renderHealth(m: ServerModel, now: number, noise: Rng): JsonObject {
  const h = m.host;
  const memPercent = round1(((h.memUsed + 0.3 * GIB) / h.memTotal) * 100);
  const diskPercent = (h.diskUsed / h.diskTotal) * 100;
  const saturated = m.runningCount >= m.spec.maxConcurrent;
  const checks: Record<string, JsonObject> = {
    memory: { status: memPercent < 95 ? 'ok' : 'warning', usage_percent: memPercent, available_mb: Math.floor((h.memTotal - h.memUsed - 0.3 * GIB) / 2 ** 20) },
    disk: { status: diskPercent < 95 ? 'ok' : 'warning', usage_percent: diskPercent, free_gb: Math.floor((h.diskTotal * 0.95 - h.diskUsed) / GIB) },
    executor: saturated ? { status: 'error', error: '' } : { status: 'ok', test_result: 'test' },
    build_queue: { status: 'ok', queue_size: 0, active_builds: m.active.size, running_processes: m.runningCount },
    filesystem: { status: 'ok' },
  };
  const statuses = Object.values(checks).map((c) => c.status);
  const status = statuses.includes('error') ? 'degraded' : statuses.includes('warning') ? 'warning' : 'healthy';
  const ms = (saturated ? 1000 : 0) + 0.8 + noise.next() * 2.5;
  return { status, version: APB_VERSION, timestamp: isoPy(now), checks, response_time_ms: Math.round(ms * 100) / 100 };
}

function download(rec: ApbBuildRecord | undefined, file: string): Reply | undefined {
  const a = rec && [...rec.packages, ...rec.logs].find((x) => x.filename === file);
  if (!rec || !a) return undefined;
  const line = `==> Making package: ${rec.pkgname} (${rec.build_id})\n`;
  const body = file.endsWith('.log') ? Buffer.from(line.repeat(Math.ceil(a.size / line.length)).slice(0, a.size)) : Buffer.alloc(a.size, 0x28);
  return { status: 200, type: 'application/octet-stream', body, headers: { 'content-disposition': `attachment; filename="${file}"` } };
}

/** routes.py of apb-server. */
export function serverReply(m: ServerModel, req: SimRequest, now: number, noise: Rng): Reply {
  const { pathname: path, searchParams: q } = req.url;
  const get = req.method === 'GET';
  const build = /^\/build\/([^/]+)(\/status-api|\/cancel|\/download\/[^/]+)?$/.exec(path);
  if (!build && path !== '/' && path !== '/health' && path !== '/builds/latest') return notFound();
  const sub = build?.[2] ?? '';
  if (get === (sub === '/cancel')) return json(405, { detail: 'Method Not Allowed' });
  if (path === '/') return json(200, renderRoot(m, now));
  if (path === '/health') return json(200, renderHealth(m, now, noise));
  if (path === '/builds/latest') {
    const limit = intParam(q, 'limit', 10);
    if (typeof limit !== 'number') return limit;
    const all = m.listing(q.get('status') || null);
    const builds = all.slice(0, limit).map((b) => ({
      build_id: b.build_id, pkgname: b.pkgname, status: b.status, start_time: isoPy(b.start_time ?? b.created_at),
      end_time: b.end_time ? isoPy(b.end_time) : null, duration: b.duration ?? 0,
    }));
    return json(200, { builds, total: all.length });
  }
  const id = decodeURIComponent(build?.[1] ?? '');
  const rec = m.record(id);
  if (sub.startsWith('/download/')) return download(rec, decodeURIComponent(sub.slice(10))) ?? json(404, { detail: 'File not found' });
  if (!rec) return json(404, { detail: 'Build not found' });
  if (sub === '/status-api') return json(200, rec);
  if (sub === '/cancel') {
    if (!m.active.has(id)) return json(404, { detail: 'Build not found' });
    return json(200, m.cancel(id, now) ? { success: true, message: 'Build cancelled successfully' } : { success: false, message: 'Build already finished' });
  }
  if (!String(req.headers.accept ?? '').includes('application/json')) return page(200, `Build Details: ${rec.pkgname}`, `Build ID: ${id}, status: ${rec.status}`);
  // Every file of the build directory except build.log and *.pkg.tar.xz counts as a source.
  const sources = [{ filename: 'PKGBUILD', size: 640 + rec.pkgname.length * 7, download_url: `/build/${id}/download/PKGBUILD` }, ...rec.packages];
  return json(200, {
    build_id: id, pkgname: rec.pkgname, status: rec.status, start_time: isoPy(rec.start_time ?? rec.created_at),
    end_time: rec.end_time ? isoPy(rec.end_time) : null, duration: rec.duration ?? 0, exit_code: rec.exit_code ?? 0,
    packages: rec.packages, logs: rec.logs, sources,
  });
}

export interface FarmSettings {
  token?: string;
  timeZone: string;
}

/** core.obfuscate_server_url: first three characters of the host name, `---`, its last. */
export function obfuscate(url: string): string {
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '') || 'unknown';
    return host.length >= 4 ? `${host.slice(0, 3)}---${host.slice(-1)}` : 'ser---1';
  } catch {
    return 'ser---1';
  }
}

/** safe_timestamp_to_datetime + " UTC": the farm's local wall clock, labelled UTC whatever its zone. */
const farmTime = (sec: number | null, zone: string): string | null => (sec === null ? null : `${utcToZonedText(sec * 1000, zone).replace('T', ' ')} UTC`);

/** core.format_package_name_with_version. */
function displayName(b: FarmBuild): string {
  const m = /^(?:([^:]+):)?(.+)-([^-]+)$/.exec(b.version ?? '');
  return m ? `${b.pkgname} (${m[1] ? `${m[1]}:` : ''}${m[2]}-${m[3]})` : b.pkgname;
}

/** routes.get_build_status with format=json (also `/status-api`). */
function farmStatus(f: FarmModel, id: string, now: number): Reply {
  const b = f.builds.get(id);
  if (!b) {
    const detail = `Build ${id} was not found in the farm database. This build may not have been submitted through this farm, or the submission may have failed before being recorded.`;
    return json(404, { detail: { error: 'Build not found', detail, build_id: id } });
  }
  if (!b.server && b.status === 'queued') {
    return json(200, { build_id: id, pkgname: b.pkgname, status: b.status, server_arch: b.arch, created_at: b.created, packages: [], logs: [], ...f.queueStatus(id, b.arch) });
  }
  if (!b.server) {
    const detail = `Build ${id} failed during submission and was never assigned to a server. Current status: ${b.status}`;
    return json(404, { detail: { error: 'Build submission failed', detail, build_id: id, status: b.status, created_at: b.created } });
  }
  const url = obfuscate(b.server.url());
  const rec = b.server.reachable() ? b.server.model.record(id) : undefined;
  if (rec) {
    const body = { ...rec, server_url: url, server_arch: b.arch, artifacts_ready: rec.packages.length + rec.logs.length > 0 };
    b.cached = body;
    b.cachedAt = now;
    return { ...json(200, body), delayMs: b.server.latencyMs(false) };
  }
  // The server is down, or answered 404 (which upstream raises and catches as "unavailable" too).
  const why = `Server unavailable: ${b.server.reachable() ? '404: Build not found' : 'All connection attempts failed'}`;
  if (!b.cached) return json(503, { detail: why });
  return json(200, { ...b.cached, server_unavailable: true, last_status_update: b.cachedAt ?? null, server_url: url, server_arch: b.arch, error_message: why });
}

/** routes.py of apb-farm. */
export function farmReply(f: FarmModel, req: SimRequest, now: number, s: FarmSettings): Reply {
  const { pathname: path, searchParams: q } = req.url;
  if (req.method !== 'GET') return /^\/(farm|health|builds\/latest|build\/.+)$/.test(path) ? json(405, { detail: 'Method Not Allowed' }) : notFound();
  if (path === '/health') return json(200, { status: 'healthy', version: APB_VERSION });
  if (path === '/farm') {
    const bearer = /^bearer\s+(.+)$/i.exec(String(req.headers.authorization ?? ''))?.[1];
    const token = bearer ?? /(?:^|;\s*)authToken=([^;]*)/.exec(String(req.headers.cookie ?? ''))?.[1];
    // An unknown or expired token is not an error on optional-auth routes: the caller is a guest.
    const admin = s.token !== undefined && token === s.token;
    f.takeContacts();
    const archs = f.availableArchs(now);
    const servers = [...archs].flatMap(([arch, peers]) =>
      peers.map((p) => {
        const info = f.serverInfo(p, now);
        return { url: admin ? p.url() : obfuscate(p.url()), arch, status: info ? 'online' : 'offline', info };
      }),
    );
    const delayMs = Math.max(0, ...f.takeContacts().map((p) => p.latencyMs(true)));
    const body = { status: 'running', version: APB_VERSION, servers, available_architectures: [...archs.keys()], total_servers: servers.length, authenticated: admin, user_role: admin ? 'admin' : 'guest' };
    return { ...json(200, body), delayMs };
  }
  if (path === '/builds/latest') {
    const limit = intParam(q, 'limit', 20, { ge: 1, le: 100 });
    if (typeof limit !== 'number') return limit;
    const status = q.get('status') || null;
    const builds = f.sorted().filter((b) => !status || b.status === status).slice(0, limit).map((b) => ({
      id: b.id, server_url: b.server ? obfuscate(b.server.url()) : 'unknown', server_arch: b.arch, pkgname: b.pkgname,
      display_name: displayName(b), status: b.status, start_time: farmTime(b.start, s.timeZone), end_time: farmTime(b.end, s.timeZone),
      created_at: farmTime(b.created, s.timeZone) ?? 'unknown', username: b.username ?? '#anon#',
    }));
    return json(200, { builds });
  }
  const m = /^\/build\/([^/]+)\/(status-api|status|download\/[^/]+)$/.exec(path);
  if (!m) return notFound();
  const id = decodeURIComponent(m[1] as string);
  if (m[2] === 'status-api' || (m[2] === 'status' && q.get('format') === 'json')) return farmStatus(f, id, now);
  if (m[2] === 'status') {
    const b = f.builds.get(id);
    return b ? page(200, `Build Status - ${displayName(b)}`, `Build ID: ${id}, status: ${b.status}`) : page(404, 'Build Not Found', `Build ID: ${id}`);
  }
  const b = f.builds.get(id);
  const file = decodeURIComponent((m[2] as string).slice(9));
  const got = b?.server?.reachable() ? download(b.server.model.record(id), file) : undefined;
  return got ?? page(404, 'File Not Found', `The requested file is not available on this farm: ${file}`);
}
