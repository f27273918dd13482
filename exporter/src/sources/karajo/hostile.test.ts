/**
 * Hostile input: the recorded environment with its values swapped for random JSON of every type,
 * odd strings and numbers, served gzip-encoded. A poll may only resolve, or fail with a
 * SourceError; what it returns never holds a time that is not ISO 8601 or a non-finite number.
 */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream } from '../../test-support/fake-upstream.js';
import { ManualClock } from '../../util/clock.js';
import { Rng } from '../girar/prng.js';
import { SourceError } from '../errors.js';
import { UpstreamHttp } from '../http.js';
import { KarajoAdapter } from './adapter.js';
import { parseKarajoConfig } from './config.js';

const ENV = JSON.parse(readFileSync(new URL('./fixtures/environment.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const ODD: unknown[] = [null, true, -1, 0, 1e308, -1e308, 2 ** 63, 1.5, '', '\ud800', '0001-01-01T00:00:00Z', '+275760-09-13T00:00:00Z', '1', '../..', 'a/b?c#d', [], {}, [[[[]]]], { code: 200 }, 'x'.repeat(10_000)];

function mutate(value: unknown, rng: Rng, depth = 0): unknown {
  if (rng.next() < 0.15) return ODD[Math.floor(rng.next() * ODD.length)];
  if (Array.isArray(value)) return value.map((v) => mutate(v, rng, depth + 1));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = mutate(v, rng, depth + 1);
    if (depth < 3 && rng.next() < 0.2) out.logs = Array.from({ length: 3 }, (_, i) => mutate({ job_id: 'test_success', name: `test_success.${i + 1}.success`, status: 'success', counter: i + 1 }, rng, depth + 1));
    return out;
  }
  return value;
}

describe('karajo adapter on hostile environments', () => {
  const upstream = new FakeUpstream();
  beforeAll(() => upstream.up());
  afterAll(() => upstream.down());

  it('survives 150 mutated environments (seed 11)', async () => {
    const rng = new Rng(11);
    const adapter = new KarajoAdapter(parseKarajoConfig({ url: upstream.url }), { name: 'cron', log: pino({ level: 'silent' }), clock: new ManualClock(), http: new UpstreamHttp(), pollTimeoutSeconds: 10 });
    const bad: string[] = [];
    for (let i = 0; i < 150; i += 1) {
      const body = rng.next() < 0.9 ? { code: 200, data: mutate(ENV, rng) } : mutate({ code: 200, data: ENV }, rng);
      upstream.routes.set('/karajo/api/environment', { body: gzipSync(JSON.stringify(body)), headers: { 'content-encoding': 'gzip' } });
      try {
        const snap = await adapter.poll(AbortSignal.timeout(5000));
        for (const t of snap.tasks) for (const k of ['started', 'finished', 'stateSince'] as const) if (t[k] !== undefined && !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(t[k] as string)) bad.push(`task ${k} ${String(t[k])}`);
        for (const j of snap.jobs ?? []) {
          for (const k of ['lastRun', 'nextRun'] as const) if (j[k] !== undefined && !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(j[k] as string)) bad.push(`job ${k} ${String(j[k])}`);
          for (const k of ['intervalSeconds', 'logRetention', 'lastRunCounter'] as const) if (j[k] !== undefined && !Number.isFinite(j[k])) bad.push(`job ${k} ${String(j[k])}`);
        }
        JSON.stringify(snap);
      } catch (err) {
        if (!(err instanceof SourceError)) bad.push(`poll threw ${(err as Error).name}: ${(err as Error).message}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
