/**
 * The APB simulator's build servers: each one's in-memory engine (kth5/apb
 * `src/apb/server/engine.py`, `routes.py`); the farm is in simulator-farm.ts. Pure: time comes in as float epoch seconds from the
 * caller's clock, randomness from a seeded PRNG. Build records are plain objects mutated in
 * upstream's order, so their key order is Python's.
 */
import type { Rng } from '../girar/prng.js';

export const APB_VERSION = '2026-06-30';
export type ApbBuildStatus = 'queued' | 'building' | 'completed' | 'failed' | 'cancelled';
export type JsonObject = Record<string, unknown>;

export interface ApbArtifact {
  filename: string;
  size: number;
  download_url: string;
}

/** The raw in-memory record that `GET /build/{id}/status-api` returns. */
export interface ApbBuildRecord {
  build_id: string;
  pkgname: string;
  status: ApbBuildStatus;
  created_at: number;
  arch: string[];
  packages: ApbArtifact[];
  logs: ApbArtifact[];
  build_timeout: number;
  extra_repos: unknown[];
  start_time?: number;
  exit_code?: number;
  end_time?: number;
  duration?: number;
}

export interface ServerSpec {
  name: string;
  arch: string;
  maxConcurrent: number;
  cores: number;
}

/** What happens to a build, drawn when it is submitted. */
interface BuildPlan {
  version: string;
  durationSec: number;
  outcome: 'completed' | 'failed';
  packageSize: number;
  debugPackage: boolean;
  logSize: number;
}

export interface HostState {
  memTotal: number;
  memUsed: number;
  diskTotal: number;
  diskUsed: number;
  bootSec: number;
  load: [number, number, number];
  cpu: number;
  pid: number;
}

export const GIB = 1024 ** 3;

export class ServerModel {
  /** Builds by id, in submission order; finished builds stay here (upstream never removes them). */
  readonly active = new Map<string, ApbBuildRecord>();
  /** Copies taken when a build finishes or is cancelled. */
  readonly history = new Map<string, ApbBuildRecord>();
  /** Builds waiting for an executor slot, first in first out (status is not consulted). */
  private queue: string[] = [];
  /** Builds holding a slot: a cancelled build keeps its slot, its makechrootpkg goes on. */
  private readonly running = new Set<string>();
  private readonly plans = new Map<string, BuildPlan>();
  /** The host's figures behind `GET /` and `GET /health`. */
  readonly host: HostState;
  private lastTrim: number;

  constructor(readonly spec: ServerSpec, private readonly rng: Rng, nowSec: number) {
    const memTotal = rng.pick([16, 32, 64, 128]) * GIB - rng.int(0, 900) * 2 ** 20;
    const diskTotal = rng.int(250, 2000) * GIB;
    this.host = {
      memTotal, diskTotal, diskUsed: diskTotal * (0.05 + rng.next() * 0.4), bootSec: nowSec - rng.int(3_600, 90 * 86_400),
      memUsed: 0.15 * GIB + rng.next() * 0.2 * GIB, cpu: 1, pid: 0,
      load: [0.2, 0.3, 0.4].map((x) => x * (0.5 + rng.next())) as [number, number, number],
    };
    this.lastTrim = nowSec;
    this.restart();
  }

  /** Upstream keeps everything in memory: a restart forgets every build. */
  restart(): void {
    this.active.clear();
    this.history.clear();
    this.queue = [];
    this.running.clear();
    this.plans.clear();
    this.host.pid = this.rng.int(1_000, 60_000);
  }

  has(id: string): boolean {
    return this.active.has(id) || this.history.has(id);
  }

  /** `POST /build`: the record as routes.submit_build creates it, then queued for the executor. */
  submit(id: string, pkgname: string, nowSec: number, version: string, anyArch = false): ApbBuildRecord {
    if (this.has(id)) throw new Error(`APB simulator: build ${id} already exists on ${this.spec.name}`);
    const r = this.rng;
    const long = r.weighted<[number, number]>([[[15, 90], 6], [[90, 300], 3], [[300, 900], 1]]);
    this.plans.set(id, {
      version,
      durationSec: r.int(long[0], long[1]) + r.next(),
      outcome: r.chance(0.82) ? 'completed' : 'failed',
      packageSize: r.int(40_000, 30_000_000),
      debugPackage: r.chance(0.2),
      logSize: r.int(2_000, 400_000),
    });
    const record: ApbBuildRecord = {
      build_id: id, pkgname, status: 'queued', created_at: nowSec, arch: [anyArch ? 'any' : this.spec.arch],
      packages: [], logs: [], build_timeout: 7200, extra_repos: [],
    };
    this.active.set(id, record);
    this.queue.push(id);
    return record;
  }

  /** engine.build_package taking the build: status and start_time, whatever the status was. */
  start(id: string, nowSec: number): void {
    const rec = this.get(id);
    if (this.running.has(id) || !this.queue.includes(id)) throw new Error(`APB simulator: build ${id} is not waiting to start`);
    this.queue = this.queue.filter((q) => q !== id);
    this.running.add(id);
    rec.status = 'building';
    rec.start_time = nowSec;
  }

