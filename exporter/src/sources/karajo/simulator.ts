/**
 * A karajo (shuLhan/karajo v0.9.3) simulator: one loopback HTTP server answering karajo's HTTP API
 * in upstream's shapes, with JobExec and JobHTTP jobs running on interval or schedule timers driven
 * by an injected clock. Tests drive it with a ManualClock, step() and the control methods; demo mode
 * steps it on a timer. Life cycle: simulator-model.ts; routes and bodies: simulator-http.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SimulatorShell } from '../sim-http.js';
import type { Clock } from '../../util/clock.js';
import { Rng } from '../girar/prng.js';
import { faulty, route, type KarajoMode, type Reply, type ServerSettings } from './simulator-http.js';
import { KarajoModel, normalizeForId, parseSchedule, type JobConfig, type SimJob } from './simulator-model.js';

export type { KarajoMode } from './simulator-http.js';

export interface KarajoSimJobSpec {
  /** The job's id is derived like karajo's: lower case, [^a-z0-9_-] -> '_', '_' prefixed unless it starts with a letter. */
  name: string;
  kind: 'exec' | 'http';
  /** karajo forces >= 1 min; the simulator allows shorter for demo/tests. Ignored when `schedule` is set. */
  intervalMs?: number;
  /** libtime.Scheduler syntax: minutely, hourly@M,..., daily@HH:MM,..., weekly@Day,...@HH:MM, monthly@D,...@HH:MM (UTC). */
  schedule?: string;
  description?: string;
  /** Default 5. */
  logRetention?: number;
  /** How long a run takes (default 2000). */
  durationMs?: number;
  /** Runs whose counter is a multiple of this fail (0 = never). */
  failEvery?: number;
  paused?: boolean;
}

export interface KarajoSimulatorOptions {
  clock: Clock;
  /** PRNG seed (default 1). */
  seed?: number;
  /** Default: seven jobs of both kinds with some history on "disk" (see DEFAULT_JOBS). */
  jobs?: KarajoSimJobSpec[];
  /** Env.Name (default 'karajo'). */
  name?: string;
  /** Env.Version (default '0.9.3'). */
  version?: string;
  /** When set, /karajo/api/ GETs need the `karajo` cookie from POST /karajo/api/auth/login. */
  users?: { name: string; password: string }[];
}

export interface KarajoRecordedRequest {
  method: string;
  /** Path with query string. */
  path: string;
  /** The Cookie header, if any. */
  cookie?: string;
}

/** A realistic set: both kinds, one failing every fifth run, one paused, one webhook-only (next_run
 * never), one long nightly run that holds the only max_job_running slot, and one (Ping mirror, every
 * minute) that the demo stalls now and then, so it goes overdue. */
export const DEFAULT_JOBS: KarajoSimJobSpec[] = [
  { name: 'Build packages', kind: 'exec', intervalMs: 120_000, durationMs: 45_000, failEvery: 5, description: 'Builds what <b>git push</b> queued.' },
  { name: 'Sync mirror', kind: 'exec', schedule: 'minutely', durationMs: 8_000 },
  { name: 'Nightly ISO', kind: 'exec', schedule: 'daily@02:30', durationMs: 300_000, logRetention: 3 },
  { name: 'Rotate logs', kind: 'exec', schedule: 'hourly@0', durationMs: 4_000, paused: true },
  { name: 'Deploy webhook', kind: 'exec', durationMs: 20_000 },
  { name: 'Ping mirror', kind: 'http', intervalMs: 60_000, durationMs: 1_500 },
  { name: 'Trigger docs build', kind: 'http', schedule: 'hourly@0,15,30,45', durationMs: 3_000 },
];
const OVERDUE_PRONE = 'ping_mirror';
const MAX_RECORDED = 20_000;

