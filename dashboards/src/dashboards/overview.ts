/**
 * Build farms overview: every configured source on one page. Is each farm being polled, is its
 * data fresh, how much work waits and runs, how much of it fails, are its workers up, and what
 * is happening right now (the plugin's live event stream). Links lead to the per-kind dashboards.
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { buildscope } from '../lib/buildscope-query.js';
import { newDashboard, prom, promInstant } from '../lib/dashboard.js';
import { boolMappings, falling, rising, row, stateTimelinePanel, statPanel, tablePanel, timeseriesPanel } from '../lib/panels.js';
import { SLOW_EVENTS_NOTE, slowEvents } from '../lib/slow-events.js';

export const UID = 'buildscope-overview';

/** Per-kind dashboards (uid `buildscope-<kind>`), linked from the top bar and the sources table. */
export const KIND_DASHBOARDS: { kind: string; title: string }[] = [
  { kind: 'girar', title: 'girar' },
  { kind: 'apb', title: 'APB builders' },
  { kind: 'karajo', title: 'karajo' },
  { kind: 'cuirass', title: 'Cuirass' },
  { kind: 'koji', title: 'Koji' },
];

const S = 'source=~"$source"';
/** One series per selected source, value 0: `or`-ed in where a missing group truthfully means none. */
function zeroPerSource(by = '(source, kind)'): string {
  return `0 * max by ${by} (buildfarm_source_up{${S}})`;
}

function sourcesTable() {
  const by = 'by (source, kind)';
  return tablePanel({
    title: 'Sources',
    description:
      'One row per source: is its latest poll ok, how many poll intervals ago it last succeeded, its queued and running tasks, the failed share of the tasks that finished in the time range, and its workers up. ' +
      'Red "Up": the exporter cannot poll the upstream; see Exporter health and the source\'s last error in /api/v1/sources. ' +
      'Red "Intervals since success": data is stale by that many polls. Click a source to open its kind\'s dashboard.',
    w: 24,
    h: 8,
    targets: [
      promInstant(`max ${by} (buildfarm_source_up{${S}})`, '', 'A'),
      promInstant(`(time() - max ${by} (buildfarm_source_last_success_timestamp_seconds{${S}})) / max ${by} (buildfarm_source_poll_interval_seconds{${S}})`, '', 'B'),
      promInstant(`sum ${by} (buildfarm_tasks{${S}, phase="queued"}) or ${zeroPerSource()}`, '', 'C'),
      promInstant(`sum ${by} (buildfarm_tasks{${S}, phase="running"}) or ${zeroPerSource()}`, '', 'D'),
      promInstant(`sum ${by} (increase(buildfarm_tasks_finished_total{${S}, phase="failed"}[$__range])) / sum ${by} (increase(buildfarm_tasks_finished_total{${S}}[$__range]))`, '', 'E'),
      promInstant(`sum ${by} (buildfarm_worker_up{${S}})`, '', 'F'),
    ],
    transformations: [
      { id: 'merge', options: {} },
      {
        id: 'organize',
        options: {
          excludeByName: { Time: true },
          indexByName: { source: 0, kind: 1, 'Value #A': 2, 'Value #B': 3, 'Value #C': 4, 'Value #D': 5, 'Value #E': 6, 'Value #F': 7 },
          renameByName: {
            'Value #A': 'Up',
            'Value #B': 'Intervals since success',
            'Value #C': 'Queued',
            'Value #D': 'Running',
            'Value #E': 'Failed share',
            'Value #F': 'Workers up',
          },
        },
      },
    ],
    sortBy: 'source',
    asc: true,
  })
    .overrideByName('source', [
      { id: 'links', value: [{ title: 'Open the ${__data.fields.kind} dashboard', url: '/d/buildscope-${__data.fields.kind}?var-source=${__value.raw}&${__url_time_range}' }] },
    ])
    .overrideByName('Up', [
      { id: 'mappings', value: boolMappings('up', 'down') },
      { id: 'custom.cellOptions', value: { type: 'color-background' } },
    ])
    .overrideByName('Intervals since success', [
      { id: 'thresholds', value: { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'orange', value: 2 }, { color: 'red', value: 3 }] } },
      { id: 'custom.cellOptions', value: { type: 'color-text' } },
      { id: 'decimals', value: 1 },
    ])
    .overrideByName('Failed share', [
      { id: 'unit', value: 'percentunit' },
      { id: 'thresholds', value: { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'orange', value: 0.2 }, { color: 'red', value: 0.5 }] } },
      { id: 'custom.cellOptions', value: { type: 'color-text' } },
    ]);
}

