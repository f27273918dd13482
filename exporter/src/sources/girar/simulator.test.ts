import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { ManualClock } from '../../util/clock.js';
import { waitUntil } from '../../util/wait-until.js';
import { parseSse, type SseEvent } from '../sse-parser.js';
import { GIRAR_DEFAULT_STATES, GIRAR_STATES } from './normalize.js';
import { GIRAR_TRANSITIONS, GirarSimulator, type SimTaskSpec } from './simulator.js';
import { checkHealth, checkTaskDetail, checkTaskList, type TaskDetail, type TaskListItem } from './upstream.js';

interface Got {
  status: number;
  headers: Headers;
  body: unknown;
}

async function get(url: string): Promise<Got> {
  const res = await fetch(url);
  return { status: res.status, headers: res.headers, body: (await res.json()) as unknown };
}

async function list(base: string, query = 'state=ALL'): Promise<TaskListItem[]> {
  const { status, body } = await get(`${base}/tasks?${query}`);
  expect(status).toBe(200);
  if (!checkTaskList.Check(body)) throw new Error(`invalid list for ${query}`);
  return body;
}

/** The README's search example tasks plus one that must not match, as fixed simulator tasks. */
const README_TASKS: SimTaskSpec[] = [
  {
    id: 411555, state: 'BUILDING', repo: 'p11', owner: 'rider', created: '2026-03-16T12:22:27', build_time: '2026-03-16T17:15:28',
    fail_early: true, try: 2, iter: 1, message: 'update PDAL',
    subtasks: { '100': { dir: '/gears/p/pdal.git', tag_name: '2.9.3-alt1', type: 'repo', userid: 'rider', pkgname: 'pdal' } },
  },
  {
    id: 411543, state: 'EPERM', repo: 'p11', owner: 'zerg', created: '2026-03-16T11:09:35', build_time: '2026-03-16T12:38:04',
    fail_early: true, try: 1, iter: 1, message: 'update',
    subtasks: { '300': { dir: '/people/zerg/packages/nvidia_glx_libs_580.142.git', tag_name: '580.142.-alt1', type: 'repo', userid: 'zerg', pkgname: 'nvidia_glx_libs_580.142' } },
  },
  {
    id: 411469, state: 'EPERM', repo: 'p11', owner: 'lav', created: '2026-03-15T15:22:25', build_time: '2026-03-15T15:31:29',
    fail_early: true, try: 2, iter: 1, message: 'Debian libcurl compatibility',
    subtasks: { '100': { dir: '/gears/l/libcurl4-gnutls.git', tag_name: '8.0-alt1', type: 'repo', userid: 'lav', pkgname: 'libcurl4-gnutls' } },
  },
  { id: 411400, state: 'DONE', repo: 'p11', owner: 'lav', created: '2026-03-10T10:00:00', try: 1, iter: 1, message: 'libfoo for p11' },
  { id: 411300, state: 'FAILURE', repo: 'sisyphus', owner: 'vt', created: '2026-03-09T10:00:00', try: 1, iter: 1 },
  { id: 411200, state: 'NEW', repo: 'c10f2', owner: 'rider', created: '2026-03-08T10:00:00' },
];

