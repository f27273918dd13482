/**
 * The benchmark scripts still run and report what docs/benchmarks.md quotes: each at a tiny size,
 * checking the shape of its results and the things that are bugs rather than noise (failed
 * requests, lost events). Timings are not checked here: `npm run bench` does that on purpose.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BENCH = fileURLToPath(new URL('./bench/', import.meta.url));

/** Run a benchmark script; its last stdout line is its JSON result. */
function bench(script: string, args: string[]): Promise<{ code: number | null; result: Record<string, unknown>; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`${BENCH}${script}`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      try {
        resolve({ code, result: JSON.parse(last) as Record<string, unknown>, stderr: err });
      } catch {
        reject(new Error(`${script} printed no JSON result (exit ${code}):\n${out.slice(-2000)}\n${err.slice(-2000)}`));
      }
    });
  });
}

describe('benchmark scripts (tiny sizes)', () => {
  it('scale.mjs measures memory, /metrics, a filter, a search and a detail against their baselines', async () => {
    const { code, result, stderr } = await bench('scale.mjs', ['--sizes', '1k', '--seconds', '1', '--rounds', '1', '--settle', '0']);
    expect(code, stderr).toBe(0);
    const [r] = result.results as Record<string, { subject: { rps: number; failures: number }; baseline: { rps: number }; series?: number; baselineSeries?: number }>[];
    for (const name of ['metrics', 'filter', 'search', 'detail']) {
      expect(r?.[name]?.subject.rps, name).toBeGreaterThan(0);
      expect(r?.[name]?.baseline.rps, name).toBeGreaterThan(0);
      expect(r?.[name]?.subject.failures, name).toBe(0);
    }
    // The baseline registry holds the exporter's series (plus the bucket lines of histograms it observed once).
    expect(r?.metrics?.baselineSeries).toBeGreaterThanOrEqual(r?.metrics?.series ?? Number.POSITIVE_INFINITY);
  }, 120_000);

  it('sse-fanout.mjs delivers every event to every client on both sides', async () => {
    const { code, result, stderr } = await bench('sse-fanout.mjs', ['--clients', '20', '--rate', '50', '--duration', '3', '--sources', '2', '--tasks-per-source', '20', '--json']);
    expect(code, stderr).toBe(0);
    for (const side of ['baseline', 'exporter'] as const) {
      const s = result[side] as { loss: { loss_free: boolean }; frames_received: number };
      expect(s.loss.loss_free, side).toBe(true);
      expect(s.frames_received, side).toBe(20 * 150);
    }
  }, 120_000);

  it('ingest.mjs times a first poll against a bare client', async () => {
    const { code, result, stderr } = await bench('ingest.mjs', ['--sizes', '1k', '--runs', '1', '--skip-idle', '--json']);
    expect(code, stderr).toBe(0);
    const rows = result.ingest as { tasks: number; first_poll_ms: number; baseline_ms: number }[];
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.tasks).toBe(1000);
      expect(row.first_poll_ms).toBeGreaterThan(0);
      expect(row.baseline_ms).toBeGreaterThan(0);
    }
  }, 180_000);
});
