/**
 * The karajo simulator's state and job life cycle (shuLhan/karajo v0.9.x: job_base.go, job_exec.go,
 * job_http.go, job_log.go). Pure: every time comes in as epoch ms from the caller's clock, randomness
 * from a seeded PRNG. Log files are modelled as a per-job "disk" that outlives the in-memory job, so
 * a restart or a re-added job reads its logs back as upstream's initLogs does.
 */
import type { Rng } from '../girar/prng.js';

export type KarajoJobKind = 'exec' | 'http';
export type KarajoEndStatus = 'success' | 'failed' | 'canceled';

/** A job's configuration, defaults applied. */
export interface JobConfig {
  name: string;
  id: string;
  kind: KarajoJobKind;
  description?: string;
  /** 0 when unset or when a schedule is set (upstream zeroes it). */
  intervalMs: number;
  schedule?: string;
  logRetention: number;
  /** How long a run takes, and every how many runs one fails (by counter). */
  durationMs: number;
  failEvery: number;
  /** JobExec: the run path and commands; JobHTTP: the request it sends. */
  path: string;
  commands: string[];
  httpMethod: string;
  httpUrl: string;
}

export interface SimLog {
  jobId: string;
  counter: number;
  status: string;
  /** `<id>.<counter>` while running, `<id>.<counter>.<status>` once flushed. */
  name: string;
  content: string;
  /** The log file's mtime (ms), set when flushed; a log without one exists only in memory. */
  mtime?: number;
}

export interface SimJob {
  cfg: JobConfig;
  status: string;
  lastRun: number | null;
  /** What `next_run` says. */
  nextRun: number | null;
  /** When the job's timer fires next (differs from nextRun after a schedule tick buffered during a run). */
  dueAt: number | null;
  counter: number;
  logs: SimLog[];
  run?: { log: SimLog; finishAt: number; firedAt: number };
  /** A JobExec whose timer fired, waiting for a max_job_running slot (its status is unchanged). */
  waiting: boolean;
  stalled: boolean;
  /** The schedule's next slot strictly after the minute of a time. */
  slot?: (ms: number) => number;
}

/** Go's zero time, which `omitempty` does not drop. */
export const GO_ZERO_TIME = '0001-01-01T00:00:00Z';
export const sec = (ms: number): number => Math.round(ms / 1000) * 1000;

/** libhtml.NormalizeForID: lower case, anything but [a-z0-9_-] becomes `_`, `_` prefixed unless it starts with a letter. */
export function normalizeForId(name: string): string {
  const id = name.toLowerCase().replace(/[^a-z0-9_-]/g, '_');
  return /^[a-z]/.test(id) ? id : `_${id}`;
}

const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

/** libtime.Scheduler: minutely, hourly@M,..., daily@HH:MM,..., weekly@Day,...@HH:MM,..., monthly@D,...@HH:MM,... (UTC). */
export function parseSchedule(schedule: string): (ms: number) => number {
  const [kind = '', a = '', b = ''] = schedule.toLowerCase().split('@');
  const ints = (s: string, lo: number, hi: number, def: number): number[] => {
    const v = s.split(',').map((x) => Number(x.trim())).filter((x) => Number.isInteger(x) && x >= lo && x <= hi);
    return v.length > 0 ? v : [def];
  };
  const tods = (s: string): number[] => {
    const v = s.split(',').map((x) => /^\s*(\d{1,2}):(\d{1,2})\s*$/.exec(x)).map((m) => (m ? Number(m[1]) * 60 + Number(m[2]) : 0));
    return v.length > 0 ? v : [0];
  };
  let match: (d: Date) => boolean;
  if (kind === '' || kind === 'minutely') match = () => true;
  else if (kind === 'hourly') {
    const minutes = ints(a, 0, 59, 0);
    match = (d) => minutes.includes(d.getUTCMinutes());
  } else if (kind === 'daily' || kind === 'weekly' || kind === 'monthly') {
    const times = tods(kind === 'daily' ? a : b);
    const days = kind === 'weekly' ? a.split(',').map((x) => DAYS.findIndex((d) => d === x.trim() || d.slice(0, 3) === x.trim())).filter((x) => x >= 0) : [];
    const doms = kind === 'monthly' ? ints(a, 1, 31, 1) : [];
    match = (d) =>
      times.includes(d.getUTCHours() * 60 + d.getUTCMinutes()) &&
      (kind !== 'weekly' || (days.length > 0 ? days : [0]).includes(d.getUTCDay())) &&
      (kind !== 'monthly' || doms.includes(d.getUTCDate()));
  } else throw new Error(`karajo simulator: unknown schedule ${JSON.stringify(schedule)}`);
  // The first matching minute after the current one (the scheduler rounds now to the second).
  return (ms) => {
    let t = Math.floor(sec(ms) / 60_000) * 60_000 + 60_000;
    for (let i = 0; i < 62 * 24 * 60 && !match(new Date(t)); i++) t += 60_000;
    return t;
  };
}

