import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { boot, closeAll, expectShape, fault, FIXTURES, kind, L, learn, ok, post, S } from './simulator-test-helpers.js';
import { decodeMethodResponse, kwargs, type XmlRpcStruct, type XmlRpcValue } from './xmlrpc.js';

afterEach(closeAll);

describe('KojiSimulator methods', () => {
  it('answers the recorded requests with the recorded field names, order and value kinds', async () => {
    const { sim, base } = await boot({ seed: 1 });
    const names = readdirSync(FIXTURES).filter((f) => f.endsWith('.request.xml')).map((f) => f.replace(/\.request\.xml$/, ''));
    expect(names.length).toBe(21);
    for (const name of names) {
      const body = readFileSync(new URL(`${name}.request.xml`, FIXTURES), 'utf8');
      const want = decodeMethodResponse(readFileSync(new URL(`${name}.xml`, FIXTURES), 'utf8'));
      if (name.startsWith('db-down')) sim.setMode('offline');
      const got = await post(base, body);
      sim.setMode('ok');
      expect([name, got.status, got.headers['content-type']]).toEqual([name, 200, 'text/xml']);
      const have = decodeMethodResponse(got.text);
      expect([name, have.kind]).toEqual([name, want.kind]);
      if (have.kind === 'fault' || want.kind === 'fault') {
        expect(have).toEqual(want);
        continue;
      }
      if (['echo-i8', 'getAPIVersion', 'getTaskInfo-missing'].includes(name)) expect(have.value).toEqual(want.value);
      if (name.startsWith('system.multicall') || name.startsWith('multiCall')) {
        const [h, w] = [L(have.value), L(want.value)];
        expect(h.length).toBe(w.length);
        w.forEach((entry, i) => {
          const e = h[i] as XmlRpcValue;
          if (kind(e) === kind(entry)) expectShape(e, learn(entry), `${name}[${i}]`);
          else expect(Array.isArray(e) ? e.length : Object.keys(S(e))).toEqual(Array.isArray(e) ? 1 : ['faultCode', 'faultString']);
        });
        continue;
      }
      expect(kind(have.value), name).toBe(kind(want.value));
      expectShape(have.value, learn(want.value), name);
    }
    // The counts and single rows the fixtures ask for exist in an hour of history.
    expect(S(await ok(base, 'getBuild', 3)).build_id).toBe(3);
    expect(S(await ok(base, 'getHost', 'builder1.example.com')).arches).toBe('x86_64 i686');
    expect(L(await ok(base, 'listTasks', {}, { order: 'id' })).map((t) => S(t).state)).toEqual(expect.arrayContaining([1, 2, 5]));
    const row = S(L(await ok(base, 'listTasks', { state: [2], method: 'buildArch' }, { limit: 1 }))[0]);
    expect(row.request).toMatch(/^<\?xml version='1.0'\?>\n<methodCall><methodName>buildArch<\/methodName>/);
    expect(row.result).toMatch(/<methodResponse><params>/);
    expect(row.completion_time).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\+00:00$/);
    expect(Math.abs(Date.parse(String(row.completion_time).replace(' ', 'T')) / 1000 - (row.completion_ts as number))).toBeLessThan(0.001);
  });

  it('takes positional and keyword arguments alike, and faults on bad ones without crashing', async () => {
    const { base } = await boot({ seed: 2 });
    const positional = await ok(base, 'listTasks', { state: [0, 1, 4] }, { countOnly: true });
    expect(await ok(base, 'listTasks', kwargs({ opts: { state: [0, 1, 4] }, queryOpts: { countOnly: true } }))).toBe(positional);
    expect(await ok(base, 'listTasks', { state: [0, 1, 4] }, kwargs({ queryOpts: { countOnly: true } }))).toBe(positional);
    expect(typeof positional).toBe('number');
    const builds = await ok(base, 'listBuilds', kwargs({ state: 1, queryOpts: { countOnly: true } }));
    expect(await ok(base, 'listBuilds', null, null, null, null, 1, null, null, null, null, null, null, null, null, { countOnly: true })).toBe(builds);
    expect(L(await ok(base, 'listHosts', kwargs({ enabled: true }))).length).toBe(4);
    expect(await ok(base, 'listHosts', null, null, null, true)).toEqual(await ok(base, 'listHosts', kwargs({ enabled: true })));
    expect(L(await ok(base, 'listHosts', ['aarch64'])).map((h) => S(h).name)).toEqual(['builder2.example.com']);
    expect(L(await ok(base, 'listHosts', kwargs({ channelID: 'createrepo' }))).map((h) => S(h).id)).toEqual([1, 2]);
    expect(L(await ok(base, 'listChannels', kwargs({ hostID: 3 }))).map((c) => S(c).name)).toEqual(['default', 'image']);
    const info = S(await ok(base, 'getTaskInfo', 1, kwargs({ request: true })));
    expect(Object.keys(info).at(-1)).toBe('request');
    expect(L(info.request)[1]).toMatch(/^(f41-candidate|f42-candidate|rawhide)$/);
    expect(L(await ok(base, 'getTaskInfo', [1, 99999, 2])).map(kind)).toEqual(['struct', 'nil', 'struct']);
    expect(await ok(base, 'getTaskInfo', '1')).toEqual(await ok(base, 'getTaskInfo', 1));
    const kids = L(await ok(base, 'getTaskChildren', 1, kwargs({ request: true }))).map(S);
    expect(kids.length).toBeGreaterThan(0);
    for (const k of kids) expect([k.parent, Array.isArray(k.request), k.request === undefined]).toEqual([1, true, false]);
    expect(L(await ok(base, 'listTasks', { parent: 1, decode: true }, { order: 'id', limit: 1 })).map((t) => Array.isArray(S(t).request))).toEqual([true]);
    const bad: [string, XmlRpcValue[], number, RegExp][] = [
      ['listTasks', [kwargs({ nope: 1 })], 1019, /unexpected keyword argument 'nope'/],
      ['listTasks', [{}, kwargs({ opts: {} })], 1019, /multiple values for argument 'opts'/],
      ['listTasks', [{}, {}, {}], 1019, /takes 2 positional arguments but 3/],
      ['getTaskInfo', [], 1019, /missing 1 required positional argument: 'task_id'/],
      ['getTaskInfo', ['abc'], 1019, /Invalid type for value 'abc'/],
      ['listTasks', [5], 1019, /expected type <class 'dict'>/],
      ['listTasks', [{ state: 1 }], 1019, /expected type <class 'list'>/],
      ['listTasks', [{ state: ['x'] }], 1019, /Invalid type for state/],
      ['listTasks', [{ createdAfter: 'yesterday' }], 1019, /Invalid time for createdAfter/],
      ['listTasks', [{}, { order: 'nope' }], 1000, /Invalid order: nope/],
      ['listTasks', [{}, { limit: 'x' }], 1019, /Invalid type for limit/],
      ['listBuilds', [kwargs({ state: 'x' })], 1019, /Invalid type for state/],
      ['getHost', [1.5], 1000, /Invalid type for hostInfo/],
      ['getHost', ['nope', true], 1000, /Invalid hostInfo: nope/],
      ['getBuild', [99999, true], 1000, /No such build: 99999/],
      ['listHosts', [[]], 1000, /at least one arch/],
      ['listHosts', [null, 'nope'], 1000, /No such channel: nope/],
      ['repo.queryQueue', [[['nope', '=', 1]]], 1019, /Invalid field: nope/],
      ['repo.queryQueue', [[['active', 'LIKE', 1]]], 1019, /Invalid operator: LIKE/],
      ['getTaskInfo', [99999, false, true], 1000, /^query returned no rows$/],
      ['nope.method', [], 1000, /^Invalid method: nope\.method$/],
    ];
    for (const [method, params, code, message] of bad) {
      const f = await fault(base, method, ...params);
      expect([method, f.code]).toEqual([method, code]);
      expect(f.message).toMatch(message);
    }
    expect(await ok(base, 'getKojiVersion')).toBe('1.35.3');
  });

  it('applies countOnly, order, offset and limit, and strict time filters', async () => {
    const { base } = await boot({ seed: 3 });
    const all = L(await ok(base, 'listTasks', null, { order: 'id' })).map(S);
    const ids = all.map((t) => t.id as number);
    expect(ids.length).toBeGreaterThan(30);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(L(await ok(base, 'listTasks', null, { order: '-id', limit: 5 })).map((t) => S(t).id)).toEqual([...ids].reverse().slice(0, 5));
    expect(L(await ok(base, 'listTasks', {}, { order: 'id', offset: 3, limit: 4 })).map((t) => S(t).id)).toEqual(ids.slice(3, 7));
    expect(await ok(base, 'listTasks', {}, { countOnly: true })).toBe(ids.length);
    expect(await ok(base, 'listTasks', {}, { countOnly: true, limit: 7 })).toBe(7);
    const byPrio = L(await ok(base, 'listTasks', {}, { order: 'priority,-id' })).map(S);
    expect(byPrio.map((t) => [t.priority, -(t.id as number)])).toEqual([...byPrio].map((t) => [t.priority, -(t.id as number)]).sort((a, b) => (a[0] as number) - (b[0] as number) || (a[1] as number) - (b[1] as number)));
    const byDone = L(await ok(base, 'listTasks', {}, { order: 'completion_ts' })).map((t) => S(t).completion_ts);
    expect(byDone.at(-1)).toBeNull();
    expect(L(await ok(base, 'listTasks', {}, { order: '-completion_ts' })).map((t) => S(t).completion_ts)[0]).toBeNull();
    expect(L(await ok(base, 'listTasks', {}, { order: 'id', asList: true, limit: 1 }))[0]).toEqual(Object.values(all[0] as XmlRpcStruct));
    // Filters, with NULL matching neither = nor IN.
    expect(L(await ok(base, 'listTasks', { parent: null }, {})).map((t) => S(t).parent)).toEqual(all.filter((t) => t.parent === null).map(() => null));
    const parentId = all.find((t) => t.parent !== null)?.parent as number;
    expect(L(await ok(base, 'listTasks', { parent: parentId })).map((t) => S(t).id)).toEqual(all.filter((t) => t.parent === parentId).map((t) => t.id));
    expect(await ok(base, 'listTasks', { parent: [parentId] }, { countOnly: true })).toBe(all.filter((t) => t.parent === parentId).length);
    expect(await ok(base, 'listTasks', { not_parent: [parentId] }, { countOnly: true })).toBe(all.filter((t) => t.parent !== null && t.parent !== parentId).length);
    expect(await ok(base, 'listTasks', { host_id: 2, arch: ['aarch64'] }, { countOnly: true })).toBe(all.filter((t) => t.host_id === 2 && t.arch === 'aarch64').length);
    expect(await ok(base, 'listTasks', { channel_id: 2, owner: 5, method: 'newRepo' }, { countOnly: true })).toBe(all.filter((t) => t.method === 'newRepo').length);
    expect(await ok(base, 'listTasks', { not_state: [2] }, { countOnly: true })).toBe(all.filter((t) => t.state !== 2).length);
    const mid = all[Math.floor(all.length / 2)] as XmlRpcStruct;
    const after = (k: string, ts: number) => all.filter((t) => t[k] !== null && (t[k] as number) > ts).map((t) => t.id);
    const before = (k: string, ts: number) => all.filter((t) => t[k] !== null && (t[k] as number) < ts).map((t) => t.id);
    const cts = mid.create_ts as number;
    expect(L(await ok(base, 'listTasks', { createdAfter: cts }, { order: 'id' })).map((t) => S(t).id)).toEqual(after('create_ts', cts));
    expect(after('create_ts', cts)).not.toContain(mid.id);
    expect(L(await ok(base, 'listTasks', { createdBefore: cts }, { order: 'id' })).map((t) => S(t).id)).toEqual(before('create_ts', cts));
    expect(L(await ok(base, 'listTasks', { createdAfter: mid.create_time ?? null }, { order: 'id' })).map((t) => S(t).id)).toEqual(after('create_ts', cts));
    const done = all.find((t) => t.completion_ts !== null && t.id !== ids[0]) as XmlRpcStruct;
    for (const key of ['completeAfter', 'completedAfter']) {
      expect(L(await ok(base, 'listTasks', { [key]: done.completion_ts ?? null, parent: null }, { order: 'completion_ts' })).map((t) => S(t).id)).toEqual(
        all.filter((t) => t.parent === null && t.completion_ts !== null && (t.completion_ts as number) > (done.completion_ts as number)).sort((a, b) => (a.completion_ts as number) - (b.completion_ts as number)).map((t) => t.id),
      );
    }
    expect(L(await ok(base, 'listTasks', { startedAfter: 0 })).every((t) => S(t).start_ts !== null)).toBe(true);
    expect(await ok(base, 'listTasks', { startedBefore: (mid.create_ts as number) + 1e-6, completeBefore: 1e10 }, { countOnly: true })).toBe(all.filter((t) => t.start_ts !== null && (t.start_ts as number) < cts + 1e-6 && t.completion_ts !== null).length);
    // listBuilds
    const builds = L(await ok(base, 'listBuilds', kwargs({ queryOpts: { order: '-build_id' } }))).map(S);
    expect(builds.length).toBeGreaterThan(3);
    expect(builds.map((b) => b.build_id)).toEqual(builds.map((b) => b.build_id as number).sort((a, b) => b - a));
    expect(L(await ok(base, 'listBuilds', kwargs({ queryOpts: { order: 'build_id', limit: 2, offset: 1 } }))).map((b) => S(b).build_id)).toEqual(builds.map((b) => b.build_id).reverse().slice(1, 3));
    const b2 = builds[2] as XmlRpcStruct;
    expect(L(await ok(base, 'listBuilds', kwargs({ createdAfter: b2.creation_ts, queryOpts: { order: 'creation_ts' } }))).map((b) => S(b).build_id)).toEqual(builds.filter((b) => (b.creation_ts as number) > (b2.creation_ts as number)).map((b) => b.build_id).reverse());
    expect(L(await ok(base, 'listBuilds', kwargs({ createdBefore: b2.creation_ts }))).map((b) => S(b).build_id)).toEqual(builds.filter((b) => (b.creation_ts as number) < (b2.creation_ts as number)).map((b) => b.build_id).reverse());
    const finished = builds.filter((b) => b.completion_ts !== null);
    const f0 = finished.at(-1) as XmlRpcStruct;
    expect(await ok(base, 'listBuilds', kwargs({ completeAfter: f0.completion_ts, queryOpts: { countOnly: true } }))).toBe(finished.filter((b) => (b.completion_ts as number) > (f0.completion_ts as number)).length);
    expect(await ok(base, 'listBuilds', kwargs({ completeBefore: f0.completion_time, queryOpts: { countOnly: true } }))).toBe(finished.filter((b) => (b.completion_ts as number) < (f0.completion_ts as number)).length);
    expect(L(await ok(base, 'listBuilds', kwargs({ taskID: b2.task_id }))).map((b) => S(b).build_id)).toEqual([b2.build_id]);
    expect(await ok(base, 'listBuilds', kwargs({ state: 0, queryOpts: { countOnly: true } }))).toBe(builds.filter((b) => b.state === 0).length);
    const full = S(await ok(base, 'getBuild', b2.nvr ?? null));
    expect([full.id, full.build_id, Object.keys(full).at(-1)]).toEqual([b2.build_id, b2.build_id, 'cg_name']);
    expect(S(await ok(base, 'getBuild', { name: b2.name ?? null, version: b2.version ?? null, release: b2.release ?? null })).id).toBe(b2.build_id);
  });

  it('answers multiCall entry by entry, a fault in the middle not stopping later calls', async () => {
    const { sim, base } = await boot({ seed: 4 });
    const entries = (list: [string, XmlRpcValue[]][]) => list.map(([methodName, params]) => ({ methodName, params }));
    const calls = entries([
      ['getLastEvent', []],
      ['getTaskInfo', [99999, false, true]],
      ['listTasks', [{ state: [1] }, { countOnly: true }]],
      ['nope', []],
      ['multiCall', [[]]],
      ['listTasks', [kwargs({ nope: 1 })]],
      ['listHosts', [kwargs({ enabled: true })]],
    ]);
    for (const method of ['multiCall', 'system.multicall']) {
      const out = L(await ok(base, method, calls));
      expect(out.length).toBe(7);
      expect(Object.keys(S(L(out[0])[0]))).toEqual(['id', 'ts']);
      const faults = [1, 3, 4, 5].map((i) => S(out[i]));
      expect(faults.map((f) => [f.faultCode, f.faultString])).toEqual([
        [1000, 'query returned no rows'], [1000, 'Invalid method: nope'], [1000, 'multicall calls cannot be nested'], [1019, "listTasks() got an unexpected keyword argument 'nope'"],
      ]);
      for (const f of faults) expect(L(f.traceback)[0]).toBe('Traceback (most recent call last):\n');
      expect(L(out[2]).length).toBe(1);
      expect(typeof L(out[2])[0]).toBe('number');
      expect(L(L(out[6])[0]).length).toBe(4);
      expect(sim.calls.at(-1)).toEqual([method, 'getLastEvent', 'getTaskInfo', 'listTasks', 'nope', 'multiCall', 'listTasks', 'listHosts']);
    }
    const failed = S(L(await ok(base, 'listTasks', { state: [5] }, { limit: 1, order: 'id' }))[0] ?? {});
    if (failed.id !== undefined) {
      const [entry] = L(await ok(base, 'multiCall', entries([['getTaskResult', [failed.id]]])));
      expect(Object.keys(S(entry))).toEqual(['faultCode', 'faultString']);
      expect(await ok(base, 'getTaskResult', failed.id, false)).toEqual({ faultCode: S(entry).faultCode, faultString: S(entry).faultString });
    }
    expect(L(await ok(base, 'multiCall', kwargs({ calls: entries([['getAPIVersion', []]]) })))).toEqual([[1]]);
    expect(sim.calls.at(-1)).toEqual(['multiCall', 'getAPIVersion']);
    expect((await fault(base, 'multiCall', 5)).code).toBe(1019);
  });
});
