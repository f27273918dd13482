import { describe, it, expect } from 'vitest';
import { SseParser, parseSse, type SseEvent } from './sse-parser.js';

function parseAll(chunks: string[]): SseEvent[] {
  const p = new SseParser();
  const out: SseEvent[] = [];
  for (const c of chunks) out.push(...p.push(c));
  p.end();
  return out;
}

/** Every way of cutting `text` into two and three pieces must give the same events. */
function allSplits(text: string): string[][] {
  const splits: string[][] = [[text], [...text]];
  for (let i = 0; i <= text.length; i++) {
    splits.push([text.slice(0, i), text.slice(i)]);
    for (let j = i; j <= text.length; j += 3) splits.push([text.slice(0, i), text.slice(i, j), text.slice(j)]);
  }
  return splits;
}

async function* bytes(parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield p;
}

const TASKOTEKA_SAMPLE =
  'event: task_updated\ndata: {"id":12345,"state":"BUILDING","prev_state":"NEW","owner":"rider"}\n\n' +
  'event: heartbeat\ndata: 1773073640\n\n' +
  'event: task_new\ndata: {"id":12346,"state":"NEW","owner":"lav"}\n\n';

describe('SseParser', () => {
  it('parses the taskoteka README example', () => {
    expect(parseAll([TASKOTEKA_SAMPLE])).toEqual([
      { event: 'task_updated', data: '{"id":12345,"state":"BUILDING","prev_state":"NEW","owner":"rider"}' },
      { event: 'heartbeat', data: '1773073640' },
      { event: 'task_new', data: '{"id":12346,"state":"NEW","owner":"lav"}' },
    ]);
  });

  it('gives the same events however the stream is chunked', () => {
    const text = '\uFEFFevent: a\r\ndata: x\r\ndata:  y\r\n\r\n: comment\rid: 7\rdata: z\r\rdata\n\n';
    const expected = [
      { event: 'a', data: 'x\n y' },
      { event: 'message', data: 'z', id: '7' },
      { event: 'message', data: '', id: '7' },
    ];
    for (const split of allSplits(text)) expect(parseAll(split), JSON.stringify(split)).toEqual(expected);
  });

  it('treats CR LF split across chunks as one line break, not two', () => {
    // Two breaks would be an empty line and dispatch the half-built event too early.
    expect(parseAll(['data: a\r', '\ndata: b\r', '\n\r', '\n'])).toEqual([{ event: 'message', data: 'a\nb' }]);
    expect(parseAll(['data: a\r', '', '\ndata: b\r\n\r\n'])).toEqual([{ event: 'message', data: 'a\nb' }]);
  });

  it('strips one leading BOM only, even when it arrives alone', () => {
    expect(parseAll(['', '\uFEFF', 'data: x\n\n'])).toEqual([{ event: 'message', data: 'x' }]);
    // A second BOM is part of the first field name, which is then unknown and ignored.
    expect(parseAll(['\uFEFF\uFEFFdata: x\n\ndata: y\n\n'])).toEqual([{ event: 'message', data: 'y' }]);
  });

  it('does not dispatch events without data and resets the type after each blank line', () => {
    expect(parseAll(['event: ping\n\ndata: 1\n\n'])).toEqual([{ event: 'message', data: '1' }]);
  });

  it('keeps the last event id across events, and an empty id clears it', () => {
    expect(parseAll(['id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\nid: x\u0000y\ndata: d\n\n'])).toEqual([
      { event: 'message', data: 'a', id: '1' },
      { event: 'message', data: 'b', id: '1' },
      { event: 'message', data: 'c' },
      { event: 'message', data: 'd' },
    ]);
  });

  it('keeps a colon inside the value and removes only one leading space', () => {
    expect(parseAll(['data:  {"a": "b:c"}\n\n'])).toEqual([{ event: 'message', data: ' {"a": "b:c"}' }]);
  });

  it('accepts only all-digit retry values and ignores unknown fields', () => {
    const p = new SseParser();
    p.push('retry: 15x\nfoo: bar\n');
    expect(p.retry).toBeUndefined();
    p.push('retry: 2500\n');
    expect(p.retry).toBe(2500);
    expect(p.push('\n')).toEqual([]);
  });

  it('drops an event that is not closed by a blank line before the end', () => {
    expect(parseAll(['data: complete\n\ndata: partial\n'])).toEqual([{ event: 'message', data: 'complete' }]);
  });

  it('decodes UTF-8 split inside a multi-byte character and a byte-level BOM', async () => {
    const raw = new TextEncoder().encode('\uFEFFevent: task_new\ndata: {"owner":"ёжик ✓"}\n\n');
    const parts: Uint8Array[] = [];
    for (let i = 0; i < raw.length; i++) parts.push(raw.subarray(i, i + 1));
    const events: SseEvent[] = [];
    for await (const e of parseSse(bytes(parts))) events.push(e);
    expect(events).toEqual([{ event: 'task_new', data: '{"owner":"ёжик ✓"}' }]);
  });
});

describe('SseParser limits', () => {
  it('fails with too_large on a line that never ends, instead of buffering without bound', () => {
    const parser = new SseParser(64);
    expect(() => parser.push('data: ' + 'x'.repeat(40))).not.toThrow();
    expect(() => parser.push('y'.repeat(40))).toThrow(expect.objectContaining({ code: 'too_large' }));
  });
  it('fails with too_large on an event whose data lines add up past the cap', () => {
    const parser = new SseParser(64);
    expect(() => parser.push('data: ' + 'a'.repeat(30) + '\ndata: ' + 'b'.repeat(30) + '\ndata: ' + 'c'.repeat(30) + '\n')).toThrow(expect.objectContaining({ code: 'too_large' }));
  });
  it('counts each event afresh', () => {
    const parser = new SseParser(64);
    for (let i = 0; i < 10; i += 1) expect(parser.push(`data: ${'z'.repeat(50)}\n\n`)).toHaveLength(1);
  });
});
