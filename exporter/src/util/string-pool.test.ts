import { describe, expect, it } from 'vitest';
import { StringPool } from './string-pool.js';

/** A string equal to `text` but built at run time, so it is a separate copy. */
const copyOf = (text: string) => JSON.parse(JSON.stringify(text)) as string;

describe('StringPool', () => {
  it('returns the first copy it saw for an equal text', () => {
    const pool = new StringPool(10);
    const first = copyOf('kernel-image-un-def');
    expect(pool.intern(first)).toBe(first);
    expect(pool.intern(copyOf('kernel-image-un-def'))).toBe(first);
    expect(pool.size).toBe(1);
  });

  it('holds at most its capacity and still returns every text unchanged past it', () => {
    const pool = new StringPool(2);
    for (const t of ['aaaaaaaaaaaa1', 'aaaaaaaaaaaa2', 'aaaaaaaaaaaa3', 'aaaaaaaaaaaa4']) expect(pool.intern(t)).toBe(t);
    expect(pool.size).toBe(2);
  });

  it('leaves texts outside its length bounds out of the table', () => {
    const pool = new StringPool(10, 5, 8);
    expect(pool.intern('abcd')).toBe('abcd');
    expect(pool.intern('abcdefghi')).toBe('abcdefghi');
    expect(pool.size).toBe(0);
    pool.intern('abcdef');
    expect(pool.size).toBe(1);
  });

  it('refuses a capacity that is not a count', () => {
    expect(() => new StringPool(-1)).toThrow(/non-negative integer/);
    expect(() => new StringPool(1.5)).toThrow(/non-negative integer/);
  });
});
