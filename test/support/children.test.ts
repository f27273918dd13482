/**
 * children.ts in a real process: a bare node subprocess (standing in for a test worker) loads it,
 * spawns a tracked long-running grandchild, and then ends in one of the ways a worker ends. The
 * grandchild must be gone afterwards and its clean-up must have run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../exporter/src/util/wait-until.js';

const CHILDREN_TS = fileURLToPath(new URL('./children.ts', import.meta.url));

/** The stand-in worker: `node worker.mjs <mode> <marker file>`; prints the grandchild's pid once it runs. */
const WORKER = `
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { trackChild } from './children.mjs';
const [mode, marker] = process.argv.slice(2);
writeFileSync(marker, 'temp dir stand-in');
const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
trackChild(child, () => rmSync(marker, { force: true }));
child.once('spawn', () => {
  console.log(JSON.stringify({ pid: child.pid }));
  if (mode === 'throw') setTimeout(() => { throw new Error('worker crashed'); }, 20);
  else if (mode === 'exit') setTimeout(() => process.exit(3), 20);
  else setInterval(() => {}, 1000);
});
`;

/** Alive and not a zombie (a container's pid 1 may never reap the orphan). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    if (existsSync('/proc/self/stat')) return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let dir: string;
const grandchildren: number[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'buildscope-children-'));
  const ts = (await import(pathToFileURL(createRequire(import.meta.url).resolve('typescript')).href)) as typeof import('typescript');
  const js = ts.transpileModule(await readFile(CHILDREN_TS, 'utf8'), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
  await writeFile(join(dir, 'children.mjs'), js);
  await writeFile(join(dir, 'worker.mjs'), WORKER);
});

afterEach(() => {
  // Should the code under test fail, do not leak its grandchildren from this test either.
  for (const pid of grandchildren.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone, as it should be.
    }
  }
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function startWorker(mode: 'wait' | 'throw' | 'exit', name: string): Promise<{ worker: ChildProcess; pid: number; marker: string; ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }> }> {
  const marker = join(dir, `${name}.marker`);
  const worker = spawn(process.execPath, [join(dir, 'worker.mjs'), mode, marker], { stdio: ['ignore', 'pipe', 'pipe'] });
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => worker.once('exit', (code, signal) => resolve({ code, signal })));
  let out = '';
  let err = '';
  worker.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  worker.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const pid = await waitUntil(() => (/"pid":(\d+)/.exec(out)?.[1] ? Number(/"pid":(\d+)/.exec(out)?.[1]) : undefined), 10_000, {
    what: `the worker to start its child (stderr: ${err})`,
  });
  grandchildren.push(pid);
  return { worker, pid, marker, ended };
}

describe('tracked children', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('are killed when the worker gets %s, and the worker still ends by that signal', async (signal) => {
    const { worker, pid, marker, ended } = await startWorker('wait', signal);
    expect(isAlive(pid)).toBe(true);
    expect(existsSync(marker)).toBe(true);
    worker.kill(signal);
    expect(await ended).toEqual({ code: null, signal });
    await waitUntil(() => !isAlive(pid), 5000, { what: `the tracked child ${pid} to be gone` });
    expect(existsSync(marker)).toBe(false);
  });

  it('are killed when the worker dies of an uncaught error', async () => {
    const { pid, marker, ended } = await startWorker('throw', 'throw');
    expect((await ended).code).toBe(1);
    await waitUntil(() => !isAlive(pid), 5000, { what: `the tracked child ${pid} to be gone` });
    expect(existsSync(marker)).toBe(false);
  });

  it('are killed when the worker exits without stopping them', async () => {
    const { pid, marker, ended } = await startWorker('exit', 'exit');
    expect(await ended).toEqual({ code: 3, signal: null });
    await waitUntil(() => !isAlive(pid), 5000, { what: `the tracked child ${pid} to be gone` });
    expect(existsSync(marker)).toBe(false);
  });
});
