/**
 * The store's query index. Every held task has a slot (a small integer); per slot the index keeps
 * the columns a query tests (kind/state code, times, numeric id, search text), and per field value
 * the slots holding it: a set for a rare value, a bitset for a common one, so a filter on two
 * common values (`state=BUILDING&repo=p11`) is a word-by-word AND instead of a walk over
 * thousands of tasks. Search texts live in chunks of CHUNK_SLOTS slots joined into one string, scanned with
 * `indexOf`: one pass over contiguous memory instead of one string per task scattered in the heap.
 */
import type { Task } from '../model/task.js';
import { buildSearchText } from './search.js';

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

/** Slots per search chunk: a chunk is rebuilt when one of its tasks changed, on the next search. */
export const CHUNK_SLOTS = 1024;
/** Between two slots' texts in a chunk; a match that crosses it is no match. */
const SLOT_SEPARATOR = '\u0000';

/**
 * The slots holding one value of a field: a set while the value is rare, a bitset (slots/8 bytes)
 * once it is common, which is smaller then and lets filters AND word by word.
 */
class Posting {
  size = 0;
  private set: Set<number> | undefined = new Set();
  bits: Uint32Array | undefined;

  add(slot: number, dense: number, capacity: number): void {
    if (this.bits) {
      if (testBit(this.bits, slot)) return;
      setBit(this.bits, slot);
    } else {
      const set = this.set as Set<number>;
      if (set.has(slot)) return;
      set.add(slot);
      if (set.size >= dense) {
        this.bits = bitsOf(set, capacity);
        this.set = undefined;
      }
    }
    this.size += 1;
  }

  /** False when the slot was not in the posting. */
  delete(slot: number, dense: number): boolean {
    if (this.bits) {
      if (!testBit(this.bits, slot)) return false;
      clearBit(this.bits, slot);
      this.size -= 1;
      // Hysteresis: back to a set well below the size that made it a bitset.
      if (this.size < dense / 2) {
        this.set = new Set(slotsOfBits(this.bits));
        this.bits = undefined;
      }
      return true;
    }
    if (!(this.set as Set<number>).delete(slot)) return false;
    this.size -= 1;
    return true;
  }

  has(slot: number): boolean {
    return this.bits ? testBit(this.bits, slot) : (this.set as Set<number>).has(slot);
  }

  slots(): Iterable<number> {
    return this.bits ? slotsOfBits(this.bits) : (this.set as Set<number>);
  }

  /** A wider bitset for more slots. */
  widen(capacity: number): void {
    if (!this.bits) return;
    const bits = new Uint32Array(capacity >>> 5);
    bits.set(this.bits);
    this.bits = bits;
  }
}

interface Chunk {
  /** The chunk's texts, each followed by SLOT_SEPARATOR, as of the last join. */
  text: string;
  /** Where each slot's text starts in `text`, plus one past the end. */
  starts: Int32Array;
  /** A slot's text changed since the join (its new text waits in pendingText). */
  stale: boolean;
}

/** A filter as the query engine gives it: one field, any of the values. */
export type IndexFilter = readonly [IndexedField, readonly string[]];

export class TaskIndex {
  private readonly postings = new Map<IndexedField, Map<string, Posting>>(INDEXED_FIELDS.map((f) => [f, new Map()]));
  private readonly slotByKey = new Map<string, number>();
  private readonly freeSlots: number[] = [];
  /** One past the highest slot ever used. */
  private high = 0;
  private capacity = 0;
  /** Slot columns. `keys[slot]` is undefined for a free slot. */
  readonly keys: (string | undefined)[] = [];
  readonly ids: string[] = [];
  readonly sources: string[] = [];
  idNum = new Float64Array(0);
  updatedMs = new Float64Array(0);
  createdMs = new Float64Array(0);
  stateSinceMs = new Float64Array(0);
  /** Code of the task's kind and state together (see kindStateCode). */
  kindState = new Uint16Array(0);
  private readonly kindStateCodes = new Map<string, number>();
  private readonly kindStates: { kind: string; state: string }[] = [];
  /** New texts of slots whose chunk has not been rebuilt yet. */
  private readonly pendingText = new Map<number, string>();
  private readonly chunks: Chunk[] = [];

