/**
 * Plans one task backwards from the time of its current state: the iterations that led there,
 * the subtasks added before the first run, per-arch results, approvals, flags and message.
 */
import type { Rng } from '../prng.js';
import {
  ACL_CHECKED_STATES, DAY_S, GEN_REPOS, isBuildKind,
  type EventLine, type GirarState, type IterationModel, type SubtaskModel, type TaskModel,
} from './generator-model.js';
import { logUniform, planBuilds, planIteration, type IterPlan } from './generator-runs.js';
import { approveForCommit, decorateApprovals, epermApprovals, planSubtasks, type EpermScenario } from './generator-subtasks.js';
import { runMessage } from './generator-text.js';
import { stampUtc } from './generator-time.js';
import { needsApproval, type World } from './generator-world.js';

export interface PlanContext {
  w: World;
  nowS: number;
}

export interface Draft {
  model: TaskModel;
  /** How many ids `task/depends` should list (filled once ids are known). */
  wantDepends: number;
}

const TRIES = [[1, 55], [2, 25], [3, 12], [4, 5], [5, 2], [7, 1]] as const;
const ITERS = [[1, 86], [2, 10], [3, 4]] as const;

/** Builder versions (`task/version`) by the age of the build that wrote them. */
const BUILDER_VERSIONS: readonly (readonly [hash: string, minAgeS: number])[] = [
  ['5d0c1f7e2b9a4c3d8e6f1a2b3c4d5e6f7a8b9c0d', 0],
  ['9a1b2c3d4e5f60718293a4b5c6d7e8f901234567', 5 * DAY_S],
  ['e3b1f4a2c5d6e7f8091a2b3c4d5e6f7089abcdef', 19 * DAY_S],
];

export function builderVersion(atS: number, nowS: number): string {
  let hash = (BUILDER_VERSIONS[0] as readonly [string, number])[0];
  for (const [h, age] of BUILDER_VERSIONS) if (nowS - atS >= age) hash = h;
  return hash;
}

/** When a task in `state` last changed state: hot states recently, cold ones hours to 4 weeks ago. */
export function stateTime(rng: Rng, state: GirarState, nowS: number): number {
  const ago: Record<GirarState, readonly [number, number]> = {
    NEW: [60, 12 * DAY_S], AWAITING: [5, 3 * 3600], POSTPONED: [600, 6 * DAY_S], BUILDING: [60, 3000],
    FAILING: [30, 1500], PENDING: [30, 8 * 3600], COMMITTING: [5, 600], DONE: [1800, 27 * DAY_S],
    FAILED: [3600, 27.5 * DAY_S], TESTED: [3600, 27.5 * DAY_S], EPERM: [3600, 27.5 * DAY_S],
    SWEPT: [3600, 27.5 * DAY_S], FAILURE: [3600, 5 * DAY_S],
  };
  const [min, max] = ago[state];
  return nowS - logUniform(rng, min, max);
}

/** The iterations of a task that has run, oldest first; the last one is the current try.iter. */
function planRuns(rng: Rng, curLast: string, endS: number, nowS: number): IterPlan[] {
  const T = rng.weighted(TRIES);
  const I = rng.weighted(ITERS);
  const iters = [planIteration(rng, T, I, curLast, endS, nowS)];
  let cursor = (iters[0] as IterPlan).path[0]?.[1] ?? endS;
  const earlier = (t: number, i: number, last: string, gapMin: number, gapMax: number): void => {
    const it = planIteration(rng, t, i, last, cursor - logUniform(rng, gapMin, gapMax), nowS);
    iters.unshift(it);
    cursor = it.path[0]?.[1] ?? cursor;
  };
  for (let i = I - 1; i >= 1; i--) earlier(T, i, rng.chance(0.6) ? 'PENDING' : 'POSTPONED', 60, 4 * 3600);
  for (let t = T - 1; t >= 1; t--) {
    const lastIter = rng.chance(0.9) ? 1 : 2;
    earlier(t, lastIter, rng.weighted([['FAILED', 55], ['TESTED', 30], ['EPERM', 10], ['SWEPT', 5]] as const), 600, 3 * DAY_S);
    for (let i = lastIter - 1; i >= 1; i--) earlier(t, i, 'PENDING', 60, 4 * 3600);
  }
  return iters;
}

