/**
 * A Koji hub (1.35) simulator: one loopback HTTP(S) server answering Koji's XML-RPC at /kojihub
 * in the hub's shapes (simulator-rows.ts) with its argument rules (simulator-args.ts), over a
 * model of four build hosts where users submit builds whose tasks are scheduled, run and finish
 * (build -> buildSRPMFromSCM -> buildArch per arch -> tagBuild), tagging queues repo requests
 * served by newRepo/createrepo tasks, all driven by an injected clock. Tests drive it with a
 * ManualClock, step() and the control methods; demo mode steps it on a timer.
 */
import { createServer as createHttps } from 'node:https';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../util/clock.js';
import { Rng } from '../girar/prng.js';
import { SimulatorShell } from '../sim-http.js';
import { PACKAGES, TARGETS, type SimHost } from './simulator-data.js';
import { answer, faulty, MAX_REQUEST_BYTES, type KojiMode, type Reply } from './simulator-http.js';
import { KojiModel } from './simulator-model.js';
import { TASK, type FinalState, type SimTask } from './simulator-records.js';

export type { KojiMode } from './simulator-http.js';
export { HOST_NAMES } from './simulator-data.js';

export interface KojiSimulatorOptions {
  clock: Clock;
  /** PRNG seed (default 1). */
  seed?: number;
  /** Pre-run an hour of sim time before clock.now(), so a first poll sees finished and active tasks (default true). */
  history?: boolean;
  /** Users submit builds at random every 1-9 min of sim time (default true; ignored when manual). */
  workload?: boolean;
  /** No automatic scheduling, runs or submissions: tasks move only through the control methods (default false). */
  manual?: boolean;
  /** 0..1: share of buildArch tasks that fail (SRPM builds fail at a third of it). Default 0.06. */
  failRate?: number;
  /** Demo: the database is down (fault 1014) for `durationSeconds` at the end of every `periodSeconds` of sim
   * time, counted from construction; `true` = 30 s every 10 min. Default off. */
  offlineEvery?: boolean | { periodSeconds: number; durationSeconds: number };
  /** Tasks, builds and events kept (the oldest finished dropped first). Default 20 000. */
  maxRecords?: number;
  /** Serve HTTPS with this key pair (and ask for client certificates with requestCert). */
  tls?: { cert: string | Buffer; key: string | Buffer; ca?: string | Buffer; requestCert?: boolean };
}

const MAX_RECORDED = 20_000;
const HISTORY_MS = 3_600_000;
export type TaskEnd = 'CLOSED' | 'FAILED' | 'CANCELED';

export class KojiSimulator extends SimulatorShell<KojiMode> {
  /** The method names of every XML-RPC request received (the most recent 20 000): the method, then each multiCall entry's. */
  readonly calls: string[][] = [];
  private readonly clock: Clock;
  private readonly model: KojiModel;
  private readonly startMs: number;
  private readonly options: KojiSimulatorOptions;

  constructor(options: KojiSimulatorOptions) {
    super('koji simulator', 'ok');
    this.options = options;
    this.clock = options.clock;
    const seed = options.seed ?? 1;
    const manual = options.manual ?? false;
    this.startMs = this.clock.now();
    const history = (options.history ?? true) && !manual;
    const failRate = Math.min(1, Math.max(0, options.failRate ?? 0.06));
    const opts = { workload: (options.workload ?? true) && !manual, manual, failRate, maxRecords: Math.max(10, Math.floor(options.maxRecords ?? 20_000)) };
    this.model = new KojiModel(new Rng(seed), new Rng(seed ^ 0x5eed), opts, history ? this.startMs - HISTORY_MS : this.startMs);
    this.model.advance(this.startMs);
  }

