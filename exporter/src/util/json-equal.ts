/**
 * Structural equality of two parsed JSON values (objects compared by key set, not key order),
 * without serializing either: the girar adapter compares every list item with the one it held
 * on each poll, and stringifying 100,000 items per poll was most of an unchanged poll's cost.
 * Inputs are JSON.parse output, so nesting is bounded by the HTTP layer's depth check.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i += 1) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let count = 0;
  for (const key in x) {
    if (!Object.hasOwn(x, key)) continue;
    if (!Object.hasOwn(y, key) || !jsonEqual(x[key], y[key])) return false;
    count += 1;
  }
  for (const key in y) if (Object.hasOwn(y, key)) count -= 1;
  return count === 0;
}