/** Plans a task in `state`; `fresh` makes a NEW task one that has never run (just created). */
export function draftTask(rng: Rng, ctx: PlanContext, state: GirarState, stateS: number, fresh = false): Draft {
  const { w, nowS } = ctx;
  const repo = rng.weighted(GEN_REPOS.map((r) => [r.name, r.weight] as const));
  const eperm = state === 'EPERM';
  const scenario: EpermScenario | undefined = eperm
    ? rng.weighted([['none', 40], ['tester', 20], ['maint', 25], ['disapproved', 15]] as const)
    : undefined;
  const owner = rng.weighted(eperm ? w.weights.filter(([l]) => !w.maint.has(l) && !w.tester.has(l)) : w.weights);
  const neverRun = state === 'NEW' && (fresh || rng.chance(0.6));
  const aborted = state === 'FAILED' && rng.chance(0.2);
  const deleteOnly = (state === 'DONE' || state === 'TESTED' || neverRun) && rng.chance(0.03);
  const image = !deleteOnly && !eperm && rng.chance(0.012);
  const subtasks = planSubtasks(rng, w, { repo, owner, deniedFirst: eperm, deleteOnly, image, ownerOnly: eperm, allowDeleted: true });
  let reset = state === 'NEW' && !neverRun ? rng.weighted([['add', 60], ['delsub', 25], ['deps', 15]] as const) : undefined;
  if (reset !== undefined && reset !== 'deps' && subtasks.length < 2) reset = 'deps';

  let curLast: string = state;
  let iters: IterPlan[] = [];
  if (!neverRun) {
    let endS = stateS;
    if (state === 'NEW') {
      curLast = rng.weighted([['TESTED', 45], ['FAILED', 35], ['EPERM', 15], ['SWEPT', 5]] as const);
      endS = stateS - logUniform(rng, 60, 3 * DAY_S);
    } else if (aborted) {
      curLast = rng.weighted([['AWAITING', 5], ['PENDING', 3], ['POSTPONED', 2]] as const);
      endS = stateS - logUniform(rng, 30, DAY_S);
    }
    iters = planRuns(rng, curLast, endS, nowS);
  }
  const cur = iters[iters.length - 1];
  const firstRunS = iters[0]?.path[0]?.[1];

  // Subtasks were added one after another before the first run; a "task add" reset adds the last one now.
  const late = reset === 'add' ? subtasks[subtasks.length - 1] : undefined;
  let t = firstRunS !== undefined ? firstRunS - logUniform(rng, 30, DAY_S) : stateS;
  for (let k = subtasks.length - 1; k >= 0; k--) {
    const s = subtasks[k] as SubtaskModel;
    if (s === late) {
      s.addedS = stateS;
      continue;
    }
    s.addedS = t;
    t -= logUniform(rng, 5, 900);
  }
  const createdS = Math.min(...subtasks.map((s) => s.addedS)) - rng.int(35, 300);
  for (const s of subtasks) if (s.dir) s.fetchedS = s.addedS - rng.int(1, 30);

  const noTestOnly = ['PENDING', 'COMMITTING', 'DONE', 'FAILURE', 'EPERM', 'SWEPT'];
  const testOnly = curLast === 'TESTED' || (!noTestOnly.includes(curLast) && rng.chance(neverRun ? 0.9 : 0.6));
  const swift = curLast === 'SWEPT' || (['NEW', 'AWAITING', 'POSTPONED', 'BUILDING', 'FAILING', 'FAILED'].includes(curLast) && rng.chance(0.04));
  const m: TaskModel = {
    id: 0, owner, repo, state, run: '', testOnly, failEarly: rng.chance(neverRun ? 0.9 : 0.7), swift,
    depends: [], shared: rng.chance(0.1), createdS, stateS, infoS: stateS, iterations: [], subtasks,
    category: '', features: [],
  };
  if (cur) {
    const tryStart = iters.find((it) => it.t === cur.t)?.path[0]?.[1] ?? stateS;
    m.try = cur.t;
    m.iter = cur.i;
    m.tryS = tryStart;
    m.iterS = cur.path[0]?.[1] ?? tryStart;
    m.run = eperm || rng.chance(0.9) ? owner : rng.pick([...w.maint]);
    const first = subtasks.find((s) => s.pkg);
    const needsMessage = subtasks.some((s) => s.kind === 'delete' || s.kind.startsWith('rebuild') || s.kind === 'copy');
    if (needsMessage || rng.chance(0.85)) m.message = Buffer.from(`${runMessage(rng, first?.pkg ?? 'pkg', first?.evr?.version ?? '1.0')}\n`);
    planBuilds(rng, m, cur, [...iters].reverse().find((it) => it !== cur && it.build), nowS);
    const lastBuild = [...iters].reverse().find((it) => it.build);
    if (lastBuild?.build) m.version = { hash: builderVersion(lastBuild.build.startS, nowS), atS: lastBuild.build.startS };
    if (ACL_CHECKED_STATES.has(curLast) && cur.build) m.planS = Math.min(cur.build.startS + rng.int(5, 60), cur.logS);
  }
  if (aborted) m.abort = { by: rng.chance(0.75) ? owner : rng.pick([...w.maint]), atS: stateS };
  if (reset === 'delsub') deleteSubtask(rng.pick(subtasks.slice(1)));

  const beforeRun = cur?.path[0]?.[1] ?? stateS;
  if (scenario) {
    const after = rng.chance(0.5) && nowS - stateS > 600;
    epermApprovals(rng, w, subtasks, scenario, after ? { fromS: stateS + 30, toS: nowS - 5 } : { fromS: createdS, toS: beforeRun - 1 });
  } else if (['SWEPT', 'PENDING', 'COMMITTING', 'DONE', 'FAILURE'].includes(curLast)) {
    // These passed the ACL check: whoever lacks rights got approvals.
    approveForCommit(rng, w, subtasks.filter((s) => s.addedS < beforeRun - 1), beforeRun - 1);
  }
  decorateApprovals(rng, w, subtasks.filter((s) => s.addedS + 60 < beforeRun), beforeRun - 1);
  // The outcome is decided on every approval the task ends up with, decorative ones included.
  if (scenario) {
    m.needsApproval = needsApproval(w, subtasks.filter((s) => s.pkg).map((s) => ({
      pkg: s.pkg as string, author: s.userid, approvers: s.approved.map((a) => a.login), disapprovers: s.disapproved.map((a) => a.login),
    })));
  }
  for (const s of subtasks) for (const a of [...s.approved, ...s.disapproved]) m.infoS = Math.max(m.infoS, a.atS);

  // Subtasks were planned in the order they were added (an inserted 140 comes last); girar lists them numerically.
  m.subtasks.sort((a, b) => Number(a.n) - Number(b.n));
  m.iterations = iters.map((it) => iterationLog(m, it));
  classify(m, { scenario, neverRun, reset, aborted, deleteOnly, image, iters });
  return { model: m, wantDepends: state === 'POSTPONED' ? rng.int(1, 3) : reset === 'deps' ? rng.int(1, 2) : (eperm || state === 'TESTED') && rng.chance(0.03) ? 1 : 0 };
}