  get size(): number {
    return this.slotByKey.size;
  }

  /** One past the highest slot in use: slots to scan are 0..slotLimit-1 (free ones have no key). */
  get slotLimit(): number {
    return this.high;
  }

  /** Index a task under a key not held yet (the store removes a task's old version first). */
  add(key: string, task: Task): void {
    if (this.slotByKey.has(key)) throw new Error(`TaskIndex.add: ${key} is already indexed; remove it first`);
    const slot = this.freeSlots.pop() ?? this.high++;
    if (slot >= this.capacity) this.grow();
    this.slotByKey.set(key, slot);
    this.keys[slot] = key;
    this.ids[slot] = task.id;
    this.sources[slot] = task.source;
    this.idNum[slot] = /^\d+$/.test(task.id) ? Number(task.id) : Number.NaN;
    this.updatedMs[slot] = timeMs(task.updated);
    this.createdMs[slot] = timeMs(task.created);
    this.stateSinceMs[slot] = timeMs(task.stateSince);
    this.kindState[slot] = this.kindStateCode(task.kind, task.state);
    this.setText(slot, buildSearchText(task));
    for (const field of INDEXED_FIELDS) {
      const map = this.postings.get(field) as Map<string, Posting>;
      for (const value of fieldValues(task, field)) {
        let p = map.get(value);
        if (!p) map.set(value, (p = new Posting()));
        p.add(slot, this.denseThreshold(), this.capacity);
      }
    }
  }

  remove(key: string, task: Task): void {
    const slot = this.slotByKey.get(key);
    if (slot === undefined) return;
    this.slotByKey.delete(key);
    for (const field of INDEXED_FIELDS) {
      const map = this.postings.get(field) as Map<string, Posting>;
      for (const value of fieldValues(task, field)) {
        const p = map.get(value);
        if (p && p.delete(slot, this.denseThreshold()) && p.size === 0) map.delete(value);
      }
    }
    this.keys[slot] = undefined;
    this.setText(slot, '');
    this.freeSlots.push(slot);
  }

  /** Keys whose field has any of the values (a fresh set). */
  lookup(field: IndexedField, values: readonly string[]): Set<string> {
    const map = this.postings.get(field) as Map<string, Posting>;
    const out = new Set<string>();
    for (const v of values) for (const slot of map.get(v)?.slots() ?? []) out.add(this.keys[slot] as string);
    return out;
  }

  /** How many keys a lookup would return (a task with two of the values counts twice), without building the set. */
  lookupSize(field: IndexedField, values: readonly string[]): number {
    const map = this.postings.get(field) as Map<string, Posting>;
    let n = 0;
    for (const v of values) n += map.get(v)?.size ?? 0;
    return n;
  }

  /** Distinct values of a field, with how many tasks hold each. */
  values(field: IndexedField): Map<string, number> {
    const map = this.postings.get(field) as Map<string, Posting>;
    return new Map([...map].map(([v, p]) => [v, p.size]));
  }

  /** The kind and state of a kindState code. */
  kindStateOf(code: number): { kind: string; state: string } {
    return this.kindStates[code] as { kind: string; state: string };
  }

  /** How many kind/state codes exist (codes are 0..count-1). */
  get kindStateCount(): number {
    return this.kindStates.length;
  }

