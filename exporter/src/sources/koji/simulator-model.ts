/**
 * The Koji simulator's database: channels, hosts, tasks, builds, events and the repo request queue
 * (koji/__init__.py enums), advanced in time order to a given instant. Pure: time comes in as
 * arguments (ms), randomness from injected seeded Rngs. Times are kept as integer microseconds, as
 * PostgreSQL stores them, strictly increasing like the hub's now() in successive transactions.
 */
import type { Rng } from '../girar/prng.js';
import type { XmlRpcValue } from './xmlrpc.js';
import { CHANNELS, HOSTS, PACKAGES, TARGETS, USERS, type SimChannel, type SimHost, type SimPackage, type SimUser } from './simulator-data.js';
import { BUILD, leafFailure, leafResult, nvr, target, TASK, type BuildState, type FinalState, type SimBuild, type SimEvent, type SimRepoRequest, type SimTask, type TaskResult } from './simulator-records.js';

const SCHED_TICK_MS = 5_000;
const CHECKIN_MS = 15_000;
/** Inactive repo requests are deleted this long after their last update. */
const REQUEST_CLEAN_MS = 10 * 60_000;
const ARCHES = ['x86_64', 'aarch64', 'ppc64le'];
/** [min, max] run time (s) and the share of failures (times failRate) of leaf tasks. */
const RUNS: Record<string, [number, number, number]> = {
  buildSRPMFromSCM: [30, 120, 0.3],
  buildArch: [60, 600, 1],
  tagBuild: [3, 15, 0],
  createrepo: [20, 90, 0.1],
};

export interface ModelOptions {
  /** Random submissions of builds (auto mode only). */
  workload: boolean;
  /** No automatic scheduling or runs: tasks move only through the control methods. */
  manual: boolean;
  failRate: number;
  maxRecords: number;
}

export class KojiModel {
  readonly users: SimUser[] = USERS.map((u) => ({ ...u }));
  readonly channels: SimChannel[] = CHANNELS.map((c) => ({ ...c }));
  readonly hosts: SimHost[];
  tasks: SimTask[] = [];
  builds: SimBuild[] = [];
  events: SimEvent[] = [];
  repoQueue: SimRepoRequest[] = [];
  private readonly taskMap = new Map<number, SimTask>();
  /** FREE, ASSIGNED and OPEN tasks, by id. */
  private active: SimTask[] = [];
  private nextTask = 1;
  private nextBuild = 1;
  private nextEvent = 1;
  private nextRequest = 1;
  private nextRepo = 1;
  private nextBroot = 1;
  private lastUs = 0;
  private nextSubmitMs: number;
  private nextTickMs: number;
  private readonly releases = new Map<string, number>();

  constructor(private readonly rng: Rng, private readonly jitter: Rng, private readonly opts: ModelOptions, startMs: number) {
    this.hosts = HOSTS.map((h, i) => ({ ...h, arches: [...h.arches], channels: [...h.channels], alive: true, updateUs: null, nextCheckInMs: startMs + i * 3_000 }));
    this.nextSubmitMs = startMs + 2_000;
    this.nextTickMs = startMs;
    this.addEvent(startMs);
  }

  task(id: number): SimTask | undefined {
    return this.taskMap.get(id);
  }

  build(id: number): SimBuild | undefined {
    return this.builds.find((b) => b.id === id);
  }

  user(id: number): SimUser | undefined {
    return this.users.find((u) => u.id === id);
  }

  host(idOrName: number | string): SimHost | undefined {
    return this.hosts.find((h) => (typeof idOrName === 'number' ? h.id === idOrName : h.name === idOrName));
  }

  lastEvent(): SimEvent {
    return this.events[this.events.length - 1] as SimEvent;
  }

  /** Sum of the weights of the host's OPEN tasks (what the host reports as task_load). */
  load(host: SimHost): number {
    return Math.round(this.active.reduce((sum, t) => (t.hostId === host.id && t.state === TASK.OPEN ? sum + t.weight : sum), 0) * 1000) / 1000;
  }

  ready(host: SimHost): boolean {
    return host.alive && this.load(host) < host.capacity;
  }

