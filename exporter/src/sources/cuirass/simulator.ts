/**
 * A GNU Guix Cuirass (`cuirass web`, 1.2-era) simulator: one loopback HTTP server answering
 * Cuirass's JSON API in upstream's shapes, with specifications evaluated on their period, and each
 * successful evaluation submitting builds that are scheduled, started on a few slots per system and
 * finished, all driven by an injected clock. Tests drive it with a ManualClock, step() and the
 * control methods; demo mode steps it on a timer. Life cycle: simulator-model.ts; routes and bodies:
 * simulator-http.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../util/clock.js';
import { Rng } from '../girar/prng.js';
import { SimulatorShell } from '../sim-http.js';
import { faulty, route, type CuirassMode, type Reply } from './simulator-http.js';
import { CuirassModel, type SimBuild, type SimSpec } from './simulator-model.js';

export type { CuirassMode } from './simulator-http.js';

export interface CuirassSimSpecSpec {
  name: string;
  systems: string[];
  /** Jobs per evaluation (each built for every system). */
  jobs: number;
  /** Seconds between evaluations (default 300; at least 60 is used). */
  periodSeconds?: number;
  /** 0..1: share of builds that fail (a quarter of that share of evaluations fails too). Default 0.1. */
  failRate?: number;
}

export interface CuirassSimulatorOptions {
  clock: Clock;
  /** PRNG seed (default 1). */
  seed?: number;
  /** Default: 'guix' (x86_64-linux, aarch64-linux, i686-linux; 40 jobs) and 'hello' (x86_64-linux; 5 jobs),
   * with an hour of history. Given specs start with an empty database and evaluate at the first step(). */
  specs?: CuirassSimSpecSpec[];
}

export const DEFAULT_SPECS: CuirassSimSpecSpec[] = [
  { name: 'guix', systems: ['x86_64-linux', 'aarch64-linux', 'i686-linux'], jobs: 40, periodSeconds: 900, failRate: 0.08 },
  { name: 'hello', systems: ['x86_64-linux'], jobs: 5, periodSeconds: 300, failRate: 0.2 },
];
const MAX_RECORDED = 20_000;
const HISTORY_MS = 3_600_000;

function simSpec(s: CuirassSimSpecSpec): SimSpec {
  if (!s.name) throw new Error('cuirass simulator: a specification needs a name');
  const guix = s.name === 'guix';
  return {
    name: s.name, systems: [...s.systems], jobs: Math.max(0, Math.floor(s.jobs)), period: Math.max(0, Math.floor(s.periodSeconds ?? 300)),
    failRate: Math.min(1, Math.max(0, s.failRate ?? 0.1)), priority: guix ? 2 : 9, build: guix ? 'guix' : 'all',
    channels: [
      { name: 'guix', url: 'https://git.savannah.gnu.org/git/guix.git', branch: 'master', commit: null },
      ...(guix ? [] : [{ name: s.name, url: `https://git.example.org/${s.name}.git`, branch: 'main', commit: null }]),
    ],
  };
}

export class CuirassSimulator extends SimulatorShell<CuirassMode> {
  /** Every request received (the most recent 20 000), path with query string. */
  readonly requests: { method: string; path: string }[] = [];
  private readonly clock: Clock;
  private readonly model: CuirassModel;

  constructor(options: CuirassSimulatorOptions) {
    super('cuirass simulator', 'ok');
    this.clock = options.clock;
    this.model = new CuirassModel(new Rng(options.seed ?? 1));
    const now = this.clock.now();
    const start = options.specs ? now : now - HISTORY_MS;
    for (const s of options.specs ?? DEFAULT_SPECS) {
      if (this.model.spec(s.name)) throw new Error(`cuirass simulator: duplicate specification ${s.name}`);
      this.model.addSpec(simSpec(s), start);
    }
    if (!options.specs) this.model.advance(now);
  }

  /** Everything due up to clock.now(), in time order: evaluations start on each spec's period (-1)
   * and finish (0 ok, 1 failed, 2 aborted; checkouttime and evaltime set); a succeeded one submits a
   * build per job and system (-3), scheduled (-2) seconds later, started (-1) when one of 4 slots of
   * its system is free, highest priority first, and finished (0..3) with the weather against the
   * previous build of the same job and system. Ids strictly increase. */
  step(): void {
    this.model.advance(this.clock.now());
  }

  /** Start an evaluation of `spec` now; returns its id. */
  evaluate(spec: string): number {
    return this.model.startEvaluation(spec, this.clock.now()).id;
  }

  /** Finish a running evaluation now; returns the ids of the builds it submitted (status 0 only). */
  finishEvaluation(id: number, status: 0 | 1 | 2): number[] {
    const ev = this.model.evaluation(id);
    if (!ev) throw new Error(`cuirass simulator: no evaluation ${id}`);
    return this.model.finishEvaluation(ev, status, this.clock.now()).map((b) => b.id);
  }

  startBuild(id: number): void {
    this.model.startBuild(this.build(id), this.clock.now());
  }

  finishBuild(id: number, status: 0 | 1 | 2 | 3 | 4): void {
    this.model.finishBuild(this.build(id), status, this.clock.now());
  }

  /** A wiped database: evaluations and builds gone, ids from 1 again; specifications kept. */
  resetDatabase(): void {
    this.model.reset(this.clock.now());
  }

  private build(id: number): SimBuild {
    const b = this.model.build(id);
    if (!b) throw new Error(`cuirass simulator: no build ${id}`);
    return b;
  }

  protected async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for await (const chunk of req) void chunk;
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    this.requests.push({ method, path });
    if (this.requests.length > MAX_RECORDED) this.requests.splice(0, this.requests.length - MAX_RECORDED);
    const mode = this.mode;
    let reply: Reply;
    try {
      reply = faulty(route(this.model, method, path), mode);
    } catch {
      reply = faulty({ status: 500, headers: {}, body: Buffer.alloc(0) }, mode);
    }
    await this.send(req, res, reply, mode);
  }
}
