/**
 * Tries, iterations and per-arch build results of a planned task, built backwards from the time
 * of its current state (reference §3.2 transitions, §3.5 try_iter rule, §3.6 events logs).
 */
import type { Rng } from '../prng.js';
import { archesOfRepo, isBuildKind, type ArchResult, type SubtaskModel, type TaskModel } from './generator-model.js';

/** One try.iter as the planner sees it: the states it went through, with times. */
export interface IterPlan {
  t: number;
  i: number;
  path: [state: string, atS: number][];
  /** mtime of its events log. */
  logS: number;
  /** The build window, when the iteration reached BUILDING. */
  build?: { startS: number; endS: number; failS?: number };
  /** How its builds ended: all good, at least one failure, or still running. */
  outcome: 'good' | 'failed' | 'building' | 'failing' | 'none';
}

export function logUniform(rng: Rng, min: number, max: number): number {
  return Math.round(Math.exp(Math.log(min) + rng.next() * (Math.log(max) - Math.log(min))));
}

function stepDuration(rng: Rng, from: string, to: string): number {
  if (from === 'AWAITING' && to === 'BUILDING') return logUniform(rng, 10, 2400);
  if (from === 'BUILDING' && to === 'FAILING') return logUniform(rng, 60, 3600);
  if (from === 'BUILDING') return logUniform(rng, 180, 7200);
  if (from === 'FAILING') return logUniform(rng, 30, 1800);
  if (from === 'PENDING') return logUniform(rng, 20, 7200);
  return logUniform(rng, 40, 900);
}

/** States an iteration goes through to end in `last` (girar's transition table). */
export function pathTo(last: string): string[] {
  switch (last) {
    case 'AWAITING': return ['AWAITING'];
    case 'POSTPONED': return ['POSTPONED'];
    case 'BUILDING': return ['AWAITING', 'BUILDING'];
    case 'FAILING': return ['AWAITING', 'BUILDING', 'FAILING'];
    case 'FAILED': return ['AWAITING', 'BUILDING', 'FAILING', 'FAILED'];
    case 'COMMITTING': return ['AWAITING', 'BUILDING', 'PENDING', 'COMMITTING'];
    case 'DONE': return ['AWAITING', 'BUILDING', 'PENDING', 'COMMITTING', 'DONE'];
    case 'FAILURE': return ['AWAITING', 'BUILDING', 'PENDING', 'COMMITTING', 'FAILURE'];
    default: return ['AWAITING', 'BUILDING', last];
  }
}

/** An iteration whose path ends in `last` at `endS`; BUILDING/FAILING ones run until `nowS`. */
export function planIteration(rng: Rng, t: number, i: number, last: string, endS: number, nowS: number): IterPlan {
  const states = pathTo(last);
  const path: [string, number][] = [];
  let at = endS;
  for (let k = states.length - 1; k >= 0; k--) {
    path.unshift([states[k] as string, at]);
    if (k > 0) at -= stepDuration(rng, states[k - 1] as string, states[k] as string);
  }
  const when = (s: string): number | undefined => path.find(([st]) => st === s)?.[1];
  const building = when('BUILDING');
  const plan: IterPlan = { t, i, path, logS: endS, outcome: 'none' };
  if (building === undefined) return plan;
  if (last === 'BUILDING' || last === 'FAILING') {
    plan.build = { startS: building, endS: Math.max(endS, nowS - rng.int(1, 90)), ...(last === 'FAILING' ? { failS: endS } : {}) };
    plan.outcome = last === 'BUILDING' ? 'building' : 'failing';
    return plan;
  }
  const failS = when('FAILING');
  const doneS = path[states.indexOf('BUILDING') + 1]?.[1] ?? endS;
  const buildEnd = last === 'FAILED' ? endS : doneS;
  plan.build = { startS: building, endS: buildEnd, ...(failS !== undefined ? { failS } : {}) };
  plan.outcome = failS !== undefined ? 'failed' : 'good';
  return plan;
}

/** Packages whose spec excludes an arch, with the reason girar stores in `excluded`. */
const EXCLUDES: readonly [prefix: string, exclusive: readonly string[]][] = [
  ['nvidia', ['x86_64']],
  ['kernel-modules-nvidia', ['x86_64', 'aarch64']],
  ['kernel-image', ['x86_64', 'i586', 'aarch64', 'ppc64le']],
  ['firefox', ['x86_64', 'aarch64', 'ppc64le']],
  ['golang', ['x86_64', 'i586', 'aarch64', 'armh']],
  ['nodejs', ['x86_64', 'i586', 'aarch64', 'ppc64le']],
  ['regular-images', ['x86_64', 'aarch64']],
];

export function excludedReason(pkg: string, arch: string): string | undefined {
  const rule = EXCLUDES.find(([prefix]) => pkg.startsWith(prefix));
  if (!rule || rule[1].includes(arch)) return undefined;
  return `ExclusiveArch: ${rule[1].join(' ')}\n`;
}

