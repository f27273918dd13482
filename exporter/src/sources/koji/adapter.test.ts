/**
 * The koji adapter against the Koji hub simulator over real XML-RPC on loopback, driven by a
 * ManualClock: the baseline, incremental polling across the hub's times and events, counting
 * each new task and build once, pages continued across polls, the hub's database going offline,
 * a new database, and the call budget.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Task } from '../../model/task.js';
import { UpstreamHttp } from '../http.js';
import type { Snapshot } from '../source.js';
import { KojiAdapter } from './adapter.js';
import { KojiFaultError } from './client.js';
import { parseKojiConfig } from './config.js';
import type { KojiSimulatorOptions } from './simulator.js';
import { boot as bootSimulator, closeAll } from './simulator-test-helpers.js';

afterEach(closeAll);

async function boot(simOptions: Partial<KojiSimulatorOptions> = {}, config: Record<string, unknown> = {}) {
  const { clock, sim, base, tick } = await bootSimulator({ seed: 3, manual: true, ...simOptions });
  const adapter = new KojiAdapter(parseKojiConfig({ url: `${base}/kojihub`, ...config }), { name: 'fedora', log: pino({ level: 'silent' }), clock, http: new UpstreamHttp(), pollTimeoutSeconds: 10 });
  const poll = async (): Promise<Snapshot> => adapter.poll(AbortSignal.timeout(10_000));
  const task = (snap: Snapshot, id: number | string): Task | undefined => snap.tasks.find((t) => t.id === String(id));
  // tick: move the hub's time on (hosts check in every 15 s).
  return { clock, sim, adapter, poll, task, tick, base };
}

describe('koji adapter', () => {
  it('takes a baseline of a busy hub: shown, not counted; hub counts split by method', async () => {
    const { poll, adapter } = await boot({ manual: false, history: true, seed: 9 });
    const snap = await poll();
    expect(snap.newTaskIds).toBeUndefined();
    expect(adapter.problems().current).toEqual({});
    const tasks = snap.tasks.filter((t) => !t.id.startsWith('build-'));
    expect(tasks.length).toBeGreaterThan(10);
    expect(new Set(tasks.map((t) => t.state))).toContain('CLOSED');
    expect(snap.tasks.some((t) => t.id.startsWith('build-') && t.state === 'complete')).toBe(true);
    expect(snap.workers?.map((w) => w.id).sort()).toEqual(['builder1.example.com', 'builder2.example.com', 'builder3.example.com', 'builder4.example.com']);
    // The parent of a build lists its children with their states on their arches.
    const parent = tasks.find((t) => t.attrs?.method === 'build' && t.subtasks.length > 2);
    expect(parent?.subtasks.map((s) => s.type)).toContain('buildArch');
    expect(parent?.archs.length).toBeGreaterThan(0);
    const figures = snap.upstream?.figures ?? [];
    const held = (state: string) => tasks.filter((t) => t.state === state).length;
    for (const state of ['FREE', 'ASSIGNED', 'OPEN']) {
      const sum = figures.filter((f) => f.name === 'tasks' && f.labels?.state === state).reduce((n, f) => n + f.value, 0);
      expect(sum, state).toBe(held(state));
    }
    expect(adapter.endpoints().map((e) => [e.name, e.reachable, e.up])).toEqual([['hub', true, true], ['database', true, true]]);
  });

  it('follows a build through its life cycle and counts every task and the build once', async () => {
    const { sim, poll, task, tick } = await boot();
    let snap = await poll(); // baseline: an empty hub
    expect(snap.tasks).toEqual([]);
    tick(5_000);
    const id = sim.submitBuild('alice', 'bash', 'f42-candidate');
    snap = await poll();
    expect(task(snap, id)).toMatchObject({ state: 'FREE', phase: 'queued', owner: 'alice', repo: 'default', attrs: { method: 'build', target: 'f42-candidate' } });
    expect(task(snap, id)?.message).toMatch(/^build: git\+https:\/\/src\.example\.org\/rpms\/bash\.git#\w+ → f42-candidate$/);
    expect(snap.newTaskIds).toEqual([String(id)]);

    tick(2_000);
    sim.assignTask(id);
    snap = await poll();
    expect(task(snap, id)).toMatchObject({ state: 'ASSIGNED', phase: 'queued' });
    expect(snap.newTaskIds).toBeUndefined();

    tick(2_000);
    sim.openTask(id);
    snap = await poll();
    expect(task(snap, id)).toMatchObject({ state: 'OPEN', phase: 'running' });
    const srpm = snap.tasks.find((t) => t.attrs?.parent === id);
    expect(srpm).toMatchObject({ state: 'FREE', attrs: { method: 'buildSRPMFromSCM' } });
    expect(task(snap, id)?.subtasks.map((s) => [s.id, s.type, s.archs[0]?.status])).toEqual([[srpm?.id, 'buildSRPMFromSCM', 'FREE']]);
    expect(snap.newTaskIds).toEqual([srpm?.id]);

    // The SRPM task runs and ends between two polls; the build record and per-arch tasks appear.
    tick(3_000);
    sim.assignTask(Number(srpm?.id));
    sim.openTask(Number(srpm?.id));
    tick(60_000);
    sim.finishTask(Number(srpm?.id), 'CLOSED');
    snap = await poll();
    expect(task(snap, srpm?.id ?? '')).toMatchObject({ state: 'CLOSED', phase: 'success' });
    const arches = snap.tasks.filter((t) => t.attrs?.parent === id && t.attrs?.method === 'buildArch');
    expect(arches.length).toBeGreaterThan(1);
    const build = snap.tasks.find((t) => t.id.startsWith('build-'));
    expect(build).toMatchObject({ state: 'building', phase: 'running', owner: 'alice', repo: 'f42-candidate' });
    expect(build?.message).toMatch(/^build bash-/);
    expect(new Set(snap.newTaskIds)).toEqual(new Set(arches.map((t) => t.id).concat(build?.id ?? '')));

    for (const t of arches) {
      tick(1_000);
      sim.assignTask(Number(t.id));
      sim.openTask(Number(t.id));
    }
    tick(120_000);
    for (const t of arches) sim.finishTask(Number(t.id), 'CLOSED');
    snap = await poll();
    expect(snap.tasks.find((t) => t.id === build?.id)).toMatchObject({ state: 'complete', phase: 'success' });
    expect(task(snap, id)?.subtasks.filter((s) => s.type === 'buildArch').every((s) => s.archs[0]?.status === 'CLOSED')).toBe(true);
    expect(task(snap, id)?.archs.sort()).toEqual([...new Set(arches.map((t) => t.archs[0] as string))].concat('noarch').sort());

    // tagBuild, then the parent closes.
    tick(1_000);
    const tag = (await poll()).tasks.find((t) => t.attrs?.parent === id && t.attrs?.method === 'tagBuild');
    expect(tag).toBeDefined();
    sim.assignTask(Number(tag?.id));
    sim.openTask(Number(tag?.id));
    tick(2_000);
    sim.finishTask(Number(tag?.id), 'CLOSED');
    snap = await poll();
    expect(task(snap, id)).toMatchObject({ state: 'CLOSED', phase: 'success' });
    expect(task(snap, id)?.finished).toBeDefined();
    // Polling again changes nothing and counts nothing.
    const again = await poll();
    expect(again.newTaskIds).toBeUndefined();
    expect(again.tasks.find((t) => t.id === String(id))).toBe(task(snap, id));
  });

  it('counts a task that was created, ran and failed between two polls', async () => {
    const { sim, poll, task, tick } = await boot();
    await poll();
    tick(1_000);
    const id = sim.submitBuild('bob', 'zlib');
    sim.assignTask(id);
    sim.openTask(id);
    tick(1_000);
    sim.finishTask(id, 'FAILED');
    const snap = await poll();
    expect(task(snap, id)).toMatchObject({ state: 'FAILED', phase: 'failed' });
    expect(snap.newTaskIds).toContain(String(id));
    expect((await poll()).newTaskIds ?? []).not.toContain(String(id));
  });

  it('continues a full page on the next poll and loses no task', async () => {
    const { sim, poll, tick } = await boot({}, { page_size: 10 });
    await poll();
    tick(1_000);
    const ids: number[] = [];
    for (let i = 0; i < 35; i += 1) {
      tick(100);
      ids.push(sim.submitBuild('carol', `pkg${i}`));
    }
    const seen = new Set<string>();
    const counted: string[] = [];
    for (let i = 0; i < 6; i += 1) {
      const snap = await poll();
      for (const t of snap.tasks) seen.add(t.id);
      counted.push(...(snap.newTaskIds ?? []));
    }
    expect(ids.every((id) => seen.has(String(id)))).toBe(true);
    expect(counted.sort()).toEqual(ids.map(String).sort());
  });

  it('reports fault 1014 as hub up, database down, keeps what it knows, and recovers', async () => {
    const { sim, poll, adapter, tick } = await boot();
    await poll();
    tick(1_000);
    sim.submitBuild('alice', 'bash');
    const before = await poll();
    sim.setMode('offline');
    const err = await poll().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KojiFaultError);
    expect((err as KojiFaultError).offline).toBe(true);
    expect((err as Error).message).toMatch(/fault 1014 ServerOffline \(database outage\)/);
    expect(adapter.endpoints().map((e) => [e.name, e.reachable, e.up])).toEqual([['hub', true, false], ['database', false, false]]);
    sim.setMode('down');
    await expect(poll()).rejects.toThrow(/failed|socket|closed/i);
    expect(adapter.endpoints()[0]).toMatchObject({ reachable: false, up: false });
    sim.setMode('ok');
    const after = await poll();
    expect(after.tasks.map((t) => t.id)).toEqual(before.tasks.map((t) => t.id));
    expect(after.newTaskIds).toBeUndefined();
    expect(adapter.endpoints().map((e) => e.up)).toEqual([true, true]);
  });

  it('takes event ids going back as a new database: a new baseline, nothing counted from the old one', async () => {
    const { sim, poll, adapter, tick } = await boot();
    await poll();
    tick(1_000);
    sim.submitBuild('alice', 'bash');
    sim.setHostEnabled('builder4.example.com', false);
    sim.setHostEnabled('builder4.example.com', true);
    await poll();
    sim.resetDatabase();
    tick(1_000);
    sim.submitBuild('bob', 'zlib');
    const snap = await poll();
    expect(adapter.problems().current).toEqual({ ids_reset: 1 });
    expect(snap.newTaskIds).toBeUndefined();
    expect(snap.tasks.map((t) => t.owner)).toEqual(['bob']);
  });

  it('sends two multiCalls per poll, the listings all bounded', async () => {
    const { sim, poll, tick } = await boot();
    await poll();
    tick(1_000);
    const before = sim.calls.length;
    await poll();
    const requests = sim.calls.slice(before);
    expect(requests.map((r) => r[0])).toEqual(['multiCall', 'multiCall']);
    expect(requests[0]?.slice(1)).toEqual(['getLastEvent', 'listTasks', 'listTasks', 'listTasks', 'listHosts', 'listChannels', 'listBuilds', 'repo.queryQueue']);
    expect(requests[1]?.slice(1)).toEqual(['listTasks', 'listTasks', 'listTasks', 'listTasks', 'listBuilds', 'listBuilds']);
  });
});

describe('koji adapter: stable records', () => {
  it('a build re-read by getBuild (more fields than listBuilds) and listed again stays the same object', async () => {
    const { sim, poll, tick } = await boot();
    await poll();
    tick(1_000);
    const id = sim.submitBuild('alice', 'bash');
    sim.assignTask(id);
    sim.openTask(id);
    const srpm = (await poll()).tasks.find((t) => t.attrs?.parent === id);
    sim.assignTask(Number(srpm?.id));
    sim.openTask(Number(srpm?.id));
    tick(30_000);
    sim.finishTask(Number(srpm?.id), 'CLOSED');
    await poll(); // the build appears (listBuilds)
    await poll(); // read again by getBuild: id, cg_id and cg_name join its row (not its record: they say nothing here)
    const settled = (await poll()).tasks.find((t) => t.id.startsWith('build-'));
    for (let i = 0; i < 3; i += 1) {
      tick(10_000); // inside the overlap: listBuilds lists it again, getBuild reads it again
      expect((await poll()).tasks.find((t) => t.id === settled?.id)).toBe(settled);
    }
  });
});
