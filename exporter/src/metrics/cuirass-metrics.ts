/**
 * The `buildfarm_cuirass_` families: the queue by specification, system and status, the oldest
 * waiting build (read from the store at scrape), and completions, new failures and evaluation
 * durations counted from task changes.
 */
import { TERMINAL_PHASES, type Task } from '../model/task.js';
import type { Store, TaskChange } from '../store/store.js';
import type { LabelGuard } from './label-guard.js';
import { makeGauge, SourceCounter, SourceHistogram, type FamilyContext, type SourceSeries } from './factory.js';

const KIND = 'cuirass';
/** Evaluations are tasks `eval-<id>`; builds keep their numeric id. */
const isEvaluation = (t: Task) => t.id.startsWith('eval-');

export class CuirassMetrics {
  private readonly completed: SourceCounter<'cuirassBuildsCompleted'>;
  private readonly newFailures: SourceCounter<'cuirassNewFailures'>;
  private readonly evaluationDuration: SourceHistogram<'cuirassEvaluationDuration'>;

  constructor(
    ctx: FamilyContext,
    store: Store,
    series: SourceSeries,
    private readonly guard: LabelGuard,
  ) {
    /** Cuirass builds still queued or running, found through the store's (source, kind, repo, state) groups: a scrape never walks other sources' tasks. */
    const pending = function* (): Iterable<Task> {
      for (const group of store.taskGroups()) {
        if (group.kind !== KIND || (group.phase !== 'queued' && group.phase !== 'running')) continue;
        for (const key of group.keys) {
          const task = store.getTask(group.source, key.slice(group.source.length + 1));
          if (task && !isEvaluation(task)) yield task;
        }
      }
    };
    makeGauge(ctx, 'cuirassPendingBuilds', (g) => {
      g.reset();
      for (const t of pending()) g.inc(this.where(t, { state: this.guard.label(t.source, 'state', t.state) }));
    });
    makeGauge(ctx, 'cuirassOldestPending', (g) => {
      g.reset();
      const oldest = new Map<string, number>();
      for (const t of pending()) {
        if (t.phase !== 'queued' || t.created === undefined) continue;
        const ms = Date.parse(t.created);
        if (Number.isFinite(ms) && ms < (oldest.get(t.source) ?? Number.POSITIVE_INFINITY)) oldest.set(t.source, ms);
      }
      for (const [source, ms] of oldest) g.set({ source }, ms / 1000);
    });
    this.completed = new SourceCounter(ctx, 'cuirassBuildsCompleted', series);
    this.newFailures = new SourceCounter(ctx, 'cuirassNewFailures', series);
    this.evaluationDuration = new SourceHistogram(ctx, 'cuirassEvaluationDuration', series);
  }

  /** A build or evaluation seen ending: a change into a finished phase, or the first sighting of a new, finished one. */
  onTask({ event, prev, next, fresh }: TaskChange): void {
    if (next?.kind !== KIND || !TERMINAL_PHASES.has(next.phase)) return;
    const ended = (event.type === 'task_updated' && prev !== undefined && !TERMINAL_PHASES.has(prev.phase)) || (event.type === 'task_new' && fresh === true);
    if (!ended) return;
    const result = this.guard.label(next.source, 'result', next.state);
    if (isEvaluation(next)) {
      const took = next.created !== undefined && next.finished !== undefined ? (Date.parse(next.finished) - Date.parse(next.created)) / 1000 : Number.NaN;
      if (Number.isFinite(took) && took >= 0) this.evaluationDuration.observe({ source: next.source, repo: this.guard.label(next.source, 'repo', next.repo ?? ''), result }, took);
      return;
    }
    this.completed.inc(this.where(next, { result }));
    if (next.attrs?.weather === 'new-failure') this.newFailures.inc(this.where(next, {}));
  }

  private where<E extends Record<string, string>>(t: Task, extra: E): { source: string; repo: string; arch: string } & E {
    return { source: t.source, repo: this.guard.label(t.source, 'repo', t.repo ?? ''), arch: this.guard.label(t.source, 'arch', t.archs[0] ?? ''), ...extra };
  }
}