  /** A wiped database: tasks, builds, events and requests gone, ids from 1 again; hosts and channels kept. */
  reset(nowMs: number): void {
    this.tasks = [];
    this.builds = [];
    this.events = [];
    this.repoQueue = [];
    this.taskMap.clear();
    this.active = [];
    this.releases.clear();
    this.nextTask = this.nextBuild = this.nextEvent = this.nextRequest = this.nextRepo = this.nextBroot = 1;
    this.nextSubmitMs = nowMs + 2_000;
    this.nextTickMs = nowMs;
    this.addEvent(nowMs);
  }

  /** A strictly increasing microsecond timestamp within the millisecond `ms`. */
  stamp(ms: number): number {
    this.lastUs = Math.max(Math.floor(ms) * 1000 + this.jitter.int(1, 999), this.lastUs + 1);
    return this.lastUs;
  }

  addEvent(ms: number): SimEvent {
    const ev = { id: this.nextEvent++, us: this.stamp(ms) };
    this.events.push(ev);
    return ev;
  }

  setHostEnabled(host: SimHost, enabled: boolean, atMs: number): void {
    if (host.enabled === enabled) return;
    host.enabled = enabled;
    this.addEvent(atMs);
  }

  setHostAlive(host: SimHost, alive: boolean, atMs: number): void {
    if (host.alive === alive) return;
    host.alive = alive;
    if (alive) host.nextCheckInMs = atMs;
  }

  /** A user submits `build(url, target, {})`: a FREE top-level task. */
  submitBuild(owner: SimUser, pkg: SimPackage, target: string, atMs: number): SimTask {
    const sha = this.rng.hex(40);
    const t = this.newTask('build', 'noarch', 1, owner.id, null, null, 20, 0.2, [`git+https://src.example.org/rpms/${pkg.name}.git#${sha}`, target, {}], atMs);
    t.pkg = pkg;
    t.target = target;
    return t;
  }

  assign(t: SimTask, host: SimHost, atMs: number): void {
    if (t.state !== TASK.FREE) throw new Error(`koji simulator: task ${t.id} is not FREE`);
    t.state = TASK.ASSIGNED;
    t.hostId = host.id;
    t.dueMs = atMs + this.rng.int(1, 4) * 1000;
  }

  open(t: SimTask, atMs: number): void {
    if (t.state !== TASK.ASSIGNED) throw new Error(`koji simulator: task ${t.id} is not ASSIGNED`);
    t.state = TASK.OPEN;
    t.startUs = this.stamp(atMs);
    const run = RUNS[t.method];
    if (run) {
      t.dueMs = atMs + this.rng.int(run[0], run[1]) * 1000;
      t.fails = this.rng.chance(this.opts.failRate * run[2]);
      return;
    }
    t.dueMs = Infinity;
    if (t.method === 'build') {
      t.stage = 'srpm';
      this.spawn(t, [['buildSRPMFromSCM', 'noarch', null, 1.0, [t.params[0] ?? '', 1, {}]]], atMs);
    } else if (t.method === 'newRepo') {
      t.stage = 'createrepo';
      t.repoId = this.nextRepo++;
      const arches = ARCHES.filter((a) => this.archSupported(a));
      this.spawn(t, arches.map((a) => ['createrepo', 'noarch', a, 1.5, [t.repoId ?? 0, a, null, []]]), atMs);
    }
  }

  /** End a task (and, for a parent that fails or is canceled, every unfinished descendant). */
  finish(t: SimTask, state: FinalState, atMs: number, result?: TaskResult): void {
    if (t.state === TASK.CLOSED || t.state === TASK.CANCELED || t.state === TASK.FAILED) throw new Error(`koji simulator: task ${t.id} has finished`);
    t.state = state;
    t.completionUs = this.stamp(atMs);
    t.dueMs = Infinity;
    t.waiting = t.waiting === null ? null : false;
    t.result = state === TASK.CANCELED ? null : result ?? (state === TASK.FAILED ? leafFailure(t) : { ok: true, value: this.resultOf(t) });
    this.active = this.active.filter((x) => x !== t);
    for (const id of t.children) {
      const c = this.taskMap.get(id);
      if (c && (c.state === TASK.FREE || c.state === TASK.ASSIGNED || c.state === TASK.OPEN)) this.finish(c, TASK.CANCELED, atMs);
    }
    const b = t.buildId === undefined ? undefined : this.build(t.buildId);
    if (b && b.state === BUILD.BUILDING) this.setBuildState(b, state === TASK.CLOSED ? BUILD.COMPLETE : state === TASK.FAILED ? BUILD.FAILED : BUILD.CANCELED, atMs);
    if (t.method === 'newRepo') this.repoDone(t, atMs);
    const parent = t.parent === null ? undefined : this.taskMap.get(t.parent);
    if (parent && parent.state === TASK.OPEN) this.childDone(parent, t, atMs);
  }

