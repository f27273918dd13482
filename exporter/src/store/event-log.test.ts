import { describe, expect, it } from 'vitest';
import { EventLog } from './event-log.js';

const ev = (id: string) => ({ at: '2026-03-16T12:00:00Z', type: 'task_new' as const, source: 's', kind: 'girar', id });

describe('EventLog', () => {
  it('replays exactly the events after a seq within the window', () => {
    const log = new EventLog(3);
    for (const id of ['a', 'b', 'c', 'd']) log.append(ev(id));
    expect(log.oldestSeq).toBe(2);
    const r = log.since(2);
    expect(r).toEqual({ type: 'events', events: [expect.objectContaining({ seq: 3, id: 'c' }), expect.objectContaining({ seq: 4, id: 'd' })] });
    expect(log.since(4)).toEqual({ type: 'events', events: [] });
    expect(log.since(1)).toEqual({ type: 'events', events: [expect.objectContaining({ seq: 2 }), expect.objectContaining({ seq: 3 }), expect.objectContaining({ seq: 4 })] });
  });
  it('answers reset for positions older than the window or from the future', () => {
    const log = new EventLog(2);
    for (const id of ['a', 'b', 'c']) log.append(ev(id));
    expect(log.since(0)).toEqual({ type: 'reset', oldestSeq: 2, lastSeq: 3 });
    expect(log.since(9)).toEqual({ type: 'reset', oldestSeq: 2, lastSeq: 3 });
  });
  it('continues from a restored sequence number', () => {
    const log = new EventLog(5, 41);
    expect(log.append(ev('x')).seq).toBe(42);
  });
  it('fans out to subscribers until they unsubscribe', () => {
    const log = new EventLog(5);
    const seen: number[] = [];
    const off = log.subscribe((e) => seen.push(e.seq));
    log.append(ev('a'));
    off();
    log.append(ev('b'));
    expect(seen).toEqual([1]);
    expect(log.subscriberCount).toBe(0);
  });
});
