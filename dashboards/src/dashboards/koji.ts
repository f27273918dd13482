/**
 * Koji: is the hub (and its database) answering, what the tasks are doing, how long they run and
 * wait, and whether the builder hosts and channels have room. Prometheus panels read
 * `buildfarm_koji_*`; the hosts table at the bottom is the plugin's `/api/v1/workers` view.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import { MappingType, RowBuilder, type Dashboard, type DynamicConfigValue } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { buildscopeRef } from '../datasources.js';
import { buildscope } from '../lib/buildscope-query.js';
import { newDashboard, prom, promInstant } from '../lib/dashboard.js';
import { countBarsPanel, fixedColor, legendRight, percentilesPanel, stackedCountsPanel, steps } from '../lib/panels.js';
import { SLOW_EVENTS_NOTE, slowEvents } from '../lib/slow-events.js';

const S = 'source=~"$source"';

/** 1 = `yes` in green, 0 = `no` in red (`down` / `up` style booleans). */
function upDown(up: string, down: string): DynamicConfigValue[] {
  return [
    { id: 'mappings', value: [{ type: 'value', options: { '0': { text: down, color: 'red', index: 0 }, '1': { text: up, color: 'green', index: 1 } } }] },
    { id: 'custom.cellOptions', value: { type: 'color-text' } },
  ];
}

function stat(title: string, description: string, expr: string, legend: string): StatPanel {
  return new StatPanel()
    .title(title)
    .description(description)
    .withTarget(promInstant(expr, legend))
    .colorMode(common.BigValueColorMode.Background)
    .graphMode(common.BigValueGraphMode.None)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .height(4)
    .span(4);
}

function upStat(title: string, description: string, expr: string): StatPanel {
  return stat(title, description, expr, title)
    .unit('none')
    .mappings([{ type: MappingType.ValueToText, options: { '0': { text: 'DOWN', color: 'red', index: 0 }, '1': { text: 'UP', color: 'green', index: 1 } } }])
    .thresholds(steps({ value: null, color: 'red' }, { value: 1, color: 'green' }))
    .noValue('unknown');
}

/** p50 and p95 of a Koji histogram by method or channel. */
function percentiles(title: string, description: string, metric: string, by: 'method' | 'channel'): TimeseriesPanel {
  return percentilesPanel({ title, description, metric, selector: S, by, w: 12, h: 9 });
}

function hostTable(): TablePanel {
  return new TablePanel()
    .title('Hosts')
    .description(
      'Each builder host: enabled (an admin can disable it), ready (kojid says it takes tasks: false when at capacity, short of disk or not checking in), its task load and capacity. An enabled host that is not ready while its load is below capacity is the one to look at: check kojid on it (journalctl -u kojid) and its disk.',
    )
    .withTarget(promInstant(`max by (source, worker) (buildfarm_koji_host_enabled{${S}})`, '__auto', 'A'))
    .withTarget(promInstant(`max by (source, worker) (buildfarm_koji_host_ready{${S}})`, '__auto', 'B'))
    .withTarget(promInstant(`max by (source, worker) (buildfarm_koji_host_task_load{${S}})`, '__auto', 'C'))
    .withTarget(promInstant(`max by (source, worker) (buildfarm_koji_host_capacity{${S}})`, '__auto', 'D'))
    .withTransformation({ id: 'merge', options: {} })
    .withTransformation({
      id: 'organize',
      options: {
        excludeByName: { Time: true },
        renameByName: { worker: 'host', 'Value #A': 'enabled', 'Value #B': 'ready', 'Value #C': 'load', 'Value #D': 'capacity' },
        indexByName: { source: 0, worker: 1, 'Value #A': 2, 'Value #B': 3, 'Value #C': 4, 'Value #D': 5 },
      },
    })
    .sortBy([new common.TableSortByFieldStateBuilder().displayName('host')])
    .overrideByName('enabled', upDown('yes', 'no'))
    .overrideByName('ready', upDown('yes', 'no'))
    .overrideByName('load', [{ id: 'decimals', value: 2 }])
    .filterable(true)
    .height(9)
    .span(10);
}

