/**
 * The `buildfarm_girar_` families: per-arch subtask results of girar tasks. The current counts
 * are kept incrementally from task changes (subtract the previous record, add the next), so a
 * scrape costs O(series), not O(tasks).
 */
import type { ArchResult, Phase, Task } from '../model/task.js';
import type { Store, TaskChange } from '../store/store.js';
import { GIRAR_ARCH_STATUSES } from './definitions.js';
import { GIRAR_KIND } from '../sources/girar/normalize.js';
import { LabelGuard } from './label-guard.js';
import { makeGauge, SourceCounter, type FamilyContext, type Labels, type SourceSeries } from './factory.js';


export interface ArchBuildCount {
  labels: Labels<'girarArchBuilds'>;
  count: number;
}

/** girar leaves the status word empty for a failed build and for one still running: say which, by phase. */
const EMPTY_STATUS_BY_PHASE: Partial<Record<Phase, string>> = { running: 'building', failed: 'failed', queued: 'new' };

/** The exported status word: a known girar word, an empty word named by its phase, else `other` (keeps the label bounded). */
export function archStatusLabel(result: ArchResult): string {
  if (GIRAR_ARCH_STATUSES.has(result.status)) return result.status;
  return (result.status === '' ? EMPTY_STATUS_BY_PHASE[result.phase] : undefined) ?? 'other';
}

/** Add (sign 1) or subtract (sign -1) one task's subtask x arch results to per-series counts. */
export function addArchBuilds(counts: Map<string, ArchBuildCount>, task: Task, sign: 1 | -1, guard: LabelGuard = UNGUARDED): void {
  const repo = guard.label(task.source, 'repo', task.repo ?? '');
  for (const subtask of task.subtasks) {
    for (const result of subtask.archs) {
      const status = archStatusLabel(result);
      const arch = guard.label(task.source, 'arch', result.arch);
      const key = `${task.source}\u0000${repo}\u0000${arch}\u0000${status}`;
      const held = counts.get(key);
      const count = (held?.count ?? 0) + sign;
      if (count > 0) counts.set(key, { labels: held?.labels ?? { source: task.source, repo, arch, status }, count });
      else counts.delete(key);
    }
  }
}

/** Counts recomputed from scratch over girar tasks (start-up, forgetSource, and tests). */
export function archBuildCounts(tasks: Iterable<Task>, guard: LabelGuard = UNGUARDED): Map<string, ArchBuildCount> {
  const counts = new Map<string, ArchBuildCount>();
  for (const task of tasks) if (task.kind === GIRAR_KIND) addArchBuilds(counts, task, 1, guard);
  return counts;
}

/** No folding (tests that recount by hand); the exporter always passes its guard. */
const UNGUARDED = new LabelGuard(Number.POSITIVE_INFINITY);

export class GirarMetrics {
  private counts: Map<string, ArchBuildCount>;
  private readonly results: SourceCounter<'girarArchResults'>;
  /** Set when applying a change failed half-way: the next scrape recounts from the store. */
  private stale = false;

  constructor(
    ctx: FamilyContext,
    private readonly store: Store,
    series: SourceSeries,
    private readonly guard: LabelGuard,
  ) {
    this.counts = archBuildCounts(tasksOf(store), guard);
    makeGauge(ctx, 'girarArchBuilds', (g) => {
      g.reset();
      if (this.stale) {
        this.counts = archBuildCounts(tasksOf(store), guard);
        this.stale = false;
      }
      for (const { labels, count } of this.counts.values()) g.set(labels, count);
    });
    this.results = new SourceCounter(ctx, 'girarArchResults', series);
  }

  onTask({ event, prev, next }: TaskChange): void {
    try {
      if (prev?.kind === GIRAR_KIND) addArchBuilds(this.counts, prev, -1, this.guard);
      if (next?.kind === GIRAR_KIND) addArchBuilds(this.counts, next, 1, this.guard);
    } catch (err) {
      this.stale = true;
      throw err;
    }
    if (event.type === 'task_updated' && prev && next?.kind === GIRAR_KIND) this.countChangedResults(prev, next);
  }

  /** Recount one source from the store (after it was dropped, or to repair the incremental counts). */
  rebuildSource(source: string): void {
    for (const [key, { labels }] of this.counts) if (labels.source === source) this.counts.delete(key);
    for (const task of tasksOf(this.store)) {
      if (task.source === source && task.kind === GIRAR_KIND) addArchBuilds(this.counts, task, 1, this.guard);
    }
  }

  private countChangedResults(prev: Task, next: Task): void {
    const before = new Map<string, string>();
    for (const subtask of prev.subtasks) {
      for (const result of subtask.archs) before.set(`${subtask.id}\u0000${result.arch}`, archStatusLabel(result));
    }
    for (const subtask of next.subtasks) {
      for (const result of subtask.archs) {
        const status = archStatusLabel(result);
        if (before.get(`${subtask.id}\u0000${result.arch}`) === status) continue;
        this.results.inc({ source: next.source, arch: this.guard.label(next.source, 'arch', result.arch), status });
      }
    }
  }
}

function* tasksOf(store: Store): Iterable<Task> {
  for (const entry of store.allEntries()) yield entry.task;
}