const stamp = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';

export class KarajoModel {
  readonly jobs: SimJob[] = [];
  /** Flushed log files by `<kind>/<id>`, kept when a job is deleted. */
  private readonly disk = new Map<string, SimLog[]>();
  private readonly queue: SimJob[] = [];

  constructor(private readonly rng: Rng, readonly maxJobRunning = 1) {}

  find(id: string, kind?: KarajoJobKind): SimJob | undefined {
    return this.jobs.find((j) => j.cfg.id === id && (kind === undefined || j.cfg.kind === kind));
  }

  /** Register a job; its state comes from its log files, if any (JobBase.init). */
  add(cfg: JobConfig, now: number, paused = false): SimJob {
    if (this.find(cfg.id)) throw new Error(`karajo simulator: job id ${cfg.id} already exists`);
    const slot = cfg.schedule === undefined ? undefined : parseSchedule(cfg.schedule);
    const job: SimJob = { cfg, status: 'started', lastRun: null, nextRun: null, dueAt: null, counter: 0, logs: [], waiting: false, stalled: false, slot };
    this.jobs.push(job);
    this.load(job, now);
    if (paused) job.status = 'paused';
    return job;
  }

  remove(job: SimJob): void {
    this.jobs.splice(this.jobs.indexOf(job), 1);
    this.unqueue(job);
  }

  /** Put a finished run's log file on disk, as an earlier karajo process left it. */
  writeHistory(cfg: JobConfig, counter: number, status: string, startedAt: number, endedAt: number): void {
    const log: SimLog = { jobId: cfg.id, counter, status, name: `${cfg.id}.${counter}`, content: '' };
    if (status !== 'paused') {
      this.begin(cfg, log, startedAt);
      this.end(cfg, log, status, endedAt);
    }
    this.flush(cfg, log, endedAt);
    const files = this.files(cfg);
    files.push(log);
    files.splice(0, Math.max(0, files.length - cfg.logRetention));
  }

  /** Upstream restart: runs in progress are gone (their log was never flushed), the rest is read back. */
  restart(now: number): void {
    this.queue.length = 0;
    for (const job of this.jobs) {
      Object.assign(job, { run: undefined, waiting: false, stalled: false });
      this.load(job, now);
    }
  }

  /** Everything that happens up to `now`, in time order: runs finishing, timers firing, slots freeing. */
  advance(now: number): void {
    for (let guard = 0; guard < 100_000; guard++) {
      let next: { t: number; job: SimJob; finish: boolean } | undefined;
      for (const job of this.jobs) {
        const ev = job.run ? { t: job.run.finishAt, finish: true } : !job.waiting && !job.stalled && job.dueAt !== null ? { t: job.dueAt, finish: false } : undefined;
        if (ev && ev.t <= now && (!next || ev.t < next.t || (ev.t === next.t && ev.finish && !next.finish))) next = { ...ev, job };
      }
      if (!next) return;
      if (next.finish) this.finish(next.job, next.job.run?.log.counter ?? 0, this.outcome(next.job), next.t);
      else this.fire(next.job, next.t);
    }
  }

  /** A manual run, started at once (the simulator does not make it wait for a slot). */
  runNow(job: SimJob, now: number): number {
    if (job.run) throw new Error(`karajo simulator: job ${job.cfg.id} is already running`);
    if (job.status === 'paused') throw new Error(`karajo simulator: job ${job.cfg.id} is paused`);
    this.unqueue(job);
    return this.start(job, now, now);
  }

