/**
 * The taskoteka-compatible API's backend for the `taskoteka` transport: buildscope re-serves an
 * upstream taskoteka, so what the store does not hold is the upstream's to answer. The version and
 * cache age come from the latest list response; archived tasks and `needs_approval` are asked of
 * the upstream on demand (taskoteka itself reads its archive on demand and does not cache it).
 */
import type { Clock } from '../../util/clock.js';
import { UpstreamHttpError, errorMessage } from '../errors.js';
import type { TaskotekaClient, TaskList } from './client.js';
import { NeedsApprovalUnavailable, type ApprovalGroup, type TaskotekaCompatBackend } from './compat-backend.js';
import type { TaskDetail } from './upstream.js';

/** The taskoteka API level buildscope emulates: served until the upstream has told its own. */
export const TASKOTEKA_API_VERSION = '1.5.0';

/**
 * How long a `needs_approval` answer is reused: taskoteka refreshes its cache every 5 s by
 * default, so asking more often learns nothing, and a dashboard polling the filter costs the
 * upstream one request per group per period however many clients it has.
 */
export const NEEDS_APPROVAL_TTL_MS = 5000;

export class TaskotekaUpstreamBackend implements TaskotekaCompatBackend {
  private version: string | undefined;
  private cache: { seconds: number; observedAt: number } | undefined;
  private readonly approvals = new Map<ApprovalGroup, { at: number; ids: ReadonlySet<string> }>();

  constructor(
    private readonly client: Pick<TaskotekaClient, 'getTask' | 'needsApproval'>,
    readonly timeZone: string,
    private readonly clock: Clock,
  ) {}

  /** Record what a `GET /tasks` response said about the upstream (`observedAt`: when it arrived, epoch ms). */
  observeList(list: Pick<TaskList, 'version' | 'cacheAgeSeconds'>, observedAt: number): void {
    if (list.version) this.version = list.version;
    if (list.cacheAgeSeconds !== undefined) this.cache = { seconds: list.cacheAgeSeconds, observedAt };
  }

  apiVersion(): string {
    return this.version ?? TASKOTEKA_API_VERSION;
  }

  /** The upstream's cache age at its latest list response plus the time since: how old the data served is. */
  cacheAgeSeconds(): number | undefined {
    if (!this.cache) return undefined;
    return Math.max(0, Math.floor(this.cache.seconds + (this.clock.now() - this.cache.observedAt) / 1000));
  }

  archived(id: number, signal: AbortSignal): Promise<TaskDetail | undefined> {
    return this.client.getTask(id, signal);
  }

  async needsApproval(group: ApprovalGroup, signal: AbortSignal): Promise<ReadonlySet<string>> {
    const now = this.clock.now();
    const cached = this.approvals.get(group);
    if (cached && now - cached.at < NEEDS_APPROVAL_TTL_MS) return cached.ids;
    let ids: number[];
    try {
      ids = await this.client.needsApproval(group, signal);
    } catch (err) {
      if (err instanceof UpstreamHttpError && err.status === 503) {
        throw new NeedsApprovalUnavailable(`needs_approval is not available: the upstream taskoteka cannot answer it (it runs without --acl-dir?): ${errorMessage(err)}`);
      }
      throw err;
    }
    const set: ReadonlySet<string> = new Set(ids.map(String));
    this.approvals.set(group, { at: now, ids: set });
    return set;
  }
}
