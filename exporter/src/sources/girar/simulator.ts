/**
 * A girar farm simulator that speaks taskoteka's HTTP API on loopback: a seeded task population
 * moving through girar's real life cycle, driven by an injectable clock, with fault injection.
 * Used by tests (ManualClock + `tick()`) and by demo mode (`start()` on a real timer).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../../util/clock.js';
import { Rng } from './prng.js';
import { step, type World } from './simulator-lifecycle.js';
import { fromSpec, renderDetail, toSpec, type SimTask, type SimTaskSpec } from './simulator-model.js';
import { newTask } from './simulator-population.js';
import { handleRequest, type RecordedRequest, type SimBackend, type SimFault, type SimFaultKind, baseHeaders } from './simulator-server.js';
import { SseHub } from './simulator-sse.js';

export type { SimTaskSpec, SimSubtaskSpec } from './simulator-model.js';
export type { SimFault, SimFaultKind, RecordedRequest } from './simulator-server.js';
export { GIRAR_TRANSITIONS } from './simulator-lifecycle.js';

export interface GirarSimulatorOptions {
  clock?: Clock;
  /** PRNG seed: the same seed gives the same farm and the same history. Default 1. */
  seed?: number;
  /** Population the simulation keeps around (new tasks appear, old ones are archived). Default 50. */
  taskCount?: number;
  /** SSE heartbeat period; 0 disables heartbeats. Default 5000 (taskoteka's default). */
  heartbeatMs?: number;
  /** Steps simulated before serving, so the farm starts with history. Default 90; 0 = start empty. */
  warmupSteps?: number;
  /** Simulated time per warm-up step. Default 3 min. */
  warmupStepMs?: number;
  maxSseConnections?: number;
  maxSsePerIp?: number;
  /** Forced SSE reconnect after this long; 0 = never. Default 30 min (taskoteka's default). */
  sseMaxLifetimeMs?: number;
}

const FIRST_TASK_ID = 411400;
const MAX_RECORDED = 500;

export class GirarSimulator {
  private readonly clock: Clock;
  private readonly rng: Rng;
  private readonly taskCount: number;
  private readonly heartbeatMs: number;
  private readonly live = new Map<number, SimTask>();
  /** What subscribers last heard about each task: its state and rendered detail. */
  private readonly published = new Map<number, { state: string; json: string }>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly sse: SseHub;
  private readonly recorded: RecordedRequest[] = [];
  private server: Server | undefined;
  private stepper: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private fault: SimFault | undefined;
  private nextId = FIRST_TASK_ID;
  private refreshedAt: number;
  private heartbeats = 0;

  constructor(options: GirarSimulatorOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.rng = new Rng(options.seed ?? 1);
    this.taskCount = options.taskCount ?? 50;
    this.heartbeatMs = options.heartbeatMs ?? 5000;
    this.refreshedAt = this.clock.now();
    this.sse = new SseHub({
      maxConnections: options.maxSseConnections ?? 256,
      maxPerIp: options.maxSsePerIp ?? 5,
      maxLifetimeMs: options.sseMaxLifetimeMs ?? 30 * 60_000,
      baseHeaders: () => baseHeaders(this.backend),
    });
    const warmup = options.warmupSteps ?? 90;
    const stepMs = options.warmupStepMs ?? 3 * 60_000;
    for (let i = warmup; i > 0; i--) this.advance(this.clock.now() - i * stepMs, 1.5);
    this.publish(false);
  }

  /** Start serving on 127.0.0.1 (port 0 = any free port). Resolves to the base URL. */
  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    if (this.server) throw new Error('simulator already listening');
    const server = createServer((req, res) => handleRequest(this.backend, req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    if (this.heartbeatMs > 0) {
      this.heartbeat = setInterval(() => {
        this.sse.broadcast('heartbeat', Math.floor(this.clock.now() / 1000));
        if (this.sse.size > 0) this.heartbeats++;
      }, this.heartbeatMs);
      this.heartbeat.unref();
    }
    return this.url;
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) throw new Error('simulator is not listening');
    return `http://${address.address}:${address.port}`;
  }

  /** Advance the farm one step at the clock's current time and publish the changes over SSE. */
  tick(): void {
    this.advance(this.clock.now(), 0.5);
    this.refreshedAt = this.clock.now();
    this.publish(true);
  }

  /** Tick on a real timer (demo mode). Default one step every 1.5 s. */
  start(options: { stepMs?: number } = {}): void {
    this.stop();
    this.stepper = setInterval(() => this.tick(), options.stepMs ?? 1500);
  }

  stop(): void {
    if (this.stepper) clearInterval(this.stepper);
    this.stepper = undefined;
  }

  /** Inject a fault into `GET /tasks` / `GET /tasks/{id}`; `null` clears it. */
  setFault(fault: SimFault | SimFaultKind | null): void {
    this.fault = fault === null ? undefined : typeof fault === 'string' ? { kind: fault } : { ...fault };
  }

  /** Replace the whole population with fixed tasks (SSE subscribers hear the differences). */
  setTasks(specs: readonly SimTaskSpec[]): void {
    const now = this.clock.now();
    this.live.clear();
    for (const spec of specs) this.live.set(spec.id, fromSpec(spec, now));
    this.nextId = Math.max(this.nextId, ...specs.map((s) => s.id + 1));
    this.refreshedAt = now;
    this.publish(true);
  }

