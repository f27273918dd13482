/**
 * The apb-farm: `GET /farm` (its cached view of every server, at most 90 s old) for the servers
 * not polled directly, and `GET /builds/latest` plus `/build/{id}/status-api` for the builds it
 * routed. With an admin token it shows real server URLs; guests see `abc---z` forms, which are
 * matched against the configured servers the same way.
 */
import type { Worker } from '../../model/worker.js';
import { saneTimeMs } from '../../util/sane.js';
import { redactUrl } from '../errors.js';
import { BuildBook } from './builds.js';
import { ApbClient, type RejectedEntry } from './client.js';
import { hostPortOf, type ApbConfig, type ApbFarmConfig } from './config.js';
import { Endpoint, type RefreshOutcome } from './endpoint.js';
import { farmArch, fingerprintOf, serverWorker, type BuildSighting, type Reachability } from './normalize.js';
import type { PollerContext, ServerPoller } from './servers.js';
import { checkFarmBuild, checkFarmInfoStamp, checkServerRoot, type FarmBuild, type FarmServer } from './upstream.js';

/** A URL as the farm shows it, without user and password (kept as written otherwise). */
function withoutCredentials(url: string): string {
  return /^https?:\/\/[^/]*@/i.test(url) ? redactUrl(url) : url;
}

/** The farm accepts at most 100 builds per call (422 beyond). */
const FARM_LIST_MAX = 100;
/** Most farm servers reported; a farm listing more is cut (and says so in the source's problems). */
export const MAX_FARM_SERVERS = 300;

export class FarmPoller {
  readonly endpoint: Endpoint;
  readonly book = new BuildBook<FarmBuild>((e) => ({ id: e.id, status: e.status }));
  private readonly client: ApbClient;
  private servers: FarmServer[] = [];

  constructor(
    private readonly farm: ApbFarmConfig,
    private readonly config: ApbConfig,
    private readonly ctx: PollerContext,
    private readonly direct: readonly ServerPoller[],
  ) {
    this.client = new ApbClient(ctx.http, { role: 'farm', url: farm.url, ...(farm.token ? { token: farm.token } : {}), timeoutMs: ctx.timeoutMs, maxBodyBytes: config.max_body_bytes });
    this.endpoint = new Endpoint(
      { name: 'farm', role: 'farm', url: this.client.safeUrl, clock: ctx.clock, refreshTimeoutMs: ctx.timeoutMs * 3, closed: ctx.closed },
      (signal) => this.refresh(signal),
    );
  }