  finish(job: SimJob, counter: number, status: KarajoEndStatus, t: number): void {
    const run = job.run;
    if (!run || run.log.counter !== counter) throw new Error(`karajo simulator: job ${job.cfg.id} has no run in progress`);
    job.run = undefined;
    // JobBase.finish: an error fails the job; success overrides any pause set during the run.
    job.status = status;
    this.end(job.cfg, run.log, status, t);
    this.close(job, run.log, t, run.firedAt);
    this.grant(t);
  }

  pause(job: SimJob): void {
    job.status = 'paused';
  }

  /** JobExec resumes to "" (omitted from JSON), JobHTTP to "started". */
  resume(job: SimJob): void {
    job.status = job.cfg.kind === 'exec' ? '' : 'started';
  }

  private files(cfg: JobConfig): SimLog[] {
    const key = `${cfg.kind}/${cfg.id}`;
    const files = this.disk.get(key) ?? [];
    this.disk.set(key, files);
    return files;
  }

  /** JobBase.initLogs + initTimer: status of the highest counter, last_run the newest mtime. */
  private load(job: SimJob, now: number): void {
    const files = [...this.files(job.cfg)].sort((a, b) => a.counter - b.counter);
    job.logs = files;
    job.status = 'started';
    job.counter = 0;
    job.lastRun = null;
    for (const log of files) {
      if (log.counter > job.counter) [job.counter, job.status] = [log.counter, log.status];
      if (log.mtime !== undefined && log.mtime > (job.lastRun ?? -Infinity)) job.lastRun = log.mtime;
    }
    job.lastRun = job.lastRun === null ? null : sec(job.lastRun);
    this.prune(job);
    const t = sec(now);
    if (job.slot) job.nextRun = job.slot(now);
    else if (job.cfg.intervalMs > 0) job.nextRun = job.lastRun === null ? t : Math.max(t, job.lastRun + job.cfg.intervalMs);
    else job.nextRun = null;
    job.dueAt = job.nextRun;
  }

  private outcome(job: SimJob): KarajoEndStatus {
    const n = job.run?.log.counter ?? 0;
    return job.cfg.failEvery > 0 && n % job.cfg.failEvery === 0 ? 'failed' : 'success';
  }

  /** The job's timer fires: a JobHTTP runs at once, a JobExec first waits for a max_job_running slot. */
  private fire(job: SimJob, t: number): void {
    job.dueAt = null;
    if (job.cfg.kind === 'http') {
      this.start(job, t, t);
      return;
    }
    job.waiting = true;
    this.queue.push(job);
    this.grant(t);
  }

  private grant(t: number): void {
    while (this.queue.length > 0 && this.jobs.filter((j) => j.run && j.cfg.kind === 'exec').length < this.maxJobRunning) {
      const job = this.queue.shift() as SimJob;
      job.waiting = false;
      this.start(job, t, job.nextRun ?? t);
    }
  }

  private unqueue(job: SimJob): void {
    const i = this.queue.indexOf(job);
    if (i >= 0) this.queue.splice(i, 1);
    job.waiting = false;
  }

  /** JobBase.newLog: a paused job logs `paused` and finishes at once; otherwise the run begins. */
  private start(job: SimJob, t: number, firedAt: number): number {
    const counter = ++job.counter;
    const log: SimLog = { jobId: job.cfg.id, counter, status: job.status === 'paused' ? 'paused' : 'running', name: `${job.cfg.id}.${counter}`, content: '' };
    job.logs.push(log);
    this.prune(job);
    if (log.status === 'paused') {
      this.close(job, log, t, firedAt);
      return counter;
    }
    job.status = 'running';
    this.begin(job.cfg, log, t);
    job.run = { log, finishAt: t + job.cfg.durationMs, firedAt };
    return counter;
  }

