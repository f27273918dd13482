/**
 * Every buildscope alert, once. prometheus.ts renders them as Prometheus alerting rules and
 * grafana.ts as Grafana-managed alert rules; docs/alerts.md has one runbook section per alert
 * (heading = the alert name) and provisioning/prometheus/rules/tests/ a firing and a quiet case for
 * each.
 *
 * To tune a threshold for your farms, change it in THRESHOLDS (or the `for:` of the rule) and run
 * `npm run dashboards`; the unit tests say which cases your change breaks.
 */
import { REC } from './recording.js';
import type { AlertDefinition, RuleGroup } from './types.js';

export const THRESHOLDS = {
  /** Source stale: no successful poll for this many of its poll intervals. */
  staleIntervals: 10,
  /** Task stuck: oldest task building (girar BUILDING/FAILING, APB and Koji builds building) longer than this (s). */
  buildingSeconds: 12 * 3600,
  /** Task stuck: oldest girar task committing longer than this (s). */
  committingSeconds: 3600,
  /** Queue growing: at least this many queued tasks in a repo... */
  queuedTasks: 20,
  /** ...having grown by at least this many over the last hour. */
  queueGrowthPerHour: 10,
  /** Queue wait: p95 over the last hour above this (s)... */
  queueWaitP95Seconds: 2 * 3600,
  /** ...from at least this many tasks that started within the hour. */
  queueWaitMinStarted: 5,
  /** Failure rate: share of finished tasks/builds that failed over the last hour... */
  failureRatio: 0.5,
  /** ...out of at least this many finished per repo... */
  repoMinFinished: 10,
  /** ...or per arch (per-arch results are more numerous: one per subtask and arch). */
  archMinFinished: 20,
  /** Worker disk almost full: used share of its disk. */
  diskUsedRatio: 0.9,
  /** Worker load: 1-minute load average per CPU core. */
  loadPerCore: 1.5,
  /** Cuirass backlog: builds waiting (submitted or scheduled) in the shown queue. */
  cuirassPending: 500,
  /** Cuirass: oldest waiting build created longer ago than this (s). */
  cuirassOldestPendingSeconds: 24 * 3600,
  /**
   * Exporter absent: how long Prometheus remembers an exporter target it scraped. Gone for longer,
   * the alert resolves (it pages every repeat interval until then); a target removed on purpose
   * fires for this long unless silenced.
   */
  exporterMemory: '1d',
} as const;

/** Where the runbook lives; override it in your own copy to point at your docs (see docs/alerts.md). */
export const RUNBOOK_BASE_URL = 'docs/alerts.md';

/** The runbook anchor of an alert: its heading in docs/alerts.md, as Markdown renderers slug it. */
export function runbookAnchor(alert: string): string {
  return alert.toLowerCase();
}

export function runbookUrl(alert: string): string {
  return `${RUNBOOK_BASE_URL}#${runbookAnchor(alert)}`;
}

const T = THRESHOLDS;

