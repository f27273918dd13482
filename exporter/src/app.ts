/**
 * Assembles the exporter: store, metrics, source runners and the HTTP app.
 * `buildApp` returns the fastify instance without listening (tests use `inject`);
 * main.ts only listens and handles signals.
 */
import type {} from '@fastify/swagger';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { registerApi } from './api/index.js';
import { frameworkErrorOptions } from './api/errors.js';
import { sseStats } from './api/events.js';
import type { AppConfig } from './config/schema.js';
import { ExporterMetrics, metricsRoute } from './metrics/index.js';
import { defaultStatesByKind, definitionOf, lifecyclesByKind } from './sources/registry.js';
import { SourceRunners } from './sources/runners.js';
import { MemoryJournal, type Journal, type JournalState } from './store/journal.js';
import { SqliteJournal } from './store/sqlite-journal.js';
import { Store } from './store/store.js';
import { systemClock, type Clock } from './util/clock.js';
import { VERSION } from './version.js';
import { createFastify } from './web/server.js';
import type { WebRuntime } from './web/runtime.js';

export interface Exporter {
  app: FastifyInstance;
  store: Store;
  runners: SourceRunners;
  metrics: ExporterMetrics;
  /** Start polling every source. */
  start(): void;
  /** Stop polling, close the HTTP app and the store. */
  close(): Promise<void>;
}

export interface ExporterOptions {
  log: Logger;
  clock?: Clock;
  /** --reset-journal: move the journal file aside and start a fresh one. */
  resetJournal?: boolean;
  /** Use this journal instead of the one the config names (tests). */
  journal?: Journal;
  /** The clock the upstreams run on when it runs ahead of this host's (the demo farm at --demo.speed). */
  upstreamClock?: Clock;
  /** The --web.config.file (TLS, basic auth users, headers), when given. */
  web?: WebRuntime;
}

export async function buildExporter(config: AppConfig, options: ExporterOptions): Promise<Exporter> {
  const clock = options.clock ?? systemClock;
  const journal = options.journal ?? openJournal(config, clock, options);
  let restored: JournalState;
  try {
    restored = journal.restore();
  } catch (err) {
    journal.close();
    throw err;
  }
  // Bound below: the store reports journal failures to the metrics, which read the store.
  let metrics: ExporterMetrics | undefined;
  const store = new Store({
    clock,
    eventBufferSize: config.events.buffer_size,
    defaultStates: defaultStatesByKind(),
    lifecycles: lifecyclesByKind(),
    searchResultCap: config.api.search_result_cap,
    journal,
    // A batch the journal could not write stays in memory and is published: the farm stays
    // visible (a full disk must not blind the exporter); a restart before the journal recovers
    // finds those changes again against the journal's older state.
    onJournalError: (err, source) => {
      metrics?.journalWriteFailed();
      options.log.error({ err, source }, `journal write failed; changes are kept in memory only until a write succeeds: ${(err as Error).message}`);
    },
  });
  store.restore(restored);
  // The metrics need the runners' health and the runners report polls to the metrics:
  // the health provider is bound late, through a closure.
  let runners: SourceRunners | undefined;
  const health = { health: () => runners?.health() ?? [] };
  metrics = new ExporterMetrics({ store, health, version: VERSION, sseClients: () => sseStats().clients, refreshSeconds: refreshText(config), log: options.log });

  for (const source of config.sources) {
    const fixed = definitionOf(source.kind)?.labelValues?.(source.settings) ?? {};
    for (const [label, values] of Object.entries(fixed)) metrics.restrictLabel(source.name, label, values);
  }
  // After the allowlists: restored label values are guarded like live ones.
  const counters = metrics.restoreCounters(restored.counters);
  journal.replaceCounters(metrics.allCounters());
  journal.trackCounters(() => metrics.takeDirtyCounters());
  if (config.journal.path !== undefined) {
    options.log.info(
      { journal: config.journal.path, tasks: restored.tasks.length, workers: restored.workers.length, jobs: restored.jobs.length, events: restored.events.length, counters, lastSeq: journal.lastSeq() },
      'journal opened',
    );
  }
  runners = new SourceRunners(config.sources, {
    store,
    log: options.log,
    clock,
    ...(options.upstreamClock ? { upstreamClock: options.upstreamClock } : {}),
    observer: metrics,
    requestRecorder: (source) => metrics.requestRecorder(source),
  });
  const app = await buildApp({ config, store, runners, metrics, log: options.log, clock, ...(options.web ? { web: options.web } : {}) });
  const built = runners;
  return {
    app,
    store,
    runners: built,
    metrics,
    start: () => built.start(),
    close: async () => {
      await built.stop();
      await app.close();
      metrics.close();
      store.close();
    },
  };
}

