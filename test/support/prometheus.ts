/** A real Prometheus server on loopback with a temp data dir, for end-to-end tests. */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitUntil } from '../../exporter/src/util/wait-until.js';
import { trackChild } from './children.js';
import { freePort } from './ports.js';

export interface PrometheusServer {
  url: string;
  /** Instant query; returns the vector's samples as [labels, value]. */
  query(promql: string): Promise<{ metric: Record<string, string>; value: number }[]>;
  stop(): Promise<void>;
  logs(): string;
}

export interface PrometheusOptions {
  targets: string[];
  scrapeInterval?: string;
  ruleFiles?: string[];
  /** Picks the port of each attempt (default: freePort). For tests of the retry. */
  pickPort?: () => Promise<number>;
}

/** Ports tried before giving up when each one turns out to be taken; see startPrometheus. */
export const PORT_ATTEMPTS = 3;

/** Prometheus exited at start because its port was taken between freePort() and its bind. */
class PortTakenError extends Error {}

/**
 * Start Prometheus and wait until it is ready. The process is tracked (children.ts): killed, and
 * its temp dir removed, if the test worker ends before `stop()`.
 *
 * Prometheus cannot listen on port 0 and report the port, so freePort() finds one free *now* and
 * Prometheus binds it a moment later: check-then-use, and another process (a parallel test
 * worker, anything on the host) may take the port in between. Prometheus then exits at once with
 * "bind: address already in use"; that failure, and only that one, is retried with a fresh port
 * and a fresh data dir, PORT_ATTEMPTS times in all.
 */
export async function startPrometheus(binary: string, options: PrometheusOptions): Promise<PrometheusServer> {
  const pickPort = options.pickPort ?? freePort;
  const taken: number[] = [];
  for (let attempt = 1; ; attempt += 1) {
    const port = await pickPort();
    try {
      return await launch(binary, options, port);
    } catch (err) {
      if (!(err instanceof PortTakenError)) throw err;
      taken.push(port);
      if (attempt >= PORT_ATTEMPTS) throw new Error(`Prometheus found its port taken ${taken.length} times (${taken.join(', ')}); giving up.\n${err.message}`);
    }
  }
}

async function launch(binary: string, options: PrometheusOptions, port: number): Promise<PrometheusServer> {
  const dir = await mkdtemp(join(tmpdir(), 'buildscope-prom-'));
  const interval = options.scrapeInterval ?? '1s';
  const config = [
    'global:',
    `  scrape_interval: ${interval}`,
    `  evaluation_interval: ${interval}`,
    ...(options.ruleFiles?.length ? ['rule_files:', ...options.ruleFiles.map((f) => `  - ${JSON.stringify(f)}`)] : []),
    'scrape_configs:',
    '  - job_name: buildscope',
    '    static_configs:',
    `      - targets: [${options.targets.map((t) => JSON.stringify(t)).join(', ')}]`,
    '',
  ].join('\n');
  await writeFile(join(dir, 'prometheus.yml'), config);
  let output = '';
  let spawnError: Error | undefined;
  const child = spawn(binary, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const release = trackChild(child, () => rmSync(dir, { recursive: true, force: true, maxRetries: 3 }));
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  // 'close', not 'exit': by then stdout and stderr are drained, so `output` holds the reason it exited.
  const exited = new Promise<void>((resolve) => {
    child.once('close', () => resolve());
    child.once('error', (e) => {
      spawnError = e;
      resolve();
    });
  });
  const running = () => spawnError === undefined && child.exitCode === null && child.signalCode === null;
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (running()) child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
    release();
  };
  try {
    // Stop polling as soon as the process is gone (a throw would only be retried until the
    // deadline). Each probe has its own timeout: whoever took the port may accept and never answer.
    await waitUntil(async () => !running() || (await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) })).ok, 30_000, { what: `Prometheus on ${url} to be ready` });
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\nprometheus output:\n${output}`);
  }
  if (!running()) {
    await stop();
    const why = spawnError ? spawnError.message : `exit code ${child.exitCode}, signal ${child.signalCode}`;
    const message = `Prometheus on ${url} exited before it was ready (${why})\nprometheus output:\n${output}`;
    throw /address already in use/i.test(output) ? new PortTakenError(message) : new Error(message);
  }
  return {
    url,
    logs: () => output,
    stop,
    async query(promql) {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] } };
      if (body.status !== 'success' || !body.data) throw new Error(`query ${promql} failed: ${body.error ?? res.status}`);
      return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
  };
}

/** A Prometheus scraping one exporter every second, as the end-to-end tests use it. */
export function startScrapingPrometheus(binary: string, exporterUrl: string): Promise<PrometheusServer> {
  return startPrometheus(binary, { targets: [new URL(exporterUrl).host], scrapeInterval: '1s' });
}
