/**
 * Structural checks over every registered dashboard, as generated (no network): a layout Grafana
 * shows as intended, a description on every panel, targets only on the provisioned datasources'
 * variables, Prometheus queries that follow `$source` and the rate window, plugin queries the
 * plugin keeps as they are, and no reference to a variable the dashboard lacks.
 */
import { describe, expect, it } from 'vitest';
import { migrateQuery } from '../../grafana-plugin/src/migrations.js';
import type { BuildscopeQuery } from '../../grafana-plugin/src/types.js';
import { DASHBOARDS } from '../src/dashboards/index.js';
import { BUILDSCOPE_PLUGIN_ID, BUILDSCOPE_VAR, PROMETHEUS_VAR } from '../src/datasources.js';
import { DASHBOARD_DIR, renderOutputs } from '../src/outputs.js';

interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}
interface Ref {
  type?: string;
  uid?: string;
}
interface Target {
  refId?: string;
  datasource?: Ref;
  expr?: string;
  [key: string]: unknown;
}
interface Panel {
  id?: number;
  type: string;
  title?: string;
  description?: string;
  gridPos?: GridPos;
  datasource?: Ref;
  targets?: Target[];
  collapsed?: boolean;
  panels?: Panel[];
  fieldConfig?: { defaults?: { unit?: string } };
}
interface Variable {
  name: string;
  type: string;
  query?: unknown;
  definition?: string;
  datasource?: Ref;
}
interface DashboardJson {
  uid: string;
  title: string;
  panels?: Panel[];
  templating?: { list?: Variable[] };
}

const outputs = renderOutputs();
const dashboards: { file: string; json: DashboardJson }[] = [...outputs]
  .filter(([path]) => path.startsWith(`${DASHBOARD_DIR}/`))
  .map(([path, content]) => ({ file: path.slice(DASHBOARD_DIR.length + 1), json: JSON.parse(content) as DashboardJson }));

const PROM_UID = `\${${PROMETHEUS_VAR}}`;
const PLUGIN_UID = `\${${BUILDSCOPE_VAR}}`;
/** `$name`, `${name}`, `${name:format}`, `[[name]]`; Grafana's own `$__…` are not dashboard variables. */
const VARIABLE_REF = /\$\{(\w+)(?:[:.][^}]*)?\}|\$(\w+)|\[\[(\w+)(?::[^\]]*)?\]\]/g;

/** Top-level panels and the panels inside collapsed rows. */
function allPanels(d: DashboardJson): Panel[] {
  return (d.panels ?? []).flatMap((p) => [p, ...(p.type === 'row' ? (p.panels ?? []) : [])]);
}

function dataPanels(d: DashboardJson): Panel[] {
  return allPanels(d).filter((p) => p.type !== 'row');
}

function targets(d: DashboardJson): { panel: Panel; target: Target }[] {
  return dataPanels(d).flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel, target })));
}

function isPlugin(t: Target): boolean {
  return t.datasource?.type === BUILDSCOPE_PLUGIN_ID;
}

function variableRefs(text: string): string[] {
  const names: string[] = [];
  for (const m of text.matchAll(VARIABLE_REF)) {
    const name = m[1] ?? m[2] ?? m[3];
    if (name && !name.startsWith('__')) names.push(name);
  }
  return names;
}

/** Every string inside a value (plugin targets keep variables in lists and fields). */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

function overlaps(a: GridPos, b: GridPos): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/** Problems in one layer of the grid (the dashboard's top level, or one collapsed row's panels). */
function layoutProblems(panels: Panel[]): string[] {
  const problems: string[] = [];
  panels.forEach((p, i) => {
    const g = p.gridPos;
    if (!g) return void problems.push(`${p.title}: no gridPos`);
    if (g.x < 0 || g.y < 0 || g.w < 1 || g.h < 1 || g.x + g.w > 24) problems.push(`${p.title}: gridPos ${JSON.stringify(g)} outside the 24 columns`);
    for (const other of panels.slice(i + 1)) {
      if (other.gridPos && overlaps(g, other.gridPos)) problems.push(`${p.title} overlaps ${other.title}`);
    }
  });
  return problems;
}

describe('registered dashboards', () => {
  it('are generated, one file per entry', () => {
    expect(dashboards.map((d) => d.file).sort()).toEqual(DASHBOARDS.map((e) => `${e.uid}.json`).sort());
    expect(dashboards.length).toBeGreaterThan(0);
  });

  it('have unique titles and uids', () => {
    const titles = dashboards.map((d) => d.json.title);
    expect(titles.length).toBe(new Set(titles).size);
    const uids = dashboards.map((d) => d.json.uid);
    expect(uids.length).toBe(new Set(uids).size);
  });
});