  /**
   * Slots passing every filter (each: any of its values), in no particular order. The filter
   * with the fewest tasks is walked and the others tested by membership, unless every filter is
   * common: then their bitsets are ANDed.
   */
  matching(filters: readonly IndexFilter[]): number[] {
    const out: number[] = [];
    if (filters.length === 0) {
      for (let slot = 0; slot < this.high; slot += 1) if (this.keys[slot] !== undefined) out.push(slot);
      return out;
    }
    const byField = filters
      .map(([field, values]) => {
        const map = this.postings.get(field) as Map<string, Posting>;
        const ps = [...new Set(values)].map((v) => map.get(v)).filter((p): p is Posting => p !== undefined);
        return { ps, size: ps.reduce((n, p) => n + p.size, 0) };
      })
      .sort((a, b) => a.size - b.size);
    const smallest = byField[0] as { ps: Posting[]; size: number };
    if (smallest.size === 0) return out;
    const rest = byField.slice(1);
    const dense = smallest.size >= this.denseThreshold() && byField.every((f) => f.ps.every((p) => p.bits !== undefined));
    if (dense) {
      const words = (this.high + 31) >>> 5;
      const acc = orBits(smallest.ps, words);
      for (const f of rest) {
        const other = orBits(f.ps, words);
        for (let w = 0; w < words; w += 1) (acc as Uint32Array)[w] = (acc[w] as number) & (other[w] as number);
      }
      for (let w = 0; w < words; w += 1) {
        let word = acc[w] as number;
        while (word !== 0) {
          const low = word & -word;
          out.push((w << 5) + 31 - Math.clz32(low));
          word ^= low;
        }
      }
      return out;
    }
    const walk = smallest.ps.length === 1 ? (smallest.ps[0] as Posting).slots() : new Set(smallest.ps.flatMap((p) => [...p.slots()]));
    outer: for (const slot of walk) {
      for (const f of rest) if (!f.ps.some((p) => p.has(slot))) continue outer;
      out.push(slot);
    }
    return out;
  }

  /** Whether every term is in the slot's search text. */
  textHasAll(slot: number, terms: readonly string[]): boolean {
    const chunk = this.chunkOf(slot);
    const i = slot % CHUNK_SLOTS;
    // A slice shares the chunk's characters: no copy.
    const text = chunk.text.slice(chunk.starts[i], (chunk.starts[i + 1] as number) - 1);
    for (const term of terms) if (!text.includes(term)) return false;
    return true;
  }

  /**
   * Slots whose search text holds every term, scanning the chunks for the first term and checking
   * the others on each hit. `terms` longest first (the rarest, most likely).
   */
  searchAll(terms: readonly string[]): number[] {
    const out: number[] = [];
    const first = terms[0] as string;
    const others = terms.slice(1);
    for (let c = 0; c * CHUNK_SLOTS < this.high; c += 1) {
      const chunk = this.chunkOf(c * CHUNK_SLOTS);
      const text = chunk.text;
      const starts = chunk.starts;
      let at = text.indexOf(first);
      while (at !== -1) {
        // The slot whose text holds position `at`: the last start at or before it.
        let lo = 0;
        let hi = CHUNK_SLOTS - 1;
        while (lo < hi) {
          const mid = (lo + hi + 1) >>> 1;
          if ((starts[mid] as number) <= at) lo = mid;
          else hi = mid - 1;
        }
        const end = starts[lo + 1] as number;
        const slot = c * CHUNK_SLOTS + lo;
        if (at + first.length <= end - 1 && this.keys[slot] !== undefined && (others.length === 0 || this.textHasAll(slot, others))) out.push(slot);
        at = text.indexOf(first, Math.max(end, at + 1));
      }
    }
    return out;
  }

  private kindStateCode(kind: string, state: string): number {
    const name = `${kind}\u0000${state}`;
    let code = this.kindStateCodes.get(name);
    if (code === undefined) {
      code = this.kindStates.length;
      if (code > 0xffff) throw new Error('more than 65,536 kind/state pairs: a source reports a state word per task');
      this.kindStateCodes.set(name, code);
      this.kindStates.push({ kind, state });
    }
    return code;
  }

  /** Tasks a value must hold to keep a bitset: 1/64 of the slots, at least 64 (a bitset costs slots/8 bytes). */
  private denseThreshold(): number {
    return Math.max(64, this.capacity >>> 6);
  }

