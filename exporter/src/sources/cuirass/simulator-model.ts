/**
 * The Cuirass simulator's database: specifications, evaluations and builds (guix-cuirass
 * src/cuirass/database.scm enums), advanced in time order to a given instant. Pure: time comes in
 * as arguments (ms), randomness from the injected seeded Rng. Times in records are epoch seconds,
 * as Cuirass stores them.
 */
import type { Rng } from '../girar/prng.js';

/** Build status: -3 submitted, -2 scheduled, -1 started, 0 succeeded, 1 failed, 2 failed-dependency, 3 failed-other, 4 canceled. */
export type BuildStatus = -3 | -2 | -1 | 0 | 1 | 2 | 3 | 4;
/** Evaluation status: -1 started, 0 succeeded, 1 failed, 2 aborted. */
export type EvalStatus = -1 | 0 | 1 | 2;

export interface SimSpec {
  name: string;
  systems: string[];
  jobs: number;
  /** Seconds between evaluations (Cuirass `period`; 0 = poll every 60 s). */
  period: number;
  failRate: number;
  priority: number;
  build: string;
  channels: { name: string; url: string; branch: string; commit: string | null }[];
}

export interface SimEvaluation {
  id: number;
  spec: string;
  status: EvalStatus;
  timestamp: number;
  checkouttime: number;
  evaltime: number;
  checkouts: { commit: string; channel: string; directory: string }[];
  /** When step() finishes it (ms), and with what. */
  dueMs: number;
  outcome: 0 | 1 | 2;
}

export interface SimBuild {
  id: number;
  evaluation: number;
  spec: string;
  job: string;
  system: string;
  nixname: string;
  derivation: string;
  outputs: Record<string, string>;
  status: BuildStatus;
  weather: number;
  priority: number;
  /** Creation time (s). */
  timestamp: number;
  starttime: number;
  stoptime: number;
  /** Next automatic transition (ms): scheduling, then the end of the run. */
  dueMs: number;
  /** Status it will finish with when started by step(). */
  outcome: 0 | 1 | 2 | 3;
}

/** Running builds per system that step() allows. */
const SLOTS_PER_SYSTEM = 4;
const PACKAGES = ['hello', 'coreutils', 'bash', 'gcc-toolchain', 'guile', 'python', 'openssl', 'emacs', 'git', 'perl', 'glibc', 'linux-libre', 'icecat', 'ruby', 'rust', 'ghc', 'ocaml', 'sqlite', 'curl', 'zlib'];
export const sec = (ms: number): number => Math.floor(ms / 1000);

export class CuirassModel {
  specs: SimSpec[] = [];
  evaluations: SimEvaluation[] = [];
  builds: SimBuild[] = [];
  private nextEval = 1;
  private nextBuild = 1;
  /** Last finished status per `spec/job/system`, for the weather. */
  private lastStatus = new Map<string, number>();
  /** When each spec evaluates next (ms). */
  private nextEvalAt = new Map<string, number>();
  /** When a build slot of each system was last freed (ms). */
  private freedAt = new Map<string, number>();

  constructor(private readonly rng: Rng) {}

  addSpec(spec: SimSpec, firstEvalMs: number): void {
    this.specs.push(spec);
    this.nextEvalAt.set(spec.name, firstEvalMs);
  }

  spec(name: string): SimSpec | undefined {
    return this.specs.find((s) => s.name === name);
  }

  build(id: number): SimBuild | undefined {
    return this.builds.find((b) => b.id === id);
  }

  evaluation(id: number): SimEvaluation | undefined {
    return this.evaluations.find((e) => e.id === id);
  }

  /** A wiped database: no evaluations or builds, ids from 1 again; specifications registered anew. */
  reset(nowMs: number): void {
    this.evaluations = [];
    this.builds = [];
    this.nextEval = 1;
    this.nextBuild = 1;
    this.lastStatus.clear();
    this.freedAt.clear();
    for (const s of this.specs) this.nextEvalAt.set(s.name, nowMs);
  }

  /** Start an evaluation at `atMs`: checkout done a few seconds later, evaluation done later still. */
  startEvaluation(specName: string, atMs: number): SimEvaluation {
    const spec = this.spec(specName);
    if (!spec) throw new Error(`cuirass simulator: no specification ${specName}`);
    const checkoutMs = atMs + this.rng.int(2, 20) * 1000;
    const r = this.rng.next();
    const outcome: 0 | 1 | 2 = r < spec.failRate / 4 ? 1 : r < spec.failRate / 4 + 0.02 ? 2 : 0;
    const ev: SimEvaluation = {
      id: this.nextEval++, spec: spec.name, status: -1, timestamp: sec(atMs), checkouttime: sec(checkoutMs), evaltime: 0,
      checkouts: spec.channels.map((c) => {
        const commit = this.rng.hex(40);
        return { commit, channel: c.name, directory: `/gnu/store/${storeHash(this.rng)}-${c.name}-${commit.slice(0, 7)}` };
      }),
      dueMs: checkoutMs + this.rng.int(20, 180) * 1000, outcome,
    };
    this.evaluations.push(ev);
    this.nextEvalAt.set(spec.name, atMs + Math.max(60, spec.period) * 1000);
    return ev;
  }

