/**
 * Round trip: the girar source reads the simulated taskoteka into the store, and the compat API
 * must answer as that taskoteka does, byte for byte.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { TaskotekaCompatBackend } from '../../sources/girar/compat-backend.js';
import { GirarTaskotekaAdapter } from '../../sources/girar/adapter.js';
import { parseGirarConfig } from '../../sources/girar/config.js';
import { GirarSimulator } from '../../sources/girar/simulator.js';
import { UpstreamHttp } from '../../sources/http.js';
import { buildTestApi, sourceHealth, type TestApi } from '../test-helpers.js';

let t: TestApi;
let sim: GirarSimulator;
let upstream: string;

beforeAll(async () => {
  const backends = new Map<string, TaskotekaCompatBackend>();
  t = await buildTestApi({ fill: false, taskotekaBackends: backends });
  t.health.entries = [sourceHealth('alt', 'girar', { lastPollAt: t.clock.now() })];
  sim = new GirarSimulator({ clock: t.clock, seed: 11, heartbeatMs: 0 });
  upstream = await sim.listen();
  const config = parseGirarConfig({ url: upstream, stream: false });
  if (config.transport !== 'taskoteka') throw new Error('expected the taskoteka transport');
  const adapter = new GirarTaskotekaAdapter(config, {
    name: 'alt',
    log: pino({ level: 'silent' }),
    clock: t.clock,
    http: new UpstreamHttp(),
    pollTimeoutSeconds: 20,
  });
  backends.set('alt', adapter.compatBackend());
  for (let i = 0; i < 3; i++) {
    sim.tick();
    t.clock.advance(3 * 24 * 3600 * 1000);
    t.store.apply('alt', 'girar', await adapter.poll(AbortSignal.timeout(5000)));
  }
});
afterAll(async () => {
  await t.app.close();
  await sim.close();
});

async function both(path: string): Promise<{ ours: string; theirs: string }> {
  const res = await t.app.inject({ url: `/compat/taskoteka/alt${path}` });
  expect(res.statusCode, res.body).toBe(200);
  const theirs = await fetch(`${upstream}${path}`);
  expect(res.headers['x-api-version']).toBe(theirs.headers.get('x-api-version'));
  return { ours: res.body, theirs: await theirs.text() };
}

/** The simulator lists fewer subtask keys than taskoteka 1.5.0 (no copy_repo, rebuild_from). */
function withoutCopyKeys(body: string): string {
  const items = JSON.parse(body) as { subtasks?: Record<string, Record<string, unknown>> }[];
  for (const item of items) for (const sub of Object.values(item.subtasks ?? {})) for (const key of ['copy_repo', 'rebuild_from']) delete sub[key];
  return JSON.stringify(items);
}

describe('the compat API over a store filled from the simulated taskoteka', () => {
  it('lists the same tasks in the same shapes, for every parameter', async () => {
    for (const path of ['/tasks?state=ALL', '/tasks', '/tasks?user=ALL&repo=sisyphus,p11', '/tasks?state=EPERM,FAILED,DONE', '/tasks?q=alt1&state=ALL']) {
      const { ours, theirs } = await both(path);
      expect(JSON.parse(ours).length, path).toBeGreaterThan(0);
      expect(withoutCopyKeys(ours), path).toBe(theirs);
    }
    const { ours, theirs } = await both('/tasks?brief=true&state=ALL');
    expect(ours).toBe(theirs);
    const all = JSON.parse((await both('/tasks?state=ALL')).ours) as { age: number; state: string; subtasks?: Record<string, Record<string, unknown>> }[];
    // The comparison covers recomputed ages, terminal tasks and every subtask kind.
    expect(all.some((i) => i.age > 0)).toBe(true);
    expect(new Set(all.map((i) => i.state)).size).toBeGreaterThan(4);
    const types = new Set(all.flatMap((i) => Object.values(i.subtasks ?? {}).map((s) => String(s.type ?? 'deleted'))));
    expect([...types].sort()).toEqual(['copy', 'deleted', 'delete', 'repo', 'srpm'].sort());
  });

  it('lists per owner as taskoteka does', async () => {
    const owners = JSON.parse((await both('/owners')).ours) as string[];
    expect(owners.length).toBeGreaterThan(1);
    for (const owner of owners) {
      const { ours, theirs } = await both(`/tasks?user=${owner}`);
      expect(withoutCopyKeys(ours), owner).toBe(theirs);
    }
  });

  it('serves every detail byte for byte, owners and health alike', async () => {
    for (const id of sim.states().keys()) {
      const { ours, theirs } = await both(`/tasks/${id}`);
      expect(ours, String(id)).toBe(theirs);
    }
    for (const path of ['/owners', '/health']) {
      const { ours, theirs } = await both(path);
      expect(ours, path).toBe(theirs);
    }
  });
});
