/** Inverted indexes over tasks for the filterable fields: value -> set of task keys. */
import type { Task } from '../model/task.js';

export const INDEXED_FIELDS = ['source', 'kind', 'state', 'phase', 'repo', 'owner', 'arch'] as const;
export type IndexedField = (typeof INDEXED_FIELDS)[number];

export function fieldValues(task: Task, field: IndexedField): string[] {
  switch (field) {
    case 'arch':
      return task.archs;
    case 'repo':
      return task.repo ? [task.repo] : [];
    case 'owner':
      return task.owner ? [task.owner] : [];
    default:
      return [task[field]];
  }
}

export class TaskIndex {
  private readonly maps = new Map<IndexedField, Map<string, Set<string>>>(INDEXED_FIELDS.map((f) => [f, new Map()]));

  add(key: string, task: Task): void {
    for (const field of INDEXED_FIELDS) {
      const map = this.maps.get(field) as Map<string, Set<string>>;
      for (const value of fieldValues(task, field)) {
        let set = map.get(value);
        if (!set) map.set(value, (set = new Set()));
        set.add(key);
      }
    }
  }

  remove(key: string, task: Task): void {
    for (const field of INDEXED_FIELDS) {
      const map = this.maps.get(field) as Map<string, Set<string>>;
      for (const value of fieldValues(task, field)) {
        const set = map.get(value);
        if (!set) continue;
        set.delete(key);
        if (set.size === 0) map.delete(value);
      }
    }
  }

  /** Keys whose field has any of the values (a fresh set). */
  lookup(field: IndexedField, values: readonly string[]): Set<string> {
    const map = this.maps.get(field) as Map<string, Set<string>>;
    if (values.length === 1) return new Set(map.get(values[0] as string));
    const out = new Set<string>();
    for (const v of values) for (const k of map.get(v) ?? []) out.add(k);
    return out;
  }

  /**
   * Keys whose field has any of the values, for one pass: the index's own set for one value (no
   * copy; do not change the index while iterating), a fresh union for several.
   */
  keys(field: IndexedField, values: readonly string[]): Iterable<string> {
    const map = this.maps.get(field) as Map<string, Set<string>>;
    if (values.length === 1) return map.get(values[0] as string) ?? [];
    return this.lookup(field, values);
  }

  /** The sets of keys holding each of the values (missing values left out), for membership tests. */
  sets(field: IndexedField, values: readonly string[]): ReadonlySet<string>[] {
    const map = this.maps.get(field) as Map<string, Set<string>>;
    const out: Set<string>[] = [];
    for (const v of values) {
      const set = map.get(v);
      if (set) out.push(set);
    }
    return out;
  }

  /** How many keys a lookup would return, without building the set. */
  lookupSize(field: IndexedField, values: readonly string[]): number {
    const map = this.maps.get(field) as Map<string, Set<string>>;
    let n = 0;
    for (const v of values) n += map.get(v)?.size ?? 0;
    return n;
  }

  /** Distinct values of a field, with how many tasks hold each. */
  values(field: IndexedField): Map<string, number> {
    const map = this.maps.get(field) as Map<string, Set<string>>;
    return new Map([...map].map(([v, s]) => [v, s.size]));
  }
}
