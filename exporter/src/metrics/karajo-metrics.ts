/**
 * The `buildfarm_karajo_` families: per-job status, paused, overdue and run times read from the
 * store's karajo jobs at scrape, and run results and durations counted from run task changes.
 */
import type { Job } from '../model/job.js';
import { TERMINAL_PHASES, type Task } from '../model/task.js';
import type { Store, TaskChange } from '../store/store.js';
import { KARAJO_JOB_STATUSES } from './definitions.js';
import type { LabelGuard } from './label-guard.js';
import { makeGauge, SourceCounter, SourceHistogram, type FamilyContext, type SourceSeries } from './factory.js';

const KIND = 'karajo';
const KNOWN_STATUSES: ReadonlySet<string> = new Set(KARAJO_JOB_STATUSES);

/** A job's status word as a label: `none` for karajo's empty status after a resume, `other` for words it does not have. */
export function karajoStatusLabel(job: Job): string {
  if (job.status === '') return 'none';
  return KNOWN_STATUSES.has(job.status) ? job.status : 'other';
}

const seconds = (iso: string | undefined) => (iso === undefined ? undefined : Date.parse(iso) / 1000);

export class KarajoMetrics {
  private readonly runs: SourceCounter<'karajoRuns'>;
  private readonly duration: SourceHistogram<'karajoRunDuration'>;

  constructor(
    ctx: FamilyContext,
    store: Store,
    series: SourceSeries,
    private readonly guard: LabelGuard,
  ) {
    const jobs = () => store.listJobs().filter((j) => j.kind === KIND);
    const label = (j: Job) => ({ source: j.source, karajo_job: this.job(j.source, j.id) });
    makeGauge(ctx, 'karajoJobStatus', (g) => {
      g.reset();
      for (const j of jobs()) {
        const current = karajoStatusLabel(j);
        for (const status of [...KARAJO_JOB_STATUSES, 'other']) g.set({ ...label(j), status }, status === current ? 1 : 0);
      }
    });
    makeGauge(ctx, 'karajoJobPaused', (g) => {
      g.reset();
      for (const j of jobs()) g.set(label(j), j.paused ? 1 : 0);
    });
    makeGauge(ctx, 'karajoJobOverdue', (g) => {
      g.reset();
      for (const j of jobs()) g.set(label(j), j.overdue ? 1 : 0);
    });
    makeGauge(ctx, 'karajoJobLastRun', (g) => {
      g.reset();
      for (const j of jobs()) {
        const v = seconds(j.lastRun);
        if (v !== undefined && Number.isFinite(v)) g.set(label(j), v);
      }
    });
    makeGauge(ctx, 'karajoJobNextRun', (g) => {
      g.reset();
      for (const j of jobs()) {
        const v = seconds(j.nextRun);
        if (v !== undefined && Number.isFinite(v)) g.set(label(j), v);
      }
    });
    this.runs = new SourceCounter(ctx, 'karajoRuns', series);
    this.duration = new SourceHistogram(ctx, 'karajoRunDuration', series);
  }

  /** Count a run when it is seen ending: a change into a finished state, or the first sighting of a new, already finished run. */
  onTask({ event, prev, next, fresh }: TaskChange): void {
    if (next?.kind !== KIND || !TERMINAL_PHASES.has(next.phase)) return;
    const ended = (event.type === 'task_updated' && prev !== undefined && !TERMINAL_PHASES.has(prev.phase)) || (event.type === 'task_new' && fresh === true);
    if (!ended) return;
    const labels = { source: next.source, karajo_job: this.job(next.source, jobOf(next)), result: this.guard.label(next.source, 'result', next.state) };
    this.runs.inc(labels);
    const took = next.started !== undefined && next.finished !== undefined ? (Date.parse(next.finished) - Date.parse(next.started)) / 1000 : Number.NaN;
    if (Number.isFinite(took) && took >= 0) this.duration.observe(labels, took);
  }

  private job(source: string, id: string): string {
    return this.guard.label(source, 'karajo_job', id);
  }
}

/** The job a run belongs to: its repo (the job id), else the id before `#`. */
function jobOf(task: Task): string {
  return task.repo ?? task.id.replace(/#\d+$/, '');
}
