/**
 * `GET /api/v1/events`: the change events of the store as Server-Sent Events. `id:` is the event
 * seq; `Last-Event-ID` (or `last_event_id`) replays what a client missed, or sends `reset` when
 * that is no longer possible; filters by source and type; per-IP and global connection limits;
 * heartbeats; slow clients and old connections are told to reconnect.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { Type } from '@sinclair/typebox';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import { CHANGE_EVENT_TYPES, type ChangeEvent, type ChangeEventType } from '../model/events.js';
import type { EventLog } from '../store/event-log.js';
import { systemClock, type Clock } from '../util/clock.js';
import { ClientIpResolver } from './client-ip.js';
import type { ApiDeps, ApiInstance } from './deps.js';
import { ApiError, badRequest } from './errors.js';
import { ALL, checkQuery, ListParam, splitEnumList, splitList } from './params.js';
import { ErrorSchema } from './schemas.js';
import { RECONNECT_REASONS, RETRY_MS, SSE_HEADERS, SseSession, type ReconnectReason, type SseCounters } from './sse-session.js';

/** Live SSE figures for the exporter's self-metrics. */
export interface SseStats {
  /** Open event-stream connections. */
  clients: number;
  /** Change events sent to clients since start (replays included). */
  sent: number;
  /** Clients told to reconnect because they read too slowly. */
  dropped_slow: number;
}

const totals: SseCounters & { clients: number } = { clients: 0, sent: 0, dropped_slow: 0 };

/** Current SSE figures of this process (summed over every registered API; a snapshot copy). */
export function sseStats(): SseStats {
  return { clients: totals.clients, sent: totals.sent, dropped_slow: totals.dropped_slow };
}

/** Open SSE sessions of one API instance, by client IP, with the connection limits. */
export class SseHub {
  /** The process-wide figures every session of every hub adds to (see sseStats). */
  readonly counters: SseCounters = totals;
  readonly sessions = new Set<SseSession>();
  private readonly perIp = new Map<string, number>();

  constructor(
    private readonly maxConnections: number,
    private readonly maxPerIp: number,
  ) {}

  admit(ip: string): void {
    if (this.sessions.size >= this.maxConnections) {
      throw new ApiError(503, `too many event-stream connections (the limit is ${this.maxConnections}); retry later`, { 'Retry-After': String(RETRY_MS / 1000) });
    }
    if ((this.perIp.get(ip) ?? 0) >= this.maxPerIp) {
      throw new ApiError(429, `too many event-stream connections from ${ip} (the limit is ${this.maxPerIp} per client); close some or share one connection`, { 'Retry-After': String(RETRY_MS / 1000) });
    }
  }

  add(ip: string, session: SseSession): void {
    this.sessions.add(session);
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
    totals.clients += 1;
  }

  remove(ip: string, session: SseSession): void {
    if (!this.sessions.delete(session)) return;
    const n = (this.perIp.get(ip) ?? 1) - 1;
    if (n > 0) this.perIp.set(ip, n);
    else this.perIp.delete(ip);
    totals.clients -= 1;
  }

  endAll(reason: ReconnectReason): void {
    for (const session of this.sessions) session.end(reason);
  }
}

const hubs = new WeakMap<object, SseHub>();

/**
 * The SSE hub of an API instance, made on first use: every event stream the instance serves (the
 * main one and the compat ones) counts against the same `events.max_connections` and
 * `max_connections_per_ip`, and all of them are told to reconnect when the instance closes.
 */
export function sseHubOf(app: ApiInstance, cfg: ApiDeps['config']['events']): SseHub {
  let hub = hubs.get(app);
  if (!hub) {
    const created = new SseHub(cfg.max_connections, cfg.max_connections_per_ip);
    hubs.set(app, created);
    app.addHook('preClose', async () => created.endAll(RECONNECT_REASONS.shutdown));
    hub = created;
  }
  return hub;
}

