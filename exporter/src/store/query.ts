/**
 * Task queries over the store: indexed filters (smallest candidate set first), the per-kind
 * default-state rules, an `updated` time range, full-text search, sorting and pagination.
 */
import type { Task } from '../model/task.js';
import type { DefaultStates } from '../sources/source.js';
import { buildSearchDoc, matchSearch, searchOrder } from './search.js';
import type { TaskEntry } from './store.js';
import { fieldValues, type IndexFilter, type IndexedField, type TaskIndex } from './task-index.js';
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
  const { index } = ctx;
  const filters: IndexFilter[] = [];
  for (const field of FILTER_FIELDS) {
    const values = field === 'state' ? (q.state === 'ALL' ? undefined : q.state) : q[field];
    if (values && values.length > 0) filters.push([field, values]);
  }
  const applyDefaults = q.state === undefined && (q.phase === undefined || q.phase.length === 0);
  const terms = q.terms && q.terms.length > 0 ? searchOrder(q.terms) : undefined;
  const personal = (q.owner !== undefined && q.owner.length > 0) || terms !== undefined;

  // Candidates: from the filters' index sets, or, for a search over most tasks, from a scan of
  // the search chunks; the rest of the conditions are tested on each candidate's columns.
  let candidates: number[];
  let searched = false;
  const narrow = filters.length > 0 && Math.min(...filters.map(([f, vs]) => index.lookupSize(f, vs))) * 8 < index.size;
  if (terms && !narrow) {
    candidates = index.searchAll(terms);
    searched = true;
    if (filters.length > 0) {
      const allowed = new Set(index.matching(filters));
      candidates = candidates.filter((slot) => allowed.has(slot));
    }
  } else {
    candidates = index.matching(filters);
  }
  const allowedKindState = applyDefaults ? defaultStateTable(index, ctx.defaultStates, personal) : undefined;
  const since = q.updatedSince ?? Number.NEGATIVE_INFINITY;
  const until = q.updatedUntil ?? Number.POSITIVE_INFINITY;
  const hasRange = q.updatedSince !== undefined || q.updatedUntil !== undefined;
  const hits: number[] = [];
  for (const slot of candidates) {
    if (allowedKindState && allowedKindState[index.kindState[slot] as number] !== 1) continue;
    if (hasRange) {
      const u = index.updatedMs[slot] as number;
      if (!(u >= since && u <= until)) continue;
    }
    if (terms && !searched && !index.textHasAll(slot, terms)) continue;
    hits.push(slot);
  }

  if (q.summarizeBy) {
    const counts = new Map<string, number>();
    for (const slot of hits) {
      const task = ctx.entries.get(index.keys[slot] as string)?.task;
      if (!task) continue;
      for (const v of fieldValues(task, q.summarizeBy)) counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    const summary = [...counts].map(([value, count]) => ({ value, count })).sort((a, b) => b.count - a.count || a.value.localeCompare(b.value));
    return { result: { total: hits.length, truncated: false, items: [] }, summary };
  }

  // Only the requested page is put in order (and, for a search, only within the result cap).
  const truncated = terms !== undefined && hits.length > ctx.searchResultCap;
  const offset = q.offset ?? 0;
  const limit = q.limit ?? 100;
  const end = truncated ? Math.min(offset + limit, ctx.searchResultCap) : offset + limit;
  const page = firstK(hits, end, comparator(index, q.sort ?? 'id', q.order ?? 'desc')).slice(offset);
  const items: TaskHit[] = [];
  for (const slot of page) {
    const task = ctx.entries.get(index.keys[slot] as string)?.task;
    if (!task) continue;
    // Where each term matched is worked out for the page alone, not for every hit.
    items.push(terms ? { task, matches: matchSearch(buildSearchDoc(task), terms) ?? [] } : { task });
  }
  return { result: { total: hits.length, truncated, items } };
}

/** For each kind/state code, 1 when the kind's default-state rule lets the state through (`personal`: an owner or search query). */
function defaultStateTable(index: TaskIndex, rules: ReadonlyMap<string, DefaultStates>, personal: boolean): Uint8Array {
  const table = new Uint8Array(index.kindStateCount);
  for (let code = 0; code < table.length; code += 1) {
    const { kind, state } = index.kindStateOf(code);
    const rule = rules.get(kind);
    table[code] = !rule || (personal ? !rule.hiddenWhenPersonal.includes(state) : rule.active.includes(state)) ? 1 : 0;
  }
  return table;
}

/**
 * Slot order for a sort key, ties broken by id (numeric ids by value), then source. Times compare
 * as instants; a task without the time sorts before every task with one (ascending).
 */
function comparator(index: TaskIndex, sort: SortField, order: 'asc' | 'desc'): (a: number, b: number) => number {
  const dir = order === 'asc' ? 1 : -1;
  const { idNum, ids, sources } = index;
  const byId = (a: number, b: number): number => {
    const an = idNum[a] as number;
    const bn = idNum[b] as number;
    if (an === an && bn === bn && an !== bn) return an - bn;
    const ai = ids[a] as string;
    const bi = ids[b] as string;
    if (ai !== bi) return ai < bi ? -1 : 1;
    const as = sources[a] as string;
    const bs = sources[b] as string;
    return as < bs ? -1 : as > bs ? 1 : 0;
  };
  if (sort === 'id') return (a, b) => dir * byId(a, b);
  const column = sort === 'updated' ? index.updatedMs : sort === 'created' ? index.createdMs : index.stateSinceMs;
  return (a, b) => {
    const av = column[a] as number;
    const bv = column[b] as number;
    const an = av !== av;
    const bn = bv !== bv;
    if (an !== bn) return dir * (an ? -1 : 1);
    if (!an && av !== bv) return dir * (av - bv);
    return dir * byId(a, b);
  };
}
