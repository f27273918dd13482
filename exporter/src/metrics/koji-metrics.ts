/**
 * The `buildfarm_koji_` families: the hub and its database up (from the source's endpoint
 * health), the hub's own figures (task counts, builds in progress, repo queue, last event, host
 * and channel load) read from the latest successful poll, and completions, durations and queue
 * waits counted from task changes.
 */
import { TERMINAL_PHASES, type Task } from '../model/task.js';
import type { HealthProvider } from '../sources/health.js';
import type { UpstreamFigure } from '../sources/source.js';
import type { TaskChange } from '../store/store.js';
import type { KeyOfType } from './definitions.js';
import type { LabelGuard } from './label-guard.js';
import { makeGauge, SourceCounter, SourceHistogram, type FamilyContext, type SourceSeries } from './factory.js';

const KIND = 'koji';
const isBuild = (t: Task) => t.id.startsWith('build-');

/** Figure name (as the adapter reports it) -> family, and which figure label the guard bounds. */
const FIGURES: Record<string, { key: KeyOfType<'gauge'>; bounded?: 'worker' | 'channel' }> = {
  tasks: { key: 'kojiTasks' },
  builds_in_progress: { key: 'kojiBuildsInProgress' },
  repo_queue_length: { key: 'kojiRepoQueueLength' },
  last_event_id: { key: 'kojiLastEventId' },
  last_event_timestamp_seconds: { key: 'kojiLastEventTime' },
  host_ready: { key: 'kojiHostReady', bounded: 'worker' },
  host_enabled: { key: 'kojiHostEnabled', bounded: 'worker' },
  host_task_load: { key: 'kojiHostTaskLoad', bounded: 'worker' },
  host_capacity: { key: 'kojiHostCapacity', bounded: 'worker' },
  channel_load: { key: 'kojiChannelLoad', bounded: 'channel' },
  channel_capacity: { key: 'kojiChannelCapacity', bounded: 'channel' },
  channel_hosts: { key: 'kojiChannelHosts', bounded: 'channel' },
};

export class KojiMetrics {
  private readonly completed: SourceCounter<'kojiTasksCompleted'>;
  private readonly builds: SourceCounter<'kojiBuildsCompleted'>;
  private readonly duration: SourceHistogram<'kojiTaskDuration'>;
  private readonly queueWait: SourceHistogram<'kojiTaskQueueWait'>;

  constructor(
    ctx: FamilyContext,
    health: HealthProvider,
    series: SourceSeries,
    private readonly guard: LabelGuard,
  ) {
    makeGauge(ctx, 'kojiHubUp', (g) => {
      g.reset();
      for (const h of health.health()) {
        const hub = h.kind === KIND ? h.endpoints?.find((e) => e.role === 'hub') : undefined;
        if (hub) g.set({ source: h.name }, hub.reachable ? 1 : 0);
      }
    });
    makeGauge(ctx, 'kojiDatabaseUp', (g) => {
      g.reset();
      for (const h of health.health()) {
        if (h.kind !== KIND) continue;
        const hub = h.endpoints?.find((e) => e.role === 'hub');
        const db = h.endpoints?.find((e) => e.role === 'database');
        if (hub?.reachable && db) g.set({ source: h.name }, db.up ? 1 : 0);
      }
    });
    // Each figure family reads the figures of every Koji source that is up now.
    const figures = function* (name: string): Iterable<[string, UpstreamFigure]> {
      for (const h of health.health()) {
        if (h.kind !== KIND || !h.up) continue;
        for (const f of h.upstream?.figures ?? []) if (f.name === name && Number.isFinite(f.value)) yield [h.name, f];
      }
    };
    for (const [name, { key, bounded }] of Object.entries(FIGURES)) {
      makeGauge(ctx, key, (g) => {
        g.reset();
        for (const [source, f] of figures(name)) {
          const labels: Record<string, string> = { source, ...f.labels };
          if (bounded && labels[bounded] !== undefined) labels[bounded] = this.guard.label(source, bounded, labels[bounded]);
          g.set(labels, f.value);
        }
      });
    }
    this.completed = new SourceCounter(ctx, 'kojiTasksCompleted', series);
    this.builds = new SourceCounter(ctx, 'kojiBuildsCompleted', series);
    this.duration = new SourceHistogram(ctx, 'kojiTaskDuration', series);
    this.queueWait = new SourceHistogram(ctx, 'kojiTaskQueueWait', series);
  }

  /** Count what a change says: a task or build ending, a task starting (its queue wait). */
  onTask({ event, prev, next, fresh }: TaskChange): void {
    if (next?.kind !== KIND) return;
    const seen = event.type === 'task_new' ? fresh === true : event.type === 'task_updated' && prev !== undefined;
    if (!seen) return;
    const ended = TERMINAL_PHASES.has(next.phase) && (event.type === 'task_new' || !TERMINAL_PHASES.has(prev?.phase ?? 'unknown'));
    if (isBuild(next)) {
      const gone = next.state === 'deleted' && (event.type === 'task_new' || prev?.phase === 'running');
      if (ended || gone) this.builds.inc({ source: next.source, result: next.state });
      return;
    }
    const method = this.method(next);
    const channel = this.guard.label(next.source, 'channel', typeof next.attrs?.channel === 'string' ? next.attrs.channel : '');
    if (ended) {
      this.completed.inc({ source: next.source, method, result: next.state });
      const ran = seconds(next.started, next.finished);
      if (ran !== undefined) this.duration.observe({ source: next.source, method, channel }, ran);
    }
    // A start seen: first sighting of a new task that has started, or a change that gave it a start time.
    const started = next.started !== undefined && (event.type === 'task_new' || prev?.started === undefined);
    if (started) {
      const waited = seconds(next.created, next.started);
      if (waited !== undefined) this.queueWait.observe({ source: next.source, method, channel }, waited);
    }
  }

  /** The task's method, named only when in the source's `methods` list (the guard holds it). */
  private method(t: Task): string {
    return this.guard.label(t.source, 'method', typeof t.attrs?.method === 'string' ? t.attrs.method : '');
  }
}

function seconds(from: string | undefined, to: string | undefined): number | undefined {
  if (from === undefined || to === undefined) return undefined;
  const s = (Date.parse(to) - Date.parse(from)) / 1000;
  return Number.isFinite(s) && s >= 0 ? s : undefined;
}
