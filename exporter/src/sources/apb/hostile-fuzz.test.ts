/**
 * Fuzz: two apb-servers and a farm on loopback answer random and mutated versions of the
 * recorded payloads (wrong types, nulls, huge numbers, odd build ids, duplicates with different
 * content, deep nesting, HTML, truncated JSON, HTTP errors, 10k builds, hangs). The adapter is
 * polled many times and every snapshot goes through a real Store and the metrics render, as the
 * runner would do it. Invariants:
 *  - poll() resolves or rejects with a SourceError (PartialPollError included), nothing else;
 *  - store.apply() and metrics.render() never throw on what poll() returned;
 *  - no NaN, Infinity or negative number in a Worker's numeric fields, cpuUsageRatio <= 1;
 *  - task times (created, started, finished, updated, stateSince) and worker lastSeen are valid ISO
 *    times not before 1970; attrs and artifact sizes finite;
 *  - no duplicate task or worker id in one snapshot;
 *  - status-api requests stay under /build/<one segment>/status-api (ids are URL-encoded);
 *  - the farm token goes to the farm only, and appears in no snapshot, error, health or problem.
 * Deterministic (fixed seed); violations are collected by kind and listed in the failure message.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { setup } from '../../metrics/test-helpers.js';
import type { Task } from '../../model/task.js';
import type { Worker } from '../../model/worker.js';
import { ManualClock } from '../../util/clock.js';
import { SourceError, errorMessage } from '../errors.js';
import { UpstreamHttp } from '../http.js';
import type { Snapshot } from '../source.js';
import { ApbAdapter } from './adapter.js';
import { apbFixture } from './apb-test-helpers.js';
import { parseApbConfig } from './config.js';

const SEED = 0x5eed_a9b;
const TOKEN = 'fuzz-farm-token-9d8c7b6a5f4e3d2c1b0a';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
let rand = mulberry32(SEED);
/**
 * Tame mode leaves out the two value classes already known to crash every poll (lone surrogates in
 * ids and file names; epochs past year 275760), so that the rest of the pipeline gets exercised.
 */
let TAME = false;
const tame = <T>(xs: T[]): T[] => (TAME ? xs.filter((x) => !(typeof x === 'number' && x > 8.64e12) && !(typeof x === 'string' && /[\ud800-\udfff]/.test(x) && !/[\ud800-\udbff][\udc00-\udfff]/.test(x))) : xs);
const chance = (p: number) => rand() < p;
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));

function deep(depth: number): Json {
  let v: Json = [];
  for (let i = 0; i < depth; i += 1) v = [v];
  return v;
}

const ODD_IDS = ['a/b', '..', '.', '%2F', '%', 'ü-bau', '😀', ' spaced ', 'x?y=1', 'x#y', 'x\\y', 'CON', '__proto__', 'constructor', 'x'.repeat(200), 'x\ud800', '\udc00'];
const STATUSES = ['queued', 'building', 'completed', 'failed', 'cancelled', 'failed_server_unavailable', 'failed_missing_from_server', 'timeout', '', 'BUILDING', '__proto__', 'toString'];
const TIMES_ISO = ['2026-11-24T06:00:44.530946+00:00', '2026-11-24T06:00:44Z', '2026-11-24 06:00:44 UTC', '2026-11-24T06:00:44', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '1', '0', 'yesterday', '', '2026-02-30T25:61:61Z', '+275760-09-13T00:00:00Z', '-271821-04-20T00:00:00Z'];
const TIMES_FARM = ['2026-11-24 06:02:24 UTC', '2026-03-29 02:30:00 UTC', '2026-10-25 02:30:00 UTC', '0000-00-00 00:00:00 UTC', '9999-99-99 99:99:99 UTC', '2026-11-24 06:02:24', '2026-11-24T06:02:24 UTC', 'never', ''];
/** JSON.stringify cannot write 6000 nested arrays (JSON.parse can read them): spliced in as text. */
const DEEP_MARK = '@@deep@@';
const DEEP_TEXT = `${'['.repeat(6000)}${']'.repeat(6000)}`;
const serialize = (v: Json) => JSON.stringify(v).replaceAll(JSON.stringify(DEEP_MARK), DEEP_TEXT);
const EPOCHS = [1795500040.38, 1795500044.53, 1795500099, 1795500040.38, 1795500044.53, 1795500099, 0, -1, 1e9, 1e12, 1e13, 8.64e12 + 1, 1e300, 2 ** 53 + 1, 0.5];

