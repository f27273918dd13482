import { describe, expect, it } from 'vitest';
import { builtinVariables, durationMs, formatDuration, grafanaIntervals, interpolate, roundInterval, variableReferences, type VariableValue } from './grafana-vars.js';

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

describe('grafanaIntervals ($__interval and $__rate_interval as Grafana computes them)', () => {
  const sixHours = 6 * 3_600_000;

  it('without a panel min interval: the range over the data points, rounded, at least the scrape interval', () => {
    // 6h over 1000 points = 21.6 s, rounded to 20 s; rate interval max(20s + 15s, 4 x 15s) = 1m.
    expect(grafanaIntervals({ rangeMs: sixHours, maxDataPoints: 1000, scrapeInterval: '15s' })).toEqual({ interval: '20s', intervalMs: 20_000, rateInterval: '1m', rateIntervalMs: 60_000 });
    // 5 min over 1000 points = 0.3 s: the scrape interval is the floor.
    expect(grafanaIntervals({ rangeMs: 300_000, maxDataPoints: 1000, scrapeInterval: '15s' })).toMatchObject({ interval: '15s', rateInterval: '1m' });
    // 7 days over 1000 points = 604.8 s, rounded to 10m: the interval wins over 4 scrapes.
    expect(grafanaIntervals({ rangeMs: 7 * 86_400_000, maxDataPoints: 1000, scrapeInterval: '15s' })).toMatchObject({ interval: '10m', rateInterval: '10m15s' });
  });

  it('assumes a 15 s scrape interval when the datasource sets none', () => {
    expect(grafanaIntervals({ rangeMs: 300_000, maxDataPoints: 1000 })).toMatchObject({ interval: '15s', rateInterval: '1m' });
  });

  it('honours a panel min interval: $__interval never below it, $__rate_interval one scrape more', () => {
    expect(grafanaIntervals({ rangeMs: sixHours, maxDataPoints: 1000, minInterval: '10m', scrapeInterval: '15s' })).toEqual({ interval: '10m', intervalMs: 600_000, rateInterval: '10m15s', rateIntervalMs: 615_000 });
    expect(grafanaIntervals({ rangeMs: 300_000, maxDataPoints: 1000, minInterval: '10m', scrapeInterval: '1s' })).toMatchObject({ interval: '10m', rateInterval: '10m1s' });
    // 30 days over 1000 points = 43.2 min, rounded to 30m: coarser than the min interval, so it wins.
    expect(grafanaIntervals({ rangeMs: 30 * 86_400_000, maxDataPoints: 1000, minInterval: '10m', scrapeInterval: '15s' })).toMatchObject({ interval: '30m', rateInterval: '30m15s' });
    // The panel's min interval replaces the datasource's floor, even when shorter.
    expect(grafanaIntervals({ rangeMs: 300_000, maxDataPoints: 1000, minInterval: '5s', scrapeInterval: '15s' })).toMatchObject({ interval: '5s', rateInterval: '1m' });
    // An empty min interval is no min interval.
    expect(grafanaIntervals({ rangeMs: 300_000, maxDataPoints: 1000, minInterval: '', scrapeInterval: '15s' })).toMatchObject({ interval: '15s' });
  });

  it('rejects what it cannot compute rather than guessing', () => {
    expect(() => grafanaIntervals({ rangeMs: 300_000, maxDataPoints: 1000, minInterval: '$min' })).toThrow(/not a duration/);
    expect(() => grafanaIntervals({ rangeMs: 0, maxDataPoints: 1000 })).toThrow(/positive/);
  });

  it('feeds builtinVariables: a slow-events panel query gets its wide window', () => {
    const i = grafanaIntervals({ rangeMs: 300_000, maxDataPoints: 1000, minInterval: '10m', scrapeInterval: '15s' });
    const v = builtinVariables({ rateInterval: i.rateInterval, interval: i.interval, rangeSeconds: 300 });
    expect(interpolate('rate(x[$__rate_interval]) $__interval_ms $__rate_interval_ms', v)).toBe('rate(x[10m15s]) 600000 615000');
  });
});

describe('roundInterval and formatDuration', () => {
  it('round to Grafana\'s nice steps', () => {
    expect([300, 1200, 4000, 16_000, 21_600, 40_000, 86_400, 604_800, 2_000_000].map(roundInterval)).toEqual([200, 1000, 5000, 15_000, 20_000, 30_000, 60_000, 600_000, 1_800_000]);
    expect(roundInterval(1e12)).toBe(31_536_000_000);
  });

  it('write Prometheus durations', () => {
    expect([60_000, 615_000, 15_000, 3_615_000, 90_061_500].map(formatDuration)).toEqual(['1m', '10m15s', '15s', '1h15s', '1d1h1m1s500ms']);
    for (const ms of [1, 999, 61_001, 615_000]) expect(durationMs(formatDuration(ms))).toBe(ms);
    expect(() => formatDuration(0)).toThrow();
  });
});