function config(spec: KarajoSimJobSpec): JobConfig {
  if (!spec.name) throw new Error('karajo simulator: a job needs a name');
  const id = normalizeForId(spec.name);
  const slug = id.replace(/^_+/, '').replace(/_/g, '-');
  if (spec.schedule !== undefined) parseSchedule(spec.schedule);
  return {
    name: spec.name, id, kind: spec.kind, schedule: spec.schedule, description: spec.description,
    intervalMs: spec.schedule === undefined ? Math.max(0, spec.intervalMs ?? 0) : 0,
    logRetention: spec.logRetention !== undefined && spec.logRetention > 0 ? spec.logRetention : 5,
    durationMs: Math.max(0, spec.durationMs ?? 2000), failEvery: Math.max(0, spec.failEvery ?? 0),
    path: spec.kind === 'exec' ? `/${slug}` : '',
    commands: spec.kind === 'exec' ? [`echo Running ${spec.name}`, 'echo Counter is $KARAJO_JOB_COUNTER', `/usr/local/bin/${slug}.sh`] : [],
    httpMethod: 'POST', httpUrl: spec.kind === 'http' ? `https://hooks.example.org/${slug}` : '',
  };
}

export class KarajoSimulator extends SimulatorShell<KarajoMode> {
  /** Every request received (the most recent 20 000). */
  readonly requests: KarajoRecordedRequest[] = [];
  private readonly clock: Clock;
  private readonly model: KarajoModel;
  /** Randomness for answers and demo chaos, so neither perturbs the jobs. */
  private readonly noise: Rng;
  private readonly settings: ServerSettings;
  private demo = { nextPause: 0, nextStall: 0, paused: undefined as { id: string; until: number } | undefined, stalled: undefined as { id: string; until: number } | undefined };

  constructor(options: KarajoSimulatorOptions) {
    super('karajo simulator', 'ok');
    this.clock = options.clock;
    const seed = options.seed ?? 1;
    const rng = new Rng(seed);
    this.noise = new Rng((seed ^ 0x5bd1e995) >>> 0);
    this.model = new KarajoModel(rng);
    this.settings = {
      name: options.name ?? 'karajo', version: options.version ?? '0.9.3', listenAddress: '127.0.0.1:31937', dirBase: '/',
      users: new Map((options.users ?? []).map((u) => [u.name, u.password])), sessions: new Set(), rng: this.noise,
    };
    const now = this.clock.now();
    const specs = options.jobs ?? DEFAULT_JOBS;
    for (const spec of specs) {
      const cfg = config(spec);
      if (!options.jobs) this.seedHistory(cfg, spec.paused === true, rng, now);
      this.model.add(cfg, now, spec.paused);
    }
  }

