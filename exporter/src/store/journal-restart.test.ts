/**
 * Restart continuity through the whole exporter (buildExporter, the real girar adapter against
 * its simulator on loopback, the SQLite journal): what an exporter knew comes back after a
 * restart, changes made while it was down are emitted once, and counters neither restart nor
 * count twice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildExporter, type Exporter } from '../app.js';
import { parseConfig } from '../config/load.js';
import type { ChangeEvent } from '../model/events.js';
import { kindSchemas } from '../sources/registry.js';
import { GirarSimulator, type SimTaskSpec } from '../sources/girar/simulator.js';
import { ManualClock } from '../util/clock.js';
import { MemoryJournal, type Journal } from './journal.js';

let dir: string;
let sim: GirarSimulator;
let clock: ManualClock;
const running: Exporter[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'buildscope-restart-'));
  clock = new ManualClock(Date.parse('2026-11-24T10:00:00Z'));
  sim = new GirarSimulator({ clock, warmupSteps: 0, heartbeatMs: 0 });
  sim.setTasks(TASKS);
  await sim.listen();
});
afterEach(async () => {
  for (const e of running.splice(0)) await e.close();
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

const TASKS: SimTaskSpec[] = [
  { id: 1001, state: 'BUILDING', repo: 'sisyphus', owner: 'ann' },
  { id: 1002, state: 'AWAITING', repo: 'p11', owner: 'bob' },
  { id: 1003, state: 'DONE', repo: 'sisyphus', owner: 'ann' },
  { id: 1004, state: 'FAILED', repo: 'p11', owner: 'eve' },
];

async function start(journal = join(dir, 'journal.db')): Promise<Exporter> {
  const yaml = `sources:\n  - name: alt\n    kind: girar\n    url: ${sim.url}\n    stream: false\n`;
  const config = parseConfig(yaml, join(dir, 'buildscope.yaml'), kindSchemas, { listenAddress: '127.0.0.1:0', journalPath: journal });
  const exporter = await buildExporter(config, { log: pino({ level: 'silent' }), clock });
  running.push(exporter);
  return exporter;
}

async function stop(exporter: Exporter): Promise<void> {
  running.splice(running.indexOf(exporter), 1);
  await exporter.close();
}

/** Sample lines of a family, `name{labels} value`, sorted. */
async function samples(exporter: Exporter, name: string): Promise<string[]> {
  const { body } = await exporter.metrics.render();
  return body
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .sort();
}

function collect(exporter: Exporter): ChangeEvent[] {
  const seen: ChangeEvent[] = [];
  exporter.store.events.subscribe((e) => seen.push(e));
  return seen;
}

const brief = (e: ChangeEvent) => `${e.type} ${e.id} ${e.prev_state ?? '-'}>${e.state ?? '-'}`;

