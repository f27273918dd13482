import { describe, expect, it } from 'vitest';
import { girarTask, scrape, series, setup, sourceHealth, T0 } from './test-helpers.js';

describe('source health', () => {
  it('exports up, times, failures, stream, upstream cache and info from the health provider', async () => {
    const s = setup();
    s.health.sources = [
      sourceHealth('alt', {
        lastPollAt: T0 + 5000,
        lastSuccessAt: T0 + 5000,
        intervalSeconds: 60,
        streamConnected: true,
        upstream: { version: '1.3.0', cacheAgeSeconds: 12 },
      }),
      sourceHealth('broken', { kind: 'koji', up: false, lastPollAt: T0 + 9000, consecutiveFailures: 3 }),
    ];
    const samples = await scrape(s.metrics);
    expect(series(samples, 'buildfarm_source_up')).toEqual({ 'kind=girar,source=alt': 1, 'kind=koji,source=broken': 0 });
    expect(series(samples, 'buildfarm_source_last_success_timestamp_seconds')).toEqual({ 'kind=girar,source=alt': T0 / 1000 + 5 });
    expect(series(samples, 'buildfarm_source_last_poll_timestamp_seconds')).toEqual({ 'kind=girar,source=alt': T0 / 1000 + 5, 'kind=koji,source=broken': T0 / 1000 + 9 });
    expect(series(samples, 'buildfarm_source_poll_interval_seconds')).toEqual({ 'kind=girar,source=alt': 60, 'kind=koji,source=broken': 30 });
    expect(series(samples, 'buildfarm_source_consecutive_failures')).toEqual({ 'kind=girar,source=alt': 0, 'kind=koji,source=broken': 3 });
    expect(series(samples, 'buildfarm_source_stream_connected')).toEqual({ 'kind=girar,source=alt': 1 });
    expect(series(samples, 'buildfarm_source_upstream_cache_timestamp_seconds')).toEqual({ 'kind=girar,source=alt': T0 / 1000 + 5 - 12 });
    expect(series(samples, 'buildfarm_source_info')).toEqual({
      'kind=girar,source=alt,upstream_version=1.3.0': 1,
      'kind=koji,source=broken,upstream_version=': 1,
    });

    s.health.sources = [sourceHealth('alt', { up: false, streamConnected: false, consecutiveFailures: 1 })];
    const later = await scrape(s.metrics);
    expect(series(later, 'buildfarm_source_up')).toEqual({ 'kind=girar,source=alt': 0 });
    expect(series(later, 'buildfarm_source_stream_connected')).toEqual({ 'kind=girar,source=alt': 0 });
    expect(series(later, 'buildfarm_source_last_poll_timestamp_seconds')).toEqual({});
  });

  it('counts polls by result and observes their durations', async () => {
    const s = setup();
    s.metrics.pollFinished('alt', 'girar', 0.2, true);
    s.metrics.pollFinished('alt', 'girar', 3, true);
    s.metrics.pollFinished('alt', 'girar', 45, false);
    s.metrics.pollFinished('other', 'koji', 0.01, true);
    const samples = await scrape(s.metrics);
    expect(series(samples, 'buildfarm_source_polls_total')).toEqual({
      'kind=girar,result=ok,source=alt': 2,
      'kind=girar,result=error,source=alt': 1,
      'kind=koji,result=ok,source=other': 1,
      'kind=koji,result=error,source=other': 0,
    });
    expect(series(samples, 'buildfarm_source_poll_duration_seconds_count')).toEqual({ 'kind=girar,source=alt': 3, 'kind=koji,source=other': 1 });
    expect(series(samples, 'buildfarm_source_poll_duration_seconds_sum')['kind=girar,source=alt']).toBeCloseTo(48.2, 9);
    const buckets = series(samples, 'buildfarm_source_poll_duration_seconds_bucket');
    expect(buckets['kind=girar,le=0.25,source=alt']).toBe(1);
    expect(buckets['kind=girar,le=5,source=alt']).toBe(2);
    expect(buckets['kind=girar,le=60,source=alt']).toBe(3);
    expect(buckets['kind=koji,le=0.05,source=other']).toBe(1);
  });

  it('counts upstream requests per code through a per-source recorder, odd codes as other', async () => {
    const s = setup();
    const alt = s.metrics.requestRecorder('alt');
    const koji = s.metrics.requestRecorder('koji-main');
    alt('200');
    alt('200');
    alt('503');
    alt('timeout');
    alt('error');
    alt('<html>');
    koji('200');
    expect(series(await scrape(s.metrics), 'buildfarm_upstream_requests_total')).toEqual({
      'code=200,source=alt': 2,
      'code=503,source=alt': 1,
      'code=timeout,source=alt': 1,
      'code=error,source=alt': 1,
      'code=other,source=alt': 1,
      'code=200,source=koji-main': 1,
    });
  });

  it('keeps /metrics working when the health provider throws', async () => {
    const s = setup();
    s.snapshot(0, [girarTask(1, 'AWAITING')]);
    s.health.broken = true;
    const { body, failures } = await s.metrics.render();
    expect(failures.map((f) => f.family)).toContain('buildfarm_source_up');
    expect(body).not.toContain('# TYPE buildfarm_source_up gauge');
    expect(body).toContain('buildfarm_tasks{source="alt"');
    const again = await scrape(s.metrics);
    expect(series(again, 'buildfarm_exporter_collect_errors_total')['family=buildfarm_source_up']).toBe(2);
  });
});

describe('forgetSource', () => {
  it('drops the counters, histograms and girar gauges of one source and keeps the others', async () => {
    const s = setup();
    for (const source of ['alt', 'alt2']) {
      s.snapshot(0, [girarTask(1, 'AWAITING', { source, subtasks: [{ x86_64: 'built' }] })], source);
      s.snapshot(60, [girarTask(1, 'BUILDING', { source, subtasks: [{ x86_64: 'failed' }] })], source);
      s.metrics.pollFinished(source, 'girar', 1, true);
      s.metrics.requestRecorder(source)('200');
    }
    const perSource = (samples: Awaited<ReturnType<typeof scrape>>) => {
      const found = new Set<string>();
      for (const x of samples) if (x.labels.source !== undefined) found.add(x.labels.source);
      return [...found].sort();
    };
    expect(perSource(await scrape(s.metrics))).toEqual(['alt', 'alt2']);

    // Either order works: forget before the store drops the source, or after.
    s.metrics.forgetSource('alt');
    s.store.dropSource('alt', 'girar');
    s.store.dropSource('alt2', 'girar');
    s.metrics.forgetSource('alt2');
    const samples = await scrape(s.metrics);
    expect(perSource(samples)).toEqual([]);
    expect(series(samples, 'buildfarm_girar_subtask_arch_builds')).toEqual({});
  });

  it('keeps a source that is still in the store counted after its series were forgotten', async () => {
    const s = setup();
    s.snapshot(0, [girarTask(1, 'AWAITING', { subtasks: [{ x86_64: 'built' }] })]);
    s.metrics.forgetSource('alt');
    expect(series(await scrape(s.metrics), 'buildfarm_girar_subtask_arch_builds')).toEqual({ 'arch=x86_64,repo=sisyphus,source=alt,status=built': 1 });
    s.store.dropSource('alt', 'girar');
    expect(series(await scrape(s.metrics), 'buildfarm_girar_subtask_arch_builds')).toEqual({});
  });
});
