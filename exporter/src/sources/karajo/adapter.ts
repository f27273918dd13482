/**
 * The `karajo` adapter: one `GET /karajo/api/environment` per poll gives every job and its
 * retained run index. Run counters never go back, so a counter above the highest one seen for a
 * job is a new run: counted when first seen, even if it started and finished between two polls.
 * Log content is read only on demand (`taskLog`), never on a poll.
 */
import type { Job } from '../../model/job.js';
import type { Task } from '../../model/task.js';
import { isoUtc } from '../../util/clock.js';
import { parseDuration } from '../../util/duration.js';
import type { SourceProblems } from '../health.js';
import { UpstreamPayloadError } from '../errors.js';
import { ProblemTracker, type RecordProblem } from '../problem-tracker.js';
import type { RestoredRecords, Snapshot, SourceContext, TaskLog } from '../source.js';
import { KarajoClient, type JobType } from './client.js';
import type { KarajoConfig } from './config.js';
import { jobViews, karajoTime, logEntries, runKey, runPhase, runStatus, runTask, toJob } from './normalize.js';

const BAD_ENTRY = 'bad_value';
/** Most jobs whose run numbers are remembered (and interrupted numbers): the oldest are forgotten first. */
const MAX_TRACKED_JOBS = 10_000;
const FINISHED: ReadonlySet<string> = new Set(['success', 'failed', 'canceled']);

export class KarajoAdapter {
  private readonly client: KarajoClient;
  private readonly graceSeconds: number;
  /** Highest run counter seen per job (kind and karajo id); kept when a job goes away, so a job that comes back is not counted again. Bounded. */
  private readonly maxCounter = new Map<string, number>();
  /** When each held run finished, once known: it stays put when a newer run moves the job's last_run. */
  private finishedAt = new Map<string, string>();
  /** When a new run was first seen running (karajo does not say when a run started). */
  private startedAt = new Map<string, string>();
  /** karajo id and kind of each held run, for reading its log on demand. */
  private runs = new Map<string, { type: JobType; jobId: string; counter: number }>();
  private baselined = false;
  /**
   * The first poll after `restore`: a run that began while the exporter was down is new, but
   * that poll is not when it started.
   */
  private resumed = false;
  /** Runs last seen unfinished (task id -> kind, karajo id and number): if one vanishes (karajo restarted mid-run), its number comes back for a new run. */
  private unfinished = new Map<string, string>();
  /** Numbers of runs that vanished unfinished; the next run to carry one is new. Bounded. */
  private readonly interrupted = new Set<string>();
  private found: RecordProblem[] = [];
  private readonly problemTracker = new ProblemTracker();

  constructor(
    config: KarajoConfig,
    private readonly ctx: SourceContext,
  ) {
    this.graceSeconds = parseDuration(config.overdue_grace) ?? 0;
    this.client = new KarajoClient(ctx.http, {
      url: config.url,
      maxBodyBytes: config.max_body_bytes,
      ...(config.user ? { user: config.user } : {}),
      ...(config.headers ? { headers: config.headers } : {}),
    });
  }

  /**
   * Pick up what the earlier run knew: the run numbers of each job (so runs that began while the
   * exporter was down count as new, once), the start and end times it dated by its polls (which
   * karajo does not keep), the runs left unfinished, and each run's job for reading its log.
   */
  restore(held: RestoredRecords): void {
    const jobIds = new Map<string, { type: JobType; jobId: string }>();
    for (const job of held.jobs) {
      const native = job.native as { id?: unknown } | undefined;
      if ((job.jobType !== 'exec' && job.jobType !== 'http') || typeof native?.id !== 'string') continue;
      jobIds.set(job.id, { type: job.jobType, jobId: native.id });
      if (job.lastRunCounter !== undefined) this.maxCounter.set(`${job.jobType}\u0000${native.id}`, job.lastRunCounter);
    }
    for (const task of held.tasks) {
      const job = jobIds.get(String(task.attrs?.job));
      const counter = task.attrs?.counter;
      if (!job || typeof counter !== 'number') continue;
      this.runs.set(task.id, { ...job, counter });
      if (task.started) this.startedAt.set(task.id, task.started);
      if (task.finished) this.finishedAt.set(task.id, task.finished);
      if (task.phase === 'running' || task.phase === 'queued') this.unfinished.set(task.id, `${job.type}\u0000${job.jobId}#${counter}`);
    }
    this.baselined = this.maxCounter.size > 0;
    this.resumed = this.baselined;
  }

