/**
 * Panels on slow events: build, task and run durations, queue waits, failure ratios and
 * completion counts. A build farm finishes a few builds per hour per arch, so over Grafana's
 * default `$__rate_interval` (4 scrapes: 1m with a 15 s scrape) most windows hold no event at all
 * and the panel is a row of NaN gaps (a quantile of buckets that did not move, 0/0).
 *
 * These panels get a minimum interval (the panel's `interval` field, "Min interval" in the
 * editor). Grafana never makes `$__interval` shorter than it, and
 * `$__rate_interval = max($__interval + scrape interval, 4 × scrape interval)`, so the queries keep
 * `$__rate_interval` and each point spans at least this long (10m15s with a 15 s scrape). The
 * price: at most one point per interval, and the newest point lags by up to one interval.
 */

/** The minimum interval of a slow-events panel. */
export const SLOW_EVENTS_INTERVAL = '10m';

/** A sentence for the panel's description: what a point covers, and why. */
export const SLOW_EVENTS_NOTE = 'Each point covers at least the last 10 minutes (panel min interval): these events are too rare for a shorter window.';

/** Give a panel builder the slow-events minimum interval (every SDK panel builder has `interval`). */
export function slowEvents<B extends { interval(interval: string): B }>(panel: B): B {
  return panel.interval(SLOW_EVENTS_INTERVAL);
}
