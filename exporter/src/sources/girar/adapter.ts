/**
 * The girar source over taskoteka: one list request per poll, info.json details for new and
 * changed tasks within a budget, and SSE-triggered refreshes between polls.
 */
import type { Task } from '../../model/task.js';
import { Cancelled, deadline } from '../../util/deadline.js';
import { jsonEqual } from '../../util/json-equal.js';
import { SourceError, UpstreamHttpError, errorMessage } from '../errors.js';
import type { Delta, PollResult, RefreshHint, RestoredRecords, SourceAdapter, SourceContext, StreamSink } from '../source.js';
import { TaskotekaClient } from './client.js';
import { settleWithLimit } from './concurrency.js';
import { parseDuration } from '../../util/duration.js';
import type { GirarTaskotekaConfig } from './config.js';
import type { TaskotekaCompatBackend } from './compat-backend.js';
import { normalizeTask } from './normalize.js';
import { internStrings, shareStrings } from './share-strings.js';
import { TaskotekaUpstreamBackend } from './taskoteka-backend.js';
import { checkTaskDetail, checkTaskListItem, type TaskDetail, type TaskListItem } from './upstream.js';

interface ItemEntry {
  /** Compared with the next list's item by value (jsonEqual), so no JSON text of it is kept. */
  item: TaskListItem;
  /** Sequence number of the observation at which this item last changed. */
  changedAt: number;
}

interface DetailEntry {
  detail: TaskDetail;
  /** Observation sequence number (orders list reads and detail fetches). */
  fetchedAt: number;
  /** Clock time of the fetch, for re-fetching the details of running tasks. */
  fetchedMs: number;
}

/** States whose per-arch results change without the list item changing. */
const BUILDING_STATES: ReadonlySet<string> = new Set(['BUILDING', 'FAILING', 'COMMITTING']);
/** With a live stream, taskoteka announces detail changes; without one, running tasks are re-read every poll. */
const RUNNING_DETAIL_MAX_AGE_MS = { streaming: 300_000, polling: 0 };

/** Adapter state and I/O for one configured girar source. */
export class GirarTaskotekaAdapter implements SourceAdapter {
  private readonly client: TaskotekaClient;
  private readonly items = new Map<string, ItemEntry>();
  private readonly details = new Map<string, DetailEntry>();
  private readonly normalized = new Map<string, { item: ItemEntry | undefined; detail: DetailEntry | undefined; stale: boolean; task: Task }>();
  /**
   * What the journal kept, for tasks it kept without a current detail (the list item was their
   * `native`): the record the earlier run built, served again while the list item is unchanged
   * and no detail has been fetched yet, so a restart changes nothing until the upstream does.
   */
  private readonly held = new Map<string, { item: TaskListItem; task: Task }>();
  /** Details seeded from the journal: they count as fresh only for a list item that agrees with them. */
  private readonly restoredDetails = new Set<string>();
  /** Orders list observations and detail fetches, to tell which of the two is newer. */
  private seq = 0;
  /** `seq` when the previous poll finished: details fetched after it came from stream refreshes. */
  private lastPollDoneAt = 0;
  private streamConnected = false;
  /** Counts stream connections: a list requested within the same connection missed no event. */
  private streamEpoch = 0;
  /** Clock time the last full list was requested (NaN before the first). */
  private listRequestedMs = Number.NaN;
  /** `streamEpoch` when the last list was requested with the stream up (-1: it was down). */
  private listEpoch = -1;
  private readonly resyncMs: number;
  /** What the taskoteka-compatible API asks of this source beyond the store. */
  private readonly compat: TaskotekaUpstreamBackend;

