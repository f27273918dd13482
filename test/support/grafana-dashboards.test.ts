import { describe, expect, it } from 'vitest';
import { applyVariableRegex, panelQueries, parseVariableQuery, resolveVariables, type DashboardJson, type VariableJson, type VariableQuery } from './grafana-dashboards.js';
import { builtinVariables, interpolate } from './grafana-vars.js';

const PROM = { type: 'prometheus', uid: '${prometheus}' };
const PLUGIN = { type: 'buildscope-buildfarm-datasource', uid: '${buildscope}' };

describe('panelQueries', () => {
  const dashboard: DashboardJson = {
    uid: 'd1',
    panels: [
      { id: 1, title: 'Up', type: 'stat', datasource: PROM, targets: [{ refId: 'A', expr: 'up', instant: true, range: false }] },
      { id: 2, title: 'Rates', type: 'timeseries', datasource: PROM, targets: [{ refId: 'A', expr: 'rate(x[1m])' }, { refId: 'B', expr: 'hidden', hide: true }] },
      {
        id: 3,
        title: 'Details',
        type: 'row',
        panels: [
          { id: 4, title: 'Both', type: 'timeseries', targets: [{ refId: 'A', datasource: PROM, expr: 'y', instant: true, range: true }] },
          { id: 5, title: 'Tasks', type: 'table', datasource: PLUGIN, targets: [{ refId: 'A' }] },
          { id: 6, title: '', type: 'timeseries', datasource: { type: 'datasource', uid: '-- Mixed --' }, targets: [{ refId: 'A', datasource: PROM }, { refId: 'B', datasource: PLUGIN }] },
        ],
      },
      { id: 7, title: 'Text', type: 'text' },
      { id: 8, title: 'Slow', type: 'timeseries', datasource: PROM, interval: '10m', maxDataPoints: 300, targets: [{ refId: 'A', expr: 'rate(z[$__rate_interval])' }] },
      { id: 9, title: 'Unset', type: 'timeseries', datasource: PROM, interval: '', maxDataPoints: null, targets: [{ refId: 'A', expr: 'w' }] },
    ],
  };

  it('lists every Prometheus target with its panel\'s interval settings, rows included, hidden and plugin targets left out', () => {
    expect(panelQueries(dashboard)).toEqual([
      { dashboard: 'd1', panel: 'Up', refId: 'A', expr: 'up', kind: 'instant' },
      { dashboard: 'd1', panel: 'Rates', refId: 'A', expr: 'rate(x[1m])', kind: 'range' },
      { dashboard: 'd1', panel: 'Details › Both', refId: 'A', expr: 'y', kind: 'instant' },
      { dashboard: 'd1', panel: 'Details › Both', refId: 'A', expr: 'y', kind: 'range' },
      // A Prometheus target without an expression is listed, so the test reports it.
      { dashboard: 'd1', panel: 'Details › panel #6 (timeseries)', refId: 'A', expr: '', kind: 'range' },
      // The panel's min interval and max data points come along (for $__interval / $__rate_interval); empty ones do not.
      { dashboard: 'd1', panel: 'Slow', refId: 'A', expr: 'rate(z[$__rate_interval])', kind: 'range', minInterval: '10m', maxDataPoints: 300 },
      { dashboard: 'd1', panel: 'Unset', refId: 'A', expr: 'w', kind: 'range' },
    ]);
  });
});

describe('parseVariableQuery', () => {
  it('reads the classic Prometheus variable functions', () => {
    expect(parseVariableQuery('label_values(buildfarm_source_up{kind="girar", x=~"a,b"}, source)')).toEqual({ fn: 'label_values', label: 'source', match: 'buildfarm_source_up{kind="girar", x=~"a,b"}' });
    expect(parseVariableQuery(' label_values( source ) ')).toEqual({ fn: 'label_values', label: 'source' });
    expect(parseVariableQuery('label_names()')).toEqual({ fn: 'label_names' });
    expect(parseVariableQuery('metrics(buildfarm_.*)')).toEqual({ fn: 'metrics', regex: 'buildfarm_.*' });
    expect(parseVariableQuery('query_result(topk(3, up))')).toEqual({ fn: 'query_result', expr: 'topk(3, up)' });
    expect(() => parseVariableQuery('up')).toThrow(/not a Prometheus variable query/);
    expect(() => parseVariableQuery('series(up)')).toThrow(/unsupported/);
  });
});