describe('GirarSimulator life cycle', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const run = (seed: number) => {
      const clock = new ManualClock();
      const sim = new GirarSimulator({ clock, seed, heartbeatMs: 0 });
      for (let i = 0; i < 50; i++) {
        clock.advance(60_000);
        sim.tick();
      }
      return JSON.stringify([...sim.states()]);
    };
    expect(run(11)).toBe(run(11));
    expect(run(11)).not.toBe(run(12));
  });

  it('only ever makes girar transitions, with the right try/iter/updated bookkeeping', async () => {
    const clock = new ManualClock();
    const sim = new GirarSimulator({ clock, seed: 5, heartbeatMs: 0 });
    const base = await sim.listen();
    const seen = new Map<string, number>();
    const removedFrom = new Set<string>();
    let prev = new Map((await list(base)).map((t) => [t.id, t]));
    const initial = prev.size;
    expect(initial).toBeGreaterThanOrEqual(40);
    expect(initial).toBeLessThanOrEqual(60);
    expect(new Set([...prev.values()].map((t) => t.repo))).toEqual(new Set(['sisyphus', 'p11', 'p10', 'c10f2']));
    try {
      for (let i = 0; i < 400; i++) {
        clock.advance(60_000);
        sim.tick();
        const now = new Map((await list(base)).map((t) => [t.id, t]));
        for (const [id, t] of now) {
          const before = prev.get(id);
          if (!before) {
            expect(t.state, `new task ${id}`).toBe('NEW');
            expect(t.try).toBeUndefined();
            continue;
          }
          if (before.state === t.state) continue;
          const edge = `${before.state}>${t.state}`;
          expect(GIRAR_TRANSITIONS[before.state], edge).toContain(t.state);
          seen.set(edge, (seen.get(edge) ?? 0) + 1);
          const rerun = t.state === 'AWAITING' || t.state === 'POSTPONED';
          if (rerun && ['NEW', 'FAILED', 'EPERM', 'TESTED', 'SWEPT'].includes(before.state)) {
            expect([t.try, t.iter], `${edge} is a new try`).toEqual([(before.try ?? 0) + 1, 1]);
          } else if (rerun) {
            expect([t.try, t.iter], `${edge} is a new iteration`).toEqual([before.try, (before.iter ?? 1) + 1]);
          } else {
            expect([t.try, t.iter], edge).toEqual([before.try, before.iter]);
          }
          const d = (await get(`${base}/tasks/${id}`)).body as TaskDetail;
          expect(d.updated, `${edge} regenerates info.json`).toBe(Math.floor(clock.now() / 1000));
          expect(d.build_time).toBe(new Date(clock.now()).toISOString().slice(0, 19));
        }
        for (const [id, t] of prev) if (!now.has(id)) removedFrom.add(t.state);
        prev = now;
      }
    } finally {
      await sim.close();
    }
    for (const edge of ['NEW>AWAITING', 'AWAITING>BUILDING', 'BUILDING>FAILING', 'FAILING>FAILED', 'BUILDING>PENDING', 'BUILDING>EPERM', 'BUILDING>TESTED', 'PENDING>COMMITTING', 'COMMITTING>DONE', 'EPERM>PENDING', 'PENDING>AWAITING', 'NEW>POSTPONED', 'POSTPONED>AWAITING', 'FAILED>AWAITING']) {
      expect(seen.get(edge) ?? 0, edge).toBeGreaterThan(0);
    }
    expect(removedFrom).toContain('DONE');
    expect(prev.size).toBeGreaterThanOrEqual(35);
    expect(prev.size).toBeLessThanOrEqual(65);
  });

  it('shows per-arch results only as they finish, with girar words, and approvals on EPERM -> PENDING', async () => {
    const clock = new ManualClock();
    const sim = new GirarSimulator({ clock, seed: 9, heartbeatMs: 0 });
    const base = await sim.listen();
    const words = new Set<string>();
    let sawPartial = false;
    let sawFailedArch = false;
    let sawApproval = false;
    try {
      for (let i = 0; i < 150; i++) {
        const before = sim.states();
        clock.advance(60_000);
        sim.tick();
        for (const [id, state] of sim.states()) {
          if (!['BUILDING', 'FAILING', 'PENDING'].includes(state)) continue;
          const d = (await get(`${base}/tasks/${id}`)).body;
          if (!checkTaskDetail.Check(d)) throw new Error(`invalid detail ${id}`);
          const subs = Object.values(d.subtasks ?? {});
          for (const s of subs) for (const w of Object.values(s.build ?? {})) words.add(w);
          if (state === 'BUILDING' && before.get(id) === 'AWAITING') {
            expect(subs.every((s) => s.build === undefined), `${id} starts with no results`).toBe(true);
          }
          if (state === 'BUILDING' && subs.some((s) => s.build !== undefined)) sawPartial = true;
          if (state === 'FAILING' && before.get(id) === 'BUILDING') {
            expect(subs.some((s) => Object.values(s.build ?? {}).includes('failed'))).toBe(true);
            sawFailedArch = true;
          }
          if (state === 'PENDING' && before.get(id) === 'EPERM') {
            expect(subs.some((s) => (s.approved_by ?? []).length > 0)).toBe(true);
            sawApproval = true;
          }
        }
      }
    } finally {
      await sim.close();
    }
    expect(sawPartial && sawFailedArch && sawApproval).toBe(true);
    for (const w of words) expect(['built', 'cached', 'swept', 'excluded', 'failed']).toContain(w);
    expect(words).toContain('built');
    expect(words).toContain('excluded');
  });
});

