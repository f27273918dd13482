/**
 * karajo: which scheduled jobs failed, are late or paused, and how their runs went over time.
 * Prometheus panels read the `buildfarm_karajo_*` families; the jobs table at the bottom is the
 * plugin's `/api/v1/jobs` view (descriptions, schedules, links to karajo).
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import { RowBuilder, type Dashboard, type DynamicConfigValue } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { buildscopeRef } from '../datasources.js';
import { buildscope } from '../lib/buildscope-query.js';
import { newDashboard, prom, promInstant } from '../lib/dashboard.js';
import { countBarsPanel, fixedColor, legendRight, percentilesPanel, steps } from '../lib/panels.js';

const S = 'source=~"$source"';

/** 0 = no (green), 1 = yes (in `color`), shown as coloured text in a table cell. */
function yesNo(color: string): DynamicConfigValue[] {
  return [
    { id: 'mappings', value: [{ type: 'value', options: { '0': { text: 'no', color: 'green', index: 0 }, '1': { text: 'yes', color, index: 1 } } }] },
    { id: 'custom.cellOptions', value: { type: 'color-text' } },
  ];
}

const STATUS_COLORS: Record<string, string> = { success: 'green', failed: 'red', canceled: 'orange', paused: 'yellow', running: 'blue', started: 'blue', none: 'text', other: 'purple' };

function countStat(title: string, expr: string, description: string, color: string): StatPanel {
  return new StatPanel()
    .title(title)
    .description(description)
    .withTarget(promInstant(expr, title))
    .unit('none')
    .decimals(0)
    .colorMode(common.BigValueColorMode.Background)
    .graphMode(common.BigValueGraphMode.None)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .thresholds(steps({ value: null, color: 'green' }, { value: 1, color }))
    .noValue('0')
    .height(4)
    .span(6);
}

function statusTable(): TablePanel {
  return new TablePanel()
    .title('Job status')
    .description(
      'One row per karajo job: its current status, whether it is paused or overdue (next run more than one interval late while neither paused nor running), when it last ran and when it runs next. ' +
        'A red status or a yes under overdue needs a look: open the job in karajo (plugin table below) and read its last log; an overdue job usually means karajo stopped scheduling (restart it) or its host clock is wrong.',
    )
    .withTarget(promInstant(`max by (source, karajo_job, status) (buildfarm_karajo_job_status{${S}} == 1)`, '__auto', 'A'))
    .withTarget(promInstant(`max by (source, karajo_job) (buildfarm_karajo_job_paused{${S}})`, '__auto', 'B'))
    .withTarget(promInstant(`max by (source, karajo_job) (buildfarm_karajo_job_overdue{${S}})`, '__auto', 'C'))
    .withTarget(promInstant(`max by (source, karajo_job) (buildfarm_karajo_job_last_run_timestamp_seconds{${S}}) * 1000`, '__auto', 'D'))
    .withTarget(promInstant(`max by (source, karajo_job) (buildfarm_karajo_job_next_run_timestamp_seconds{${S}}) * 1000`, '__auto', 'E'))
    .withTransformation({ id: 'merge', options: {} })
    .withTransformation({
      id: 'organize',
      options: {
        excludeByName: { Time: true, 'Value #A': true },
        renameByName: { karajo_job: 'job', 'Value #B': 'paused', 'Value #C': 'overdue', 'Value #D': 'last run', 'Value #E': 'next run' },
        indexByName: { source: 0, karajo_job: 1, status: 2, 'Value #B': 3, 'Value #C': 4, 'Value #D': 5, 'Value #E': 6 },
      },
    })
    .sortBy([new common.TableSortByFieldStateBuilder().displayName('job')])
    .overrideByName('status', [
      { id: 'mappings', value: [{ type: 'value', options: Object.fromEntries(Object.entries(STATUS_COLORS).map(([k, color], index) => [k, { color, index }])) }] },
      { id: 'custom.cellOptions', value: { type: 'color-text' } },
    ])
    .overrideByName('paused', yesNo('yellow'))
    .overrideByName('overdue', yesNo('red'))
    .overrideByName('last run', [{ id: 'unit', value: 'dateTimeFromNow' }])
    .overrideByName('next run', [{ id: 'unit', value: 'dateTimeFromNow' }])
    .filterable(true)
    .height(9)
    .span(24);
}