/** girar-task-delsub: only `gears/<N>/userid` stays; build/<N> and acl/*\/<N> go. */
function deleteSubtask(s: SubtaskModel): void {
  const { n, userid, addedS } = s;
  for (const k of Object.keys(s)) delete (s as unknown as Record<string, unknown>)[k];
  Object.assign(s, { n, userid, addedS, kind: 'deleted', approved: [], disapproved: [] });
}

function iterationLog(m: TaskModel, it: IterPlan): IterationModel {
  const lines: EventLine[] = [];
  const start = it.path[0]?.[1] ?? 0;
  const end = it.path[it.path.length - 1]?.[1] ?? start;
  lines.push({ atS: start, msg: it.i === 1 ? `#{task} ${it.t === 1 ? 'started' : 'resumed'} by ${m.run}:` : `#{task} iteration ${it.i}` });
  const message = m.message?.toString('utf8').trimEnd();
  if (it.i === 1 && message && !message.includes('\uFFFD')) lines.push({ atS: start, msg: `message: ${message}` });
  const label = `${it.t}.${it.i}`;
  const work: EventLine[] = [];
  if (it.build) {
    for (const s of m.subtasks) {
      if (!isBuildKind(s.kind) || s.addedS >= it.build.startS) continue;
      const what = s.dir ? `${s.tagName} from ${s.dir}${s.fetchedS !== undefined ? ` fetched at ${stampUtc(s.fetchedS)}` : ''}` : `${s.srpm}`;
      work.push({ atS: it.build.startS, msg: `#${s.n} build ${what}` });
      for (const r of s.builds ?? []) {
        if (r.inProgress || r.finishS >= end) continue;
        const word = r.status === '' ? 'build FAILED' : r.status === 'excluded' ? 'excluded' : r.status === 'built' ? 'build OK' : `build OK (${r.status})`;
        if (r.tryIter === label || (r.status === '' && r.finishS >= it.build.startS && r.finishS <= it.build.endS)) {
          work.push({ atS: r.finishS, msg: `[${r.arch}] #${s.n} ${s.pkg}: ${word}` });
        }
      }
    }
  }
  const states = it.path.map(([st, at]) => ({ atS: at, msg: `#{task} ${st}` }));
  // A stable sort keeps, within one second, start lines before state lines before build lines.
  const merged = [...lines, ...states, ...work.filter((l) => l.atS < end)].sort((a, b) => a.atS - b.atS);
  return { try: it.t, iter: it.i, lines: merged, mtimeS: it.logS };
}