  constructor(
    private readonly config: GirarTaskotekaConfig,
    private readonly ctx: SourceContext,
  ) {
    this.client = new TaskotekaClient(ctx.http, {
      url: config.url,
      maxBodyBytes: config.max_body_bytes,
      ...(config.headers ? { headers: config.headers } : {}),
    });
    this.compat = new TaskotekaUpstreamBackend(this.client, config.time_zone, ctx.clock);
    // Validated at config load (1s..1d); a config built in code without it resyncs every poll.
    this.resyncMs = (parseDuration(config.resync_interval ?? '0s') ?? 0) * 1000;
  }

  /** The backend of `/compat/taskoteka/<source>/` for this source (see taskoteka-backend.ts). */
  compatBackend(): TaskotekaCompatBackend {
    return this.compat;
  }

  /**
   * Pick up what the earlier run knew: a kept task whose `native` is a detail seeds the detail
   * cache (fetched "before" the first list, and fresh only if the list item agrees with it), so
   * tasks beyond `detail_budget` are rebuilt with their per-arch results instead of from the list
   * item alone. A kept task built from its list item is served as kept while that item is unchanged.
   * Details of running tasks count as aged, so they are re-read first as before a restart.
   */
  restore(held: RestoredRecords): void {
    for (const task of held.tasks) {
      if (task.kind !== 'girar') continue;
      if (checkTaskDetail.Check(task.native) && String(task.native.taskid) === task.id) {
        internStrings(task.native);
        this.details.set(task.id, { detail: task.native, fetchedAt: ++this.seq, fetchedMs: 0 });
        this.restoredDetails.add(task.id);
      } else if (checkTaskListItem.Check(task.native)) {
        this.held.set(task.id, { item: task.native, task });
      }
    }
  }

  async poll(signal: AbortSignal): Promise<PollResult> {
    // Details are optional work: stop starting them at 70% of the poll deadline (counted from
    // the start of the poll) so the list, which is complete, still lands; what is left is
    // fetched by the next polls.
    const budget = deadline(this.ctx.pollTimeoutSeconds * 700, signal, () => new Cancelled(`task details past 70% of the ${this.ctx.pollTimeoutSeconds}s poll deadline`));
    try {
      return await this.pollWithin(signal, budget.signal);
    } finally {
      budget.clear();
    }
  }

  /**
   * Whether this poll may skip the full list: the stream was already up, in the same connection,
   * when the last list was requested, so every change since that list was announced and
   * refreshed; and that list is younger than `resync_interval`. Reading an unchanged list of 100,000 tasks costs the
   * exporter (and taskoteka) seconds of CPU; the stream makes it a safety net.
   */
  private listIsCurrent(now: number): boolean {
    return this.streamConnected && this.listEpoch === this.streamEpoch && now - this.listRequestedMs < this.resyncMs;
  }

