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
