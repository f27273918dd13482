/**
 * The koji adapter against replies recorded from a real Koji 1.35.3 hub (fixtures/): a fake hub
 * on loopback answers each call of a multiCall with the recorded value of that method, so the
 * payload checks and the mapping run on exactly what a hub sends.
 */
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream } from '../../test-support/fake-upstream.js';
import { ManualClock } from '../../util/clock.js';
import { UpstreamHttp } from '../http.js';
import { KojiAdapter } from './adapter.js';
import { parseKojiConfig } from './config.js';
import { decodeMethodCall, decodeMethodResponse, encodeFault, encodeMethodResponse, isStruct, multiCallValue, type MultiCallResult, type XmlRpcValue } from './xmlrpc.js';

const fixture = (name: string): XmlRpcValue => {
  const r = decodeMethodResponse(readFileSync(new URL(`./fixtures/${name}.xml`, import.meta.url), 'utf8'));
  if (r.kind !== 'result') throw new Error(`${name} is a fault`);
  return r.value;
};

/** Recorded answers by method; listTasks/listBuilds with countOnly answer a count. */
function answer(method: string, params: XmlRpcValue[]): MultiCallResult {
  const countOnly = params.some((p) => isStruct(p) && (p.countOnly === true || (isStruct(p.queryOpts) && p.queryOpts.countOnly === true)));
  switch (method) {
    case 'getLastEvent':
      return { ok: true, value: fixture('getLastEvent') };
    case 'listTasks':
      return { ok: true, value: countOnly ? 2 : fixture('listTasks-all') };
    case 'listBuilds':
      return { ok: true, value: countOnly ? 1 : fixture('listBuilds-limit5') };
    case 'listHosts':
      return { ok: true, value: fixture('listHosts') };
    case 'listChannels':
      return { ok: true, value: fixture('listChannels') };
    case 'getTaskInfo':
      return { ok: true, value: Array.isArray(params[0]) ? params[0].map(() => fixture('getTaskInfo')) : fixture('getTaskInfo') };
    case 'getBuild':
      return { ok: true, value: fixture('getBuild') };
    case 'repo.queryQueue':
      return { ok: true, value: 3 };
    default:
      return { ok: false, fault: { code: 1000, message: `Invalid method: ${method}` } };
  }
}

describe('koji adapter on recorded hub replies', () => {
  const hub = new FakeUpstream();
  const clock = new ManualClock(1795500760_000);
  let adapter: KojiAdapter;

  beforeAll(async () => {
    hub.routes.set('/kojihub', () => {
      const call = decodeMethodCall(hub.requests.at(-1)?.body ?? '');
      if (call.methodName !== 'multiCall') return { body: encodeFault({ code: 1000, message: 'expected multiCall' }), contentType: 'text/xml' };
      const calls = (call.params[0] as XmlRpcValue[]).map((c) => (isStruct(c) ? answer(String(c.methodName), c.params as XmlRpcValue[]) : answer('', [])));
      return { body: encodeMethodResponse(multiCallValue(calls)), contentType: 'text/xml' };
    });
    const url = await hub.up();
    adapter = new KojiAdapter(parseKojiConfig({ url: `${url}/kojihub` }), { name: 'fedora', log: pino({ level: 'silent' }), clock, http: new UpstreamHttp(), pollTimeoutSeconds: 10 });
  });
  afterAll(() => hub.down());

  it('reads every recorded row without a problem and maps tasks, builds and hosts', async () => {
    const snap = await adapter.poll(AbortSignal.timeout(5000));
    expect(adapter.problems().current).toEqual({});
    const tasks = snap.tasks.filter((t) => !t.id.startsWith('build-'));
    const builds = snap.tasks.filter((t) => t.id.startsWith('build-'));
    expect(tasks.length).toBeGreaterThan(5);
    expect(builds.map((b) => b.id).sort()).toEqual(['build-1', 'build-2', 'build-3', 'build-4', 'build-5']);
    const t9 = tasks.find((t) => t.id === '9');
    expect(t9).toMatchObject({ kind: 'koji', state: 'CANCELED', phase: 'canceled', owner: 'alice', repo: 'default', archs: ['noarch'] });
    expect(t9?.message).toBe('build: git+https://src.example.com/rpms/old.git#1111111 → f40-candidate');
    expect(t9?.attrs).toMatchObject({ method: 'build', target: 'f40-candidate', channel: 'default' });
    expect(t9?.url).toMatch(/\/koji\/taskinfo\?taskID=9$/);
    expect(t9?.native).not.toHaveProperty('request');
    expect(t9?.finished).toBe('2026-11-24T06:12:35.914Z');
    const b5 = builds.find((b) => b.id === 'build-5');
    expect(b5).toMatchObject({ state: 'canceled', phase: 'canceled', owner: 'alice', message: 'build quux-3.0-2.fc40' });
    expect(snap.workers?.map((w) => [w.id, w.enabled, w.health, w.archs.join(' ')])).toEqual([
      ['builder1.example.com', true, 'ready', 'x86_64 i686'],
      ['builder2.example.com', true, 'ready', 'aarch64'],
      ['builder3.example.com', false, 'disabled', 'x86_64'],
    ]);
    // The hosts checked in about 5 s before the exporter's clock: up; builder3 never did.
    expect(snap.workers?.map((w) => w.up)).toEqual([true, true, false]);
    const figures = snap.upstream?.figures ?? [];
    expect(figures).toContainEqual({ name: 'last_event_id', value: 18 });
    expect(figures).toContainEqual({ name: 'repo_queue_length', value: 3 });
    expect(figures).toContainEqual({ name: 'builds_in_progress', value: 1 });
    expect(figures).toContainEqual({ name: 'host_capacity', labels: { worker: 'builder1.example.com' }, value: 4 });
    expect(figures.filter((f) => f.name === 'tasks' && f.labels?.state === 'FREE').reduce((n, f) => n + f.value, 0)).toBe(2);
  });
});
