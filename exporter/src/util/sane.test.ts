import { describe, expect, it } from 'vitest';
import { pathSegment, requestable, saneTimeMs, wellFormed } from './sane.js';

describe('upstream value guards', () => {
  it('accepts times from 2000 to 2200 only', () => {
    expect(saneTimeMs(Date.parse('2026-11-24T06:00:00Z'))).toBe(true);
    expect(saneTimeMs(Date.parse('1999-12-31T23:59:59Z'))).toBe(false);
    expect(saneTimeMs(1e13 * 1000)).toBe(false);
    expect(saneTimeMs(Number.NaN)).toBe(false);
  });

  it('makes any id one safe path segment', () => {
    expect(pathSegment('ok-0004')).toBe('ok-0004');
    expect(pathSegment('a/b c')).toBe('a%2Fb%20c');
    expect(pathSegment('.')).toBe('%2E');
    expect(pathSegment('..')).toBe('%2E%2E');
    expect(pathSegment('x\ud800y')).toBe('x%EF%BF%BDy');
    expect(wellFormed('\udc00\ud83d\ude00\ud800')).toBe('\ufffd\ud83d\ude00\ufffd');
    expect([requestable('.'), requestable('..'), requestable('...'), requestable('a.b')]).toEqual([false, false, true, true]);
  });
});
