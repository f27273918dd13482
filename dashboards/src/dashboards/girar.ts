/**
 * girar (ALT Linux): tasks by repo and state, tasks waiting for maintainer/tester approval
 * (EPERM), the oldest waiting and building tasks, per-arch failures, queue wait and build
 * duration percentiles, a task search and one task's builds and approvals, from the exporter's
 * JSON API.
 */
import { AnnotationQueryBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { GIRAR_BUILT } from '../alerts/recording.js';
import { buildscope } from '../lib/buildscope-query.js';
import { buildscopeRef } from '../datasources.js';
import { newDashboard, prom, promInstant, promVariable, textVariable } from '../lib/dashboard.js';
import { barGaugePanel, markdownPanel, rising, row, statPanel, tablePanel, timeseriesPanel } from '../lib/panels.js';
import { SLOW_EVENTS_NOTE, slowEvents } from '../lib/slow-events.js';

export const UID = 'buildscope-girar';

/** Task families: the kind (the source variable's All is `.*`, which spans every kind), sources and repos chosen. */
const G = 'kind="girar", source=~"$source", repo=~"$repo"';
/** girar's own families carry no `kind` label. */
const GS = 'source=~"$source"';
const WAITING_STATES = 'AWAITING|POSTPONED|PENDING';
const BUILDING_STATES = 'BUILDING|FAILING|COMMITTING';

function quantile(metric: string, q: number, window: string): string {
  return `histogram_quantile(${q}, sum by (repo, le) (rate(${metric}_bucket{${G}}[${window}])))`;
}

/** p50 and p95 of a task histogram by repo, over the rate window (a slow-events panel). */
function repoPercentiles(title: string, description: string, metric: string) {
  return slowEvents(
    timeseriesPanel({
      title,
      description: `${description} ${SLOW_EVENTS_NOTE}`,
      w: 12,
      h: 8,
      unit: 's',
      targets: [prom(quantile(metric, 0.5, '$__rate_interval'), '{{repo}} p50', 'A'), prom(quantile(metric, 0.95, '$__rate_interval'), '{{repo}} p95', 'B')],
    }),
  );
}

/** A plugin tasks table on the selected girar sources and repos, any age. */
function tasksTarget(states: string[]) {
  return buildscope({ queryType: 'tasks', source: ['$source'], kind: ['girar'], repo: ['$repo'], state: states, sort: 'state_since', order: 'asc', limit: 100, useTimeRange: false });
}

function variables(d: ReturnType<typeof newDashboard>): void {
  d.withVariable(
    promVariable('repo', {
      label: 'Repo',
      description: 'girar repositories (branches: sisyphus, p11, ...) with tasks on the selected sources.',
      query: 'label_values(buildfarm_tasks{kind="girar", source=~"$source"}, repo)',
    }),
  )
    .withVariable(
      promVariable('state', {
        label: 'State',
        description: 'Task states for the search table (All = every state, DONE included).',
        query: 'label_values(buildfarm_tasks{kind="girar", source=~"$source"}, state)',
      }),
    )
    .withVariable(textVariable('search', 'Search', 'Full-text task search: space-separated terms, all must match (package, owner, message, id).'))
    .withVariable(
      promVariable('task_source', {
        label: 'Task source',
        description: 'The source of the task shown in the Task detail row.',
        query: 'label_values(buildfarm_source_up{kind="girar"}, source)',
        multi: false,
      }),
    )
    .withVariable(textVariable('task', 'Task id', 'A task id: the Task detail row shows its subtask x arch builds and approvals.'));
}

export function buildGirar(): Dashboard {
  const d = newDashboard({
    uid: UID,
    title: 'girar',
    description: 'ALT Linux girar build farms: tasks by repo and state, EPERM approvals, oldest waiting and building tasks, per-arch failures, queue wait and build duration, task search.',
    tags: ['girar'],
    kind: 'girar',
    plugin: true,
  });
  variables(d);
  // Failed tasks as markers on the time series (the plugin's annotation query: a tasks query whose
  // finished tasks become events at their finish time).
  d.annotation(
    new AnnotationQueryBuilder()
      .name('Failed tasks')
      .datasource(buildscopeRef)
      .enable(true)
      .iconColor('red')
      .target(buildscope({ queryType: 'tasks', kind: ['girar'], source: ['$source'], phase: ['failed'] }, 'Anno')),
  );

  d.withRow(
    row('Tasks by repo and state', [
      statPanel({
        title: 'Waiting',
        description: 'Tasks queued for a builder (AWAITING) or for commit (PENDING), or waiting for other tasks (POSTPONED). Growing for hours: the builders or the commit queue are stuck; see the oldest tasks below.',
        w: 6,
        h: 4,
        unit: 'short',
        targets: [prom(`sum(buildfarm_tasks{${G}, state=~"${WAITING_STATES}"}) or vector(0)`, 'waiting')],
      }),
      statPanel({
        title: 'Building',
        description: 'Tasks building (BUILDING, FAILING) or committing (COMMITTING) now. Zero while tasks wait: the builders are down.',
        w: 6,
        h: 4,
        unit: 'short',
        targets: [prom(`sum(buildfarm_tasks{${G}, state=~"${BUILDING_STATES}"}) or vector(0)`, 'building')],
      }),
      statPanel({
        title: 'Waiting for approval (EPERM)',
        description: 'Built tasks that wait for a maintainer or tester approval (EPERM). They go nowhere until someone approves: the Approvals row lists them, longest waiting first.',
        w: 6,
        h: 4,
        unit: 'short',
        thresholds: rising(20, 50),
        targets: [prom(`sum(buildfarm_tasks{${G}, state="EPERM"}) or vector(0)`, 'EPERM')],
      }),
      statPanel({
        title: 'Commit failures (FAILURE)',
        description: 'Tasks that failed in the commit stage (FAILURE). They need a girar admin: any is red.',
        w: 6,
        h: 4,
        unit: 'short',
        graph: false,
        background: true,
        thresholds: rising(1, 1),
        targets: [prom(`sum(buildfarm_tasks{${G}, state="FAILURE"}) or vector(0)`, 'FAILURE')],
      }),
      timeseriesPanel({
        title: 'Unfinished tasks by repo and state',
        description:
          'Tasks not finished (queued, running or blocked) by repo and state, over time. A band that only widens is a stuck stage: AWAITING = builders, PENDING = commit queue, EPERM = approvals, NEW = owners who never ran their task.',
        w: 14,
        h: 9,
        unit: 'short',
        stack: true,
        targets: [prom(`sum by (repo, state) (buildfarm_tasks{${G}, phase=~"queued|running|blocked"})`, '{{repo}} {{state}}')],
      }),
      tablePanel({
        title: 'Tasks held by repo and state',
        description: 'Tasks the exporter holds now: a row per repo, a column per state (finished states included: taskoteka keeps recent DONE tasks).',
        w: 10,
        h: 9,
        targets: [promInstant(`sum by (repo, state) (buildfarm_tasks{${G}})`)],
        transformations: [{ id: 'groupingToMatrix', options: { columnField: 'state', rowField: 'repo', valueField: 'Value', emptyValue: 'zero' } }],
      }),
      timeseriesPanel({
        title: 'State changes',
        description: 'Task state changes per minute (from -> to) seen between polls: BUILDING -> PENDING is a build that passed, BUILDING -> FAILED one that failed, COMMITTING -> DONE a commit. A flat zero while tasks wait: girar is not moving.',
        w: 24,
        h: 8,
        unit: 'short',
        targets: [prom(`sum by (from_state, to_state) (rate(buildfarm_task_transitions_total{kind="girar", ${GS}}[$__rate_interval])) * 60`, '{{from_state}} -> {{to_state}}')],
      }),
    ]),
  );

  d.withRow(
    row('Approvals (EPERM)', [
      barGaugePanel({
        title: 'Oldest EPERM task by repo',
        description: 'How long the oldest task of each repo has waited for approval. Over a day (orange) or a week (red): ping the maintainers or testers of its packages.',
        w: 8,
        h: 9,
        unit: 's',
        thresholds: rising(86400, 604800),
        targets: [promInstant(`time() - min by (repo) (buildfarm_task_oldest_state_timestamp_seconds{${G}, state="EPERM"})`, '{{repo}}')],
      }),
      tablePanel({
        title: 'Tasks waiting for approval',
        description:
          'EPERM tasks, longest waiting first: owner, repo, message, subtasks and their builds. Click the id for the task\'s girar page, or put it in "Task id" (top bar) to list its approvals in the Task detail row.',
        w: 16,
        h: 9,
        targets: [tasksTarget(['EPERM'])],
        noValue: 'No task waits for approval',
      }),
    ]),
  );

  d.withRow(
    row('Oldest waiting and building', [
      barGaugePanel({
        title: 'Oldest task by repo and state',
        description:
          'Age of the oldest task in each waiting or building state per repo. BUILDING or COMMITTING for hours (red) is a stuck build or commit: check girar for that repo. AWAITING that ages while nothing builds: the builders are down.',
        w: 10,
        h: 10,
        unit: 's',
        thresholds: rising(3600, 14400),
        targets: [promInstant(`time() - min by (repo, state) (buildfarm_task_oldest_state_timestamp_seconds{${G}, state=~"${WAITING_STATES}|${BUILDING_STATES}"})`, '{{repo}} {{state}}')],
      }),
      tablePanel({
        title: 'Oldest waiting and building tasks',
        description: 'Tasks waiting or building, the longest in their state first (state since). The top rows are the ones to look at when the queue does not move.',
        w: 14,
        h: 10,
        targets: [tasksTarget(['AWAITING', 'POSTPONED', 'PENDING', 'BUILDING', 'FAILING', 'COMMITTING'])],
      }),
    ]),
  );

  d.withRow(
    row('Architectures', [
      slowEvents(
        timeseriesPanel({
          title: 'Arch builds failing per minute',
          description: `Subtask x arch builds that turned failed per minute, by arch (girar task updates). One arch far above the others is an arch-specific breakage (toolchain, builder), not a broken package. ${SLOW_EVENTS_NOTE}`,
          w: 12,
          h: 8,
          unit: 'short',
          targets: [prom(`sum by (arch) (rate(buildfarm_girar_arch_results_total{${GS}, status="failed"}[$__rate_interval])) * 60`, '{{arch}}')],
        }),
      ),
      barGaugePanel({
        title: 'Failed share per arch',
        description: 'Failed share of the arch builds that finished in the time range (failed / built or failed; cached, swept and excluded results are not builds, as in the BuildfarmArchFailureRateHigh alert), per arch. Red above 20 %: that arch breaks more than it should.',
        w: 12,
        h: 8,
        unit: 'percentunit',
        min: 0,
        max: 1,
        thresholds: rising(0.1, 0.2),
        targets: [
          promInstant(
            `sum by (arch) (increase(buildfarm_girar_arch_results_total{${GS}, status="failed"}[$__range])) / sum by (arch) (increase(buildfarm_girar_arch_results_total{${GS}, status=~"${GIRAR_BUILT}"}[$__range]))`,
            '{{arch}}',
          ),
        ],
      }),
      tablePanel({
        title: 'Arch builds of the tasks held, by status',
        description: 'Subtask x arch results of the tasks the exporter holds now: a row per arch, a column per status (built, cached, failed, building, excluded, ...). Many failed on one arch: check that arch\'s builders.',
        w: 24,
        h: 7,
        targets: [promInstant(`sum by (arch, status) (buildfarm_girar_subtask_arch_builds{${GS}, repo=~"$repo"})`)],
        transformations: [{ id: 'groupingToMatrix', options: { columnField: 'status', rowField: 'arch', valueField: 'Value', emptyValue: 'zero' } }],
      }),
    ]),
  );

  d.withRow(
    row('Queue wait and duration', [
      repoPercentiles(
        'Queue wait p50 / p95 by repo',
        'How long tasks waited in AWAITING before a builder took them (over the rate window; gaps: no task started). A rising p95 means too few builders for the load.',
        'buildfarm_task_queue_wait_seconds',
      ),
      repoPercentiles(
        'Task duration p50 / p95 by repo',
        'How long tasks took from BUILDING to DONE, TESTED, SWEPT or FAILED (approvals and commit included), over the rate window. A jump in one repo: big rebuilds or a slow builder.',
        'buildfarm_task_duration_seconds',
      ),
      barGaugePanel({
        title: 'Queue wait p95 over the time range',
        description: 'The 95th percentile queue wait per repo over the whole time range (steadier than the graph when few tasks start). Over an hour (red): builders are short.',
        w: 12,
        h: 7,
        unit: 's',
        thresholds: rising(1800, 3600),
        targets: [promInstant(quantile('buildfarm_task_queue_wait_seconds', 0.95, '$__range'), '{{repo}}')],
      }),
      barGaugePanel({
        title: 'Task duration p95 over the time range',
        description: 'The 95th percentile task duration per repo over the whole time range. Over 8 h (red): look for hung builds in the oldest building tasks.',
        w: 12,
        h: 7,
        unit: 's',
        thresholds: rising(7200, 28800),
        targets: [promInstant(quantile('buildfarm_task_duration_seconds', 0.95, '$__range'), '{{repo}}')],
      }),
    ]),
  );

  d.withRow(
    row('Task search', [
      tablePanel({
        title: 'Tasks',
        description:
          'Tasks of the selected sources, repos and states matching the Search box (space-separated terms, all must match: package, owner, message, id), the latest updated first, any age. Empty Search lists every task. Click an id for its girar page.',
        w: 24,
        h: 12,
        targets: [buildscope({ queryType: 'tasks', source: ['$source'], kind: ['girar'], repo: ['$repo'], state: ['$state'], q: '$search', sort: 'updated', order: 'desc', limit: 200, useTimeRange: false })],
        noValue: 'No task matches',
      }),
    ]),
  );

  d.withRow(
    row(
      'Task detail',
      [
        markdownPanel({
          title: 'How to use',
          description: 'What the Task detail row shows and how to choose the task.',
          content: 'Choose **Task source** and type a **Task id** in the top bar (copy it from a table above): the panels below show that task\'s subtask x arch builds and its approvals.',
          w: 24,
          h: 2,
        }),
        tablePanel({
          title: 'Subtask x arch builds',
          description: 'One row per subtask of the chosen task, a column per arch with the build status (coloured by phase). An error here means no task is chosen or the exporter does not hold that id.',
          w: 14,
          h: 9,
          targets: [buildscope({ queryType: 'task', source: '$task_source', id: '$task' })],
        }).frameIndex(0),
        tablePanel({
          title: 'Approvals',
          description: 'Who approved or disapproved each subtask of the chosen task, when, and why. An EPERM task without approvals needs its packages\' maintainers or testers.',
          w: 10,
          h: 9,
          targets: [buildscope({ queryType: 'task', source: '$task_source', id: '$task' })],
        }).frameIndex(1),
      ],
      true,
    ),
  );
  return d.build();
}