  /** Apply every transition due up to `nowMs`, earliest first. */
  advance(nowMs: number): void {
    for (let guard = 0; guard < 10_000_000; guard++) {
      const next = this.due(nowMs);
      if (!next) return;
      next();
    }
  }

  private due(nowMs: number): (() => void) | undefined {
    let best = Infinity;
    let act: (() => void) | undefined;
    const consider = (t: number, f: () => void): void => {
      if (t <= nowMs && t < best) [best, act] = [t, f];
    };
    if (!this.opts.manual) {
      for (const t of this.active) {
        const alive = t.hostId === null || this.host(t.hostId)?.alive === true;
        if (t.state === TASK.FREE && t.cancelAtMs !== null) consider(t.cancelAtMs, () => this.finish(t, TASK.CANCELED, t.cancelAtMs ?? nowMs));
        else if (t.state === TASK.ASSIGNED && alive) consider(t.dueMs, () => this.open(t, t.dueMs));
        else if (t.state === TASK.OPEN && alive && RUNS[t.method]) consider(t.dueMs, () => this.finish(t, t.fails ? TASK.FAILED : TASK.CLOSED, t.dueMs));
      }
    }
    for (const h of this.hosts) if (h.alive) consider(h.nextCheckInMs, () => this.checkIn(h, h.nextCheckInMs));
    if (!this.opts.manual) {
      consider(this.nextTickMs, () => this.tick(this.nextTickMs));
      if (this.opts.workload) consider(this.nextSubmitMs, () => this.autoSubmit(this.nextSubmitMs));
    }
    return act;
  }

  private checkIn(h: SimHost, atMs: number): void {
    h.updateUs = this.stamp(atMs);
    h.nextCheckInMs = atMs + CHECKIN_MS;
  }

  private autoSubmit(atMs: number): void {
    const owner = this.rng.weighted(USERS.filter((u) => u.submits > 0).map((u) => [u, u.submits] as const));
    const t = this.submitBuild(owner, this.rng.pick(PACKAGES), this.rng.weighted(TARGETS.map((x) => [x.name, x.weight] as const)), atMs);
    // Now and then the owner cancels it while it is still waiting for a host.
    if (this.rng.chance(0.04)) t.cancelAtMs = atMs + this.rng.int(2, 8) * 1000;
    this.nextSubmitMs = atMs + this.rng.int(60, 540) * 1000;
  }

  /** The hub's scheduler pass: repo requests get newRepo tasks, FREE tasks go to hosts, the queue is cleaned, memory bounded. */
  private tick(atMs: number): void {
    this.nextTickMs = atMs + SCHED_TICK_MS;
    for (const tag of new Set(this.repoQueue.filter((r) => r.active && r.taskId === null).map((r) => r.tagName))) {
      if (this.active.some((t) => t.method === 'newRepo' && t.tag === tag)) continue;
      const kojira = this.users.find((u) => u.name === 'kojira') as SimUser;
      const t = this.newTask('newRepo', 'noarch', 2, kojira.id, null, null, 15, 0.1, [tag], atMs);
      t.tag = tag;
      for (const r of this.repoQueue) if (r.active && r.taskId === null && r.tagName === tag) Object.assign(r, { taskId: t.id, tries: r.tries + 1, updateUs: this.stamp(atMs) });
    }
    const free = this.active.filter((t) => t.state === TASK.FREE && t.dueMs <= atMs).sort((a, b) => a.priority - b.priority || a.id - b.id);
    for (const t of free) {
      const host = this.pickHost(t);
      if (host) this.assign(t, host, atMs);
    }
    this.repoQueue = this.repoQueue.filter((r) => r.active || r.updateUs / 1000 > atMs - REQUEST_CLEAN_MS);
    this.bound();
  }