  private async pollWithin(signal: AbortSignal, detailSignal: AbortSignal): Promise<PollResult> {
    const now = this.ctx.clock.now();
    if (this.listIsCurrent(now)) {
      // Still a real poll: taskoteka must answer (a failure fails the poll, as a failed list
      // would), and hold as many tasks as the stream has told us of, or the list is read now.
      const health = await this.client.health(signal);
      if (health.total_tasks === this.knownTaskCount()) return this.pollDetails(detailSignal);
      this.ctx.log.debug({ source: this.ctx.name, upstream: health.total_tasks, known: this.knownTaskCount() }, 'taskoteka holds a different number of tasks than the stream told of: reading the list');
    }
    this.listRequestedMs = now;
    this.listEpoch = this.streamConnected ? this.streamEpoch : -1;
    const list = await this.client.listTasks(signal);
    const listedAt = ++this.seq;
    const seen = new Set<string>();
    for (const item of list.items) {
      const id = String(item.id);
      seen.add(id);
      const prev = this.items.get(id);
      // Compared structurally, not by serializing: an unchanged poll of a large farm is mostly this loop.
      if (!prev || !jsonEqual(prev.item, item)) {
        // A detail fetched since the previous list (a stream refresh) that agrees with the new
        // item already describes it: fetching it again would double every streamed change.
        const d = this.details.get(id);
        const agrees = d !== undefined && d.fetchedAt > this.lastPollDoneAt && d.detail.state === item.state && d.detail.try === item.try && d.detail.iter === item.iter;
        // A detail kept by the journal must agree with everything the item says: the item may
        // have changed in any way while the exporter was down.
        const kept = this.restoredDetails.delete(id);
        if (d) shareStrings(item, d.detail);
        else internStrings(item);
        this.items.set(id, { item, changedAt: agrees && (!kept || itemAgreesWithDetail(item, d.detail)) ? d.fetchedAt : listedAt });
      }
    }
    const observedAt = this.ctx.clock.now();
    this.compat.observeList(list, observedAt);
    for (const id of [...this.items.keys()]) if (!seen.has(id)) this.forget(id);
    for (const id of [...this.details.keys()]) if (!seen.has(id)) this.forget(id);

    const wanted = this.detailsWanted();
    await this.fetchDetails(wanted, detailSignal);
    if (signal.aborted) {
      throw new SourceError('timeout', `girar poll of ${this.ctx.name} was cut short while fetching task details`);
    }
    if (detailSignal.aborted) {
      const missing = wanted.filter((id) => (this.details.get(id)?.fetchedAt ?? 0) < listedAt).length;
      this.ctx.log.info({ source: this.ctx.name, missing }, `fetched task details until 70% of the ${this.ctx.pollTimeoutSeconds}s poll deadline; the other ${missing} follow on the next polls`);
    }

    this.lastPollDoneAt = this.seq;
    const tasks = [...this.items.keys()].map((id) => this.task(id));
    // A stream refresh that landed after the list request knows tasks the list could not;
    // leaving them out would make the store drop and re-add them.
    for (const [id, d] of this.details) if (!this.items.has(id) && d.fetchedAt > listedAt) tasks.push(this.task(id));
    return {
      type: 'snapshot',
      tasks,
      upstream: {
        ...(list.version ? { version: list.version } : {}),
        ...(list.cacheAgeSeconds !== undefined ? { cacheAgeSeconds: list.cacheAgeSeconds, observedAt } : {}),
      },
    };
  }

  /** Tasks known from the last list plus those the stream announced since. */
  private knownTaskCount(): number {
    let n = this.items.size;
    for (const id of this.details.keys()) if (!this.items.has(id)) n += 1;
    return n;
  }

  /**
   * A poll between full lists while the stream is live: only the details the stream cannot
   * announce (running tasks' per-arch results past their age), as a delta of what they changed.
   */
  private async pollDetails(detailSignal: AbortSignal): Promise<Delta> {
    const before = this.seq;
    const wanted = this.detailsWanted();
    await this.fetchDetails(wanted, detailSignal);
    this.lastPollDoneAt = this.seq;
    const tasks: Task[] = [];
    for (const id of wanted) if ((this.details.get(id)?.fetchedAt ?? 0) > before) tasks.push(this.task(id));
    return { type: 'delta', tasks };
  }

  async stream(signal: AbortSignal, sink: StreamSink): Promise<void> {
    try {
      await this.follow(signal, sink);
    } finally {
      this.streamConnected = false;
    }
  }

  private async follow(signal: AbortSignal, sink: StreamSink): Promise<void> {
    const opened = () => {
      this.streamConnected = true;
      this.streamEpoch += 1;
      sink.connected();
    };
    for await (const ev of this.client.events(signal, opened)) {
      sink.alive();
      switch (ev.type) {
        case 'task_new':
        case 'task_updated':
          sink.refresh({ taskIds: [String(ev.id)] });
          break;
        case 'task_removed':
          // With --archive-dir taskoteka would still answer GET /tasks/{id} from the archive, so
          // a removal is applied as such, not re-fetched.
          sink.refresh({ taskIds: [], removedTaskIds: [String(ev.id)] });
          break;
        case 'reconnect':
          this.ctx.log.debug({ source: this.ctx.name, reason: ev.reason }, 'taskoteka asked to reconnect the event stream');
          return;
        default:
          break;
      }
    }
  }

