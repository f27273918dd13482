/**
 * karajo HTTP API client: I/O and boundary validation only. Every answer is gzip-encoded and
 * wrapped in `{code, message, name, data}`; the JSON `code` decides, not the HTTP status (a
 * missing log counter answers HTTP 200 with `"code":404`). With a `user` it logs in once and
 * again when the session is refused; the password and the cookie never reach a message.
 */
import { wellFormed } from '../../util/sane.js';
import { SourceError, UpstreamHttpError, UpstreamPayloadError, redactUrl } from '../errors.js';
import { parseUpstreamJson, type UpstreamHttp } from '../http.js';
import { describeInvalid } from '../validate.js';
import { checkEnv, checkEnvelope, checkJobExec, checkJobHttp, checkJobLog, type Env, type JobExec, type JobHttp, type JobLog } from './upstream.js';

export type JobType = 'exec' | 'http';

export interface KarajoClientOptions {
  url: string;
  user?: { name: string; password: string };
  headers?: Record<string, string>;
  maxBodyBytes: number;
}

/** A job entry of the environment that failed its schema: left out, reported as a record problem. */
export interface RejectedJob {
  type: JobType;
  key: string;
  message: string;
}

export interface EnvironmentRead {
  env: Env;
  exec: JobExec[];
  http: JobHttp[];
  rejected: RejectedJob[];
}

/** karajo answered, but its JSON `code` says the call failed (whatever the HTTP status was). */
export class KarajoApiError extends SourceError {
  constructor(
    readonly apiCode: number,
    url: string,
    detail: string,
  ) {
    super(apiCode === 401 || apiCode === 403 ? 'http' : 'payload', `GET ${url}: karajo answered code ${apiCode}${detail ? ` (${detail})` : ''}`);
    this.name = 'KarajoApiError';
  }
}

const API = '/karajo/api';
/** Largest log read (its JSON, decoded): logs are served whole, so they are capped well below max_body_bytes. */
export const LOG_MAX_BYTES = 8 * 1024 * 1024;

export class KarajoClient {
  readonly base: string;
  private cookie: string | undefined;

  constructor(
    private readonly http: UpstreamHttp,
    private readonly options: KarajoClientOptions,
  ) {
    this.base = options.url.replace(/\/+$/, '');
  }

  /** `GET /karajo/api/environment`: every job with its status, times and retained log index. */
  async environment(signal: AbortSignal): Promise<EnvironmentRead> {
    const url = `${this.base}${API}/environment`;
    const data = await this.call(url, signal);
    if (!checkEnv.Check(data)) throw new UpstreamPayloadError(redactUrl(url), `data does not look like karajo's Env (${describeInvalid(checkEnv, data) ?? 'unexpected shape'}); check that the URL points at a karajo server`);
    const rejected: RejectedJob[] = [];
    const exec: JobExec[] = [];
    const http: JobHttp[] = [];
    for (const [key, job] of Object.entries(data.jobs ?? {})) {
      if (checkJobExec.Check(job)) exec.push(job);
      else rejected.push({ type: 'exec', key, message: describeInvalid(checkJobExec, job) ?? 'unexpected shape' });
    }
    for (const [key, job] of Object.entries(data.http_jobs ?? {})) {
      if (checkJobHttp.Check(job)) http.push(job);
      else rejected.push({ type: 'http', key, message: describeInvalid(checkJobHttp, job) ?? 'unexpected shape' });
    }
    return { env: data, exec, http, rejected };
  }

  /** One run's log with its content, or undefined when karajo no longer keeps it (its `code` 404, or HTTP 404). At most LOG_MAX_BYTES. */
  async log(type: JobType, id: string, counter: number, signal: AbortSignal): Promise<JobLog | undefined> {
    const url = `${this.base}${API}/job_${type}/log?id=${encodeURIComponent(wellFormed(id))}&counter=${counter}`;
    try {
      const data = await this.call(url, signal, Math.min(LOG_MAX_BYTES, this.options.maxBodyBytes));
      if (!checkJobLog.Check(data)) throw new UpstreamPayloadError(redactUrl(url), `data does not look like a karajo JobLog (${describeInvalid(checkJobLog, data) ?? 'unexpected shape'})`);
      return data;
    } catch (err) {
      if (err instanceof KarajoApiError && err.apiCode === 404) return undefined;
      if (err instanceof UpstreamHttpError && (err.status === 404 || (type === 'http' && err.status === 400))) return undefined;
      throw err;
    }
  }

  /** GET, check the envelope, return `data`; logs in first (and again once when refused) with a user. */
  private async call(url: string, signal: AbortSignal, maxBytes = this.options.maxBodyBytes): Promise<unknown> {
    if (this.options.user && this.cookie === undefined) await this.login(signal);
    try {
      return await this.getData(url, signal, maxBytes);
    } catch (err) {
      if (!isAuthRefusal(err, this.options.user !== undefined)) throw err;
      if (!this.options.user) throw new SourceError('http', `${(err as Error).message}; karajo wants a login: set \`user\` (name and password) in the source config`, { cause: err });
      this.cookie = undefined;
      await this.login(signal);
      return this.getData(url, signal, maxBytes);
    }
  }

  private async getData(url: string, signal: AbortSignal, maxBytes: number): Promise<unknown> {
    const headers: Record<string, string> = { ...this.options.headers };
    if (this.cookie) headers.cookie = `karajo=${this.cookie}`;
    const res = await this.http.get(url, { signal, headers, maxBytes });
    const value = parseUpstreamJson(res, url);
    if (!checkEnvelope.Check(value)) throw new UpstreamPayloadError(redactUrl(url), `not karajo's {code, message, name, data} envelope (${describeInvalid(checkEnvelope, value) ?? 'unexpected shape'})`);
    if (value.code !== 200) throw new KarajoApiError(value.code, redactUrl(url), [value.name, value.message].filter(Boolean).join(': '));
    return value.data;
  }

  private async login(signal: AbortSignal): Promise<void> {
    const user = this.options.user;
    if (!user) return;
    const url = `${this.base}${API}/auth/login`;
    let res;
    try {
      res = await this.http.postForm(url, { signal, form: { name: user.name, password: user.password }, maxBytes: 64 * 1024, ...(this.options.headers ? { headers: this.options.headers } : {}) });
    } catch (err) {
      if (err instanceof UpstreamHttpError && err.status === 400) throw new SourceError('http', `karajo refused the login of user ${JSON.stringify(user.name)} (HTTP 400); check user.name and user.password`, { cause: err });
      throw err;
    }
    const cookie = /(?:^|,\s*)karajo=([^;,\s]+)/.exec(res.headers['set-cookie'] ?? '')?.[1];
    if (!cookie) throw new UpstreamPayloadError(redactUrl(url), 'the login answered without a `karajo` session cookie');
    this.cookie = cookie;
  }
}

/** A refused session: 401/403, or (with a user, whose session may have lapsed) a redirect to the login page. */
function isAuthRefusal(err: unknown, withUser: boolean): boolean {
  if (err instanceof KarajoApiError) return err.apiCode === 401 || err.apiCode === 403;
  if (err instanceof UpstreamHttpError) return err.status === 401 || err.status === 403 || (withUser && err.status >= 300 && err.status < 400);
  return false;
}
