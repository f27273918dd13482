/** `--web.listen-address` values, as Prometheus exporters take them. */

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** All interfaces: `:port` listens on IPv6 and IPv4 (dual stack), as Go exporters do. */
export const ALL_INTERFACES = '::';

/** `host:port`, `:port` (all interfaces) or `[v6]:port`. */
export function parseListenAddress(addr: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(addr);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535) throw new UsageError(`--web.listen-address must be host:port, :port or [ipv6]:port, got "${addr}"`);
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? ALL_INTERFACES : host, port };
}
