/**
 * Cuirass (GNU Guix CI): how long the queue is per system, how builds end, which jobs newly fail,
 * and how evaluations go. Prometheus panels read `buildfarm_cuirass_*`; the failed-builds table
 * is the plugin's task list (links to each build's page on Cuirass).
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import { RowBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { CUIRASS_FAILED, CUIRASS_OWN } from '../alerts/recording.js';
import { buildscopeRef } from '../datasources.js';
import { buildscope } from '../lib/buildscope-query.js';
import { newDashboard, prom, promInstant } from '../lib/dashboard.js';
import { countBarsPanel, fixedColor, legendRight, percentilesPanel, stackedCountsPanel, steps } from '../lib/panels.js';
import { SLOW_EVENTS_NOTE, slowEvents } from '../lib/slow-events.js';

const S = 'source=~"$source"';
const COMPLETED = `buildfarm_cuirass_builds_completed_total{${S}}`;
const FAILED = `buildfarm_cuirass_builds_completed_total{${S}, result=~"${CUIRASS_FAILED}"}`;
/** Builds that ended by their own outcome: the denominator of the failure ratios (as in the alert). */
const OWN = `buildfarm_cuirass_builds_completed_total{${S}, result=~"${CUIRASS_OWN}"}`;

function stat(title: string, description: string): StatPanel {
  return new StatPanel()
    .title(title)
    .description(description)
    .colorMode(common.BigValueColorMode.Background)
    .graphMode(common.BigValueGraphMode.Area)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .height(5)
    .span(6);
}

function backlogBySystem(): TimeseriesPanel {
  return stackedCountsPanel({
    title: 'Backlog by system',
    description:
      'Builds in Cuirass’s queue by system (arch) and state: scheduled ones wait for a build machine, started ones run. A scheduled band that only grows means that system has too few machines or its machines stopped taking builds (check `cuirass remote-worker` on them). Cuirass shows at most queue_limit builds, so a flat top may be the cap.',
    target: prom(`sum by (arch, state) (buildfarm_cuirass_pending_builds{${S}})`, '{{arch}} {{state}}'),
    w: 12,
    h: 9,
  });
}

function backlogBySpec(): TimeseriesPanel {
  return new TimeseriesPanel()
    .title('Backlog by specification')
    .description('Queued and running builds per specification (jobset). One specification dominating the queue is usually a fresh evaluation of a big change (e.g. a core-updates merge); it drains as machines build it.')
    .withTarget(prom(`sum by (repo) (buildfarm_cuirass_pending_builds{${S}})`, '{{repo}}'))
    .unit('none')
    .decimals(0)
    .min(0)
    .legend(legendRight(['lastNotNull', 'max']))
    .height(9)
    .span(12);
}