/** The SQLite journal of the config (opened, with its notes logged), or a memory journal when there is none. */
function openJournal(config: AppConfig, clock: Clock, options: ExporterOptions): Journal {
  const freshSeq = clock.now();
  if (config.journal.path === undefined) return new MemoryJournal(freshSeq);
  const { journal, notes } = SqliteJournal.open({
    path: config.journal.path,
    eventWindow: config.events.buffer_size,
    sources: new Map(config.sources.map((s) => [s.name, s.kind])),
    freshSeq,
    ...(options.resetJournal ? { reset: true } : {}),
    now: () => clock.now(),
  });
  for (const note of notes) options.log.warn({ journal: config.journal.path }, note);
  return journal;
}

/** The "refreshed every N s" of metric HELP texts: the poll interval, or its range across sources. */
function refreshText(config: AppConfig): number | string {
  const intervals = [...new Set(config.sources.map((s) => s.intervalSeconds))].sort((a, b) => a - b);
  if (intervals.length === 0) return 30;
  if (intervals.length === 1) return intervals[0] as number;
  return `${intervals[0]} to ${intervals[intervals.length - 1]}`;
}

export interface AppParts {
  config: AppConfig;
  store: Store;
  runners: SourceRunners;
  metrics: ExporterMetrics;
  log: Logger;
  clock: Clock;
  web?: WebRuntime;
}

export async function buildApp(parts: AppParts): Promise<FastifyInstance> {
  const app = createFastify(parts.web, {
    loggerInstance: parts.log as FastifyBaseLogger,
    disableRequestLogging: true,
    // SSE and scrapes are long or large; keep the defaults but never hang on slow clients' headers.
    requestTimeout: 0,
    connectionTimeout: 0,
    return503OnClosing: true,
    // Errors raised before routing (a path that is not valid percent-encoding, a request Node's
    // HTTP parser rejects) answer {"error": ...} like every other error.
    ...frameworkErrorOptions,
  });
  parts.web?.attach(app.server, app.log);
  await registerApi(app, {
    store: parts.store,
    health: parts.runners,
    config: parts.config,
    clock: parts.clock,
    version: VERSION,
    ready: () => parts.runners.ready(),
    taskotekaBackends: parts.runners.taskotekaBackends(),
    taskLogs: parts.runners.taskLogs(),
    ...(parts.web ? { webConfig: parts.web } : {}),
  });
  await app.register(metricsRoute, { metrics: parts.metrics });
  app.get('/', { schema: { hide: true } }, async (_req, reply) => {
    reply.type('text/html; charset=utf-8');
    return landingPage(parts.config);
  });
  return app;
}

function landingPage(config: AppConfig): string {
  const links = [
    ['/metrics', 'Prometheus metrics'],
    ['/api/v1/sources', 'Sources and their health'],
    ['/api/v1/tasks', 'Tasks (JSON; filters and full-text search)'],
    ['/api/v1/events', 'Live change events (SSE)'],
    ['/openapi.json', 'OpenAPI document'],
    ['/-/healthy', 'Liveness'],
    ['/-/ready', 'Readiness'],
  ];
  const sources = config.sources.map((s) => `<li>${escapeHtml(s.name)} (${escapeHtml(s.kind)}, every ${s.intervalSeconds}s)</li>`).join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>buildscope exporter</title></head><body>
<h1>buildscope exporter ${escapeHtml(VERSION)}${config.demo ? ' (demo farm)' : ''}</h1>
<ul>${links.map(([href, label]) => `<li><a href="${href}">${href}</a>: ${label}</li>`).join('')}</ul>
<h2>Sources</h2><ul>${sources}</ul></body></html>`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
