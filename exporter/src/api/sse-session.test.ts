/** SseSession without sockets: a fake response records what each session writes. */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ChangeEvent } from '../model/events.js';
import { buildEventFrame, eventFrame, RECONNECT_REASONS, SseSession, type SseCounters } from './sse-session.js';

/** The part of ServerResponse a session uses; `writable = false` makes writes report a full socket until `drain()`. */
class FakeResponse extends EventEmitter {
  chunks: string[] = [];
  writable = true;
  writableEnded = false;
  destroyed = false;
  writeHead(): this {
    return this;
  }
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return this.writable;
  }
  end(chunk?: string): this {
    if (chunk !== undefined) this.chunks.push(chunk);
    this.writableEnded = true;
    return this;
  }
  destroy(): this {
    this.destroyed = true;
    return this;
  }
  drain(): void {
    this.writable = true;
    this.emit('drain');
  }
  /** The change-event frames written, in order. */
  eventFrames(): string[] {
    return this.chunks.filter((c) => c.startsWith('id: '));
  }
}

function session(res: FakeResponse, counters: SseCounters): SseSession {
  const s = new SseSession(res as unknown as ServerResponse, { clientBuffer: 100, heartbeatMs: 0, maxLifetimeMs: 0, now: () => 0, counters, onClosed: () => undefined });
  s.open();
  return s;
}

let seq = 0;
function event(more: Partial<ChangeEvent> = {}): ChangeEvent {
  seq += 1;
  return { seq, at: '2026-03-16T12:00:00Z', type: 'task_updated', source: 'alt', kind: 'girar', id: String(411000 + seq), state: 'FAILING', prev_state: 'BUILDING', ...more };
}

afterEach(() => vi.restoreAllMocks());

describe('SSE event frames', () => {
  it('are the id/event/data text of the event', () => {
    const e = event({ seq: 42 });
    expect(eventFrame(e)).toBe(`id: 42\nevent: task_updated\ndata: ${JSON.stringify(e)}\n\n`);
    expect(eventFrame(e)).toBe(buildEventFrame(e));
  });

  it('are serialized once per event however many sessions send it, filtered, blocked or replayed', () => {
    const counters: SseCounters = { sent: 0, dropped_slow: 0 };
    const responses = Array.from({ length: 6 }, () => new FakeResponse());
    const sessions = responses.map((r) => session(r, counters));
    const events = [event(), event({ source: 'fedora', kind: 'koji' }), event({ type: 'task_new' })];
    const stringify = vi.spyOn(JSON, 'stringify');
    const stringified = () => stringify.mock.calls.filter(([value]) => events.includes(value as ChangeEvent)).length;

    // Session 1's socket is full after its first write: the rest queue and go out on drain.
    (responses[1] as FakeResponse).writable = false;
    for (const e of events) {
      sessions.forEach((s, i) => {
        // Filtering stays per client (events.ts does it before sendEvent): session 2 only wants alt.
        if (i === 2 && e.source !== 'alt') return;
        s.sendEvent(e);
      });
    }
    expect(responses[1]?.eventFrames()).toHaveLength(1);
    (responses[1] as FakeResponse).drain();
    // A reconnecting client replays the same events.
    const late = new FakeResponse();
    session(late, counters).replay(events);

    expect(stringified()).toBe(events.length);
    const all = events.map((e) => buildEventFrame(e));
    for (const [i, r] of responses.entries()) {
      expect(r.eventFrames(), `session ${i}`).toEqual(i === 2 ? [all[0], all[2]] : all);
    }
    expect(late.eventFrames()).toEqual(all);
    expect(counters.sent).toBe(6 * 3 - 1 + 3);
  });
});

describe('reconnect reasons', () => {
  it('are each listed in the SSE section of docs/api.md', () => {
    const doc = readFileSync(new URL('../../../docs/api.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('## Events: `GET /api/v1/events`'), doc.indexOf('## Health'));
    expect(section.length).toBeGreaterThan(0);
    for (const reason of Object.values(RECONNECT_REASONS)) expect(section, reason).toContain(`\`"${reason}"\``);
  });

  it('are what end() sends', () => {
    const res = new FakeResponse();
    session(res, { sent: 0, dropped_slow: 0 }).end(RECONNECT_REASONS.writeFailed);
    expect(res.chunks.at(-1)).toBe('event: reconnect\ndata: {"reason":"write failed"}\n\n');
    expect(res.writableEnded).toBe(true);
  });
});

describe('SseSession write coalescing', () => {
  const coalescing = (res: FakeResponse, counters: SseCounters, clientBuffer = 100) => {
    const s = new SseSession(res as unknown as ServerResponse, { clientBuffer, heartbeatMs: 0, maxLifetimeMs: 0, now: () => 0, counters, onClosed: () => undefined, coalesceMs: 5 });
    s.open();
    return s;
  };

  it('writes the events published within the window in one write, in order, once the window ends', async () => {
    const res = new FakeResponse();
    const counters: SseCounters = { sent: 0, dropped_slow: 0 };
    const s = coalescing(res, counters);
    const before = res.chunks.length;
    const events = [event(), event(), event()];
    s.sendEvent(events[0] as ChangeEvent);
    s.sendEvents([events[1] as ChangeEvent, events[2] as ChangeEvent]);
    expect(res.chunks.length).toBe(before);
    await vi.waitFor(() => expect(res.chunks.length).toBe(before + 1), { timeout: 1000, interval: 2 });
    expect(res.chunks.at(-1)).toBe(events.map((e) => eventFrame(e)).join(''));
    expect(counters.sent).toBe(3);
  });

  it('writes held frames before anything else the session writes (order kept), and at the end', () => {
    const res = new FakeResponse();
    const s = coalescing(res, { sent: 0, dropped_slow: 0 });
    const e = event();
    s.sendEvent(e);
    s.sendControl('reset', { reason: 'test' });
    expect(res.chunks.slice(-2)).toEqual([eventFrame(e), expect.stringMatching(/^event: reset\n/) as string]);
    const f = event();
    s.sendEvent(f);
    s.end(RECONNECT_REASONS.shutdown);
    expect(res.chunks.slice(-2)).toEqual([eventFrame(f), expect.stringMatching(/^event: reconnect\n/) as string]);
  });

  it('never holds more than a batch: a burst is written at once, and a full socket still queues and ends a slow client', () => {
    const res = new FakeResponse();
    const counters: SseCounters = { sent: 0, dropped_slow: 0 };
    const s = coalescing(res, counters, 16);
    const before = res.chunks.length;
    const burst = Array.from({ length: 64 }, () => event());
    s.sendEvents(burst);
    expect(res.chunks.length).toBe(before + 1);
    expect(res.eventFrames().length).toBe(1);
    // The socket is full now: what follows queues up to clientBuffer, then the client is dropped.
    res.writable = false;
    s.sendEvents(Array.from({ length: 64 }, () => event()));
    expect(res.chunks.length).toBe(before + 2);
    s.sendEvents(Array.from({ length: 17 }, () => event()));
    expect(counters.dropped_slow).toBe(1);
    expect(res.chunks.at(-1)).toMatch(/^event: reconnect\n.*slow consumer/s);
  });
});