function junk(): Json {
  return pick<() => Json>([
    () => null,
    () => pick([true, false]),
    () => pick(tame([0, -1, -0.5, 1e308, -1e308, 2 ** 53 + 1, 1e20, 1e13, 1e11, 3.5, 101])),
    () => pick(tame(['', 'x', 'NaN', 'Infinity', ...ODD_IDS, ...TIMES_ISO, ...TIMES_FARM])),
    () => [],
    () => ({}),
    () => [1, 'two', null],
    () => ({ a: { b: { c: [] } } }),
    () => deep(int(1, 50)),
    () => 'y'.repeat(int(100, 5000)),
  ])();
}

/** Paths (parent, key) of every node under a value. */
function nodes(v: Json, out: [Json[] | { [k: string]: Json }, string | number][] = []): typeof out {
  if (Array.isArray(v)) v.forEach((c, i) => (out.push([v, i]), nodes(c, out)));
  else if (v && typeof v === 'object') for (const k of Object.keys(v)) out.push([v, k]), nodes(v[k] as Json, out);
  return out;
}

function mutate(value: Json, n: number): Json {
  const root: { v: Json } = { v: structuredClone(value) };
  for (let i = 0; i < n; i += 1) {
    const all = nodes(root.v);
    if (all.length === 0) break;
    const [parent, key] = pick(all);
    const r = rand();
    if (Array.isArray(parent)) {
      const k = key as number;
      if (r < 0.5) parent[k] = junk();
      else if (r < 0.7) parent.splice(k, 1);
      else if (r < 0.85) parent.splice(k, 0, structuredClone(parent[k] as Json));
      else parent.push(junk());
    } else {
      const k = key as string;
      if (r < 0.6) parent[k] = junk();
      else if (r < 0.8) delete parent[k];
      else parent[`${k}_extra`] = junk();
    }
  }
  return root.v;
}

let idPool: string[] = [];
function freshIds(): void {
  idPool = Array.from({ length: 12 }, (_, i) => (chance(0.25) ? pick(tame(ODD_IDS)) : `b-${int(0, 40)}-${i}`));
}

function serverBuild(id: string): { [k: string]: Json } {
  const status = chance(0.85) ? pick(STATUSES.slice(0, 5)) : pick(STATUSES);
  return { build_id: id, pkgname: `pkg-${id}`, status, start_time: pick(TIMES_ISO), end_time: chance(0.5) ? null : pick(TIMES_ISO), duration: pick([0, 4.1, -3, 1e308, null]) as Json };
}
function farmBuild(id: string): { [k: string]: Json } {
  return { id, server_url: pick(['127---1', 'ser---1', 'http://127.0.0.1:1', 'ppc---g', '', 'x'.repeat(300)]), server_arch: pick(['x86_64', 'x86_64 (misconfigured)', 'riscv64', '']), pkgname: `pkg-${id}`, display_name: pick([null, `pkg-${id} (1-1)`]), status: pick(STATUSES), start_time: pick([null, ...TIMES_FARM]), end_time: pick([null, ...TIMES_FARM]), created_at: pick([null, ...TIMES_FARM]), username: pick(['admin', '#anon#', null, '']) };
}
function record(id: string): { [k: string]: Json } {
  const base = JSON.parse(apbFixture('server-GET-build-ok-0004-status-api-03-completed.json')) as { [k: string]: Json };
  Object.assign(base, { build_id: chance(0.95) ? id : `${id}-other`, status: pick(STATUSES), created_at: pick(tame(EPOCHS)), start_time: pick(tame(EPOCHS)), end_time: pick(tame([...EPOCHS, null])) });
  if (chance(0.03)) base.extra_native = DEEP_MARK; // replaced by 6000 nested arrays when serialized
  return base;
}