function goodStatus(rng: Rng, task: TaskModel, s: SubtaskModel, arch: string, rerun: boolean): { status: string; excludedReason?: string } {
  const reason = excludedReason(s.pkg ?? '', arch);
  if (reason) return { status: 'excluded', excludedReason: reason };
  if (s.specType) return { status: 'built' };
  if (task.swift && rng.chance(0.7)) return { status: 'swept' };
  return { status: rerun && rng.chance(0.35) ? 'cached' : 'built' };
}

/**
 * Fills `builds` of every buildable subtask: results of the current iteration where it built,
 * older (stale try_iter) results where it did not get that far, nothing where it never built.
 */
export function planBuilds(rng: Rng, task: TaskModel, cur: IterPlan | undefined, prev: IterPlan | undefined, nowS: number): void {
  const arches = archesOfRepo(task.repo);
  const subs = task.subtasks.filter((s) => isBuildKind(s.kind));
  const curLabel = cur ? `${cur.t}.${cur.i}` : '';
  const b = cur?.build;
  // Order of work in the current build: subtask by subtask, all arches in parallel.
  const reached = b ? subs.filter((s) => s.addedS < b.startS) : [];
  let failAt = -1;
  if (cur && (cur.outcome === 'failed' || cur.outcome === 'failing')) failAt = rng.int(0, Math.max(0, reached.length - 1));
  let runningAt = -1;
  if (cur?.outcome === 'building') runningAt = rng.int(0, Math.max(0, reached.length - 1));
  const stopAfterFail = cur?.outcome === 'failing' || (cur?.outcome === 'failed' && task.failEarly);
  const runCount = runningAt >= 0 ? runningAt + 1 : failAt >= 0 && stopAfterFail ? failAt + 1 : reached.length;
  const windowEnd = b ? (stopAfterFail && b.failS !== undefined ? b.failS : b.endS) : 0;
  const slot = b ? Math.max(1, (windowEnd - b.startS) / Math.max(1, runCount)) : 0;

  for (const s of subs) {
    const results: ArchResult[] = [];
    const k = reached.indexOf(s);
    const failedArches = k === failAt ? pickSome(rng, arches.filter((a) => !excludedReason(s.pkg ?? '', a))) : [];
    for (const arch of arches) {
      let r: ArchResult | undefined;
      const inCur = b && k >= 0 && (
        (failAt < 0 && runningAt < 0) || (runningAt >= 0 && k <= runningAt) || (failAt >= 0 && (k <= failAt || !stopAfterFail))
      );
      if (b && inCur) {
        const startS = Math.round(b.startS + slot * k + rng.int(0, Math.floor(slot / 4)));
        const finishS = Math.min(b.endS, Math.max(startS + 1, Math.round(startS + slot * (0.3 + 0.6 * rng.next()))));
        if (failedArches.includes(arch)) {
          // The first failure is what turned the task FAILING; others may follow.
          const failS = b.failS === undefined ? finishS : arch === failedArches[0] ? b.failS : Math.min(b.endS, b.failS + rng.int(0, 120));
          r = { arch, status: '', startS: Math.min(startS, failS), finishS: failS, logS: failS };
        } else if ((runningAt === k || (cur?.outcome === 'failing' && k === failAt)) && rng.chance(0.6)) {
          const logS = Math.max(startS, nowS - rng.int(1, 60));
          r = { arch, status: '', startS, finishS: startS, logS, inProgress: true };
        } else if (cur?.outcome === 'failed' && k === failAt && task.failEarly && rng.chance(0.3)) {
          const killS = b.failS ?? finishS;
          r = { arch, status: '', startS: Math.min(startS, killS), finishS: killS, logS: killS };
        } else {
          const done = Math.min(finishS, cur?.outcome === 'building' || cur?.outcome === 'failing' ? nowS - 60 : finishS);
          r = { arch, ...goodStatus(rng, task, s, arch, cur !== undefined && (cur.t > 1 || cur.i > 1)), tryIter: curLabel, startS: Math.min(startS, done), finishS: done, logS: done };
        }
      } else if (prev?.build && s.addedS < prev.build.startS) {
        const pb = prev.build;
        const finishS = pb.startS + Math.round((pb.endS - pb.startS) * (0.2 + 0.8 * rng.next()));
        if (prev.outcome === 'failed' && rng.chance(0.15) && !excludedReason(s.pkg ?? '', arch)) {
          r = { arch, status: '', startS: pb.startS, finishS, logS: finishS };
        } else {
          r = { arch, ...goodStatus(rng, task, s, arch, prev.t > 1 || prev.i > 1), tryIter: `${prev.t}.${prev.i}`, startS: pb.startS, finishS, logS: finishS };
        }
      }
      if (r) results.push(r);
    }
    if (results.length > 0) s.builds = results;
  }
}

function pickSome(rng: Rng, arches: readonly string[]): string[] {
  if (arches.length === 0) return [];
  const first = rng.pick(arches);
  return arches.filter((a) => a === first || rng.chance(0.15));
}