const exporter: RuleGroup<AlertDefinition> = {
  name: 'buildscope.exporter',
  interval: '1m',
  rules: [
    {
      alert: 'BuildfarmExporterAbsent',
      // Every exporter target (job, instance) scraped within exporterMemory whose build_info is not
      // there now: the process is gone, its scrapes fail (a failed scrape marks every series of the
      // target stale, so this covers `up == 0` without naming the job), or the target left service
      // discovery. `without (version)`: one alert per target, and an upgrade (new version label) is
      // not an absence.
      expr:
        `max without (version) (max_over_time(buildfarm_exporter_build_info[${T.exporterMemory}]))\n` +
        `unless on (job, instance)\n` +
        `buildfarm_exporter_build_info`,
      for: '5m',
      severity: 'critical',
      summary: 'The buildscope exporter {{ $labels.instance }} ({{ $labels.job }}) is gone: Prometheus scrapes no metrics from it',
      description:
        'Prometheus has had no buildfarm_exporter_build_info from {{ $labels.instance }} (job {{ $labels.job }}) for 5 minutes, after having scraped it: ' +
        'every buildfarm_* series of that exporter is gone, so its other alerts resolved and its panels are blank. ' +
        'Check the exporter process (systemctl status buildscope-exporter, journalctl -u buildscope-exporter), GET /-/healthy on it, ' +
        'the target on Prometheus\'s /targets page (last error) and the network between them; ' +
        'the "Series served" and "Memory" panels of the Exporter health dashboard show when it stopped.',
    },
    {
      alert: 'BuildfarmJournalWriteFailing',
      // A failure within every 5 minutes for 10 minutes: a one-off failure (the next write succeeded) stays quiet.
      expr: 'increase(buildfarm_exporter_journal_write_failures_total[5m]) > 0',
      for: '10m',
      severity: 'warning',
      summary: 'The buildscope exporter {{ $labels.instance }} cannot write its journal',
      description:
        'The journal of {{ $labels.instance }} has failed to write changes for 10 minutes (disk full or an I/O error): the exporter still serves and publishes them, ' +
        'but a restart now would forget them and count them again. ' +
        'The exporter log (journalctl -u buildscope-exporter) says why each write failed; look at the disk holding the journal (df, dmesg) too; ' +
        'docs/journal.md says what the journal keeps.',
    },
  ],
};

const sources: RuleGroup<AlertDefinition> = {
  name: 'buildscope.sources',
  interval: '1m',
  rules: [
    {
      alert: 'BuildfarmSourceDown',
      expr: 'buildfarm_source_consecutive_failures and on (source, kind) (buildfarm_source_up == 0)',
      for: '5m',
      severity: 'warning',
      summary: 'buildscope cannot poll {{ $labels.source }} ({{ $labels.kind }})',
      description:
        'The latest {{ $value }} polls of {{ $labels.source }} failed, so its tasks, workers and jobs are not refreshed. ' +
        'Look at the Exporter health dashboard (poll errors, last success) and GET /api/v1/sources (last_error, endpoints) on the exporter, ' +
        'then at the upstream service itself.',
    },
    {
      alert: 'BuildfarmSourceStale',
      expr: `time() - buildfarm_source_last_success_timestamp_seconds > ${T.staleIntervals} * buildfarm_source_poll_interval_seconds`,
      for: '5m',
      severity: 'critical',
      summary: 'Data of {{ $labels.source }} is {{ $value | humanizeDuration }} old',
      description:
        'No poll of {{ $labels.source }} ({{ $labels.kind }}) succeeded for {{ $value | humanizeDuration }}, over ' +
        `${T.staleIntervals} poll intervals: every panel and alert about it shows old data. ` +
        'Check GET /api/v1/sources (last_error, last_poll, next_poll) and the exporter log; a poll that never ends points at a hanging upstream.',
    },
  ],
};

