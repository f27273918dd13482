/**
 * APB builders (Arch POWER): per build server load against its cores, CPU, memory and disk use,
 * queue against capacity, health as the server reports it, the farm, the builds running now and
 * build durations per architecture (APB tasks carry the arch in `repo`).
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { buildscope } from '../lib/buildscope-query.js';
import { newDashboard, prom, promInstant, promVariable } from '../lib/dashboard.js';
import { barGaugePanel, boolMappings, falling, rising, row, stateTimelinePanel, statPanel, tablePanel, timeseriesPanel, valueMappings } from '../lib/panels.js';
import { SLOW_EVENTS_NOTE, slowEvents } from '../lib/slow-events.js';

export const UID = 'buildscope-apb';

/** Worker families: the kind (the source variable's All is `.*`, which spans every kind), sources and servers chosen. */
const W = 'kind="apb", source=~"$source", worker=~"$worker"';
/** APB-only families (no kind label). */
const A = 'source=~"$source", worker=~"$worker"';
/** Task families: APB's repo label is the arch. */
const T = 'kind="apb", source=~"$source"';

function perWorker(metric: string): string {
  return `max by (source, worker) (${metric}{${W}})`;
}

function ratio(used: string, total: string): string {
  return `${perWorker(used)} / ${perWorker(total)}`;
}

function durationQuantile(q: number, window: string): string {
  return `histogram_quantile(${q}, sum by (repo, le) (rate(buildfarm_task_duration_seconds_bucket{${T}}[${window}])))`;
}

/** A bar per server: the share of `total` that is used; orange from 80 %, red from 90 %. */
function usedShare(title: string, description: string, used: string, total: string) {
  return barGaugePanel({ title, description, w: 8, h: 8, unit: 'percentunit', min: 0, max: 1, thresholds: rising(0.8, 0.9), targets: [promInstant(ratio(used, total), '{{worker}}')] });
}

/** Health as one number per server: 0 healthy, 1 warning, 2 degraded (for colours and a timeline). */
const HEALTH = `max by (source, worker) ((buildfarm_apb_server_health{${A}, status="healthy"} == 1) * 0 or (buildfarm_apb_server_health{${A}, status="warning"} == 1) * 1 or (buildfarm_apb_server_health{${A}, status="degraded"} == 1) * 2)`;
const HEALTH_MAPPINGS = valueMappings([
  [0, 'healthy', 'green'],
  [1, 'warning', 'orange'],
  [2, 'degraded', 'red'],
]);

