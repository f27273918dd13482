/** Shared by the generator and mutator tests: temp trees and a full listing for byte-level comparisons. */
import { createHash } from 'node:crypto';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NOW = Date.parse('2026-03-20T12:00:00Z');

export function tempRoot(): string {
  return mkdtempSync(join(tmpdir(), 'girar-gen-'));
}

export function removeRoot(root: string): void {
  rmSync(root, { recursive: true, force: true });
}

/** One line per entry: path, type, mode, size, mtime (s) and content hash or link target. */
export function listing(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    const abs = rel ? join(root, rel) : root;
    for (const name of readdirSync(abs).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(root, r));
      const mtime = Math.floor(st.mtimeMs / 1000);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out.push(`${r} l ${mtime} -> ${readlinkSync(join(root, r))}`);
      else if (st.isDirectory()) {
        out.push(`${r} d ${mode} ${mtime}`);
        walk(r);
      } else {
        const hash = createHash('sha256').update(readFileSync(join(root, r))).digest('hex').slice(0, 16);
        out.push(`${r} f ${mode} ${st.size} ${mtime} ${hash}`);
      }
    }
  };
  walk('');
  return out;
}

/** Every file and directory under `dir` (symlinks not followed). */
export function walkFiles(dir: string): { path: string; dir: boolean; size: number }[] {
  const out: { path: string; dir: boolean; size: number }[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const st = lstatSync(p);
    if (st.isDirectory()) {
      out.push({ path: p, dir: true, size: readdirSync(p).length });
      out.push(...walkFiles(p));
    } else if (st.isFile()) {
      out.push({ path: p, dir: false, size: st.size });
    }
  }
  return out;
}