const tasks: RuleGroup<AlertDefinition> = {
  name: 'buildscope.tasks',
  interval: '1m',
  rules: [
    {
      alert: 'BuildfarmTaskStuck',
      expr:
        `time() - buildfarm_task_oldest_state_timestamp_seconds{state=~"BUILDING|FAILING|building"} > ${T.buildingSeconds}\n` +
        `or\n` +
        `time() - buildfarm_task_oldest_state_timestamp_seconds{state="COMMITTING"} > ${T.committingSeconds}`,
      for: '15m',
      severity: 'warning',
      summary: 'A {{ $labels.repo }} task of {{ $labels.source }} has been {{ $labels.state }} for {{ $value | humanizeDuration }}',
      description:
        'The oldest {{ $labels.state }} task in {{ $labels.source }}/{{ $labels.repo }} entered that state {{ $value | humanizeDuration }} ago. ' +
        'Find it with GET /api/v1/tasks?source={{ $labels.source }}&repo={{ $labels.repo }}&state={{ $labels.state }}&sort=state_since&order=asc ' +
        '(or the "Oldest waiting and building tasks" table of the girar dashboard, the "Current builds" table of APB builders) and read its build log on the upstream.',
    },
    {
      alert: 'BuildfarmQueueGrowing',
      expr: `${REC.queued} > ${T.queuedTasks}\nand\ndelta(${REC.queued}[1h]) > ${T.queueGrowthPerHour}`,
      for: '30m',
      severity: 'warning',
      summary: '{{ $value }} tasks queued in {{ $labels.source }}/{{ $labels.repo }}, and growing',
      description:
        `The queue of {{ $labels.source }}/{{ $labels.repo }} holds {{ $value }} tasks and grew by more than ${T.queueGrowthPerHour} in the last hour: ` +
        'builders are not keeping up or not taking work. Compare queued and running tasks on the Build farms overview dashboard, ' +
        'check the workers (GET /api/v1/workers?source={{ $labels.source }}) and the queued tasks (GET /api/v1/tasks?source={{ $labels.source }}&phase=queued).',
    },
    {
      alert: 'BuildfarmQueueWaitHigh',
      expr: `${REC.queueWaitP95} > ${T.queueWaitP95Seconds}\nand on (source, kind, repo)\n${REC.queueWaitStarted} >= ${T.queueWaitMinStarted}`,
      for: '30m',
      severity: 'warning',
      summary: 'Tasks of {{ $labels.source }}/{{ $labels.repo }} wait {{ $value | humanizeDuration }} (p95) before building',
      description:
        '95 % of the tasks of {{ $labels.source }}/{{ $labels.repo }} that started building in the last hour had waited up to {{ $value | humanizeDuration }} in the queue. ' +
        'See the queue wait percentiles ("Queue wait p50 / p95 by repo" on the girar dashboard, "Queue wait by method (p50 / p95)" on Koji) and the builders ' +
        '(GET /api/v1/workers?source={{ $labels.source }}, "Queue vs capacity" on APB builders): too few, down, or busy with long builds.',
    },
    {
      alert: 'BuildfarmRepoFailureRateHigh',
      expr: `${REC.repoFailedRatio} > ${T.failureRatio}\nand on (source, kind, repo)\n${REC.repoFinished} >= ${T.repoMinFinished}`,
      for: '15m',
      severity: 'warning',
      summary: '{{ $value | humanizePercentage }} of the {{ $labels.repo }} tasks of {{ $labels.source }} failed in the last hour',
      description:
        'Over the last hour {{ $value | humanizePercentage }} of the tasks finished in {{ $labels.source }}/{{ $labels.repo }} failed ' +
        `(at least ${T.repoMinFinished} finished). A broken build environment or dependency fails everything at once: ` +
        'list them with GET /api/v1/tasks?source={{ $labels.source }}&repo={{ $labels.repo }}&phase=failed&sort=updated and read a few build logs; ' +
        'the "Finished tasks by phase" panel of the Build farms overview dashboard shows since when.',
    },
    {
      alert: 'BuildfarmArchFailureRateHigh',
      expr:
        `(${REC.girarArchFailedRatio} > ${T.failureRatio} and on (source, arch) ${REC.girarArchResults} >= ${T.archMinFinished})\n` +
        `or\n` +
        `(${REC.cuirassArchFailedRatio} > ${T.failureRatio} and on (source, arch) ${REC.cuirassArchCompleted} >= ${T.archMinFinished})`,
      for: '15m',
      severity: 'warning',
      summary: '{{ $value | humanizePercentage }} of the {{ $labels.arch }} builds of {{ $labels.source }} failed in the last hour',
      description:
        'Over the last hour {{ $value | humanizePercentage }} of the builds for {{ $labels.arch }} in {{ $labels.source }} failed ' +
        `(at least ${T.archMinFinished}). If only this arch fails, suspect its builders or toolchain; ` +
        'compare the per-arch failure panels (girar / Cuirass dashboards) and list the failures with GET /api/v1/tasks?source={{ $labels.source }}&arch={{ $labels.arch }}&phase=failed.',
    },
  ],
};

