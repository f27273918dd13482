/**
 * The real exporter process (exporter/dist/main.js) for benchmarks: started from a YAML config on
 * a free loopback port, with its pid for /proc readings. Benchmarks run it the way a user does.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MAIN_JS = fileURLToPath(new URL('../../../exporter/dist/main.js', import.meta.url));

/** Poll `fn` until it returns a truthy value; throws with `what` after `ms`. */
export async function waitFor(fn, ms, what, everyMs = 50) {
  const until = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Start the exporter with `config` (an object written as JSON, which is YAML) and wait until it
 * listens. `web.rate_limit` is off and the journal disabled unless the config says otherwise: a
 * benchmark measures the exporter, not the limiter.
 */
/** `nodeArgs` go to node itself, e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] (NODE_OPTIONS refuses --cpu-prof). */
export async function startExporter(config, { env = {}, args = [], nodeArgs = [], listenTimeoutMs = 120_000 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'buildscope-bench-'));
  const file = join(dir, 'buildscope.yaml');
  const full = {
    ...config,
    web: { rate_limit: { max: 0 }, ...(config.web ?? {}) },
    journal: config.journal ?? { enabled: false },
    log: config.log ?? { level: 'warn' },
  };
  writeFileSync(file, JSON.stringify(full, null, 2));
  const child = spawn(process.execPath, [...nodeArgs, MAIN_JS, `--config.file=${file}`, '--web.listen-address=127.0.0.1:0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  let url;
  try {
    url = await waitFor(
      () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exporter exited (${child.exitCode ?? child.signalCode})\n${out}\n${err}`);
        return /listening on (https?:\/\/[\d.:]+)/.exec(out)?.[1];
      },
      listenTimeoutMs,
      'the exporter to listen',
    );
  } catch (e) {
    child.kill('SIGKILL');
    await exited;
    cleanup();
    throw e;
  }
  return {
    url,
    pid: child.pid,
    output: () => ({ stdout: out, stderr: err }),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const code = await exited;
      cleanup();
      return code;
    },
  };
}

export async function getJson(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

/** Total tasks the exporter holds (every state), from the API. */
export async function taskTotal(base) {
  const body = await getJson(`${base}/api/v1/tasks?state=ALL&limit=1`);
  return body.total;
}