  /** Servers the farm lists that are not polled directly, as Workers (from the farm's cached view). */
  workers(): Worker[] {
    if (!this.farm.servers || !this.endpoint.known) return [];
    const out: Worker[] = [];
    const taken = new Map<string, number>();
    const matched = this.matchedEntries();
    this.servers.forEach((entry, index) => {
      if (matched.has(index)) return;
      const arch = farmArch(entry.arch);
      const base = this.farmOnlyId(entry.url);
      const n = (taken.get(base) ?? 0) + 1;
      taken.set(base, n);
      const id = n === 1 ? base : `${base}#${n}`;
      const root = entry.info && checkServerRoot.Check(entry.info) ? entry.info : undefined;
      const stamp = entry.info && checkFarmInfoStamp.Check(entry.info) ? entry.info : undefined;
      out.push(serverWorker({ source: this.ctx.source, id, ...(/^https?:\/\//.test(entry.url) ? { url: withoutCredentials(entry.url) } : {}), ...(arch ? { arch } : {}) }, root, undefined, this.reachability(entry, stamp?._cached_at)));
    });
    return out;
  }

  /**
   * The farm entries that are a configured server, by index. A real URL (admin token) matches by
   * host:port. A guest name (`ppc---g`) with its arch matches only when exactly one configured
   * server and exactly one farm entry have that name and arch: guest names collide easily
   * (`ppc64le-1.example.org` and `ppc64le-2.example.org` are both `ppc---g`), and a wrong match
   * would hide a server. A configured server whose arch is not known yet never matches by guest name.
   */
  private matchedEntries(): Map<number, ServerPoller> {
    const out = new Map<number, ServerPoller>();
    const entriesByGuest = new Map<string, number[]>();
    this.servers.forEach((entry, index) => {
      const direct = this.direct.find((s) => s.hostPort !== undefined && s.hostPort === hostPortOf(entry.url));
      if (direct) out.set(index, direct);
      else {
        const key = `${entry.url}\u0000${farmArch(entry.arch)}`;
        entriesByGuest.set(key, [...(entriesByGuest.get(key) ?? []), index]);
      }
    });
    for (const [key, indexes] of entriesByGuest) {
      const candidates = this.direct.filter((s) => s.guestKey === key);
      if (indexes.length === 1 && candidates.length === 1) {
        out.set(indexes[0] as number, candidates[0] as ServerPoller);
        continue;
      }
      // Ambiguous: a server whose hardware (memory, disk, cores) shows in exactly one entry is that one.
      for (const server of candidates) {
        const print = server.fingerprint;
        if (print === undefined) continue;
        const same = indexes.filter((i) => !out.has(i) && fingerprintOf(this.servers[i]?.info) === print);
        if (same.length === 1) out.set(same[0] as number, server);
      }
    }
    return out;
  }

  /** A farm-only server's id: host:port of a real URL, else the guest name. */
  private farmOnlyId(url: string): string {
    return hostPortOf(url) ?? (url.slice(0, 63) || 'unknown');
  }

  /** Sightings of the farm's builds, for merging with what the servers say. */
  sightings(): BuildSighting[] {
    const out: BuildSighting[] = [];
    for (const [id, held] of this.book.builds) {
      const serverUrl = held.entry?.server_url ?? held.record?.server_url ?? undefined;
      out.push({
        id,
        farm: {
          ...(held.entry ? { entry: held.entry } : {}),
          ...(held.record ? { record: held.record } : {}),
          ...(serverUrl ? { workerId: this.workerIdOf(serverUrl, held.entry?.server_arch ?? held.record?.server_arch ?? undefined) } : {}),
          base: this.client.base,
          timeZone: this.farm.time_zone,
        },
      });
    }
    return out;
  }

  /** The worker id for a server URL as the farm writes it on a build: a configured server's id when it is surely that one, else the farm-only id. */
  private workerIdOf(url: string, arch?: string): string {
    const byUrl = this.direct.find((s) => s.hostPort !== undefined && s.hostPort === hostPortOf(url));
    if (byUrl) return byUrl.id;
    if (arch !== undefined) {
      const key = `${url}\u0000${farmArch(arch)}`;
      const candidates = this.direct.filter((s) => s.guestKey === key);
      const entries = this.servers.filter((e) => `${e.url}\u0000${farmArch(e.arch)}` === key);
      if (candidates.length === 1 && entries.length <= 1) return (candidates[0] as ServerPoller).id;
    }
    return this.farmOnlyId(url);
  }

  private reachability(entry: FarmServer, cachedAt: number | undefined): Reachability {
    const farmError = this.endpoint.isReachable ? undefined : this.endpoint.latestError;
    const seen = cachedAt !== undefined && saneTimeMs(cachedAt * 1000) ? { lastSeenMs: Math.round(cachedAt * 1000) } : {};
    if (farmError) return { up: false, ...seen, lastError: { message: `the farm, which reports this server, did not answer: ${farmError.message}`, at: farmError.at } };
    if (entry.status === 'online' && entry.info) return { up: true, ...seen };
    const failures = entry.consecutive_failures !== undefined ? ` (${entry.consecutive_failures} failures in a row)` : '';
    return { up: false, ...seen, lastError: { message: `the farm reports this server ${entry.status}${failures}`, at: this.ctx.clock.now() } };
  }

  private async refresh(signal: AbortSignal): Promise<RefreshOutcome> {
    const [farm, listing] = await Promise.allSettled([
      this.client.farm(signal),
      this.client.latestBuilds(Math.min(this.config.builds_limit, FARM_LIST_MAX), checkFarmBuild, signal),
    ]);
    const errors: unknown[] = [];
    const rejected: RejectedEntry[] = [];
    if (farm.status === 'fulfilled') {
      this.servers = farm.value.servers.entries.slice(0, MAX_FARM_SERVERS);
      rejected.push(...farm.value.servers.rejected);
      const over = farm.value.servers.entries.length - MAX_FARM_SERVERS;
      if (over > 0) rejected.push({ index: MAX_FARM_SERVERS, id: 'farm servers', reason: 'over_limit', message: `the farm lists ${farm.value.servers.entries.length} servers; the ${over} after the first ${MAX_FARM_SERVERS} are left out` });
    } else errors.push(farm.reason);
    if (listing.status === 'fulfilled') {
      this.book.applyListing(listing.value.entries.slice(0, FARM_LIST_MAX), this.ctx.clock.now());
      rejected.push(...listing.value.rejected);
      // Builds a directly polled server also lists are read there, where the record is fresher.
      const known = new Set(this.direct.flatMap((s) => [...s.book.builds.keys()]));
      const ids = this.book.toRead(this.config.detail_budget, known);
      // A failed read is a problem with one build, not with the endpoint: it is reported as such.
      this.endpoint.recordFailures = await this.book.readRecords(this.client, ids, this.config.detail_concurrency, signal);
    } else errors.push(listing.reason);
    if (farm.status === 'fulfilled' || listing.status === 'fulfilled') this.endpoint.rejected = rejected;
    return { errors, reachable: farm.status === 'fulfilled' };
  }
}
