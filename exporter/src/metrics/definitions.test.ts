import { describe, expect, it } from 'vitest';
import { METRIC_DEFINITIONS, TASK_DURATION_BUCKETS, helpText, isSelfMetric } from './definitions.js';
import { setup } from './test-helpers.js';

/** Bounded label names the architecture allows, plus the info labels of the declared info gauges. */
const ALLOWED_LABELS = new Set([
  'source', 'kind', 'repo', 'state', 'phase', 'arch', 'worker', 'method', 'channel', 'result', 'status', 'from_state', 'to_state', 'code',
  'upstream_version', 'version', 'family', 'reason', 'karajo_job',
]);
const FORBIDDEN_LABELS = ['id', 'task', 'task_id', 'build', 'build_id', 'subtask', 'owner', 'user', 'package', 'pkg', 'job', 'hash', 'url', 'message'];

describe('metric definitions', () => {
  it.each(METRIC_DEFINITIONS.map((d) => [d.name, d] as const))('%s follows the naming rules', (name, def) => {
    expect(name).toMatch(/^buildfarm_[a-z][a-z0-9_]*[a-z0-9]$/);
    expect(name.endsWith('_total'), 'only counters end in _total').toBe(def.type === 'counter');
    expect(name).not.toMatch(/_(count|sum|bucket)$/);
    expect(name.endsWith('_timestamp_seconds'), 'times are _timestamp_seconds').toBe(def.unit === 'timestamp_seconds');
    expect(name.endsWith('_seconds') && !name.endsWith('_timestamp_seconds'), 'durations end in _seconds').toBe(def.unit === 'seconds');
    expect(name.endsWith('_info'), 'info gauges end in _info').toBe(def.unit === 'info');
    expect(name.endsWith('_bytes'), 'sizes end in _bytes').toBe(def.unit === 'bytes');
    expect(name.endsWith('_ratio'), 'ratios end in _ratio').toBe(def.unit === 'ratio');
    if (def.type === 'histogram') {
      expect(def.unit).toBe('seconds');
      expect(def.buckets?.length).toBeGreaterThan(3);
      expect([...(def.buckets ?? [])]).toEqual([...(def.buckets ?? [])].sort((a, b) => a - b));
    } else {
      expect(def.buckets).toBeUndefined();
    }
    if (def.unit === 'info') expect(def.type).toBe('gauge');
    expect(def.labels.includes('source'), 'every family but the self-metrics has source').toBe(!isSelfMetric(def));
    for (const label of def.labels) {
      expect(ALLOWED_LABELS.has(label), `label ${label} is not in the bounded set`).toBe(true);
      expect(FORBIDDEN_LABELS).not.toContain(label);
    }
    expect(new Set(def.labels).size).toBe(def.labels.length);
    expect(def.help).toMatch(/^[A-Z0-9].*\.$/);
    if (def.updated !== 'scrape') expect(helpText(def, 45)).toContain('every 45 s');
  });

  it('declares each name once and uses build-farm buckets for task durations', () => {
    const names = METRIC_DEFINITIONS.map((d) => d.name);
    expect(new Set(names).size).toBe(names.length);
    expect(TASK_DURATION_BUCKETS[0]).toBe(30);
    expect(TASK_DURATION_BUCKETS.at(-1)).toBe(172_800);
    for (const def of METRIC_DEFINITIONS.filter((d) => d.name.startsWith('buildfarm_task_') && d.type === 'histogram')) {
      expect(def.buckets).toEqual(TASK_DURATION_BUCKETS);
    }
  });

  it('registers exactly the declared families, plus prom-client process metrics', async () => {
    const { metrics } = setup({ processMetrics: true, refreshSeconds: 60 });
    const { body } = await metrics.render();
    const types = new Map([...body.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1] as string, m[2] as string]));
    const helps = new Map([...body.matchAll(/^# HELP (\S+) (.*)$/gm)].map((m) => [m[1] as string, m[2] as string]));
    for (const def of METRIC_DEFINITIONS) {
      expect(types.get(def.name), def.name).toBe(def.type);
      expect(helps.get(def.name)).toBe(helpText(def, 60));
    }
    const undeclared = [...types.keys()].filter((n) => !METRIC_DEFINITIONS.some((d) => d.name === n));
    expect(undeclared.filter((n) => !/^(process|nodejs)_/.test(n))).toEqual([]);
    expect(undeclared).toContain('process_cpu_seconds_total');
    expect(undeclared).toContain('process_resident_memory_bytes');
  });
});
