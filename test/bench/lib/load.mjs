/**
 * HTTP load with autocannon, keeping every response time at full resolution (autocannon's own
 * histogram rounds to whole milliseconds, too coarse for sub-millisecond routes).
 */
import autocannon from 'autocannon';
import { percentile } from './stats.mjs';

/** Run `connections` keep-alive connections against `url` for `seconds`; requests/s and latency in ms. */
export async function load(url, { connections = 4, seconds = 5, headers } = {}) {
  const times = [];
  let non2xx = 0;
  const instance = autocannon({ url, connections, duration: seconds, pipelining: 1, headers });
  instance.on('response', (_client, status, _bytes, ms) => {
    if (status >= 200 && status < 300) times.push(ms);
    else non2xx += 1;
  });
  const result = await instance;
  const elapsed = result.duration || seconds;
  return {
    rps: times.length / elapsed,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    requests: times.length,
    non2xx,
    errors: result.errors + result.timeouts,
    bytesPerRequest: result.requests.total > 0 ? result.throughput.total / result.requests.total : 0,
  };
}

/**
 * Alternate baseline and subject `rounds` times (baseline first), so drift on a shared machine
 * hits both; returns the medians of each side over the rounds.
 */
export async function sideBySide(baselineUrl, subjectUrl, { rounds = 3, ...options } = {}) {
  const runs = { baseline: [], subject: [] };
  for (let r = 0; r < rounds; r += 1) {
    runs.baseline.push(await load(baselineUrl, options));
    runs.subject.push(await load(subjectUrl, options));
  }
  const med = (xs, key) => percentile(xs.map((x) => x[key]), 50);
  const summary = (xs) => ({
    rps: med(xs, 'rps'),
    p50: med(xs, 'p50'),
    p99: med(xs, 'p99'),
    requests: xs.reduce((n, x) => n + x.requests, 0),
    failures: xs.reduce((n, x) => n + x.non2xx + x.errors, 0),
    bytesPerRequest: med(xs, 'bytesPerRequest'),
  });
  return { baseline: summary(runs.baseline), subject: summary(runs.subject) };
}
