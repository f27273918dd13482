/** Builders shared by the metrics tests: girar-like tasks, a fake health provider, an exposition parser. */
import type { Subtask, Task } from '../model/task.js';
import { archPhase } from '../sources/girar/normalize.js';
import { girarTask as sharedGirarTask } from '../test-support/tasks.js';
import { lifecyclesByKind } from '../sources/registry.js';
import type { HealthProvider, SourceHealth } from '../sources/health.js';
import { Store } from '../store/store.js';
import { ExporterMetrics, type MetricsDeps } from './index.js';

export const T0 = Date.parse('2026-03-16T12:00:00Z');
export const SOURCE = 'alt';

export interface TaskSpec {
  repo?: string;
  /** Per subtask: arch -> status word. */
  subtasks?: Record<string, string>[];
  source?: string;
}

export function girarTask(id: number | string, state: string, spec: TaskSpec = {}): Task {
  const subtasks: Subtask[] = (spec.subtasks ?? []).map((archs, i) => ({
    id: String(100 * (i + 1)),
    type: 'repo',
    package: `pkg${i}`,
    archs: Object.entries(archs).map(([arch, status]) => ({ arch, status, phase: archPhase(status, state) })),
  }));
  return {
    ...sharedGirarTask({ id: String(id), state, owner: 'someone', repo: spec.repo ?? 'sisyphus' }, spec.source ?? SOURCE),
    archs: [...new Set(subtasks.flatMap((s) => s.archs.map((a) => a.arch)))],
    subtasks,
  };
}

export class FakeHealth implements HealthProvider {
  sources: SourceHealth[] = [];
  broken = false;
  health(): SourceHealth[] {
    if (this.broken) throw new Error('health provider exploded');
    return this.sources;
  }
}

export function sourceHealth(name: string, over: Partial<SourceHealth> = {}): SourceHealth {
  return { name, kind: 'girar', up: true, intervalSeconds: 30, consecutiveFailures: 0, polls: { ok: 0, failed: 0 }, ...over };
}

export interface Setup {
  store: Store;
  health: FakeHealth;
  metrics: ExporterMetrics;
  /** Apply a girar snapshot at T0 + seconds. */
  snapshot(seconds: number, tasks: Task[], source?: string): void;
}

export function setup(deps: Partial<MetricsDeps> = {}): Setup {
  const store = deps.store ?? new Store({ lifecycles: lifecyclesByKind() });
  const health = new FakeHealth();
  const metrics = new ExporterMetrics({ store, health, version: '0.1.0-test', processMetrics: false, ...deps });
  return {
    store,
    health,
    metrics,
    snapshot: (seconds, tasks, source = SOURCE) => {
      store.apply(source, 'girar', { type: 'snapshot', tasks }, T0 + seconds * 1000);
    },
  };
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Samples of a text exposition (enough of the format for prom-client's output). */
export function parseSamples(body: string): Sample[] {
  const out: Sample[] = [];
  for (const line of body.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, '$1');
    out.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return out;
}

/** Samples of one metric name as `{k="v",...} -> value` with sorted label names, for exact comparisons. */
export function series(samples: Sample[], name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) {
    if (s.name !== name) continue;
    const labels = Object.keys(s.labels)
      .sort()
      .map((k) => `${k}=${s.labels[k]}`)
      .join(',');
    out[labels] = s.value;
  }
  return out;
}

export async function scrape(metrics: ExporterMetrics): Promise<Sample[]> {
  return parseSamples((await metrics.render()).body);
}
