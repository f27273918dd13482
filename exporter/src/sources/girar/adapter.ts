/**
 * The girar source over taskoteka: one list request per poll, info.json details for new and
 * changed tasks within a budget, and SSE-triggered refreshes between polls.
 */
import type { Task } from '../../model/task.js';
import { Cancelled, deadline } from '../../util/deadline.js';
import { SourceError, errorMessage } from '../errors.js';
import type { Delta, RefreshHint, Snapshot, SourceAdapter, SourceContext, StreamSink } from '../source.js';
import { TaskotekaClient } from './client.js';
import { settleWithLimit } from './concurrency.js';
import type { GirarConfig } from './config.js';
import { normalizeTask } from './normalize.js';
import type { TaskDetail, TaskListItem } from './upstream.js';

interface ItemEntry {
  item: TaskListItem;
  raw: string;
  /** Sequence number of the observation at which this item last changed. */
  changedAt: number;
}

interface DetailEntry {
  detail: TaskDetail;
  fetchedAt: number;
}

/** Adapter state and I/O for one configured girar source. */
export class GirarTaskotekaAdapter implements SourceAdapter {
  private readonly client: TaskotekaClient;
  private readonly items = new Map<string, ItemEntry>();
  private readonly details = new Map<string, DetailEntry>();
  private readonly normalized = new Map<string, { item: ItemEntry | undefined; detail: DetailEntry | undefined; stale: boolean; task: Task }>();
  /** Orders list observations and detail fetches, to tell which of the two is newer. */
  private seq = 0;

  constructor(
    private readonly config: GirarConfig,
    private readonly ctx: SourceContext,
  ) {
    this.client = new TaskotekaClient(ctx.http, {
      url: config.url,
      maxBodyBytes: config.max_body_bytes,
      ...(config.headers ? { headers: config.headers } : {}),
    });
  }

  async poll(signal: AbortSignal): Promise<Snapshot> {
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

  private async pollWithin(signal: AbortSignal, detailSignal: AbortSignal): Promise<Snapshot> {
    const list = await this.client.listTasks(signal);
    const listedAt = ++this.seq;
    const seen = new Set<string>();
    for (const item of list.items) {
      const id = String(item.id);
      seen.add(id);
      const raw = JSON.stringify(item);
      const prev = this.items.get(id);
      if (!prev || prev.raw !== raw) this.items.set(id, { item, raw, changedAt: listedAt });
    }
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

    const tasks = [...this.items.keys()].map((id) => this.task(id));
    // A stream refresh that landed after the list request knows tasks the list could not;
    // leaving them out would make the store drop and re-add them.
    for (const [id, d] of this.details) if (!this.items.has(id) && d.fetchedAt > listedAt) tasks.push(this.task(id));
    return {
      type: 'snapshot',
      tasks,
      upstream: {
        ...(list.version ? { version: list.version } : {}),
        ...(list.cacheAgeSeconds !== undefined ? { cacheAgeSeconds: list.cacheAgeSeconds } : {}),
      },
    };
  }

  async stream(signal: AbortSignal, sink: StreamSink): Promise<void> {
    for await (const ev of this.client.events(signal, () => sink.connected())) {
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
        this.details.set(id, { detail: r.value, fetchedAt: ++this.seq });
        tasks.push(this.task(id));
      }
    });
    // Only a refresh that learnt nothing is an error; partial answers still help, and the
    // next full poll repairs whatever was missed.
    if (failures.length > 0 && tasks.length === 0 && removedTaskIds.length === 0) throw failures[0];
    return { type: 'delta', tasks, removedTaskIds };
  }

  /** New or changed items first by priority: unfinished before DONE, newest id first; capped by the budget. */
  private detailsWanted(): string[] {
    const wanted: { id: string; done: boolean; num: number }[] = [];
    for (const [id, entry] of this.items) {
      const d = this.details.get(id);
      if (!d || d.fetchedAt < entry.changedAt) wanted.push({ id, done: entry.item.state === 'DONE', num: entry.item.id });
    }
    wanted.sort((a, b) => (a.done === b.done ? b.num - a.num : a.done ? 1 : -1));
    return wanted.slice(0, this.config.detail_budget).map((w) => w.id);
  }

  private async fetchDetails(ids: string[], signal: AbortSignal): Promise<void> {
    const results = await settleWithLimit(ids, this.config.detail_concurrency, signal, (id) => this.client.getTask(id, signal));
    results.forEach((r, i) => {
      const id = ids[i] as string;
      if (r.status === 'fulfilled' && r.value) {
        this.details.set(id, { detail: r.value, fetchedAt: ++this.seq });
      } else if (r.status === 'fulfilled') {
        // Gone between the list and the detail request: the next list drops it.
        this.ctx.log.debug({ source: this.ctx.name, taskId: id }, 'girar task vanished before its detail was fetched');
      } else if (!signal.aborted) {
        this.ctx.log.debug({ source: this.ctx.name, taskId: id, err: errorMessage(r.reason) }, 'girar task detail fetch failed; keeping the previous detail');
      }
    });
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
    const task = normalizeTask(this.ctx.name, entry?.item, d?.detail, { taskUrl: this.config.task_url, detailStale: stale });
    this.normalized.set(id, { item: entry, detail: d, stale, task });
    return task;
  }

  private forget(id: string): void {
    this.items.delete(id);
    this.details.delete(id);
    this.normalized.delete(id);
  }
}
