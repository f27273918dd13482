/**
 * The indexed query engine against a plain reference: every filter checked on every task, the
 * whole hit list sorted, then paged. Seeded random tasks and queries; any difference in total,
 * truncation, order or matches fails.
 */
import { describe, expect, it } from 'vitest';
import type { Phase, Task } from '../model/task.js';
import { Rng } from '../sources/girar/prng.js';
import { buildSearchDoc, matchSearch } from './search.js';
import { Store } from './store.js';
import type { TaskQuery } from './query.js';

const STATES = ['NEW', 'AWAITING', 'BUILDING', 'FAILED', 'DONE', 'EPERM'] as const;
const PHASE: Record<string, Phase> = { NEW: 'blocked', AWAITING: 'queued', BUILDING: 'running', FAILED: 'failed', DONE: 'success', EPERM: 'blocked' };
const REPOS = ['sisyphus', 'p11', 'p10'];
const OWNERS = ['vt', 'rider', 'amakeenk', 'glebfm'];
const ARCHS = ['x86_64', 'i586', 'aarch64'];
const WORDS = ['kernel', 'python3', 'pdal', 'grass', 'libfoo', 'update', 'rebuild', 'fix'];
const DEFAULTS = new Map([['girar', { active: ['AWAITING', 'BUILDING'], hiddenWhenPersonal: ['DONE'] }]]);

function population(rng: Rng, n: number): Task[] {
  const tasks: Task[] = [];
  for (let i = 0; i < n; i += 1) {
    const state = rng.pick(STATES);
    const source = rng.pick(['alt', 'alt2']);
    const kind = source === 'alt' ? 'girar' : rng.pick(['girar', 'koji']);
    const archs = ARCHS.filter(() => rng.chance(0.5));
    tasks.push({
      source,
      kind,
      // Numeric ids with some repeated across sources, and a few that are not numbers.
      id: rng.chance(0.05) ? `build-${rng.int(1, 50)}` : String(rng.int(1, 400)),
      state,
      phase: PHASE[state] ?? 'unknown',
      ...(rng.chance(0.9) ? { owner: rng.pick(OWNERS) } : {}),
      ...(rng.chance(0.9) ? { repo: rng.pick(REPOS) } : {}),
      ...(rng.chance(0.8) ? { message: `${rng.pick(WORDS)} ${rng.pick(WORDS)}` } : {}),
      ...(rng.chance(0.9) ? { updated: new Date(Date.UTC(2026, 0, 1) + rng.int(0, 1000) * 60_000).toISOString() } : {}),
      ...(rng.chance(0.7) ? { created: new Date(Date.UTC(2025, 11, 1) + rng.int(0, 50) * 3_600_000).toISOString() } : {}),
      archs,
      subtasks: [{ id: '100', type: 'repo', archs: archs.map((arch) => ({ arch, status: 'built', phase: 'success' as Phase })), fields: { pkgname: rng.pick(WORDS), dir: `/gears/${rng.pick(WORDS)}.git` } }],
    });
  }
  return tasks;
}

/** Every filter checked on every task, the whole list sorted, then paged: the meaning of a query. */
function reference(tasks: Task[], q: TaskQuery, cap: number): { total: number; truncated: boolean; items: { key: string; matches?: string[] }[] } {
  const some = (values: string[] | undefined, have: string[]) => !values || values.length === 0 || have.some((v) => values.includes(v));
  const personal = (q.owner?.length ?? 0) > 0 || (q.terms?.length ?? 0) > 0;
  const defaults = q.state === undefined && (q.phase === undefined || q.phase.length === 0);
  const hits: { task: Task; matches?: string[] }[] = [];
  for (const t of tasks) {
    if (!some(q.source, [t.source]) || !some(q.kind, [t.kind]) || !some(q.phase, [t.phase])) continue;
    if (q.state !== 'ALL' && !some(q.state, [t.state])) continue;
    if (!some(q.repo, t.repo ? [t.repo] : []) || !some(q.owner, t.owner ? [t.owner] : []) || !some(q.arch, t.archs)) continue;
    const rule = DEFAULTS.get(t.kind);
    if (defaults && rule && (personal ? rule.hiddenWhenPersonal.includes(t.state) : !rule.active.includes(t.state))) continue;
    const u = t.updated ? Date.parse(t.updated) : Number.NaN;
    if ((q.updatedSince !== undefined || q.updatedUntil !== undefined) && Number.isNaN(u)) continue;
    if ((q.updatedSince !== undefined && u < q.updatedSince) || (q.updatedUntil !== undefined && u > q.updatedUntil)) continue;
    if (q.terms && q.terms.length > 0) {
      const matches = matchSearch(buildSearchDoc(t), q.terms);
      if (!matches) continue;
      hits.push({ task: t, matches });
    } else hits.push({ task: t });
  }
  const dir = q.order === 'asc' ? 1 : -1;
  const num = (t: Task) => (/^\d+$/.test(t.id) ? Number(t.id) : Number.NaN);
  const byId = (a: Task, b: Task) => {
    const an = num(a);
    const bn = num(b);
    if (!Number.isNaN(an) && !Number.isNaN(bn) && an !== bn) return an - bn;
    if (a.id !== b.id) return a.id < b.id ? -1 : 1;
    return a.source < b.source ? -1 : a.source > b.source ? 1 : 0;
  };
  const field = q.sort === 'state_since' ? 'stateSince' : q.sort;
  hits.sort((x, y) => {
    if (field && field !== 'id') {
      const av = x.task[field] ?? '';
      const bv = y.task[field] ?? '';
      if (av !== bv) return dir * (av < bv ? -1 : 1);
    }
    return dir * byId(x.task, y.task);
  });
  const searching = (q.terms?.length ?? 0) > 0;
  const truncated = searching && hits.length > cap;
  const window = truncated ? hits.slice(0, cap) : hits;
  const offset = q.offset ?? 0;
  const page = window.slice(offset, offset + (q.limit ?? 100));
  return { total: hits.length, truncated, items: page.map((h) => ({ key: `${h.task.source}/${h.task.id}`, ...(h.matches ? { matches: h.matches } : {}) })) };
}