  /** Finish evaluation `ev` at `atMs`; a successful one submits a build per job and system. */
  finishEvaluation(ev: SimEvaluation, status: 0 | 1 | 2, atMs: number): SimBuild[] {
    if (ev.status !== -1) throw new Error(`cuirass simulator: evaluation ${ev.id} is not running`);
    ev.status = status;
    ev.evaltime = Math.max(ev.checkouttime, sec(atMs));
    if (ev.checkouttime > ev.evaltime) ev.checkouttime = ev.evaltime;
    if (status !== 0) return [];
    const spec = this.spec(ev.spec);
    if (!spec) return [];
    const out: SimBuild[] = [];
    for (let j = 0; j < spec.jobs; j++) {
      const pkg = `${PACKAGES[j % PACKAGES.length] ?? 'pkg'}${j >= PACKAGES.length ? `-${Math.floor(j / PACKAGES.length)}` : ''}`;
      const nixname = `${pkg}-${1 + (j % 4)}.${j % 10}.${ev.id % 7}`;
      for (const system of spec.systems) {
        const hash = storeHash(this.rng);
        const r = this.rng.next();
        const b: SimBuild = {
          id: this.nextBuild++, evaluation: ev.id, spec: spec.name, job: `${pkg}.${system}`, system, nixname,
          derivation: `/gnu/store/${hash}-${nixname}.drv`, outputs: { out: `/gnu/store/${storeHash(this.rng)}-${nixname}` },
          status: -3, weather: -1, priority: spec.priority, timestamp: sec(atMs), starttime: 0, stoptime: 0,
          dueMs: atMs + this.rng.int(1, 15) * 1000, outcome: r < spec.failRate ? (r < spec.failRate / 5 ? 2 : 1) : 0,
        };
        this.builds.push(b);
        out.push(b);
      }
    }
    return out;
  }

  startBuild(b: SimBuild, atMs: number): void {
    if (b.status >= 0) throw new Error(`cuirass simulator: build ${b.id} has finished`);
    b.status = -1;
    b.starttime = sec(atMs);
    b.dueMs = atMs + this.rng.int(20, 600) * 1000;
  }

  finishBuild(b: SimBuild, status: 0 | 1 | 2 | 3 | 4, atMs: number): void {
    if (b.status >= 0) throw new Error(`cuirass simulator: build ${b.id} has finished`);
    const key = `${b.spec}/${b.job}/${b.system}`;
    const last = this.lastStatus.get(key);
    b.weather = weather(status, last);
    b.status = status;
    b.stoptime = sec(atMs);
    if (b.starttime === 0 && status !== 4) b.starttime = b.stoptime;
    this.lastStatus.set(key, status);
    this.freedAt.set(b.system, Math.max(this.freedAt.get(b.system) ?? 0, atMs));
  }

  /** Apply every transition due up to `nowMs`, earliest first. */
  advance(nowMs: number): void {
    for (let guard = 0; guard < 1_000_000; guard++) {
      const next = this.nextEvent(nowMs);
      if (!next) return;
      next();
    }
  }

  private nextEvent(nowMs: number): (() => void) | undefined {
    let best = Infinity;
    let act: (() => void) | undefined;
    const consider = (t: number, f: () => void): void => {
      if (t <= nowMs && t < best) [best, act] = [t, f];
    };
    for (const s of this.specs) {
      const t = this.nextEvalAt.get(s.name) ?? Infinity;
      consider(t, () => this.startEvaluation(s.name, t));
    }
    for (const ev of this.evaluations) if (ev.status === -1) consider(ev.dueMs, () => this.finishEvaluation(ev, ev.outcome, ev.dueMs));
    const running = new Map<string, number>();
    for (const b of this.builds) if (b.status === -1) running.set(b.system, (running.get(b.system) ?? 0) + 1);
    for (const b of this.builds) {
      if (b.status === -3) consider(b.dueMs, () => void (b.status = -2));
      else if (b.status === -1) consider(b.dueMs, () => this.finishBuild(b, b.outcome, b.dueMs));
    }
    // A free slot takes the first scheduled build (priority, then age, then id), once scheduled and freed.
    for (const system of new Set(this.builds.filter((b) => b.status === -2).map((b) => b.system))) {
      if ((running.get(system) ?? 0) >= SLOTS_PER_SYSTEM) continue;
      const b = this.builds.filter((x) => x.status === -2 && x.system === system).sort(queueOrder)[0];
      if (b) {
        const t = Math.max(b.dueMs, this.freedAt.get(system) ?? 0);
        consider(t, () => this.startBuild(b, t));
      }
    }
    return act;
  }
}

/** build-status->weather: -1 unknown, 0 new-success, 1 new-failure, 2 still-succeeding, 3 still-failing. */
export function weather(status: number, last: number | undefined): number {
  if (status < 0 || last === undefined || status === 4 || last === 4) return -1;
  if (status === 0) return last === 0 ? 2 : 0;
  return last === 0 ? 1 : 3;
}

/** `status DESC, priority ASC, timestamp ASC, id ASC` (status+submission-time). */
export function queueOrder(a: SimBuild, b: SimBuild): number {
  return b.status - a.status || a.priority - b.priority || a.timestamp - b.timestamp || a.id - b.id;
}

const NIX32 = '0123456789abcdfghijklmnpqrsvwxyz';
function storeHash(rng: Rng): string {
  let s = '';
  for (let i = 0; i < 32; i++) s += NIX32[rng.int(0, 31)] ?? '0';
  return s;
}
