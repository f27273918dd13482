/**
 * One shared copy of texts that many records repeat. JSON.parse makes a fresh string for every
 * value longer than a few characters, so thousands of records naming the same packager, package
 * or git directory each hold their own copy; `intern` hands back the first copy seen instead.
 * The table is bounded: once it holds `capacity` texts, new ones are returned as they are (they
 * are only not shared), so a stream of distinct texts cannot grow it without end.
 */
export class StringPool {
  private readonly table = new Map<string, string>();

  /**
   * @param capacity most texts held
   * @param minLength shorter texts are left alone (V8 already shares short parsed strings)
   * @param maxLength longer texts are left alone (rarely repeated; not worth holding)
   */
  constructor(
    readonly capacity: number,
    readonly minLength = 11,
    readonly maxLength = 256,
  ) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`string pool capacity must be a non-negative integer, got ${capacity}`);
  }

  get size(): number {
    return this.table.size;
  }

  intern(text: string): string {
    if (text.length < this.minLength || text.length > this.maxLength) return text;
    const known = this.table.get(text);
    if (known !== undefined) return known;
    if (this.table.size < this.capacity) this.table.set(text, text);
    return text;
  }
}
