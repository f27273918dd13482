/**
 * One apb-server polled directly: `GET /` (and `GET /health`) for the Worker, `GET /builds/latest`
 * and `GET /build/{id}/status-api` for its builds. GET / samples the CPU for a second and blocks
 * the server's single event loop, so the three requests are sent together and the records after.
 */
import type { Task } from '../../model/task.js';
import type { Worker } from '../../model/worker.js';
import type { Clock } from '../../util/clock.js';
import type { UpstreamHttp } from '../http.js';
import { BuildBook } from './builds.js';
import { ApbClient } from './client.js';
import { hostPortOf, serverId, type ApbConfig, type ApbServerConfig } from './config.js';
import { Endpoint, type RefreshOutcome } from './endpoint.js';
import { buildTask, fingerprintOf, obfuscateServerUrl, serverWorker, type BuildSighting } from './normalize.js';
import { checkServerBuild, type ServerBuild, type ServerHealth, type ServerRoot } from './upstream.js';

export interface PollerContext {
  source: string;
  http: UpstreamHttp;
  clock: Clock;
  closed: AbortSignal;
  timeoutMs: number;
}

export class ServerPoller {
  readonly id: string;
  readonly endpoint: Endpoint;
  readonly book = new BuildBook<ServerBuild>((e) => ({ id: e.build_id, status: e.status }));
  private readonly client: ApbClient;
  private root: ServerRoot | undefined;
  private health: ServerHealth | undefined;

  constructor(
    private readonly server: ApbServerConfig,
    private readonly config: ApbConfig,
    private readonly ctx: PollerContext,
  ) {
    this.id = serverId(server);
    this.client = new ApbClient(ctx.http, { role: 'server', url: server.url, timeoutMs: ctx.timeoutMs, maxBodyBytes: config.max_body_bytes });
    this.endpoint = new Endpoint(
      { name: this.id, role: 'server', url: this.client.safeUrl, clock: ctx.clock, refreshTimeoutMs: ctx.timeoutMs * 3, closed: ctx.closed },
      (signal) => this.refresh(signal),
    );
  }

  /** host:port of the configured URL, which an admin's farm view shows as the server URL. */
  get hostPort(): string | undefined {
    return hostPortOf(this.server.url);
  }

  /** The farm's guest name for this server with its arch (`ppc---g\u0000powerpc64le`); undefined while the arch is unknown. */
  get guestKey(): string | undefined {
    const arch = this.arch;
    return arch === undefined ? undefined : `${obfuscateServerUrl(this.server.url)}\u0000${arch}`;
  }

  /** Memory, disk and cores from its latest GET /, to find it among farm entries that share its guest name. */
  get fingerprint(): string | undefined {
    return fingerprintOf(this.root);
  }

  get arch(): string | undefined {
    return this.root?.supported_architecture ?? this.root?.system_info?.architecture ?? this.server.arch;
  }

  /** The server as a Worker; undefined until its first refresh has ended (neither up nor down before). */
  worker(): Worker | undefined {
    if (!this.endpoint.known) return undefined;
    const error = this.endpoint.latestError;
    return serverWorker(
      { source: this.ctx.source, id: this.id, url: this.client.base, ...(this.arch ? { arch: this.arch } : {}), ...(this.server.labels ? { labels: this.server.labels } : {}) },
      this.root,
      this.health,
      {
        up: this.endpoint.isReachable,
        ...(this.endpoint.lastSeenMs !== undefined ? { lastSeenMs: this.endpoint.lastSeenMs } : {}),
        ...(error ? { lastError: { message: error.message, at: error.at } } : {}),
      },
    );
  }

  /** Sightings of this server's builds, for merging with the farm's. */
  sightings(): BuildSighting[] {
    const out: BuildSighting[] = [];
    for (const [id, held] of this.book.builds) {
      out.push({ id, server: { ...(held.entry ? { entry: held.entry } : {}), ...(held.record ? { record: held.record } : {}), workerId: this.id, ...(this.arch ? { arch: this.arch } : {}), base: this.client.base } });
    }
    return out;
  }

  tasks(): Task[] {
    return this.sightings().map((s) => buildTask(this.ctx.source, s));
  }

  private async refresh(signal: AbortSignal): Promise<RefreshOutcome> {
    const [root, listing, health] = await Promise.allSettled([
      this.client.root(signal),
      this.client.latestBuilds(this.config.builds_limit, checkServerBuild, signal),
      this.config.health ? this.client.health(signal) : Promise.resolve(undefined),
    ]);
    const errors: unknown[] = [];
    if (root.status === 'fulfilled') this.root = root.value;
    else errors.push(root.reason);
    if (health.status === 'fulfilled') this.health = health.value;
    else {
      // A health answer that failed says nothing about the status now.
      this.health = undefined;
      errors.push(health.reason);
    }
    if (listing.status === 'fulfilled') {
      this.book.applyListing(listing.value.entries.slice(0, this.config.builds_limit), this.ctx.clock.now());
      this.endpoint.rejected = listing.value.rejected;
      const ids = this.book.toRead(this.config.detail_budget);
      // A failed read is a problem with one build, not with the endpoint: it is reported as such.
      this.endpoint.recordFailures = await this.book.readRecords(this.client, ids, this.config.detail_concurrency, signal);
    } else {
      errors.push(listing.reason);
    }
    return { errors, reachable: root.status === 'fulfilled' };
  }
}
