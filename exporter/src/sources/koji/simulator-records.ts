/**
 * The Koji simulator's records (koji/__init__.py TASK_STATES and BUILD_STATES; tasks, builds,
 * events, repo requests) and what finished tasks return, as kojid reports it.
 */
import { TARGETS, type SimPackage, type SimTarget } from './simulator-data.js';
import type { XmlRpcValue } from './xmlrpc.js';

export const TASK = { FREE: 0, OPEN: 1, CLOSED: 2, CANCELED: 3, ASSIGNED: 4, FAILED: 5 } as const;
export type TaskState = (typeof TASK)[keyof typeof TASK];
export type FinalState = typeof TASK.CLOSED | typeof TASK.CANCELED | typeof TASK.FAILED;
export const BUILD = { BUILDING: 0, COMPLETE: 1, DELETED: 2, FAILED: 3, CANCELED: 4 } as const;
export type BuildState = (typeof BUILD)[keyof typeof BUILD];

export type TaskResult = { ok: true; value: XmlRpcValue } | { ok: false; code: number; message: string };

export interface SimTask {
  id: number;
  method: string;
  arch: string;
  channelId: number;
  owner: number;
  parent: number | null;
  label: string | null;
  priority: number;
  weight: number;
  state: TaskState;
  createUs: number;
  startUs: number | null;
  completionUs: number | null;
  hostId: number | null;
  waiting: boolean | null;
  awaited: boolean | null;
  params: XmlRpcValue[];
  result: TaskResult | null;
  children: number[];
  /** Next automatic transition (ms): earliest scheduling, opening, or the end of a leaf task's run. */
  dueMs: number;
  /** How a leaf task ends when its run is over. */
  fails: boolean;
  /** The owner cancels it at this time if it is still FREE. */
  cancelAtMs: number | null;
  /** build: package, target, build record, stage; newRepo: tag and repo id. */
  pkg?: SimPackage;
  target?: string;
  buildId?: number;
  stage?: 'srpm' | 'arch' | 'tag' | 'createrepo';
  tag?: string;
  repoId?: number;
}

export interface SimBuild {
  id: number;
  pkg: SimPackage;
  version: string;
  release: string;
  ownerId: number;
  taskId: number | null;
  state: BuildState;
  createEventId: number;
  createUs: number;
  startUs: number;
  completionUs: number | null;
  source: string;
}

export interface SimEvent {
  id: number;
  us: number;
}

export interface SimRepoRequest {
  id: number;
  tagId: number;
  tagName: string;
  minEvent: number;
  createUs: number;
  updateUs: number;
  active: boolean;
  taskId: number | null;
  tries: number;
  repoId: number | null;
}

export function target(name: string | undefined): SimTarget {
  return TARGETS.find((x) => x.name === name) ?? (TARGETS[0] as SimTarget);
}

export function nvr(b: SimBuild): string {
  return `${b.pkg.name}-${b.version}-${b.release}`;
}

/** The result a CLOSED leaf task stores (kojid handlers' return values, abridged). */
export function leafResult(t: SimTask, ctx: { parent: SimTask | undefined; build: SimBuild | undefined; srpm: string; broot: () => number }): XmlRpcValue {
  const dir = `tasks/${t.id % 10000}/${t.id}`;
  switch (t.method) {
    case 'buildSRPMFromSCM':
      return { brootid: ctx.broot(), logs: [`${dir}/build.log`, `${dir}/checkout.log`], source: { source: String(t.params[0]), url: String(t.params[0]) }, srpm: `${dir}/${ctx.srpm}.src.rpm` };
    case 'buildArch':
      return { brootid: ctx.broot(), logs: [`${dir}/build.log`, `${dir}/root.log`], rpms: ctx.build ? [`${dir}/${nvr(ctx.build)}.${t.arch}.rpm`] : [], srpms: [] };
    case 'createrepo':
      return [`repos/${ctx.parent?.tag ?? 'tag'}/${String(t.params[0])}/${t.label ?? 'noarch'}`, ['repomd.xml', 'primary.xml.gz']];
    default:
      return null;
  }
}

/** The fault a FAILED leaf task stores (a Koji error passes through with its code and message). */
export function leafFailure(t: SimTask): TaskResult {
  if (t.method === 'buildArch') return { ok: false, code: 1005, message: `error building package (arch ${t.arch}), mock exited with status 1; see build.log for more information` };
  if (t.method === 'buildSRPMFromSCM') return { ok: false, code: 1000, message: `Error running GIT command "git clone -n ${String(t.params[0]).replace(/#.*$/, '')}", see checkout.log for details` };
  return { ok: false, code: 1000, message: `${t.method} failed` };
}
