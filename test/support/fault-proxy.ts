/**
 * A loopback HTTP proxy in front of one real upstream (a simulator) that injects one fault at a
 * time, switched per test: refused connections, a reset mid-body, a slow drip, error statuses,
 * 429 with Retry-After, HTML, truncated or rewritten bodies, enormous bodies. It records when each
 * request arrived, so a test can check the exporter waited as long as it was told to.
 */
import { request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { gunzipSync, inflateSync } from 'node:zlib';
import { listenLoopback } from '../../exporter/src/test-support/loopback.js';

export type Fault =
  | { type: 'pass' }
  /** Nothing listens: connections are refused. */
  | { type: 'refuse' }
  /** The upstream's status and headers, half its body, then the connection is destroyed. */
  | { type: 'reset' }
  /** Status 200 and headers, then one byte every `everyMs`, never finishing. */
  | { type: 'drip'; everyMs: number }
  /** An error status; with `echo`, its body repeats the request (its URL, headers and body), as careless servers do. */
  | { type: 'status'; status: number; body?: string; echo?: boolean }
  /** 429 with `Retry-After: seconds`. */
  | { type: 'retry-after'; seconds: number }
  /** A 200 with an HTML page (a login page, a captive portal). */
  | { type: 'html' }
  /** The upstream's body cut at `fraction`, sent as a complete response of that length. */
  | { type: 'truncate'; fraction: number }
  /** The upstream's (decoded) body rewritten. */
  | { type: 'rewrite'; rewrite: (body: Buffer, contentType: string) => Buffer | string }
  /** A 200 of `bytes` bytes of valid-looking JSON, streamed in chunks (never built whole). */
  | { type: 'huge'; bytes: number }
  /** The first answer ever recorded for the same request, again (the upstream went back in time). */
  | { type: 'replay' };

export interface ProxiedRequest {
  at: number;
  method: string;
  path: string;
  fault: Fault['type'];
}

export class FaultProxy {
  fault: Fault = { type: 'pass' };
  readonly requests: ProxiedRequest[] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly first = new Map<string, { status: number; headers: Record<string, string>; body: Buffer }>();
  private port = 0;
  private readonly target: URL;

  constructor(target: string) {
    this.target = new URL(target);
  }

  /** The proxy's origin (same port across refuse/pass switches). */
  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** A URL of the target rewritten to go through the proxy. */
  proxied(url: string): string {
    const u = new URL(url);
    return `${this.origin}${u.pathname === '/' && !url.endsWith('/') ? '' : u.pathname}${u.search}`;
  }

  async start(): Promise<void> {
    const { server, port } = await listenLoopback((req, res) => void this.handle(req, res), this.port, this.sockets);
    server.keepAliveTimeout = 1000;
    this.server = server;
    this.port = port;
  }

  /** Switch the fault; `refuse` closes the listener, anything else (re)opens it on the same port. */
  async set(fault: Fault): Promise<void> {
    this.fault = fault;
    if (fault.type === 'refuse') await this.closeListener();
    else if (!this.server) await this.start();
  }

  async close(): Promise<void> {
    this.cutConnections();
    await this.closeListener();
  }

  /** Requests that arrived after `since` (epoch ms). */
  since(since: number): ProxiedRequest[] {
    return this.requests.filter((r) => r.at >= since);
  }

  private cutConnections(): void {
    for (const s of this.sockets) s.destroy();
  }

  private async closeListener(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    this.cutConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const fault = this.fault;
    const path = req.url ?? '/';
    const reqBody = await readAll(req);
    this.requests.push({ at: Date.now(), method: req.method ?? 'GET', path, fault: fault.type });
    const isStream = (req.headers.accept ?? '').includes('text/event-stream');
    res.on('error', () => {});
    switch (fault.type) {
      case 'refuse':
        req.socket.destroy();
        return;
      case 'status':
        res
          .writeHead(fault.status, { 'content-type': 'text/plain' })
          .end(fault.echo ? `denied: ${req.method ?? ''} ${path} ${JSON.stringify(req.headers)} ${reqBody.toString('utf8')}` : (fault.body ?? `upstream failure ${fault.status}`));
        return;
      case 'retry-after':
        res.writeHead(429, { 'content-type': 'text/plain', 'retry-after': String(fault.seconds) }).end('slow down');
        return;
      case 'drip':
        return this.drip(res, fault.everyMs);
      case 'huge':
        return this.huge(res, fault.bytes);
      default:
    }
    // Event streams pass through for body faults: those are about poll payloads.
    if (isStream && fault.type !== 'reset') return this.pipeThrough(req, res, reqBody);
    let upstream: { status: number; headers: Record<string, string>; body: Buffer };
    try {
      upstream = await this.fetchUpstream(req, reqBody);
    } catch {
      res.destroy();
      return;
    }
    const key = `${req.method ?? 'GET'} ${path} ${reqBody.toString('utf8')}`;
    if (!this.first.has(key) && upstream.status === 200) this.first.set(key, upstream);
    const contentType = upstream.headers['content-type'] ?? 'application/octet-stream';
    const send = (status: number, type: string, body: Buffer | string) => {
      const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
      res.writeHead(status, { ...passHeaders(upstream.headers), 'content-type': type, 'content-length': String(buf.length) }).end(buf);
    };
    switch (fault.type) {
      case 'reset': {
        const half = upstream.body.subarray(0, Math.max(1, Math.floor(upstream.body.length / 2)));
        res.writeHead(upstream.status, { ...passHeaders(upstream.headers), 'content-type': contentType, 'content-length': String(upstream.body.length + 1000) });
        res.write(half, () => setTimeout(() => res.destroy(), 20));
        return;
      }
      case 'html':
        send(200, 'text/html; charset=utf-8', '<!DOCTYPE html><html><head><title>Sign in</title></head><body><form>Please sign in</form></body></html>');
        return;
      case 'truncate':
        send(upstream.status, contentType, upstream.body.subarray(0, Math.floor(upstream.body.length * fault.fraction)));
        return;
      case 'rewrite':
        send(upstream.status, contentType, upstream.status === 200 ? fault.rewrite(upstream.body, contentType) : upstream.body);
        return;
      case 'replay': {
        const old = this.first.get(key) ?? upstream;
        send(old.status, old.headers['content-type'] ?? contentType, old.body);
        return;
      }
      default:
        send(upstream.status, contentType, upstream.body);
    }
  }

  private drip(res: ServerResponse, everyMs: number): void {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('[');
    const timer = setInterval(() => {
      if (res.destroyed || this.fault.type !== 'drip') {
        clearInterval(timer);
        res.destroy();
        return;
      }
      res.write(' ');
    }, everyMs);
    res.on('close', () => clearInterval(timer));
  }

  private huge(res: ServerResponse, bytes: number): void {
    const chunk = Buffer.from(`${JSON.stringify('x'.repeat(1000))},`.repeat(64));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(bytes) });
    let sent = 0;
    res.write('[');
    sent += 1;
    const pump = () => {
      while (sent < bytes && !res.destroyed) {
        const part = chunk.subarray(0, Math.min(chunk.length, bytes - sent));
        sent += part.length;
        if (!res.write(part)) {
          res.once('drain', pump);
          return;
        }
      }
      if (!res.destroyed) res.end();
    };
    pump();
  }

  private pipeThrough(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const up = httpRequest({ host: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers: { ...req.headers, host: this.target.host } }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    up.end(body);
  }

  private fetchUpstream(req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: this.target.host };
      const up = httpRequest({ host: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers }, (upRes) => {
        void readAll(upRes).then((raw) => {
          const flat: Record<string, string> = {};
          for (const [k, v] of Object.entries(upRes.headers)) if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : v;
          const enc = (flat['content-encoding'] ?? '').toLowerCase();
          const decoded = enc.includes('gzip') ? gunzipSync(raw) : enc.includes('deflate') ? inflateSync(raw) : raw;
          delete flat['content-encoding'];
          resolve({ status: upRes.statusCode ?? 502, headers: flat, body: decoded });
        }, reject);
      });
      up.on('error', reject);
      up.end(body);
    });
  }
}

function passHeaders(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (!['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'content-encoding'].includes(k)) out[k] = v;
  return out;
}

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
