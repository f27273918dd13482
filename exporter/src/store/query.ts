/**
 * Task queries over the store: indexed filters (smallest candidate set first), the per-kind
 * default-state rules, an `updated` time range, full-text search, sorting and pagination.
 */
import type { Task } from '../model/task.js';
import type { DefaultStates } from '../sources/source.js';
import { buildSearchDoc, matchSearch, matchesAll, searchOrder } from './search.js';
import type { TaskEntry } from './store.js';
import { fieldValues, type IndexedField, type TaskIndex } from './task-index.js';
import { firstK } from './top-k.js';

export const SORT_FIELDS = ['id', 'updated', 'created', 'state_since'] as const;
export type SortField = (typeof SORT_FIELDS)[number];

export interface TaskQuery {
  source?: string[];
  kind?: string[];
  /** Native states; `'ALL'` lifts the default-state rules; undefined applies them. */
  state?: string[] | 'ALL';
  phase?: string[];
  repo?: string[];
  owner?: string[];
  arch?: string[];
  /** Epoch milliseconds, inclusive. */
  updatedSince?: number;
  updatedUntil?: number;
  /** Parsed search terms (see parseSearch). */
  terms?: string[];
  sort?: SortField;
  order?: 'asc' | 'desc';
  limit?: number;
  offset?: number;
  summarizeBy?: IndexedField;
}

export interface TaskHit {
  task: Task;
  matches?: string[];
}

export interface TaskQueryResult {
  /** Matching tasks before pagination (search hits are counted in full even when capped). */
  total: number;
  /** True when a search matched more tasks than the search result cap. */
  truncated: boolean;
  items: TaskHit[];
}

export interface SummaryRow {
  value: string;
  count: number;
}

export interface QueryContext {
  entries: ReadonlyMap<string, TaskEntry>;
  index: TaskIndex;
  defaultStates: ReadonlyMap<string, DefaultStates>;
  searchResultCap: number;
}

const FILTER_FIELDS: IndexedField[] = ['source', 'kind', 'state', 'phase', 'repo', 'owner', 'arch'];

export function runTaskQuery(ctx: QueryContext, q: TaskQuery): { result: TaskQueryResult; summary?: SummaryRow[] } {
  const filters: [IndexedField, string[]][] = [];
  for (const field of FILTER_FIELDS) {
    const values = field === 'state' ? (q.state === 'ALL' ? undefined : q.state) : q[field];
    if (values && values.length > 0) filters.push([field, [...new Set(values)]]);
  }
  const applyDefaults = q.state === undefined && (q.phase === undefined || q.phase.length === 0);
  const terms = q.terms && q.terms.length > 0 ? searchOrder(q.terms) : undefined;
  const personal = (q.owner !== undefined && q.owner.length > 0) || terms !== undefined;

  // Walk the smallest indexed set; every other filter is a membership test on its index.
  filters.sort((a, b) => ctx.index.lookupSize(a[0], a[1]) - ctx.index.lookupSize(b[0], b[1]));
  const rest = filters.slice(1);
  const stateAllowed = applyDefaults ? defaultStateTest(ctx.defaultStates, personal) : undefined;
  const since = q.updatedSince;
  const until = q.updatedUntil;
  const hasRange = since !== undefined || until !== undefined;
  const hits: TaskEntry[] = [];
  const consider = (entry: TaskEntry): void => {
    if (stateAllowed && !stateAllowed(entry.kind, entry.state)) return;
    if (hasRange) {
      const u = entry.updatedMs;
      if (Number.isNaN(u) || (since !== undefined && u < since) || (until !== undefined && u > until)) return;
    }
    if (terms && !matchesAll(entry.text, terms)) return;
    hits.push(entry);
  };
  if (filters.length > 0) {
    const [field, values] = filters[0] as [IndexedField, string[]];
    // For each other filter, the index sets of its values: a key passes when one of them has it.
    const tests = rest.map(([f, vs]) => ctx.index.sets(f, vs));
    outer: for (const key of ctx.index.keys(field, values)) {
      for (let i = 0; i < tests.length; i += 1) {
        const sets = tests[i] as ReadonlySet<string>[];
        let found = false;
        for (let j = 0; j < sets.length && !found; j += 1) found = (sets[j] as ReadonlySet<string>).has(key);
        if (!found) continue outer;
      }
      const entry = ctx.entries.get(key);
      if (entry) consider(entry);
    }
  } else {
    for (const entry of ctx.entries.values()) consider(entry);
  }

  if (q.summarizeBy) {
    const counts = new Map<string, number>();
    for (const h of hits) {
      for (const v of fieldValues(h.task, q.summarizeBy)) counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    const summary = [...counts].map(([value, count]) => ({ value, count })).sort((a, b) => b.count - a.count || a.value.localeCompare(b.value));
    return { result: { total: hits.length, truncated: false, items: [] }, summary };
  }

  // Only the requested page is put in order (and, for a search, only within the result cap).
  const truncated = terms !== undefined && hits.length > ctx.searchResultCap;
  const offset = q.offset ?? 0;
  const limit = q.limit ?? 100;
  const end = truncated ? Math.min(offset + limit, ctx.searchResultCap) : offset + limit;
  const page = firstK(hits, end, comparator(q.sort ?? 'id', q.order ?? 'desc')).slice(offset);
  const items = page.map((entry): TaskHit => {
    if (!terms) return { task: entry.task };
    // Where each term matched is worked out for the page alone, not for every hit.
    return { task: entry.task, matches: matchSearch(buildSearchDoc(entry.task), terms) ?? [] };
  });
  return { result: { total: hits.length, truncated, items } };
}

/** Whether a kind's default-state rule lets a state through (`personal`: an owner or search query). */
function defaultStateTest(rules: ReadonlyMap<string, DefaultStates>, personal: boolean): (kind: string, state: string) => boolean {
  const sets = new Map<string, { set: ReadonlySet<string>; listed: boolean }>();
  for (const [kind, rule] of rules) {
    sets.set(kind, personal ? { set: new Set(rule.hiddenWhenPersonal), listed: false } : { set: new Set(rule.active), listed: true });
  }
  return (kind, state) => {
    const rule = sets.get(kind);
    return rule === undefined || rule.set.has(state) === rule.listed;
  };
}

function comparator(sort: SortField, order: 'asc' | 'desc'): (a: TaskEntry, b: TaskEntry) => number {
  const dir = order === 'asc' ? 1 : -1;
  const byId = (a: TaskEntry, b: TaskEntry): number => {
    const an = a.idNum;
    const bn = b.idNum;
    if (!Number.isNaN(an) && !Number.isNaN(bn) && an !== bn) return an - bn;
    if (a.task.id !== b.task.id) return a.task.id < b.task.id ? -1 : 1;
    return a.task.source < b.task.source ? -1 : a.task.source > b.task.source ? 1 : 0;
  };
  if (sort === 'id') return (a, b) => dir * byId(a, b);
  const field = sort === 'state_since' ? 'stateSince' : sort;
  return (a, b) => {
    const av = a.task[field] ?? '';
    const bv = b.task[field] ?? '';
    if (av !== bv) return dir * (av < bv ? -1 : 1);
    return dir * byId(a, b);
  };
}
