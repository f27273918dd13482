/**
 * An APB (kth5/apb, version 2026-06-30) simulator: build servers and a farm, each a real loopback
 * HTTP server answering in upstream's shapes, with builds moving through their states on an
 * injected clock. Tests drive it with a ManualClock, step() and the control methods; demo mode
 * steps it on a timer. State and life cycle: simulator-model.ts; routes and bodies: simulator-http.ts.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { closeSim, Delays, listenSim } from '../sim-http.js';
import type { Clock } from '../../util/clock.js';
import { isTimeZone } from '../../util/time-zone.js';
import { Rng } from '../girar/prng.js';
import { farmReply, faulty, renderRoot, serverReply, type ApbServerMode, type Reply, type SimRequest } from './simulator-http.js';
import { FarmModel, type FarmPeer } from './simulator-farm.js';
import { ServerModel } from './simulator-model.js';

export type { ApbServerMode } from './simulator-http.js';

export interface ApbSimServerSpec {
  name: string;
  arch: string;
  /** Default 2. */
  maxConcurrent?: number;
  /** Default 8. */
  cores?: number;
}

export interface ApbSimulatorOptions {
  /** Every time in every payload comes from clock.now(). */
  clock: Clock;
  /** PRNG seed (default 1). */
  seed?: number;
  servers: ApbSimServerSpec[];
  /** Default: a farm over all servers, no admin token, UTC. */
  farm?: { token?: string; timeZone?: string } | false;
  /** Extra latency of a server's `GET /` (upstream samples the CPU for 1 s); default 0. */
  rootDelayMs?: number;
  /** Whether step() submits and cancels builds at random (default true); false leaves only the
   * executors and the farm's rounds, for tests that place every build themselves. */
  traffic?: boolean;
}

export interface ApbRecordedRequest {
  /** Server name, or 'farm'. */
  target: string;
  method: string;
  /** Path with query string. */
  path: string;
  authorization?: string;
}

interface Endpoint {
  mode: ApbServerMode;
  slowMs: number;
  url: string;
  http?: Server;
}

interface SimServer extends Endpoint {
  name: string;
  arch: string;
  model: ServerModel;
  peer: FarmPeer;
}

interface SimFarm extends Endpoint {
  model: FarmModel;
  token?: string;
  timeZone: string;
}

const PACKAGES = [
  'zlib', 'openssl', 'glibc', 'gcc', 'binutils', 'llvm', 'rust', 'go', 'nodejs', 'python', 'python-requests', 'python-numpy',
  'perl', 'ruby', 'bash', 'coreutils', 'systemd', 'linux', 'mesa', 'ffmpeg', 'firefox', 'qt6-base', 'gtk4', 'git', 'curl',
  'openssh', 'sqlite', 'vim', 'pacman', 'libreoffice-fresh',
];
const USERS = ['admin', 'kth5', 'alex', 'packager'];
/** The farm gives up on a server after 10 s (httpx timeout in core.get_server_info). */
const FARM_TIMEOUT_MS = 10_000;
const MAX_RECORDED = 20_000;