  /** Hosts that may run `t`: enabled, alive, ready, in its channel, with its arch. */
  eligible(t: SimTask, host: SimHost): boolean {
    return host.enabled && this.ready(host) && host.channels.includes(t.channelId) && (t.arch === 'noarch' || host.arches.includes(t.arch));
  }

  /** The least committed eligible host with room for the task's weight (ASSIGNED counts too). */
  pickHost(t: SimTask): SimHost | undefined {
    let best: SimHost | undefined;
    let bestRatio = Infinity;
    for (const h of this.hosts) {
      if (!this.eligible(t, h)) continue;
      const committed = this.active.reduce((s, x) => (x.hostId === h.id && (x.state === TASK.OPEN || x.state === TASK.ASSIGNED) ? s + x.weight : s), 0);
      if (committed > 0 && committed + t.weight > h.capacity) continue;
      if (committed / h.capacity < bestRatio) [best, bestRatio] = [h, committed / h.capacity];
    }
    return best;
  }

  private archSupported(arch: string): boolean {
    return this.hosts.some((h) => h.enabled && h.channels.includes(1) && h.arches.includes(arch));
  }

  private newTask(method: string, arch: string, channelId: number, owner: number, parent: SimTask | null, label: string | null, priority: number, weight: number, params: XmlRpcValue[], atMs: number): SimTask {
    const t: SimTask = {
      id: this.nextTask++, method, arch, channelId, owner, parent: parent?.id ?? null, label, priority, weight, state: TASK.FREE,
      createUs: this.stamp(atMs), startUs: null, completionUs: null, hostId: null, waiting: null, awaited: parent ? true : null,
      params, result: null, children: [], dueMs: atMs + this.rng.int(1, 3) * 1000, fails: false, cancelAtMs: null,
    };
    this.tasks.push(t);
    this.active.push(t);
    this.taskMap.set(t.id, t);
    if (parent) parent.children.push(t.id);
    return t;
  }

  /** A parent starts subtasks [method, arch, label, weight, params] and waits for them. */
  private spawn(parent: SimTask, subs: [string, string, string | null, number, XmlRpcValue[]][], atMs: number): void {
    parent.waiting = true;
    const channel = parent.method === 'newRepo' ? 2 : 1;
    for (const [method, arch, label, weight, params] of subs) this.newTask(method, arch, channel, parent.owner, parent, label, parent.priority - 1, weight, params, atMs);
  }

  /**
   * A parent's reaction to a child's end (kojid's BuildTask / NewRepoTask): a FAILED or CANCELED child
   * fails the parent (with the child's fault) and cancels the rest; once every awaited child has
   * CLOSED, a build moves on: SRPM done -> the build record (BUILDING, new event) and one buildArch
   * per arch an enabled default-channel host supports (noarch packages: one noarch task); arches
   * done -> build COMPLETE, tagBuild; tagged -> a tag event, a repo request for the build tag, the
   * parent CLOSED. A newRepo CLOSES when its createrepo tasks have.
   */
  private childDone(parent: SimTask, child: SimTask, atMs: number): void {
    if (child.state === TASK.FAILED || child.state === TASK.CANCELED) {
      const fault: TaskResult = child.result && !child.result.ok ? child.result : { ok: false, code: 1000, message: `Task ${child.id} was canceled` };
      this.finish(parent, TASK.FAILED, atMs, fault);
      return;
    }
    const stage = parent.children.map((id) => this.taskMap.get(id)).filter((c): c is SimTask => c !== undefined && c.awaited === true);
    if (stage.some((c) => c.state !== TASK.CLOSED)) return;
    for (const c of stage) c.awaited = false;
    parent.waiting = false;
    const pkg = parent.pkg;
    if (parent.method === 'newRepo' || !pkg) {
      this.finish(parent, TASK.CLOSED, atMs);
    } else if (parent.stage === 'srpm') {
      const b = this.newBuild(parent, pkg, atMs);
      parent.stage = 'arch';
      const arches = pkg.noarch ? ['noarch'] : ARCHES.filter((a) => this.archSupported(a));
      const srpm = `tasks/${child.id % 10000}/${child.id}/${nvr(b)}.src.rpm`;
      this.spawn(parent, arches.map((a) => ['buildArch', a, a, 1.5, [srpm, target(parent.target).buildTagId, a, a !== 'noarch', {}]]), atMs);
    } else if (parent.stage === 'arch') {
      const b = parent.buildId === undefined ? undefined : this.build(parent.buildId);
      if (b) this.setBuildState(b, BUILD.COMPLETE, atMs);
      parent.stage = 'tag';
      this.spawn(parent, [['tagBuild', 'noarch', null, 0.1, [target(parent.target).destTagId, parent.buildId ?? 0, false, null, true]]], atMs);
    } else {
      const tg = target(parent.target);
      const ev = this.addEvent(atMs);
      if (!this.repoQueue.some((r) => r.active && r.taskId === null && r.tagName === tg.buildTag)) {
        this.repoQueue.push({ id: this.nextRequest++, tagId: tg.buildTagId, tagName: tg.buildTag, minEvent: ev.id, createUs: ev.us, updateUs: ev.us, active: true, taskId: null, tries: 0, repoId: null });
      }
      this.finish(parent, TASK.CLOSED, atMs);
    }
  }

