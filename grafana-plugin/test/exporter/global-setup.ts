/**
 * Global setup of the `grafana-plugin-exporter` vitest project: ONE real exporter on its demo farm
 * (loopback, free port) for every test file of the project, started once per run (the demo farm
 * writes a 45,000-file girar tree before it listens, which takes seconds on a busy machine).
 * Test files read its URL with `inject('buildscopeExporterUrl')`. Vitest runs this only when the
 * project has test files in the run.
 */
import type { TestProject } from 'vitest/node';
import { waitUntil } from '../../../exporter/src/util/wait-until.js';
import { startExporter } from '../../../test/support/exporter-process.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of the demo exporter, e.g. http://127.0.0.1:40123. */
    buildscopeExporterUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const exporter = await startExporter(['--demo', '--log.level=warn'], {}, { listenTimeoutMs: 120_000 });
  try {
    await waitUntil(async () => (await fetch(`${exporter.url}/-/ready`)).ok, 60_000, { what: 'exporter readiness', intervalMs: 100 });
  } catch (err) {
    await exporter.stop();
    throw err;
  }
  project.provide('buildscopeExporterUrl', exporter.url);
  return async () => {
    await exporter.stop();
  };
}