const workers: RuleGroup<AlertDefinition> = {
  name: 'buildscope.workers',
  interval: '1m',
  rules: [
    {
      alert: 'BuildfarmApbServerDown',
      expr: 'buildfarm_worker_up{kind="apb"} == 0',
      for: '5m',
      severity: 'warning',
      summary: 'APB build server {{ $labels.worker }} of {{ $labels.source }} is down',
      description:
        'The APB server {{ $labels.worker }} did not answer (or the farm does not list it online) for 5 minutes; its builds wait or are lost. ' +
        'GET /api/v1/workers?source={{ $labels.source }} shows its lastError and lastSeen; the APB builders dashboard shows what it ran. ' +
        'Check the server host and its APB service log.',
    },
    {
      alert: 'BuildfarmWorkerDiskAlmostFull',
      expr: `${REC.workerDiskUsed} > ${T.diskUsedRatio}\nand on (source, kind, worker)\nbuildfarm_worker_up == 1`,
      for: '15m',
      severity: 'warning',
      summary: 'Disk of {{ $labels.worker }} ({{ $labels.source }}) is {{ $value | humanizePercentage }} full',
      description:
        'The build host {{ $labels.worker }} of {{ $labels.source }} has used {{ $value | humanizePercentage }} of its disk; builds fail once it is full. ' +
        'See the disk panel of the APB builders dashboard and GET /api/v1/workers?source={{ $labels.source }} (diskUsedBytes, diskTotalBytes); ' +
        'clean old build roots, caches and logs on the host.',
    },
    {
      alert: 'BuildfarmWorkerLoadHigh',
      expr: `${REC.workerLoadPerCore} > ${T.loadPerCore}\nand on (source, kind, worker)\nbuildfarm_worker_up == 1`,
      for: '30m',
      severity: 'warning',
      summary: 'Load of {{ $labels.worker }} ({{ $labels.source }}) is {{ $value | humanize }} per core',
      description:
        'The 1-minute load average of {{ $labels.worker }} ({{ $labels.source }}) is {{ $value | humanize }} times its CPU cores, ' +
        `and has stayed above ${T.loadPerCore} times for 30 minutes: ` +
        'builds run slower than they should. Compare load and cores, running builds and capacity on the APB builders dashboard; ' +
        'lower max_concurrent_builds or the build parallelism on that host if it keeps happening.',
    },
  ],
};

const karajo: RuleGroup<AlertDefinition> = {
  name: 'buildscope.karajo',
  interval: '1m',
  rules: [
    {
      alert: 'BuildfarmKarajoJobFailed',
      expr: 'buildfarm_karajo_job_status{status="failed"} == 1',
      for: '5m',
      severity: 'warning',
      summary: 'karajo job {{ $labels.karajo_job }} of {{ $labels.source }} failed',
      description:
        'The latest run of the karajo job {{ $labels.karajo_job }} ({{ $labels.source }}) failed; the alert clears when a run succeeds. ' +
        'Read the run log in the karajo web UI (or GET /api/v1/tasks?source={{ $labels.source }}&repo={{ $labels.karajo_job }}&phase=failed on the exporter); ' +
        'the karajo dashboard shows its recent results.',
    },
    {
      alert: 'BuildfarmKarajoJobOverdue',
      expr: 'buildfarm_karajo_job_overdue == 1',
      for: '10m',
      severity: 'warning',
      summary: 'karajo job {{ $labels.karajo_job }} of {{ $labels.source }} is overdue',
      description:
        'The karajo job {{ $labels.karajo_job }} ({{ $labels.source }}) should have run more than one interval ago and is neither paused nor running. ' +
        'GET /api/v1/jobs?source={{ $labels.source }} shows its nextRun and lastRun; check that the karajo server runs and its log for the job.',
    },
  ],
};

