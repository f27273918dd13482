/**
 * An incremental Server-Sent Events parser, as the HTML standard's "event stream interpretation"
 * describes it (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
 * lines end in CRLF, LF or CR (a CRLF split across two chunks counts once); a leading BOM is
 * dropped; `:` lines are comments; `data:` lines accumulate (joined by LF); `id:` sets the last
 * event id (an empty `id:` clears it, one holding NUL is ignored); `retry:` with only ASCII digits
 * sets the reconnection time; unknown fields are ignored; a blank line dispatches the event (none
 * when no `data:` was given); whatever is pending when the stream ends is discarded.
 *
 * It takes decoded text (feed it from a `TextDecoder` in streaming mode) in chunks of any size.
 */

export interface SseMessage {
  /** The `event:` field, or `message` when there was none. */
  type: string;
  data: string;
  /** The last event id after this event (from its own `id:` or an earlier one); '' when none. */
  lastEventId: string;
}

export interface SseParserHandlers {
  onMessage(message: SseMessage): void;
  /** A valid `retry:` field, in milliseconds. */
  onRetry?(ms: number): void;
  /** The text after `:` of a comment line (the exporter sends `: connected`). */
  onComment?(text: string): void;
  /**
   * The last event id changed on a dispatch that produced no message (a block with `id:` but no
   * `data:`); with a message, `SseMessage.lastEventId` carries it.
   */
  onLastEventId?(id: string): void;
}

export class SseParser {
  private buffer = '';
  /** The previous chunk ended with CR: a LF at the start of the next one belongs to it. */
  private pendingCR = false;
  private started = false;
  private data = '';
  private hasData = false;
  private eventType = '';
  private idBuffer: string;
  private dispatchedId: string;

  constructor(
    private readonly handlers: SseParserHandlers,
    /** The last event id to start from (the stream may change it with `id:`). */
    initialLastEventId = '',
  ) {
    this.idBuffer = initialLastEventId;
    this.dispatchedId = initialLastEventId;
  }

  /** The last event id as of the last dispatched event block. */
  get lastEventId(): string {
    return this.dispatchedId;
  }

  /** Feed the next piece of decoded text. Handlers run synchronously, in stream order. */
  push(chunk: string): void {
    if (chunk === '') return;
    let text = chunk;
    if (!this.started) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      if (text === '') return;
    }
    let start = 0;
    if (this.pendingCR) {
      this.pendingCR = false;
      if (text.charCodeAt(0) === 0x0a) start = 1;
    }
    const n = text.length;
    let i = start;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c !== 0x0a && c !== 0x0d) {
        i += 1;
        continue;
      }
      const line = this.buffer + text.slice(start, i);
      this.buffer = '';
      if (c === 0x0d) {
        if (i + 1 < n) {
          if (text.charCodeAt(i + 1) === 0x0a) i += 1;
        } else {
          this.pendingCR = true;
        }
      }
      i += 1;
      start = i;
      this.line(line);
    }
    if (start < n) this.buffer += text.slice(start);
  }

  /** The stream ended: an unterminated event is discarded (as the standard says). */
  end(): void {
    this.buffer = '';
    this.pendingCR = false;
    this.data = '';
    this.hasData = false;
    this.eventType = '';
  }

  private line(line: string): void {
    if (line === '') {
      this.dispatch();
      return;
    }
    const colon = line.indexOf(':');
    if (colon === 0) {
      this.handlers.onComment?.(line.slice(1).replace(/^ /, ''));
      return;
    }
    let field: string;
    let value: string;
    if (colon < 0) {
      field = line;
      value = '';
    } else {
      field = line.slice(0, colon);
      value = line.charCodeAt(colon + 1) === 0x20 ? line.slice(colon + 2) : line.slice(colon + 1);
    }
    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.data = this.hasData ? `${this.data}\n${value}` : value;
        this.hasData = true;
        break;
      case 'id':
        if (!value.includes('\u0000')) this.idBuffer = value;
        break;
      case 'retry':
        if (/^[0-9]+$/.test(value)) this.handlers.onRetry?.(Number(value));
        break;
      default:
        break;
    }
  }

  private dispatch(): void {
    const idChanged = this.idBuffer !== this.dispatchedId;
    this.dispatchedId = this.idBuffer;
    const { hasData, data, eventType } = this;
    this.data = '';
    this.hasData = false;
    this.eventType = '';
    if (!hasData) {
      if (idChanged) this.handlers.onLastEventId?.(this.dispatchedId);
      return;
    }
    this.handlers.onMessage({ type: eventType === '' ? 'message' : eventType, data, lastEventId: this.dispatchedId });
  }
}
