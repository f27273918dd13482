/**
 * Hostile input: Cuirass lists with values swapped for random JSON of every type, odd strings and
 * numbers. A poll may only resolve, or fail with a SourceError; what it returns never holds a time
 * that is not ISO 8601 or an id that is not unique.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream } from '../../test-support/fake-upstream.js';
import { ManualClock } from '../../util/clock.js';
import { SourceError } from '../errors.js';
import { Rng } from '../girar/prng.js';
import { UpstreamHttp } from '../http.js';
import { CuirassAdapter } from './adapter.js';
import { parseCuirassConfig } from './config.js';

const T = 1795500000;
const BUILD = { id: 1, evaluation: 1, jobset: 'guix', job: 'hello', timestamp: T, starttime: T, stoptime: T + 9, derivation: '/gnu/store/x.drv', buildoutputs: { out: { path: '/gnu/store/x' } }, system: 'x86_64-linux', nixname: 'hello', buildstatus: 0, weather: 2, busy: 0, priority: 0, finished: 1, buildproducts: [] };
const EVAL = { id: 1, specification: 'guix', status: 0, timestamp: T, checkouttime: T, evaltime: T + 60, checkouts: [] };
const ODD: unknown[] = [null, true, -1, 0, 1e308, -1e308, 2 ** 63, 1.5, '', '\ud800', '1', '../..', [], {}, [[[]]], 'x'.repeat(5000)];

function mutate(value: unknown, rng: Rng): unknown {
  if (rng.next() < 0.12) return ODD[Math.floor(rng.next() * ODD.length)];
  if (Array.isArray(value)) return value.map((v) => mutate(v, rng));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mutate(v, rng)]));
  return value;
}

describe('cuirass adapter on hostile lists', () => {
  const up = new FakeUpstream();
  beforeAll(() => up.up());
  afterAll(() => up.down());

  it('survives 150 mutated polls (seed 13)', async () => {
    const rng = new Rng(13);
    const adapter = new CuirassAdapter(parseCuirassConfig({ url: up.url }), { name: 'ci', log: pino({ level: 'silent' }), clock: new ManualClock(), http: new UpstreamHttp(), pollTimeoutSeconds: 10 });
    const bad: string[] = [];
    for (let i = 0; i < 150; i += 1) {
      const builds = Array.from({ length: 6 }, (_, k) => ({ ...BUILD, id: i * 10 + k, buildstatus: (k % 8) - 3 }));
      up.routes.set('/api/queue', { body: JSON.stringify(mutate(builds.filter((b) => b.buildstatus < 0), rng)) });
      up.routes.set('/api/latestbuilds', { body: JSON.stringify(mutate(builds.filter((b) => b.buildstatus >= 0), rng)) });
      up.routes.set('/api/evaluations', { body: JSON.stringify(mutate([{ ...EVAL, id: i + 1 }], rng)) });
      up.routes.set('/specifications', { body: JSON.stringify(mutate([{ name: 'guix', systems: ['x86_64-linux'] }], rng)) });
      try {
        const snap = await adapter.poll(AbortSignal.timeout(5000));
        const ids = snap.tasks.map((t) => t.id);
        if (new Set(ids).size !== ids.length) bad.push(`duplicate task ids ${ids.join(',')}`);
        for (const t of snap.tasks) for (const k of ['created', 'started', 'finished', 'stateSince'] as const) if (t[k] !== undefined && !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(t[k] as string)) bad.push(`task ${k} ${String(t[k])}`);
        JSON.stringify(snap);
      } catch (err) {
        if (!(err instanceof SourceError)) bad.push(`poll threw ${(err as Error).name}: ${(err as Error).message}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('a list of several entries none of which has the right shape fails the poll (a wrong or changed upstream), naming the first problem', async () => {
    const adapter = new CuirassAdapter(parseCuirassConfig({ url: up.url }), { name: 'ci', log: pino({ level: 'silent' }), clock: new ManualClock(), http: new UpstreamHttp(), pollTimeoutSeconds: 10 });
    const wrongTypes = [1, 2, 3].map((id) => ({ ...BUILD, id: `${id}`, job: 42, buildstatus: 'failed' }));
    up.routes.set('/api/queue', { body: '[]' });
    up.routes.set('/api/latestbuilds', { body: JSON.stringify(wrongTypes) });
    up.routes.set('/api/evaluations', { body: JSON.stringify([EVAL]) });
    up.routes.set('/specifications', { body: JSON.stringify([{ name: 'guix', systems: ['x86_64-linux'] }]) });
    const err = await adapter.poll(AbortSignal.timeout(5000)).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as Error).message).toMatch(/latestbuilds.*none of its 3 entries has the expected shape \(entry 0: .+\)/);
    // One odd entry among good ones is that record's problem, not the source's.
    up.routes.set('/api/latestbuilds', { body: JSON.stringify([BUILD, { ...BUILD, id: 2 }, { ...BUILD, id: 'x' }]) });
    await expect(adapter.poll(AbortSignal.timeout(5000))).resolves.toMatchObject({ type: 'snapshot' });
  });
});
