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
