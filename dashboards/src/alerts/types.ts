/**
 * The shape of one alert or recording rule as buildscope defines it. Each definition is rendered
 * twice (prometheus.ts, grafana.ts), so the Prometheus rules and the Grafana-managed rules can
 * only differ where the two formats must.
 */

export type Severity = 'critical' | 'warning' | 'info';

/** A Prometheus duration as rule files write it: `30s`, `5m`, `1h`. */
export type Duration = `${number}${'s' | 'm' | 'h' | 'd'}`;

export interface AlertDefinition {
  /** Alert name (Prometheus `alert`, Grafana `title`); also the runbook heading in docs/alerts.md. */
  alert: string;
  /** PromQL; every series it returns is one firing (or pending) alert. */
  expr: string;
  /** How long the expression must hold before the alert fires. */
  for: Duration;
  severity: Severity;
  /** One line; Prometheus template syntax (`{{ $labels.source }}`, `{{ $value | humanize }}`). */
  summary: string;
  /** What it means and where to look (dashboard panel, exporter API, upstream log); template syntax. */
  description: string;
}

export interface RecordingDefinition {
  /** `level:metric:operations`, e.g. `source_kind_repo:buildfarm_tasks_failed:ratio_rate1h`. */
  record: string;
  expr: string;
}

export interface RuleGroup<R> {
  /** Group name, shared by the Prometheus group and the Grafana rule group. */
  name: string;
  /** Evaluation interval of the group. */
  interval: Duration;
  rules: R[];
}
