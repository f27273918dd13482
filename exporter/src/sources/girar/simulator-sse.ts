/**
 * The simulator's `GET /events`: taskoteka's SSE stream with its connection limits,
 * heartbeats, forced reconnects after a maximum lifetime, and clean teardown.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface SseHubOptions {
  maxConnections: number;
  maxPerIp: number;
  /** Forced `reconnect` after this long; 0 = never. */
  maxLifetimeMs: number;
  baseHeaders: () => Record<string, string>;
}

interface Client {
  res: ServerResponse;
  ip: string;
  lifetime?: NodeJS.Timeout;
}

export class SseHub {
  private readonly clients = new Set<Client>();

  constructor(private readonly options: SseHubOptions) {}

  get size(): number {
    return this.clients.size;
  }

  /** Accept or refuse (503 global cap, 429 per-IP cap) a new subscriber, as taskoteka does. */
  open(req: IncomingMessage, res: ServerResponse): void {
    const ip = req.socket.remoteAddress ?? 'unknown';
    const fromIp = [...this.clients].filter((c) => c.ip === ip).length;
    if (this.clients.size >= this.options.maxConnections) {
      return refuse(res, 503, 'too many SSE connections', this.options.baseHeaders());
    }
    if (fromIp >= this.options.maxPerIp) {
      return refuse(res, 429, `too many SSE connections from ${ip}`, this.options.baseHeaders());
    }
    res.writeHead(200, {
      ...this.options.baseHeaders(),
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    const client: Client = { res, ip };
    if (this.options.maxLifetimeMs > 0) {
      client.lifetime = setTimeout(() => this.drop(client, 'max lifetime reached'), this.options.maxLifetimeMs);
      client.lifetime.unref();
    }
    this.clients.add(client);
    res.on('close', () => this.forget(client));
  }

  /** Send one event to every subscriber. */
  broadcast(event: string, data: unknown): void {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const c of this.clients) if (!c.res.destroyed) c.res.write(frame);
  }

  /** Tell every subscriber to reconnect, then end their streams. */
  reconnectAll(reason: string): void {
    for (const c of [...this.clients]) this.drop(c, reason);
  }

  /** End every stream without a goodbye (server shutdown). */
  closeAll(): void {
    for (const c of [...this.clients]) {
      this.forget(c);
      c.res.end();
    }
  }

  private drop(client: Client, reason: string): void {
    if (!client.res.destroyed) client.res.end(`event: reconnect\ndata: ${JSON.stringify({ reason })}\n\n`);
    this.forget(client);
  }

  private forget(client: Client): void {
    if (client.lifetime) clearTimeout(client.lifetime);
    this.clients.delete(client);
  }
}

function refuse(res: ServerResponse, status: number, error: string, headers: Record<string, string>): void {
  const body = JSON.stringify({ error });
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
