/**
 * One simulation step for one task, following girar's real transitions (reference/girar.md §3.2):
 * `task run`, the build selector, per-arch builds, ACL checks, commit, archiving and stale scrap.
 */
import type { Rng } from './prng.js';
import { SIM_APPROVERS, archesOf, excludedArch } from './simulator-population.js';
import type { BuildPlan, SimTask } from './simulator-model.js';

/** Every state change girar makes (plus removal: archiving of DONE, stale scrap of idle tasks). */
export const GIRAR_TRANSITIONS: Readonly<Record<string, readonly string[]>> = {
  NEW: ['AWAITING', 'POSTPONED'],
  AWAITING: ['BUILDING', 'FAILED', 'NEW'],
  POSTPONED: ['AWAITING', 'FAILED', 'NEW'],
  BUILDING: ['FAILING', 'FAILED', 'EPERM', 'TESTED', 'SWEPT', 'PENDING'],
  FAILING: ['FAILED'],
  FAILED: ['AWAITING', 'POSTPONED', 'NEW'],
  EPERM: ['AWAITING', 'POSTPONED', 'PENDING', 'NEW'],
  TESTED: ['AWAITING', 'POSTPONED', 'PENDING', 'NEW'],
  SWEPT: ['AWAITING', 'POSTPONED', 'NEW'],
  PENDING: ['COMMITTING', 'AWAITING', 'FAILED', 'NEW'],
  COMMITTING: ['DONE', 'FAILURE', 'EPERM'],
  DONE: [],
  FAILURE: [],
};

/** What the step needs to know about the rest of the farm. */
export interface World {
  rng: Rng;
  nowMs: number;
  byId: ReadonlyMap<number, SimTask>;
  /** Tasks per repo currently in BUILDING/FAILING, and in COMMITTING. */
  building: Map<string, number>;
  committing: Map<string, number>;
}

/** What happened to the task this step. */
export type StepResult = 'none' | 'changed' | 'removed';

const MAX_BUILDING_PER_REPO = 2;

/** Advance `task` by at most one state change. */
export function step(task: SimTask, w: World): StepResult {
  const { rng } = w;
  task.stateTicks++;
  switch (task.state) {
    case 'NEW':
      if (rng.chance(0.2)) return run(task, w);
      return staleScrap(task, w);
    case 'AWAITING':
      if ((w.building.get(task.repo) ?? 0) < MAX_BUILDING_PER_REPO && rng.chance(0.45)) {
        bump(w.building, task.repo, 1);
        return startBuild(task, w);
      }
      if (rng.chance(0.01)) return abort(task, w);
      return 'none';
    case 'POSTPONED':
      if (task.depends.every((id) => !w.byId.has(id) || w.byId.get(id)?.state === 'DONE')) {
        // gb-y-awake-tasks; archived dependencies drop out of task/depends.
        task.depends = task.depends.filter((id) => w.byId.has(id));
        task.iter = (task.iter ?? 1) + 1;
        clearBuilds(task);
        return change(task, 'AWAITING', w);
      }
      if (rng.chance(0.005)) return abort(task, w);
      return staleScrap(task, w);
    case 'BUILDING':
    case 'FAILING':
      return build(task, w);
    case 'EPERM':
      if (rng.chance(0.15)) return approve(task, w);
      if (rng.chance(0.03)) return run(task, w);
      return staleScrap(task, w);
    case 'TESTED':
      if (rng.chance(0.05)) {
        task.testOnly = false; // `task run --commit`
        return change(task, 'PENDING', w);
      }
      if (rng.chance(0.03)) return run(task, w);
      return staleScrap(task, w);
    case 'SWEPT':
      if (rng.chance(0.05)) return run(task, w);
      return staleScrap(task, w);
    case 'FAILED':
      if (rng.chance(0.05)) return run(task, w);
      if (rng.chance(0.02)) return deleteSubtask(task, w);
      return staleScrap(task, w);
    case 'PENDING':
      if ((w.committing.get(task.repo) ?? 0) === 0 && rng.chance(0.4)) {
        bump(w.committing, task.repo, 1);
        return change(task, 'COMMITTING', w);
      }
      if (rng.chance(0.04)) {
        // gb-task-validate-state failed (the repo moved on): rebuild as the next iteration.
        task.iter = (task.iter ?? 1) + 1;
        clearBuilds(task);
        return change(task, 'AWAITING', w);
      }
      if (rng.chance(0.004)) return abort(task, w);
      return 'none';
    case 'COMMITTING': {
      const r = rng.next();
      if (r < 0.012) return change(task, 'FAILURE', w);
      if (r < 0.024) return change(task, 'EPERM', w);
      if (r < 0.55) return change(task, 'DONE', w);
      return 'none';
    }
    case 'DONE':
      return task.stateTicks > 30 && rng.chance(0.1) ? 'removed' : 'none';
    default:
      return staleScrap(task, w);
  }
}

/** `task run`: a new try; POSTPONED while a dependency is not DONE yet. */
function run(task: SimTask, w: World): StepResult {
  task.try = (task.try ?? 0) + 1;
  task.iter = 1;
  delete task.abortedBy;
  clearBuilds(task);
  const waiting = task.depends.some((id) => w.byId.has(id) && w.byId.get(id)?.state !== 'DONE');
  return change(task, waiting ? 'POSTPONED' : 'AWAITING', w);
}

