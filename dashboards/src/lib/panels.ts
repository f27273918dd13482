/**
 * Panel helpers shared by the buildscope dashboards: each takes what differs between panels
 * (title, description, targets, unit, size, thresholds) and sets the rest the same way everywhere,
 * so dashboards read as a list of questions and queries.
 *
 * Sizes are in grid units (24 columns); the dashboard builder places panels left to right, so the
 * widths of a row of panels must add up to 24 (dashboards/test/dashboards.test.ts checks the
 * result for overlaps and overflow).
 */
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import { BarGaugeDisplayMode, BigValueColorMode, BigValueGraphMode, GraphDrawStyle, GraphThresholdsStyleMode, LegendDisplayMode, LegendPlacement, ReduceDataOptionsBuilder, StackingConfigBuilder, StackingMode, VizLegendOptionsBuilder, VizOrientation, GraphThresholdsStyleConfigBuilder, TableSortByFieldStateBuilder, VisibilityMode, type DataSourceRef } from '@grafana/grafana-foundation-sdk/common';
import { MappingType, RowBuilder, ThresholdsConfigBuilder, ThresholdsMode, type DataTransformerConfig, type DynamicConfigValue, type Panel, type Threshold, type ThresholdsConfig, type ValueMapping } from '@grafana/grafana-foundation-sdk/dashboard';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as statetimeline from '@grafana/grafana-foundation-sdk/statetimeline';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as text from '@grafana/grafana-foundation-sdk/text';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { buildscopeRef, prometheusRef } from '../datasources.js';
import { BuildscopeQueryBuilder } from './buildscope-query.js';
import { prom } from './dashboard.js';
import { SLOW_EVENTS_NOTE, slowEvents } from './slow-events.js';

/** A threshold step: the colour from `value` upwards (`null` = the base colour). */
export type Step = [color: string, value: number | null];

/** What every data panel needs. */
export interface PanelSpec {
  title: string;
  /** What the panel answers, and what to do when it turns red. */
  description: string;
  targets: cog.Builder<cog.Dataquery>[];
  /** Grid width (of 24) and height. */
  w: number;
  h: number;
  unit?: string;
  /** Threshold steps, lowest first; the first one's value is ignored (base). */
  thresholds?: Step[];
  min?: number;
  max?: number;
  decimals?: number;
  /** Value mappings (e.g. 1 -> up, 0 -> down). */
  mappings?: ValueMapping[];
  transformations?: DataTransformerConfig[];
  /** Shown when the query returns nothing. */
  noValue?: string;
}

/** Plain green when no thresholds are given: no colour pretends to be a warning. */
const DEFAULT_STEPS: Step[] = [['green', null]];

export function thresholds(list: Step[] = DEFAULT_STEPS): ThresholdsConfigBuilder {
  return steps(...list.map(([color, value], i) => ({ color, value: i === 0 ? null : value })));
}

/** Absolute thresholds from the SDK's own steps, as given (`{ value: null, color: 'green' }` first). */
export function steps(...list: Threshold[]): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(list);
}

/** Green below `warn`, orange from `warn`, red from `crit`. */
export function rising(warn: number, crit: number): Step[] {
  return [['green', null], ['orange', warn], ['red', crit]];
}

/** Red below `crit`, orange below `warn`, green from `warn` (e.g. up, free capacity). */
export function falling(crit: number, warn: number): Step[] {
  return [['red', null], ['orange', crit], ['green', warn]];
}

/** Value mappings for a boolean gauge (1/0), with colours. */
export function boolMappings(one: string, zero: string, oneColor = 'green', zeroColor = 'red'): ValueMapping[] {
  return [{ type: MappingType.ValueToText, options: { '1': { text: one, color: oneColor, index: 0 }, '0': { text: zero, color: zeroColor, index: 1 } } }];
}

/** Value mappings from numbers to words with colours: `[[0, 'healthy', 'green'], ...]`. */
export function valueMappings(entries: [value: number, text: string, color: string][]): ValueMapping[] {
  const options: Record<string, { text: string; color: string; index: number }> = {};
  entries.forEach(([value, label, color], index) => {
    options[String(value)] = { text: label, color, index };
  });
  return [{ type: MappingType.ValueToText, options }];
}

/** The datasource a panel shows: the plugin's when its first target is a plugin query. */
function datasourceOf(targets: cog.Builder<cog.Dataquery>[]): DataSourceRef {
  return targets[0] instanceof BuildscopeQueryBuilder ? buildscopeRef : prometheusRef;
}

