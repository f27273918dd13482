/**
 * File operations of the tree mutator, each stamping what it touches with the mutator's clock
 * (files it writes, and directories whose entries it adds or removes), so a run is deterministic.
 */
import {
  appendFileSync, chmodSync, copyFileSync, existsSync, lstatSync, lutimesSync, mkdirSync, readdirSync,
  readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { archesOfRepo } from './generator-model.js';
import { gearNums } from './generator-info.js';
import { archiveExcluded } from './generator-task.js';

export class MutatorFs {
  nowS = 0;

  /** Writes a file (mode 0664 unless given); a new entry also stamps its directory. */
  put(path: string, data: string | Buffer, mode = 0o664): void {
    const existed = existsSync(path);
    writeFileSync(path, data);
    chmodSync(path, mode);
    utimesSync(path, this.nowS, this.nowS);
    if (!existed) this.touch(dirname(path));
  }

  append(path: string, data: string): void {
    appendFileSync(path, data);
    utimesSync(path, this.nowS, this.nowS);
  }

  mkdir(path: string, mode: number): void {
    if (existsSync(path)) return;
    mkdirSync(path);
    chmodSync(path, mode);
    utimesSync(path, this.nowS, this.nowS);
    this.touch(dirname(path));
  }

  rm(path: string): void {
    if (lstatSync(path, { throwIfNoEntry: false }) === undefined) return;
    rmSync(path, { recursive: true, force: true });
    this.touch(dirname(path));
  }

  link(target: string, path: string): void {
    this.rm(path);
    symlinkSync(target, path);
    lutimesSync(path, this.nowS, this.nowS);
    this.touch(dirname(path));
  }

  touch(dir: string): void {
    if (existsSync(dir)) utimesSync(dir, this.nowS, this.nowS);
  }

  /**
   * The archiver's copy (rsync -rlt, then `find -empty -delete`): modes and mtimes preserved,
   * excluded paths, empty files and directories left empty are dropped. Returns whether `dst` exists.
   */
  copyArchived(src: string, dst: string): boolean {
    const st = lstatSync(src);
    if (st.isDirectory()) {
      const names = readdirSync(src).sort();
      let any = false;
      for (const name of names) {
        if (!any && !existsSync(dst)) mkdirSync(dst, { recursive: true });
        if (this.copyArchived(`${src}/${name}`, `${dst}/${name}`)) any = true;
      }
      if (!any) {
        rmSync(dst, { recursive: true, force: true });
        return false;
      }
      chmodSync(dst, st.mode & 0o7777);
      utimesSync(dst, st.atime, st.mtime);
      return true;
    }
    if (archiveExcluded(src) || st.size === 0) return false;
    if (st.isSymbolicLink()) return false;
    copyFileSync(src, dst);
    chmodSync(dst, st.mode & 0o7777);
    utimesSync(dst, st.atime, st.mtime);
    return true;
  }
}

export function cat(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').replace(/\n+$/, '');
  } catch {
    return undefined;
  }
}

export function mtimeS(path: string): number {
  return Math.floor(statSync(path).mtimeMs / 1000);
}

/** What the mutator needs to know about a live task, read from its files. */
export interface TaskView {
  dir: string;
  try?: number;
  iter?: number;
  /** mtime of task/iter: when the current iteration started. */
  iterS: number;
  failEarly: boolean;
  testOnly: boolean;
  swift: boolean;
  depends: number[];
  subtasks: SubtaskView[];
}

export interface SubtaskView {
  n: string;
  userid: string;
  /** Source package of the subtask (absent for a deleted one). */
  pkg?: string;
  buildable: boolean;
  /** `name-version-release` for logs and plan/add-src. */
  vr?: string;
  evr?: string;
}

export function readView(dir: string): TaskView {
  const t = `${dir}/task`;
  const tryV = Number(cat(`${t}/try`));
  const iterV = Number(cat(`${t}/iter`));
  return {
    dir,
    ...(tryV > 0 ? { try: tryV, iter: iterV > 0 ? iterV : 1 } : {}),
    iterS: existsSync(`${t}/iter`) ? mtimeS(`${t}/iter`) : 0,
    failEarly: existsSync(`${t}/fail-early`),
    testOnly: existsSync(`${t}/test-only`),
    swift: existsSync(`${t}/swift`),
    depends: (cat(`${t}/depends`) ?? '').split(/\s+/).filter(Boolean).map(Number),
    subtasks: gearNums(dir).map((n) => readSubtaskView(dir, n)),
  };
}

function readSubtaskView(dir: string, n: string): SubtaskView {
  const g = `${dir}/gears/${n}`;
  const userid = cat(`${g}/userid`) ?? '';
  const nevr = cat(`${g}/nevr`)?.split('\t');
  const gitDir = cat(`${g}/dir`);
  const srpm = cat(`${g}/srpm`);
  const pkg = nevr?.[0] ?? (gitDir ? gitDir.replace(/^.*\//, '').replace(/\.git$/, '') : undefined) ?? cat(`${g}/package`) ?? cat(`${dir}/build/${n}/pkgname`);
  const evr = nevr?.[1] ?? cat(`${g}/tag_name`);
  const buildable = Boolean(gitDir || srpm);
  return {
    n, userid, buildable,
    ...(pkg ? { pkg } : {}),
    ...(evr ? { evr, vr: `${pkg}-${evr.replace(/^\d+:/, '')}` } : {}),
  };
}

export type ItemState = 'done' | 'failed' | 'running' | 'pending';

export interface BuildItem {
  sub: SubtaskView;
  arch: string;
  path: string;
  state: ItemState;
}

/**
 * Per-arch items of the current iteration, subtask by subtask: done (try_iter matches), failed
 * (empty status, finished log, started this iteration), running (empty status started this
 * iteration), pending (anything older or missing).
 */
export function buildItems(v: TaskView, repo: string): BuildItem[] {
  const label = v.try !== undefined ? `${v.try}.${v.iter}` : '';
  const items: BuildItem[] = [];
  for (const sub of v.subtasks) {
    if (!sub.buildable) continue;
    for (const arch of archesOfRepo(repo)) {
      const path = `${v.dir}/build/${sub.n}/${arch}`;
      let state: ItemState = 'pending';
      if (cat(`${path}/try_iter`) === label) state = 'done';
      else if (existsSync(`${path}/status`) && cat(`${path}/status`) === '' && mtimeS(`${path}/status`) >= v.iterS) {
        state = (cat(`${path}/log`) ?? '').endsWith('build failed') ? 'failed' : 'running';
      }
      items.push({ sub, arch, path, state });
    }
  }
  return items;
}