function randomQuery(rng: Rng): TaskQuery {
  const maybe = <T>(p: number, f: () => T): T | undefined => (rng.chance(p) ? f() : undefined);
  const subset = (values: readonly string[]) => values.filter(() => rng.chance(0.4)).concat(rng.chance(0.1) ? ['nonexistent'] : []);
  const q: TaskQuery = {
    source: maybe(0.3, () => subset(['alt', 'alt2'])),
    kind: maybe(0.2, () => subset(['girar', 'koji'])),
    state: maybe(0.5, () => (rng.chance(0.3) ? 'ALL' : subset(STATES))),
    phase: maybe(0.2, () => subset(['blocked', 'queued', 'running', 'failed', 'success'])),
    repo: maybe(0.4, () => subset(REPOS)),
    owner: maybe(0.3, () => subset(OWNERS)),
    arch: maybe(0.3, () => subset(ARCHS)),
    terms: maybe(0.4, () => [...new Set(Array.from({ length: rng.int(1, 3) }, () => rng.pick([...WORDS, 'p1', 'x86', '10', 'ke', 'zz']).slice(0, rng.int(2, 6))))]),
    updatedSince: maybe(0.2, () => Date.UTC(2026, 0, 1) + rng.int(0, 600) * 60_000),
    updatedUntil: maybe(0.2, () => Date.UTC(2026, 0, 1) + rng.int(400, 1000) * 60_000),
    sort: rng.pick(['id', 'updated', 'created', 'state_since'] as const),
    order: rng.pick(['asc', 'desc'] as const),
    limit: rng.pick([1, 5, 20, 100, 1000]),
    offset: rng.pick([0, 0, 3, 17, 60]),
  };
  for (const key of Object.keys(q) as (keyof TaskQuery)[]) if (q[key] === undefined) delete q[key];
  return q;
}

describe('task queries against a plain reference', () => {
  it('agree on total, truncation, order, paging and matches for seeded random queries while tasks change', () => {
    const rng = new Rng(7);
    const cap = 40;
    const store = new Store({ defaultStates: DEFAULTS, searchResultCap: cap });
    const held = new Map<string, Task>();
    const push = (tasks: Task[], removed: Task[] = []) => {
      for (const source of ['alt', 'alt2']) {
        for (const kind of ['girar', 'koji']) {
          const mine = tasks.filter((t) => t.source === source && t.kind === kind);
          const gone = removed.filter((t) => t.source === source && t.kind === kind).map((t) => t.id);
          if (mine.length > 0 || gone.length > 0) store.apply(source, kind, { type: 'delta', tasks: mine, removedTaskIds: gone });
        }
      }
    };
    // Later duplicates of a source/id replace earlier ones, as a poll would.
    const first = population(rng, 2500);
    for (const t of first) held.set(`${t.source}/${t.id}`, t);
    push([...held.values()]);
    let nonEmpty = 0;
    let queries = 0;
    for (let round = 0; round < 8; round += 1) {
      if (round > 0) {
        // Change, remove and add tasks: slots are freed and reused, search chunks go stale.
        const keys = [...held.keys()];
        const removed: Task[] = [];
        for (let i = 0; i < 60; i += 1) {
          const key = rng.pick(keys);
          const t = held.get(key);
          if (!t || removed.includes(t)) continue;
          removed.push(t);
          held.delete(key);
        }
        const changed: Task[] = [];
        for (const t of population(rng, 120)) {
          const key = `${t.source}/${t.id}`;
          const prev = held.get(key);
          // A task keeps its kind within a source, as upstream ids do.
          const next = prev ? { ...t, kind: prev.kind } : t;
          if (removed.some((r) => r.source === next.source && r.id === next.id)) continue;
          held.set(key, next);
          changed.push(next);
        }
        push(changed, removed);
      }
      const stored = [...held.values()].map((t) => store.getTask(t.source, t.id) as Task);
      expect(store.taskCount).toBe(held.size);
      for (let i = 0; i < 100; i += 1) {
        const q = randomQuery(rng);
        const want = reference(stored, q, cap);
        const got = store.queryTasks(q);
        const items = got.items.map((h) => ({ key: `${h.task.source}/${h.task.id}`, ...(h.matches ? { matches: h.matches } : {}) }));
        expect({ total: got.total, truncated: got.truncated, items }, JSON.stringify(q)).toEqual(want);
        if (want.items.length > 0) nonEmpty += 1;
        queries += 1;
      }
    }
    // The random queries must exercise real results, not only empty ones.
    expect(queries).toBe(800);
    expect(nonEmpty).toBeGreaterThan(250);
  });
});
