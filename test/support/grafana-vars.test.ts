import { describe, expect, it } from 'vitest';
import { builtinVariables, durationMs, interpolate, variableReferences, type VariableValue } from './grafana-vars.js';

const vars = new Map<string, VariableValue>([
  ['source', { values: ['demo-girar', 'demo-apb'], multi: true, allValue: '.*' }],
  ['repo', { values: ['p11'] }],
  ['arch', { values: ['x86_64', 'i586'], multi: true }],
  ['host', { values: ['a.b'], multi: true }],
  ...builtinVariables({ rateInterval: '1m', interval: '15s', rangeSeconds: 300 }),
]);

describe('interpolate (Grafana variables in Prometheus queries)', () => {
  it('replaces $var, ${var} and [[var]]', () => {
    expect(interpolate('up{repo="$repo"}', vars)).toBe('up{repo="p11"}');
    expect(interpolate('up{repo="${repo}"}', vars)).toBe('up{repo="p11"}');
    expect(interpolate('up{repo="[[repo]]"}', vars)).toBe('up{repo="p11"}');
    expect(interpolate('up{repo="$repo",r2="$repo"}', vars)).toBe('up{repo="p11",r2="p11"}');
  });

  it('inserts a custom all value verbatim, whatever the format', () => {
    expect(interpolate('up{source=~"$source"}', vars)).toBe('up{source=~".*"}');
    expect(interpolate('up{source=~"${source:regex}"}', vars)).toBe('up{source=~".*"}');
    expect(interpolate('up{source=~"[[source:pipe]]"}', vars)).toBe('up{source=~".*"}');
  });

  it('formats multi values as the Prometheus datasource does, or as the format asks', () => {
    expect(interpolate('up{arch=~"$arch"}', vars)).toBe('up{arch=~"(x86_64|i586)"}');
    expect(interpolate('up{arch=~"${arch:pipe}"}', vars)).toBe('up{arch=~"x86_64|i586"}');
    expect(interpolate('up{arch=~"${arch:regex}"}', vars)).toBe('up{arch=~"(x86_64|i586)"}');
    expect(interpolate('${arch:csv}', vars)).toBe('x86_64,i586');
    expect(interpolate('${arch:glob}', vars)).toBe('{x86_64,i586}');
    // Regex metacharacters escaped, and the backslash doubled inside a PromQL string literal.
    expect(interpolate('up{host=~"$host"}', vars)).toBe('up{host=~"a\\\\.b"}');
    expect(interpolate('${host:regex}', vars)).toBe('a\\.b');
  });

  it('respects word boundaries: $sources is not $source, and unknown variables stay', () => {
    expect(interpolate('up{s=~"$sources"}', vars)).toBe('up{s=~"$sources"}');
    expect(interpolate('$source_x $source', vars)).toBe('$source_x .*');
    expect(interpolate('${nope} [[nope]]', vars)).toBe('${nope} [[nope]]');
  });

  it('replaces the built-in interval and range variables', () => {
    expect(interpolate('rate(x[$__rate_interval])', vars)).toBe('rate(x[1m])');
    expect(interpolate('rate(x[${__rate_interval}])', vars)).toBe('rate(x[1m])');
    expect(interpolate('avg_over_time(x[$__interval])', vars)).toBe('avg_over_time(x[15s])');
    expect(interpolate('increase(x[$__range])', vars)).toBe('increase(x[300s])');
    expect(interpolate('x / $__range_s + $__range_ms + $__interval_ms', vars)).toBe('x / 300 + 300000 + 15000');
  });

  it('rejects a format it does not know rather than guessing', () => {
    expect(() => interpolate('${arch:lucene}', vars)).toThrow(/format lucene/);
  });
});

describe('variableReferences', () => {
  it('names the variables a text refers to, not label_replace groups', () => {
    expect(variableReferences('label_replace(up{a=~"$a", b="${b:pipe}"}, "x", "$1", "y", "[[c]]-(.*)$")')).toEqual(['a', 'b', 'c']);
    expect(variableReferences('up{a=~"^x$"}')).toEqual([]);
  });
});

describe('durationMs', () => {
  it('reads Prometheus durations', () => {
    expect(durationMs('15s')).toBe(15_000);
    expect(durationMs('1m')).toBe(60_000);
    expect(durationMs('1h30m')).toBe(5_400_000);
    expect(() => durationMs('1 m')).toThrow(/not a duration/);
  });
});
