import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { boot, closeAll, fault, L, ok, post, rpc, S, T0, toArchStage } from './simulator-test-helpers.js';
import { decodeMethodResponse, encodeMethodCall, kwargs, type XmlRpcValue } from './xmlrpc.js';

afterEach(closeAll);

describe('KojiSimulator', () => {
  it('speaks HTTP like the hub: POST only, 400 for garbage, faults with 200, offline as fault 1014', async () => {
    const { sim, clock, base } = await boot({ seed: 5, history: false, offlineEvery: { periodSeconds: 600, durationSeconds: 30 } });
    const get = await post(base, '', { method: 'GET' });
    expect([get.status, get.headers.allow]).toEqual([405, 'POST']);
    expect((await post(base, 'hello', { method: 'PUT' })).status).toBe(405);
    expect((await post(base, 'not xml at all')).status).toBe(400);
    expect((await post(base, '<methodResponse/>')).status).toBe(400);
    expect((await post(base, encodeMethodCall('getAPIVersion', []), { path: '/other' })).status).toBe(404);
    const unknown = await post(base, encodeMethodCall('nope', []));
    expect([unknown.status, decodeMethodResponse(unknown.text)]).toEqual([200, { kind: 'fault', fault: { code: 1000, message: 'Invalid method: nope' } }]);
    expect(sim.calls.at(-1)).toEqual(['nope']);
    sim.setMode('offline');
    for (const [m, p] of [['listHosts', []], ['getLastEvent', []], ['multiCall', [[{ methodName: 'getLastEvent', params: [] }]]]] as [string, XmlRpcValue[]][]) {
      expect(await fault(base, m, ...p)).toEqual({ code: 1014, message: 'database outage' });
    }
    expect(sim.isOffline()).toBe(true);
    sim.setMode('ok');
    // offlineEvery: the last 30 s of every 10 min.
    const seen: boolean[] = [];
    for (const at of [0, 569, 570, 599, 600, 1169, 1175]) {
      clock.set(T0 + at * 1000);
      seen.push((await rpc(base, 'getLastEvent')).fault?.code === 1014);
    }
    expect(seen).toEqual([false, false, true, true, false, false, true]);
  });

  it('plays the fault modes', async () => {
    const { sim, base } = await boot({ seed: 6, history: false });
    const body = encodeMethodCall('listHosts', []);
    sim.setMode('html');
    const h = await post(base, body);
    expect([h.status, h.headers['content-type']?.startsWith('text/html')]).toEqual([200, true]);
    sim.setMode('error500');
    expect((await post(base, body)).status).toBe(500);
    sim.setMode('malformed');
    const m = await post(base, body);
    expect(m.status).toBe(200);
    expect(() => decodeMethodResponse(m.text)).toThrow();
    sim.setMode('huge');
    const big = await post(base, body);
    expect(big.raw.length).toBeGreaterThan(64 * 1024 * 1024);
    expect(big.text.endsWith('</methodResponse>\n')).toBe(true);
    sim.setMode('slow', 150);
    const t = Date.now();
    expect((await post(base, body)).status).toBe(200);
    expect(Date.now() - t).toBeGreaterThanOrEqual(140);
    sim.setMode('down');
    await expect(post(base, body)).rejects.toThrow();
    sim.setMode('ok');
    expect(L(await ok(base, 'listHosts')).length).toBe(4);
  });

  it('moves a build FREE -> ASSIGNED -> OPEN -> CLOSED and its build BUILDING -> COMPLETE as the clock advances', async () => {
    const { sim, clock, base } = await boot({ seed: 7, history: false, workload: false, failRate: 0 });
    expect(sim.submitBuild('alice', 'hello', 'f42-candidate')).toBe(1);
    const states: number[] = [];
    const buildStates: number[] = [];
    const queue: number[] = [];
    let waiting = false;
    let lastEvent = 0;
    for (let i = 0; i < 3000; i++) {
      const [task, builds, q, ev] = L(await ok(base, 'multiCall', [
        { methodName: 'getTaskInfo', params: [1] }, { methodName: 'listBuilds', params: [kwargs({ taskID: 1 })] },
        { methodName: 'repo.queryQueue', params: [[['active', 'IS', true]], null, { countOnly: true }] }, { methodName: 'getLastEvent', params: [] },
      ])).map((r) => L(r)[0] as XmlRpcValue);
      const t = S(task);
      if (states.at(-1) !== t.state) states.push(t.state as number);
      waiting ||= t.waiting === true;
      const b = L(builds)[0];
      if (b !== undefined && buildStates.at(-1) !== S(b).state) buildStates.push(S(b).state as number);
      if (queue.at(-1) !== q) queue.push(q as number);
      expect(S(ev).id as number).toBeGreaterThanOrEqual(lastEvent);
      lastEvent = S(ev).id as number;
      if (t.state === 2 && q === 0) break;
      clock.advance(i < 100 ? 1000 : 5000);
      sim.step();
    }
    expect(states).toEqual([0, 4, 1, 2]);
    expect(buildStates).toEqual([0, 1]);
    expect(waiting).toBe(true);
    expect(queue).toEqual([0, 1, 0]);
    const children = L(await ok(base, 'listTasks', { parent: 1 }, { order: 'id' })).map(S);
    expect(children.map((c) => [c.method, c.label, c.state])).toEqual([
      ['buildSRPMFromSCM', null, 2], ['buildArch', 'x86_64', 2], ['buildArch', 'aarch64', 2], ['buildArch', 'ppc64le', 2], ['tagBuild', null, 2],
    ]);
    expect(children.map((c) => [c.arch, c.host_id === null, c.awaited])).toEqual([['noarch', false, false], ['x86_64', false, false], ['aarch64', false, false], ['ppc64le', false, false], ['noarch', false, false]]);
    expect(children.slice(2, 4).map((c) => c.host_id)).toEqual([2, 4]);
    for (const c of children) expect([c.create_ts as number <= (c.start_ts as number), (c.start_ts as number) <= (c.completion_ts as number)]).toEqual([true, true]);
    const build = S(L(await ok(base, 'listBuilds', kwargs({ taskID: 1 })))[0]);
    expect(build).toMatchObject({ name: 'hello', version: '2.12.1', release: '1.fc42', nvr: 'hello-2.12.1-1.fc42', owner_name: 'alice', state: 1, task_id: 1 });
    const repo = L(await ok(base, 'listTasks', { method: 'newRepo' })).map(S);
    expect(repo.map((r) => [r.state, r.owner_name, r.channel_id, r.priority])).toEqual([[2, 'kojira', 2, 15]]);
    expect(L(await ok(base, 'repo.queryQueue', null, '*')).map(S).map((r) => [r.active, r.tag_name, r.task_id])).toEqual([[false, 'f42-build', repo[0]?.id]]);
  });

  it('can be driven by hand: failures cancel siblings and fail the build, hosts fill up, die and are disabled', async () => {
    const { sim, clock, base } = await boot({ manual: true });
    expect(await ok(base, 'listTasks', {}, { countOnly: true })).toBe(0);
    expect(S(await ok(base, 'getLastEvent')).id).toBe(1);
    const a = await toArchStage(sim, base, sim.submitBuild('bob', 'curl', 'rawhide'));
    expect(Object.keys(a)).toEqual(['x86_64', 'aarch64', 'ppc64le']);
    expect(S(await ok(base, 'getTaskInfo', 1))).toMatchObject({ state: 1, host_id: 1, waiting: true });
    expect(S(L(await ok(base, 'listBuilds', kwargs({ taskID: 1 })))[0])).toMatchObject({ state: 0, nvr: 'curl-8.11.1-1.fc43', owner_name: 'bob', completion_ts: null });
    const arm = () => ok(base, 'getHost', 'builder2.example.com').then(S);
    sim.assignTask(a.aarch64 as number, 'builder2.example.com');
    expect(S(await ok(base, 'getTaskInfo', a.aarch64 as number))).toMatchObject({ state: 4, host_id: 2, start_ts: null });
    sim.openTask(a.aarch64 as number);
    expect(await arm()).toMatchObject({ task_load: 1.5, ready: true });
    clock.advance(1000);
    const second = sim.submitBuild('carol', 'bash');
    const b = await toArchStage(sim, base, second);
    sim.assignTask(b.aarch64 as number, 'builder2.example.com');
    sim.openTask(b.aarch64 as number);
    expect(await arm()).toMatchObject({ task_load: 3, ready: false });
    expect(L(await ok(base, 'listHosts', kwargs({ ready: false }))).map((h) => S(h).id)).toEqual([2]);
    expect(() => sim.assignTask(a.ppc64le as number, 'builder1.example.com')).toThrow(/cannot take/);
    sim.finishTask(a.aarch64 as number, 'FAILED');
    expect(L(await ok(base, 'listTasks', { parent: 1 }, { order: 'id' })).map((t) => S(t).state)).toEqual([2, 3, 5, 3]);
    const parent = S(await ok(base, 'getTaskInfo', 1));
    expect(parent).toMatchObject({ state: 5, waiting: false });
    expect(await fault(base, 'getTaskResult', 1)).toEqual({ code: 1005, message: 'error building package (arch aarch64), mock exited with status 1; see build.log for more information' });
    const failedBuild = S(L(await ok(base, 'listBuilds', kwargs({ taskID: 1 })))[0]);
    expect(failedBuild.state).toBe(3);
    expect((failedBuild.completion_ts as number) - (parent.completion_ts as number)).toBeCloseTo(0, 3);
    expect(await arm()).toMatchObject({ task_load: 1.5, ready: true });
    sim.finishTask(second, 'CANCELED');
    expect(S(L(await ok(base, 'listBuilds', kwargs({ taskID: second })))[0]).state).toBe(4);
    expect(L(await ok(base, 'listTasks', { parent: second }, { order: 'id' })).map((t) => S(t).state)).toEqual([2, 3, 3, 3]);
    expect(await arm()).toMatchObject({ task_load: 0, ready: true });
    // A dead host stops checking in and is not ready; it comes back on its next check-in.
    sim.step();
    const before = S(await ok(base, 'getHost', 3));
    sim.setHostAlive('builder3.example.com', false);
    clock.advance(60_000);
    sim.step();
    expect(S(await ok(base, 'getHost', 3))).toMatchObject({ ready: false, update_ts: before.update_ts });
    sim.setHostAlive('builder3.example.com', true);
    sim.step();
    expect(S(await ok(base, 'getHost', 3)).update_ts as number).toBeGreaterThanOrEqual(clock.now() / 1000);
    expect(S(await ok(base, 'getHost', 3)).ready).toBe(true);
    const ev = S(await ok(base, 'getLastEvent')).id as number;
    sim.setHostEnabled('builder4.example.com', false);
    expect(S(await ok(base, 'getLastEvent')).id).toBe(ev + 1);
    expect(L(await ok(base, 'listHosts', kwargs({ enabled: false }))).map((h) => S(h).name)).toEqual(['builder4.example.com']);
    // Without an enabled ppc64le host, new builds have no ppc64le task.
    expect(Object.keys(await toArchStage(sim, base, sim.submitBuild('alice', 'vim')))).toEqual(['x86_64', 'aarch64']);
    sim.resetDatabase();
    expect([await ok(base, 'listTasks', {}, { countOnly: true }), S(await ok(base, 'getLastEvent')).id, sim.submitBuild('alice', 'vim')]).toEqual([0, 1, 1]);
  });

  it('is deterministic for a seed and clock steps, and keeps memory bounded', async () => {
    const requests = [
      encodeMethodCall('listTasks', [null, { order: 'id' }]), encodeMethodCall('listBuilds', [kwargs({ queryOpts: { order: 'build_id' } })]),
      encodeMethodCall('listHosts', []), encodeMethodCall('getLastEvent', []), encodeMethodCall('repo.queryQueue', [null, '*']),
    ];
    const answers = async (base: string) => Promise.all(requests.map(async (r) => (await post(base, r)).text));
    const one = await boot({ seed: 11 });
    const two = await boot({ seed: 11 });
    const other = await boot({ seed: 12 });
    expect(await answers(one.base)).toEqual(await answers(two.base));
    expect((await answers(one.base))[0]).not.toEqual((await answers(other.base))[0]);
    for (const s of [one, two]) {
      s.clock.advance(600_000);
      s.sim.step();
      s.clock.advance(1_234);
      s.sim.step();
    }
    expect(await answers(one.base)).toEqual(await answers(two.base));
    const { sim, clock, base } = await boot({ seed: 13, maxRecords: 200 });
    let lastId = 0;
    for (let h = 0; h < 36; h++) {
      clock.advance(3_600_000);
      sim.step();
      const tasks = L(await ok(base, 'listTasks', null, { order: '-id', limit: 1 }));
      lastId = Math.max(lastId, S(tasks[0]).id as number);
    }
    expect(lastId).toBeGreaterThan(1000);
    expect(await ok(base, 'listTasks', {}, { countOnly: true })).toBeLessThanOrEqual(200);
    expect(await ok(base, 'listBuilds', kwargs({ queryOpts: { countOnly: true } }))).toBeLessThanOrEqual(200);
    expect(await ok(base, 'getTaskInfo', 1)).toBeNull();
    expect(S(await ok(base, 'getLastEvent')).id as number).toBeGreaterThan(200);
  });

  it.skipIf(!hasOpenssl())('serves HTTPS with the given key pair', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'koji-sim-tls-'));
    try {
      const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
      const { base } = await boot({ history: false, tls: { cert: readFileSync(cert), key: readFileSync(key) } });
      expect(base).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const dispatcher = new Agent({ connect: { ca: readFileSync(cert) } });
      const got = await post(base, encodeMethodCall('getAPIVersion', []), { dispatcher });
      expect(decodeMethodResponse(got.text)).toEqual({ kind: 'result', value: 1 });
      await dispatcher.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