function listing(make: (id: string) => { [k: string]: Json }, farm: boolean): Json {
  if (chance(0.01)) return { builds: Array.from({ length: 10_000 }, (_, i) => make(`bulk-${i}`)) };
  const builds: Json[] = [];
  for (const id of idPool) {
    if (chance(0.3)) continue;
    builds.push(make(id));
    if (chance(0.3)) builds.push(make(id)); // the same id twice, different content
  }
  const out: { [k: string]: Json } = farm ? { builds } : { builds, total: builds.length };
  return chance(0.3) ? mutate(out, int(1, 4)) : out;
}

interface Answer {
  status: number;
  body: string;
  type?: string;
  delayMs?: number;
}

/** Maybe replace a good answer with a transport-level failure. */
function chaos(good: Json, allowHang: boolean): Answer {
  const r = rand();
  if (r < 0.03) return { status: 200, body: '<html><body>502 Bad Gateway</body></html>', type: 'text/html' };
  if (r < 0.06) return { status: 200, body: serialize(good).slice(0, int(0, 40)) };
  if (r < 0.08) return { status: pick([500, 502, 503, 404, 401, 403, 408, 422]), body: '{"detail":"nope"}' };
  if (r < 0.09) return { status: 200, body: '' };
  if (r < 0.095) return { status: 200, body: `${'['.repeat(200_000)}${']'.repeat(200_000)}` };
  if (allowHang && r < 0.1) return { status: 200, body: serialize(good), delayMs: 1300 };
  return { status: 200, body: serialize(good) };
}

class Upstream {
  server: Server | undefined;
  readonly sockets = new Set<Socket>();
  readonly paths: { path: string; auth?: string }[] = [];
  constructor(private readonly handle: (path: string) => Answer) {}
  async up(): Promise<string> {
    const server = createServer((req, res) => void this.answer(req, res));
    server.on('connection', (s) => (this.sockets.add(s), s.on('close', () => this.sockets.delete(s))));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  async down(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? '/';
    this.paths.push({ path, ...(req.headers.authorization ? { auth: req.headers.authorization } : {}) });
    let a: Answer;
    try {
      a = this.handle(path);
    } catch (err) {
      violation(`fuzz generator bug: ${errorMessage(err)}`, path);
      a = { status: 500, body: '{}' };
    }
    if (a.delayMs) await new Promise((r) => setTimeout(r, a.delayMs));
    if (res.destroyed) return;
    res.writeHead(a.status, { 'content-type': a.type ?? 'application/json' }).end(a.body);
  }
}

const ROOTS = ['server-GET-root.json', 'server-GET-root-while-building.json', 'server-GET-root-after-builds.json', 'seed-GET-root.json'].map((f) => JSON.parse(apbFixture(f)) as Json);
const HEALTHS = ['server-GET-health.json', 'server-GET-health-while-building.json', 'seed-GET-health.json'].map((f) => JSON.parse(apbFixture(f)) as Json);
const FARMS = ['farm-GET-farm.json', 'farm-GET-farm-while-building.json', 'farm-GET-farm-server-down-t40s.json'].map((f) => JSON.parse(apbFixture(f)) as { servers: Json[] } & { [k: string]: Json });

function serverHandler(path: string): Answer {
  const bare = path.replace(/\?.*$/, '');
  if (bare === '/') return chaos(chance(0.5) ? mutate(pick(ROOTS), int(1, 4)) : pick(ROOTS), true);
  if (bare === '/health') return chaos(chance(0.3) ? mutate(pick(HEALTHS), 2) : pick(HEALTHS), false);
  if (bare === '/builds/latest') return chaos(listing(serverBuild, false), false);
  const m = /^\/build\/([^/]*)\/status-api$/.exec(bare);
  if (m) {
    let id: string;
    try {
      id = decodeURIComponent(m[1] as string);
    } catch {
      id = m[1] as string;
    }
    if (chance(0.1)) return { status: 404, body: '{"detail":"Build not found"}' };
    return chaos(chance(0.3) ? mutate(record(id), int(1, 3)) : record(id), false);
  }
  return { status: 404, body: '{"detail":"Not Found"}' };
}

function farmHandler(path: string): Answer {
  const bare = path.replace(/\?.*$/, '');
  if (bare === '/farm') {
    const farm = structuredClone(pick(FARMS));
    const first = farm.servers[0] as Json;
    const extra = int(0, 6);
    for (let i = 0; i < extra; i += 1) {
      const s = structuredClone(first) as { [k: string]: Json };
      s.url = pick(['127---1', 'ser---1', 'ppc---g', `http://h${i}.example:8000`, 'http://127.0.0.1:1', 'x'.repeat(int(1, 300)), '']);
      s.status = pick(['online', 'offline', 'misconfigured', 'initializing', 'weird']);
      farm.servers.push(s);
    }
    if (chance(0.01)) for (let i = 0; i < 5000; i += 1) farm.servers.push({ ...(first as object), url: `http://n${i}.example:8000` } as Json);
    return chaos(chance(0.5) ? mutate(farm, int(1, 4)) : farm, true);
  }
  if (bare === '/builds/latest') return chaos(listing(farmBuild, true), false);
  if (/^\/build\/[^/]*\/status-api$/.test(bare)) return serverHandler(path);
  return { status: 404, body: '{"detail":"Not Found"}' };
}

// ---- invariants ----

const violations = new Map<string, { count: number; example: string }>();
function violation(kind: string, example: string): void {
  const v = violations.get(kind);
  if (v) v.count += 1;
  else violations.set(kind, { count: 1, example: example.slice(0, 300) });
}

const WORKER_NUMBERS = ['capacity', 'load', 'queueLength', 'cpuCores', 'loadAverage', 'cpuUsageRatio', 'memoryUsedBytes', 'memoryTotalBytes', 'diskUsedBytes', 'diskTotalBytes'] as const;
const TASK_TIMES = ['created', 'started', 'finished', 'updated', 'stateSince'] as const;

function checkTime(kind: string, value: string | undefined): void {
  if (value === undefined) return;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) violation(`${kind}: not a valid time`, value);
  else if (ms < 0) violation(`${kind}: before 1970 (negative epoch)`, value);
}

