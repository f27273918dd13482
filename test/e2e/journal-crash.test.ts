/**
 * Crash safety of the journal, with the real exporter process: a girar farm (the simulator,
 * stepping every 25 ms and pushing changes over taskoteka's SSE so the exporter applies many
 * small batches) is watched while the exporter is killed with SIGKILL at seeded random moments
 * (during polls, during journal writes) and restarted on the same journal, again and again.
 *
 * One SSE client follows the whole time, reconnecting with Last-Event-ID. What must hold:
 * - the ids it receives are consecutive across every restart: nothing it was sent is lost or
 *   sent again under another id, and it never needs a `reset`;
 * - each task's events chain (every update's prev_state is the state the previous event left),
 *   so no transition is emitted twice or skipped by a restart;
 * - buildfarm_task_transitions_total equals the state changes the client saw: counters
 *   continue across the kills without double counting;
 * - at the end the exporter holds exactly the simulator's tasks and states.
 */
import { request, type IncomingMessage } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeEvent } from '../../exporter/src/model/events.js';
import { Rng } from '../../exporter/src/sources/girar/prng.js';
import { GirarSimulator } from '../../exporter/src/sources/girar/simulator.js';
import { waitUntil } from '../../exporter/src/util/wait-until.js';
import { stopTrackedChildren } from '../support/children.js';
import { startExporter, type ExporterProcess } from '../support/exporter-process.js';

const ROUNDS = 8;

/** Follows /api/v1/events across restarts; `attach` connects to the current exporter with the last id seen. */
class Follower {
  readonly events: ChangeEvent[] = [];
  readonly problems: string[] = [];
  resets = 0;
  private res: IncomingMessage | undefined;

  get lastId(): number | undefined {
    return this.events[this.events.length - 1]?.seq;
  }

  async attach(base: string, lastId: number | undefined): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      if (lastId !== undefined) headers['last-event-id'] = String(lastId);
      const req = request(new URL('/api/v1/events?source=alt', base), { agent: false, headers }, (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`events: HTTP ${res.statusCode}`));
          return;
        }
        this.res = res;
        res.setEncoding('utf8');
        let buffer = '';
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            this.onFrame(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
          }
        });
        res.on('error', () => {});
        resolve();
      });
      req.on('error', reject);
      req.end();
    });
  }

  detach(): void {
    this.res?.destroy();
    this.res = undefined;
  }

  private onFrame(frame: string): void {
    const fields = new Map<string, string>();
    for (const line of frame.split('\n')) {
      const i = line.indexOf(':');
      if (i > 0) fields.set(line.slice(0, i), line.slice(i + 1).trimStart());
    }
    const name = fields.get('event');
    const data = fields.get('data');
    if (name === 'reset') {
      this.resets += 1;
      this.problems.push(`reset: ${data ?? ''}`);
      return;
    }
    if (name === undefined || data === undefined || !name.startsWith('task_')) return;
    const event = JSON.parse(data) as ChangeEvent;
    const last = this.lastId;
    if (last !== undefined && event.seq !== last + 1) this.problems.push(`id ${event.seq} after ${last}`);
    this.events.push(event);
  }
}

/** Checks that each task's events chain; returns the state each task was left in. */
function chainStates(events: ChangeEvent[], problems: string[]): Map<string, string> {
  const state = new Map<string, string>();
  for (const e of events) {
    const held = state.get(e.id);
    if (e.type === 'task_new') {
      if (held !== undefined) problems.push(`${e.seq}: task_new ${e.id} while held in ${held}`);
      state.set(e.id, e.state ?? '');
    } else if (e.type === 'task_updated') {
      if (held === undefined) problems.push(`${e.seq}: task_updated ${e.id} never seen`);
      else if (e.prev_state !== held) problems.push(`${e.seq}: task ${e.id} ${e.prev_state}>${e.state}, but it was ${held}`);
      state.set(e.id, e.state ?? '');
    } else if (e.type === 'task_removed') {
      if (held === undefined) problems.push(`${e.seq}: task_removed ${e.id} never seen`);
      state.delete(e.id);
    }
  }
  return state;
}

