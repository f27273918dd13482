/**
 * The alert and recording rules, rendered to the files Prometheus and Grafana load.
 * Definitions: rules.ts (alerts, thresholds) and recording.ts; renderers: prometheus.ts, grafana.ts.
 */
import { renderGrafanaAlerting } from './grafana.js';
import { renderPrometheusRules } from './prometheus.js';

/** Prometheus rule file (alerting and recording rules); provisioning/prometheus/prometheus.yml loads it. */
export const PROMETHEUS_RULES_PATH = 'provisioning/prometheus/rules/buildscope.rules.yml';
/** Grafana-managed alert rules; Grafana reads every file in provisioning/grafana/alerting/. */
export const GRAFANA_ALERTING_PATH = 'provisioning/grafana/alerting/buildscope-alert-rules.yaml';

/** Repo-relative path -> file content. */
export function renderAlertFiles(): Map<string, string> {
  return new Map([
    [PROMETHEUS_RULES_PATH, renderPrometheusRules()],
    [GRAFANA_ALERTING_PATH, renderGrafanaAlerting()],
  ]);
}