export function buildApb(): Dashboard {
  const d = newDashboard({
    uid: UID,
    title: 'APB builders',
    description: 'Arch POWER build servers: load vs cores, CPU, memory, disk, queue vs capacity, health, current builds and build durations per arch.',
    tags: ['apb'],
    kind: 'apb',
    plugin: true,
  }).withVariable(
    promVariable('worker', {
      label: 'Server',
      description: 'APB build servers of the selected sources.',
      query: 'label_values(buildfarm_worker_up{kind="apb", source=~"$source"}, worker)',
    }),
  );

  d.withRow(
    row('Servers', [
      statPanel({
        title: 'Farm up',
        description: 'Whether the APB farm answered GET /farm at the latest poll (only for sources with a farm). Down: the farm is unreachable, servers known only through it go stale; check the farm host.',
        w: 4,
        h: 6,
        graph: false,
        background: true,
        mappings: boolMappings('up', 'down'),
        thresholds: falling(1, 1),
        targets: [prom(`max by (source) (buildfarm_apb_farm_up{source=~"$source"})`, '{{source}}')],
      }),
      statPanel({
        title: 'Servers down',
        description: 'Build servers that did not answer (and that the farm does not list online) at the latest poll. Any is red: the Server up timeline shows which and since when.',
        w: 4,
        h: 6,
        graph: false,
        background: true,
        thresholds: rising(1, 1),
        targets: [prom(`count(buildfarm_worker_up{${W}} == 0) or vector(0)`, 'down')],
      }),
      stateTimelinePanel({
        title: 'Server health',
        description: 'What each server reported at GET /health: healthy, warning or degraded. APB says degraded when a check errored or it answered slowly (it blocks while serving GET /), so only a lasting red stretch matters: look at the server\'s load and disk.',
        w: 16,
        h: 6,
        mappings: HEALTH_MAPPINGS,
        thresholds: rising(1, 2),
        targets: [prom(HEALTH, '{{worker}}')],
      }),
      stateTimelinePanel({
        title: 'Server up',
        description: 'Whether each build server answered its poll (or was listed online by the farm). Red: unreachable; it keeps its last known resources in the exporter\'s API with the error.',
        w: 24,
        h: 5,
        mappings: boolMappings('up', 'down'),
        thresholds: falling(1, 1),
        targets: [prom(perWorker('buildfarm_worker_up'), '{{worker}}')],
      }),
    ]),
  );

  d.withRow(
    row('Resources', [
      timeseriesPanel({
        title: 'Load per core',
        description: 'One-minute load average divided by the server\'s CPU cores. Above 1 (dashed red line) the server has more runnable work than cores: builds slow down; lower its max concurrent builds or add a server.',
        w: 12,
        h: 8,
        unit: 'short',
        thresholds: rising(0.8, 1),
        thresholdLines: true,
        targets: [prom(ratio('buildfarm_worker_load1', 'buildfarm_worker_cpu_cores'), '{{worker}}')],
      }),
      timeseriesPanel({
        title: 'Load and cores',
        description: 'One-minute load average of each server (solid) next to its CPU cores (the same colour, as a second series).',
        w: 12,
        h: 8,
        unit: 'short',
        targets: [prom(perWorker('buildfarm_worker_load1'), '{{worker}} load1', 'A'), prom(perWorker('buildfarm_worker_cpu_cores'), '{{worker}} cores', 'B')],
      }).overrideByRegexp('.* cores$', [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }]),
      timeseriesPanel({
        title: 'CPU usage',
        description: 'Share of each server\'s CPU time in use, as APB sampled it. Constantly near 100 % with builds waiting: the server is the bottleneck.',
        w: 8,
        h: 8,
        unit: 'percentunit',
        min: 0,
        max: 1,
        thresholds: rising(0.8, 0.95),
        targets: [prom(perWorker('buildfarm_worker_cpu_usage_ratio'), '{{worker}}')],
      }),
      usedShare(
        'Memory used',
        'Memory in use out of the server\'s total. Above 90 % (red) builds risk the OOM killer: lower concurrency on that server.',
        'buildfarm_worker_memory_used_bytes',
        'buildfarm_worker_memory_total_bytes',
      ),
      usedShare(
        'Disk used',
        'Root file system in use out of its size. Above 90 % (red) builds will fail writing: clean build caches or old chroots on that server.',
        'buildfarm_worker_disk_used_bytes',
        'buildfarm_worker_disk_total_bytes',
      ),
      timeseriesPanel({
        title: 'Memory',
        description: 'Memory used and total per server, in bytes.',
        w: 12,
        h: 8,
        unit: 'bytes',
        targets: [prom(perWorker('buildfarm_worker_memory_used_bytes'), '{{worker}} used', 'A'), prom(perWorker('buildfarm_worker_memory_total_bytes'), '{{worker}} total', 'B')],
      }),
      timeseriesPanel({
        title: 'Disk',
        description: 'Root file system used and total per server, in bytes. A steady climb predicts when it fills.',
        w: 12,
        h: 8,
        unit: 'bytes',
        targets: [prom(perWorker('buildfarm_worker_disk_used_bytes'), '{{worker}} used', 'A'), prom(perWorker('buildfarm_worker_disk_total_bytes'), '{{worker}} total', 'B')],
      }),
    ]),
  );

  d.withRow(
    row('Queue and builds', [
      timeseriesPanel({
        title: 'Queue vs capacity',
        description: 'Builds queued on the servers, running, and the servers\' total capacity (max concurrent builds). Running at capacity with a growing queue: the farm needs more servers or slots.',
        w: 12,
        h: 8,
        unit: 'short',
        targets: [
          prom(`sum(buildfarm_worker_queued_tasks{${W}}) or vector(0)`, 'queued', 'A'),
          prom(`sum(buildfarm_worker_running_tasks{${W}}) or vector(0)`, 'running', 'B'),
          prom(`sum(buildfarm_worker_capacity{${W}})`, 'capacity', 'C'),
        ],
      }),
      barGaugePanel({
        title: 'Slots in use per server',
        description: 'Running builds out of each server\'s max concurrent builds. A full server with queued builds while others idle: the farm does not spread work; check its arch.',
        w: 12,
        h: 8,
        unit: 'percentunit',
        min: 0,
        max: 1,
        thresholds: rising(0.9, 1),
        targets: [promInstant(ratio('buildfarm_worker_running_tasks', 'buildfarm_worker_capacity'), '{{worker}}')],
      }),
      tablePanel({
        title: 'Current builds',
        description: 'Builds running now (APB, phase running), the longest running first: package (id), arch (repo), owner, age. A build running far longer than its arch\'s p95 below is likely hung: check it on its server.',
        w: 24,
        h: 9,
        targets: [buildscope({ queryType: 'tasks', source: ['$source'], kind: ['apb'], phase: ['running'], sort: 'state_since', order: 'asc', limit: 100, useTimeRange: false })],
      }),
    ]),
  );

  d.withRow(
    row('Build durations per arch', [
      slowEvents(
        timeseriesPanel({
          title: 'Build duration p50 / p95 per arch',
          description: `How long APB builds took per arch, from the upstream start and end times, over the rate window. Gaps: no build of that arch finished in the window. ${SLOW_EVENTS_NOTE}`,
          w: 12,
          h: 8,
          unit: 's',
          targets: [prom(durationQuantile(0.5, '$__rate_interval'), '{{repo}} p50', 'A'), prom(durationQuantile(0.95, '$__rate_interval'), '{{repo}} p95', 'B')],
        }),
      ),
      barGaugePanel({
        title: 'Build duration p95 over the time range',
        description: 'The 95th percentile build duration per arch over the whole time range. Compare archs: one far slower than usual points at its servers (load, disk).',
        w: 12,
        h: 8,
        unit: 's',
        thresholds: rising(14400, 28800),
        targets: [promInstant(durationQuantile(0.95, '$__range'), '{{repo}}')],
      }),
      slowEvents(
        timeseriesPanel({
          title: 'Builds finished per arch',
          description: `Builds finishing per hour, by arch and phase (success, failed). Failed rising on one arch: look at that arch's recent failed builds. ${SLOW_EVENTS_NOTE}`,
          w: 24,
          h: 8,
          unit: 'short',
          stack: true,
          targets: [prom(`sum by (repo, phase) (rate(buildfarm_tasks_finished_total{${T}}[$__rate_interval])) * 3600`, '{{repo}} {{phase}}')],
        }),
      ),
    ]),
  );
  return d.build();
}
