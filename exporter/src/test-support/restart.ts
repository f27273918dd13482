/**
 * Restart tests through the whole exporter: buildExporter on a config whose sources point at
 * simulators on loopback, the SQLite journal in a temp dir, an injected clock, polls driven by
 * `runners.pollAll()`. An exporter is stopped and a new one started on the same journal.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { buildExporter, type Exporter } from '../app.js';
import { parseConfig } from '../config/load.js';
import type { ChangeEvent } from '../model/events.js';
import { kindSchemas } from '../sources/registry.js';
import type { Clock } from '../util/clock.js';

export class RestartHarness {
  readonly dir = mkdtempSync(join(tmpdir(), 'buildscope-adapter-restart-'));
  private readonly running: Exporter[] = [];

  constructor(private readonly clock: Clock) {}

  /** An exporter on `sourcesYaml` (the `sources:` list) and the harness's journal. */
  async start(sourcesYaml: string): Promise<Exporter> {
    const config = parseConfig(`sources:\n${sourcesYaml}`, join(this.dir, 'buildscope.yaml'), kindSchemas, {
      listenAddress: '127.0.0.1:0',
      journalPath: join(this.dir, 'journal.db'),
    });
    const exporter = await buildExporter(config, { log: pino({ level: 'silent' }), clock: this.clock });
    this.running.push(exporter);
    return exporter;
  }

  async stop(exporter: Exporter): Promise<void> {
    this.running.splice(this.running.indexOf(exporter), 1);
    await exporter.close();
  }

  async close(): Promise<void> {
    for (const e of this.running.splice(0)) await e.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Sample lines of the families whose names start with `prefix`, `name{labels} value`, sorted. */
export async function samples(exporter: Exporter, prefix: string): Promise<string[]> {
  const { body } = await exporter.metrics.render();
  return body
    .split('\n')
    .filter((l) => l.startsWith(prefix) && !l.startsWith('#'))
    .sort();
}

/** Every event the exporter's store publishes from now on. */
export function collect(exporter: Exporter): ChangeEvent[] {
  const seen: ChangeEvent[] = [];
  exporter.store.events.subscribe((e) => seen.push(e));
  return seen;
}

export const brief = (e: ChangeEvent): string => `${e.type} ${e.id} ${e.prev_state ?? '-'}>${e.state ?? '-'}`;