  /** Start listening on an ephemeral port of `host`; returns the base URL (the API is under /karajo/api/). */
  override async listen(host = '127.0.0.1'): Promise<string> {
    const url = await super.listen(host);
    this.settings.listenAddress = url.replace(/^http:\/\//, '');
    return url;
  }

  /** Everything due up to clock.now(), in time order: runs start (log `<id>.<n>`, status running) and
   * finish (log renamed `<id>.<n>.<status>`, last_run set, next_run advanced, old logs pruned); a paused
   * job's tick leaves a `paused` log and moves last_run and next_run on; a JobExec waits for the single
   * max_job_running slot. */
  step(): void {
    this.model.advance(this.clock.now());
  }

  /** Demo: step every `stepMs`; now and then pause a job for a few minutes, and stall the overdue-prone one. */
  override start(opts: { stepMs: number }): void {
    this.demo.nextPause = this.clock.now() + 4 * 60_000;
    this.demo.nextStall = this.clock.now() + 7 * 60_000;
    super.start(opts);
  }

  protected override tick(): void {
    this.step();
    this.chaos();
  }

  /** Start a run now (not waiting for a max_job_running slot); returns its counter. Throws if the job is
   * running or paused (upstream answers 412 ERR_JOB_PAUSED to a paused job's run request). */
  runNow(id: string): number {
    return this.model.runNow(this.job(id), this.clock.now());
  }

  finishRun(id: string, status: 'success' | 'failed' | 'canceled'): void {
    const job = this.job(id);
    this.model.finish(job, job.run?.log.counter ?? -1, status, this.clock.now());
  }

  pause(id: string): void {
    this.model.pause(this.job(id));
  }

  /** A JobExec resumes to status "" (omitted from JSON), a JobHTTP to "started". */
  resume(id: string): void {
    this.model.resume(this.job(id));
  }

  /** Returns the job id; a job whose id had logs before (deleted earlier) reads them back and continues their counter. */
  addJob(spec: KarajoSimJobSpec): string {
    return this.model.add(config(spec), this.clock.now(), spec.paused).cfg.id;
  }

  /** The configuration no longer has the job: it vanishes, a run in progress with it; its log files stay. */
  deleteJob(id: string): void {
    this.model.remove(this.job(id));
  }

  /** The job's timer stops firing: its next_run passes and stays in the past (overdue) until restart(). */
  stall(id: string): void {
    this.job(id).stalled = true;
  }

  /** Upstream restart: state rebuilt from the log files (status of the highest counter, last_run the
   * newest log's mtime), a run in progress lost with its unflushed log, and every login session gone. */
  restart(): void {
    this.model.restart(this.clock.now());
    this.settings.sessions.clear();
  }

  private job(id: string): SimJob {
    const job = this.model.find(id);
    if (!job) throw new Error(`karajo simulator: no job ${id}`);
    return job;
  }

  /** Log files an earlier karajo process left, so the default jobs start with counters and history. */
  private seedHistory(cfg: JobConfig, paused: boolean, rng: Rng, now: number): void {
    const n = rng.int(cfg.logRetention + 1, 90);
    let start = (c: number): number => now - (n - c + 1) * (cfg.intervalMs || 5 * 3_600_000) - cfg.durationMs - rng.int(1000, 9000);
    if (cfg.schedule !== undefined) {
      // Runs began on the schedule's slots (taken as evenly spaced), the last one finished before now.
      const next = parseSchedule(cfg.schedule);
      const spacing = next(next(now)) - next(now);
      let last = next(now) - spacing;
      if (last + cfg.durationMs >= now) last -= spacing;
      start = (c) => last - (n - c) * spacing;
    }
    for (let c = n - cfg.logRetention + 1; c <= n; c++) {
      const status = paused && c > n - 2 ? 'paused' : cfg.failEvery > 0 && c % cfg.failEvery === 0 ? 'failed' : 'success';
      const begun = start(c);
      this.model.writeHistory(cfg, c, status, begun, status === 'paused' ? begun : begun + cfg.durationMs + rng.int(0, 900));
    }
  }

  /** Demo chaos in clock time: every 8 to 15 min a job is paused for 2 to 6 min; every 12 to 20 min
   * the overdue-prone job's timer stalls for 3 to 8 min, so its next_run lies minutes in the past. */
  private chaos(): void {
    const d = this.demo;
    const now = this.clock.now();
    if (d.paused && now >= d.paused.until) {
      if (this.model.find(d.paused.id)?.status === 'paused') this.resume(d.paused.id);
      d.paused = undefined;
    }
    if (d.stalled && now >= d.stalled.until) {
      const job = this.model.find(d.stalled.id);
      if (job) job.stalled = false;
      d.stalled = undefined;
    }
    const active = this.model.jobs.filter((j) => j.status !== 'paused' && !j.stalled);
    const minutes = (lo: number, hi: number): number => now + this.noise.int(lo * 60, hi * 60) * 1000;
    if (!d.paused && now >= d.nextPause && active.length > 0) {
      const id = this.noise.pick(active).cfg.id;
      this.pause(id);
      d.paused = { id, until: minutes(2, 6) };
      d.nextPause = minutes(8, 15);
    }
    if (!d.stalled && now >= d.nextStall && active.length > 0) {
      const id = (active.find((j) => j.cfg.id === OVERDUE_PRONE) ?? this.noise.pick(active)).cfg.id;
      this.stall(id);
      d.stalled = { id, until: minutes(3, 8) };
      d.nextStall = minutes(12, 20);
    }
  }

  protected async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const cookie = req.headers.cookie;
    this.requests.push({ method, path, ...(cookie !== undefined ? { cookie } : {}) });
    if (this.requests.length > MAX_RECORDED) this.requests.splice(0, this.requests.length - MAX_RECORDED);
    const mode = this.mode;
    let reply: Reply;
    try {
      const url = new URL(path, 'http://karajo.invalid');
      reply = faulty(route(this.model, { method, url, headers: req.headers, body: Buffer.concat(chunks).toString() }, this.settings), mode);
    } catch {
      reply = faulty({ status: 500, headers: { 'content-type': 'application/json' }, body: Buffer.from('{"message":"internal server error","name":"ERR_INTERNAL","code":500}') }, mode);
    }
    await this.send(req, res, reply, mode);
  }
}
