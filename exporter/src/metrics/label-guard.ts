/**
 * Keeps label values that come from upstreams (native states, repos, arches, versions) bounded:
 * a broken or hostile upstream inventing a new value per task must not create a series per task.
 * Per source and label, the first `maxPerScope` distinct values are exported as they are; any
 * later one, and any value too long or with control characters, is exported as `other`. A value
 * keeps its fate for the life of the process, so incremental counts stay consistent.
 */
export const OTHER = 'other';

export class LabelGuard {
  private readonly admitted = new Map<string, Set<string>>();
  /** Scopes whose values are fixed by config (an allowlist): any other value is `other`. */
  private readonly fixed = new Map<string, ReadonlySet<string>>();

  constructor(
    private readonly maxPerScope = 100,
    /** Other limits for some labels, e.g. `worker`, whose values the sources cap themselves. */
    private readonly perLabel: Readonly<Record<string, number>> = {},
  ) {}

  label(source: string, name: string, value: string): string {
    if (value.length > 80 || /[\u0000-\u001f\u007f]/.test(value)) return OTHER;
    const scope = `${source}\u0000${name}`;
    const allowed = this.fixed.get(scope);
    if (allowed) return allowed.has(value) ? value : OTHER;
    let set = this.admitted.get(scope);
    if (!set) this.admitted.set(scope, (set = new Set()));
    if (set.has(value)) return value;
    if (set.size >= (this.perLabel[name] ?? this.maxPerScope)) return OTHER;
    set.add(value);
    return value;
  }

  /** Export only these values of one source's label (e.g. Koji's `methods` list); any other is `other`. */
  restrict(source: string, name: string, values: Iterable<string>): void {
    this.fixed.set(`${source}\u0000${name}`, new Set(values));
  }

  /** Forget a removed source's values. */
  forget(source: string): void {
    for (const map of [this.admitted, this.fixed]) for (const scope of [...map.keys()]) if (scope.startsWith(`${source}\u0000`)) map.delete(scope);
  }
}