function uuid(rng: Rng): string {
  const h = rng.hex(32).split('');
  h[12] = '4';
  h[16] = rng.pick(['8', '9', 'a', 'b']);
  const s = h.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

function randomVersion(rng: Rng): string {
  const epoch = rng.chance(0.1) ? `${rng.int(1, 3)}:` : '';
  return `${epoch}${rng.int(0, 12)}.${rng.int(0, 30)}.${rng.int(0, 9)}-${rng.int(1, 3)}`;
}

export class ApbSimulator {
  /** Every request received (the most recent 20 000). The farm's own calls to servers are in-process and not listed. */
  readonly requests: ApbRecordedRequest[] = [];
  private readonly clock: Clock;
  private readonly rng: Rng;
  /** Randomness used while answering requests and for demo outages, so neither perturbs the simulation. */
  private readonly noise: Rng;
  private readonly servers: SimServer[];
  private readonly farm: SimFarm | undefined;
  private readonly rootDelayMs: number;
  private readonly traffic: boolean;
  private readonly delays = new Delays();
  private stepper: NodeJS.Timeout | undefined;
  private lastStep: number | undefined;
  private steps = 0;
  private nextOutage = 60;
  private outage: { name: string; until: number } | undefined;
  private seq = 0;
  private closed = false;

  constructor(options: ApbSimulatorOptions) {
    this.clock = options.clock;
    this.rng = new Rng(options.seed ?? 1);
    this.noise = new Rng(((options.seed ?? 1) ^ 0x5bd1e995) >>> 0);
    this.rootDelayMs = options.rootDelayMs ?? 0;
    this.traffic = options.traffic ?? true;
    if (options.servers.length === 0) throw new Error('APB simulator: at least one server is needed');
    if (new Set(options.servers.map((s) => s.name)).size !== options.servers.length || options.servers.some((s) => s.name === 'farm')) {
      throw new Error('APB simulator: server names must be unique and not "farm"');
    }
    const now = this.now();
    this.servers = options.servers.map((spec) => {
      const model = new ServerModel({ name: spec.name, arch: spec.arch, maxConcurrent: spec.maxConcurrent ?? 2, cores: spec.cores ?? 8 }, this.rng, now);
      const s = { name: spec.name, arch: spec.arch, model, mode: 'ok', slowMs: 0, url: '' } as SimServer;
      const reachable = (): boolean => s.mode === 'ok' || (s.mode === 'slow' && s.slowMs < FARM_TIMEOUT_MS);
      s.peer = {
        name: spec.name, arch: spec.arch, model, reachable,
        url: () => s.url,
        info: (t) => renderRoot(model, t),
        latencyMs: (root) => (s.mode === 'slow' ? Math.min(s.slowMs, FARM_TIMEOUT_MS) : 0) + (root && reachable() ? this.rootDelayMs : 0),
      };
      return s;
    });
    const farm = options.farm ?? {};
    if (farm && farm.timeZone !== undefined && !isTimeZone(farm.timeZone)) throw new Error(`APB simulator: unknown time zone ${farm.timeZone}`);
    this.farm = farm ? { model: new FarmModel(this.servers.map((s) => s.peer)), token: farm.token, timeZone: farm.timeZone ?? 'UTC', mode: 'ok', slowMs: 0, url: '' } : undefined;
  }

  /** Start every server's and the farm's listener on an ephemeral port of `host`. */
  async listen(host = '127.0.0.1'): Promise<{ farmUrl?: string; servers: { name: string; arch: string; url: string }[] }> {
    if (this.servers.some((s) => s.http)) throw new Error('APB simulator: already listening');
    for (const s of this.servers) await this.open(s, s.name, host, (req) => serverReply(s.model, req, this.now(), this.noise));
    const farm = this.farm;
    if (farm) await this.open(farm, 'farm', host, (req) => farmReply(farm.model, req, this.now(), farm));
    return { ...(farm ? { farmUrl: farm.url } : {}), servers: this.servers.map((s) => ({ name: s.name, arch: s.arch, url: s.url })) };
  }

  /** One step at clock.now(): executors finish and start builds, new builds arrive (about half
   * through the farm), rarely one is cancelled, host metrics drift, the farm does its rounds. */
  step(): void {
    const now = this.now();
    const dt = this.lastStep === undefined ? 30 : Math.min(600, Math.max(0, now - this.lastStep));
    this.lastStep = now;
    for (const s of this.servers) {
      s.model.tick(now);
      if (this.traffic) {
        // Builds average about 150 s; arrivals keep each server about 60 % busy.
        if (this.rng.chance(1 - Math.exp((-dt * 0.6 * s.model.spec.maxConcurrent) / 150))) this.spawn(s, now);
        const victims = s.model.cancellable();
        if (victims.length > 0 && this.rng.chance(1 - Math.exp(-dt / 3000))) s.model.cancel(this.rng.pick(victims), now);
      }
      s.model.updateMetrics();
    }
    this.farm?.model.tick(now);
  }

  /** Demo: step every `stepMs`; every ~60 steps one server is down for 3 to 8 steps. */
  start(opts: { stepMs: number }): void {
    this.stop();
    this.stepper = setInterval(() => {
      this.step();
      this.demoOutage();
    }, opts.stepMs);
  }

  /** Stops the timer only. */
  stop(): void {
    if (this.stepper) clearInterval(this.stepper);
    this.stepper = undefined;
  }

  /** 'down' resets every connection (the port stays bound, so 'ok' brings it back on the same port);
   * 'slow' delays every answer by `slowMs` (default 5000). */
  setServerMode(name: string, mode: ApbServerMode, slowMs = 5000): void {
    this.setMode(this.server(name), mode, slowMs);
  }

  setFarmMode(mode: ApbServerMode, slowMs = 5000): void {
    if (!this.farm) throw new Error('APB simulator: there is no farm');
    this.setMode(this.farm, mode, slowMs);
  }

  /** Submit a build to a server (queued there), or with `viaFarm` to the farm (queued on the farm,
   * pinned to that server; forwarded by the next step(), or by startBuild/finishBuild). */
  submit(server: string, pkgname: string, opts: { viaFarm?: boolean; buildId?: string; version?: string } = {}): string {
    const s = this.server(server);
    const now = this.now();
    const version = opts.version ?? randomVersion(this.rng);
    if (opts.buildId !== undefined && (this.servers.some((x) => x.model.has(opts.buildId as string)) || this.farm?.model.builds.has(opts.buildId))) {
      throw new Error(`APB simulator: build ${opts.buildId} already exists`);
    }
    if (opts.viaFarm) {
      if (!this.farm) throw new Error('APB simulator: there is no farm');
      const id = opts.buildId ?? uuid(this.rng);
      this.farm.model.submit(id, pkgname, s.arch, now, { version, username: 'admin', pinned: s.peer });
      return id;
    }
    const id = opts.buildId ?? `${pkgname}-${String(++this.seq).padStart(4, '0')}`;
    s.model.submit(id, pkgname, now, version);
    return id;
  }

  /** queued -> building (start_time = now), whatever the server's free slots. */
  startBuild(buildId: string): void {
    this.holder(buildId).model.start(buildId, this.now());
  }

  /** -> completed (packages, build.log, exit_code 0) or failed (build.log only, exit_code 1); starts it first if queued. */
  finishBuild(buildId: string, status: 'completed' | 'failed'): void {
    this.holder(buildId).model.finish(buildId, status, this.now());
  }

  /** Upstream's cancel: the record says cancelled and is copied to history, so it is listed twice,
   * but the build is not stopped and its later progress overwrites the status. A build still
   * queued on the farm is dropped from the farm queue instead. */
  cancelBuild(buildId: string): void {
    const now = this.now();
    const fb = this.farm?.model.builds.get(buildId);
    if (this.farm?.model.cancelQueued(buildId, now)) return;
    this.holder(buildId).model.cancel(buildId, now);
    if (fb?.viaFarm) Object.assign(fb, { status: 'cancelled', end: now });
  }

  /** Upstream state is memory-only: every build of that server vanishes. */
  restartServer(name: string): void {
    this.server(name).model.restart();
  }

  async close(): Promise<void> {
    this.stop();
    this.closed = true;
    this.delays.wakeAll();
    const endpoints: Endpoint[] = [...this.servers, ...(this.farm ? [this.farm] : [])];
    await Promise.all(
      endpoints.map((e) => {
        const http = e.http;
        e.http = undefined;
        return closeSim(http);
      }),
    );
  }

  private now(): number {
    return this.clock.now() / 1000;
  }

  private server(name: string): SimServer {
    const s = this.servers.find((x) => x.name === name);
    if (!s) throw new Error(`APB simulator: no server ${name}`);
    return s;
  }

  /** The server holding a build; a build still queued on the farm is forwarded to its server first. */
  private holder(id: string): SimServer {
    const fb = this.farm?.model.builds.get(id);
    if (this.farm && fb && !fb.server && fb.status === 'queued') {
      const peer = fb.pinned ?? this.servers.find((s) => s.arch === fb.arch)?.peer;
      if (peer) this.farm.model.forward(fb, peer, this.now());
    }
    const s = this.servers.find((x) => x.model.active.has(id));
    if (!s) throw new Error(`APB simulator: no server holds build ${id}`);
    return s;
  }

  private spawn(s: SimServer, now: number): void {
    const pkg = this.rng.pick(PACKAGES);
    const version = randomVersion(this.rng);
    if (this.farm && this.rng.chance(0.5)) {
      this.farm.model.submit(uuid(this.rng), pkg, s.arch, now, { version, username: this.rng.pick(USERS) });
    } else {
      const id = this.rng.chance(0.5) ? uuid(this.rng) : `${pkg}-${String(++this.seq).padStart(4, '0')}`;
      s.model.submit(id, pkg, now, version, pkg.startsWith('python-'));
    }
  }

  private demoOutage(): void {
    this.steps++;
    if (this.outage && this.steps >= this.outage.until) {
      const s = this.server(this.outage.name);
      if (s.mode === 'down') this.setMode(s, 'ok', 0);
      this.outage = undefined;
    }
    if (!this.outage && this.steps >= this.nextOutage) {
      const s = this.noise.pick(this.servers);
      if (s.mode === 'ok') {
        this.setMode(s, 'down', 0);
        this.outage = { name: s.name, until: this.steps + this.noise.int(3, 8) };
      }
      this.nextOutage = this.steps + this.noise.int(50, 70);
    }
  }

  private setMode(e: Endpoint, mode: ApbServerMode, slowMs: number): void {
    e.mode = mode;
    e.slowMs = mode === 'slow' ? slowMs : 0;
    if (mode === 'down') e.http?.closeAllConnections();
  }

  private async open(e: Endpoint, target: string, host: string, answer: (req: SimRequest) => Reply): Promise<void> {
    // 'down': the port stays bound but every connection is reset at once.
    const { server, url } = await listenSim(host, (req, res) => void this.serve(e, target, answer, req, res), () => e.mode === 'down');
    e.http = server;
    e.url = url;
  }

  private async serve(e: Endpoint, target: string, answer: (req: SimRequest) => Reply, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const authorization = req.headers.authorization;
    this.requests.push({ target, method, path, ...(authorization !== undefined ? { authorization } : {}) });
    if (this.requests.length > MAX_RECORDED) this.requests.splice(0, this.requests.length - MAX_RECORDED);
    const url = new URL(path, 'http://apb.invalid');
    const mode = e.mode;
    let reply: Reply;
    try {
      reply = faulty(answer({ method, url, headers: req.headers }), mode);
    } catch (err) {
      reply = { status: 500, type: 'application/json', body: JSON.stringify({ error: 'Internal server error', detail: String(err), type: 'Exception' }) };
    }
    let delay = mode === 'ok' || mode === 'slow' ? (reply.delayMs ?? 0) : 0;
    if (target !== 'farm' && method === 'GET' && url.pathname === '/' && (mode === 'ok' || mode === 'slow')) delay += this.rootDelayMs;
    if (mode === 'slow') delay += e.slowMs;
    if (delay > 0) await this.delays.sleep(delay);
    if (this.closed || res.destroyed) return;
    res.writeHead(reply.status, { 'content-type': reply.type, 'content-length': Buffer.byteLength(reply.body), server: 'uvicorn', ...reply.headers });
    res.end(method === 'HEAD' ? undefined : reply.body);
  }
}
