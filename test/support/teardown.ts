/** Stopping what an end-to-end test started, whatever state a failed beforeAll left it in. */
import { rm } from 'node:fs/promises';
import { stopTrackedChildren } from './children.js';
import type { ExporterProcess } from './exporter-process.js';

export interface E2eParts {
  prom?: { stop(): Promise<void> };
  exporter?: ExporterProcess;
  /** Simulated upstreams, closed after the exporter stopped. */
  upstream?: { close(): Promise<void> };
  /** A temp directory to remove last. */
  dir?: string;
}

/**
 * Stop Prometheus, the exporter, the upstream, any tracked child, then remove the temp dir: each
 * step runs whatever the previous ones did; the first failure is thrown at the end. Resolves to
 * the exporter's exit code (undefined when none was started).
 */
export async function teardownE2e(parts: E2eParts): Promise<number | null | undefined> {
  const errors: unknown[] = [];
  const step = async <T>(fn: () => Promise<T> | undefined): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (err) {
      errors.push(err);
      return undefined;
    }
  };
  await step(() => parts.prom?.stop());
  const code = await step(() => parts.exporter?.stop());
  await step(() => parts.upstream?.close());
  await step(() => stopTrackedChildren());
  if (parts.dir) {
    const dir = parts.dir;
    await step(() => rm(dir, { recursive: true, force: true }));
  }
  if (errors.length > 0) throw errors[0];
  return code;
}
