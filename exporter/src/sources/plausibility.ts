/**
 * Sanity checks the runner applies to every poll result before the store sees it, for faults no
 * schema catches: an upstream whose clock is far off (task times a century ahead or before 2000)
 * and an upstream that went back in time (its newest task ids vanished: restored from a backup,
 * replaced by another instance, a proxy serving a stale copy).
 */
import type { Task } from '../model/task.js';
import { SourceError } from './errors.js';
import type { PollResult } from './source.js';

/** Task times further ahead of this host's clock than this are not believed. */
export const MAX_FUTURE_MS = 24 * 3600 * 1000;
/** Task times before this are not believed (no build farm kept here ran before). */
export const EARLIEST_MS = Date.parse('2000-01-01T00:00:00Z');
/** Newest ids vanishing at once before a snapshot counts as going back in time. */
export const VANISHED_IDS = 3;

const TIME_FIELDS = ['created', 'started', 'finished', 'updated', 'stateSince'] as const;

/**
 * The clock fault in a result, when most of its dated tasks carry implausible times (one odd
 * record is the record's problem; most of them is the upstream's clock or the time_zone setting).
 */
export function clockFault(result: PollResult, now: number): SourceError | undefined {
  const tasks: readonly Task[] = result.tasks ?? [];
  let dated = 0;
  let ahead = 0;
  let behind = 0;
  let example: { id: string; field: string; value: string } | undefined;
  for (const t of tasks) {
    const verdict = timeVerdict(t, now);
    if (verdict === UNDATED) continue;
    dated += 1;
    if (verdict === PLAUSIBLE) continue;
    if (verdict.ahead) ahead += 1;
    else behind += 1;
    example ??= { id: t.id, field: verdict.field, value: verdict.value };
  }
  if (!example || (ahead + behind) * 2 <= dated) return undefined;
  const where = ahead >= behind ? `more than a day in the future of this host's clock (${new Date(now).toISOString()})` : 'before 2000';
  return new SourceError(
    'payload',
    `the upstream's clock looks wrong: ${ahead + behind} of ${dated} tasks carry times ${where}, e.g. task ${example.id} ${example.field} ${example.value}; check the upstream host's clock (and the source's time_zone); the last good state is kept`,
  );
}

const UNDATED = 'undated';
const PLAUSIBLE = 'plausible';
type TimeVerdict = typeof UNDATED | typeof PLAUSIBLE | { field: string; value: string; ahead: boolean };

/**
 * Verdicts that later polls cannot change, per task object: adapters hand the same object back
 * while a task is unchanged, so an unchanged poll of a large farm parses no dates. A time that is
 * plausible now stays so (the clock only moves on); one too far ahead may not, so it is not kept.
 */
const settledVerdicts = new WeakMap<Task, TimeVerdict>();

function timeVerdict(t: Task, now: number): TimeVerdict {
  const known = settledVerdicts.get(t);
  if (known !== undefined) return known;
  let any = false;
  let odd: { field: string; value: string; ahead: boolean } | undefined;
  for (const field of TIME_FIELDS) {
    const value = t[field];
    if (value === undefined) continue;
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) continue;
    any = true;
    if (!odd && ms > now + MAX_FUTURE_MS) odd = { field, value, ahead: true };
    else if (!odd && ms < EARLIEST_MS) odd = { field, value, ahead: false };
  }
  const verdict: TimeVerdict = !any ? UNDATED : odd ?? PLAUSIBLE;
  if (typeof verdict === 'string' || !verdict.ahead) settledVerdicts.set(t, verdict);
  return verdict;
}

/** Highest all-digit task id in a list, or undefined. */
function maxNumericId(tasks: readonly Task[]): number | undefined {
  let max: number | undefined;
  for (const t of tasks) {
    if (!/^\d{1,15}$/.test(t.id)) continue;
    const n = Number(t.id);
    if (max === undefined || n > max) max = n;
  }
  return max;
}

/**
 * Watches the ids of successive snapshots. A snapshot whose newest ids vanished (at least
 * VANISHED_IDS tasks above its highest id that the previous snapshot listed) fails once with an
 * error saying so; if the next snapshot says the same, it is believed (the upstream really was
 * reset) and becomes the new baseline.
 */
export class IdRegressionGuard {
  private lastIds: number[] = [];
  private doubted: number | undefined;

  check(result: PollResult): SourceError | undefined {
    if (result.type !== 'snapshot') return undefined;
    const max = maxNumericId(result.tasks);
    if (max === undefined) return undefined;
    const vanished = this.lastIds.filter((id) => id > max);
    if (vanished.length >= VANISHED_IDS && this.doubted !== max) {
      this.doubted = max;
      const newest = Math.max(...vanished);
      return new SourceError(
        'payload',
        `the upstream went back in time: its newest task id is now ${max}, but it listed ${vanished.length} newer tasks (up to ${newest}) before; was it restored from a backup or replaced? The last good state is kept; if the same answer comes again it is believed`,
      );
    }
    this.doubted = undefined;
    this.lastIds = result.tasks.filter((t) => /^\d{1,15}$/.test(t.id)).map((t) => Number(t.id));
    return undefined;
  }
}
