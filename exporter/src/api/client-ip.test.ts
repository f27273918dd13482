import { describe, expect, it } from 'vitest';
import { ClientIpResolver, normalizeIp } from './client-ip.js';

describe('normalizeIp', () => {
  it('unwraps IPv4-mapped IPv6 and brackets, rejects non-IPs', () => {
    expect(normalizeIp('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(normalizeIp('[::1]')).toBe('::1');
    expect(normalizeIp(' 2001:DB8::1 ')).toBe('2001:db8::1');
    expect(normalizeIp('example.org')).toBeUndefined();
  });
});

describe('ClientIpResolver', () => {
  const resolver = new ClientIpResolver('X-Real-IP', ['10.0.0.1', '::ffff:10.0.0.2']);

  it('uses the socket address of an untrusted peer, ignoring the header', () => {
    expect(resolver.resolve('192.0.2.7', { 'x-real-ip': '198.51.100.1' })).toBe('192.0.2.7');
    expect(resolver.resolve('::ffff:192.0.2.7', {})).toBe('192.0.2.7');
  });

  it('believes the header from a trusted proxy', () => {
    expect(resolver.resolve('10.0.0.1', { 'x-real-ip': '198.51.100.1' })).toBe('198.51.100.1');
    expect(resolver.resolve('::ffff:10.0.0.2', { 'x-real-ip': '198.51.100.2' })).toBe('198.51.100.2');
  });

  it('falls back to the proxy address when the header is missing or not an IP', () => {
    expect(resolver.resolve('10.0.0.1', {})).toBe('10.0.0.1');
    expect(resolver.resolve('10.0.0.1', { 'x-real-ip': 'unknown' })).toBe('10.0.0.1');
  });

  it('takes the rightmost untrusted hop of a forwarded list', () => {
    const xff = new ClientIpResolver('x-forwarded-for', ['10.0.0.1', '10.0.0.2']);
    expect(xff.resolve('10.0.0.1', { 'x-forwarded-for': '203.0.113.9, 198.51.100.1, 10.0.0.2' })).toBe('198.51.100.1');
    expect(xff.resolve('10.0.0.1', { 'x-forwarded-for': '10.0.0.2' })).toBe('10.0.0.2');
  });
});
