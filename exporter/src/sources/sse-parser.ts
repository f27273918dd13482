/**
 * Incremental `text/event-stream` parser following the WHATWG HTML "server-sent events"
 * interpretation rules, usable for any upstream that pushes SSE (taskoteka `/events`, ...).
 */
import { SourceError } from './errors.js';

/** One dispatched server-sent event. */
export interface SseEvent {
  /** Event type; `message` when the stream did not name one. */
  event: string;
  /** Data lines joined with `\n` (the final newline removed, as the spec says). */
  data: string;
  /** The last event ID in effect when this event was dispatched, when one was ever set. */
  id?: string;
}

const BOM = '\uFEFF';

/** Default cap of one line or one event's data: an upstream (or a proxy) that never ends a line must not grow memory. */
export const DEFAULT_MAX_EVENT_CHARS = 1024 * 1024;

/**
 * Feed decoded text in chunks of any size with `push`; complete events come back in order.
 * Line breaks (CRLF, LF, CR) and the BOM may be split across chunks anywhere.
 */
export class SseParser {
  private buffer = '';
  private dataChars = 0;
  private started = false;
  /** A chunk ended in CR: an LF opening the next chunk belongs to that same line break. */
  private pendingCr = false;
  private eventType = '';
  private data: string[] = [];
  private lastId = '';
  private retryMs: number | undefined;

  /** Reconnection time the server asked for with `retry:`, in ms. */
  get retry(): number | undefined {
    return this.retryMs;
  }

  /** The last event ID buffer (what a client sends back as `Last-Event-ID`). */
  get lastEventId(): string {
    return this.lastId;
  }

  constructor(private readonly maxEventChars: number = DEFAULT_MAX_EVENT_CHARS) {}

  push(chunk: string): SseEvent[] {
    let text = chunk;
    if (!this.started) {
      // The spec strips one BOM at the start of the stream; it may arrive before any other text.
      if (text.length === 0) return [];
      this.started = true;
      if (text.startsWith(BOM)) text = text.slice(1);
    }
    if (this.pendingCr && text.length > 0) {
      this.pendingCr = false;
      if (text.startsWith('\n')) text = text.slice(1);
    }
    this.buffer += text;
    const out: SseEvent[] = [];
    let start = 0;
    for (;;) {
      const cr = this.buffer.indexOf('\r', start);
      const lf = this.buffer.indexOf('\n', start);
      if (cr < 0 && lf < 0) break;
      let end: number;
      let next: number;
      if (cr >= 0 && (lf < 0 || cr < lf)) {
        end = cr;
        if (cr + 1 < this.buffer.length) {
          next = this.buffer[cr + 1] === '\n' ? cr + 2 : cr + 1;
        } else {
          next = cr + 1;
          this.pendingCr = true;
        }
      } else {
        end = lf;
        next = lf + 1;
      }
      const event = this.line(this.buffer.slice(start, end));
      if (event) out.push(event);
      start = next;
    }
    this.buffer = this.buffer.slice(start);
    if (this.buffer.length > this.maxEventChars) {
      throw new SourceError('too_large', `the event stream sent a line of more than ${this.maxEventChars} characters without ending it`);
    }
    return out;
  }

  /** The stream ended: an event without its closing blank line is discarded, per the spec. */
  end(): void {
    this.buffer = '';
    this.data = [];
    this.dataChars = 0;
    this.eventType = '';
    this.pendingCr = false;
  }

  private line(line: string): SseEvent | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.dataChars += value.length + 1;
        if (this.dataChars > this.maxEventChars) {
          throw new SourceError('too_large', `the event stream sent an event of more than ${this.maxEventChars} characters of data`);
        }
        this.data.push(value);
        break;
      case 'id':
        if (!value.includes('\u0000')) this.lastId = value;
        break;
      case 'retry':
        if (/^[0-9]+$/.test(value)) this.retryMs = Number(value);
        break;
      default:
        break;
    }
    return undefined;
  }

  private dispatch(): SseEvent | undefined {
    const type = this.eventType;
    this.eventType = '';
    if (this.data.length === 0) return undefined;
    const data = this.data.join('\n');
    this.data = [];
    this.dataChars = 0;
    return { event: type || 'message', data, ...(this.lastId ? { id: this.lastId } : {}) };
  }
}

/**
 * Parse a byte (or text) stream into events. UTF-8 sequences split across chunks are decoded
 * correctly; leftover partial events at the end are dropped.
 */
export async function* parseSse(body: AsyncIterable<Uint8Array | string>, maxEventChars?: number): AsyncGenerator<SseEvent> {
  const parser = new SseParser(maxEventChars);
  // ignoreBOM keeps the BOM in the text so the parser strips exactly one, as the spec requires.
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  for await (const chunk of body) {
    const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    yield* parser.push(text);
  }
  const tail = decoder.decode();
  if (tail) yield* parser.push(tail);
  parser.end();
}