  /** Listen on an ephemeral port of `host`; returns the base URL (the hub is at `${url}/kojihub`). */
  override async listen(host = '127.0.0.1'): Promise<string> {
    if (!this.options.tls) return super.listen(host);
    if (this.http) throw new Error('koji simulator: already listening');
    const handler = (req: IncomingMessage, res: ServerResponse): void => void this.serve(req, res);
    const { cert, key, ca, requestCert } = this.options.tls;
    const server = createHttps({ cert, key, ...(ca ? { ca } : {}), requestCert: requestCert ?? false, rejectUnauthorized: requestCert ?? false }, handler);
    server.on('connection', (socket) => {
      if (this.mode === 'down') socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.http = server;
    return `https://${host.includes(':') ? `[${host}]` : host}:${(server.address() as AddressInfo).port}`;
  }

  /** Everything due up to clock.now(), in time order: host check-ins every 15 s (update_ts); every 5 s
   * the scheduler gives newRepo tasks to pending repo requests and FREE tasks (priority, then id) to the
   * least loaded enabled, alive, ready host of their channel and arch with room for their weight;
   * ASSIGNED tasks open 1-4 s later; leaf tasks finish after their run (CLOSED, or FAILED at the fail
   * rate); parents react to their children (see KojiModel); users submit builds every 1-9 min. */
  step(): void {
    this.model.advance(this.clock.now());
  }

  /** Whether calls now answer fault 1014 (mode 'offline' or an offlineEvery window). */
  isOffline(): boolean {
    if (this.mode === 'offline') return true;
    const every = this.options.offlineEvery === true ? { periodSeconds: 600, durationSeconds: 30 } : this.options.offlineEvery;
    if (!every || every.periodSeconds <= 0) return false;
    const period = every.periodSeconds * 1000;
    const phase = (((this.clock.now() - this.startMs) % period) + period) % period;
    return phase >= period - Math.min(period, every.durationSeconds * 1000);
  }

  /** `owner` submits `build(git+https://src.example.org/rpms/<pkg>.git#<sha>, target, {})` now; returns the task id. */
  submitBuild(owner: string, pkg: string, target = 'f41-candidate'): number {
    this.step();
    const user = this.model.users.find((u) => u.name === owner && u.type === 0);
    if (!user) throw new Error(`koji simulator: no user ${owner}`);
    if (!TARGETS.some((t) => t.name === target)) throw new Error(`koji simulator: no target ${target}`);
    const p = PACKAGES.find((x) => x.name === pkg) ?? { id: 100 + PACKAGES.length, name: pkg, version: '1.0', noarch: false };
    return this.model.submitBuild(user, p, target, this.clock.now()).id;
  }

  /** Assign a FREE task now: to `hostName` (which must be enabled and have the task's channel and arch;
   * capacity is not checked), or to the host the scheduler would pick. */
  assignTask(id: number, hostName?: string): void {
    this.step();
    const t = this.task(id);
    let host: SimHost | undefined;
    if (hostName === undefined) host = this.model.pickHost(t);
    else {
      host = this.model.host(hostName);
      if (host && !(host.enabled && host.channels.includes(t.channelId) && (t.arch === 'noarch' || host.arches.includes(t.arch)))) throw new Error(`koji simulator: host ${hostName} cannot take task ${id}`);
    }
    if (!host) throw new Error(`koji simulator: no host for task ${id}`);
    this.model.assign(t, host, this.clock.now());
  }

  /** Open an ASSIGNED task now (a build or newRepo task starts its first subtasks). */
  openTask(id: number): void {
    this.step();
    this.model.open(this.task(id), this.clock.now());
  }

  /** End a task now; its parent reacts (next stage, or FAILED), unfinished subtasks are canceled. */
  finishTask(id: number, state: TaskEnd): void {
    this.step();
    const s: FinalState = state === 'CLOSED' ? TASK.CLOSED : state === 'FAILED' ? TASK.FAILED : TASK.CANCELED;
    this.model.finish(this.task(id), s, this.clock.now());
  }

  /** A dead host stops checking in (update_ts frozen), is not ready, and its tasks do not progress. */
  setHostAlive(name: string, alive: boolean): void {
    this.step();
    this.model.setHostAlive(this.host(name), alive, this.clock.now());
  }

  /** Enable or disable a host (a new event); a disabled host takes no new tasks. */
  setHostEnabled(name: string, enabled: boolean): void {
    this.step();
    this.model.setHostEnabled(this.host(name), enabled, this.clock.now());
  }

  /** A wiped database: tasks, builds, events and repo requests gone, ids (events too) from 1 again; hosts kept. */
  resetDatabase(): void {
    this.model.reset(this.clock.now());
  }

  private task(id: number): SimTask {
    const t = this.model.task(id);
    if (!t) throw new Error(`koji simulator: no task ${id}`);
    return t;
  }

  private host(name: string): SimHost {
    const h = this.model.host(name);
    if (!h) throw new Error(`koji simulator: no host ${name}`);
    return h;
  }

  protected async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size <= MAX_REQUEST_BYTES) chunks.push(chunk as Buffer);
    }
    const mode = this.mode;
    let reply: Reply;
    try {
      const out = answer(this.model, req.method ?? 'GET', req.url ?? '/', size <= MAX_REQUEST_BYTES ? Buffer.concat(chunks) : undefined, this.isOffline());
      if (out.calls) {
        this.calls.push(out.calls);
        if (this.calls.length > MAX_RECORDED) this.calls.splice(0, this.calls.length - MAX_RECORDED);
      }
      reply = faulty(out.reply, mode);
    } catch {
      reply = faulty({ status: 500, headers: { 'content-type': 'text/plain' }, body: Buffer.from('Internal Server Error') }, mode);
    }
    await this.send(req, res, reply, mode);
  }
}
