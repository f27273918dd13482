/** Levenshtein distance and the "did you mean" lookup built on it (unknown query parameters, unknown config keys). */

/** Insertions, deletions and substitutions needed to turn `a` into `b` (case-sensitive). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const row = [i];
    for (let j = 1; j <= b.length; j += 1) {
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length] as number;
}

/**
 * The candidate nearest to `word`, compared case-insensitively, if it is at most `maxDistance`
 * edits away; on a tie the earlier candidate wins. Undefined when nothing is that close.
 */
export function closest(word: string, candidates: Iterable<string>, maxDistance: number): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = maxDistance + 1;
  for (const candidate of candidates) {
    // The distance is at least the difference in length: skip the table when that is already too far.
    if (Math.abs(candidate.length - w.length) >= bestDistance) continue;
    const d = editDistance(w, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}
