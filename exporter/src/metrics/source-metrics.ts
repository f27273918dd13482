/**
 * Per-source health families, read from the runner's health at scrape; poll counts and durations
 * observed through `PollObserver`; upstream request counts through `RequestRecorder`.
 */
import type { HealthProvider, SourceHealth } from '../sources/health.js';
import type { RequestRecorder } from '../sources/http.js';
import type { KeyOfType } from './definitions.js';
import type { LabelGuard } from './label-guard.js';
import { makeGauge, SourceCounter, SourceHistogram, type FamilyContext, type SourceSeries } from './factory.js';

type HealthGaugeKey = Extract<
  KeyOfType<'gauge'>,
  'sourceUp' | 'sourceLastSuccess' | 'sourceLastPoll' | 'sourcePollInterval' | 'sourceConsecutiveFailures' | 'sourceStreamConnected' | 'sourceUpstreamCache' | 'sourceUpstreamCacheAge'
>;

/** One number per source from its health, or undefined to leave the source out. */
const HEALTH_VALUES: Record<HealthGaugeKey, (h: SourceHealth) => number | undefined> = {
  sourceUp: (h) => (h.up ? 1 : 0),
  sourceLastSuccess: (h) => seconds(h.lastSuccessAt),
  sourceLastPoll: (h) => seconds(h.lastPollAt),
  sourcePollInterval: (h) => h.intervalSeconds,
  sourceConsecutiveFailures: (h) => h.consecutiveFailures,
  sourceStreamConnected: (h) => (h.streamConnected === undefined ? undefined : h.streamConnected ? 1 : 0),
  sourceUpstreamCache: (h) => {
    const age = h.upstream?.cacheAgeSeconds;
    const at = seconds(h.upstream?.observedAt ?? h.lastSuccessAt);
    return age === undefined || at === undefined || !Number.isFinite(age) ? undefined : at - age;
  },
  sourceUpstreamCacheAge: (h) => h.upstream?.cacheAgeSeconds,
};

/** Codes kept as they are; anything else is counted as `other`. */
const REQUEST_CODE = /^([1-5]\d\d|error|timeout|canceled)$/;

export class SourceMetrics {
  private readonly pollDuration: SourceHistogram<'sourcePollDuration'>;
  private readonly polls: SourceCounter<'sourcePolls'>;
  private readonly requests: SourceCounter<'upstreamRequests'>;
  private readonly skippedTotal: SourceCounter<'sourceSkippedRecordsTotal'>;
  private readonly labelGuard: LabelGuard;

  constructor(ctx: FamilyContext, health: HealthProvider, series: SourceSeries, labels: LabelGuard) {
    this.labelGuard = labels;
    for (const key of Object.keys(HEALTH_VALUES) as HealthGaugeKey[]) {
      const value = HEALTH_VALUES[key];
      makeGauge(ctx, key, (g) => {
        g.reset();
        for (const h of health.health()) {
          const v = value(h);
          if (v !== undefined && Number.isFinite(v)) g.set({ source: h.name, kind: h.kind }, v);
        }
      });
    }
    makeGauge(ctx, 'sourceInfo', (g) => {
      g.reset();
      for (const h of health.health()) g.set({ source: h.name, kind: h.kind, upstream_version: labels.label(h.name, 'upstream_version', h.upstream?.version ?? '') }, 1);
    });
    makeGauge(ctx, 'sourceSkippedRecords', (g) => {
      g.reset();
      for (const h of health.health()) {
        for (const [reason, n] of Object.entries(h.problems?.current ?? {})) g.set({ source: h.name, kind: h.kind, reason: labels.label(h.name, 'reason', reason) }, n);
      }
    });
    this.skippedTotal = new SourceCounter(ctx, 'sourceSkippedRecordsTotal', series, { durable: false });
    this.pollDuration = new SourceHistogram(ctx, 'sourcePollDuration', series);
    this.polls = new SourceCounter(ctx, 'sourcePolls', series, { durable: false });
    this.requests = new SourceCounter(ctx, 'upstreamRequests', series, { durable: false });
  }

  pollFinished(source: string, kind: string, secondsTaken: number, ok: boolean): void {
    if (Number.isFinite(secondsTaken) && secondsTaken >= 0) this.pollDuration.observe({ source, kind }, secondsTaken);
    // Both results exist from the first poll on, so rate() and absent-free alerts work.
    this.polls.inc({ source, kind, result: ok ? 'ok' : 'error' });
    this.polls.inc({ source, kind, result: ok ? 'error' : 'ok' }, 0);
  }

  problemsFound(source: string, kind: string, byReason: Record<string, number>): void {
    for (const [reason, n] of Object.entries(byReason)) this.skippedTotal.inc({ source, kind, reason: this.labelGuard.label(source, 'reason', reason) }, n);
  }

  requestRecorder(source: string): RequestRecorder {
    return (code) => this.requests.inc({ source, code: REQUEST_CODE.test(code) ? code : 'other' });
  }
}

function seconds(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : ms / 1000;
}