/** The setters every panel builder of the SDK has. */
interface CommonBuilder {
  title(title: string): this;
  description(description: string): this;
  datasource(datasource: DataSourceRef): this;
  targets(targets: cog.Builder<cog.Dataquery>[]): this;
  span(w: number): this;
  height(h: number): this;
  unit(unit: string): this;
  thresholds(thresholds: cog.Builder<ThresholdsConfig>): this;
  min(min: number): this;
  max(max: number): this;
  decimals(decimals: number): this;
  mappings(mappings: ValueMapping[]): this;
  transformations(transformations: DataTransformerConfig[]): this;
  noValue(noValue: string): this;
}

function common<B extends CommonBuilder>(builder: B, spec: PanelSpec): B {
  builder
    .title(spec.title)
    .description(spec.description)
    .datasource(datasourceOf(spec.targets))
    .targets(spec.targets)
    .span(spec.w)
    .height(spec.h)
    .thresholds(thresholds(spec.thresholds));
  if (spec.unit !== undefined) builder.unit(spec.unit);
  if (spec.min !== undefined) builder.min(spec.min);
  if (spec.max !== undefined) builder.max(spec.max);
  if (spec.decimals !== undefined) builder.decimals(spec.decimals);
  if (spec.mappings) builder.mappings(spec.mappings);
  if (spec.transformations) builder.transformations(spec.transformations);
  if (spec.noValue !== undefined) builder.noValue(spec.noValue);
  return builder;
}

export interface TimeseriesSpec extends PanelSpec {
  /** Stack the series (counts that add up, e.g. tasks by state). */
  stack?: boolean;
  /** Draw the thresholds as dashed lines (e.g. load = cores). */
  thresholdLines?: boolean;
  /** Legend values (default last and max). */
  legendCalcs?: string[];
}

/** A time series with a table legend (last, max) at the bottom. */
export function timeseriesPanel(spec: TimeseriesSpec): timeseries.PanelBuilder {
  const b = common(new timeseries.PanelBuilder(), spec)
    .fillOpacity(spec.stack ? 60 : 10)
    .lineWidth(1)
    .legend(new VizLegendOptionsBuilder().showLegend(true).displayMode(LegendDisplayMode.Table).placement(LegendPlacement.Bottom).calcs(spec.legendCalcs ?? ['lastNotNull', 'max']));
  if (spec.stack) b.stacking(new StackingConfigBuilder().mode(StackingMode.Normal));
  if (spec.thresholdLines) b.thresholdsStyle(new GraphThresholdsStyleConfigBuilder().mode(GraphThresholdsStyleMode.Dashed));
  return b;
}

export interface StatSpec extends PanelSpec {
  /** Sparkline under the value (default on). */
  graph?: boolean;
  /** Colour the background instead of the value. */
  background?: boolean;
  /** How several series reduce to one value per series (default last). */
  calc?: string;
}

/** One big number per series, coloured by thresholds. */
export function statPanel(spec: StatSpec): stat.PanelBuilder {
  return common(new stat.PanelBuilder(), spec)
    .graphMode(spec.graph === false ? BigValueGraphMode.None : BigValueGraphMode.Area)
    .colorMode(spec.background ? BigValueColorMode.Background : BigValueColorMode.Value)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs([spec.calc ?? 'lastNotNull']).values(false));
}

/** Horizontal bars, one per series, coloured by thresholds (ratios, ages, counts per label). */
export function barGaugePanel(spec: PanelSpec): bargauge.PanelBuilder {
  return common(new bargauge.PanelBuilder(), spec)
    .displayMode(BarGaugeDisplayMode.Basic)
    .orientation(VizOrientation.Horizontal)
    .showUnfilled(true)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
}

export interface TableSpec extends PanelSpec {
  /** Sort by this column (descending unless `asc`). */
  sortBy?: string;
  asc?: boolean;
}

/** A table (instant Prometheus queries in table format, or plugin frames). */
export function tablePanel(spec: TableSpec): table.PanelBuilder {
  const b = common(new table.PanelBuilder(), spec).filterable(true);
  if (spec.sortBy) b.sortBy([new TableSortByFieldStateBuilder().displayName(spec.sortBy).desc(!spec.asc)]);
  return b;
}

/** A state timeline (booleans and small enumerations over time, e.g. up/down, health). */
export function stateTimelinePanel(spec: PanelSpec): statetimeline.PanelBuilder {
  return common(new statetimeline.PanelBuilder(), spec).showValue(VisibilityMode.Never).mergeValues(true).fillOpacity(80);
}

/** A markdown panel (no query; links, explanations). */
export function markdownPanel(o: { title: string; description: string; content: string; w: number; h: number }): text.PanelBuilder {
  return new text.PanelBuilder().title(o.title).description(o.description).mode(text.TextMode.Markdown).content(o.content).span(o.w).height(o.h);
}