interface Traits {
  scenario: EpermScenario | undefined;
  neverRun: boolean;
  reset: string | undefined;
  aborted: boolean;
  deleteOnly: boolean;
  image: boolean;
  iters: IterPlan[];
}

function classify(m: TaskModel, t: Traits): void {
  const kinds = new Set(m.subtasks.map((s) => s.kind));
  const f = new Set<string>();
  for (const k of kinds) f.add(k === 'rebuild-gear' || k === 'rebuild-srpm' ? 'copy' : k === 'copy' ? 'legacy-copy' : k === 'deleted' ? 'deleted-subtask' : k);
  if (t.image) f.add('image');
  if (m.subtasks.some((s) => parseInt(s.n, 8) % 0o100 !== 0)) f.add('inserted-subtask');
  if (t.aborted) f.add('aborted');
  if (t.scenario) f.add(`eperm-${t.scenario}`);
  if (t.neverRun) f.add('never-run');
  if (t.reset) f.add(`reset-${t.reset}`);
  if (m.shared) f.add('shared');
  if (m.swift) f.add('swift');
  if (m.testOnly) f.add('test-only');
  if (m.failEarly) f.add('fail-early');
  if ((m.try ?? 0) > 1) f.add('multi-try');
  if ((m.iter ?? 0) > 1) f.add('multi-iter');
  const label = m.try !== undefined ? `${m.try}.${m.iter}` : '';
  const results = m.subtasks.flatMap((s) => s.builds ?? []);
  if (results.some((r) => r.tryIter !== undefined && r.tryIter !== label)) f.add('stale-try-iter');
  if (results.some((r) => r.inProgress)) f.add('in-progress');
  if (results.some((r) => r.status === 'excluded')) f.add('excluded-arch');
  if (m.subtasks.some((s) => s.approved.length > 0)) f.add('approvals');
  if (m.subtasks.some((s) => s.disapproved.length > 0)) f.add('disapprovals');
  if (m.subtasks.some((s) => s.relaxGit)) f.add('relax-git');
  if (m.subtasks.some((s) => s.relaxLastchange)) f.add('relax-lastchange');
  m.features = [...f].sort();
  const order = ['aborted', `eperm-${t.scenario}`, 'deleted-subtask', 'legacy-copy', 'image'];
  const picked = order.find((c) => f.has(c));
  if (picked) m.category = picked;
  else if (t.deleteOnly) m.category = 'delete';
  else if (kinds.size === 1 && kinds.has('srpm')) m.category = 'srpm-only';
  else if (f.has('copy')) m.category = 'copy';
  else if (kinds.size === 1 && kinds.has('gear')) m.category = 'gear';
  else m.category = 'mixed';
}
