/**
 * The `koji` adapter. Each poll sends two multiCalls to the hub:
 * 1. status: getLastEvent, unfinished task counts per state, listHosts, listChannels, builds in
 *    progress, the repo queue (README "What is polled");
 * 2. changes: tasks created, started and completed since the newest time already seen, the
 *    ASSIGNED ones, a rolling re-read of unfinished tasks, builds created and completed since,
 *    and the hosts of each channel every `channels_interval`.
 * The first poll instead reads what is unfinished and what finished within `look_back`: that is
 * the baseline, shown but not counted. After it, a task or build never seen before whose
 * creation, start or end is after the baseline is new (`newTaskIds`), so a task that starts and
 * ends between two polls still counts once. Event ids going back mean a new hub database.
 */
import type { Agent } from 'undici';
import type { Worker } from '../../model/worker.js';
import { parseDuration } from '../../util/duration.js';
import { SourceError, UpstreamPayloadError } from '../errors.js';
import type { EndpointHealth, SourceProblems } from '../health.js';
import { ProblemTracker, type RecordProblem } from '../problem-tracker.js';
import { toErrorInfo } from '../runner.js';
import type { RestoredRecords, Snapshot, SourceContext, UpstreamFigure } from '../source.js';
import * as calls from './calls.js';
import { checkedList, KojiClient, KojiFaultError, type KojiCall } from './client.js';
import { webBase, type KojiConfig } from './config.js';
import { hostHealth, KOJI_KIND, kojiWorker } from './normalize.js';
import { TaskBook, type BookContext } from './task-book.js';
import { tlsAgent } from './tls.js';
import { checkBuild, checkChannel, checkHost, checkLastEvent, checkTask, TASK_STATE, type KojiChannel, type KojiEvent, type KojiHost } from './upstream.js';
import { describe, isStruct, KOJI_FAULTS, type MultiCallResult, type XmlRpcValue } from './xmlrpc.js';

/** Builds still building re-read by id per poll at most (getBuild each). */
const BUILD_AUDIT = 20;
/** Channels whose hosts are read (one listHosts each) at most. */
const MAX_CHANNELS = 100;

type Listing = 'created' | 'started' | 'completed' | 'buildsCreated' | 'buildsCompleted';

/**
 * Where an incremental listing stands: the newest time seen, and whether its last page was full.
 * After a full page the next one starts exactly at that time, without the overlap, skipping the
 * `atTs` rows of that very time already read (rows a transaction wrote share its NOW()).
 */
interface Mark {
  ts: number;
  full: boolean;
  atTs: number;
}

/** Hub times further ahead of the exporter's clock than this are nonsense (a broken clock, a bad row), not skew: they never move a mark. */
const MAX_AHEAD_S = 3600;

/** One call of the changes multiCall and what to do with its answer. */
interface Job {
  call: KojiCall;
  take(result: XmlRpcValue): void;
}

export class KojiAdapter {
  private readonly client: KojiClient;
  private readonly web: string;
  private readonly methods: ReadonlySet<string>;
  private readonly ms: { lookBack: number; keep: number; channels: number; stale: number; overlap: number };
  private readonly book = new TaskBook();
  private channels = new Map<number, KojiChannel>();
  private hosts = new Map<number, KojiHost>();
  private channelHosts = new Map<number, number[]>();
  private channelsReadAt = Number.NEGATIVE_INFINITY;
  private baseline: { ts: number; eventId: number } | undefined;
  private marks = new Map<Listing, Mark>();
  private lastEvent: KojiEvent | undefined;
  /** Tasks to re-read first: they left ASSIGNED without a listing saying where to. */
  private readonly needsCheck = new Set<number>();
  private repoQueueSupported = true;
  private version: string | undefined;
  private found: RecordProblem[] = [];
  private readonly problemTracker = new ProblemTracker();
  private hub: EndpointHealth;
  private database: EndpointHealth;
  /** The TLS agent (client certificate, CA), made at the first poll. */
  private agent: Agent | undefined;

