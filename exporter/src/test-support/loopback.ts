/** A test HTTP server on loopback that tracks its sockets, so it can be taken down (and up again on the same port) at once. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** Listens on 127.0.0.1:`port` (0: any free port); adds each connection to `sockets` until it closes. */
export async function listenLoopback(handler: (req: IncomingMessage, res: ServerResponse) => void, port: number, sockets: Set<Socket>): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
