/**
 * The client IP the SSE limits and the API rate limit (web/guards.ts) count by. A proxy header
 * (`events.ip_header`) is believed only when the socket peer is one of `events.trusted_proxies`;
 * otherwise anyone could dodge the per-IP limits by sending the header.
 */
import { isIP } from 'node:net';

/** `::ffff:10.0.0.1` -> `10.0.0.1`; lower-case IPv6; undefined when not an IP. */
export function normalizeIp(raw: string): string | undefined {
  let ip = raw.trim().toLowerCase();
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4) ip = ip.slice(7);
  return isIP(ip) === 0 ? undefined : ip;
}

export class ClientIpResolver {
  private readonly trusted: ReadonlySet<string>;
  private readonly header: string;

  constructor(header: string, trustedProxies: readonly string[]) {
    this.header = header.toLowerCase();
    this.trusted = new Set(trustedProxies.map((p) => normalizeIp(p) ?? p.trim().toLowerCase()));
  }

  /**
   * The peer address, or (from a trusted proxy) the header's address. For list headers
   * (X-Forwarded-For) the rightmost address that is not itself a trusted proxy is the client.
   */
  resolve(peer: string | undefined, headers: Readonly<Record<string, string | string[] | undefined>>): string {
    const from = peer === undefined ? 'unknown' : (normalizeIp(peer) ?? peer);
    if (!this.trusted.has(from)) return from;
    const raw = headers[this.header];
    const value = Array.isArray(raw) ? raw.join(',') : raw;
    if (value === undefined || value.trim() === '') return from;
    const hops = value.split(',').map((h) => normalizeIp(h));
    if (hops.some((h) => h === undefined)) return from;
    const addresses = hops as string[];
    for (let i = addresses.length - 1; i >= 0; i -= 1) {
      const hop = addresses[i] as string;
      if (!this.trusted.has(hop)) return hop;
    }
    return addresses[0] ?? from;
  }
}
