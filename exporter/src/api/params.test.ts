import { describe, expect, it } from 'vitest';
import { ApiError } from './errors.js';
import { parseTimeParam, splitEnumList, splitList } from './params.js';

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).statusCode).toBe(400);
    return (err as ApiError).message;
  }
  throw new Error('expected a throw');
}

describe('splitList', () => {
  it('splits, trims and de-duplicates comma lists and repeats', () => {
    expect(splitList('state', undefined)).toBeUndefined();
    expect(splitList('state', ['A, B', 'C', 'A'])).toEqual(['A', 'B', 'C']);
  });

  it('rejects empty items', () => {
    expect(message(() => splitList('repo', ['p11,']))).toBe('query parameter "repo" has an empty value; give one or more comma-separated values, or leave it out');
  });

  it('checks enum lists', () => {
    expect(splitEnumList('type', ['a,b'], ['a', 'b', 'c'] as const)).toEqual(['a', 'b']);
    expect(message(() => splitEnumList('type', ['a,x,y'], ['a', 'b'] as const))).toBe('query parameter "type" has unknown values "x", "y"; allowed values: a, b');
  });
});

describe('parseTimeParam', () => {
  const at = Date.parse('2026-03-16T12:00:00Z');
  it('reads ISO 8601 (UTC by default, with offsets, fractions, date-only)', () => {
    expect(parseTimeParam('t', '2026-03-16T12:00:00Z')).toBe(at);
    expect(parseTimeParam('t', '2026-03-16T12:00:00')).toBe(at);
    expect(parseTimeParam('t', '2026-03-16T12:00')).toBe(at);
    expect(parseTimeParam('t', '2026-03-16T14:00:00+02:00')).toBe(at);
    expect(parseTimeParam('t', '2026-03-16T07:00:00-0500')).toBe(at);
    expect(parseTimeParam('t', '2026-03-16T12:00:00.250Z')).toBe(at + 250);
    expect(parseTimeParam('t', '2026-03-16')).toBe(Date.parse('2026-03-16T00:00:00Z'));
  });

  it('reads Unix seconds, fractional too', () => {
    expect(parseTimeParam('t', String(at / 1000))).toBe(at);
    expect(parseTimeParam('t', `${at / 1000}.5`)).toBe(at + 500);
  });

  it('rejects garbage, impossible dates and milliseconds', () => {
    for (const bad of ['', 'now', '2026-13-01', '2026-02-30', '2026-03-16T25:00:00Z', 'March 16, 2026', '-5', '1e9']) {
      expect(message(() => parseTimeParam('since', bad))).toMatch(/^query parameter "since" is .*, which is neither an ISO 8601 time/);
    }
    expect(message(() => parseTimeParam('since', String(at)))).toMatch(/looks like Unix milliseconds/);
  });
});
