/** Guards for values taken from upstreams before they reach dates, URLs or metrics. */

/** Epoch ms of 2000-01-01 and 2200-01-01: upstream times outside this range are nonsense (or a zero date). */
export const SANE_TIME_MIN_MS = Date.UTC(2000, 0, 1);
export const SANE_TIME_MAX_MS = Date.UTC(2200, 0, 1);

/** Whether an epoch in ms is a plausible upstream time (and can become an ISO string). */
export function saneTimeMs(ms: number): boolean {
  return Number.isFinite(ms) && ms >= SANE_TIME_MIN_MS && ms < SANE_TIME_MAX_MS;
}

/**
 * An upstream id as one URL path segment: lone surrogates (valid JSON, but not encodable)
 * become U+FFFD. `.` and `..` cannot be a segment at all (URL parsing removes them, `%2E` too):
 * check `requestable` before asking an upstream for one.
 */
export function pathSegment(id: string): string {
  const encoded = encodeURIComponent(wellFormed(id));
  return encoded === '.' || encoded === '..' ? encoded.replaceAll('.', '%2E') : encoded;
}

/** Whether an id can be put in a URL path as itself (not `.` or `..`, which URL parsing removes). */
export function requestable(id: string): boolean {
  return id !== '.' && id !== '..';
}

/** The string with lone UTF-16 surrogates replaced by U+FFFD (String.prototype.toWellFormed, ES2024). */
export function wellFormed(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}