/** The resume position from the `Last-Event-ID` header (preferred: it is what EventSource sends on reconnect) or the query. */
export function parseLastEventId(header: string | string[] | undefined, query: string | undefined): number | undefined {
  const [raw, name] = header !== undefined ? [Array.isArray(header) ? header.join(',') : header, 'Last-Event-ID header'] : [query, 'query parameter "last_event_id"'];
  if (raw === undefined || raw.trim() === '') return undefined;
  const text = raw.trim();
  if (!/^\d{1,15}$/.test(text)) {
    throw badRequest(`${name} is ${JSON.stringify(raw)}, which is not an event id; give the id of the last event received (a non-negative integer) or leave it out`);
  }
  return Number(text);
}

function definedHeaders(headers: Record<string, number | string | string[] | undefined>): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = value;
  return out;
}

/** The stream headers for HEAD: as GET sends them, but without `Connection` (Node manages it for an ended response). */
function headOnlyHeaders(): Record<string, string> {
  const { Connection: _connection, ...rest } = SSE_HEADERS;
  return rest;
}

function matcher(sources: string[] | undefined, types: ChangeEventType[] | undefined): (event: ChangeEvent) => boolean {
  const s = sources ? new Set(sources) : undefined;
  const t = types ? new Set<string>(types) : undefined;
  return (event) => (s === undefined || s.has(event.source)) && (t === undefined || t.has(event.type));
}

export interface EventStreamOptions {
  hub: SseHub;
  /** The client IP the limits count by (see ClientIpResolver). */
  ip: string;
  events: ApiDeps['config']['events'];
  clock: Clock;
  /** How a change event is written (default: the main stream's frame, see sse-session.ts). */
  frame?: (event: ChangeEvent) => string;
}

/**
 * Admit a client (503/429 ApiError beyond the limits), hijack the reply and open its SSE session,
 * sending the headers hooks set on the reply before. A HEAD request gets those headers and an
 * empty body at once (a HEAD response has no body, so a stream would never end and would hold a
 * slot), and undefined.
 */
export function openEventStream(request: FastifyRequest, reply: FastifyReply, options: EventStreamOptions): SseSession | undefined {
  const { hub, ip, events: cfg, clock } = options;
  hub.admit(ip);
  reply.hijack();
  if (request.method === 'HEAD') {
    const own = headOnlyHeaders();
    const names = new Set(Object.keys(own).map((k) => k.toLowerCase()));
    const extra = Object.fromEntries(Object.entries(definedHeaders(reply.getHeaders())).filter(([k]) => !names.has(k.toLowerCase())));
    reply.raw.writeHead(200, { ...extra, ...own });
    reply.raw.end();
    return undefined;
  }
  const session = new SseSession(reply.raw, {
    clientBuffer: cfg.client_buffer,
    coalesceMs: cfg.coalesceMs,
    heartbeatMs: cfg.heartbeatSeconds * 1000,
    maxLifetimeMs: cfg.maxLifetimeSeconds * 1000,
    now: () => clock.now(),
    counters: hub.counters,
    onClosed: () => hub.remove(ip, session),
    ...(options.frame ? { frame: options.frame } : {}),
  });
  hub.add(ip, session);
  session.open(definedHeaders(reply.getHeaders()));
  return session;
}

/**
 * Feed a session the events `wanted` lets through: first the ones after `lastId` (or a `reset`
 * when they are no longer buffered), then live ones until the session ends.
 */
export function followEvents(session: SseSession, log: EventLog, wanted: (event: ChangeEvent) => boolean, lastId: number | undefined, logger: FastifyBaseLogger): void {
  if (lastId !== undefined) {
    const replay = log.since(lastId);
    if (replay.type === 'reset') {
      const reason =
        lastId > replay.lastSeq
          ? `last event id ${lastId} is ahead of the newest event ${replay.lastSeq} (the exporter lost its journal?); reload the state and continue from here`
          : `events after ${lastId} are no longer buffered (the oldest is ${replay.oldestSeq}); reload the state and continue from here`;
      session.sendControl('reset', { oldest_seq: replay.oldestSeq, last_seq: replay.lastSeq, reason }, replay.lastSeq);
    } else {
      session.replay(replay.events.filter(wanted));
    }
  }
  // Replay and subscribe run in one synchronous step: no event can slip in between.
  const unsubscribe = log.subscribeBatches((events) => {
    const mine = events.every(wanted) ? events : events.filter(wanted);
    if (mine.length === 0) return;
    try {
      session.sendEvents(mine);
    } catch (err) {
      // A broken client must never break the store's apply loop.
      logger.warn({ err }, 'event stream write failed');
      session.end(RECONNECT_REASONS.writeFailed);
    }
  });
  session.onRelease(unsubscribe);
}