  async refresh(hint: RefreshHint, signal: AbortSignal): Promise<Delta> {
    const gone = [...new Set(hint.removedTaskIds ?? [])];
    for (const id of gone) {
      this.forget(id);
    }
    const ids = [...new Set(hint.taskIds)].filter((id) => !gone.includes(id));
    const results = await settleWithLimit(ids, this.config.detail_concurrency, signal, (id) => this.client.getTask(id, signal));
    const tasks: Task[] = [];
    const removedTaskIds: string[] = [...gone];
    const failures: unknown[] = [];
    results.forEach((r, i) => {
      const id = ids[i] as string;
      if (r.status === 'rejected') {
        failures.push(r.reason);
        this.ctx.log.debug({ source: this.ctx.name, taskId: id, err: errorMessage(r.reason) }, 'girar task refresh failed');
      } else if (r.value === undefined) {
        removedTaskIds.push(id);
        this.forget(id);
      } else {
        this.adoptDetail(id, r.value);
        this.details.set(id, { detail: r.value, fetchedAt: ++this.seq, fetchedMs: this.ctx.clock.now() });
        tasks.push(this.task(id));
      }
    });
    // Only a refresh that learnt nothing is an error; partial answers still help, and the
    // next full poll repairs whatever was missed.
    if (failures.length > 0 && tasks.length === 0 && removedTaskIds.length === 0) throw failures[0];
    return { type: 'delta', tasks, removedTaskIds };
  }

  /**
   * Details to fetch this poll, capped by the budget: new or changed unfinished tasks (newest id
   * first), then new or changed DONE tasks, then running tasks whose detail has aged (their
   * per-arch results change while the list item does not; every poll without a live stream,
   * every 5 minutes with one).
   */
  private detailsWanted(): string[] {
    const changed: { id: string; done: boolean; num: number }[] = [];
    const aged: { id: string; fetchedMs: number }[] = [];
    const maxAge = this.streamConnected ? RUNNING_DETAIL_MAX_AGE_MS.streaming : RUNNING_DETAIL_MAX_AGE_MS.polling;
    const now = this.ctx.clock.now();
    for (const [id, entry] of this.items) {
      const d = this.details.get(id);
      if (!d || d.fetchedAt < entry.changedAt) changed.push({ id, done: entry.item.state === 'DONE', num: entry.item.id });
      else if (BUILDING_STATES.has(entry.item.state) && now - d.fetchedMs >= maxAge) aged.push({ id, fetchedMs: d.fetchedMs });
    }
    changed.sort((a, b) => (a.done === b.done ? b.num - a.num : a.done ? 1 : -1));
    aged.sort((a, b) => a.fetchedMs - b.fetchedMs);
    return [...changed.map((c) => c.id), ...aged.map((a) => a.id)].slice(0, this.config.detail_budget);
  }

