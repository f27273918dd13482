/**
 * The in-memory model of one generated girar task, from which every file of its directory is
 * written (`generator-task.ts`). Times are epoch seconds: girar's mtimes have seconds precision.
 */

/** girar's 13 task states (reference §3.2), FAILURE included. */
export const GIRAR_STATES = [
  'NEW', 'AWAITING', 'POSTPONED', 'BUILDING', 'FAILING', 'FAILED', 'EPERM',
  'TESTED', 'SWEPT', 'PENDING', 'COMMITTING', 'DONE', 'FAILURE',
] as const;
export type GirarState = (typeof GIRAR_STATES)[number];

/** Repos (branches) with their share of live tasks and the arches girar builds there. */
export const GEN_REPOS: readonly { name: string; weight: number; arches: readonly string[] }[] = [
  { name: 'sisyphus', weight: 55, arches: ['x86_64', 'i586', 'aarch64', 'ppc64le', 'armh'] },
  { name: 'p11', weight: 25, arches: ['x86_64', 'i586', 'aarch64', 'ppc64le'] },
  { name: 'p10', weight: 15, arches: ['x86_64', 'i586', 'aarch64', 'armh'] },
  { name: 'c10f2', weight: 5, arches: ['x86_64', 'i586', 'aarch64'] },
];

export function archesOfRepo(repo: string): readonly string[] {
  return GEN_REPOS.find((r) => r.name === repo)?.arches ?? ['x86_64', 'i586', 'aarch64'];
}

/** Live state mix, as shares of the well-formed live tasks (FAILURE is added once, see the planner). */
export const STATE_WEIGHTS: readonly (readonly [GirarState, number])[] = [
  ['DONE', 20], ['EPERM', 12], ['FAILED', 15], ['TESTED', 15], ['NEW', 10], ['AWAITING', 5],
  ['POSTPONED', 3], ['BUILDING', 4], ['FAILING', 1], ['PENDING', 5], ['COMMITTING', 1], ['SWEPT', 8],
];

/** States with no activity expected: their state change lies hours to four weeks back. */
export const COLD_STATES: ReadonlySet<string> = new Set(['DONE', 'FAILED', 'TESTED', 'EPERM', 'SWEPT', 'FAILURE']);

/** States whose task went through the ACL check of a successful build (plan/check_acl exists). */
export const ACL_CHECKED_STATES: ReadonlySet<string> = new Set(['EPERM', 'TESTED', 'SWEPT', 'PENDING', 'COMMITTING', 'DONE', 'FAILURE']);

export interface Approval {
  login: string;
  atS: number;
  /** Comment lines after the stamp line (possibly none). */
  comment: string[];
}

/** One `build/<N>/<arch>/` directory as it is on disk. */
export interface ArchResult {
  arch: string;
  /** `built`, `cached`, `swept`, `excluded`, or '' (failed, or in progress). */
  status: string;
  /** `<try>.<iter>` of the completed build; absent for a failure or a build in progress. */
  tryIter?: string;
  startS: number;
  /** mtime of `status` (and `try_iter`). */
  finishS: number;
  /** mtime of `log` (later than finishS while the build is still running). */
  logS: number;
  excludedReason?: string;
  inProgress?: boolean;
}

export type SubtaskKind = 'gear' | 'srpm' | 'rebuild-gear' | 'rebuild-srpm' | 'copy' | 'delete' | 'deleted';

export interface Evr {
  epoch?: number;
  version: string;
  release: string;
}

export interface SubtaskModel {
  /** Octal-digit subtask number: 100, 200, ..., 700, 1000, or an insertion like 140. */
  n: string;
  userid: string;
  addedS: number;
  kind: SubtaskKind;
  /** Source package name (`build/<N>/pkgname`, `plan/check_acl`); absent for deleted subtasks. */
  pkg?: string;
  evr?: Evr;
  dir?: string;
  tagName?: string;
  tagId?: string;
  tagAuthor?: string;
  specType?: string;
  fetchedS?: number;
  srpm?: string;
  sha1?: string;
  package?: string;
  rebuildFrom?: string;
  copyRepo?: string;
  relaxGit?: string;
  relaxLastchange?: string;
  approved: Approval[];
  disapproved: Approval[];
  /** Per-arch results on disk; absent when the subtask never reached a builder. */
  builds?: ArchResult[];
}

/** A line of an events log; `#{task}` in `msg` stands for `task #<id> for <repo>`. */
export interface EventLine {
  atS: number;
  msg: string;
}

/** One `logs/events.<try>.<iter>.log`. */
export interface IterationModel {
  try: number;
  iter: number;
  lines: EventLine[];
  /** mtime of the log: the build time of this iteration. */
  mtimeS: number;
}

export interface TaskModel {
  id: number;
  owner: string;
  repo: string;
  /** '' only for the broken "mid-write" task. */
  state: string;
  try?: number;
  iter?: number;
  /** Login that started the latest try; '' when never run. */
  run: string;
  message?: Buffer;
  testOnly: boolean;
  failEarly: boolean;
  swift: boolean;
  abort?: { by: string; atS: number };
  depends: number[];
  version?: { hash: string; atS: number };
  shared: boolean;
  createdS: number;
  stateS: number;
  /** info.json `updated` (and its mtime): last state change, approval or share toggle. */
  infoS: number;
  /** mtime of task/try, task/run, task/message: start of the current try. */
  tryS?: number;
  /** mtime of task/iter: start of the current iteration. */
  iterS?: number;
  iterations: IterationModel[];
  subtasks: SubtaskModel[];
  /** mtime of plan/ files; absent when the task has no plan. */
  planS?: number;
  category: string;
  features: string[];
  needsApproval?: 'maint' | 'tester' | null;
}

/** Subtasks whose kind produces a build (and a `build/<N>/`). */
export function isBuildKind(kind: SubtaskKind): boolean {
  return kind === 'gear' || kind === 'srpm' || kind === 'rebuild-gear' || kind === 'rebuild-srpm';
}

export function evrString(evr: Evr): string {
  return `${evr.epoch !== undefined ? `${evr.epoch}:` : ''}${evr.version}-${evr.release}`;
}

/** girar numbers appended subtasks in octal steps of 0100: 100, 200, ..., 700, 1000, 1100. */
export function subtaskNumber(index: number): string {
  return ((index + 1) * 0o100).toString(8);
}

/** The octal midpoint between two subtask numbers (girar's insertion), e.g. 100/200 -> 140. */
export function subtaskBetween(a: string, b: string): string {
  return Math.floor((parseInt(a, 8) + parseInt(b, 8)) / 2).toString(8);
}

export const DAY_S = 86_400;
export const WEEK_S = 604_800;