const cuirass: RuleGroup<AlertDefinition> = {
  name: 'buildscope.cuirass',
  interval: '1m',
  rules: [
    {
      alert: 'BuildfarmCuirassBacklogHigh',
      expr: `sum by (source) (buildfarm_cuirass_pending_builds{state=~"submitted|scheduled"}) > ${T.cuirassPending}`,
      for: '1h',
      severity: 'info',
      summary: '{{ $value }} Cuirass builds waiting in {{ $labels.source }}',
      description:
        '{{ $value }} builds of {{ $labels.source }} have been waiting (submitted or scheduled) for an hour. ' +
        'See the backlog by system on the Cuirass dashboard: one system growing points at its build machines (cuirass remote-worker offload); ' +
        'all growing at once at a large evaluation.',
    },
    {
      alert: 'BuildfarmCuirassPendingTooOld',
      expr: `time() - buildfarm_cuirass_oldest_pending_timestamp_seconds > ${T.cuirassOldestPendingSeconds}`,
      for: '30m',
      severity: 'warning',
      summary: 'The oldest waiting Cuirass build of {{ $labels.source }} was created {{ $value | humanizeDuration }} ago',
      description:
        'A build of {{ $labels.source }} has been waiting for {{ $value | humanizeDuration }} without being built. ' +
        'Find it with GET /api/v1/tasks?source={{ $labels.source }}&phase=queued&sort=created&order=asc; ' +
        'check the workers that build its system (Cuirass /workers page) and the cuirass remote-server log.',
    },
  ],
};

const koji: RuleGroup<AlertDefinition> = {
  name: 'buildscope.koji',
  interval: '1m',
  rules: [
    {
      alert: 'BuildfarmKojiHostNotReady',
      expr:
        '(buildfarm_koji_host_enabled == 1)\n' +
        'and on (source, worker) (buildfarm_koji_host_ready == 0)\n' +
        'and on (source, worker) (buildfarm_koji_host_task_load < buildfarm_koji_host_capacity)',
      for: '15m',
      severity: 'warning',
      summary: 'Koji host {{ $labels.worker }} of {{ $labels.source }} is enabled but not ready',
      description:
        'The Koji host {{ $labels.worker }} is enabled and below its capacity, yet has not been ready for 15 minutes: kojid is not checking in, or is short of disk. ' +
        'See host readiness on the Koji dashboard and GET /api/v1/workers?source={{ $labels.source }}; check kojid on the host (systemctl status kojid, /var/log/kojid.log).',
    },
    {
      alert: 'BuildfarmKojiDatabaseDown',
      expr: '(buildfarm_koji_database_up == 0)\nand on (source)\n(buildfarm_koji_hub_up == 1)',
      for: '2m',
      severity: 'critical',
      summary: 'The Koji hub of {{ $labels.source }} answers, but its database is down',
      description:
        'The Koji hub of {{ $labels.source }} answers every call with fault 1014 ServerOffline: its database is unreachable, or the hub is in lockout. ' +
        'GET /api/v1/sources shows the fault in the database endpoint; check PostgreSQL and the hub httpd error log.',
    },
    {
      alert: 'BuildfarmKojiHubDown',
      expr: 'buildfarm_koji_hub_up == 0',
      for: '5m',
      severity: 'critical',
      summary: 'The Koji hub of {{ $labels.source }} does not answer',
      description:
        'The Koji hub of {{ $labels.source }} has not answered XML-RPC for 5 minutes: no task can be submitted or taken. ' +
        'GET /api/v1/sources shows last_error; check the hub host, httpd and its error log.',
    },
  ],
};

/** Every alert group, in file order. */
export const ALERT_GROUPS: RuleGroup<AlertDefinition>[] = [exporter, sources, tasks, workers, karajo, cuirass, koji];

export function allAlerts(): AlertDefinition[] {
  return ALERT_GROUPS.flatMap((g) => g.rules);
}