describe('restart with the journal', () => {
  it('restores state, replay and counters, and emits what changed while down exactly once', async () => {
    const first = await start();
    await first.runners.pollAll();
    sim.updateTask(1001, { state: 'DONE' });
    clock.advance(60_000);
    await first.runners.pollAll();
    const lastSeq = first.store.events.lastSeq;
    const before = {
      tasks: first.store.queryTasks({ state: ['ALL'], limit: 100 }).items.map(({ task: t }) => `${t.id} ${t.state} ${t.started ?? ''} ${t.finished ?? ''}`),
      transitions: await samples(first, 'buildfarm_task_transitions_total'),
      finished: await samples(first, 'buildfarm_tasks_finished_total'),
    };
    expect(before.transitions).toContain('buildfarm_task_transitions_total{source="alt",kind="girar",from_state="BUILDING",to_state="DONE"} 1');
    await stop(first);

    // While the exporter is down: one task finishes, one is added, one goes away.
    sim.updateTask(1002, { state: 'BUILDING' });
    sim.addTask({ id: 1005, state: 'NEW', repo: 'sisyphus', owner: 'kim' });
    sim.removeTask(1004);
    clock.advance(60_000);

    const second = await start();
    // Before any poll: what the first run knew.
    expect(second.store.events.lastSeq).toBe(lastSeq);
    expect(second.store.queryTasks({ state: ['ALL'], limit: 100 }).items.map(({ task: t }) => `${t.id} ${t.state} ${t.started ?? ''} ${t.finished ?? ''}`)).toEqual(before.tasks);
    expect(await samples(second, 'buildfarm_task_transitions_total')).toEqual(before.transitions);
    expect(await samples(second, 'buildfarm_tasks_finished_total')).toEqual(before.finished);
    // A client that saw the first run's events up to some seq gets the rest replayed.
    const replay = second.store.events.since(lastSeq - 2);
    expect(replay.type).toBe('events');
    expect(replay.type === 'events' && replay.events.map((e) => e.seq)).toEqual([lastSeq - 1, lastSeq]);

    const seen = collect(second);
    await second.runners.pollAll();
    expect(seen.map(brief).sort()).toEqual(['task_new 1005 ->NEW', 'task_removed 1004 FAILED>-', 'task_updated 1002 AWAITING>BUILDING']);
    expect(seen.map((e) => e.seq)).toEqual([lastSeq + 1, lastSeq + 2, lastSeq + 3]);
    const transitions = await samples(second, 'buildfarm_task_transitions_total');
    expect(transitions).toContain('buildfarm_task_transitions_total{source="alt",kind="girar",from_state="BUILDING",to_state="DONE"} 1');
    expect(transitions).toContain('buildfarm_task_transitions_total{source="alt",kind="girar",from_state="AWAITING",to_state="BUILDING"} 1');
    // Finished tasks the first run counted are not counted (or observed) again.
    expect(await samples(second, 'buildfarm_tasks_finished_total')).toEqual(before.finished);
    expect((await samples(second, 'buildfarm_task_duration_seconds_count')).join('\n')).not.toMatch(/ [1-9]\d*$/m);

    // Nothing changed since: the next poll emits nothing.
    await second.runners.pollAll();
    expect(seen).toHaveLength(3);
    await stop(second);

    // A third run continues the sequence and the counters again.
    const third = await start();
    expect(third.store.events.lastSeq).toBe(lastSeq + 3);
    expect(await samples(third, 'buildfarm_task_transitions_total')).toEqual(transitions);
  });

  it('drops nothing and double-counts nothing when the first poll after a restart finishes a task', async () => {
    const first = await start();
    await first.runners.pollAll();
    await stop(first);
    sim.updateTask(1001, { state: 'DONE' });
    clock.advance(120_000);
    const second = await start();
    await second.runners.pollAll();
    expect(await samples(second, 'buildfarm_tasks_finished_total')).toContain('buildfarm_tasks_finished_total{source="alt",kind="girar",repo="sisyphus",phase="success"} 1');
    await stop(second);
    const third = await start();
    await third.runners.pollAll();
    expect(await samples(third, 'buildfarm_tasks_finished_total')).toContain('buildfarm_tasks_finished_total{source="alt",kind="girar",repo="sisyphus",phase="success"} 1');
  });

  it('without a journal file the next run starts empty with a higher sequence', async () => {
    const first = await start();
    await first.runners.pollAll();
    const lastSeq = first.store.events.lastSeq;
    await stop(first);
    clock.advance(1000);
    const other = await start(join(dir, 'another.db'));
    expect(other.store.taskCount).toBe(0);
    expect(other.store.events.lastSeq).toBeGreaterThan(lastSeq);
    expect(other.store.events.since(lastSeq).type).toBe('reset');
  });
});

describe('a journal that cannot write', () => {
  it('logs, counts buildfarm_exporter_journal_write_failures_total, and still serves and publishes the change', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'error' }, { write: (l: string) => lines.push(l) });
    const empty = new MemoryJournal(0);
    const failing: Journal = {
      lastSeq: () => 0,
      restore: () => empty.restore(),
      commit: () => {
        throw new Error('SQLITE_FULL: database or disk is full');
      },
      trackCounters: () => {},
      replaceCounters: () => {},
      close: () => {},
    };
    const yaml = `sources:\n  - name: alt\n    kind: girar\n    url: ${sim.url}\n    stream: false\n`;
    const config = parseConfig(yaml, join(dir, 'buildscope.yaml'), kindSchemas, { listenAddress: '127.0.0.1:0' });
    const exporter = await buildExporter(config, { log, clock, journal: failing });
    running.push(exporter);
    const seen = collect(exporter);
    await exporter.runners.pollAll();
    expect(seen.length).toBe(TASKS.length);
    expect(exporter.store.taskCount).toBe(TASKS.length);
    expect(await samples(exporter, 'buildfarm_exporter_journal_write_failures_total')).toEqual(['buildfarm_exporter_journal_write_failures_total 1']);
    expect(lines.join('')).toContain('journal write failed; changes are kept in memory only until a write succeeds: SQLITE_FULL: database or disk is full');
  });
});