  async poll(signal: AbortSignal): Promise<Snapshot> {
    const read = await this.client.environment(signal);
    const nowMs = this.ctx.clock.now();
    const found: RecordProblem[] = read.rejected.map((r) => ({ id: r.key, reason: BAD_ENTRY, message: `${r.type} job ${JSON.stringify(r.key)}: ${r.message}` }));
    const tasks: Task[] = [];
    const jobs: Job[] = [];
    const newTaskIds: string[] = [];
    const finishedAt = new Map<string, string>();
    const startedAt = new Map<string, string>();
    const runs = new Map<string, { type: JobType; jobId: string; counter: number }>();
    const runKeys = new Map<string, string>();
    const { views, duplicates } = jobViews(read.exec, read.http);
    for (const d of duplicates) found.push({ id: d.name, reason: 'duplicate_id', message: `${d.type} job ${JSON.stringify(d.name)} has the id ${JSON.stringify(d.id)} of another ${d.type} job; only the first by name is read` });
    for (const view of views) {
      const { entries, rejected } = logEntries(view);
      if (rejected > 0) found.push({ id: view.id, reason: BAD_ENTRY, message: `${rejected} malformed entr${rejected === 1 ? 'y' : 'ies'} in the job's logs` });
      const key = runKey(view);
      const seenBefore = this.maxCounter.get(key);
      // karajo sets last_run when a run ends: the newest finished run ended then.
      const newestFinished = [...entries].reverse().find((e) => ['success', 'failed', 'canceled'].includes(runPhase(runStatus(e))))?.counter;
      const lastRun = karajoTime(view.job.last_run);
      let max = seenBefore ?? 0;
      for (const entry of entries) {
        const id = `${view.id}#${entry.counter}`;
        // karajo writes a run's log only when it ends and rebuilds its counters from the logs on a
        // restart, so a run interrupted by a restart gives its number to the next run.
        const reused = this.interrupted.delete(`${key}#${entry.counter}`);
        const isNew = this.baselined && seenBefore !== undefined && (entry.counter > seenBefore || reused);
        // A run seen running by the poll right after it began started since the previous poll: date it by this poll.
        const started = this.startedAt.get(id) ?? (isNew && !this.resumed && runPhase(runStatus(entry)) === 'running' ? isoUtc(nowMs) : undefined);
        // Both ends of a run on one clock: a run the exporter dated the start of ends at the poll that
        // saw it ended; another ends at the job's last_run (karajo's clock) when it is the newest.
        const ended = FINISHED.has(runPhase(runStatus(entry)));
        const finished = this.finishedAt.get(id) ?? (!ended ? undefined : started !== undefined ? isoUtc(nowMs) : entry.counter === newestFinished ? lastRun : undefined);
        const task = runTask(view, entry, { source: this.ctx.name, base: this.client.base, ...(finished ? { finished } : {}) });
        if (task.finished) finishedAt.set(id, task.finished);
        if (started) {
          startedAt.set(id, started);
          if (!task.finished || task.finished >= started) task.started = started;
        }
        runs.set(id, { type: view.type, jobId: view.job.id, counter: entry.counter });
        runKeys.set(id, `${key}#${entry.counter}`);
        tasks.push(task);
        // A job first seen after the first poll brings its old runs: they are not new. A tick the
        // job skipped while paused is not a run: it is shown, never counted.
        if (isNew && runStatus(entry) !== 'paused') newTaskIds.push(id);
        max = Math.max(max, entry.counter);
      }
      this.maxCounter.delete(key);
      this.maxCounter.set(key, max);
      if (this.maxCounter.size > MAX_TRACKED_JOBS) this.maxCounter.delete(this.maxCounter.keys().next().value as string);
      jobs.push(toJob(view, { source: this.ctx.name, base: this.client.base, nowMs, graceSeconds: this.graceSeconds, ...(max > 0 ? { lastRunCounter: max } : {}) }));
    }
    this.baselined = true;
    this.resumed = false;
    for (const [id, key] of this.unfinished) {
      if (runs.has(id)) continue;
      this.interrupted.add(key);
      if (this.interrupted.size > MAX_TRACKED_JOBS) this.interrupted.delete(this.interrupted.values().next().value as string);
    }
    this.unfinished = new Map(tasks.filter((t) => t.phase === 'running' || t.phase === 'queued').map((t) => [t.id, runKeys.get(t.id) as string]));
    this.finishedAt = finishedAt;
    this.startedAt = startedAt;
    this.runs = runs;
    this.found = found;
    return {
      type: 'snapshot',
      tasks,
      jobs,
      ...(newTaskIds.length > 0 ? { newTaskIds } : {}),
      upstream: read.env.version ? { version: read.env.version } : {},
    };
  }

  problems(): SourceProblems {
    return this.problemTracker.update(this.found);
  }

  /** A run's log, read from karajo now; undefined when the run is unknown or karajo no longer keeps its log. */
  async taskLog(id: string, signal: AbortSignal): Promise<TaskLog | undefined> {
    const run = this.runs.get(id);
    if (!run) return undefined;
    const log = await this.client.log(run.type, run.jobId, run.counter, signal);
    if (!log) return undefined;
    const content = (log.content ?? '').replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(content)) throw new UpstreamPayloadError(`${this.client.base}/karajo/api/job_${run.type}/log`, 'the log content is not base64');
    return { text: Buffer.from(content, 'base64').toString('utf8'), ...(log.status ? { status: log.status } : {}) };
  }
}
