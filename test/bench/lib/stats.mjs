/** Small statistics and formatting helpers shared by the benchmarks. */

export function median(xs) {
  return percentile(xs, 50);
}

/** Nearest-rank percentile of a list of numbers (p in 0..100). */
export function percentile(xs, p) {
  if (xs.length === 0) return Number.NaN;
  const sorted = Float64Array.from(xs).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export const fmt = (x, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : String(x));
export const ratio = (subject, baseline) => `${fmt(subject / baseline, 2)}x`;
export const mib = (bytes) => bytes / 1048576;

/** Time a synchronous or asynchronous function, in milliseconds. */
export async function timeMs(fn) {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** Parse `1k,10k,100k` into numbers. */
export function parseSizes(text) {
  return String(text)
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean)
    .map((s) => {
      const m = /^(\d+(?:\.\d+)?)(k|m)?$/.exec(s);
      if (!m) throw new Error(`bad size "${s}": use a number with an optional k or m suffix, e.g. 1k,10k,100k`);
      return Math.round(Number(m[1]) * (m[2] === 'k' ? 1e3 : m[2] === 'm' ? 1e6 : 1));
    });
}

export const sizeLabel = (n) => (n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}M` : n >= 1e3 && n % 1e3 === 0 ? `${n / 1e3}k` : String(n));
