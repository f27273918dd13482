import { describe, expect, it } from 'vitest';
import { jsonEqual } from './json-equal.js';

describe('jsonEqual', () => {
  it('agrees with JSON.stringify on equal values whatever the key order', () => {
    const a = JSON.parse('{"id":1,"state":"DONE","subtasks":{"100":{"pkgname":"bash","build":{"x86_64":"built"}}},"tags":[1,"a",null,true]}') as unknown;
    const b = JSON.parse('{"state":"DONE","id":1,"tags":[1,"a",null,true],"subtasks":{"100":{"build":{"x86_64":"built"},"pkgname":"bash"}}}') as unknown;
    expect(jsonEqual(a, b)).toBe(true);
    expect(jsonEqual(a, structuredClone(a))).toBe(true);
  });

  it.each([
    ['a changed leaf', { a: { b: 1 } }, { a: { b: 2 } }],
    ['a missing key', { a: 1, b: 2 }, { a: 1 }],
    ['an extra key', { a: 1 }, { a: 1, b: 2 }],
    ['a key renamed', { a: 1 }, { b: 1 }],
    ['an undefined-valued key vs a missing one of another name', { a: 1, b: undefined }, { a: 1, c: undefined }],
    ['array vs object', { a: [] }, { a: {} }],
    ['array lengths', [1, 2], [1, 2, 3]],
    ['array order', [1, 2], [2, 1]],
    ['null vs object', { a: null }, { a: {} }],
    ['number vs string', { a: 1 }, { a: '1' }],
    ['false vs null', [false], [null]],
  ])('tells %s apart', (_what, a, b) => {
    expect(jsonEqual(a, b)).toBe(false);
    expect(jsonEqual(b, a)).toBe(false);
  });
});
