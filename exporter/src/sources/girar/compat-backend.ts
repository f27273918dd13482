/**
 * What the taskoteka-compatible API (`/compat/taskoteka/<source>/`) needs from a girar source
 * beyond the tasks in the store: the API version and cache age headers, archived tasks read on
 * demand, and the `needs_approval` filter. Both transports provide one: the `fs` transport from
 * the tree and the ACL dir, the `taskoteka` transport by asking the upstream taskoteka.
 */
import type { TaskDetail } from './upstream.js';

export type ApprovalGroup = 'maint' | 'tester';

/** `needs_approval` cannot be answered (no ACL dir configured, upstream without `--acl-dir`): HTTP 503. */
export class NeedsApprovalUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NeedsApprovalUnavailable';
  }
}

export interface TaskotekaCompatBackend {
  /** `x-api-version`: the taskoteka API level served (the upstream's own for the taskoteka transport). */
  apiVersion(): string;
  /** `x-cache-age`: whole seconds since the data was last refreshed; undefined before the first refresh. */
  cacheAgeSeconds(): number | undefined;
  /** IANA zone of girar's server clock: `created` is served in it, without a zone, as taskoteka does. */
  readonly timeZone: string;
  /**
   * A task that is not in the live set, read from the archive on demand (not cached);
   * undefined when it is not there or no archive is configured.
   */
  archived(id: number, signal: AbortSignal): Promise<TaskDetail | undefined>;
  /**
   * Ids of the EPERM tasks (as decimal strings) that need an approval from `group`, with girar's
   * three-state logic. Throws NeedsApprovalUnavailable when it cannot be answered.
   */
  needsApproval(group: ApprovalGroup, signal: AbortSignal): Promise<ReadonlySet<string>>;
}
