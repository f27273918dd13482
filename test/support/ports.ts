import { createServer } from 'node:net';

/**
 * A TCP port free on 127.0.0.1 right now (for programs that cannot listen on port 0 and report it).
 * Check-then-use: the port is released before the caller's program binds it, and anything may take
 * it in between. Callers must cope with "address already in use" (startPrometheus retries with a
 * new port).
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
