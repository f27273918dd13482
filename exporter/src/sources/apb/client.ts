/**
 * HTTP client of one APB endpoint (an apb-server or the apb-farm): I/O and boundary validation,
 * no mapping to the model. Every request has its own deadline, so one slow call cannot hold the
 * others. The farm token goes in the Authorization header only; no message ever contains it.
 */
import type { TSchema, Static } from '@sinclair/typebox';
import type { TypeCheck } from '@sinclair/typebox/compiler';
import { deadline } from '../../util/deadline.js';
import { pathSegment } from '../../util/sane.js';
import { SourceError, UpstreamHttpError, UpstreamPayloadError, redactUrl } from '../errors.js';
import type { UpstreamHttp } from '../http.js';
import { describeInvalid } from '../validate.js';
import {
  checkBuildList,
  checkBuildRecord,
  checkFarm,
  checkFarmServer,
  checkServerHealth,
  checkServerRoot,
  type BuildRecord,
  type Farm,
  type FarmServer,
  type ServerHealth,
  type ServerRoot,
} from './upstream.js';

export interface ApbClientOptions {
  /** Base URL of the server or farm. */
  url: string;
  /** Which APB program answers there (for the hints in errors). */
  role: 'server' | 'farm';
  /** Farm only: sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Deadline of each request, in ms. */
  timeoutMs: number;
  maxBodyBytes: number;
}

/** An entry of a list that failed its schema: left out, and reported as a record problem. */
export interface RejectedEntry {
  index: number;
  id?: string;
  message: string;
  /** Why it was left out, when not a malformed entry (`bad_value`). */
  reason?: string;
}

/** The valid entries of a list, in upstream order, and the rejected ones. */
export interface CheckedList<T> {
  entries: T[];
  rejected: RejectedEntry[];
}

export class ApbClient {
  readonly base: string;

  constructor(
    private readonly http: UpstreamHttp,
    private readonly options: ApbClientOptions,
  ) {
    this.base = options.url.replace(/\/+$/, '');
  }

  /** The base URL as it may appear in logs and the API. */
  get safeUrl(): string {
    return redactUrl(this.base);
  }

  /** An apb-server's `GET /`: system info and queue status (takes a second upstream: it samples the CPU). */
  async root(signal: AbortSignal): Promise<ServerRoot> {
    return this.getChecked('/', checkServerRoot, signal, 'an apb-server GET / answer');
  }

  /** An apb-server's `GET /health`. */
  async health(signal: AbortSignal): Promise<ServerHealth> {
    return this.getChecked('/health', checkServerHealth, signal, 'an apb-server GET /health answer');
  }

  /** `GET /builds/latest?limit=N`, newest first; each entry checked with `entry`. */
  async latestBuilds<T extends TSchema>(limit: number, entry: TypeCheck<T>, signal: AbortSignal): Promise<CheckedList<Static<T>>> {
    const list = await this.getChecked(`/builds/latest?limit=${limit}`, checkBuildList, signal, 'a GET /builds/latest answer');
    return checkEntries(list.builds, entry);
  }

  /** `GET /build/{id}/status-api`, or undefined when the upstream no longer knows the build (404). */
  async buildRecord(id: string, signal: AbortSignal): Promise<BuildRecord | undefined> {
    try {
      const record = await this.getChecked(`/build/${pathSegment(id)}/status-api`, checkBuildRecord, signal, 'a GET /build/{id}/status-api answer');
      if (record.build_id !== id) throw new UpstreamPayloadError(this.safeUrl, `/build/${id}/status-api: asked for build ${id}, got ${record.build_id}`);
      return record;
    } catch (err) {
      if (err instanceof UpstreamHttpError && err.status === 404) return undefined;
      throw err;
    }
  }

  /** The farm's `GET /farm`: its servers, each with the farm's cached copy of the server's `GET /`. */
  async farm(signal: AbortSignal): Promise<{ farm: Farm; servers: CheckedList<FarmServer> }> {
    const farm = await this.getChecked('/farm', checkFarm, signal, 'an apb-farm GET /farm answer');
    return { farm, servers: checkEntries(farm.servers, checkFarmServer) };
  }

  private scrubbed(err: unknown): unknown {
    return scrubToken(err, this.options.token);
  }

  private async getChecked<T extends TSchema>(path: string, check: TypeCheck<T>, parent: AbortSignal, what: string): Promise<Static<T>> {
    const url = `${this.base}${path}`;
    const { signal, clear } = deadline(this.options.timeoutMs, parent);
    try {
      const { value } = await this.http.getJson(url, {
        signal,
        maxBytes: this.options.maxBodyBytes,
        ...(this.options.token ? { headers: { authorization: `Bearer ${this.options.token}` } } : {}),
      });
      if (check.Check(value)) return value;
      throw new UpstreamPayloadError(redactUrl(url), `does not look like ${what} (${describeInvalid(check, value) ?? 'unexpected shape'}); check that the URL points at the right APB service`);
    } catch (err) {
      if (err instanceof UpstreamHttpError && (err.status === 401 || err.status === 403)) {
        const hint =
          this.options.role === 'server'
            ? 'apb-server has no login: check that the URL reaches the server itself and not a proxy that wants one'
            : this.options.token
              ? 'the farm token was refused; log in again (POST /auth/login) and update `farm.token`'
              : 'the endpoint wants a login; set `farm.token`';
        throw this.scrubbed(new UpstreamHttpError(err.status, err.url, err.retryAfterSeconds, hint));
      }
      throw this.scrubbed(err);
    } finally {
      clear();
    }
  }
}

/** The token never leaves in a message, even when an upstream (a proxy's error page) echoes it back. */
function scrubToken(err: unknown, token: string | undefined): unknown {
  if (!token || !(err instanceof Error) || !err.message.includes(token)) return err;
  const message = err.message.replaceAll(token, '<redacted>');
  if (err instanceof UpstreamHttpError) return Object.assign(new UpstreamHttpError(err.status, err.url, err.retryAfterSeconds, ''), { message });
  if (err instanceof SourceError) return new SourceError(err.code, message);
  return new Error(message);
}

function checkEntries<T extends TSchema>(values: unknown[], check: TypeCheck<T>): CheckedList<Static<T>> {
  const entries: Static<T>[] = [];
  const rejected: RejectedEntry[] = [];
  values.forEach((value, index) => {
    if (check.Check(value)) {
      entries.push(value);
      return;
    }
    const id = idOf(value);
    rejected.push({ index, ...(id ? { id } : {}), message: describeInvalid(check, value) ?? 'unexpected shape' });
  });
  return { entries, rejected };
}

function idOf(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const rec = value as Record<string, unknown>;
  const id = rec.build_id ?? rec.id ?? rec.url;
  return typeof id === 'string' ? id.slice(0, 100) : undefined;
}
