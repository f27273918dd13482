/**
 * Generic task families: current counts per group (read from the store's groups at scrape),
 * and counters/histograms fed by the task changes the store observes.
 */
import { TERMINAL_PHASES, type Phase, type Task } from '../model/task.js';
import type { Store, TaskChange } from '../store/store.js';
import type { LabelGuard } from './label-guard.js';
import { makeGauge, SourceCounter, SourceHistogram, type FamilyContext, type SourceSeries } from './factory.js';

/** Phases whose groups export the time their oldest member entered its state. */
const WAITING_PHASES: ReadonlySet<Phase> = new Set<Phase>(['queued', 'running', 'blocked']);

export class TaskMetrics {
  private readonly transitions: SourceCounter<'taskTransitions'>;
  private readonly finished: SourceCounter<'tasksFinished'>;
  private readonly duration: SourceHistogram<'taskDuration'>;
  private readonly queueWait: SourceHistogram<'taskQueueWait'>;

  constructor(
    ctx: FamilyContext,
    store: Store,
    series: SourceSeries,
    private readonly guard: LabelGuard,
  ) {
    // Groups whose labels the guard folds into `other` add up (counts) or take the earliest (times).
    makeGauge(ctx, 'tasks', (g) => {
      g.reset();
      for (const group of store.taskGroups()) {
        g.inc({ source: group.source, kind: group.kind, repo: this.repo(group.source, group.repo), state: this.state(group.source, group.state), phase: group.phase }, group.keys.size);
      }
    });
    makeGauge(ctx, 'taskOldestState', (g) => {
      g.reset();
      const oldest = new Map<string, { labels: { source: string; kind: string; repo: string; state: string }; ms: number }>();
      for (const group of store.taskGroups()) {
        if (!WAITING_PHASES.has(group.phase)) continue;
        const ms = store.oldestInGroup(group);
        if (!Number.isFinite(ms)) continue;
        const labels = { source: group.source, kind: group.kind, repo: this.repo(group.source, group.repo), state: this.state(group.source, group.state) };
        const key = `${labels.source}\u0000${labels.kind}\u0000${labels.repo}\u0000${labels.state}`;
        const held = oldest.get(key);
        if (!held || ms < held.ms) oldest.set(key, { labels, ms });
      }
      for (const { labels, ms } of oldest.values()) g.set(labels, ms / 1000);
    });
    this.transitions = new SourceCounter(ctx, 'taskTransitions', series);
    this.finished = new SourceCounter(ctx, 'tasksFinished', series);
    this.duration = new SourceHistogram(ctx, 'taskDuration', series);
    this.queueWait = new SourceHistogram(ctx, 'taskQueueWait', series);
  }

  /** Count what one observed change says; removals, and first sightings of tasks not known to be new, count nothing. */
  onTask({ event, prev, next, runStarted, fresh }: TaskChange): void {
    if (event.type === 'task_new' && fresh && next) return this.onFresh(next);
    if (event.type !== 'task_updated' || !prev || !next) return;
    const { source, kind } = next;
    const repo = this.repo(source, next.repo ?? '');
    if (prev.state !== next.state) {
      this.transitions.inc({ source, kind, from_state: this.state(source, prev.state), to_state: this.state(source, next.state) });
    }
    if (TERMINAL_PHASES.has(next.phase) && !TERMINAL_PHASES.has(prev.phase)) {
      this.finished.inc({ source, kind, repo, phase: next.phase });
      const seconds = secondsBetween(next.started, next.finished);
      if (seconds !== undefined) this.duration.observe({ source, kind, repo, phase: next.phase }, seconds);
    }
    if (runStarted && prev.phase === 'queued') {
      const seconds = secondsBetween(prev.stateSince, next.stateSince ?? event.at);
      if (seconds !== undefined) this.queueWait.observe({ source, kind, repo }, seconds);
    }
  }

  /** A task the upstream created since the previous poll, seen for the first time: count what already happened to it. */
  private onFresh(next: Task): void {
    const { source, kind } = next;
    const repo = this.repo(source, next.repo ?? '');
    if (TERMINAL_PHASES.has(next.phase)) {
      this.finished.inc({ source, kind, repo, phase: next.phase });
      const seconds = secondsBetween(next.started, next.finished);
      if (seconds !== undefined) this.duration.observe({ source, kind, repo, phase: next.phase }, seconds);
    }
    if (next.started !== undefined) {
      const seconds = secondsBetween(next.created, next.started);
      if (seconds !== undefined) this.queueWait.observe({ source, kind, repo }, seconds);
    }
  }

  private repo(source: string, repo: string): string {
    return this.guard.label(source, 'repo', repo);
  }

  private state(source: string, state: string): string {
    return this.guard.label(source, 'state', state);
  }
}

/** Seconds from one ISO time to a later one; undefined when either is unknown or the order is wrong (clock skew). */
function secondsBetween(from: string | undefined, to: string | undefined): number | undefined {
  if (from === undefined || to === undefined) return undefined;
  const seconds = (Date.parse(to) - Date.parse(from)) / 1000;
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}
