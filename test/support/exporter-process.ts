/** The real exporter process (exporter/dist/main.js), started the way a user starts it. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitUntil } from '../../exporter/src/util/wait-until.js';

export const MAIN_JS = fileURLToPath(new URL('../../exporter/dist/main.js', import.meta.url));

export interface ExporterProcess {
  url: string;
  stdout(): string;
  stderr(): string;
  /** SIGTERM and wait; resolves to the exit code. */
  stop(): Promise<number | null>;
}

export async function startExporter(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ExporterProcess> {
  const child = spawn(process.execPath, [MAIN_JS, '--web.listen-address=127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exited;
  };
  try {
    const url = await waitUntil(
      () => {
        if (child.exitCode !== null) throw new Error(`exporter exited with ${child.exitCode}`);
        return /listening on (http:\/\/[\d.:]+)/.exec(out)?.[1];
      },
      20_000, { what: 'the exporter to print where it listens' },
    );
    return { url, stdout: () => out, stderr: () => err, stop };
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message}\nstdout:\n${out}\nstderr:\n${err}`);
  }
}