  /** Flush the log, set last_run, and the next run from the schedule or interval. */
  private close(job: SimJob, log: SimLog, t: number, firedAt: number): void {
    this.flush(job.cfg, log, t);
    if (job.logs.includes(log)) this.files(job.cfg).push(log);
    job.lastRun = sec(t);
    if (job.slot) {
      job.nextRun = job.slot(t);
      // The scheduler kept ticking during the run; one tick stays buffered and runs the job again at once.
      job.dueAt = job.slot(firedAt) <= t ? t : job.nextRun;
    } else if (job.cfg.intervalMs > 0) job.nextRun = job.dueAt = job.lastRun + job.cfg.intervalMs;
  }

  private flush(cfg: JobConfig, log: SimLog, t: number): void {
    log.name = `${cfg.id}.${log.counter}.${log.status}`;
    log.mtime = t;
  }

  private prune(job: SimJob): void {
    const drop = job.logs.splice(0, Math.max(0, job.logs.length - job.cfg.logRetention));
    const files = this.files(job.cfg);
    for (const log of drop) if (files.includes(log)) files.splice(files.indexOf(log), 1);
  }

  /** JobLog.Write: the "<time> UTC <kind>: <id>: " prefix starts each write that begins a line. */
  private write(cfg: JobConfig, log: SimLog, t: number, text: string): void {
    if (log.content === '' || log.content.endsWith('\n')) log.content += `${stamp(t)} ${cfg.kind === 'exec' ? 'job' : 'job_http'}: ${cfg.id}: `;
    log.content += text;
  }

  private begin(cfg: JobConfig, log: SimLog, t: number): void {
    this.write(cfg, log, t, '=== BEGIN\n');
    if (cfg.kind === 'http') {
      const host = /^https?:\/\/([^/]+)/.exec(cfg.httpUrl)?.[1] ?? '127.0.0.1:31937';
      const target = cfg.httpUrl.replace(/^https?:\/\/[^/]+/, '') || '/';
      const body = `{"_karajo_epoch":${Math.floor(t / 1000)}}`;
      this.write(cfg, log, t, `--- HTTP request:\n${cfg.httpMethod} ${target} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: Go-http-client/1.1\r\nContent-Length: ${body.length}\r\nContent-Type: application/json\r\nX-Karajo-Sign: ${this.rng.hex(64)}\r\nAccept-Encoding: gzip\r\n\r\n${body}\n\n`);
      return;
    }
    cfg.commands.forEach((cmd, i) => {
      if (i === cfg.commands.length - 1) return;
      this.write(cfg, log, t, '\n');
      this.write(cfg, log, t, `--- Execute ${String(i).padStart(2)}: ${cmd}\n`);
      this.write(cfg, log, t, `${cmd.replace(/^echo /, '').replace('$KARAJO_JOB_COUNTER', String(log.counter))}\n`);
    });
    this.write(cfg, log, t, '\n');
    this.write(cfg, log, t, `--- Execute ${String(cfg.commands.length - 1).padStart(2)}: ${cfg.commands[cfg.commands.length - 1] ?? ''}\n`);
  }

  /** The rest of the run's output, then JobBase.finish's last line. */
  private end(cfg: JobConfig, log: SimLog, status: string, t: number): void {
    log.status = status;
    const kind = cfg.kind === 'exec' ? 'job' : 'job_http';
    if (cfg.kind === 'http' && status !== 'canceled') {
      const line = status === 'success' ? '200 OK' : '502 Bad Gateway';
      this.write(cfg, log, t, `--- HTTP response:\nHTTP/1.1 ${line}\r\nContent-Length: 2\r\nContent-Type: text/plain; charset=utf-8\r\nDate: ${new Date(t).toUTCString()}\r\n\r\n${status === 'success' ? 'OK' : '--'}\n\n`);
    } else if (status === 'success') this.write(cfg, log, t, `${this.rng.int(1, 400)} files processed\n`);
    if (status === 'success') {
      this.write(cfg, log, t, '=== DONE\n');
      this.write(cfg, log, t, `=== ${kind}: ${cfg.id}: finished.\n`);
    } else {
      const err = status === 'canceled' ? 'job is canceled' : cfg.kind === 'exec' ? 'exit status 1' : 'execute: 502 Bad Gateway';
      this.write(cfg, log, t, `!!! ${kind}: ${cfg.id}: ${err}\n`);
    }
  }
}
