/**
 * Synchronous, defensive reads inside one girar task directory. They run in the reader's worker
 * threads, where blocking calls are the fast path (three syscalls per file: open, read, close).
 *
 * Every file is opened with O_NOFOLLOW. A symlink is followed only when its target stays inside
 * the task directory; a target outside it, a file over the size cap, or bytes that are not UTF-8
 * are refused with a `TreeProblem`, which the caller counts and either skips (an optional file)
 * or turns into "keep the previous version" (a required one).
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, readdirSync, realpathSync, statSync, type Dirent, type Stats } from 'node:fs';
import { sep } from 'node:path';

/** Why a file or a whole task was not (fully) read. The `reason` label of the problem metrics. */
export const TREE_PROBLEMS = [
  'incomplete', // task/state, task/owner or task/repo missing (a task being created, or a damaged dir)
  'mid_write', // task/state empty: girar is rewriting it
  'too_large', // over the per-file size cap
  'not_utf8', // bytes that are not UTF-8
  'symlink_outside', // a symlink whose target leaves the task directory
  'not_a_directory', // an entry named like a task id that is not a directory
  'bad_value', // a value that does not parse (a non-numeric try, iter or depends line)
  'io_error', // any other error (EACCES, EIO, ...)
] as const;
export type TreeProblemReason = (typeof TREE_PROBLEMS)[number];

export class TreeProblem extends Error {
  constructor(
    readonly reason: TreeProblemReason,
    /** Path relative to the task directory. */
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'TreeProblem';
  }
}

const O_READ = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0);
const decoder = new TextDecoder('utf-8', { fatal: true });

/** One task directory and the reusable state of the reads inside it. */
export class TaskDirReader {
  private realRoot: string | undefined;

  constructor(
    /** Absolute path of the task directory. */
    readonly root: string,
    /** Largest file read, in bytes. */
    readonly maxFileBytes: number,
    /** Scratch buffer of at least maxFileBytes + 1 bytes, shared by every read of this thread. */
    private readonly buf: Buffer,
  ) {
    if (buf.length <= maxFileBytes) throw new RangeError('scratch buffer must be larger than maxFileBytes');
  }

  /** Problems met on optional files; the caller reports them. */
  readonly problems: { path: string; reason: TreeProblemReason }[] = [];

  /**
   * The file's text, or undefined when it does not exist. Throws TreeProblem for a file that
   * exists but may not be read (too large, not UTF-8, symlink outside, I/O error).
   */
  text(rel: string): string | undefined {
    const bytes = this.bytes(rel);
    if (bytes === undefined) return undefined;
    try {
      return decoder.decode(bytes);
    } catch {
      throw new TreeProblem('not_utf8', rel, `${rel} is not UTF-8`);
    }
  }

  /** Like `text`, but a problem is recorded and the file treated as absent. */
  optionalText(rel: string): string | undefined {
    try {
      return this.text(rel);
    } catch (err) {
      if (err instanceof TreeProblem) {
        this.problems.push({ path: err.path, reason: err.reason });
        return undefined;
      }
      throw err;
    }
  }

  /** The first line of a one-value file (girar writes `value\n`), or undefined. */
  value(rel: string, optional = true): string | undefined {
    const t = optional ? this.optionalText(rel) : this.text(rel);
    if (t === undefined) return undefined;
    const nl = t.indexOf('\n');
    return nl < 0 ? t : t.slice(0, nl);
  }

  /** Raw bytes (a view into the scratch buffer, valid until the next read), or undefined when missing. */
  private bytes(rel: string): Buffer | undefined {
    const path = this.root + sep + rel;
    let fd: number;
    try {
      fd = openSync(path, O_READ);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      if (code === 'ELOOP') return this.bytesViaLink(rel);
      if (code === 'EISDIR') throw new TreeProblem('io_error', rel, `${rel} is a directory`);
      throw new TreeProblem('io_error', rel, `${rel}: ${code ?? String(err)}`);
    }
    try {
      return this.readFd(fd, rel);
    } finally {
      closeSync(fd);
    }
  }

  private readFd(fd: number, rel: string): Buffer {
    let n = 0;
    const cap = this.maxFileBytes + 1;
    for (;;) {
      let got: number;
      try {
        got = readSync(fd, this.buf, n, cap - n, null);
      } catch (err) {
        throw new TreeProblem('io_error', rel, `${rel}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
      if (got === 0) break;
      n += got;
      if (n >= cap) throw new TreeProblem('too_large', rel, `${rel} is larger than ${this.maxFileBytes} bytes`);
    }
    return this.buf.subarray(0, n);
  }

  /** A symlinked file: read it only if its target is inside the task directory. */
  private bytesViaLink(rel: string): Buffer | undefined {
    const target = this.insideTarget(rel);
    if (target === undefined) return undefined;
    let fd: number;
    try {
      fd = openSync(target, constants.O_RDONLY);
      if (!fstatSync(fd).isFile()) {
        closeSync(fd);
        throw new TreeProblem('io_error', rel, `${rel} is not a regular file`);
      }
    } catch (err) {
      if (err instanceof TreeProblem) throw err;
      throw new TreeProblem('io_error', rel, `${rel}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    try {
      return this.readFd(fd, rel);
    } finally {
      closeSync(fd);
    }
  }

  /** The resolved target of a symlink under the task directory, if it stays inside; throws when it leaves it. */
  private insideTarget(rel: string): string | undefined {
    let real: string;
    try {
      real = realpathSync(this.root + sep + rel);
      this.realRoot ??= realpathSync(this.root);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined; // a dangling link: as if missing
      throw new TreeProblem('io_error', rel, `${rel}: ${code ?? String(err)}`);
    }
    if (!real.startsWith(this.realRoot + sep)) throw new TreeProblem('symlink_outside', rel, `${rel} is a symlink pointing outside the task directory`);
    return real;
  }

  /** Directory entries, or undefined when the directory does not exist. Symlinked subdirs are listed only when they stay inside. */
  entries(rel: string): Dirent[] | undefined {
    try {
      return readdirSync(rel === '' ? this.root : this.root + sep + rel, { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      this.problems.push({ path: rel, reason: 'io_error' });
      return undefined;
    }
  }

  /** Whether a directory entry is a directory we may enter (a real one, or a link that stays inside). */
  isDir(rel: string, entry: Dirent): boolean {
    if (entry.isDirectory()) return true;
    if (!entry.isSymbolicLink()) return false;
    try {
      const target = this.insideTarget(rel);
      return target !== undefined && statSync(target).isDirectory();
    } catch (err) {
      if (err instanceof TreeProblem) this.problems.push({ path: err.path, reason: err.reason });
      return false;
    }
  }

  /** lstat of a path under the task dir (no following), or undefined when missing. */
  lstat(rel: string): Stats | undefined {
    try {
      return lstatSync(this.root + sep + rel);
    } catch {
      return undefined;
    }
  }

  /** mtime in ms of a path under the task dir, or undefined when missing. */
  mtimeMs(rel: string): number | undefined {
    return this.lstat(rel)?.mtimeMs;
  }
}

/** Allocate the scratch buffer for a thread's reads. */
export function scratchBuffer(maxFileBytes: number): Buffer {
  return Buffer.allocUnsafe(maxFileBytes + 1);
}