describe('applyVariableRegex', () => {
  it('filters and extracts like Grafana', () => {
    expect(applyVariableRegex(['a1', 'b2', 'a3'], '/^a(\\d)$/')).toEqual(['1', '3']);
    expect(applyVariableRegex(['a1', 'b2'], 'b')).toEqual(['b']);
    expect(applyVariableRegex(['a1', 'b2'], '/(?<value>\\d)/')).toEqual(['1', '2']);
    expect(applyVariableRegex(['a', 'b'], '')).toEqual(['a', 'b']);
  });
});

describe('resolveVariables', () => {
  const base = builtinVariables({ rateInterval: '1m', interval: '15s', rangeSeconds: 300 });
  const seen: VariableQuery[] = [];
  const lookup = async (q: VariableQuery): Promise<string[]> => {
    seen.push(q);
    if (q.fn === 'label_values' && q.label === 'source') return ['demo-girar', 'demo-apb'];
    if (q.fn === 'label_values' && q.label === 'repo') return ['p10', 'p11', 'sisyphus'];
    return [];
  };
  const vars: VariableJson[] = [
    { name: 'prometheus', type: 'datasource', query: 'prometheus', current: { value: 'buildscope-prometheus' } },
    { name: 'source', type: 'query', datasource: PROM, query: { query: 'label_values(buildfarm_source_up, source)' }, includeAll: true, multi: true, allValue: '.*', current: { value: ['$__all'] } },
    { name: 'repo', type: 'query', datasource: PROM, definition: 'label_values(buildfarm_tasks{source=~"$source"}, repo)', current: { value: 'p11' } },
    { name: 'first', type: 'query', datasource: PROM, query: 'label_values(repo)', current: { value: 'gone' } },
    { name: 'everyRepo', type: 'query', datasource: PROM, query: 'label_values(repo)', includeAll: true, current: { value: '$__all' } },
    { name: 'empty', type: 'query', datasource: PROM, query: 'label_values(nothing)' },
    { name: 'q', type: 'custom', query: '50th : 0.5,99th : 0.99', current: { value: '0.99' } },
    { name: 'limit', type: 'textbox', query: '10', current: { value: '' } },
    { name: 'k', type: 'constant', query: '3' },
    { name: 'step', type: 'interval', query: '1m,5m', current: { value: '5m' } },
  ];

  it('gives each variable the value Grafana would load with', async () => {
    const { values, resolved } = await resolveVariables(vars, base, lookup);
    const expr = interpolate('x{source=~"$source",repo="$repo",r=~"$first|$everyRepo"} > $limit * $k + ${q} [$step]', values);
    expect(expr).toBe('x{source=~".*",repo="p11",r=~"p10|(p10|p11|sisyphus)"} >  * 3 + 0.99 [5m]');
    // The later variable's query saw the earlier one's value.
    expect(seen).toContainEqual({ fn: 'label_values', label: 'repo', match: 'buildfarm_tasks{source=~".*"}' });
    expect(resolved.find((r) => r.name === 'repo')).toMatchObject({ query: 'label_values(buildfarm_tasks{source=~".*"}, repo)', found: ['p10', 'p11', 'sisyphus'] });
    expect(resolved.find((r) => r.name === 'empty')).toMatchObject({ problem: 'its query returned no values' });
    expect(values.get('prometheus')).toEqual({ values: ['buildscope-prometheus'] });
  });
});
