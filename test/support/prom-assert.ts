/** Assertions through Prometheus's HTTP API, shared by the end-to-end tests of each source. */
import { waitUntil } from '../../exporter/src/util/wait-until.js';
import type { PrometheusServer } from './prometheus.js';

export interface PromAsserts {
  /** The first sample of an instant query, or undefined when it has none. */
  value(promql: string): Promise<number | undefined>;
  /** Wait until the first sample is `expected` (undefined: no sample); the timeout error says the last value. */
  waitValue(promql: string, expected: number | undefined, ms?: number): Promise<void>;
  /**
   * Let the exporter poll `source` a few more times and Prometheus scrape the result: a value that
   * reached its expected count and is still there afterwards was not counted twice by a later poll.
   */
  settle(polls?: number): Promise<void>;
}

/** `prom` is a getter because tests start Prometheus in beforeAll. */
export function promAsserts(prom: () => PrometheusServer, source: string): PromAsserts {
  const value = async (promql: string): Promise<number | undefined> => (await prom().query(promql))[0]?.value;
  return {
    value,
    async waitValue(promql, expected, ms = 15_000) {
      let last: number | undefined;
      await waitUntil(
        async () => {
          last = await value(promql);
          return last === expected;
        },
        ms,
        { what: `${promql} == ${String(expected)} in Prometheus`, intervalMs: 50 },
      ).catch((err: Error) => {
        throw new Error(`${err.message} (last value: ${String(last)})`);
      });
    },
    async settle(polls = 3) {
      const q = `sum(buildfarm_source_polls_total{source="${source}"})`;
      const p0 = (await value(q)) ?? 0;
      await waitUntil(async () => ((await value(q)) ?? 0) >= p0 + polls, 15_000, { what: `${polls} more polls seen by Prometheus`, intervalMs: 50 });
    },
  };
}
