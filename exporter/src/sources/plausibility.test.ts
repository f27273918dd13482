import { describe, expect, it } from 'vitest';
import type { Task } from '../model/task.js';
import { IdRegressionGuard, clockFault } from './plausibility.js';
import type { Snapshot } from './source.js';

const NOW = Date.parse('2026-03-16T12:00:00Z');
const task = (id: string, created?: string): Task => ({ source: 's', kind: 'k', id, state: 'x', phase: 'running', archs: [], subtasks: [], ...(created ? { created } : {}) });
const snap = (tasks: Task[]): Snapshot => ({ type: 'snapshot', tasks });

describe('clockFault', () => {
  it('fails a result whose dated tasks are mostly a century ahead, naming an example and what to check', () => {
    const err = clockFault(snap([task('1', '2226-03-16T11:00:00Z'), task('2', '2226-03-16T11:30:00Z'), task('3', '2026-03-16T11:00:00Z'), task('4')]), NOW);
    expect(err?.code).toBe('payload');
    expect(err?.message).toBe(
      "the upstream's clock looks wrong: 2 of 3 tasks carry times more than a day in the future of this host's clock (2026-03-16T12:00:00.000Z), e.g. task 1 created 2226-03-16T11:00:00Z; check the upstream host's clock (and the source's time_zone); the last good state is kept",
    );
  });
  it('fails times before 2000 the same way', () => {
    expect(clockFault(snap([task('1', '1826-03-16T11:00:00Z')]), NOW)?.message).toMatch(/1 of 1 tasks carry times before 2000/);
  });
  it('leaves one odd record among sane ones, a few hours of skew, and undated tasks alone', () => {
    expect(clockFault(snap([task('1', '2226-03-16T11:00:00Z'), task('2', '2026-03-16T11:00:00Z'), task('3', '2026-03-16T10:00:00Z')]), NOW)).toBeUndefined();
    expect(clockFault(snap([task('1', '2026-03-16T20:00:00Z')]), NOW)).toBeUndefined();
    expect(clockFault(snap([task('1'), task('2')]), NOW)).toBeUndefined();
  });
  it('judges the same task objects again on the next poll: a time ahead of the clock becomes plausible once the clock catches up', () => {
    const ahead = [task('1', '2026-03-18T12:00:00Z'), task('2', '2026-03-18T12:30:00Z')];
    const old = [task('3', '1826-03-16T11:00:00Z'), task('4', '1826-03-16T11:00:00Z')];
    expect(clockFault(snap(ahead), NOW)?.message).toMatch(/2 of 2 tasks carry times more than a day in the future/);
    expect(clockFault(snap(ahead), NOW + 3 * 86_400_000)).toBeUndefined();
    expect(clockFault(snap(old), NOW)?.message).toMatch(/2 of 2 tasks carry times before 2000/);
    expect(clockFault(snap(old), NOW + 3 * 86_400_000)?.message).toMatch(/2 of 2 tasks carry times before 2000/);
  });
});

describe('IdRegressionGuard', () => {
  const ids = (...n: number[]) => snap(n.map((i) => task(String(i))));
  it('doubts a snapshot whose newest ids vanished once, then believes it when it comes again', () => {
    const g = new IdRegressionGuard();
    expect(g.check(ids(1, 2, 3, 4, 5, 6))).toBeUndefined();
    expect(g.check(ids(1, 2, 3))?.message).toBe(
      'the upstream went back in time: its newest task id is now 3, but it listed 3 newer tasks (up to 6) before; was it restored from a backup or replaced? The last good state is kept; if the same answer comes again it is believed',
    );
    expect(g.check(ids(1, 2, 3))).toBeUndefined();
    expect(g.check(ids(1, 2, 3, 7))).toBeUndefined();
  });
  it('lets one or two newest tasks go (deleted ones) and ignores non-numeric ids and deltas', () => {
    const g = new IdRegressionGuard();
    g.check(ids(1, 2, 3, 4, 5));
    expect(g.check(ids(1, 2, 3))).toBeUndefined();
    expect(g.check(snap([task('job/9')]))).toBeUndefined();
    expect(g.check({ type: 'delta', tasks: [task('1')] })).toBeUndefined();
  });
});
