/**
 * A farm for fault tests: every kind's real simulator (the ones demo mode runs), each upstream
 * origin behind its own FaultProxy, a healthy `control` source polled directly, and the real
 * exporter process reading them all with a 1 s interval.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { karajoDemo } from '../../exporter/src/sources/karajo/index.js';
import { registry } from '../../exporter/src/sources/registry.js';
import type { DemoInstance } from '../../exporter/src/sources/source.js';
import { systemClock } from '../../exporter/src/util/clock.js';
import { waitUntil } from '../../exporter/src/util/wait-until.js';
import { startExporter, type ExporterProcess } from '../support/exporter-process.js';
import { FaultProxy, type Fault } from '../support/fault-proxy.js';

export interface SourceView {
  name: string;
  kind: string;
  up: boolean;
  last_poll: string | null;
  consecutive_failures: number;
  last_error: { code: string; message: string; at: string; status?: number } | null;
  polls: { ok: number; failed: number };
}

export interface FarmSource {
  name: string;
  kind: string;
  proxies: FaultProxy[];
}

export interface Farm {
  exporter: ExporterProcess;
  sources: FarmSource[];
  /** The girar fs tree's tasks directory. */
  girarFsTasksDir: string;
  dir: string;
  setFault(fault: Fault, names?: string[]): Promise<void>;
  sourcesView(): Promise<SourceView[]>;
  close(): Promise<void>;
}

export interface FarmOptions {
  /** Rewrites each source block last (e.g. to plant credentials); gets the block and its kind. */
  edit?: (block: Record<string, unknown>, kind: string) => Record<string, unknown>;
  /** Wait until every source is up before returning (default true). */
  waitUp?: boolean;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** Leave out the girar fs source (it writes a ~15,000-file tree). */
  withoutFs?: boolean;
  /**
   * Users the karajo simulator accepts (the demo's has none). A test that configures karajo
   * credentials must list them here, or every karajo poll fails at the login and its backoff
   * (doubling per failure) soon outlasts the test's waits.
   */
  karajoUsers?: { name: string; password: string }[];
}

const log = pino({ level: 'silent' });

/** Replace every loopback URL in a config block with its proxy's, starting one proxy per origin. */
async function viaProxies(value: unknown, proxies: Map<string, FaultProxy>): Promise<unknown> {
  if (typeof value === 'string' && /^http:\/\/127\.0\.0\.1:\d+/.test(value)) {
    const origin = new URL(value).origin;
    let proxy = proxies.get(origin);
    if (!proxy) {
      proxy = new FaultProxy(origin);
      await proxy.start();
      proxies.set(origin, proxy);
    }
    return proxy.proxied(value);
  }
  if (Array.isArray(value)) return Promise.all(value.map((v) => viaProxies(v, proxies)));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = await viaProxies(v, proxies);
    return out;
  }
  return value;
}

/** Per-kind settings that make faults show within seconds. */
const FAST: Record<string, Record<string, unknown>> = {
  // The list is read every 2 s even while the stream is up, so faults that only a list shows
  // (clock skew, ids going back) show within the tests' waits; /health shows the others at once.
  girar: { max_body_bytes: 1024 * 1024, resync_interval: '2s' },
  apb: { max_body_bytes: 1024 * 1024, wait: '2s', server_timeout: '2s' },
  karajo: { max_body_bytes: 1024 * 1024 },
  cuirass: { max_body_bytes: 1024 * 1024 },
  koji: { max_body_bytes: 1024 * 1024 },
};

export async function startFarm(options: FarmOptions = {}): Promise<Farm> {
  const dir = await mkdtemp(join(tmpdir(), 'buildscope-faults-'));
  const demos: DemoInstance[] = [];
  const allProxies: FaultProxy[] = [];
  const sources: FarmSource[] = [];
  const blocks: Record<string, unknown>[] = [];
  let girarFsTasksDir = '';
  let exporter: ExporterProcess | undefined;
  const close = async () => {
    await exporter?.stop();
    await Promise.all(allProxies.map((p) => p.close()));
    await Promise.all(demos.map((d) => d.close()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const kind of ['girar', 'apb', 'karajo', 'cuirass', 'koji']) {
      const def = registry[kind];
      if (!def?.demo) throw new Error(`${kind} has no simulator`);
      const made = kind === 'karajo' && options.karajoUsers ? await karajoDemo({ log, clock: systemClock }, options.karajoUsers) : await def.demo({ log, clock: systemClock });
      for (const d of Array.isArray(made) ? made : [made]) {
        demos.push(d);
        const isFs = d.config.transport === 'fs';
        if (isFs && options.withoutFs) continue;
        const proxies = new Map<string, FaultProxy>();
        const config = isFs ? d.config : ((await viaProxies(d.config, proxies)) as Record<string, unknown>);
        if (isFs) girarFsTasksDir = String(d.config.tasks_dir);
        allProxies.push(...proxies.values());
        const name = d.name ?? `f-${kind}`;
        sources.push({ name, kind, proxies: [...proxies.values()] });
        const block = { ...config, ...(isFs ? {} : FAST[kind]), name, kind, interval: '1s', timeout: kind === 'apb' ? '4s' : '3s' };
        blocks.push(options.edit ? options.edit(block, kind) : block);
      }
    }
    // The control: a second cuirass simulator, never faulted.
    const control = await registry.cuirass?.demo?.({ log, clock: systemClock });
    if (!control || Array.isArray(control)) throw new Error('no control simulator');
    demos.push(control);
    blocks.push({ ...control.config, name: 'control', kind: 'cuirass', interval: '1s', timeout: '3s' });
    const configPath = join(dir, 'buildscope.yaml');
    // JSON is YAML. The tests poll the API many times a second while they wait for a source to
    // go down or recover: the per-IP rate limit (on by default for a config file) is off here.
    await writeFile(configPath, JSON.stringify({ web: { rate_limit: { max: 0 } }, sources: blocks }, null, 2));
    exporter = await startExporter([`--config.file=${configPath}`, ...(options.args ?? [])], options.env ?? {});
    const url = exporter.url;
    const sourcesView = async (): Promise<SourceView[]> => {
      const res = await fetch(`${url}/api/v1/sources`);
      return ((await res.json()) as { sources: SourceView[] }).sources;
    };
    if (options.waitUp ?? true) await waitUntil(async () => (await sourcesView()).every((s) => s.up), 30_000, { what: 'every source up' });
    return {
      exporter,
      sources,
      girarFsTasksDir,
      dir,
      sourcesView,
      async setFault(fault, names) {
        await Promise.all(sources.filter((s) => !names || names.includes(s.name)).flatMap((s) => s.proxies.map((p) => p.set(fault))));
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** One source's `buildfarm_source_up` from a /metrics text. */
export function sourceUp(metrics: string, source: string): number | undefined {
  const m = new RegExp(`^buildfarm_source_up\\{[^}]*source="${source}"[^}]*\\} (\\S+)$`, 'm').exec(metrics);
  return m ? Number(m[1]) : undefined;
}

/** `process_resident_memory_bytes` from a /metrics text. */
export function residentBytes(metrics: string): number {
  const m = /^process_resident_memory_bytes (\S+)$/m.exec(metrics);
  if (!m) throw new Error('no process_resident_memory_bytes in /metrics');
  return Number(m[1]);
}