  private grow(): void {
    const capacity = Math.max(CHUNK_SLOTS, this.capacity * 2);
    const widen = <T extends Float64Array | Uint16Array>(old: T, make: (n: number) => T, fill?: number): T => {
      const next = make(capacity);
      next.set(old);
      if (fill !== undefined) next.fill(fill, old.length);
      return next;
    };
    this.idNum = widen(this.idNum, (n) => new Float64Array(n), Number.NaN);
    this.updatedMs = widen(this.updatedMs, (n) => new Float64Array(n), Number.NaN);
    this.createdMs = widen(this.createdMs, (n) => new Float64Array(n), Number.NaN);
    this.stateSinceMs = widen(this.stateSinceMs, (n) => new Float64Array(n), Number.NaN);
    this.kindState = widen(this.kindState, (n) => new Uint16Array(n));
    for (const map of this.postings.values()) for (const p of map.values()) p.widen(capacity);
    this.capacity = capacity;
  }

  private setText(slot: number, text: string): void {
    this.pendingText.set(slot, text);
    const c = Math.floor(slot / CHUNK_SLOTS);
    // A new chunk holds empty texts: CHUNK_SLOTS separators.
    while (this.chunks.length <= c) this.chunks.push({ text: SLOT_SEPARATOR.repeat(CHUNK_SLOTS), starts: Int32Array.from({ length: CHUNK_SLOTS + 1 }, (_, i) => i), stale: false });
    (this.chunks[c] as Chunk).stale = true;
  }

  /** The chunk of a slot, joined again if one of its slots changed. */
  private chunkOf(slot: number): Chunk {
    const c = Math.floor(slot / CHUNK_SLOTS);
    const chunk = this.chunks[c] as Chunk;
    if (!chunk.stale) return chunk;
    const { text: before, starts: old } = chunk;
    const parts: string[] = [];
    const starts = new Int32Array(CHUNK_SLOTS + 1);
    let at = 0;
    for (let i = 0; i < CHUNK_SLOTS; i += 1) {
      const s = c * CHUNK_SLOTS + i;
      let text = this.pendingText.get(s);
      if (text === undefined) text = before.slice(old[i], (old[i + 1] as number) - 1);
      else this.pendingText.delete(s);
      starts[i] = at;
      parts.push(text, SLOT_SEPARATOR);
      at += text.length + 1;
    }
    starts[CHUNK_SLOTS] = at;
    chunk.text = parts.join('');
    chunk.starts = starts;
    chunk.stale = false;
    return chunk;
  }
}

function timeMs(iso: string | undefined): number {
  return iso === undefined ? Number.NaN : Date.parse(iso);
}

function setBit(bits: Uint32Array, slot: number): void {
  bits[slot >>> 5] = (bits[slot >>> 5] as number) | (1 << (slot & 31));
}

function clearBit(bits: Uint32Array, slot: number): void {
  bits[slot >>> 5] = (bits[slot >>> 5] as number) & ~(1 << (slot & 31));
}

function testBit(bits: Uint32Array, slot: number): boolean {
  return ((bits[slot >>> 5] as number) & (1 << (slot & 31))) !== 0;
}

function bitsOf(slots: Iterable<number>, capacity: number): Uint32Array {
  const bits = new Uint32Array(capacity >>> 5);
  for (const s of slots) setBit(bits, s);
  return bits;
}

function* slotsOfBits(bits: Uint32Array): Generator<number> {
  for (let w = 0; w < bits.length; w += 1) {
    let word = bits[w] as number;
    while (word !== 0) {
      const low = word & -word;
      yield (w << 5) + 31 - Math.clz32(low);
      word ^= low;
    }
  }
}

/** The union of postings that all have bitsets, over the first `words` words. */
function orBits(ps: readonly Posting[], words: number): Uint32Array {
  const out = new Uint32Array(words);
  for (const p of ps) {
    const bits = p.bits as Uint32Array;
    for (let w = 0; w < words; w += 1) out[w] = (out[w] as number) | (bits[w] as number);
  }
  return out;
}
