/**
 * The APB simulator's farm: its build table, per-arch queues, cache of each server's GET / and
 * background rounds (kth5/apb `src/apb/farm/core.py`). Pure, like simulator-model.ts.
 */
import { type ApbBuildStatus, type JsonObject, type ServerModel } from './simulator-model.js';

/** A server as the farm sees it (apb.json `servers`), contacted in-process. */
export interface FarmPeer {
  readonly name: string;
  readonly arch: string;
  readonly model: ServerModel;
  url(): string;
  /** Whether an HTTP request would get a 200 with JSON now (its fault mode allows it). */
  reachable(): boolean;
  /** Its `GET /` body at `nowSec`. */
  info(nowSec: number): JsonObject;
  /** How long an answer takes (fault mode 'slow'; `GET /` also samples the CPU), ms. */
  latencyMs(root: boolean): number;
}

/** A row of the farm's SQLite `builds` table. */
export interface FarmBuild {
  id: string;
  server: FarmPeer | null;
  arch: string;
  pkgname: string;
  status: ApbBuildStatus;
  /** Float epochs; null where upstream stored something `safe_timestamp_to_datetime` cannot read. */
  start: number | null;
  end: number | null;
  created: number;
  seq: number;
  username: string | null;
  version?: string;
  viaFarm: boolean;
  pinned?: FarmPeer;
  cached?: JsonObject;
  cachedAt?: number;
  firstMissing?: number;
}

/** Seconds between the farm's status sweeps of its queued/building builds, and between discoveries. */
export const FARM_SWEEP_SEC = 10;
export const FARM_DISCOVERY_SEC = 300;

/** The farm's state and background work (src/apb/farm/core.py), stepped by the simulator. */
export class FarmModel {
  readonly builds = new Map<string, FarmBuild>();
  /** Farm-side queues per architecture, waiting for a server with a free slot. */
  private readonly queues = new Map<string, string[]>();
  private readonly cache = new Map<string, { at: number; info: JsonObject | null }>();
  private readonly knownArch = new Map<string, string>();
  private contacts: FarmPeer[] = [];
  private seq = 0;
  private lastSweep = -Infinity;
  private lastDiscovery = -Infinity;

  constructor(readonly peers: readonly FarmPeer[]) {}

  /** core.get_server_info: a success is reused for 90 s, a failure for 45 s. */
  serverInfo(peer: FarmPeer, nowSec: number): JsonObject | null {
    const c = this.cache.get(peer.name);
    if (c && nowSec - c.at < (c.info ? 90 : 45)) return c.info;
    this.contacts.push(peer);
    const info: JsonObject | null = peer.reachable() ? { ...peer.info(nowSec), _cached_at: nowSec, _success: true } : null;
    if (info) this.knownArch.set(peer.name, String(info.supported_architecture));
    this.cache.set(peer.name, { at: nowSec, info });
    return info;
  }

  /** Servers the farm contacted since the last call (their latency adds to the request's). */
  takeContacts(): FarmPeer[] {
    const c = this.contacts;
    this.contacts = [];
    return c;
  }

  /** core.get_available_architectures: by reported, else last known architecture; never-seen servers are left out. */
  availableArchs(nowSec: number): Map<string, FarmPeer[]> {
    const out = new Map<string, FarmPeer[]>();
    for (const peer of this.peers) {
      const info = this.serverInfo(peer, nowSec);
      const arch = info ? String(info.supported_architecture) : this.knownArch.get(peer.name);
      if (arch !== undefined) out.set(arch, [...(out.get(arch) ?? []), peer]);
    }
    return out;
  }

  /** `POST /build`: a row and a place in the architecture's farm queue. */
  submit(id: string, pkgname: string, arch: string, nowSec: number, opts: { version: string; username: string; pinned?: FarmPeer }): FarmBuild {
    if (this.builds.has(id)) throw new Error(`APB simulator: the farm already has build ${id}`);
    const b: FarmBuild = { id, server: null, arch, pkgname, status: 'queued', start: null, end: null, created: nowSec, seq: ++this.seq, username: opts.username, version: opts.version, viaFarm: true, pinned: opts.pinned };
    this.builds.set(id, b);
    this.queues.set(arch, [...(this.queues.get(arch) ?? []), id]);
    return b;
  }