function checkWorker(w: Worker): void {
  for (const k of WORKER_NUMBERS) {
    const v = w[k];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v)) violation(`worker.${k} not finite`, String(v));
    else if (v < 0) violation(`worker.${k} negative`, String(v));
  }
  if (w.cpuUsageRatio !== undefined && w.cpuUsageRatio > 1) violation('worker.cpuUsageRatio > 1 (docs: 0..1)', String(w.cpuUsageRatio));
  checkTime('worker.lastSeen', w.lastSeen);
}

function checkTask(t: Task): void {
  for (const k of TASK_TIMES) checkTime(`task.${k}`, t[k]);
  for (const [k, v] of Object.entries(t.attrs ?? {})) if (typeof v === 'number' && !Number.isFinite(v)) violation(`task.attrs.${k} not finite`, String(v));
  for (const a of t.artifacts ?? []) if (a.size !== undefined && (!Number.isFinite(a.size) || a.size < 0)) violation('artifact.size not finite or negative', String(a.size));
  if (t.finished && t.started && Date.parse(t.finished) < Date.parse(t.started)) violation('task finished before it started', `${t.started} -> ${t.finished}`);
}

function errorKind(err: unknown): string {
  const e = err as Error;
  const where = (e.stack ?? '').split('\n').find((l) => l.includes('/exporter/src/'))?.replace(/^.*\/exporter\/src\//, '').replace(/[:)]+\d*[:)]*$/, '') ?? '?';
  return `${e.name ?? typeof err}: ${errorMessage(err).replace(/\d+/g, 'N').slice(0, 60)} @ ${where}`;
}

async function run(seed: number, polls: number, tameMode: boolean): Promise<string> {
  rand = mulberry32(seed);
  TAME = tameMode;
  violations.clear();
  const ups: Upstream[] = [];
  try {
    const s1 = new Upstream(serverHandler);
    const s2 = new Upstream(serverHandler);
    const fm = new Upstream(farmHandler);
    ups.push(s1, s2, fm);
    const [u1, u2, uf] = [await s1.up(), await s2.up(), await fm.up()];
    const clock = new ManualClock();
    const adapter = new ApbAdapter(
      parseApbConfig({ servers: [{ url: u1, name: 's1' }, { url: u2 }], farm: { url: uf, token: TOKEN, time_zone: 'Europe/Berlin' }, server_timeout: '1s', wait: '1s', detail_budget: 6, detail_concurrency: 3 }),
      { name: 'fz', log: pino({ level: 'silent' }), clock, http: new UpstreamHttp(), pollTimeoutSeconds: 20 },
    );
    const { store, metrics } = setup();
    const t0 = performance.now();
    let applied = 0;
    for (let i = 0; i < polls; i += 1) {
      if (i % 3 === 0) freshIds();
      clock.advance(30_000);
      let snap: Snapshot | undefined;
      try {
        snap = (await adapter.poll(AbortSignal.timeout(15_000))) as Snapshot;
      } catch (err) {
        if (err instanceof SourceError) {
          if (errorMessage(err).includes(TOKEN)) violation('token in a poll error', errorMessage(err));
          snap = (err as { result?: Snapshot }).result;
        } else violation(`poll() threw ${errorKind(err)}`, errorMessage(err));
      }
      if (snap) {
        const ids = new Set<string>();
        for (const t of snap.tasks) {
          if (ids.has(t.id)) violation('duplicate task id in a snapshot', t.id);
          ids.add(t.id);
          checkTask(t);
        }
        const wids = new Set<string>();
        for (const w of snap.workers ?? []) {
          if (wids.has(w.id)) violation('duplicate worker id in a snapshot', w.id);
          wids.add(w.id);
          checkWorker(w);
        }
        try {
          store.apply('fz', 'apb', snap, clock.now());
          applied += 1;
        } catch (err) {
          violation(`store.apply threw ${errorKind(err)}`, errorMessage(err));
        }
        try {
          if (JSON.stringify(snap).includes(TOKEN)) violation('token in a snapshot', '');
        } catch {
          // too deep to stringify: reported by store.apply
        }
      }
      try {
        await metrics.render();
      } catch (err) {
        violation(`metrics.render threw ${errorKind(err)}`, errorMessage(err));
      }
      const side = JSON.stringify([adapter.endpoints(), adapter.problems()]);
      if (side.includes(TOKEN)) violation('token in endpoint health or problems', '');
    }
    await adapter.close();
    for (const p of [...s1.paths, ...s2.paths, ...fm.paths]) {
      const bare = p.path.replace(/\?.*$/, '');
      if (!/^\/(|health|farm|builds\/latest|build\/[^/]+\/status-api)$/.test(bare)) violation('request outside the known paths (an id not encoded)', p.path);
    }
    for (const p of [...s1.paths, ...s2.paths]) if (p.auth) violation('authorization header sent to a server', p.auth.slice(0, 12));
    const report = [...violations].map(([kind, v]) => `${v.count}x ${kind}\n      e.g. ${JSON.stringify(v.example)}`).join('\n');
    // eslint-disable-next-line no-console
    console.log(`fuzz${tameMode ? ' (tame)' : ''}: ${polls} polls in ${Math.round(performance.now() - t0)} ms, ${applied} snapshots applied, ${s1.paths.length + s2.paths.length + fm.paths.length} requests; ${violations.size} kinds of violation\n${report}`);
    return report;
  } finally {
    await Promise.all(ups.map((u) => u.down()));
  }
}

describe('fuzz: hostile apb payloads', () => {
  it(`every value class: survives 60 polls (seed ${SEED.toString(16)})`, async () => {
    expect(await run(SEED, 60, false)).toBe('');
  }, 30_000);

  it(`tame (known crashers left out): survives 110 polls (seed ${(SEED + 1).toString(16)})`, async () => {
    expect(await run(SEED + 1, 110, true)).toBe('');
  }, 30_000);
});
