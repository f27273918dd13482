/**
 * Cuirass web API client: I/O and boundary validation only. Lists are checked entry by entry so
 * one odd build does not hide the rest. Cuirass answers HTTP 500 (not 400) for a missing or too
 * large `nr`, and HTML for its status pages: both come back as clear errors.
 */
import type { TSchema, Static } from '@sinclair/typebox';
import type { TypeCheck } from '@sinclair/typebox/compiler';
import { UpstreamHttpError, UpstreamPayloadError, redactUrl } from '../errors.js';
import type { UpstreamHttp } from '../http.js';
import { describeInvalid } from '../validate.js';
import { checkBuild, checkEvaluation, checkSpecification, type Build, type Evaluation, type Specification } from './upstream.js';

export interface CheckedList<T> {
  entries: T[];
  /** Entries left out: where in the list, the id when it has one, and why. */
  rejected: { index: number; id?: string; message: string }[];
}

export class CuirassClient {
  readonly base: string;

  constructor(
    private readonly http: UpstreamHttp,
    private readonly options: { url: string; maxBodyBytes: number },
  ) {
    this.base = options.url.replace(/\/+$/, '');
  }

  /** `GET /api/queue?nr=N`: pending builds (submitted, scheduled, started), running ones first. */
  queue(nr: number, signal: AbortSignal): Promise<CheckedList<Build>> {
    return this.list(`/api/queue?nr=${nr}`, checkBuild, signal);
  }

  /** `GET /api/latestbuilds?nr=N`: finished builds, newest evaluation first. */
  latestBuilds(nr: number, signal: AbortSignal): Promise<CheckedList<Build>> {
    return this.list(`/api/latestbuilds?nr=${nr}`, checkBuild, signal);
  }

  /** `GET /api/evaluations?nr=N`: newest first. */
  evaluations(nr: number, signal: AbortSignal): Promise<CheckedList<Evaluation>> {
    return this.list(`/api/evaluations?nr=${nr}`, checkEvaluation, signal);
  }

  /** `GET /specifications` (there is no /api/specifications). */
  specifications(signal: AbortSignal): Promise<CheckedList<Specification>> {
    return this.list('/specifications', checkSpecification, signal);
  }

  /** `GET /build/{id}`, or undefined when Cuirass does not know it (404). */
  async build(id: number, signal: AbortSignal): Promise<Build | undefined> {
    const url = `${this.base}/build/${id}`;
    try {
      const { value } = await this.http.getJson(url, { signal, maxBytes: this.options.maxBodyBytes });
      if (checkBuild.Check(value)) return value;
      throw new UpstreamPayloadError(redactUrl(url), `not a Cuirass build (${describeInvalid(checkBuild, value) ?? 'unexpected shape'})`);
    } catch (err) {
      if (err instanceof UpstreamHttpError && err.status === 404) return undefined;
      throw err;
    }
  }

  private async list<T extends TSchema>(path: string, check: TypeCheck<T>, signal: AbortSignal): Promise<CheckedList<Static<T>>> {
    const url = `${this.base}${path}`;
    const { value } = await this.http.getJson(url, { signal, maxBytes: this.options.maxBodyBytes });
    if (!Array.isArray(value)) throw new UpstreamPayloadError(redactUrl(url), `expected a JSON array, got ${value === null ? 'null' : typeof value}; check that the URL points at \`cuirass web\``);
    const out: CheckedList<Static<T>> = { entries: [], rejected: [] };
    value.forEach((entry: unknown, index) => {
      if (check.Check(entry)) out.entries.push(entry);
      else {
        const raw = entry !== null && typeof entry === 'object' ? (entry as Record<string, unknown>).id ?? (entry as Record<string, unknown>).name : undefined;
        out.rejected.push({ index, ...(typeof raw === 'number' || typeof raw === 'string' ? { id: String(raw).slice(0, 100) } : {}), message: describeInvalid(check, entry) ?? 'unexpected shape' });
      }
    });
    // A few odd records are theirs to answer for; every one of several is this list's format.
    const first = out.rejected[0];
    if (out.entries.length === 0 && out.rejected.length >= ALL_REJECTED_FROM && first) {
      throw new UpstreamPayloadError(redactUrl(url), `none of its ${out.rejected.length} entries has the expected shape (entry ${first.index}: ${first.message}); check that the URL points at \`cuirass web\` of a supported version`);
    }
    return out;
  }
}

/** A list this long with not one usable entry fails the poll instead of counting record problems. */
export const ALL_REJECTED_FROM = 3;
