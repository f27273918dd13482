/**
 * taskoteka HTTP API client: I/O and boundary validation only, no mapping to the model.
 * Configured headers go on every request; their values never reach a message.
 */
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Type, type TSchema, type Static } from '@sinclair/typebox';
import { SourceError, UpstreamHttpError, UpstreamPayloadError, errorMessage, redactUrl } from '../errors.js';
import type { UpstreamHttp } from '../http.js';
import { parseSse } from '../sse-parser.js';
import {
  checkHealth,
  checkSseHeartbeat,
  checkSseReconnect,
  checkSseTaskNew,
  checkSseTaskRemoved,
  checkSseTaskUpdated,
  checkTaskDetail,
  checkTaskList,
  describeInvalid,
  type HealthBody,
  type TaskDetail,
  type TaskListItem,
} from './upstream.js';

/** `GET /tasks?brief=true`: task ids only. */
const checkTaskIds = TypeCompiler.Compile(Type.Array(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })));

export interface TaskotekaClientOptions {
  /** Base URL of the API, e.g. `https://git.altlinux.org/tasks/api`. */
  url: string;
  headers?: Record<string, string>;
  maxBodyBytes?: number;
}

/** `GET /tasks?state=ALL` with what the response headers say about the upstream. */
export interface TaskList {
  items: TaskListItem[];
  /** `x-api-version`. */
  version?: string;
  /** `x-cache-age`: seconds since taskoteka last refreshed its cache. */
  cacheAgeSeconds?: number;
}

/** One `/events` event, validated. Unknown event types pass through as `other`. */
export type TaskotekaEvent =
  | { type: 'task_new'; id: number; state: string; owner: string }
  | { type: 'task_updated'; id: number; state: string; prev_state: string; owner: string }
  | { type: 'task_removed'; id: number }
  | { type: 'heartbeat'; at: number }
  | { type: 'reconnect'; reason: string }
  | { type: 'other'; event: string; data: string };

export class TaskotekaClient {
  private readonly base: string;

  constructor(
    private readonly http: UpstreamHttp,
    private readonly options: TaskotekaClientOptions,
  ) {
    this.base = options.url.replace(/\/+$/, '');
  }

  /** Every task taskoteka has cached, in every state, newest id first. */
  async listTasks(signal: AbortSignal): Promise<TaskList> {
    const url = `${this.base}/tasks?state=ALL`;
    const { value, headers } = await this.http.getJson(url, this.requestOptions(signal));
    const items = validate(checkTaskList, value, url);
    const version = headers['x-api-version'];
    const cacheAge = headers['x-cache-age'] === undefined ? Number.NaN : Number(headers['x-cache-age']);
    return {
      items,
      ...(version ? { version } : {}),
      ...(Number.isFinite(cacheAge) ? { cacheAgeSeconds: cacheAge } : {}),
    };
  }

  /** `GET /health`: taskoteka's status and how many tasks its cache holds (what `state=ALL` lists). */
  async health(signal: AbortSignal): Promise<HealthBody> {
    const url = `${this.base}/health`;
    const { value } = await this.http.getJson(url, this.requestOptions(signal));
    return validate(checkHealth, value, url);
  }

  /** One task's info.json, or undefined when taskoteka answers 404 (`task N not found`). */
  async getTask(id: string | number, signal: AbortSignal): Promise<TaskDetail | undefined> {
    const url = `${this.base}/tasks/${encodeURIComponent(String(id))}`;
    try {
      const { value } = await this.http.getJson(url, this.requestOptions(signal));
      const detail = validate(checkTaskDetail, value, url);
      if (String(detail.taskid) !== String(id)) {
        throw new UpstreamPayloadError(redactUrl(url), `/taskid: asked for task ${String(id)}, got task ${detail.taskid}`);
      }
      return detail;
    } catch (err) {
      if (err instanceof UpstreamHttpError && err.status === 404) return undefined;
      throw err;
    }
  }

  /**
   * `GET /tasks?needs_approval=<group>&brief=true`: ids of the EPERM tasks waiting for an approval
   * from `group`. taskoteka answers 503 without `--acl-dir`; that comes back as an UpstreamHttpError.
   */
  async needsApproval(group: 'maint' | 'tester', signal: AbortSignal): Promise<number[]> {
    const url = `${this.base}/tasks?needs_approval=${group}&brief=true`;
    const { value } = await this.http.getJson(url, this.requestOptions(signal));
    return validate(checkTaskIds, value, url);
  }

  /**
   * Subscribe to `GET /events`. Ends when the server closes the stream or `signal` aborts;
   * a broken connection throws a `network` SourceError, a malformed event a payload error.
   */
  /** The event stream; `onOpen` runs once taskoteka has accepted the subscription. */
  async *events(signal: AbortSignal, onOpen?: () => void): AsyncGenerator<TaskotekaEvent> {
    const url = `${this.base}/events`;
    const res = await this.http.stream(url, { signal, ...(this.options.headers ? { headers: this.options.headers } : {}) });
    onOpen?.();
    try {
      for await (const ev of parseSse(res.body)) yield toEvent(ev.event, ev.data, url);
    } catch (err) {
      if (err instanceof SourceError) throw err;
      if (signal.aborted) return;
      throw new SourceError('network', `GET ${redactUrl(url)}: the event stream broke (${errorMessage(err)})`, { cause: err });
    } finally {
      // Stops undici's body when the consumer leaves early, so the socket is not left open.
      (res.body as { destroy?: () => void }).destroy?.();
    }
  }

  private requestOptions(signal: AbortSignal) {
    return {
      signal,
      ...(this.options.headers ? { headers: this.options.headers } : {}),
      ...(this.options.maxBodyBytes ? { maxBytes: this.options.maxBodyBytes } : {}),
    };
  }
}

function validate<T extends TSchema>(check: TypeCheck<T>, value: unknown, url: string): Static<T> {
  if (check.Check(value)) return value;
  throw new UpstreamPayloadError(redactUrl(url), describeInvalid(check, value) ?? 'does not match the expected shape');
}

function toEvent(event: string, data: string, url: string): TaskotekaEvent {
  if (!KNOWN_EVENTS.has(event)) return { type: 'other', event, data };
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    throw new UpstreamPayloadError(redactUrl(url), `event ${event}: data is not JSON: ${JSON.stringify(data.slice(0, 60))}`);
  }
  const valid = <T extends TSchema>(check: TypeCheck<T>): Static<T> => {
    if (check.Check(value)) return value;
    throw new UpstreamPayloadError(redactUrl(url), `event ${event}: ${describeInvalid(check, value) ?? 'unexpected shape'}`);
  };
  switch (event) {
    case 'task_new': {
      const v = valid(checkSseTaskNew);
      return { type: 'task_new', id: v.id, state: v.state, owner: v.owner };
    }
    case 'task_updated': {
      const v = valid(checkSseTaskUpdated);
      return { type: 'task_updated', id: v.id, state: v.state, prev_state: v.prev_state, owner: v.owner };
    }
    case 'task_removed':
      return { type: 'task_removed', id: valid(checkSseTaskRemoved).id };
    case 'heartbeat':
      return { type: 'heartbeat', at: valid(checkSseHeartbeat) };
    default:
      return { type: 'reconnect', reason: valid(checkSseReconnect).reason };
  }
}

const KNOWN_EVENTS: ReadonlySet<string> = new Set(['task_new', 'task_updated', 'task_removed', 'heartbeat', 'reconnect']);