describe.each(dashboards)('$file', ({ file, json }) => {
  const variables = new Map((json.templating?.list ?? []).map((v) => [v.name, v]));

  it('uid is the file name', () => {
    expect(`${json.uid}.json`).toBe(file);
  });

  it('has unique panel ids and unique panel titles', () => {
    const panels = allPanels(json);
    const ids = panels.map((p) => p.id);
    expect(ids.every((id) => typeof id === 'number')).toBe(true);
    expect(ids.length).toBe(new Set(ids).size);
    const titles = dataPanels(json).map((p) => p.title);
    const repeated = titles.filter((t, i) => titles.indexOf(t) !== i);
    expect(repeated, 'repeated panel titles').toEqual([]);
  });

  it('lays panels out inside 24 columns without overlaps', () => {
    const top = json.panels ?? [];
    const problems = layoutProblems(top);
    for (const r of top.filter((p) => p.type === 'row' && p.collapsed)) problems.push(...layoutProblems(r.panels ?? []).map((m) => `row ${r.title}: ${m}`));
    expect(problems).toEqual([]);
  });

  it('keeps the panels of expanded rows at the top level (Grafana ignores them inside)', () => {
    const nested = (json.panels ?? []).filter((p) => p.type === 'row' && !p.collapsed && (p.panels ?? []).length > 0).map((p) => p.title);
    expect(nested).toEqual([]);
  });

  it('describes every panel; graphs and stats have a unit or value mappings', () => {
    const undescribed = dataPanels(json).filter((p) => !p.description?.trim()).map((p) => p.title);
    expect(undescribed, 'panels without a description').toEqual([]);
    const unitless = dataPanels(json)
      .filter((p) => p.type === 'timeseries' && !p.fieldConfig?.defaults?.unit)
      .map((p) => p.title);
    expect(unitless, 'time series without a unit').toEqual([]);
  });

  it('queries only the provisioned datasources through their variables', () => {
    const wrong: string[] = [];
    for (const { panel, target } of targets(json)) {
      const ds = target.datasource;
      const ok = (ds?.type === 'prometheus' && ds.uid === PROM_UID) || (ds?.type === BUILDSCOPE_PLUGIN_ID && ds.uid === PLUGIN_UID);
      if (!ok) wrong.push(`${panel.title} ${target.refId}: ${JSON.stringify(ds)}`);
      // A panel without a datasource runs on its targets' one; a panel datasource must agree with them.
      if (panel.datasource && panel.datasource.uid !== ds?.uid) wrong.push(`${panel.title}: panel datasource ${JSON.stringify(panel.datasource)} differs from its target's`);
    }
    expect(wrong).toEqual([]);
  });

  it('filters every Prometheus query by $source and uses Grafana\'s windows', () => {
    const prom = targets(json).filter(({ target }) => !isPlugin(target));
    const unfiltered = prom.filter(({ target }) => !target.expr?.includes('source=~"$source"')).map(({ panel, target }) => `${panel.title} ${target.refId}: ${target.expr}`);
    expect(unfiltered, 'queries without source=~"$source"').toEqual([]);
    const fixed = prom.filter(({ target }) => /\[\d+[smhdwy]\]/.test(target.expr ?? '')).map(({ panel, target }) => `${panel.title}: ${target.expr}`);
    expect(fixed, 'fixed range windows (use $__rate_interval or $__range)').toEqual([]);
  });

  it('holds plugin queries the plugin keeps unchanged', () => {
    for (const { panel, target } of targets(json).filter(({ target }) => isPlugin(target))) {
      const saved = structuredClone(target) as unknown as BuildscopeQuery;
      expect(migrateQuery(structuredClone(saved)), `${panel.title}: migrateQuery changed it`).toEqual(saved);
      // The same query without its version goes through every migration step: it must come out the same, so no field is unknown or malformed.
      const unversioned: Record<string, unknown> = { ...structuredClone(target) };
      delete unversioned.version;
      expect(migrateQuery(unversioned), `${panel.title}: a field the plugin does not know or reads differently`).toEqual(saved);
    }
  });

  it('references only variables it defines', () => {
    const used = new Set<string>();
    for (const { target } of targets(json)) for (const s of strings(target)) for (const name of variableRefs(s)) used.add(name);
    for (const p of dataPanels(json)) for (const name of variableRefs(p.datasource?.uid ?? '')) used.add(name);
    for (const v of variables.values()) for (const s of strings([v.query, v.definition, v.datasource?.uid])) for (const name of variableRefs(s)) used.add(name);
    expect([...used].filter((name) => !variables.has(name))).toEqual([]);
    expect(variables.has('source'), 'the source variable').toBe(true);
  });
});
