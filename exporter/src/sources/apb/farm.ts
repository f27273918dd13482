/**
 * The apb-farm: `GET /farm` (its cached view of every server, at most 90 s old) for the servers
 * not polled directly, and `GET /builds/latest` plus `/build/{id}/status-api` for the builds it
 * routed. With an admin token it shows real server URLs; guests see `abc---z` forms, which are
 * matched against the configured servers the same way.
 */
import type { Worker } from '../../model/worker.js';
import { BuildBook } from './builds.js';
import { ApbClient, type RejectedEntry } from './client.js';
import { hostPort, type ApbConfig, type ApbFarmConfig } from './config.js';
import { Endpoint, type RefreshOutcome } from './endpoint.js';
import { farmArch, serverWorker, type BuildSighting, type Reachability } from './normalize.js';
import type { PollerContext, ServerPoller } from './servers.js';
import { checkFarmBuild, checkFarmInfoStamp, checkServerRoot, type FarmBuild, type FarmServer } from './upstream.js';

/** The farm accepts at most 100 builds per call (422 beyond). */
const FARM_LIST_MAX = 100;

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
    this.client = new ApbClient(ctx.http, { url: farm.url, ...(farm.token ? { token: farm.token } : {}), timeoutMs: ctx.timeoutMs, maxBodyBytes: config.max_body_bytes });
    this.endpoint = new Endpoint(
      { name: 'farm', role: 'farm', url: this.client.safeUrl, clock: ctx.clock, refreshTimeoutMs: ctx.timeoutMs * 3, closed: ctx.closed },
      (signal) => this.refresh(signal),
    );
  }

  /** Servers the farm lists that are not polled directly, as Workers (from the farm's cached view). */
  workers(): Worker[] {
    if (!this.farm.servers || !this.endpoint.known) return [];
    const out: Worker[] = [];
    const taken = new Set<string>();
    for (const entry of this.servers) {
      const arch = farmArch(entry.arch);
      if (this.direct.some((s) => s.matchesFarmEntry(entry.url, arch))) continue;
      let id = this.workerIdOf(entry.url);
      for (let n = 2; taken.has(id); n += 1) id = `${this.workerIdOf(entry.url)}#${n}`;
      taken.add(id);
      const root = entry.info && checkServerRoot.Check(entry.info) ? entry.info : undefined;
      const stamp = entry.info && checkFarmInfoStamp.Check(entry.info) ? entry.info : undefined;
      out.push(serverWorker({ source: this.ctx.source, id, ...(/^https?:\/\//.test(entry.url) ? { url: entry.url } : {}), ...(arch ? { arch } : {}) }, root, undefined, this.reachability(entry, stamp?._cached_at)));
    }
    return out;
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

  /** The worker id for a server URL as the farm writes it: a configured server's id, else host:port or the guest form. */
  private workerIdOf(url: string, arch?: string): string {
    const direct = this.direct.find((s) => s.matchesFarmEntry(url, arch === undefined ? (s.arch ?? '') : farmArch(arch)));
    if (direct) return direct.id;
    try {
      if (/^https?:\/\//.test(url)) return hostPort(url);
    } catch {
      // not a URL
    }
    return url.slice(0, 63) || 'unknown';
  }

  private reachability(entry: FarmServer, cachedAt: number | undefined): Reachability {
    const farmError = this.endpoint.isReachable ? undefined : this.endpoint.latestError;
    const seen = cachedAt !== undefined && Number.isFinite(cachedAt) && cachedAt > 0 ? { lastSeenMs: Math.round(cachedAt * 1000) } : {};
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
      this.servers = farm.value.servers.entries;
      rejected.push(...farm.value.servers.rejected);
    } else errors.push(farm.reason);
    if (listing.status === 'fulfilled') {
      this.book.applyListing(listing.value.entries);
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
