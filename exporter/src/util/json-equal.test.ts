import { describe, expect, it } from 'vitest';
import { jsonEqual } from './json-equal.js';

/** The rule jsonEqual replaces: equal JSON texts. */
const sameText = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

describe('jsonEqual', () => {
  const cases: [unknown, unknown][] = [
    [1, 1],
    [1, 2],
    [0, -0],
    ['a', 'a'],
    ['a', 'b'],
    [null, null],
    [null, {}],
    [true, false],
    [[], {}],
    [{}, []],
    [[1, 2], [1, 2]],
    [[1, 2], [2, 1]],
    [[1], [1, 1]],
    [{ a: 1, b: 'x' }, { a: 1, b: 'x' }],
    [{ a: 1, b: 'x' }, { b: 'x', a: 1 }],
    [{ a: 1 }, { a: 1, b: 2 }],
    [{ a: 1, b: 2 }, { a: 1 }],
    [{ a: { b: [1, { c: 'd' }] } }, { a: { b: [1, { c: 'd' }] } }],
    [{ a: { b: [1, { c: 'd' }] } }, { a: { b: [1, { c: 'e' }] } }],
    [{ '100': { x: 1 }, '200': {} }, { '200': {}, '100': { x: 1 } }],
    [{ a: 'null' }, { a: null }],
    [{ a: '1' }, { a: 1 }],
  ];
  it.each(cases)('agrees with comparing JSON texts: %j vs %j', (a, b) => {
    // Round-trip through JSON so both sides are what JSON.parse builds, as in the adapter.
    const pa: unknown = JSON.parse(JSON.stringify(a));
    const pb: unknown = JSON.parse(JSON.stringify(b));
    expect(jsonEqual(pa, pb)).toBe(sameText(pa, pb));
    expect(jsonEqual(pb, pa)).toBe(sameText(pa, pb));
  });

  it('tells a reordered object apart, as its JSON text would', () => {
    expect(jsonEqual(JSON.parse('{"a":1,"b":2}'), JSON.parse('{"b":2,"a":1}'))).toBe(false);
  });
});
