/**
 * Deliberately broken entries in `/tasks`, each a case a reader must survive (taskoteka 1.4.0:
 * "partial task rejection (require state/owner/repo)", "lstat hardening against symlinks";
 * 1.2.0: 1 MB per-file cap).
 */
import { lutimesSync, symlinkSync, unlinkSync } from 'node:fs';
import { Rng } from '../prng.js';
import { DAY_S, type TaskModel } from './generator-model.js';
import type { TreeWriter, WriteCounts } from './generator-fs.js';
import { draftTask, type PlanContext } from './generator-plan.js';
import { writeTask, type TaskWriteEnv } from './generator-task.js';

/**
 * What each reason means and what a strict reader is expected to do with it:
 * - `no-state`: task dir being created (no `task/state`, no subtasks, no index link): skip.
 * - `empty-state`: `task/state` empty (mid-write; its index link stays where it was): skip.
 * - `no-owner` / `no-repo`: `task/owner` / `task/repo` missing (index link present): skip.
 * - `oversized-message`: a 2 MiB `task/message` (and so a 2 MiB info.json): cap or drop the message.
 * - `invalid-utf8-message`: `task/message` is not UTF-8: decode leniently or drop it.
 * - `symlink-outside`: `gears/100/dir` is a symlink to /etc/hostname: never follow it.
 * - `owner-symlink-inside`: `task/owner` is a symlink to `task/run` in the same task: allowed, read normally.
 * - `file-not-dir`: a regular file named like a task id: skip.
 * - `task-dir-symlink`: a task id that is a symlink to another task's directory: skip.
 */
export const BROKEN_REASONS = [
  'no-state', 'empty-state', 'no-owner', 'no-repo', 'oversized-message', 'invalid-utf8-message',
  'symlink-outside', 'owner-symlink-inside', 'file-not-dir', 'task-dir-symlink',
] as const;
export type BrokenReason = (typeof BROKEN_REASONS)[number];

export interface BrokenDraft {
  reason: BrokenReason;
  model?: TaskModel;
  /** Creation time, for the id order (the task being created gets the highest id). */
  createdS: number;
  id: number;
}

const BASE_STATE: Record<BrokenReason, 'NEW' | 'AWAITING' | 'TESTED' | 'FAILED' | undefined> = {
  'no-state': 'NEW', 'empty-state': 'AWAITING', 'no-owner': 'TESTED', 'no-repo': 'FAILED', 'oversized-message': 'TESTED',
  'invalid-utf8-message': 'FAILED', 'symlink-outside': 'TESTED', 'owner-symlink-inside': 'AWAITING',
  'file-not-dir': undefined, 'task-dir-symlink': undefined,
};

export function planBroken(seed: number, ctx: PlanContext): BrokenDraft[] {
  return BROKEN_REASONS.map((reason, i) => {
    const rng = new Rng((seed ^ 0x5ca1ab1e) + i * 7919);
    const state = BASE_STATE[reason];
    if (!state) return { reason, createdS: ctx.nowS - rng.int(3600, 2 * DAY_S), id: 0 };
    for (;;) {
      const stateS = reason === 'no-state' ? ctx.nowS - 2 : ctx.nowS - rng.int(600, 3 * DAY_S);
      const { model } = draftTask(rng, ctx, state, stateS);
      if (reason === 'symlink-outside' && model.subtasks[0]?.dir === undefined) continue;
      if (reason === 'owner-symlink-inside' && model.run !== model.owner) continue;
      if (reason === 'no-state' && model.try !== undefined) continue;
      if (reason === 'oversized-message') model.message = Buffer.alloc(2 * 1024 * 1024, 'oversized message for a reader to cap ');
      if (reason === 'invalid-utf8-message') model.message = Buffer.from([...Buffer.from('fix build '), 0xff, 0xfe, 0x20, 0xd0, 0x0a]);
      model.category = `broken:${reason}`;
      model.features = [];
      return { reason, model, createdS: reason === 'no-state' ? ctx.nowS - 2 : model.createdS, id: 0 };
    }
  });
}

export interface BrokenWriteContext {
  top: TreeWriter;
  counts: WriteCounts;
  tasksDir: string;
  env: TaskWriteEnv;
  newWriter: () => TreeWriter;
  /** A well-formed live task the `task-dir-symlink` entry points to. */
  targetId: number;
  nowS: number;
}

/** Writes one broken entry; returns the offending path and the state found on disk. */
export function writeBroken(b: BrokenDraft, c: BrokenWriteContext): { path: string; state: string } {
  const dir = `${c.tasksDir}/${b.id}`;
  if (b.reason === 'file-not-dir') {
    c.top.file(dir, 'not a task directory\n', b.createdS);
    return { path: dir, state: '' };
  }
  if (b.reason === 'task-dir-symlink') {
    c.top.symlink(String(c.targetId), dir, b.createdS);
    return { path: dir, state: '' };
  }
  const m = b.model as TaskModel;
  const w = c.newWriter();
  const t = `${dir}/task`;
  let path = t;
  let state = m.state;
  if (b.reason === 'no-state') {
    const at = b.createdS;
    w.dir(dir, 0o775, at);
    w.dir(t, 0o775, at);
    w.file(`${t}/id`, `${b.id}\n`, at);
    w.file(`${t}/owner`, `${m.owner}\n`, at);
    w.file(`${t}/repo`, `${m.repo}\n`, at);
    w.file(`${t}/run`, '', at);
    w.file(`${t}/test-only`, '', at);
    w.file(`${t}/fail-early`, '', at);
    path = `${t}/state`;
    state = '';
  } else {
    writeTask(w, dir, m, c.env);
    const replaceWithLink = (file: string, target: string): void => {
      unlinkSync(file);
      symlinkSync(target, file);
      lutimesSync(file, m.stateS, m.stateS);
      c.counts.files--;
      c.counts.symlinks++;
    };
    switch (b.reason) {
      case 'empty-state':
        w.file(`${t}/state`, '', c.nowS - 1);
        c.counts.files--;
        path = `${t}/state`;
        state = '';
        break;
      case 'no-owner':
      case 'no-repo':
        path = `${t}/${b.reason === 'no-owner' ? 'owner' : 'repo'}`;
        unlinkSync(path);
        c.counts.files--;
        break;
      case 'oversized-message':
      case 'invalid-utf8-message':
        path = `${t}/message`;
        break;
      case 'symlink-outside':
        path = `${dir}/gears/100/dir`;
        replaceWithLink(path, '/etc/hostname');
        break;
      case 'owner-symlink-inside':
        path = `${t}/owner`;
        replaceWithLink(path, 'run');
        break;
    }
  }
  c.top.touched(c.tasksDir, w.finish(dir));
  return { path, state };
}