  /** core.get_farm_queue_status_for_build, without its `arch`. */
  queueStatus(id: string, arch: string): JsonObject | undefined {
    const q = this.queues.get(arch) ?? [];
    const pos = q.indexOf(id) + 1;
    return pos > 0 ? { queue_state: 'farm', queue_position: pos, jobs_ahead: pos - 1, farm_queue_size: q.length } : undefined;
  }

  /** The farm's background rounds; builds forwarded now are swept on a later round. */
  tick(nowSec: number): void {
    if (nowSec - this.lastSweep >= FARM_SWEEP_SEC) this.sweep(nowSec);
    if (nowSec - this.lastDiscovery >= FARM_DISCOVERY_SEC) this.discover(nowSec);
    for (const arch of this.queues.keys()) this.dispatch(arch, nowSec);
  }

  /** One pass of process_build_queue for an architecture: the head goes to the least loaded
   * server with a free slot by the (possibly stale) cached `GET /`, or waits. */
  private dispatch(arch: string, nowSec: number): void {
    const q = this.queues.get(arch) ?? [];
    const b = this.builds.get(q[0] ?? '');
    if (!b) return;
    if (b.status !== 'queued') return void q.shift();
    let best: FarmPeer | undefined;
    let bestScore = Infinity;
    for (const peer of this.availableArchs(nowSec).get(arch) ?? []) {
      const qs = this.serverInfo(peer, nowSec)?.queue_status as Record<string, number> | undefined;
      if (!qs || (b.pinned && b.pinned !== peer) || (qs.current_builds_count ?? 0) >= (qs.max_concurrent_builds ?? 3)) continue;
      const score = (qs.current_builds_count ?? 0) + (qs.queued_builds ?? 0);
      if (score < bestScore) [best, bestScore] = [peer, score];
    }
    if (best?.reachable()) this.forward(b, best, nowSec);
  }

  /** forward_build_to_server: the farm calls the build `building` as soon as the server accepts it. */
  forward(b: FarmBuild, peer: FarmPeer, nowSec: number): void {
    const q = this.queues.get(b.arch) ?? [];
    this.queues.set(b.arch, q.filter((id) => id !== b.id));
    peer.model.submit(b.id, b.pkgname, nowSec, b.version ?? '1.0-1');
    Object.assign(b, { server: peer, status: 'building', start: nowSec });
  }

  /** cancel_farm_queued_build. */
  cancelQueued(id: string, nowSec: number): boolean {
    const b = this.builds.get(id);
    if (!b || b.server || b.status !== 'queued') return false;
    this.queues.set(b.arch, (this.queues.get(b.arch) ?? []).filter((q) => q !== id));
    Object.assign(b, { status: 'cancelled', end: nowSec });
    return true;
  }

  /** update_build_status: queued/building rows follow their server's record; a build missing
   * from its server (restarted) fails after 15 minutes. Unreachable servers change nothing. */
  private sweep(nowSec: number): void {
    this.lastSweep = nowSec;
    for (const b of this.builds.values()) {
      if (!b.server || (b.status !== 'queued' && b.status !== 'building') || !b.server.reachable()) continue;
      const rec = b.server.model.record(b.id);
      if (rec) {
        const done = rec.status === 'completed' || rec.status === 'failed';
        Object.assign(b, { status: rec.status, end: done ? (rec.end_time ?? nowSec) : null, cached: { ...rec }, cachedAt: nowSec, firstMissing: undefined });
      } else if (b.firstMissing === undefined) b.firstMissing = nowSec;
      else if (nowSec - b.firstMissing > 900) Object.assign(b, { status: 'failed', end: nowSec });
    }
  }

  /** discover_builds: rows for builds the servers list (`/builds/latest?limit=50`) that the farm
   * does not know; the ISO start/end strings it stores read back as null. */
  private discover(nowSec: number): void {
    this.lastDiscovery = nowSec;
    for (const [arch, peers] of this.availableArchs(nowSec)) {
      for (const peer of peers) {
        if (!peer.reachable()) continue;
        for (const e of peer.model.listing(null).slice(0, 50)) {
          if (this.builds.has(e.build_id)) continue;
          this.builds.set(e.build_id, { id: e.build_id, server: peer, arch, pkgname: e.pkgname, status: e.status, start: null, end: null, created: nowSec, seq: ++this.seq, username: null, viaFarm: false });
        }
      }
    }
  }

  /** Rows newest first (`ORDER BY created_at DESC`; later rows first on ties). */
  sorted(): FarmBuild[] {
    return [...this.builds.values()].sort((a, b) => b.created - a.created || b.seq - a.seq);
  }
}
