/** Hand-built girar task directories for reader tests: files with exact content, modes and mtimes. */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export class HandTree {
  readonly root: string;
  readonly tasks: string;

  constructor() {
    this.root = mkdtempSync(join(tmpdir(), 'girar-hand-'));
    this.tasks = join(this.root, 'tasks');
    mkdirSync(this.tasks);
  }

  /** Write `rel` (under tasks/) with `content`; mtime in epoch seconds when given. */
  file(rel: string, content: string | Buffer, mtimeSec?: number): this {
    const path = join(this.tasks, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    if (mtimeSec !== undefined) utimesSync(path, mtimeSec, mtimeSec);
    return this;
  }

  dir(rel: string, mode?: number): this {
    const path = join(this.tasks, rel);
    mkdirSync(path, { recursive: true });
    if (mode !== undefined) chmodSync(path, mode);
    return this;
  }

  link(rel: string, target: string): this {
    const path = join(this.tasks, rel);
    mkdirSync(dirname(path), { recursive: true });
    rmSync(path, { force: true });
    symlinkSync(target, path);
    return this;
  }

  touch(rel: string, mtimeSec: number): this {
    utimesSync(join(this.tasks, rel), mtimeSec, mtimeSec);
    return this;
  }

  path(rel: string): string {
    return join(this.tasks, rel);
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Epoch seconds the minimal tasks below are dated from. */
export const HAND_T = 1772700000;

/**
 * A minimal well-formed task: id, owner jdoe, repo sisyphus, try/iter 1, one gear subtask; `extra`
 * adds files before the state file, which is written last (as girar does) at HAND_T + id.
 */
export function handTask(tree: HandTree, id: number, state: string, extra: (t: HandTree) => void = () => {}): void {
  tree
    .file(`${id}/task/id`, `${id}\n`, HAND_T)
    .file(`${id}/task/owner`, 'jdoe\n')
    .file(`${id}/task/repo`, 'sisyphus\n')
    .file(`${id}/task/try`, '1\n')
    .file(`${id}/task/iter`, '1\n')
    .file(`${id}/gears/100/userid`, 'jdoe\n')
    .file(`${id}/gears/100/dir`, '/gears/f/foo.git\n');
  extra(tree);
  tree.file(`${id}/task/state`, `${state}\n`, HAND_T + id);
}
