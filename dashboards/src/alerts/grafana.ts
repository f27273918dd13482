/**
 * Renders the alert definitions as Grafana-managed alert rules in Grafana's file-provisioning
 * format (provisioning/alerting/*.yaml: apiVersion 1, groups[] of rules), querying the provisioned
 * Prometheus datasource.
 *
 * Each rule is converted the way Grafana itself imports a Prometheus rule: query A runs the PromQL
 * expression as an instant query; math expression B, `is_number($A) || is_nan($A) || is_inf($A)`,
 * is 1 for every series A returns and is the condition, so every returned series is an alert
 * instance, as in Prometheus. No data means nothing fires (noDataState OK); a failing query is an
 * error state. Recording rules stay in Prometheus: Grafana-managed recording rules need a feature
 * flag and a remote-write target, and the alerts read the series Prometheus records.
 *
 * Templates: Grafana's `$value` is the text of every query and expression value, so the
 * Prometheus `$value` becomes `$values.A.Value` (the number query A returned); `$labels` and the
 * humanize functions are the same in both.
 */
import { PROMETHEUS_UID } from '../datasources.js';
import { alertAnnotations, alertLabels, renderYaml } from './prometheus.js';
import { ALERT_GROUPS } from './rules.js';
import type { AlertDefinition } from './types.js';

export const GRAFANA_FOLDER = 'buildscope';
export const GRAFANA_ORG_ID = 1;
/** Grafana's uid of the server-side expression "datasource". */
export const EXPRESSION_UID = '__expr__';
export const QUERY_REF = 'A';
export const CONDITION_REF = 'B';
/** Seconds of data query A may look at (Grafana's default for imported Prometheus rules). */
export const QUERY_RANGE_SECONDS = 600;
const UID_PREFIX = 'buildscope-';
export const MAX_UID_LENGTH = 40;

export interface GrafanaAlertQuery {
  refId: string;
  relativeTimeRange?: { from: number; to: number };
  datasourceUid: string;
  model: Record<string, unknown>;
}

export interface GrafanaAlertRule {
  uid: string;
  title: string;
  condition: string;
  data: GrafanaAlertQuery[];
  noDataState: 'OK' | 'NoData' | 'Alerting';
  execErrState: 'Error' | 'Alerting' | 'OK';
  for: string;
  annotations: Record<string, string>;
  labels: Record<string, string>;
  isPaused: boolean;
}

export interface GrafanaRuleGroup {
  orgId: number;
  name: string;
  folder: string;
  interval: string;
  rules: GrafanaAlertRule[];
}

export interface GrafanaAlertingFile {
  apiVersion: 1;
  groups: GrafanaRuleGroup[];
}

/** Stable uid: `buildscope-` and the alert name in kebab case without its `Buildfarm` prefix. */
export function grafanaUid(alert: string): string {
  const kebab = alert
    .replace(/^Buildfarm/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase();
  const uid = `${UID_PREFIX}${kebab}`;
  if (uid.length > MAX_UID_LENGTH || !/^[a-z0-9-]+$/.test(uid)) throw new Error(`alert ${alert}: Grafana uid ${uid} is longer than ${MAX_UID_LENGTH} or not [a-z0-9-]`);
  return uid;
}

/** A Prometheus annotation template as Grafana reads it. */
export function grafanaTemplate(text: string): string {
  return text.replace(/\$value\b(?!s)/g, `$values.${QUERY_REF}.Value`);
}

export function grafanaRule(a: AlertDefinition): GrafanaAlertRule {
  const annotations = Object.fromEntries(Object.entries(alertAnnotations(a)).map(([k, v]) => [k, grafanaTemplate(v)]));
  return {
    uid: grafanaUid(a.alert),
    title: a.alert,
    condition: CONDITION_REF,
    data: [
      {
        refId: QUERY_REF,
        relativeTimeRange: { from: QUERY_RANGE_SECONDS, to: 0 },
        datasourceUid: PROMETHEUS_UID,
        model: { refId: QUERY_REF, datasource: { type: 'prometheus', uid: PROMETHEUS_UID }, expr: a.expr, instant: true, range: false },
      },
      {
        refId: CONDITION_REF,
        datasourceUid: EXPRESSION_UID,
        model: {
          refId: CONDITION_REF,
          datasource: { type: '__expr__', uid: EXPRESSION_UID },
          type: 'math',
          expression: `is_number($${QUERY_REF}) || is_nan($${QUERY_REF}) || is_inf($${QUERY_REF})`,
        },
      },
    ],
    noDataState: 'OK',
    execErrState: 'Error',
    for: a.for,
    annotations,
    labels: alertLabels(a),
    isPaused: false,
  };
}

export function grafanaAlertingFile(): GrafanaAlertingFile {
  return {
    apiVersion: 1,
    groups: ALERT_GROUPS.map((g) => ({ orgId: GRAFANA_ORG_ID, name: g.name, folder: GRAFANA_FOLDER, interval: g.interval, rules: g.rules.map(grafanaRule) })),
  };
}

export function renderGrafanaAlerting(): string {
  return renderYaml(grafanaAlertingFile());
}