  /** Add one task (SSE subscribers hear `task_new`). */
  addTask(spec: SimTaskSpec): void {
    if (this.live.has(spec.id)) throw new Error(`simulator already has task ${spec.id}`);
    this.live.set(spec.id, fromSpec(spec, this.clock.now()));
    this.nextId = Math.max(this.nextId, spec.id + 1);
    this.publish(true);
  }

  /** Change one task in place, e.g. `{ state: 'FAILED' }`; `updated` moves to now unless given. */
  updateTask(id: number, patch: Partial<Omit<SimTaskSpec, 'id'>>): void {
    const task = this.live.get(id);
    if (!task) throw new Error(`simulator has no task ${id}`);
    const now = this.clock.now();
    const merged = fromSpec({ ...toSpec(task), updated: now / 1000, ...patch, id }, now);
    // createdMs keeps its milliseconds, which the second-resolution spec would lose.
    if (patch.created === undefined) merged.createdMs = task.createdMs;
    if (merged.state === task.state) {
      // Same state: a build in progress goes on as planned.
      if (task.plan) merged.plan = task.plan;
      merged.stateTicks = task.stateTicks;
    }
    this.live.set(id, merged);
    this.publish(true);
  }

  /** Drop a task, as archiving does. */
  removeTask(id: number): void {
    this.live.delete(id);
    this.publish(true);
  }

  /** Send `reconnect` to every SSE subscriber and end their streams. */
  disconnectStreams(reason = 'requested by test'): void {
    this.sse.reconnectAll(reason);
  }

  /** Current native state of every task, by id. */
  states(): Map<number, string> {
    return new Map([...this.live].map(([id, t]) => [id, t.state]));
  }

  /** Requests served so far (the most recent 500). */
  get requests(): readonly RecordedRequest[] {
    return this.recorded;
  }

  get sseClients(): number {
    return this.sse.size;
  }

  /** Heartbeats sent while at least one SSE subscriber was connected. */
  get heartbeatsSent(): number {
    return this.heartbeats;
  }

  /** Stop ticking, end SSE streams and pending answers, and close the server. */
  async close(): Promise<void> {
    this.stop();
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.sse.closeAll();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private get backend(): SimBackend {
    return {
      nowMs: () => this.clock.now(),
      cacheAgeSeconds: () => Math.max(0, Math.floor((this.clock.now() - this.refreshedAt) / 1000)),
      tasks: () => this.live.values(),
      task: (id) => this.live.get(id),
      takeFault: (target) => this.takeFault(target),
      record: (r) => {
        this.recorded.push(r);
        if (this.recorded.length > MAX_RECORDED) this.recorded.shift();
      },
      sse: this.sse,
      timers: this.timers,
    };
  }

  private takeFault(target: 'list' | 'detail' | 'health'): SimFault | undefined {
    const f = this.fault;
    if (!f || (f.on && f.on !== 'both' && f.on !== target)) return undefined;
    if (f.times !== undefined && --f.times <= 0) this.fault = undefined;
    return f;
  }

  /** One simulation step at `nowMs`; `spawnChance` drives how fast the population refills. */
  private advance(nowMs: number, spawnChance: number): void {
    const world: World = { rng: this.rng, nowMs, byId: this.live, building: new Map(), committing: new Map() };
    for (const t of this.live.values()) {
      if (t.state === 'BUILDING' || t.state === 'FAILING') world.building.set(t.repo, (world.building.get(t.repo) ?? 0) + 1);
      if (t.state === 'COMMITTING') world.committing.set(t.repo, (world.committing.get(t.repo) ?? 0) + 1);
    }
    for (const task of [...this.live.values()].sort((a, b) => a.id - b.id)) {
      if (step(task, world) === 'removed') this.live.delete(task.id);
    }
    const missing = this.taskCount - this.live.size;
    if (missing > 0 ? this.rng.chance(spawnChance) : this.rng.chance(0.1)) {
      this.nextId += this.rng.int(1, 4);
      const task = newTask(this.rng, this.nextId, nowMs, [...this.live.values()]);
      this.live.set(task.id, task);
    }
  }

  /** Diff the population against what subscribers last heard and tell them. */
  private publish(announce: boolean): void {
    for (const [id, task] of this.live) {
      // Rendered at its own `updated` time, so `age` is always 0 here: taskoteka announces
      // changes of the task files, not the weekly tick of the derived age.
      const json = JSON.stringify(renderDetail(task, task.updatedMs));
      const before = this.published.get(id);
      if (before?.json === json) continue;
      this.published.set(id, { state: task.state, json });
      if (!announce) continue;
      if (!before) this.sse.broadcast('task_new', { id, state: task.state, owner: task.owner });
      else this.sse.broadcast('task_updated', { id, state: task.state, prev_state: before.state, owner: task.owner });
    }
    for (const id of [...this.published.keys()]) {
      if (this.live.has(id)) continue;
      this.published.delete(id);
      if (announce) this.sse.broadcast('task_removed', { id });
    }
  }
}
