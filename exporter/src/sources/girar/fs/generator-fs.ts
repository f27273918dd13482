/**
 * Fast deterministic writes: every file gets its mode and mtime through its open descriptor, and
 * directory mtimes are set last (deepest first) to the newest entry they hold, since creating an
 * entry would otherwise stamp them with the wall clock.
 */
import { chmodSync, closeSync, fchmodSync, futimesSync, lutimesSync, mkdirSync, openSync, symlinkSync, utimesSync, writeSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';

export interface WriteCounts {
  files: number;
  dirs: number;
  symlinks: number;
  bytes: number;
}

export function emptyCounts(): WriteCounts {
  return { files: 0, dirs: 0, symlinks: 0, bytes: 0 };
}

interface DirEntry {
  mode: number;
  fallbackS: number;
  newestS: number;
  created: boolean;
}

/**
 * Writes one subtree. In `archive` mode it behaves like the girar archiver's rsync plus
 * `find -empty -delete`: empty files and `excluded` paths are skipped and directories are only
 * created once something is written below them.
 */
export class TreeWriter {
  private readonly dirs = new Map<string, DirEntry>();

  constructor(
    private readonly counts: WriteCounts,
    private readonly opts: { chmodFiles: boolean; archive?: { exclude: (path: string) => boolean } } = { chmodFiles: false },
  ) {}

  /** Registers (and, unless archiving, creates) a directory; `fallbackS` is its mtime when it stays empty. */
  dir(path: string, mode: number, fallbackS: number): void {
    if (this.dirs.has(path)) return;
    const d: DirEntry = { mode, fallbackS, newestS: fallbackS, created: false };
    this.dirs.set(path, d);
    if (!this.opts.archive) this.create(path, d);
  }

  file(path: string, data: string | Buffer, mtimeS: number, mode = 0o664): void {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    if (this.opts.archive && (buf.length === 0 || this.opts.archive.exclude(path))) return;
    this.ensureParent(path, mtimeS);
    const fd = openSync(path, 'w', mode);
    try {
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
      if (this.opts.chmodFiles) fchmodSync(fd, mode);
      futimesSync(fd, mtimeS, mtimeS);
    } finally {
      closeSync(fd);
    }
    this.counts.files++;
    this.counts.bytes += buf.length;
  }

  symlink(target: string, path: string, mtimeS: number): void {
    this.ensureParent(path, mtimeS);
    symlinkSync(target, path);
    lutimesSync(path, mtimeS, mtimeS);
    this.counts.symlinks++;
  }

  /** Something outside this writer changed `dir` at `atS` (its mtime must cover it). */
  touched(dir: string, atS: number): void {
    const d = this.dirs.get(dir);
    if (d && atS > d.newestS) d.newestS = atS;
  }

  /** Sets directory modes and mtimes, deepest first; returns the mtime given to `top`. */
  finish(top?: string): number {
    const created = [...this.dirs].filter(([, d]) => d.created);
    created.sort((a, b) => depth(b[0]) - depth(a[0]));
    let topS = 0;
    for (const [path, d] of created) {
      // mkdir gave the plain bits already (umask 002); setgid/sticky bits are set here, last, so
      // that subdirectories created earlier did not inherit setgid.
      if (this.opts.chmodFiles || (d.mode & ~0o777) !== 0 || (d.mode & 0o002) !== 0) chmodSync(path, d.mode);
      utimesSync(path, d.newestS, d.newestS);
      this.touched(dirname(path), d.newestS);
      if (path === top) topS = d.newestS;
    }
    this.dirs.clear();
    return topS;
  }

  private ensureParent(path: string, mtimeS: number): void {
    const parent = dirname(path);
    const d = this.dirs.get(parent);
    if (!d) return;
    if (!d.created) {
      this.ensureParent(parent, mtimeS);
      this.create(parent, d);
    }
    if (mtimeS > d.newestS) d.newestS = mtimeS;
  }

  private create(path: string, d: DirEntry): void {
    d.created = true;
    try {
      mkdirSync(path, { mode: d.mode & 0o777 });
    } catch (err) {
      // The mutator adds entries to directories that already exist.
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
      throw err;
    }
    this.counts.dirs++;
  }
}

function depth(path: string): number {
  let n = 0;
  for (let i = 0; i < path.length; i++) if (path.charCodeAt(i) === 47) n++;
  return n;
}

/**
 * Runs `fn` with umask 002 (girar's), so created files get their modes without a chmod each.
 * Returns whether files still need an explicit chmod (umask cannot be changed in a worker thread).
 */
export function withGirarUmask<T>(fn: (chmodFiles: boolean) => T): T {
  let old: number | undefined;
  try {
    old = process.umask(0o002);
  } catch {
    old = undefined;
  }
  try {
    return fn(old === undefined);
  } finally {
    if (old !== undefined) process.umask(old);
  }
}

/** The user running the generator, as girar would name it (without the `alt_` / `git_` prefix). */
export function currentLogin(): string {
  try {
    return userInfo().username.replace(/^(alt|git)_/, '');
  } catch {
    return String(process.getuid?.() ?? 'unknown');
  }
}