async function transitionsTotal(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const m of text.matchAll(/^buildfarm_task_transitions_total\{[^}]*source="alt"[^}]*\} (\S+)$/gm)) sum += Number(m[1]);
  return sum;
}

async function exporterStates(url: string): Promise<Map<string, string>> {
  const body = (await (await fetch(`${url}/api/v1/tasks?source=alt&state=ALL&limit=1000`)).json()) as { items: { id: string; state: string }[] };
  return new Map(body.items.map((t) => [t.id, t.state]));
}

describe('the journal under kill -9', () => {
  let dir: string;
  let sim: GirarSimulator;
  let exporter: ExporterProcess | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'buildscope-crash-'));
    sim = new GirarSimulator({ seed: 7, taskCount: 200, heartbeatMs: 1000 });
    await sim.listen();
    writeFileSync(
      join(dir, 'buildscope.yaml'),
      [`events:`, `  buffer_size: 200000`, `sources:`, `  - name: alt`, `    kind: girar`, `    url: ${sim.url}`, `    interval: 1s`, ''].join('\n'),
    );
  });

  afterAll(async () => {
    await exporter?.stop();
    await stopTrackedChildren();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = () => startExporter([`--config.file=${join(dir, 'buildscope.yaml')}`, `--journal.path=${join(dir, 'journal.db')}`, '--log.level=warn']);

  it(`loses nothing and duplicates nothing across ${ROUNDS} SIGKILLs at random moments`, { timeout: 240_000 }, async () => {
    // Seeded, so a failing run can be replayed with the same kill times.
    const random = new Rng(20261124);
    const follower = new Follower();
    sim.start({ stepMs: 25 });

    for (let round = 0; round < ROUNDS; round++) {
      exporter = await start();
      if (round === 0) {
        // From the very first event: ask with id 0, which answers `reset` with the oldest id kept.
        const probe = new Follower();
        await probe.attach(exporter.url, 0);
        await waitUntil(() => probe.resets > 0, 10_000, { what: 'the reset answer to Last-Event-ID 0' });
        probe.detach();
        const oldest = Number(/"oldest_seq":(\d+)/.exec(probe.problems[0] ?? '')?.[1]);
        await follower.attach(exporter.url, oldest - 1);
      } else {
        await follower.attach(exporter.url, follower.lastId);
      }
      const seenBefore = follower.events.length;
      await waitUntil(() => follower.events.length > seenBefore, 20_000, { what: `round ${round}: new events after the restart` });
      // Kill at a seeded random moment while the farm keeps changing.
      const delay = random.int(100, 1500);
      await new Promise((r) => setTimeout(r, delay));
      const killed = exporter;
      exporter = undefined;
      await killed.kill('SIGKILL');
      follower.detach();
    }

    // The last run: the farm stops changing; the exporter catches up with it.
    sim.stop();
    exporter = await start();
    await follower.attach(exporter.url, follower.lastId);
    const url = exporter.url;
    const simStates = new Map([...sim.states()].map(([id, state]) => [String(id), state]));
    await waitUntil(async () => JSON.stringify([...(await exporterStates(url))].sort()) === JSON.stringify([...simStates].sort()), 30_000, {
      what: 'the exporter to hold the simulator’s tasks',
    });
    const changes = () => follower.events.filter((e) => e.type === 'task_updated' && e.prev_state !== e.state).length;
    await waitUntil(async () => (await transitionsTotal(url)) === changes(), 15_000, { what: 'the client to have every event the counters counted' });

    expect(follower.problems).toEqual([]);
    expect(follower.resets).toBe(0);
    const chainProblems: string[] = [];
    const final = chainStates(follower.events, chainProblems);
    expect(chainProblems).toEqual([]);
    // What the events say is exactly what the exporter (and the simulator) hold.
    expect([...final].sort()).toEqual([...simStates].sort());
    expect(follower.events.length).toBeGreaterThan(ROUNDS * 5);
    expect(changes()).toBeGreaterThan(0);
  });
});