/**
 * A row holding panels; `collapsed` rows load their panels only when opened. (The SDK's
 * `withPanel` collapses the row, so the state is set after the panels; finish.ts moves the panels
 * of an expanded row to the top level, where Grafana expects them.)
 */
export function row(title: string, panels: cog.Builder<Panel>[], collapsed = false): RowBuilder {
  const r = new RowBuilder(title);
  for (const p of panels) r.withPanel(p);
  return r.collapsed(collapsed);
}

/*
 * Helpers for dashboards written on the SDK's panel builders directly (Cuirass, Koji, karajo): they
 * return the builder, and the dashboard adds the rest (overrides, thresholds, ...).
 */

/** A table legend right of the graph with these values per series (e.g. `['lastNotNull', 'max']`). */
export function legendRight(calcs: string[]): VizLegendOptionsBuilder {
  return new VizLegendOptionsBuilder().displayMode(LegendDisplayMode.Table).placement(LegendPlacement.Right).calcs(calcs);
}

/** Override properties that draw the matched series in one colour (`.overrideByName('failed', fixedColor('red'))`). */
export function fixedColor(color: string): DynamicConfigValue[] {
  return [{ id: 'color', value: { mode: 'fixed', fixedColor: color } }];
}

export interface SdkPanelSpec {
  title: string;
  description: string;
  target: cog.Builder<cog.Dataquery>;
  /** Grid width (of 24) and height. */
  w: number;
  h: number;
}

export interface StackedCountsSpec extends SdkPanelSpec {
  /** Legend values (default last and max). */
  legendCalcs?: string[];
}

/** Counts held now, stacked as areas (queue by state, hosts by state): whole numbers from 0, legend on the right. */
export function stackedCountsPanel(spec: StackedCountsSpec): timeseries.PanelBuilder {
  return new timeseries.PanelBuilder()
    .title(spec.title)
    .description(spec.description)
    .withTarget(spec.target)
    .unit('none')
    .decimals(0)
    .min(0)
    .fillOpacity(30)
    .stacking(new StackingConfigBuilder().mode(StackingMode.Normal))
    .legend(legendRight(spec.legendCalcs ?? ['lastNotNull', 'max']))
    .height(spec.h)
    .span(spec.w);
}

export interface CountBarsSpec extends SdkPanelSpec {
  /** Start the axis at 0 (default true). */
  fromZero?: boolean;
}

/**
 * Events counted per interval as stacked bars (builds by result, runs by job): whole numbers, a
 * legend on the right with each series' sum over the range. A slow-events panel: the description
 * gets SLOW_EVENTS_NOTE appended.
 */
export function countBarsPanel(spec: CountBarsSpec): timeseries.PanelBuilder {
  const b = slowEvents(new timeseries.PanelBuilder())
    .title(spec.title)
    .description(`${spec.description} ${SLOW_EVENTS_NOTE}`)
    .withTarget(spec.target)
    .unit('none')
    .decimals(0);
  if (spec.fromZero ?? true) b.min(0);
  return b
    .drawStyle(GraphDrawStyle.Bars)
    .fillOpacity(80)
    .stacking(new StackingConfigBuilder().mode(StackingMode.Normal))
    .legend(legendRight(['sum']))
    .height(spec.h)
    .span(spec.w);
}

export interface PercentilesSpec {
  title: string;
  description: string;
  /** The histogram, without `_bucket`. */
  metric: string;
  /** Label matchers for the buckets (e.g. `source=~"$source"`). */
  selector: string;
  /** The label to split by (one p50 and one p95 line per value). */
  by: string;
  w: number;
  h: number;
}

/** p50 and p95 of a histogram by one label, in seconds. A slow-events panel: the description gets SLOW_EVENTS_NOTE appended. */
export function percentilesPanel(spec: PercentilesSpec): timeseries.PanelBuilder {
  const q = (p: number) => `histogram_quantile(${p}, sum by (le, ${spec.by}) (rate(${spec.metric}_bucket{${spec.selector}}[$__rate_interval])))`;
  return slowEvents(new timeseries.PanelBuilder())
    .title(spec.title)
    .description(`${spec.description} ${SLOW_EVENTS_NOTE}`)
    .withTarget(prom(q(0.5), `{{${spec.by}}} p50`, 'A'))
    .withTarget(prom(q(0.95), `{{${spec.by}}} p95`, 'B'))
    .unit('s')
    .min(0)
    .spanNulls(true)
    .legend(legendRight(['mean', 'max']))
    .height(spec.h)
    .span(spec.w);
}
