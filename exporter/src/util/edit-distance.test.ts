import { describe, expect, it } from 'vitest';
import { closest, editDistance } from './edit-distance.js';

/** The textbook full-matrix Levenshtein, as a reference for the two-row version. */
function reference(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i += 1) {
    for (let j = 1; j <= b.length; j += 1) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length]![b.length]!;
}

describe('editDistance', () => {
  it('counts insertions, deletions and substitutions', () => {
    expect(editDistance('', '')).toBe(0);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('abc', '')).toBe(3);
    expect(editDistance('state', 'state')).toBe(0);
    expect(editDistance('stat', 'state')).toBe(1);
    expect(editDistance('sorces', 'sources')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('State', 'state')).toBe(1);
  });

  it('agrees with the full-matrix definition and is symmetric', () => {
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const word = () => Array.from({ length: rand(8) }, () => 'abcd'[rand(4)]).join('');
    for (let i = 0; i < 300; i += 1) {
      const [a, b] = [word(), word()];
      expect(editDistance(a, b), `${a} -> ${b}`).toBe(reference(a, b));
      expect(editDistance(b, a)).toBe(editDistance(a, b));
    }
  });
});

describe('closest', () => {
  const params = ['source', 'kind', 'state', 'phase', 'last_event_id'];

  it('suggests the nearest candidate within the limit, inclusive', () => {
    expect(closest('stat', params, 2)).toBe('state');
    expect(closest('sorce', params, 2)).toBe('source');
    expect(closest('last_evnt_i', params, 2)).toBe('last_event_id');
    expect(closest('last_evn_i', params, 2)).toBeUndefined();
    expect(closest('detail_concurency', ['detail_concurrency', 'detail_budget'], 2)).toBe('detail_concurrency');
    expect(closest('xyz', params, 2)).toBeUndefined();
    expect(closest('stat', [], 2)).toBeUndefined();
  });

  it('compares case-insensitively and returns the candidate as spelled', () => {
    expect(closest('STATE', params, 0)).toBe('state');
    expect(closest('listenaddres', ['listenAddress'], 1)).toBe('listenAddress');
  });

  it('prefers the closer candidate, and the earlier one on a tie', () => {
    expect(closest('phas', ['phase', 'phas_'], 2)).toBe('phase');
    expect(closest('cat', ['bat', 'hat'], 2)).toBe('bat');
    expect(closest('cat', ['hat', 'bat'], 2)).toBe('hat');
    expect(closest('cat', ['cart', 'ca'], 2)).toBe('cart');
    expect(closest('cat', ['bats', 'ct'], 2)).toBe('ct');
  });
});
