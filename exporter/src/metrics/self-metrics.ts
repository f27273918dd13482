/** The exporter's own state: version, store size, event position, SSE clients, last response size. */
import type { Counter } from 'prom-client';
import type { Store } from '../store/store.js';
import { makeCounter, makeGauge, type FamilyContext } from './factory.js';

export interface SelfMetricsDeps {
  store: Store;
  version: string;
  sseClients?: () => number;
  /** Samples in the previous /metrics response. */
  lastSeries: () => number;
}

/** Registers the self-metrics; returns the counters fed from outside (collect errors, journal write failures). */
export function registerSelfMetrics(ctx: FamilyContext, deps: SelfMetricsDeps): { collectErrors: Counter<'family'>; journalWriteFailures: Counter } {
  makeGauge(ctx, 'exporterBuildInfo').set({ version: deps.version }, 1);
  makeGauge(ctx, 'exporterStoreTasks', (g) => g.set(deps.store.taskCount));
  makeGauge(ctx, 'exporterEventsLastSeq', (g) => g.set(deps.store.events.lastSeq));
  makeGauge(ctx, 'exporterSseClients', (g) => g.set(deps.sseClients?.() ?? 0));
  makeGauge(ctx, 'exporterScrapeSeries', (g) => g.set(deps.lastSeries()));
  const journalWriteFailures = makeCounter(ctx, 'exporterJournalWriteFailures');
  journalWriteFailures.inc(0);
  return { collectErrors: makeCounter(ctx, 'exporterCollectErrors'), journalWriteFailures };
}
