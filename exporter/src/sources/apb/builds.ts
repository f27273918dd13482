/**
 * The build list one endpoint keeps between refreshes: the latest listing (deduplicated: APB lists
 * a finished build twice), the status-api records read so far, which builds are new since the
 * previous listing, and which builds to read next within the detail budget.
 */
import { requestable } from '../../util/sane.js';
import { errorMessage } from '../errors.js';
import type { ApbClient } from './client.js';
import type { HeldBuild } from './endpoint.js';
import { apbPhase, isActive } from './normalize.js';
import type { BuildRecord } from './upstream.js';

/** A status-api read that failed: the build keeps its listed state (or its previous record). */
export interface RecordFailure {
  id: string;
  message: string;
}

export interface ListedBuild {
  id: string;
  status: string;
}

/**
 * How long an active build that left its list is kept, waiting for a status-api read to tell how
 * it ended: this many listings, and at most DROPPED_MAX_MS (APB's build_timeout is at most 4 h).
 */
export const DROPPED_LISTINGS = 20;
export const DROPPED_MAX_MS = 6 * 3600_000;
/** Ids of builds that left the list, remembered so one that comes back is not counted as new again. */
export const RETIRED_IDS = 10_000;

/** Which of two disagreeing copies of a build to believe: an active word, then an end word, then cancelled (which APB overwrites). */
function wordRank(status: string): number {
  if (isActive(status)) return 2;
  return status === 'cancelled' ? 0 : 1;
}

export class BuildBook<E> {
  private held = new Map<string, HeldBuild<E>>();
  /** Builds that left the list, oldest first (a Set keeps insertion order); bounded by RETIRED_IDS. */
  private readonly retired = new Set<string>();
  /** Whether a listing has succeeded once: until then every build is old news, not a new one. */
  private listedOnce = false;
  /** Ids that appeared since the previous listing, not yet handed to a poll. */
  private fresh = new Set<string>();

  constructor(private readonly idOf: (entry: E) => ListedBuild) {}

  get builds(): ReadonlyMap<string, HeldBuild<E>> {
    return this.held;
  }

  /** New ids seen since the last call (after the first listing), then forgotten. */
  takeNewIds(): string[] {
    const out = [...this.fresh];
    this.fresh.clear();
    return out;
  }

  /**
   * Take a new listing. Builds it no longer lists are dropped, except active ones, which are kept
   * (as a record-only entry) until a status-api read tells their end or that they are gone.
   */
  applyListing(entries: E[], nowMs: number = Date.now()): void {
    const next = new Map<string, HeldBuild<E>>();
    const words = new Map<string, Set<string>>();
    for (const entry of entries) {
      const { id, status } = this.idOf(entry);
      let seen = words.get(id);
      if (!seen) words.set(id, (seen = new Set()));
      seen.add(status);
      const already = next.get(id);
      // APB lists a finished build twice (active dict + history). After a cancel the copies can
      // disagree: the history copy says cancelled while the build runs on (APB does not stop it)
      // and later overwrites the word. The copy that still changes wins: active, then the end word.
      if (already?.entry !== undefined && wordRank(status) <= wordRank(this.idOf(already.entry).status)) continue;
      next.set(id, { entry });
      // A build that left a truncated list (it counts entries, and finished builds take two) can
      // come back when one above it goes away: it is not new then.
      if (this.listedOnce && !this.held.has(id) && !this.retired.has(id)) this.fresh.add(id);
    }
    for (const [id, held] of next) {
      // A completed or failed record is final: the farm's list lags its builds by a sweep (it
      // still says building), and such a build never un-finishes. A cancelled one is final only
      // when every listed copy agrees: APB does not stop a cancelled build, which runs on. An
      // active record that no copy of the listing agrees with has moved on: read it again.
      const record = this.held.get(id)?.record;
      const listed = words.get(id) ?? new Set<string>();
      if (!record) continue;
      const keep = record.status === 'cancelled' ? [...listed].every((w) => w === 'cancelled') : !isActive(record.status) || listed.has(record.status);
      if (keep) held.record = record;
    }
    for (const [id, prev] of this.held) {
      if (next.has(id)) continue;
      const status = prev.record?.status ?? (prev.entry ? this.idOf(prev.entry).status : undefined);
      const droppedFor = (prev.droppedFor ?? 0) + 1;
      const droppedAt = prev.droppedAt ?? nowMs;
      if (status !== undefined && isActive(status) && droppedFor <= DROPPED_LISTINGS && nowMs - droppedAt <= DROPPED_MAX_MS) next.set(id, { ...prev, dropped: true, droppedFor, droppedAt });
      else this.retire(id);
    }
    this.held = next;
    this.listedOnce = true;
  }

  private retire(id: string): void {
    this.retired.delete(id);
    this.retired.add(id);
    if (this.retired.size > RETIRED_IDS) this.retired.delete(this.retired.values().next().value as string);
  }

  /**
   * Builds to read with status-api, most useful first: running, then active builds the listing
   * dropped (to learn how they ended), then queued, then finished builds never read (newest first,
   * for their packages and logs).
   */
  toRead(budget: number, skip: ReadonlySet<string> = new Set()): string[] {
    const running: string[] = [];
    const queued: string[] = [];
    const dropped: string[] = [];
    const unread: string[] = [];
    for (const [id, held] of this.held) {
      // `.` and `..` cannot be asked for: URL parsing removes them from /build/{id}/status-api.
      if (skip.has(id) || !requestable(id)) continue;
      const status = held.record?.status ?? (held.entry ? this.idOf(held.entry).status : undefined);
      if (status === undefined) continue;
      if (held.dropped || !held.entry) {
        if (isActive(status)) dropped.push(id);
      }
      else if (apbPhase(status) === 'running') running.push(id);
      else if (isActive(status)) queued.push(id);
      else if (!held.record) unread.push(id);
    }
    return [...running, ...dropped, ...queued, ...unread].slice(0, budget);
  }

  /**
   * Read records for `ids`, a few at a time, each bounded by the client's request deadline. A read
   * that fails leaves the build as listed (or at its previous record) and is returned, by id.
   */
  async readRecords(client: ApbClient, ids: string[], concurrency: number, signal: AbortSignal): Promise<RecordFailure[]> {
    const failures: RecordFailure[] = [];
    let next = 0;
    const worker = async () => {
      while (next < ids.length && !signal.aborted) {
        const id = ids[next++] as string;
        try {
          this.setRecord(id, await client.buildRecord(id, signal));
        } catch (err) {
          failures.push({ id, message: errorMessage(err) });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker));
    return failures;
  }

  private setRecord(id: string, record: BuildRecord | undefined): void {
    const held = this.held.get(id);
    if (!held) return;
    if (record === undefined) {
      // 404: the upstream forgot it (restart, or history trimmed). Drop a build the listing dropped too.
      if (held.dropped || !held.entry) {
        this.held.delete(id);
        this.retire(id);
      }
      else delete held.record;
      return;
    }
    held.record = record;
  }
}
