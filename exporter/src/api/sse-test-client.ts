/**
 * A raw SSE client for tests against a real listening server (node:http, one connection per
 * stream, no EventSource magic): collects parsed frames, can pause reading like a slow consumer.
 */
import { request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { ChangeEvent } from '../model/events.js';
import { waitUntil } from '../util/wait-until.js';
import { sseStats } from './events.js';
import { buildTestApi, girarTask, type TestApi, type TestApiOptions } from './test-helpers.js';

export interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
  retry?: string;
  comments: string[];
}

export class SseTestClient {
  readonly frames: SseFrame[] = [];
  /** The text of the body so far (kept only up to 64 KiB: big streams are only parsed). */
  head = '';
  ended = false;
  private buffer = '';

  private constructor(
    readonly status: number,
    readonly headers: IncomingHttpHeaders,
    private readonly res: IncomingMessage,
  ) {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => this.onData(chunk));
    res.on('end', () => (this.ended = true));
    res.on('close', () => (this.ended = true));
    res.on('error', () => (this.ended = true));
  }

  /** Open a stream; resolves once the response headers arrived (any status). */
  static open(base: string, path: string, headers: Record<string, string> = {}): Promise<SseTestClient> {
    return new Promise((resolve, reject) => {
      const req = request(new URL(path, base), { agent: false, headers: { accept: 'text/event-stream', ...headers } }, (res) => resolve(new SseTestClient(res.statusCode ?? 0, res.headers, res)));
      req.on('error', reject);
      req.end();
    });
  }

  /** The JSON body of a non-stream (error) answer. */
  async json(): Promise<unknown> {
    await waitUntil(() => this.ended, 5000, { what: 'the end of the response body' });
    return JSON.parse(this.head) as unknown;
  }

  /** Frames carrying an `event:` (comments and the retry preamble left out). */
  events(name?: string): SseFrame[] {
    return this.frames.filter((f) => f.event !== undefined && (name === undefined || f.event === name));
  }

  async waitForEvents(count: number, name?: string, timeoutMs = 5000): Promise<SseFrame[]> {
    await waitUntil(() => this.events(name).length >= count, timeoutMs, { what: `${count} ${name ?? 'any'} event(s); got ${this.events(name).length}` });
    return this.events(name);
  }

  /** Stop reading from the socket, as a consumer that fell behind. */
  pause(): void {
    this.res.pause();
    this.res.socket.pause();
  }

  resume(): void {
    this.res.socket.resume();
    this.res.resume();
  }

  close(): void {
    this.res.destroy();
  }

  private onData(chunk: string): void {
    if (this.head.length < 65_536) this.head += chunk.slice(0, 65_536 - this.head.length);
    this.buffer += chunk;
    let end = this.buffer.indexOf('\n\n');
    while (end !== -1) {
      this.frames.push(parseFrame(this.buffer.slice(0, end)));
      this.buffer = this.buffer.slice(end + 2);
      end = this.buffer.indexOf('\n\n');
    }
  }
}

function parseFrame(block: string): SseFrame {
  const frame: SseFrame = { comments: [] };
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) {
      frame.comments.push(line.slice(1).trim());
      continue;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id' || field === 'event' || field === 'retry') frame[field] = value;
    else if (field === 'data') frame.data = frame.data === undefined ? value : `${frame.data}\n${value}`;
  }
  return frame;
}

/** A served test API plus the SSE clients opened against it; `cleanup()` closes both. */
export class SseHarness {
  private current: TestApi | undefined;
  private base = '';
  private readonly clients: SseTestClient[] = [];

  async serve(options: TestApiOptions = {}): Promise<TestApi> {
    this.current = await buildTestApi(options);
    this.base = await this.current.app.listen({ host: '127.0.0.1', port: 0 });
    return this.current;
  }

  /** The base URL of the served API, e.g. `http://127.0.0.1:40123`. */
  get url(): string {
    if (!this.current) throw new Error('serve() first');
    return this.base;
  }

  get api(): TestApi {
    if (!this.current) throw new Error('serve() first');
    return this.current;
  }

  async connect(path = '/api/v1/events', headers: Record<string, string> = {}): Promise<SseTestClient> {
    const client = await SseTestClient.open(this.base, path, headers);
    this.clients.push(client);
    return client;
  }

  /** Change the state of one girar task of the fixture: exactly one task_updated event. */
  touch(id: string, state: string): ChangeEvent {
    const [event] = this.api.store.apply('alt', 'girar', { type: 'delta', tasks: [girarTask(id, state, 'p11', 'rider')] });
    if (!event) throw new Error(`task ${id} already was ${state}`);
    return event;
  }

  async cleanup(): Promise<void> {
    for (const c of this.clients.splice(0)) c.close();
    if (!this.current) return;
    await waitUntil(() => sseStats().clients === 0, 5000, { what: 'every SSE client to be gone' });
    await this.current.app.close();
    this.current = undefined;
  }
}
