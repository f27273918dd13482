/**
 * A plain loopback HTTP server that answers recorded APB payloads by path, for tests that need
 * exact control (a hanging GET /, an HTML page, a refused connection) independent of the simulator.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export function apbFixture(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
}

export interface FakeAnswer {
  status?: number;
  body: string;
  contentType?: string;
  /** Hold the answer until this resolves (a slow or hung upstream). */
  gate?: Promise<void>;
}

export type FakeRoute = FakeAnswer | ((req: IncomingMessage) => FakeAnswer);

export class FakeApbEndpoint {
  readonly routes = new Map<string, FakeRoute>();
  readonly requests: { path: string; authorization?: string }[] = [];
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
    const server = createServer((req, res) => void this.answer(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
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
    this.requests.push({ path, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
    const route = this.routes.get(path) ?? this.routes.get(path.replace(/\?.*$/, ''));
    const answer: FakeAnswer = route === undefined ? { status: 404, body: '{"detail":"Not Found"}' } : typeof route === 'function' ? route(req) : route;
    if (answer.gate) await answer.gate;
    if (res.destroyed) return;
    res.writeHead(answer.status ?? 200, { 'content-type': answer.contentType ?? 'application/json' }).end(answer.body);
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
