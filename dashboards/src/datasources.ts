/**
 * The datasources every dashboard and alert rule refers to. The provisioning files
 * (provisioning/grafana/datasources/buildscope.yaml) create them with these fixed uids, so
 * dashboards imported into a provisioned Grafana work without editing; the dashboards still pick
 * them through variables (`$prometheus`, `$buildscope`), defaulting to these uids, so a user with
 * other datasources chooses theirs from the dashboard's top bar.
 */
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';

/** uid of the provisioned Prometheus datasource (scraping the exporter). */
export const PROMETHEUS_UID = 'buildscope-prometheus';
/** uid of the provisioned buildscope plugin datasource (the exporter's JSON API). */
export const BUILDSCOPE_UID = 'buildscope-exporter';
/** The plugin's id (grafana-plugin/src/plugin.json). */
export const BUILDSCOPE_PLUGIN_ID = 'buildscope-buildfarm-datasource';

/** Dashboard variable names holding the datasources. */
export const PROMETHEUS_VAR = 'prometheus';
export const BUILDSCOPE_VAR = 'buildscope';

/** What panels and targets reference: the variable, so the user's choice applies. */
export const prometheusRef: DataSourceRef = { type: 'prometheus', uid: `\${${PROMETHEUS_VAR}}` };
export const buildscopeRef: DataSourceRef = { type: BUILDSCOPE_PLUGIN_ID, uid: `\${${BUILDSCOPE_VAR}}` };
