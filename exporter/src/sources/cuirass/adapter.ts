/**
 * The `cuirass` adapter: each poll reads the queue, the latest finished builds and the latest
 * evaluations (and the specifications every `specifications_interval`). A build seen in the queue
 * and later among the finished ones is one task that changed state; one that leaves the queue
 * unfinished and is not among the latest finished builds is read by id. Ids only grow: an id
 * never listed before and above the first poll's highest is new, counted even when first seen
 * finished. Evaluation ids going far back (a wiped database) start a new baseline.
 */
import { setMaxListeners } from 'node:events';
import type { Task } from '../../model/task.js';
import { parseDuration } from '../../util/duration.js';
import type { SourceProblems } from '../health.js';
import { ProblemTracker, type RecordProblem } from '../problem-tracker.js';
import type { RestoredRecords, Snapshot, SourceContext } from '../source.js';
import { CuirassClient, type CheckedList } from './client.js';
import type { CuirassConfig } from './config.js';
import { buildTask, evaluationTask, evaluationTaskId } from './normalize.js';
import { checkBuild, checkEvaluation, type Build, type Specification } from './upstream.js';

/** Builds that left the queue unfinished read one by one per poll at most. */
const DETAIL_BUDGET = 50;
/** Ids remembered per kind; the oldest are forgotten first. */
const SEEN_IDS = 100_000;

function remember(seen: Set<number>, id: number): void {
  seen.delete(id);
  seen.add(id);
  if (seen.size > SEEN_IDS) seen.delete(seen.values().next().value as number);
}

export class CuirassAdapter {
  private readonly client: CuirassClient;
  private readonly specEveryMs: number;
  private specs: Specification[] = [];
  private specsReadAt = Number.NEGATIVE_INFINITY;
  private maxEvaluationId: number | undefined;
  /** Whether a baseline was taken: builds and evaluations listed then are not new. */
  private baselined = false;
  private buildBaseline = 0;
  private evaluationBaseline = 0;
  /** Ids listed before (bounded): one that leaves a capped list and comes back is not new again. */
  private readonly seenBuilds = new Set<number>();
  private readonly seenEvaluations = new Set<number>();
  /** The builds of the previous poll, to find the unfinished ones that left every list. */
  private held = new Map<number, Build>();
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

  /**
   * Pick up what the earlier run knew: the builds it held (one left unfinished that is in no list
   * now is read by id, so its end while the exporter was down is seen), and the ids it had
   * listed, as the baseline: a build or evaluation above them that appears after the restart is
   * new and counts once, even one that ran entirely while the exporter was down.
   */
  restore(held: RestoredRecords): void {
    const builds = new Map<number, Build>();
    const evaluations: number[] = [];
    for (const task of held.tasks) {
      const native: unknown = task.native;
      if (checkBuild.Check(native) && String(native.id) === task.id) builds.set(native.id, native);
      else if (checkEvaluation.Check(native) && evaluationTaskId(native.id) === task.id) evaluations.push(native.id);
    }
    if (builds.size === 0) return;
    const ids = [...builds.keys()].sort((a, b) => a - b);
    evaluations.sort((a, b) => a - b);
    for (const id of ids) remember(this.seenBuilds, id);
    for (const id of evaluations) remember(this.seenEvaluations, id);
    this.held = builds;
    this.baselined = true;
    this.buildBaseline = ids[ids.length - 1] ?? 0;
    this.evaluationBaseline = evaluations[evaluations.length - 1] ?? 0;
    if (evaluations.length > 0) this.maxEvaluationId = this.evaluationBaseline;
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
    const evalIds = evaluations.entries.map((e) => e.id);
    const topEval = evalIds.length > 0 ? Math.max(...evalIds) : undefined;

    // A wiped database shows in the evaluations: newest first and uncapped, their top id is
    // reliable, while the newest builds can drop out of the capped build lists on their own.
    if (this.maxEvaluationId !== undefined && topEval !== undefined && topEval < this.maxEvaluationId / 2) {
      found.push({ id: 'evaluation ids', reason: 'ids_reset', message: `the highest evaluation id went back from ${this.maxEvaluationId} to ${topEval}: Cuirass's database was reset; counting starts again` });
      this.ctx.log.warn({ from: this.maxEvaluationId, to: topEval }, 'cuirass evaluation ids went back; taking it as a new database');
      this.baselined = false;
      this.seenBuilds.clear();
      this.seenEvaluations.clear();
      this.held.clear();
    }

    // Builds that left the queue unfinished and are not among the latest finished ones (an older
    // evaluation's build, below the latestbuilds window): read each, so its end is seen.
    const vanished = [...this.held.values()].filter((b) => b.buildstatus < 0 && !builds.has(b.id)).slice(0, DETAIL_BUDGET);
    // Up to DETAIL_BUDGET requests listen on the poll's signal at once: not a listener leak.
    if (vanished.length > 0) setMaxListeners(DETAIL_BUDGET + 20, signal);
    for (const [i, b] of (await Promise.all(vanished.map((v) => this.client.build(v.id, signal).catch(() => v)))).entries()) {
      const id = vanished[i]?.id;
      if (b && id !== undefined) builds.set(id, b);
    }

    const newTaskIds: string[] = [];
    // A first poll that lists evaluations but no builds is a large instance answering oddly, not an empty one: wait for builds.
    const canBaseline = builds.size > 0 || evalIds.length === 0;
    if (this.baselined) {
      for (const id of builds.keys()) if (!this.seenBuilds.has(id) && id > this.buildBaseline) newTaskIds.push(String(id));
      for (const id of evalIds) if (!this.seenEvaluations.has(id) && id > this.evaluationBaseline) newTaskIds.push(evaluationTaskId(id));
    } else if (canBaseline) {
      this.baselined = true;
      this.buildBaseline = builds.size > 0 ? Math.max(...builds.keys()) : 0;
      this.evaluationBaseline = topEval ?? 0;
    }
    for (const id of builds.keys()) remember(this.seenBuilds, id);
    for (const id of evalIds) remember(this.seenEvaluations, id);
    if (topEval !== undefined) this.maxEvaluationId = Math.max(this.maxEvaluationId ?? 0, topEval);
    if (found.some((f) => f.reason === 'ids_reset')) this.maxEvaluationId = topEval;
    this.held = builds;

    const base = this.client.base;
    const tasks: Task[] = [...[...builds.values()].map((b) => buildTask(this.ctx.name, base, b)), ...evaluations.entries.map((e) => evaluationTask(this.ctx.name, base, e))];
    this.found = found;
    return { type: 'snapshot', tasks, ...(newTaskIds.length > 0 ? { newTaskIds } : {}) };
  }

  problems(): SourceProblems {
    return this.problemTracker.update(this.found);
  }
}