  constructor(
    private readonly config: KojiConfig,
    private readonly ctx: SourceContext,
    client?: KojiClient,
  ) {
    this.client = client ?? new KojiClient(ctx.http, { url: config.url, maxBodyBytes: config.max_body_bytes });
    this.web = webBase(config);
    this.methods = new Set(config.methods);
    const sec = (d: string, def: number) => (parseDuration(d) ?? def) * 1000;
    this.ms = { lookBack: sec(config.look_back, 3600), keep: sec(config.keep_finished, 21_600), channels: sec(config.channels_interval, 600), stale: sec(config.host_stale_after, 300), overlap: sec(config.overlap, 120) };
    this.hub = { name: 'hub', role: 'hub', url: this.client.url, up: false, reachable: false, consecutiveFailures: 0 };
    this.database = { name: 'database', role: 'database', url: this.client.url, up: false, reachable: false, consecutiveFailures: 0 };
  }

  /**
   * Hold again what the earlier run held: finished tasks and builds stay until `keep_finished`
   * (the first poll reads only `look_back` of them), and rows read later merge into the kept ones,
   * so a restart changes no record the upstream did not change.
   */
  restore(held: RestoredRecords): void {
    this.book.restore(held.tasks);
  }

  async poll(signal: AbortSignal): Promise<Snapshot> {
    const now = this.ctx.clock.now();
    const found: RecordProblem[] = [];
    let status: MultiCallResult[];
    try {
      if (this.config.tls && !this.agent) {
        this.agent = tlsAgent(this.config.tls);
        this.client.use(this.ctx.http.withDispatcher(this.agent));
      }
      status = await this.client.multiCall(calls.statusCalls({ repoQueue: this.repoQueueSupported, version: this.version === undefined }), signal);
      this.raiseOffline(status);
    } catch (err) {
      this.failed(err, now);
      throw err;
    }
    try {
      const snapshot = await this.pollWith(status, now, found, signal);
      this.succeeded(now);
      this.found = found;
      return snapshot;
    } catch (err) {
      this.failed(err, now);
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.agent?.close();
  }

  problems(): SourceProblems {
    return this.problemTracker.update(this.found);
  }

  /** The hub (answers XML-RPC) and its database (answers without fault 1014), as endpoints. */
  endpoints(): EndpointHealth[] {
    return [{ ...this.hub }, { ...this.database }];
  }

  private async pollWith(status: MultiCallResult[], now: number, found: RecordProblem[], signal: AbortSignal): Promise<Snapshot> {
    const I = calls.STATUS_INDEX;
    const event = this.must(status[I.lastEvent], 'getLastEvent', (v) => (checkLastEvent.Check(v) ? v : undefined));
    if (this.lastEvent !== undefined && event.id < this.lastEvent.id) {
      found.push({ id: 'event ids', reason: 'ids_reset', message: `the hub's last event id went back from ${this.lastEvent.id} to ${event.id}: a new or restored database; counting starts again` });
      this.ctx.log.warn({ from: this.lastEvent.id, to: event.id }, 'koji event ids went back; taking it as a new hub database');
      this.book.clear();
      this.baseline = undefined;
      this.marks.clear();
      this.needsCheck.clear();
    }
    this.lastEvent = event;
    const hostList = this.must(status[I.hosts], 'listHosts', (v) => checkedList(v, checkHost, 'listHosts', this.client.url));
    const channelList = this.optional(status[I.channels], 'listChannels', found, (v) => checkedList(v, checkChannel, 'listChannels', this.client.url));
    for (const r of hostList.rejected) found.push({ where: 'listHosts', id: r.id ?? `host row ${r.index}`, reason: 'bad_value', message: r.message });
    for (const r of channelList?.rejected ?? []) found.push({ where: 'listChannels', id: r.id ?? `channel row ${r.index}`, reason: 'bad_value', message: r.message });
    this.hosts = new Map(hostList.entries.map((h) => [h.id, h]));
    if (channelList) this.channels = new Map(channelList.entries.map((c) => [c.id, c]));
    const counts = new Map<string, number>();
    calls.COUNTED_STATES.forEach((s, i) => {
      const n = this.optional(status[I.counts + i], `listTasks(state=${s}, countOnly)`, found, asCount);
      if (n !== undefined) counts.set(s, n);
    });
    const building = this.optional(status[I.buildsBuilding], 'listBuilds(state=BUILDING, countOnly)', found, asCount);
    let repoQueue: number | undefined;
    let next = I.buildsBuilding + 1;
    if (this.repoQueueSupported) {
      const r = status[next++];
      if (r && !r.ok && /invalid method|unknown method|no such method/i.test(r.fault.message)) {
        this.repoQueueSupported = false;
        this.ctx.log.info({ fault: r.fault.message }, 'koji hub has no repo.queryQueue (Koji < 1.35); the repo queue length is not exported');
      } else repoQueue = this.optional(r, 'repo.queryQueue', found, asCount);
    }
    if (this.version === undefined) {
      const r = status[next];
      this.version = r?.ok && typeof r.value === 'string' ? r.value.slice(0, 64) : '';
    }

    // Hub time: its newest event or host check-in (hosts check in every ~15 s); the exporter's clock only when the hub shows neither.
    const latest = now / 1000 + MAX_AHEAD_S;
    let hubNow = event.ts <= latest ? event.ts : 0;
    for (const h of hostList.entries) if (h.update_ts !== null && h.update_ts > hubNow && h.update_ts <= latest) hubNow = h.update_ts;
    if (hubNow <= 0) hubNow = now / 1000;
    const book: BookContext = { source: this.ctx.name, web: this.web, now, channelName: (id) => this.channels.get(id)?.name, hostName: (id) => this.hosts.get(id)?.name };
    const newTaskIds: string[] = [];
    const prevAssigned = new Set(this.book.unfinished('ASSIGNED'));
    const readNow = new Set<number>();
    const baseline = this.baseline;
    const putTasks = (value: XmlRpcValue, call: string, listing?: Listing) => {
      const list = checkedList(value, checkTask, call, this.client.url);
      for (const r of list.rejected) found.push({ where: call, id: r.id ?? `task row ${r.index}`, reason: 'bad_value', message: r.message });
      for (const row of list.entries) {
        const fresh = this.book.putTask(row, book);
        readNow.add(row.id);
        if (fresh && baseline && Math.max(row.create_ts, row.start_ts ?? 0, row.completion_ts ?? 0) > baseline.ts) newTaskIds.push(String(row.id));
      }
      if (listing) this.advance(listing, listing === 'created' ? 'create_ts' : listing === 'started' ? 'start_ts' : 'completion_ts', value, latest);
    };
    const putBuilds = (value: XmlRpcValue, call: string, listing?: Listing) => {
      const list = checkedList(value, checkBuild, call, this.client.url, 'build_id');
      for (const r of list.rejected) found.push({ where: call, id: r.id ?? `build row ${r.index}`, reason: 'bad_value', message: r.message });
      for (const row of list.entries) {
        const fresh = this.book.putBuild(row, book);
        if (fresh && baseline && (row.creation_event_id > baseline.eventId || (row.completion_ts ?? 0) > baseline.ts)) newTaskIds.push(`build-${row.build_id}`);
      }
      if (listing) this.advance(listing, listing === 'buildsCreated' ? 'creation_ts' : 'completion_ts', value, latest);
    };

    const limit = this.config.page_size;
    const jobs: Job[] = [];
    if (!baseline) {
      const since = hubNow - this.ms.lookBack / 1000;
      jobs.push(
        { call: calls.tasksInStates([TASK_STATE.FREE, TASK_STATE.ASSIGNED, TASK_STATE.OPEN], limit), take: (v) => putTasks(v, 'listTasks(unfinished)') },
        { call: calls.tasksFinishedSince(since, limit), take: (v) => putTasks(v, 'listTasks(completeAfter)') },
        { call: calls.buildsBuilding(limit), take: (v) => putBuilds(v, 'listBuilds(state=BUILDING)') },
        { call: calls.buildsAfter('completeAfter', { since, offset: 0 }, limit, '-completion_ts'), take: (v) => putBuilds(v, 'listBuilds(completeAfter)') },
      );
    } else {
      const page = (l: Listing) => {
        const m = this.marks.get(l) ?? { ts: baseline.ts, full: false, atTs: 0 };
        // 1 µs before the mark includes rows of exactly its time (float epoch seconds keep about 0.2 µs here).
        return m.full ? { since: m.ts - 1e-6, offset: m.atTs } : { since: m.ts - this.ms.overlap / 1000, offset: 0 };
      };
      const audit = [...this.needsCheck].slice(0, this.config.audit_budget);
      const auditing = new Set(audit);
      audit.push(...this.book.stalest(this.config.audit_budget - audit.length, auditing));
      jobs.push(
        { call: calls.tasksAfter('createdAfter', page('created'), limit), take: (v) => putTasks(v, 'listTasks(createdAfter)', 'created') },
        { call: calls.tasksAfter('startedAfter', page('started'), limit), take: (v) => putTasks(v, 'listTasks(startedAfter)', 'started') },
        { call: calls.tasksAfter('completeAfter', page('completed'), limit), take: (v) => putTasks(v, 'listTasks(completeAfter)', 'completed') },
        { call: calls.tasksInStates([TASK_STATE.ASSIGNED], limit, 'id'), take: (v) => putTasks(v, 'listTasks(state=ASSIGNED)') },
        { call: calls.buildsAfter('createdAfter', page('buildsCreated'), limit), take: (v) => putBuilds(v, 'listBuilds(createdAfter)', 'buildsCreated') },
        { call: calls.buildsAfter('completeAfter', page('buildsCompleted'), limit), take: (v) => putBuilds(v, 'listBuilds(completeAfter)', 'buildsCompleted') },
      );
      if (audit.length > 0) {
        jobs.push({
          call: calls.taskInfo(audit),
          take: (v) => {
            if (!Array.isArray(v) || v.length !== audit.length) throw new UpstreamPayloadError(this.client.url, `getTaskInfo of ${audit.length} ids answered ${describe(v)}${Array.isArray(v) ? ` of ${v.length}` : ''}`, 'POST');
            audit.forEach((id, i) => {
              this.needsCheck.delete(id);
              if (v[i] === null) this.book.dropTask(id, { forget: true });
            });
            putTasks(v.filter((x) => x !== null), 'getTaskInfo');
          },
        });
      }
      for (const id of this.book.stalestBuilds(BUILD_AUDIT)) jobs.push({ call: calls.getBuild(id), take: (v) => (v === null ? this.book.dropBuild(id) : putBuilds([v], 'getBuild')) });
    }
    const known = [...this.channels.keys()].sort((a, b) => a - b).slice(0, MAX_CHANNELS);
    const channelsDue = now - this.channelsReadAt >= this.ms.channels || known.some((id) => !this.channelHosts.has(id));
    const channelIds = channelsDue ? known : [];
    const channelHosts = new Map<number, number[]>();
    for (const id of channelIds) {
      jobs.push({
        call: calls.hostsInChannel(id),
        take: (v) => channelHosts.set(id, checkedList(v, checkHost, 'listHosts(channelID)', this.client.url).entries.map((h) => h.id)),
      });
    }

    const results = await this.client.multiCall(jobs.map((j) => j.call), signal);
    this.raiseOffline(results);
    jobs.forEach((job, i) => {
      const r = results[i] as MultiCallResult;
      const call = `${job.call.method}`;
      if (!r.ok) {
        found.push({ where: call, id: call, reason: 'fault', message: `fault ${r.fault.code}: ${r.fault.message.slice(0, 200)}` });
        return;
      }
      try {
        job.take(r.value);
      } catch (err) {
        if (!(err instanceof SourceError)) throw err;
        found.push({ where: call, id: call, reason: 'bad_value', message: err.message });
      }
    });
    if (channelIds.length > 0 && channelHosts.size === channelIds.length) {
      this.channelHosts = channelHosts;
      this.channelsReadAt = now;
    }
    if (this.config.audit_budget > 0) for (const id of prevAssigned) if (!readNow.has(id)) this.needsCheck.add(id);
    if (!baseline) {
      this.baseline = { ts: hubNow, eventId: event.id };
      for (const l of ['created', 'started', 'completed', 'buildsCreated', 'buildsCompleted'] as const) this.marks.set(l, { ts: hubNow, full: false, atTs: 0 });
    }
    this.book.settle();
    const capped = this.book.retain(now - this.ms.keep, this.config.max_tasks, now);
    if (capped > 0) found.push({ id: 'tasks', reason: 'capped', message: `more than max_tasks (${this.config.max_tasks}) tasks and builds held: the ${capped} oldest were dropped; raise max_tasks or lower keep_finished` });

    const workers = this.workers(now);
    return {
      type: 'snapshot',
      tasks: this.book.all(),
      workers,
      ...(newTaskIds.length > 0 ? { newTaskIds } : {}),
      upstream: { ...(this.version ? { version: this.version } : {}), figures: this.figures(event, counts, building, repoQueue, workers) },
    };
  }

  /**
   * Move a listing's mark to the newest time its rows show (rows left out as malformed count too,
   * or a page of them would be read forever; times beyond `latest` do not); a full page means
   * more rows wait beyond it.
   */
  private advance(listing: Listing, field: string, value: XmlRpcValue, latest: number): void {
    const prev = this.marks.get(listing) ?? { ts: this.baseline?.ts ?? 0, full: false, atTs: 0 };
    const rows = Array.isArray(value) ? value : [];
    let newest = prev.ts;
    for (const row of rows) {
      const t = isStruct(row) ? row[field] : undefined;
      if (typeof t === 'number' && Number.isFinite(t) && t > newest && t <= latest) newest = t;
    }
    let atNewest = 0;
    for (const row of rows) if (isStruct(row) && row[field] === newest) atNewest += 1;
    const full = rows.length >= this.config.page_size;
    this.marks.set(listing, { ts: newest, full, atTs: newest === prev.ts && prev.full ? prev.atTs + atNewest : atNewest });
  }

  private workers(now: number): Worker[] {
    const running = this.book.openByHost();
    const channelsOf = new Map<number, string[]>();
    for (const [cid, hostIds] of this.channelHosts) {
      const name = this.channels.get(cid)?.name;
      if (name === undefined) continue;
      for (const hid of hostIds) channelsOf.set(hid, [...(channelsOf.get(hid) ?? []), name]);
    }
    return [...this.hosts.values()].map((h) => kojiWorker(h, this.ctx.name, this.web, now, this.ms.stale, running.get(h.id) ?? 0, channelsOf.get(h.id) ?? []));
  }

  private figures(event: KojiEvent, counts: Map<string, number>, building: number | undefined, repoQueue: number | undefined, workers: Worker[]): UpstreamFigure[] {
    const out: UpstreamFigure[] = [
      { name: 'last_event_id', value: event.id },
      { name: 'last_event_timestamp_seconds', value: event.ts },
    ];
    if (building !== undefined) out.push({ name: 'builds_in_progress', value: building });
    if (repoQueue !== undefined) out.push({ name: 'repo_queue_length', value: repoQueue });
    // Per state, the hub's count split by method from the unfinished tasks held; what the held ones do not explain is `other`.
    const held = this.book.activeByStateAndMethod();
    for (const [state, total] of counts) {
      const byMethod = new Map<string, number>();
      let named = 0;
      // Largest first, never more than the hub's total: held tasks read in an earlier poll may be ahead of or behind its count.
      const ranked = [...(held.get(state) ?? [])].filter(([m]) => this.methods.has(m)).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
      for (const [method, n] of ranked) {
        const take = Math.min(n, total - named);
        byMethod.set(method, take);
        named += take;
      }
      byMethod.set('other', total - named);
      for (const [method, n] of byMethod) out.push({ name: 'tasks', labels: { state, method }, value: n });
    }
    const up = new Map(workers.map((w) => [w.id, w.up]));
    for (const h of this.hosts.values()) {
      const labels = { worker: h.name };
      out.push({ name: 'host_ready', labels, value: h.ready ? 1 : 0 }, { name: 'host_enabled', labels, value: h.enabled ? 1 : 0 }, { name: 'host_task_load', labels, value: h.task_load }, { name: 'host_capacity', labels, value: h.capacity });
    }
    for (const [cid, hostIds] of this.channelHosts) {
      const channel = this.channels.get(cid)?.name;
      if (channel === undefined) continue;
      let load = 0;
      let capacity = 0;
      const states = { ready: 0, not_ready: 0, disabled: 0 };
      for (const hid of hostIds) {
        const h = this.hosts.get(hid);
        if (!h) continue;
        const health = hostHealth(h);
        states[health === 'not ready' ? 'not_ready' : health] += 1;
        if (!h.enabled) continue;
        load += h.task_load;
        if (up.get(h.name)) capacity += h.capacity;
      }
      out.push({ name: 'channel_load', labels: { channel }, value: load }, { name: 'channel_capacity', labels: { channel }, value: capacity });
      for (const [state, n] of Object.entries(states)) out.push({ name: 'channel_hosts', labels: { channel, state }, value: n });
    }
    return out;
  }

  /** A fault 1014 in any answer: the hub is up, its database is not; the poll fails. */
  private raiseOffline(results: MultiCallResult[]): void {
    const offline = results.find((r) => !r.ok && r.fault.code === KOJI_FAULTS.ServerOffline);
    if (offline && !offline.ok) throw new KojiFaultError(offline.fault, this.client.url, 'multiCall');
  }

  /** An answer the poll cannot do without: its fault or wrong shape fails the poll. */
  private must<T>(r: MultiCallResult | undefined, call: string, read: (v: XmlRpcValue) => T | undefined): T {
    if (!r) throw new UpstreamPayloadError(this.client.url, `no answer to ${call}`, 'POST');
    if (!r.ok) throw new KojiFaultError(r.fault, this.client.url, call);
    const value = read(r.value);
    if (value === undefined) throw new UpstreamPayloadError(this.client.url, `${call} answered ${describe(r.value)} of an unexpected shape`, 'POST');
    return value;
  }

  /** An answer the poll can do without: a fault or wrong shape becomes a problem and leaves it out. */
  private optional<T>(r: MultiCallResult | undefined, call: string, found: RecordProblem[], read: (v: XmlRpcValue) => T | undefined): T | undefined {
    if (!r) return undefined;
    if (!r.ok) {
      found.push({ where: call, id: call, reason: 'fault', message: `fault ${r.fault.code}: ${r.fault.message.slice(0, 200)}` });
      return undefined;
    }
    try {
      const value = read(r.value);
      if (value === undefined) found.push({ where: call, id: call, reason: 'bad_value', message: `answered ${describe(r.value)} of an unexpected shape` });
      return value;
    } catch (err) {
      if (!(err instanceof SourceError)) throw err;
      found.push({ where: call, id: call, reason: 'bad_value', message: err.message });
      return undefined;
    }
  }

  private succeeded(now: number): void {
    this.hub = { ...this.hub, up: true, reachable: true, lastSuccessAt: now, consecutiveFailures: 0 };
    this.database = { ...this.database, up: true, reachable: true, lastSuccessAt: now, consecutiveFailures: 0 };
  }

  private failed(err: unknown, now: number): void {
    const info = toErrorInfo(err, now);
    const answered = err instanceof KojiFaultError;
    const offline = err instanceof KojiFaultError && err.offline;
    this.hub = { ...this.hub, up: false, reachable: answered, lastError: info, consecutiveFailures: this.hub.consecutiveFailures + 1 };
    if (offline) this.database = { ...this.database, up: false, reachable: false, lastError: info, consecutiveFailures: this.database.consecutiveFailures + 1 };
    else if (!answered) this.database = { ...this.database, up: false, reachable: false, lastError: { code: 'unknown', message: 'not known: the hub did not answer', at: now }, consecutiveFailures: this.database.consecutiveFailures + 1 };
  }
}

function asCount(v: XmlRpcValue): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;
}

export { KOJI_KIND };
