/**
 * Plumbing shared by the simulators (demo mode and tests): a loopback HTTP server on an
 * ephemeral port that can play "down" (every connection reset, the port kept so it comes back on
 * the same URL), and delays that close() can cut short.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SimServer {
  server: Server;
  /** `http://host:port`, with IPv6 hosts in brackets. */
  url: string;
}

/** Listen on an ephemeral port of `host`; while `isDown()` says so, every new connection is reset. */
export async function listenSim(host: string, handler: (req: IncomingMessage, res: ServerResponse) => void, isDown: () => boolean): Promise<SimServer> {
  const server = createServer(handler);
  server.on('connection', (socket) => {
    if (isDown()) socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const h = host.includes(':') ? `[${host}]` : host;
  return { server, url: `http://${h}:${(server.address() as AddressInfo).port}` };
}

/** Stop a simulator's server and cut its open connections. */
export function closeSim(server: Server | undefined): Promise<void> {
  if (!server) return Promise.resolve();
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Delays for slow answers that `wakeAll` ends at once (on close). */
export class Delays {
  private readonly pending = new Map<NodeJS.Timeout, () => void>();

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(timer);
        resolve();
      }, ms);
      this.pending.set(timer, resolve);
    });
  }

  wakeAll(): void {
    for (const [timer, resolve] of this.pending) {
      clearTimeout(timer);
      resolve();
    }
    this.pending.clear();
  }
}

/** An answer a simulator has computed: sent as is, with its content-length. */
export interface SimReply {
  status: number;
  headers: Record<string, string | number>;
  body: Buffer;
}

/**
 * What every single-server simulator shares (Cuirass, karajo, Koji): the loopback server and its
 * fault mode (`down` resets connections, `slow` delays answers), the demo timer that steps the
 * model, sending a reply, and a close that cuts everything short. A subclass adds its model, its
 * routes (`serve`) and its controls.
 */
export abstract class SimulatorShell<M extends string> {
  protected slowMs = 0;
  protected http: Server | undefined;
  protected closed = false;
  private readonly delays = new Delays();
  private stepper: NodeJS.Timeout | undefined;

  constructor(
    /** For messages, e.g. `koji simulator`. */
    private readonly label: string,
    protected mode: M,
  ) {}

  /** Everything due up to the clock's now. */
  abstract step(): void;

  protected abstract serve(req: IncomingMessage, res: ServerResponse): Promise<void>;

  /** Listen on an ephemeral port of `host`; returns the base URL. */
  async listen(host = '127.0.0.1'): Promise<string> {
    if (this.http) throw new Error(`${this.label}: already listening`);
    const { server, url } = await listenSim(host, (req, res) => void this.serve(req, res), () => this.mode === 'down');
    this.http = server;
    return url;
  }

  /** Demo: run `tick` (by default `step`) every `stepMs`. */
  start(opts: { stepMs: number }): void {
    this.stop();
    this.stepper = setInterval(() => this.tick(), opts.stepMs);
  }

  /** Stops the timer only. */
  stop(): void {
    if (this.stepper) clearInterval(this.stepper);
    this.stepper = undefined;
  }

  /** 'down' resets every connection (the port stays bound, so 'ok' brings it back on the same URL);
   * 'slow' delays every answer by `slowMs` (default 5000); other modes are the simulator's own. */
  setMode(mode: M, slowMs = 5000): void {
    this.mode = mode;
    this.slowMs = mode === 'slow' ? slowMs : 0;
    if (mode === 'down') this.http?.closeAllConnections();
  }

  async close(): Promise<void> {
    this.stop();
    this.closed = true;
    this.delays.wakeAll();
    const http = this.http;
    this.http = undefined;
    await closeSim(http);
  }

  /** One demo timer tick. */
  protected tick(): void {
    this.step();
  }

  /** Send a reply, after the `slow` delay of the mode it was computed in; nothing once closed or gone. */
  protected async send(req: IncomingMessage, res: ServerResponse, reply: SimReply, mode: M): Promise<void> {
    if (mode === 'slow') await this.delays.sleep(this.slowMs);
    if (this.closed || res.destroyed) return;
    res.writeHead(reply.status, { ...reply.headers, 'content-length': reply.body.length });
    res.end(req.method === 'HEAD' ? undefined : reply.body);
  }
}