export function buildOverview(): Dashboard {
  const d = newDashboard({
    uid: UID,
    title: 'Build farms overview',
    description: 'Every build farm source: up, freshness, queue depth, running tasks, failure rate, workers and live task events.',
    tags: ['overview'],
    plugin: true,
    links: KIND_DASHBOARDS.map((k) => ({ title: k.title, url: `/d/buildscope-${k.kind}`, tooltip: `The ${k.title} dashboard` })),
  });

  d.withRow(
    row('Sources', [
      sourcesTable(),
      stateTimelinePanel({
        title: 'Source up',
        description: 'Whether each source\'s polls succeed, over time. Red stretches are outages of the upstream or of the way to it; the Exporter health dashboard shows the poll errors and upstream answer codes.',
        w: 12,
        h: 7,
        targets: [prom(`max by (source) (buildfarm_source_up{${S}})`, '{{source}}')],
        mappings: boolMappings('up', 'down'),
        thresholds: falling(1, 1),
      }),
      timeseriesPanel({
        title: 'Time since last successful poll',
        description:
          'Age of each source\'s data: seconds since its latest successful poll. It saws between 0 and the poll interval while polls succeed; a line that keeps rising means the data is stale (the source is down or polls hang); check its poll errors and duration on Exporter health.',
        w: 12,
        h: 7,
        unit: 's',
        targets: [prom(`time() - max by (source) (buildfarm_source_last_success_timestamp_seconds{${S}})`, '{{source}}')],
        thresholds: rising(300, 900),
        thresholdLines: true,
      }),
    ]),
  );

  d.withRow(
    row('Work', [
      timeseriesPanel({
        title: 'Queue depth',
        description: 'Tasks waiting to run (phase queued: girar AWAITING and PENDING, Koji FREE, Cuirass scheduled, ...) per source. A queue that only grows means the builders cannot keep up or are stuck: check running tasks and workers.',
        w: 8,
        h: 8,
        unit: 'short',
        targets: [prom(`sum by (source) (buildfarm_tasks{${S}, phase="queued"}) or ${zeroPerSource('(source)')}`, '{{source}}')],
      }),
      timeseriesPanel({
        title: 'Running tasks',
        description: 'Tasks running now (phase running) per source. Zero while the queue is not empty means nothing picks work up: check the workers and the farm\'s own scheduler.',
        w: 8,
        h: 8,
        unit: 'short',
        targets: [prom(`sum by (source) (buildfarm_tasks{${S}, phase="running"}) or ${zeroPerSource('(source)')}`, '{{source}}')],
      }),
      slowEvents(
        timeseriesPanel({
          title: 'Failure rate',
          description:
            `Failed share of the tasks that finished, per source (failed / all finished, over the rate window). Gaps mean nothing finished. A jump means a broken repo, arch or builder: the per-kind dashboard shows which. ${SLOW_EVENTS_NOTE}`,
          w: 8,
          h: 8,
          unit: 'percentunit',
          min: 0,
          max: 1,
          thresholds: rising(0.2, 0.5),
          thresholdLines: true,
          targets: [
            prom(
              `sum by (source) (rate(buildfarm_tasks_finished_total{${S}, phase="failed"}[$__rate_interval])) / sum by (source) (rate(buildfarm_tasks_finished_total{${S}}[$__rate_interval]))`,
              '{{source}}',
            ),
          ],
        }),
      ),
      slowEvents(
        timeseriesPanel({
          title: 'Finished tasks by phase',
          description: `Tasks seen finishing per minute, by source and phase (success, failed, canceled). Only transitions the exporter observed between polls count. ${SLOW_EVENTS_NOTE}`,
          w: 12,
          h: 8,
          unit: 'short',
          stack: true,
          targets: [prom(`sum by (source, phase) (rate(buildfarm_tasks_finished_total{${S}}[$__rate_interval])) * 60`, '{{source}} {{phase}}')],
        }),
      ),
      timeseriesPanel({
        title: 'Workers by state',
        description: 'Workers (builders, hosts) per source by state: busy, idle, down. Down workers shrink the farm\'s capacity: see the APB or Koji dashboard for which ones. Sources without workers (girar, karajo, Cuirass) have no series.',
        w: 12,
        h: 8,
        unit: 'short',
        stack: true,
        targets: [prom(`sum by (source, state) (buildfarm_workers{${S}})`, '{{source}} {{state}}')],
      }),
      statPanel({
        title: 'Sources down',
        description: 'Sources whose latest poll failed. Anything above 0 is red: open Exporter health for the failing polls.',
        w: 6,
        h: 4,
        graph: false,
        background: true,
        thresholds: rising(1, 1),
        targets: [prom(`count(buildfarm_source_up{${S}} == 0) or vector(0)`, 'down')],
      }),
      statPanel({
        title: 'Queued tasks',
        description: 'Tasks queued over the selected sources.',
        w: 6,
        h: 4,
        unit: 'short',
        targets: [prom(`sum(buildfarm_tasks{${S}, phase="queued"}) or vector(0)`, 'queued')],
      }),
      statPanel({
        title: 'Running tasks (all)',
        description: 'Tasks running over the selected sources.',
        w: 6,
        h: 4,
        unit: 'short',
        targets: [prom(`sum(buildfarm_tasks{${S}, phase="running"}) or vector(0)`, 'running')],
      }),
      statPanel({
        title: 'Blocked tasks',
        description: 'Tasks blocked on people or other tasks (phase blocked: girar NEW, POSTPONED, EPERM waiting for approval). A growing number means approvals are not done: see the girar dashboard.',
        w: 6,
        h: 4,
        unit: 'short',
        targets: [prom(`sum(buildfarm_tasks{${S}, phase="blocked"}) or vector(0)`, 'blocked')],
      }),
    ]),
  );

  d.withRow(
    row('Live events', [
      tablePanel({
        title: 'Live task events',
        description:
          'Task, worker and job events as the exporter sees them, newest first, streamed live from the exporter (buildscope datasource). Use it to watch a release or a fix go through; an empty table on a busy farm means the exporter\'s event stream is not reaching Grafana (check the plugin datasource).',
        w: 24,
        h: 10,
        targets: [buildscope({ queryType: 'events', source: ['$source'], maxRows: 200 })],
        sortBy: 'seq',
      }),
    ]),
  );
  return d.build();
}