export function registerEventRoutes(app: ApiInstance, deps: ApiDeps): void {
  const cfg = deps.config.events;
  const clock = deps.clock ?? systemClock;
  const hub = sseHubOf(app, cfg);
  const ips = new ClientIpResolver(cfg.ip_header, cfg.trusted_proxies);
  const querystring = Type.Object(
    {
      source: ListParam('Only events of these sources. ALL = every source.'),
      type: ListParam(`Only these event types: ${CHANGE_EVENT_TYPES.join(', ')}.`),
      last_event_id: Type.Optional(Type.String({ description: 'Resume after this event id (for clients that cannot send the Last-Event-ID header)' })),
    },
    { additionalProperties: false },
  );

  app.get(
    '/api/v1/events',
    {
      preValidation: checkQuery(querystring),
      schema: {
        tags: ['events'],
        summary: 'Live change events (Server-Sent Events)',
        description:
          'A text/event-stream of change events: `id: <seq>`, `event: <type>`, `data: <ChangeEvent JSON>` (schema ChangeEvent). ' +
          'Resume with the Last-Event-ID header (or last_event_id): missed events are replayed; when they are no longer buffered (or the id is ahead of the newest event) ' +
          '`event: reset` with data {"oldest_seq","last_seq","reason"} comes first: reload the state, then continue. ' +
          `Heartbeats every ${cfg.heartbeatSeconds} s as \`event: heartbeat\` with Unix seconds. \`event: reconnect\` with {"reason"} ends the stream ` +
          `(reasons: "${RECONNECT_REASONS.slowConsumer}": more than ${cfg.client_buffer} live events waiting for a full socket; "${RECONNECT_REASONS.maxLifetime}": after ${cfg.maxLifetimeSeconds} s; ` +
          `"${RECONNECT_REASONS.shutdown}": the exporter is closing; "${RECONNECT_REASONS.writeFailed}": writing to the connection failed). ` +
          `At most ${cfg.max_connections} connections (503 beyond) and ${cfg.max_connections_per_ip} per client IP (429 beyond). ` +
          'HEAD checks the parameters and the limits like GET, answers with the stream headers and ends at once, holding no connection slot.',
        querystring,
        headers: Type.Object({ 'last-event-id': Type.Optional(Type.String({ description: 'Id of the last event received; sent by EventSource on reconnect' })) }),
        response: {
          200: { description: 'The event stream', content: { 'text/event-stream': { schema: Type.String() } } },
          400: { ...ErrorSchema, description: 'Bad parameters' },
          429: { ...ErrorSchema, description: 'Too many connections from this client IP' },
          503: { ...ErrorSchema, description: 'Too many connections in all' },
        },
      },
    },
    (request, reply) => {
      const sources = splitList('source', request.query.source);
      const types = splitEnumList('type', request.query.type, CHANGE_EVENT_TYPES);
      const lastId = parseLastEventId(request.headers['last-event-id'], request.query.last_event_id);
      const ip = ips.resolve(request.socket.remoteAddress, request.headers);
      const session = openEventStream(request, reply, { hub, ip, events: cfg, clock });
      if (!session) return;

      followEvents(session, deps.store.events, matcher(sources?.includes(ALL) ? undefined : sources, types), lastId, request.log);
      request.log.debug({ ip, sources, types, lastId }, 'event stream opened');
    },
  );
}
