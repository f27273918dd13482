/**
 * What every buildscope dashboard shares: the datasource variables (defaulting to the provisioned
 * uids), a `source` variable, links to the other buildscope dashboards, time range and refresh.
 */
import { DashboardBuilder, DashboardCursorSync, DashboardLinkBuilder, DashboardLinkType, DatasourceVariableBuilder, QueryVariableBuilder, TextBoxVariableBuilder, VariableHide, VariableRefresh, VariableSort } from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import { BUILDSCOPE_PLUGIN_ID, BUILDSCOPE_UID, BUILDSCOPE_VAR, PROMETHEUS_UID, PROMETHEUS_VAR, prometheusRef } from '../datasources.js';

/** Tag on every buildscope dashboard; the dashboard links menu lists them by it. */
export const TAG = 'buildscope';

export interface DashboardOptions {
  uid: string;
  title: string;
  description: string;
  tags?: string[];
  /** The build-system kind the `source` variable lists (`girar`, `apb`, …); absent = every source. */
  kind?: string;
  /** Add the plugin datasource variable (dashboards with task tables, events or annotations). */
  plugin?: boolean;
  /** Default time range start (default now-6h). */
  from?: string;
  /** Extra link buttons in the top bar (e.g. the per-kind dashboards), keeping the time range. */
  links?: { title: string; url: string; tooltip?: string }[];
}

/** A dashboard with the shared variables, links and settings; add panels and rows to it. */
export function newDashboard(o: DashboardOptions): DashboardBuilder {
  const b = new DashboardBuilder(o.title)
    .uid(o.uid)
    .description(o.description)
    .tags([TAG, ...(o.tags ?? [])])
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .refresh('30s')
    .time({ from: o.from ?? 'now-6h', to: 'now' })
    .timezone('browser')
    .link(new DashboardLinkBuilder('Build farm dashboards').type(DashboardLinkType.Dashboards).tags([TAG]).asDropdown(true).includeVars(true).keepTime(true))
    .withVariable(
      new DatasourceVariableBuilder(PROMETHEUS_VAR)
        .label('Prometheus')
        .type('prometheus')
        .current({ selected: true, text: 'Prometheus (buildscope)', value: PROMETHEUS_UID }),
    );
  for (const l of o.links ?? []) {
    b.link(new DashboardLinkBuilder(l.title).type(DashboardLinkType.Link).url(l.url).tooltip(l.tooltip ?? '').icon('dashboard').keepTime(true));
  }
  if (o.plugin) {
    b.withVariable(
      new DatasourceVariableBuilder(BUILDSCOPE_VAR)
        .label('Exporter')
        .type(BUILDSCOPE_PLUGIN_ID)
        .current({ selected: true, text: 'buildscope exporter', value: BUILDSCOPE_UID }),
    );
  }
  const selector = o.kind ? `buildfarm_source_up{kind="${o.kind}"}` : 'buildfarm_source_up';
  b.withVariable(
    new QueryVariableBuilder('source')
      .label('Source')
      .description('Configured source instances (the exporter config `sources[].name`).')
      .datasource(prometheusRef)
      .query({ qryType: 1, query: `label_values(${selector}, source)`, refId: 'PrometheusVariableQueryEditor-VariableQuery' })
      .definition(`label_values(${selector}, source)`)
      .refresh(VariableRefresh.OnTimeRangeChanged)
      .sort(VariableSort.AlphabeticalAsc)
      .multi(true)
      .includeAll(true)
      .allValue('.*')
      .current({ selected: true, text: ['All'], value: ['$__all'] })
      .hide(VariableHide.DontHide),
  );
  return b;
}

/** A Prometheus target on the dashboard's `$prometheus` datasource. */
export function prom(expr: string, legend = '__auto', refId = 'A'): DataqueryBuilder {
  return new DataqueryBuilder().datasource(prometheusRef).expr(expr).legendFormat(legend).refId(refId);
}

/** An instant Prometheus target (tables, stats, bar gauges). */
export function promInstant(expr: string, legend = '__auto', refId = 'A'): DataqueryBuilder {
  return prom(expr, legend, refId).instant().format(PromQueryFormat.Table);
}

export interface PromVariableOptions {
  label: string;
  description: string;
  /** A `label_values(...)` (or other) Prometheus variable query. */
  query: string;
  /** Offer several values and All (`.*`); default true. */
  multi?: boolean;
}

/** A variable listing values from the dashboard's Prometheus (refreshed with the time range). */
export function promVariable(name: string, o: PromVariableOptions): QueryVariableBuilder {
  const multi = o.multi ?? true;
  const v = new QueryVariableBuilder(name)
    .label(o.label)
    .description(o.description)
    .datasource(prometheusRef)
    .query({ qryType: 1, query: o.query, refId: 'PrometheusVariableQueryEditor-VariableQuery' })
    .definition(o.query)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(multi)
    .includeAll(multi)
    .hide(VariableHide.DontHide);
  if (multi) v.allValue('.*').current({ selected: true, text: ['All'], value: ['$__all'] });
  return v;
}

/** A free-text variable (search terms, a task id); empty by default. */
export function textVariable(name: string, label: string, description: string): TextBoxVariableBuilder {
  return new TextBoxVariableBuilder(name).label(label).description(description).defaultValue('').current({ selected: false, text: '', value: '' });
}

/**
 * Scopes an exporter self-metric (no `source` label: `buildfarm_exporter_*`, `process_*`,
 * `nodejs_*`) to the exporters that serve the selected sources, so several exporters behind one
 * Prometheus are told apart and every query still follows `$source`.
 */
export function ofSelectedExporters(expr: string): string {
  return `(${expr}) and on (instance, job) buildfarm_source_up{source=~"$source"}`;
}