  /** The end of build_package: exit code, packages, end_time, duration, build.log, history copy. */
  finish(id: string, status: 'completed' | 'failed', nowSec: number): void {
    const rec = this.get(id);
    if (this.queue.includes(id)) this.start(id, nowSec);
    if (!this.running.has(id)) throw new Error(`APB simulator: build ${id} has already finished`);
    const plan = this.plans.get(id) as BuildPlan;
    const file = (filename: string, size: number): ApbArtifact => ({ filename, size, download_url: `/build/${id}/download/${filename}` });
    rec.status = status;
    rec.exit_code = status === 'completed' ? 0 : 1;
    if (status === 'completed') {
      const arch = rec.arch[0] === 'any' ? 'any' : this.spec.arch;
      rec.packages = [file(`${rec.pkgname}-${plan.version}-${arch}.pkg.tar.zst`, plan.packageSize)];
      if (plan.debugPackage) rec.packages.push(file(`${rec.pkgname}-debug-${plan.version}-${arch}.pkg.tar.zst`, Math.round(plan.packageSize * 2.7)));
    }
    rec.end_time = nowSec;
    rec.duration = nowSec - (rec.start_time ?? nowSec);
    rec.logs = [file('build.log', status === 'completed' ? plan.logSize : Math.min(plan.logSize, 30_000))];
    this.running.delete(id);
    this.history.set(id, copy(rec));
    this.host.diskUsed += rec.packages.reduce((sum, p) => sum + p.size, 0) + plan.logSize;
  }

  /** routes.cancel_build: marks the record and copies it to history but leaves it in `active` and
   * does not stop the build, which later overwrites the status. Returns false when already finished. */
  cancel(id: string, nowSec: number): boolean {
    const rec = this.get(id);
    if (rec.status === 'completed' || rec.status === 'failed' || rec.status === 'cancelled') return false;
    rec.status = 'cancelled';
    rec.end_time = nowSec;
    if (rec.start_time !== undefined) rec.duration = rec.end_time - rec.start_time;
    this.history.set(id, copy(rec));
    return true;
  }

  /** Executor work: finish builds whose time is up, then fill free slots from the queue. */
  tick(nowSec: number): void {
    for (const id of [...this.running]) {
      const rec = this.get(id);
      const plan = this.plans.get(id) as BuildPlan;
      const due = (rec.start_time ?? nowSec) + plan.durationSec;
      if (due <= nowSec) this.finish(id, plan.outcome, due);
    }
    while (this.running.size < this.spec.maxConcurrent && this.queue.length > 0) this.start(this.queue[0] as string, nowSec);
    // engine.cleanup_build_data, hourly: history over 100 is cut to the 50 newest.
    if (nowSec - this.lastTrim > 3600) {
      this.lastTrim = nowSec;
      if (this.history.size > 100) {
        const keep = [...this.history].sort((a, b) => (b[1].end_time ?? b[1].created_at) - (a[1].end_time ?? a[1].created_at)).slice(0, 50);
        this.history.clear();
        for (const [id, rec] of keep) this.history.set(id, rec);
      }
    }
  }

  /** Host metrics drift toward what the running builds would cause. */
  updateMetrics(): void {
    const r = this.rng;
    const h = this.host;
    const busy = this.running.size / this.spec.maxConcurrent;
    const target = busy > 0 ? this.spec.cores * busy * (0.6 + 0.6 * r.next()) : 0.05 + 0.4 * r.next();
    h.load = h.load.map((l, i) => l + (target - l) * [0.6, 0.2, 0.07][i]!) as [number, number, number];
    h.cpu = busy > 0 ? Math.min(100, 100 * busy * (0.7 + 0.3 * r.next())) : 3 * r.next();
    const perBuild = (0.8 + 2.5 * r.next()) * GIB;
    h.memUsed = Math.min(h.memTotal * 0.97, 0.15 * GIB + r.next() * 0.15 * GIB + this.running.size * perBuild);
  }

  /** Builds holding an executor slot (upstream's running_processes). */
  get runningCount(): number {
    return this.running.size;
  }

  /** The list behind `GET /builds/latest`: history then active concatenated, so a finished build
   * appears twice, filtered by status, newest first by created_at. */
  listing(status: string | null): ApbBuildRecord[] {
    const all = [...this.history.values(), ...this.active.values()].filter((b) => !status || b.status === status);
    return all.sort((x, y) => y.created_at - x.created_at);
  }

  /** What `status-api` answers: the active record, else the history copy. */
  record(id: string): ApbBuildRecord | undefined {
    return this.active.get(id) ?? this.history.get(id);
  }

  /** Active builds that are still queued or building, for random cancels. */
  cancellable(): string[] {
    return [...this.active.values()].filter((b) => b.status === 'queued' || b.status === 'building').map((b) => b.build_id);
  }

  private get(id: string): ApbBuildRecord {
    const rec = this.active.get(id);
    if (!rec) throw new Error(`APB simulator: no build ${id} on ${this.spec.name}`);
    return rec;
  }
}

function copy(rec: ApbBuildRecord): ApbBuildRecord {
  return { ...rec, packages: [...rec.packages], logs: [...rec.logs] };
}
