/**
 * Task queries over the store: indexed filters (smallest candidate set first), the per-kind
 * default-state rules, an `updated` time range, full-text search, sorting and pagination.
 */
import type { Task } from '../model/task.js';
import type { DefaultStates } from '../sources/source.js';
import { matchSearch } from './search.js';
import type { TaskEntry } from './store.js';
import { fieldValues, type IndexedField, type TaskIndex } from './task-index.js';

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
  const filters: [IndexedField, Set<string>][] = [];
  for (const field of FILTER_FIELDS) {
    const values = field === 'state' ? (q.state === 'ALL' ? undefined : q.state) : q[field];
    if (values && values.length > 0) filters.push([field, new Set(values)]);
  }
  const applyDefaults = q.state === undefined && (q.phase === undefined || q.phase.length === 0);
  const personal = (q.owner !== undefined && q.owner.length > 0) || (q.terms !== undefined && q.terms.length > 0);

  let candidates: Iterable<string>;
  if (filters.length > 0) {
    filters.sort((a, b) => ctx.index.lookupSize(a[0], [...a[1]]) - ctx.index.lookupSize(b[0], [...b[1]]));
    const [field, values] = filters[0] as [IndexedField, Set<string>];
    candidates = ctx.index.lookup(field, [...values]);
  } else {
    candidates = ctx.entries.keys();
  }
  const rest = filters.slice(1);

  const hits: { entry: TaskEntry; matches?: string[] }[] = [];
  for (const key of candidates) {
    const entry = ctx.entries.get(key);
    if (!entry) continue;
    const t = entry.task;
    if (!rest.every(([field, values]) => fieldValues(t, field).some((v) => values.has(v)))) continue;
    if (applyDefaults && !passesDefaultStates(ctx.defaultStates.get(t.kind), t.state, personal)) continue;
    if (q.updatedSince !== undefined || q.updatedUntil !== undefined) {
      const u = t.updated ? Date.parse(t.updated) : Number.NaN;
      if (Number.isNaN(u)) continue;
      if (q.updatedSince !== undefined && u < q.updatedSince) continue;
      if (q.updatedUntil !== undefined && u > q.updatedUntil) continue;
    }
    if (q.terms && q.terms.length > 0) {
      const matches = matchSearch(entry.doc, q.terms);
      if (!matches) continue;
      hits.push({ entry, matches });
    } else {
      hits.push({ entry });
    }
  }

  if (q.summarizeBy) {
    const counts = new Map<string, number>();
    for (const h of hits) {
      for (const v of fieldValues(h.entry.task, q.summarizeBy)) counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    const summary = [...counts].map(([value, count]) => ({ value, count })).sort((a, b) => b.count - a.count || a.value.localeCompare(b.value));
    return { result: { total: hits.length, truncated: false, items: [] }, summary };
  }

  hits.sort(comparator(q.sort ?? 'id', q.order ?? 'desc'));
  const searching = q.terms !== undefined && q.terms.length > 0;
  const truncated = searching && hits.length > ctx.searchResultCap;
  const window = truncated ? hits.slice(0, ctx.searchResultCap) : hits;
  const offset = q.offset ?? 0;
  const limit = q.limit ?? 100;
  const items = window.slice(offset, offset + limit).map((h) => (h.matches ? { task: h.entry.task, matches: h.matches } : { task: h.entry.task }));
  return { result: { total: hits.length, truncated, items } };
}

function passesDefaultStates(rule: DefaultStates | undefined, state: string, personal: boolean): boolean {
  if (!rule) return true;
  return personal ? !rule.hiddenWhenPersonal.includes(state) : rule.active.includes(state);
}

type Hit = { entry: TaskEntry };

function comparator(sort: SortField, order: 'asc' | 'desc'): (a: Hit, b: Hit) => number {
  const dir = order === 'asc' ? 1 : -1;
  const byId = (a: Hit, b: Hit): number => {
    const an = a.entry.idNum;
    const bn = b.entry.idNum;
    if (!Number.isNaN(an) && !Number.isNaN(bn) && an !== bn) return an - bn;
    if (a.entry.task.id !== b.entry.task.id) return a.entry.task.id < b.entry.task.id ? -1 : 1;
    return a.entry.task.source < b.entry.task.source ? -1 : a.entry.task.source > b.entry.task.source ? 1 : 0;
  };
  if (sort === 'id') return (a, b) => dir * byId(a, b);
  const field = sort === 'state_since' ? 'stateSince' : sort;
  return (a, b) => {
    const av = a.entry.task[field] ?? '';
    const bv = b.entry.task[field] ?? '';
    if (av !== bv) return dir * (av < bv ? -1 : 1);
    return dir * byId(a, b);
  };
}
