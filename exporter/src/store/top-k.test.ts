import { describe, expect, it } from 'vitest';
import { firstK } from './top-k.js';

/** A seeded list with many ties, so the comparator's tie-break matters. */
function list(n: number, seed: number): { v: number; id: number }[] {
  let s = seed;
  const next = () => (s = (s * 1103515245 + 12345) % 2147483648);
  return Array.from({ length: n }, (_, id) => ({ v: next() % 50, id }));
}

const byValueThenId = (a: { v: number; id: number }, b: { v: number; id: number }) => a.v - b.v || b.id - a.id;

describe('firstK', () => {
  it('equals sorting the whole list and taking the first k, for every k and both paths', () => {
    for (const n of [0, 1, 7, 100, 1000]) {
      const items = list(n, n + 1);
      const sorted = [...items].sort(byValueThenId);
      for (const k of [0, 1, 2, 5, 10, 24, 25, 26, 99, 100, 250, 1000, 5000]) {
        expect(firstK(items, k, byValueThenId)).toEqual(sorted.slice(0, k));
      }
    }
  });

  it('leaves the input list as it was', () => {
    const items = list(500, 3);
    const copy = [...items];
    firstK(items, 10, byValueThenId);
    firstK(items, 400, byValueThenId);
    expect(items).toEqual(copy);
  });
});