function startBuild(task: SimTask, w: World): StepResult {
  const { rng } = w;
  const outcomes = new Map<string, string>();
  const buildable = [...task.subtasks.entries()].filter(([, s]) => s.type === 'repo' || s.type === 'srpm' || s.type === 'copy');
  const failing = rng.chance(0.15) && buildable.length > 0 ? rng.pick(buildable)[0] : undefined;
  const arches = archesOf(task.repo);
  const failArch = rng.pick(arches);
  const rerun = (task.try ?? 1) > 1 || (task.iter ?? 1) > 1;
  for (const [key, sub] of buildable) {
    for (const arch of arches) {
      let outcome = 'built';
      if (excludedArch(sub.pkgname ?? sub.package, arch)) outcome = 'excluded';
      else if (key === failing && arch === failArch) outcome = 'failed';
      else if (task.swift && rerun && rng.chance(0.6)) outcome = 'swept';
      else if (rerun && rng.chance(0.5)) outcome = 'cached';
      outcomes.set(`${key}/${arch}`, outcome);
    }
  }
  const plan: BuildPlan = { outcomes, eperm: rng.chance(task.repo === 'sisyphus' ? 0.05 : 0.25), checkFails: rng.chance(0.05) };
  task.plan = plan;
  clearBuilds(task);
  return change(task, 'BUILDING', w);
}

function build(task: SimTask, w: World): StepResult {
  const plan = task.plan;
  if (!plan) return finishBuild(task, w, 'FAILED');
  const stopping = task.state === 'FAILING' && task.failEarly;
  let failedNow = false;
  let pending = 0;
  if (!stopping) {
    for (const [cell, outcome] of plan.outcomes) {
      const [key, arch] = cell.split('/') as [string, string];
      const sub = task.subtasks.get(key);
      if (!sub || sub.build?.[arch] !== undefined) continue;
      if (w.rng.chance(0.4)) {
        sub.build = { ...sub.build, [arch]: outcome };
        if (outcome === 'failed') failedNow = true;
      } else {
        pending++;
      }
    }
  }
  if (failedNow && task.state === 'BUILDING') return change(task, 'FAILING', w);
  if (stopping) return finishBuild(task, w, 'FAILED');
  if (pending > 0) return 'none';
  if (task.state === 'FAILING' || plan.checkFails) return finishBuild(task, w, 'FAILED');
  if (plan.eperm && !task.testOnly) return finishBuild(task, w, 'EPERM');
  if (task.testOnly) return finishBuild(task, w, 'TESTED');
  return finishBuild(task, w, task.swift ? 'SWEPT' : 'PENDING');
}

function finishBuild(task: SimTask, w: World, state: string): StepResult {
  delete task.plan;
  bump(w.building, task.repo, -1);
  return change(task, state, w);
}

/** An approver adds an approval; with perms now passing, the task goes on to commit. */
function approve(task: SimTask, w: World): StepResult {
  const subs = [...task.subtasks.values()].filter((s) => s.type !== undefined);
  const sub = subs.length > 0 ? w.rng.pick(subs) : undefined;
  const approver = w.rng.pick(SIM_APPROVERS.filter((a) => a !== task.owner));
  if (sub && !sub.approved_by?.includes(approver)) sub.approved_by = [...(sub.approved_by ?? []), approver];
  return change(task, 'PENDING', w);
}

function abort(task: SimTask, w: World): StepResult {
  task.abortedBy = task.owner;
  return change(task, 'FAILED', w);
}

/** `task delsub`: only `userid` stays behind, and the task is reset to NEW. */
function deleteSubtask(task: SimTask, w: World): StepResult {
  const live = [...task.subtasks.entries()].filter(([, s]) => s.type !== undefined);
  if (live.length < 2) return 'none';
  const [key, sub] = w.rng.pick(live);
  task.subtasks.set(key, { userid: sub.userid });
  clearBuilds(task);
  return change(task, 'NEW', w);
}

/** girar-scrap-stale-tasks: tasks idle for weeks leave /tasks. */
function staleScrap(task: SimTask, w: World): StepResult {
  return task.stateTicks > 150 && w.rng.chance(0.05) ? 'removed' : 'none';
}

function change(task: SimTask, state: string, w: World): StepResult {
  if (state === 'DONE' || state === 'FAILURE' || state === 'EPERM') {
    if (task.state === 'COMMITTING') bump(w.committing, task.repo, -1);
  }
  task.state = state;
  task.stateTicks = 0;
  task.updatedMs = w.nowMs;
  // build_time is the mtime of the current try.iter events log, written at every state change.
  if (task.try !== undefined) task.buildTimeMs = w.nowMs;
  return 'changed';
}

function clearBuilds(task: SimTask): void {
  for (const sub of task.subtasks.values()) delete sub.build;
}

function bump(counts: Map<string, number>, repo: string, by: number): void {
  counts.set(repo, Math.max(0, (counts.get(repo) ?? 0) + by));
}
