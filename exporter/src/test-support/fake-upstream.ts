/**
 * A plain loopback HTTP server that answers fixed payloads by path, for source tests that need
 * exact control (a hanging request, an HTML page, a gzip body, a refused connection) independent
 * of the simulators.
 */
import { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { afterEach } from 'vitest';
import { listenLoopback } from './loopback.js';

export interface FakeAnswer {
  status?: number;
  body: string | Buffer;
  contentType?: string;
  /** More response headers, e.g. `content-encoding: gzip`, `set-cookie`. */
  headers?: Record<string, string>;
  /** Hold the answer until this resolves (a slow or hung upstream). */
  gate?: Promise<void>;
}

export type FakeRoute = FakeAnswer | ((req: IncomingMessage) => FakeAnswer);

export class FakeUpstream {
  readonly routes = new Map<string, FakeRoute>();
  readonly requests: { method: string; path: string; authorization?: string; cookie?: string; body: string }[] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private port = 0;

  constructor(routes: Record<string, FakeRoute> = {}) {
    for (const [path, route] of Object.entries(routes)) this.routes.set(path, route);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Listen (again on the same port after `down`). */
  async up(): Promise<string> {
    const { server, port } = await listenLoopback((req, res) => void this.answer(req, res), this.port, this.sockets);
    this.server = server;
    this.port = port;
    return this.url;
  }

  /** Stop listening and cut open connections: requests are refused until `up`. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? '/';
    let body = '';
    for await (const chunk of req) body += (chunk as Buffer).toString();
    this.requests.push({ method: req.method ?? 'GET', path, body, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}), ...(req.headers.cookie ? { cookie: req.headers.cookie } : {}) });
    const route = this.routes.get(path) ?? this.routes.get(path.replace(/\?.*$/, ''));
    const answer: FakeAnswer = route === undefined ? { status: 404, body: '{"detail":"Not Found"}' } : typeof route === 'function' ? route(req) : route;
    if (answer.gate) await answer.gate;
    if (res.destroyed) return;
    res.writeHead(answer.status ?? 200, { 'content-type': answer.contentType ?? 'application/json', ...answer.headers }).end(answer.body);
  }
}

/** A promise and the function that resolves it. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** A factory of listening fake upstreams, all stopped after each test of the calling file. */
export function fakeUpstreams(): (routes: Record<string, FakeRoute>) => Promise<FakeUpstream> {
  const started: FakeUpstream[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((e) => e.down()));
  });
  return async (routes) => {
    const e = new FakeUpstream(routes);
    await e.up();
    started.push(e);
    return e;
  };
}
