/** `GET /api/v1/sources`: health, last error and record counts of every configured source. */
import { Type, type Static } from '@sinclair/typebox';
import type { SourceErrorInfo, SourceHealth } from '../sources/health.js';
import type { Store } from '../store/store.js';
import { isoUtc } from '../util/clock.js';
import type { ApiDeps, ApiInstance } from './deps.js';
import { checkQuery } from './params.js';
import { SourceSchema } from './schemas.js';

type SourceView = Static<typeof SourceSchema>;

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : isoUtc(ms));

export function sourceView(h: SourceHealth, store: Store): SourceView {
  return {
    name: h.name,
    kind: h.kind,
    up: h.up,
    interval_seconds: h.intervalSeconds,
    last_poll: iso(h.lastPollAt),
    last_success: iso(h.lastSuccessAt),
    last_poll_duration_seconds: h.lastPollDurationSeconds ?? null,
    consecutive_failures: h.consecutiveFailures,
    last_error: errorView(h.lastError),
    next_poll: iso(h.nextPollAt),
    ...(h.streamConnected !== undefined ? { stream_connected: h.streamConnected } : {}),
    upstream: {
      ...(h.upstream?.version !== undefined ? { version: h.upstream.version } : {}),
      ...(h.upstream?.cacheAgeSeconds !== undefined ? { cache_age_seconds: h.upstream.cacheAgeSeconds } : {}),
    },
    polls: { ok: h.polls.ok, failed: h.polls.failed },
    ...(h.problems ? { problems: h.problems } : {}),
    ...(h.endpoints
      ? {
          endpoints: h.endpoints.map((e) => ({
            name: e.name,
            role: e.role,
            url: e.url,
            up: e.up,
            reachable: e.reachable,
            last_success: iso(e.lastSuccessAt),
            consecutive_failures: e.consecutiveFailures,
            last_error: errorView(e.lastError),
          })),
        }
      : {}),
    counts: { tasks: store.sourceTaskCount(h.name), workers: store.listWorkers(h.name).length, jobs: store.listJobs(h.name).length },
  };
}

function errorView(e: SourceErrorInfo | undefined): SourceView['last_error'] {
  if (!e) return null;
  return { code: e.code, message: e.message, at: isoUtc(e.at), ...(e.status !== undefined ? { status: e.status } : {}) };
}

/** Names of every source the exporter knows: configured ones and any still held in the store. */
export function knownSources(deps: Pick<ApiDeps, 'store' | 'health'>): string[] {
  const names = new Set(deps.health.health().map((h) => h.name));
  for (const name of deps.store.distinct('source').keys()) names.add(name);
  return [...names].sort();
}

export function registerSourceRoutes(app: ApiInstance, deps: ApiDeps): void {
  app.get(
    '/api/v1/sources',
    {
      preValidation: checkQuery(undefined),
      schema: {
        tags: ['sources'],
        summary: 'Configured sources and their health',
        description:
          'One entry per configured source: whether the latest poll succeeded, poll times and duration, consecutive failures, the last error (kept after recovery), the next poll, what the upstream says about itself, and how many tasks, workers and jobs are held. Times are ISO 8601 UTC or null.',
        response: { 200: Type.Object({ sources: Type.Array(SourceSchema) }, { description: 'Every configured source' }) },
      },
    },
    async () => ({ sources: deps.health.health().map((h) => sourceView(h, deps.store)) }),
  );
}
