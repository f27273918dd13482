/** The real exporter process (exporter/dist/main.js), started the way a user starts it. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitUntil } from '../../exporter/src/util/wait-until.js';
import { trackChild } from './children.js';

export const MAIN_JS = fileURLToPath(new URL('../../exporter/dist/main.js', import.meta.url));

export interface ExporterProcess {
  url: string;
  stdout(): string;
  stderr(): string;
  /** SIGTERM and wait; resolves to the exit code. */
  stop(): Promise<number | null>;
  /** Send a signal (e.g. SIGKILL for a crash) and wait for the exit. */
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

/**
 * Start the exporter on a free loopback port and wait until it says where it listens. The process
 * is tracked (children.ts): killed if the test worker ends before `stop()`. Test files still stop
 * every exporter they start, in a `finally` or afterAll (`stopTrackedChildren()` catches the rest).
 */
export async function startExporter(args: string[], env: NodeJS.ProcessEnv = {}, options: { listenTimeoutMs?: number } = {}): Promise<ExporterProcess> {
  // A config-file run keeps its journal in data/buildscope.db under the working directory by
  // default: give each exporter a journal of its own unless the test names one.
  let journalDir: string | undefined;
  if (!args.some((a) => a.startsWith('--journal.path')) && args.some((a) => a.startsWith('--config.file'))) {
    journalDir = mkdtempSync(join(tmpdir(), 'buildscope-journal-'));
    args = [...args, `--journal.path=${join(journalDir, 'journal.db')}`];
  }
  const child = spawn(process.execPath, [MAIN_JS, '--web.listen-address=127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const release = trackChild(child);
  let out = '';
  let err = '';
  let spawnError: Error | undefined;
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.once('error', (e) => (spawnError = e));
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(null));
  }).finally(() => {
    release();
    if (journalDir) rmSync(journalDir, { recursive: true, force: true });
  });
  const kill = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  const stop = () => kill('SIGTERM');
  try {
    // The condition returns (rather than throws) on an early exit: waitUntil retries throws until its deadline.
    const started = await waitUntil(
      () => {
        if (spawnError || child.exitCode !== null || child.signalCode !== null) return { exited: true as const };
        const url = /listening on (https?:\/\/[\d.:]+)/.exec(out)?.[1];
        return url ? { url } : undefined;
      },
      // Generous: the demo farm writes its girar tree (~15,000 files) before it listens, which takes
      // under a second on an idle disk and, measured on a busy one, up to ~10 s.
      options.listenTimeoutMs ?? 60_000,
      { what: 'the exporter to print where it listens' },
    );
    const { url } = started;
    if (url === undefined) throw new Error(`exporter exited before listening (${spawnError?.message ?? `exit code ${child.exitCode}, signal ${child.signalCode}`})`);
    return { url, stdout: () => out, stderr: () => err, stop, kill };
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message}\nstdout:\n${out}\nstderr:\n${err}`);
  }
}

/** Start the exporter with a config file and wait until it says it is ready (every source polled once). */
export async function startReadyExporter(config: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<ExporterProcess> {
  const exporter = await startExporter([`--config.file=${config}`, ...args], env);
  await waitUntil(async () => (await fetch(`${exporter.url}/-/ready`)).ok, 15_000, { what: 'exporter readiness' });
  return exporter;
}