  /**
   * Fetch details with bounded concurrency. A 429 or 503 stops the rest of the batch (the
   * upstream asked us to back off; the next poll continues); failures are summed up in one
   * warning per poll, never dropped silently.
   */
  private async fetchDetails(ids: string[], signal: AbortSignal): Promise<void> {
    const batch = new AbortController();
    const onAbort = () => batch.abort(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    const failures = new Map<string, number>();
    let firstFailure = '';
    try {
      const results = await settleWithLimit(ids, this.config.detail_concurrency, batch.signal, async (id) => {
        try {
          return await this.client.getTask(id, batch.signal);
        } catch (err) {
          if (err instanceof UpstreamHttpError && (err.status === 429 || err.status === 503)) batch.abort(new Cancelled(`taskoteka answered HTTP ${err.status} to a task detail`));
          throw err;
        }
      });
      results.forEach((r, i) => {
        const id = ids[i] as string;
        if (r.status === 'fulfilled' && r.value) {
          this.adoptDetail(id, r.value);
          this.details.set(id, { detail: r.value, fetchedAt: ++this.seq, fetchedMs: this.ctx.clock.now() });
        } else if (r.status === 'fulfilled') {
          // Gone between the list and the detail request: the next list drops it.
          this.ctx.log.debug({ taskId: id }, 'girar task vanished before its detail was fetched');
        } else if (!signal.aborted && !(r.reason instanceof Cancelled) && !(r.reason instanceof SourceError && r.reason.code === 'canceled')) {
          const code = r.reason instanceof SourceError ? r.reason.code : 'internal';
          failures.set(code, (failures.get(code) ?? 0) + 1);
          if (!firstFailure) firstFailure = `task ${id}: ${errorMessage(r.reason)}`;
        }
      });
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    if (failures.size > 0 || (batch.signal.aborted && !signal.aborted)) {
      const reason: unknown = batch.signal.reason;
      this.ctx.log.warn(
        { failed: Object.fromEntries(failures), ...(batch.signal.aborted && !signal.aborted ? { stopped: errorMessage(reason) } : {}) },
        `some girar task details could not be fetched; those tasks keep their previous detail and are retried next poll (first: ${firstFailure || errorMessage(reason)})`,
      );
    }
  }

  /**
   * The normalized task, reused while neither its list item nor its detail changed: the store
   * recognizes the same object and skips it without serializing it, so an unchanged poll is cheap.
   */
  private task(id: string): Task {
    const entry = this.items.get(id);
    const d = this.details.get(id);
    const stale = d !== undefined && entry !== undefined && d.fetchedAt < entry.changedAt;
    const cached = this.normalized.get(id);
    if (cached && cached.item === entry && cached.detail === d && cached.stale === stale) return cached.task;
    const held = this.held.get(id);
    if (held) {
      this.held.delete(id);
      if (entry && !d && jsonEqual(held.item, entry.item)) {
        this.normalized.set(id, { item: entry, detail: d, stale, task: held.task });
        return held.task;
      }
    }
    const task = normalizeTask(this.ctx.name, entry?.item, d?.detail, { taskUrl: this.config.task_url, timeZone: this.config.time_zone, detailStale: stale });
    this.normalized.set(id, { item: entry, detail: d, stale, task });
    return task;
  }

  /** A fetched detail shares recurring texts with other tasks and the rest with its list item (see share-strings.ts). */
  private adoptDetail(id: string, detail: TaskDetail): void {
    internStrings(detail);
    const entry = this.items.get(id);
    if (entry) shareStrings(entry.item, detail);
  }

  private forget(id: string): void {
    this.held.delete(id);
    this.restoredDetails.delete(id);
    this.items.delete(id);
    this.details.delete(id);
    this.normalized.delete(id);
  }
}


/** Task fields both a list item and a detail carry. */
const SHARED_KEYS = ['state', 'repo', 'owner', 'try', 'iter', 'message', 'test_only', 'fail_early', 'build_time'] as const;

/**
 * The list item says nothing the detail does not: the same task fields, the same subtasks, and
 * every subtask field the item lists equal in the detail (a detail has more, e.g. `build`).
 */
function itemAgreesWithDetail(item: TaskListItem, detail: TaskDetail): boolean {
  for (const key of SHARED_KEYS) if (item[key] !== detail[key]) return false;
  const listed = item.subtasks ?? {};
  const detailed = detail.subtasks ?? {};
  const keys = Object.keys(listed);
  if (keys.length !== Object.keys(detailed).length) return false;
  for (const key of keys) {
    const a = listed[key];
    const b = detailed[key];
    if (!a || !b) return false;
    for (const [field, value] of Object.entries(a)) {
      if (JSON.stringify(value) !== JSON.stringify((b as Record<string, unknown>)[field])) return false;
    }
  }
  return true;
}
