/**
 * Recording rules: the aggregations the alerts (and dashboards) would otherwise recompute on every
 * evaluation over an hour of samples. Named `level:metric:operations` (Prometheus's convention):
 * the labels kept, the metric, and what was done to it.
 *
 * Ratios keep a series at 0 when nothing failed (`... or <denominator> * 0`), so a dashboard shows
 * 0 % rather than no data; the alerts pair each ratio with a minimum volume (the `:increase1h`
 * rules) so one failure out of two does not fire.
 */
import type { RecordingDefinition, RuleGroup } from './types.js';

/** Recorded series names, for the alert expressions and for dashboards that want them. */
export const REC = {
  queued: 'source_kind_repo:buildfarm_tasks_queued:sum',
  queueWaitP95: 'source_kind_repo:buildfarm_task_queue_wait_seconds:p95_rate1h',
  queueWaitStarted: 'source_kind_repo:buildfarm_task_queue_wait_seconds_count:increase1h',
  repoFinished: 'source_kind_repo:buildfarm_tasks_finished:increase1h',
  repoFailedRatio: 'source_kind_repo:buildfarm_tasks_failed:ratio_rate1h',
  girarArchResults: 'source_arch:buildfarm_girar_arch_results:increase1h',
  girarArchFailedRatio: 'source_arch:buildfarm_girar_arch_results_failed:ratio_rate1h',
  cuirassArchCompleted: 'source_arch:buildfarm_cuirass_builds_completed:increase1h',
  cuirassArchFailedRatio: 'source_arch:buildfarm_cuirass_builds_failed:ratio_rate1h',
  workerDiskUsed: 'source_kind_worker:buildfarm_worker_disk_used:ratio',
  workerLoadPerCore: 'source_kind_worker:buildfarm_worker_load1_per_core:ratio',
} as const;

/**
 * girar per-arch results that are a build (not `cached`, `excluded`, `swept`, still running...).
 * The failure panels of the dashboards use the same sets, so they show what the alerts measure.
 */
export const GIRAR_BUILT = 'built|failed';
/** Cuirass results that are this build's own outcome (a failed dependency is someone else's). */
export const CUIRASS_OWN = 'succeeded|failed|failed-other';
export const CUIRASS_FAILED = 'failed|failed-other';

function ratio(by: string, metric: string, failed: string, all: string): string {
  const num = `sum by (${by}) (rate(${metric}{${failed}}[1h]))`;
  const den = `sum by (${by}) (rate(${metric}{${all}}[1h]))`;
  return `(${num} or ${den} * 0)\n/\n${den}`;
}

export const RECORDING_GROUP: RuleGroup<RecordingDefinition> = {
  name: 'buildscope.recording',
  interval: '1m',
  rules: [
    { record: REC.queued, expr: 'sum by (source, kind, repo) (buildfarm_tasks{phase="queued"})' },
    { record: REC.queueWaitP95, expr: 'histogram_quantile(0.95, sum by (source, kind, repo, le) (rate(buildfarm_task_queue_wait_seconds_bucket[1h])))' },
    { record: REC.queueWaitStarted, expr: 'sum by (source, kind, repo) (increase(buildfarm_task_queue_wait_seconds_count[1h]))' },
    { record: REC.repoFinished, expr: 'sum by (source, kind, repo) (increase(buildfarm_tasks_finished_total{phase=~"success|failed"}[1h]))' },
    { record: REC.repoFailedRatio, expr: ratio('source, kind, repo', 'buildfarm_tasks_finished_total', 'phase="failed"', 'phase=~"success|failed"') },
    { record: REC.girarArchResults, expr: `sum by (source, arch) (increase(buildfarm_girar_arch_results_total{status=~"${GIRAR_BUILT}"}[1h]))` },
    { record: REC.girarArchFailedRatio, expr: ratio('source, arch', 'buildfarm_girar_arch_results_total', 'status="failed"', `status=~"${GIRAR_BUILT}"`) },
    { record: REC.cuirassArchCompleted, expr: `sum by (source, arch) (increase(buildfarm_cuirass_builds_completed_total{result=~"${CUIRASS_OWN}"}[1h]))` },
    { record: REC.cuirassArchFailedRatio, expr: ratio('source, arch', 'buildfarm_cuirass_builds_completed_total', `result=~"${CUIRASS_FAILED}"`, `result=~"${CUIRASS_OWN}"`) },
    { record: REC.workerDiskUsed, expr: 'buildfarm_worker_disk_used_bytes / (buildfarm_worker_disk_total_bytes > 0)' },
    { record: REC.workerLoadPerCore, expr: 'buildfarm_worker_load1 / (buildfarm_worker_cpu_cores > 0)' },
  ],
};
