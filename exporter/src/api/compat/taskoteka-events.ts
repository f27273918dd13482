/**
 * `GET /compat/taskoteka/<source>/events`: taskoteka's SSE stream for one girar source, fed by the
 * store's change events and served by the main stream's machinery (connection limits, heartbeats,
 * backpressure, forced reconnects), with taskoteka's `data:` shapes.
 */
import type { ChangeEvent } from '../../model/events.js';
import { systemClock } from '../../util/clock.js';
import { ClientIpResolver } from '../client-ip.js';
import type { ApiDeps, ApiInstance } from '../deps.js';
import { followEvents, openEventStream, sseHubOf } from '../events.js';
import type { CompatRoute } from './taskoteka.js';

/** The change events taskoteka has a word for: tasks only (no workers or jobs in girar). */
const TASK_EVENTS: ReadonlySet<string> = new Set(['task_new', 'task_updated', 'task_removed']);

/** taskoteka's `data:` of a task change event; undefined for events taskoteka has no word for (workers, jobs). */
export function taskotekaEventData(event: ChangeEvent): Record<string, unknown> | undefined {
  const id = Number(event.id);
  switch (event.type) {
    case 'task_new':
      return { id, state: event.state ?? '', owner: event.owner ?? '' };
    case 'task_updated':
      return { id, state: event.state ?? '', prev_state: event.prev_state ?? event.state ?? '', owner: event.owner ?? '' };
    case 'task_removed':
      return { id };
    default:
      return undefined;
  }
}

/** Frames by event, built once and shared by every compat client (as the main stream's `eventFrame`). */
const frames = new WeakMap<ChangeEvent, string>();

/** `id: <seq>`, `event: <type>`, `data: <taskoteka JSON>`: the `id:` line is what makes Last-Event-ID resume work. */
export function taskotekaFrame(event: ChangeEvent): string {
  let frame = frames.get(event);
  if (frame === undefined) {
    frame = `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(taskotekaEventData(event) ?? {})}\n\n`;
    frames.set(event, frame);
  }
  return frame;
}

/**
 * `Last-Event-ID` as a resume position. taskoteka has no resume, so its clients never send one
 * that buildscope did not hand out; anything that is not an event id is ignored rather than
 * refused, as taskoteka would.
 */
function lastEventId(header: string | string[] | undefined): number | undefined {
  const raw = Array.isArray(header) ? header[0] : header;
  const text = raw?.trim() ?? '';
  return /^\d{1,15}$/.test(text) ? Number(text) : undefined;
}

export function registerTaskotekaEvents(app: ApiInstance, deps: ApiDeps, route: CompatRoute): void {
  const cfg = deps.config.events;
  const clock = deps.clock ?? systemClock;
  const hub = sseHubOf(app, cfg);
  const ips = new ClientIpResolver(cfg.ip_header, cfg.trusted_proxies);

  app.get<{ Params: { source: string } }>(
    `${route.prefix}/events`,
    { ...route.options, config: { authArea: 'events' } },
    (request, reply) => {
      const { name, backend } = route.resolve(request.params.source);
      const ip = ips.resolve(request.socket.remoteAddress, request.headers);
      // The reply is hijacked below, so no onSend hook runs: the compat headers go out with the stream's.
      route.setHeaders(reply, backend);
      const session = openEventStream(request, reply, { hub, ip, events: cfg, clock, frame: taskotekaFrame });
      if (!session) return;
      const wanted = (event: ChangeEvent): boolean => event.source === name && TASK_EVENTS.has(event.type);
      const lastId = lastEventId(request.headers['last-event-id']);
      followEvents(session, deps.store.events, wanted, lastId, request.log);
      request.log.debug({ ip, source: name, lastId }, 'taskoteka-compatible event stream opened');
    },
  );
}