  private repoDone(t: SimTask, atMs: number): void {
    const ok = t.state === TASK.CLOSED;
    const ev = ok ? this.addEvent(atMs) : undefined;
    if (ev) t.result = { ok: true, value: [t.repoId ?? 0, ev.id] };
    for (const r of this.repoQueue) {
      if (r.taskId !== t.id || !r.active) continue;
      r.updateUs = this.stamp(atMs);
      if (ok) Object.assign(r, { active: false, repoId: t.repoId ?? null });
      else if (r.tries >= 3) r.active = false;
      else r.taskId = null;
    }
  }

  private newBuild(parent: SimTask, pkg: SimPackage, atMs: number): SimBuild {
    const dist = target(parent.target).dist;
    const key = `${pkg.name}/${dist}`;
    const rel = (this.releases.get(key) ?? 0) + 1;
    this.releases.set(key, rel);
    const startUs = this.stamp(atMs);
    const ev = this.addEvent(atMs);
    const b: SimBuild = {
      id: this.nextBuild++, pkg, version: pkg.version, release: `${rel}.${dist}`, ownerId: parent.owner, taskId: parent.id, state: BUILD.BUILDING,
      createEventId: ev.id, createUs: ev.us, startUs, completionUs: null, source: String(parent.params[0] ?? ''),
    };
    this.builds.push(b);
    parent.buildId = b.id;
    return b;
  }

  private setBuildState(b: SimBuild, state: BuildState, atMs: number): void {
    b.state = state;
    b.completionUs = this.stamp(atMs);
    this.addEvent(atMs);
  }

  private resultOf(t: SimTask): XmlRpcValue {
    const parent = t.parent === null ? undefined : this.taskMap.get(t.parent);
    const build = parent?.buildId === undefined ? undefined : this.build(parent.buildId);
    const srpm = parent?.pkg ? `${parent.pkg.name}-${parent.pkg.version}-${(this.releases.get(`${parent.pkg.name}/${target(parent.target).dist}`) ?? 0) + 1}.${target(parent.target).dist}` : 'unknown';
    return leafResult(t, { parent, build, srpm, broot: () => this.nextBroot++ });
  }

  /** Keep at most maxRecords tasks (dropping the oldest whose whole tree has finished), builds and events. */
  private bound(): void {
    const max = this.opts.maxRecords;
    if (this.tasks.length > max) {
      let excess = this.tasks.length - max;
      const drop = new Set<SimTask>();
      for (const t of this.tasks) {
        if (excess === 0) break;
        if (this.treeFinished(t)) {
          drop.add(t);
          this.taskMap.delete(t.id);
          excess--;
        }
      }
      this.tasks = this.tasks.filter((t) => !drop.has(t));
    }
    if (this.builds.length > max) {
      let excess = this.builds.length - max;
      this.builds = this.builds.filter((b) => !(excess > 0 && b.state !== BUILD.BUILDING && excess-- > 0));
    }
    if (this.events.length > max) this.events.splice(0, this.events.length - max);
  }

  private treeFinished(t: SimTask): boolean {
    let cur: SimTask | undefined = t;
    while (cur) {
      if (cur.state === TASK.FREE || cur.state === TASK.ASSIGNED || cur.state === TASK.OPEN) return false;
      cur = cur.parent === null ? undefined : this.taskMap.get(cur.parent);
    }
    return true;
  }
}