export function kojiDashboard(): Dashboard {
  return newDashboard({
    uid: 'buildscope-koji',
    title: 'Koji',
    description: 'Koji hub: hub and database up, tasks by state and method, completions, task duration and queue wait, host readiness and load vs capacity, channels, builds and repo regeneration.',
    tags: ['koji'],
    kind: 'koji',
    plugin: true,
  })
    .withRow(new RowBuilder('Hub'))
    .withPanel(upStat('Hub', 'Whether the Koji hub answered the latest poll in XML-RPC. DOWN: the hub (httpd/mod_wsgi) is not answering; check it and the exporter’s last error on the Exporter health dashboard.', `min(buildfarm_koji_hub_up{${S}})`))
    .withPanel(
      upStat('Database', 'Whether the hub answered without fault 1014 ServerOffline. DOWN while the hub is UP: its PostgreSQL is down or the hub is in lockout; nothing builds until it is back. Unknown while the hub itself does not answer.', `min(buildfarm_koji_database_up{${S}})`),
    )
    .withPanel(
      stat('Last event age', 'Time since the newest event in the hub’s database (tagging, builds, host check-ins). A busy hub moves every few seconds; red for long means nothing happens: kojid hosts are not checking in or the hub is stuck.', `time() - max(buildfarm_koji_last_event_timestamp_seconds{${S}})`, 'age')
        .unit('s')
        .thresholds(steps({ value: null, color: 'green' }, { value: 600, color: 'yellow' }, { value: 3600, color: 'red' })),
    )
    .withPanel(
      stat('Builds in progress', 'Builds in state BUILDING now, as the hub counts them. Many for long with few open tasks means builds waiting on something (a repo regeneration, a stuck task).', `sum(buildfarm_koji_builds_in_progress{${S}})`, 'building')
        .unit('none')
        .colorMode(common.BigValueColorMode.Value)
        .thresholds(steps({ value: null, color: 'blue' })),
    )
    .withPanel(
      stat('Repo queue', 'Active repo regeneration requests (repo.queryQueue). A queue that stays long delays every build waiting for its buildroot: look at the createrepo channel’s hosts. Empty on hubs older than 1.35.', `sum(buildfarm_koji_repo_queue_length{${S}})`, 'repo requests')
        .unit('none')
        .noValue('n/a (hub < 1.35)')
        .thresholds(steps({ value: null, color: 'green' }, { value: 10, color: 'yellow' }, { value: 50, color: 'red' })),
    )
    .withPanel(
      stat('Hosts not ready', 'Enabled hosts that are not ready for tasks. Some are normal at full load; many while tasks wait (FREE) means builders are broken: see the hosts table below.', `sum(buildfarm_koji_host_enabled{${S}} * (1 - buildfarm_koji_host_ready{${S}}))`, 'not ready')
        .unit('none')
        .thresholds(steps({ value: null, color: 'green' }, { value: 1, color: 'yellow' }, { value: 3, color: 'red' })),
    )
    .withRow(new RowBuilder('Tasks'))
    .withPanel(
      stackedCountsPanel({
        title: 'Unfinished tasks by state',
        description: 'FREE tasks wait for a host, ASSIGNED ones were offered to a host, OPEN ones run (the hub’s own counts). FREE growing while OPEN stays flat: the hosts are full or not taking tasks; compare with host load and readiness below.',
        target: prom(`sum by (state) (buildfarm_koji_tasks{${S}})`, '{{state}}'),
        w: 12,
        h: 9,
      })
        .overrideByName('FREE', fixedColor('yellow'))
        .overrideByName('ASSIGNED', fixedColor('orange'))
        .overrideByName('OPEN', fixedColor('blue')),
    )
    .withPanel(
      stackedCountsPanel({
        title: 'Unfinished tasks by method',
        description: 'The same tasks split by method (build, buildArch, newRepo, createrepo, ...; methods outside the source’s list are `other`). A pile of one method (e.g. newRepo) tells which channel is short.',
        target: prom(`sum by (method) (buildfarm_koji_tasks{${S}})`, '{{method}}'),
        w: 12,
        h: 9,
      }),
    )
    .withPanel(
      slowEvents(new TimeseriesPanel())
        .title('Tasks completed by method and result')
        .description(`Tasks seen finishing per minute, by method and result (CLOSED, FAILED, CANCELED). FAILED rising for one method is a broken builder or buildroot; open a failed task on kojiweb (task table on the overview or Explore) and read its logs. ${SLOW_EVENTS_NOTE}`)
        .withTarget(prom(`sum by (method, result) (rate(buildfarm_koji_tasks_completed_total{${S}}[$__rate_interval])) * 60`, '{{method}} {{result}}'))
        .unit('none')
        .axisLabel('tasks / min')
        .min(0)
        .legend(legendRight(['mean', 'max']))
        .overrideByRegexp('.* FAILED', fixedColor('red'))
        .height(9)
        .span(12),
    )
    .withPanel(
      countBarsPanel({
        title: 'Builds completed by result',
        description: 'Builds seen leaving BUILDING per interval: complete, failed, canceled, deleted. Failed builds are the ones packagers notice first; a burst of them at once usually shares one cause (a broken buildroot tag or repo).',
        target: prom(`sum by (result) (increase(buildfarm_koji_builds_completed_total{${S}}[$__rate_interval]))`, '{{result}}'),
        w: 12,
        h: 9,
      })
        .overrideByName('complete', fixedColor('green'))
        .overrideByName('failed', fixedColor('red'))
        .overrideByName('canceled', fixedColor('orange')),
    )
    .withRow(new RowBuilder('Durations'))
    .withPanel(
      percentiles(
        'Task duration by method (p50 / p95)',
        'How long finished tasks ran (start to completion), by method. A method getting slower everywhere points at its buildroots or mirrors; compare with the per-channel view to find slow hosts.',
        'buildfarm_koji_task_duration_seconds',
        'method',
      ),
    )
    .withPanel(
      percentiles(
        'Task duration by channel (p50 / p95)',
        'How long finished tasks ran, by channel. One channel slower than the others with the same methods: its hosts are slower or overloaded (see load vs capacity).',
        'buildfarm_koji_task_duration_seconds',
        'channel',
      ),
    )
    .withPanel(
      percentiles(
        'Queue wait by method (p50 / p95)',
        'How long tasks waited from creation until a host opened them, by method. Waits growing means too little capacity in their channel, or hosts not ready: see the hosts row.',
        'buildfarm_koji_task_queue_wait_seconds',
        'method',
      ),
    )
    .withPanel(
      percentiles(
        'Queue wait by channel (p50 / p95)',
        'How long tasks waited before a host opened them, by channel. A channel with long waits needs more (or working) hosts: compare its load with its capacity below.',
        'buildfarm_koji_task_queue_wait_seconds',
        'channel',
      ),
    )
    .withRow(new RowBuilder('Hosts'))
    .withPanel(hostTable())
    .withPanel(
      new TimeseriesPanel()
        .title('Host load vs capacity')
        .description('Each host’s task load as a share of its capacity (task weight units). Hosts at 100% take no more tasks; all hosts of a channel near 100% while tasks wait means the channel needs more hosts. A host at 0% that is enabled but not ready is broken.')
        .withTarget(prom(`max by (worker) (buildfarm_koji_host_task_load{${S}}) / max by (worker) (buildfarm_koji_host_capacity{${S}} > 0)`, '{{worker}}'))
        .unit('percentunit')
        .min(0)
        .thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed))
        .thresholds(steps({ value: null, color: 'green' }, { value: 1, color: 'red' }))
        .legend(legendRight(['lastNotNull', 'max']))
        .height(9)
        .span(14),
    )
    .withRow(new RowBuilder('Channels'))
    .withPanel(
      new TimeseriesPanel()
        .title('Channel load vs capacity')
        .description('Summed task load of the enabled hosts of each channel (solid) against the summed capacity of those that checked in recently (dashed). Load reaching capacity: the channel is full and its tasks wait; add hosts to it or fix the not-ready ones.')
        .withTarget(prom(`sum by (channel) (buildfarm_koji_channel_load{${S}})`, '{{channel}} load', 'A'))
        .withTarget(prom(`sum by (channel) (buildfarm_koji_channel_capacity{${S}})`, '{{channel}} capacity', 'B'))
        .unit('none')
        .min(0)
        .overrideByQuery('B', [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }])
        .legend(legendRight(['lastNotNull', 'max']))
        .height(9)
        .span(12),
    )
    .withPanel(
      stackedCountsPanel({
        title: 'Channel hosts by state',
        description: 'Hosts of each channel that are ready, not ready (enabled but not taking tasks) or disabled. A channel with no ready host runs nothing: re-enable or repair its hosts.',
        target: prom(`sum by (channel, state) (buildfarm_koji_channel_hosts{${S}})`, '{{channel}} {{state}}'),
        legendCalcs: ['lastNotNull'],
        w: 12,
        h: 9,
      })
        .overrideByRegexp('.* not_ready', fixedColor('orange'))
        .overrideByRegexp('.* disabled', fixedColor('red')),
    )
    .withRow(new RowBuilder('Hosts (exporter)'))
    .withPanel(
      new TablePanel()
        .title('Koji hosts')
        .description('The Koji builder hosts as the exporter holds them (plugin, /api/v1/workers): arches, load, capacity, last check-in and a link to the host on kojiweb. Only Koji sources are shown. A host with an old last seen has stopped checking in: restart kojid on it.')
        .datasource(buildscopeRef)
        .withTarget(buildscope({ queryType: 'workers', source: ['$source'] }))
        .withTransformation({ id: 'filterByValue', options: { type: 'include', match: 'all', filters: [{ fieldName: 'kind', config: { id: 'equal', options: { value: 'koji' } } }] } })
        .filterable(true)
        .height(10)
        .span(24),
    )
    .build();
}