describe('GirarSimulator HTTP API', () => {
  let clock: ManualClock;
  let sim: GirarSimulator;
  let base: string;

  beforeEach(async () => {
    clock = new ManualClock();
    sim = new GirarSimulator({ clock, heartbeatMs: 0, warmupSteps: 0 });
    sim.setTasks(README_TASKS);
    base = await sim.listen();
  });

  afterEach(async () => {
    await sim.close();
  });

  it("applies taskoteka's default-state rules and filters, newest id first", async () => {
    const ids = (items: TaskListItem[]) => items.map((t) => t.id);
    expect(ids(await list(base, ''))).toEqual([411555]);
    expect(GIRAR_DEFAULT_STATES.active).toContain('BUILDING');
    expect(ids(await list(base, 'user=ALL'))).toEqual([411555]);
    expect(ids(await list(base, 'user=lav'))).toEqual([411469]);
    expect(ids(await list(base, 'user=lav&state=ALL'))).toEqual([411469, 411400]);
    expect(ids(await list(base, 'state=ALL'))).toEqual([411555, 411543, 411469, 411400, 411300, 411200]);
    expect(ids(await list(base, 'state=eperm,FAILURE'))).toEqual([411543, 411469, 411300]);
    expect(ids(await list(base, 'state=ALL&repo=sisyphus,c10f2'))).toEqual([411300, 411200]);
    const brief = await get(`${base}/tasks?state=ALL&brief=yes`);
    expect(brief.body).toEqual([411555, 411543, 411469, 411400, 411300, 411200]);
  });

  it('answers the README search example exactly, and hides DONE from searches', async () => {
    const found = await list(base, 'q=p11+EPERM+lib');
    expect(found).toEqual(JSON.parse(`[
      { "id": 411543, "state": "EPERM", "repo": "p11", "owner": "zerg", "created": "2026-03-16T11:09:35", "build_time": "2026-03-16T12:38:04",
        "age": 0, "test_only": false, "fail_early": true, "try": 1, "iter": 1, "message": "update",
        "subtasks": { "300": { "dir": "/people/zerg/packages/nvidia_glx_libs_580.142.git", "tag_name": "580.142.-alt1", "type": "repo", "userid": "zerg", "pkgname": "nvidia_glx_libs_580.142" } },
        "matches": ["300/dir:lib", "300/pkgname:lib", "repo:p11", "state:eperm"] },
      { "id": 411469, "state": "EPERM", "repo": "p11", "owner": "lav", "created": "2026-03-15T15:22:25", "build_time": "2026-03-15T15:31:29",
        "age": 0, "test_only": false, "fail_early": true, "try": 2, "iter": 1, "message": "Debian libcurl compatibility",
        "subtasks": { "100": { "dir": "/gears/l/libcurl4-gnutls.git", "tag_name": "8.0-alt1", "type": "repo", "userid": "lav", "pkgname": "libcurl4-gnutls" } },
        "matches": ["100/dir:lib", "100/pkgname:lib", "message:lib", "repo:p11", "state:eperm"] }
    ]`));
    // 411400 says "libfoo for p11" but is DONE: searches cover every state except DONE.
    expect((await list(base, 'q=libfoo')).map((t) => t.id)).toEqual([]);
    expect((await list(base, 'q=libfoo&state=ALL')).map((t) => t.id)).toEqual([411400]);
  });

  it('rejects bad searches and parameters with 400, and needs_approval with 503', async () => {
    for (const q of ['a', 'x'.repeat(201), Array.from({ length: 11 }, (_, i) => `t${i}`).join('+'), '']) {
      const r = await get(`${base}/tasks?q=${q}`);
      expect(r.status, q).toBe(400);
      expect(r.body).toEqual({ error: expect.any(String) as string });
    }
    expect((await get(`${base}/tasks?state=BOGUS`)).status).toBe(400);
    expect((await get(`${base}/tasks?needs_approval=maint&q=lib`)).status).toBe(400);
    expect((await get(`${base}/tasks?needs_approval=admins`)).status).toBe(400);
    const acl = await get(`${base}/tasks?needs_approval=tester`);
    expect(acl.status).toBe(503);
    expect(acl.body).toEqual({ error: expect.stringMatching(/--acl-dir/) as string });
  });

  it("serves info.json with girar's key order, brief ids and the README 404 body", async () => {
    const readme = JSON.parse(`{
      "updated": 1773681066, "taskid": 389466, "shared": false, "fail_early": false, "test_only": false,
      "repo": "sisyphus", "state": "DONE", "try": 85, "iter": 1, "age": 22, "build_time": "2025-10-10T16:12:42",
      "message": "Python3.13", "owner": "grenka",
      "subtasks": { "1": { "dir": "/people/grenka/packages/python3.git", "tag_name": "3.13.0-alt1",
        "tag_id": "55ba186a3b712f453c9e3c62ec90b6e3a07e9b51", "tag_author": "Grigory Ustinov <grenka@altlinux.org>",
        "type": "repo", "pkgname": "python3", "userid": "grenka", "version": "3.13.0", "release": "alt1",
        "build": { "aarch64": "swept", "i586": "swept", "x86_64": "swept" } } } }`) as Record<string, unknown>;
    const sub = (readme.subtasks as Record<string, SimTaskSpec['subtasks']>)['1'] as unknown as NonNullable<SimTaskSpec['subtasks']>[string];
    sim.addTask({ id: 389466, state: 'DONE', repo: 'sisyphus', owner: 'grenka', updated: 1773681066, try: 85, iter: 1, build_time: '2025-10-10T16:12:42', message: 'Python3.13', subtasks: { '1': sub } });
    const served = await get(`${base}/tasks/389466`);
    expect(served.status).toBe(200);
    const body = served.body as Record<string, unknown>;
    // `age` is weeks since the state change, computed when served; everything else is verbatim.
    expect(JSON.stringify(body)).toBe(JSON.stringify({ ...readme, age: body.age }));

    sim.addTask({ id: 1, state: 'EPERM', swift: true, aborted_by: 'x', depends: [2], subtasks: { '100': { type: 'repo', dir: '/d', userid: 'u', approved_by: ['a'] }, '200': { userid: 'u' } } });
    const full = (await get(`${base}/tasks/1`)).body as Record<string, Record<string, unknown>>;
    expect(Object.keys(full)).toEqual(['updated', 'taskid', 'shared', 'fail_early', 'test_only', 'swift', 'aborted_by', 'repo', 'state', 'depends', 'age', 'owner', 'subtasks']);
    expect(full.subtasks).toEqual({ '100': { dir: '/d', type: 'repo', approved_by: ['a'], userid: 'u' }, '200': { userid: 'u' } });

    expect((await get(`${base}/tasks/389466?brief=true`)).body).toBe(389466);
    const missing = await get(`${base}/tasks/999999`);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: 'task 999999 not found' });
    expect((await get(`${base}/tasks/abc`)).status).toBe(400);
  });

  it('sends the taskoteka headers and serves /owners and /health', async () => {
    clock.advance(4_000);
    for (const path of ['/tasks', '/tasks/411555', '/owners', '/health', '/tasks/999999', '/nope']) {
      const r = await get(`${base}${path}`);
      expect(r.headers.get('content-type'), path).toBe('application/json');
      expect(r.headers.get('x-api-version'), path).toBe('1.5.0');
      expect(r.headers.get('x-cache-age'), path).toBe('4');
    }
    expect((await get(`${base}/owners`)).body).toEqual(['lav', 'rider', 'vt', 'zerg']);
    const health = (await get(`${base}/health`)).body;
    expect(checkHealth.Check(health)).toBe(true);
    expect(health).toEqual({ status: 'ok', total_tasks: 6, active_tasks: 5 });
    expect(GIRAR_STATES).toContain('FAILURE');
  });

  it('streams task events in the README format and ends open streams on close', async () => {
    const res = await fetch(`${base}/events`);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const events: SseEvent[] = [];
    const reading = (async () => {
      for await (const ev of parseSse(res.body as unknown as AsyncIterable<Uint8Array>)) events.push(ev);
    })();
    sim.updateTask(411555, { state: 'FAILING' });
    sim.addTask({ id: 411600, state: 'NEW', owner: 'lav' });
    sim.removeTask(411200);
    try {
      await waitUntil(() => events.length >= 3, 5000, { what: 'three task events on the stream' });
    } finally {
      await sim.close();
      await reading;
    }
    expect(events).toEqual([
      { event: 'task_updated', data: '{"id":411555,"state":"FAILING","prev_state":"BUILDING","owner":"rider"}' },
      { event: 'task_new', data: '{"id":411600,"state":"NEW","owner":"lav"}' },
      { event: 'task_removed', data: '{"id":411200}' },
    ]);
  });
});