export function karajoDashboard(): Dashboard {
  return newDashboard({
    uid: 'buildscope-karajo',
    title: 'karajo jobs',
    description: 'karajo scheduled and HTTP jobs: status, failed / overdue / paused jobs, run results and run durations.',
    tags: ['karajo'],
    kind: 'karajo',
    plugin: true,
  })
    .withRow(new RowBuilder('Jobs now'))
    .withPanel(countStat('Failed jobs', `sum(buildfarm_karajo_job_status{${S}, status="failed"})`, 'Jobs whose latest run failed. Red: open the job below and read its last log in karajo; the job stays failed until a run succeeds.', 'red'))
    .withPanel(
      countStat('Overdue jobs', `sum(buildfarm_karajo_job_overdue{${S}})`, 'Jobs whose next run is more than one interval (plus the grace) in the past while neither paused nor running. Red: karajo is not scheduling them; check that karajo runs and its clock.', 'red'),
    )
    .withPanel(countStat('Paused jobs', `sum(buildfarm_karajo_job_paused{${S}})`, 'Jobs paused in karajo: they skip their ticks until resumed. Yellow is a reminder, not an error: resume them in karajo when the pause is over.', 'yellow'))
    .withPanel(
      new StatPanel()
        .title('Jobs total')
        .description('Jobs karajo lists (exec and http). A drop means jobs left karajo’s configuration.')
        .withTarget(promInstant(`count(buildfarm_karajo_job_paused{${S}})`, 'jobs'))
        .unit('none')
        .colorMode(common.BigValueColorMode.None)
        .graphMode(common.BigValueGraphMode.None)
        .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
        .height(4)
        .span(6),
    )
    .withPanel(statusTable())
    .withRow(new RowBuilder('Runs'))
    .withPanel(
      countBarsPanel({
        title: 'Run results',
        description: 'Runs seen ending per interval, by job and result (paused ticks are not runs). Red bars are failed runs: read that run’s log in karajo. No bars at all for a scheduled job means it has not run (see overdue).',
        target: prom(`sum by (karajo_job, result) (increase(buildfarm_karajo_runs_total{${S}}[$__rate_interval]))`, '{{karajo_job}} {{result}}'),
        fromZero: false,
        w: 12,
        h: 9,
      })
        .overrideByRegexp('.* failed', fixedColor('red'))
        .overrideByRegexp('.* canceled', fixedColor('orange')),
    )
    .withPanel(
      percentilesPanel({
        title: 'Run duration (p50 / p95)',
        description:
          'How long runs took, by job: median and 95th percentile of the runs that ended in the interval (start and end as the exporter saw them, precise to one poll interval). A job getting slower or nearing its interval will soon overlap itself: look at what the job does.',
        metric: 'buildfarm_karajo_run_duration_seconds',
        selector: S,
        by: 'karajo_job',
        w: 12,
        h: 9,
      }),
    )
    .withPanel(
      new TimeseriesPanel()
        .title('Time since last run')
        .description('Seconds since each job’s latest run ended. A line that keeps climbing past the job’s interval is a job that no longer runs: check whether it is paused or overdue above.')
        .withTarget(prom(`time() - max by (karajo_job) (buildfarm_karajo_job_last_run_timestamp_seconds{${S}})`, '{{karajo_job}}'))
        .unit('s')
        .min(0)
        .legend(legendRight(['lastNotNull']))
        .height(8)
        .span(24),
    )
    .withRow(new RowBuilder('Job details (exporter)'))
    .withPanel(
      new TablePanel()
        .title('Jobs (exporter)')
        .description('Every job as the exporter holds it (plugin, /api/v1/jobs): type, schedule or interval, run counter, log retention and a link to the job in karajo. Use it to jump from a red row above to karajo.')
        .datasource(buildscopeRef)
        .withTarget(buildscope({ queryType: 'jobs', source: ['$source'] }))
        .filterable(true)
        .height(10)
        .span(24),
    )
    .build();
}