export function cuirassDashboard(): Dashboard {
  return newDashboard({
    uid: 'buildscope-cuirass',
    title: 'Cuirass (Guix CI)',
    description: 'Cuirass builds and evaluations: backlog by system, completion and failure rates, newly failing jobs, evaluation durations and results.',
    tags: ['cuirass', 'guix'],
    kind: 'cuirass',
    plugin: true,
  })
    .withRow(new RowBuilder('Queue'))
    .withPanel(
      stat('Pending builds', 'Builds in the queue now (waiting and running). Yellow/red when it is long: see the backlog by system below for which machines are short.')
        .withTarget(promInstant(`sum(buildfarm_cuirass_pending_builds{${S}})`, 'pending'))
        .unit('none')
        .thresholds(steps({ value: null, color: 'green' }, { value: 500, color: 'yellow' }, { value: 1000, color: 'red' })),
    )
    .withPanel(
      stat('Running builds', 'Builds started on a build machine now. Zero while builds wait means no machine takes work: check the remote workers and the Cuirass daemon.')
        .withTarget(promInstant(`sum(buildfarm_cuirass_pending_builds{${S}, state="started"})`, 'running'))
        .unit('none')
        .colorMode(common.BigValueColorMode.Value)
        .thresholds(steps({ value: null, color: 'blue' })),
    )
    .withPanel(
      stat(
        'Oldest waiting build',
        'How long the oldest build still waiting (submitted or scheduled) in the shown part of the queue has waited. Red past a day: builds of that system or priority are starved. Empty when nothing waits.',
      )
        .withTarget(promInstant(`time() - min(buildfarm_cuirass_oldest_pending_timestamp_seconds{${S}})`, 'oldest'))
        .unit('s')
        .noValue('nothing waits')
        .thresholds(steps({ value: null, color: 'green' }, { value: 6 * 3600, color: 'yellow' }, { value: 86400, color: 'red' })),
    )
    .withPanel(
      stat('Build failure ratio', 'Share of the builds that ended in the time range that failed (failed or failed-other; dependency failures are left out since they follow another failure). Red: look at the failed builds table below.')
        .withTarget(promInstant(`(sum(increase(${FAILED}[$__range])) or vector(0)) / sum(increase(${OWN}[$__range]))`, 'failure ratio'))
        .unit('percentunit')
        .decimals(1)
        .noValue('no builds ended')
        .thresholds(steps({ value: null, color: 'green' }, { value: 0.1, color: 'yellow' }, { value: 0.25, color: 'red' })),
    )
    .withPanel(backlogBySystem())
    .withPanel(backlogBySpec())
    .withRow(new RowBuilder('Builds'))
    .withPanel(
      slowEvents(new TimeseriesPanel())
        .title('Builds completed by result')
        .description(
          `Builds seen finishing per minute, by result. Succeeded should dominate; a rise of failed-dependency follows one failing core package, failed-other is usually a build machine problem (timeouts, out of space). No line at all while the queue is long means nothing finishes. ${SLOW_EVENTS_NOTE}`,
        )
        .withTarget(prom(`sum by (result) (rate(${COMPLETED}[$__rate_interval])) * 60`, '{{result}}'))
        .unit('none')
        .axisLabel('builds / min')
        .min(0)
        .legend(legendRight(['mean', 'max']))
        .overrideByName('succeeded', fixedColor('green'))
        .overrideByName('failed', fixedColor('red'))
        .overrideByName('failed-other', fixedColor('purple'))
        .overrideByName('failed-dependency', fixedColor('orange'))
        .overrideByName('canceled', fixedColor('text'))
        .height(9)
        .span(12),
    )
    .withPanel(
      slowEvents(new TimeseriesPanel())
        .title('Failure ratio by system')
        .description(`Share of finished builds that failed (failed or failed-other, out of succeeded, failed and failed-other; dependency failures and canceled builds are left out, as in the BuildfarmArchFailureRateHigh alert), per system. One system far above the others points at its build machines or at an arch-specific breakage; all systems up together points at a broken commit. ${SLOW_EVENTS_NOTE}`)
        .withTarget(prom(`(sum by (arch) (rate(${FAILED}[$__rate_interval])) or 0 * sum by (arch) (rate(${OWN}[$__rate_interval]))) / sum by (arch) (rate(${OWN}[$__rate_interval]))`, '{{arch}}'))
        .unit('percentunit')
        .min(0)
        .max(1)
        .spanNulls(true)
        .thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed))
        .thresholds(steps({ value: null, color: 'green' }, { value: 0.25, color: 'red' }))
        .legend(legendRight(['mean', 'max']))
        .height(9)
        .span(12),
    )
    .withPanel(
      countBarsPanel({
        title: 'Newly failing jobs by system',
        description:
          'Builds that failed where the job’s previous build succeeded (Cuirass weather new-failure), per interval and system: regressions. Every bar is a job that just broke: find it in the failed builds table and look at the commit of its evaluation. A system whose builds end without new failures shows 0.',
        target: prom(`sum by (arch) (increase(buildfarm_cuirass_new_failures_total{${S}}[$__rate_interval])) or 0 * sum by (arch) (increase(${COMPLETED}[$__rate_interval]))`, '{{arch}}'),
        w: 8,
        h: 9,
      }),
    )
    .withPanel(
      new TablePanel()
        .title('Recently failed builds')
        .description('Builds that ended failed, failed-dependency or failed-other in the time range, newest first (plugin, /api/v1/tasks). The id links to the build on Cuirass, where its log is. Start with plain failed: dependency failures clear when their dependency is fixed.')
        .datasource(buildscopeRef)
        .withTarget(buildscope({ queryType: 'tasks', kind: ['cuirass'], source: ['$source'], state: ['failed', 'failed-dependency', 'failed-other'], sort: 'updated', order: 'desc', limit: 200 }))
        .filterable(true)
        .height(9)
        .span(16),
    )
    .withRow(new RowBuilder('Evaluations'))
    .withPanel(
      percentilesPanel({
        title: 'Evaluation duration (p50 / p95)',
        description:
          'How long evaluations took (evaltime - timestamp, as Cuirass computes it), by specification: median and 95th percentile of those that ended in the interval. Evaluations growing towards the specification’s period pile up; look at the evaluation logs on Cuirass (often a slow channel fetch or a huge derivation graph).',
        metric: 'buildfarm_cuirass_evaluation_duration_seconds',
        selector: S,
        by: 'repo',
        w: 12,
        h: 9,
      }),
    )
    .withPanel(
      countBarsPanel({
        title: 'Evaluation results',
        description:
          'Evaluations seen ending per interval, by result. evaluation-failed means the specification’s channels did not evaluate (a Guix package definition error, or a fetch failure): its builds are not queued until the next good evaluation. Read the evaluation log on Cuirass.',
        target: prom(`sum by (repo, result) (increase(buildfarm_cuirass_evaluation_duration_seconds_count{${S}}[$__rate_interval]))`, '{{repo}} {{result}}'),
        w: 12,
        h: 9,
      })
        .overrideByRegexp('.* evaluation-failed', fixedColor('red'))
        .overrideByRegexp('.* evaluation-aborted', fixedColor('orange')),
    )
    .build();
}
