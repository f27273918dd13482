/**
 * The `cuirass` adapter: each poll reads the queue, the latest finished builds and the latest
 * evaluations (and the specifications every `specifications_interval`). A build seen in the queue
 * and later among the finished ones is one task that changed state. Build and evaluation ids only
 * grow, so an id above the highest seen is new: counted even when first seen finished. Ids going
 * back (a wiped database) start a new baseline instead of counting anything.
 */
import type { Task } from '../../model/task.js';
import { parseDuration } from '../../util/duration.js';
import type { SourceProblems } from '../health.js';
import { ProblemTracker, type RecordProblem } from '../problem-tracker.js';
import type { Snapshot, SourceContext } from '../source.js';
import { CuirassClient, type CheckedList } from './client.js';
import type { CuirassConfig } from './config.js';
import { buildTask, evaluationTask, evaluationTaskId } from './normalize.js';
import type { Build, Specification } from './upstream.js';

export class CuirassAdapter {
  private readonly client: CuirassClient;
  private readonly specEveryMs: number;
  private specs: Specification[] = [];
  private specsReadAt = Number.NEGATIVE_INFINITY;
  private maxBuildId: number | undefined;
  private maxEvaluationId: number | undefined;
  private found: RecordProblem[] = [];
  private readonly problemTracker = new ProblemTracker();

  constructor(
    private readonly config: CuirassConfig,
    private readonly ctx: SourceContext,
  ) {
    this.client = new CuirassClient(ctx.http, { url: config.url, maxBodyBytes: config.max_body_bytes });
    this.specEveryMs = (parseDuration(config.specifications_interval) ?? 600) * 1000;
  }

  /** The specifications as last read (names, systems, period), for the API and metrics. */
  get specifications(): readonly Specification[] {
    return this.specs;
  }

  async poll(signal: AbortSignal): Promise<Snapshot> {
    const now = this.ctx.clock.now();
    const specsDue = now - this.specsReadAt >= this.specEveryMs;
    const [queue, latest, evaluations, specs] = await Promise.all([
      this.client.queue(this.config.queue_limit, signal),
      this.client.latestBuilds(this.config.latest_limit, signal),
      this.client.evaluations(this.config.evaluations_limit, signal),
      specsDue ? this.client.specifications(signal) : Promise.resolve(undefined),
    ]);
    const found: RecordProblem[] = [];
    const note = (where: string, list: CheckedList<unknown>) => {
      for (const r of list.rejected) found.push({ where, id: r.id ?? `${where} entry ${r.index}`, reason: 'bad_value', message: r.message });
    };
    note('queue', queue);
    note('latestbuilds', latest);
    note('evaluations', evaluations);
    if (specs) {
      note('specifications', specs);
      this.specs = specs.entries;
      this.specsReadAt = now;
    }

    // A finished build also still in the queue (the two reads are not atomic): the finished word wins.
    const builds = new Map<number, Build>();
    for (const b of queue.entries) builds.set(b.id, b);
    for (const b of latest.entries) builds.set(b.id, b);
    const newTaskIds: string[] = [];
    const buildIds = [...builds.keys()];
    const evalIds = evaluations.entries.map((e) => e.id);
    const topBuild = buildIds.length > 0 ? Math.max(...buildIds) : undefined;
    const topEval = evalIds.length > 0 ? Math.max(...evalIds) : undefined;
    const buildReset = this.reset(this.maxBuildId, topBuild, 'build', found);
    const evalReset = this.reset(this.maxEvaluationId, topEval, 'evaluation', found);
    if (this.maxBuildId !== undefined && !buildReset) for (const id of buildIds) if (id > this.maxBuildId) newTaskIds.push(String(id));
    if (this.maxEvaluationId !== undefined && !evalReset) for (const id of evalIds) if (id > this.maxEvaluationId) newTaskIds.push(evaluationTaskId(id));
    // An empty list is a baseline too: on a fresh Cuirass every id that shows up later is new.
    this.maxBuildId = topBuild === undefined ? (this.maxBuildId ?? 0) : buildReset ? topBuild : Math.max(this.maxBuildId ?? 0, topBuild);
    this.maxEvaluationId = topEval === undefined ? (this.maxEvaluationId ?? 0) : evalReset ? topEval : Math.max(this.maxEvaluationId ?? 0, topEval);

    const base = this.client.base;
    const tasks: Task[] = [...[...builds.values()].map((b) => buildTask(this.ctx.name, base, b)), ...evaluations.entries.map((e) => evaluationTask(this.ctx.name, base, e))];
    this.found = found;
    return { type: 'snapshot', tasks, ...(newTaskIds.length > 0 ? { newTaskIds } : {}) };
  }

  problems(): SourceProblems {
    return this.problemTracker.update(this.found);
  }

  /**
   * Ids going back mean Cuirass's database was wiped: start a new baseline, count nothing this
   * time. The newest build can drop out of a capped list on its own, so only a fall below half the
   * highest id ever seen counts as a reset (a new database starts again from 1).
   */
  private reset(seen: number | undefined, top: number | undefined, what: string, found: RecordProblem[]): boolean {
    if (seen === undefined || top === undefined || top >= seen / 2) return false;
    found.push({ id: `${what} ids`, reason: 'ids_reset', message: `the highest ${what} id went back from ${seen} to ${top}: Cuirass's database was reset; counting starts again from ${top}` });
    this.ctx.log.warn({ what, from: seen, to: top }, `cuirass ${what} ids went back; taking them as a new database`);
    return true;
  }
}
