/**
 * The query parameters of taskoteka's `GET /tasks` and `GET /tasks/{id}`, read as taskoteka reads
 * them: unknown parameters are ignored (a taskoteka client may send ones a newer taskoteka knows),
 * a known parameter with a bad value is a 400. A repeated parameter counts once: its first value
 * (lists: every value, as if comma-joined).
 */
import { GIRAR_DEFAULT_STATES, GIRAR_STATES } from '../../sources/girar/normalize.js';
import type { ApprovalGroup } from '../../sources/girar/compat-backend.js';
import { parseSearch, SearchQueryError } from '../../store/search.js';
import { badRequest } from '../errors.js';

export type RawQuery = Readonly<Record<string, string | string[] | undefined>>;

/** `GET /tasks` as asked. */
export interface ListQuery {
  /** Explicit states; 'ALL' = no filter; undefined = taskoteka's default states. */
  states: string[] | 'ALL' | undefined;
  /** undefined = every repo. */
  repos: string[] | undefined;
  /** undefined = every owner. */
  user: string | undefined;
  brief: boolean;
  needsApproval: ApprovalGroup | undefined;
  /** Parsed search terms. */
  terms: string[] | undefined;
}

const ALL = 'ALL';
const BRIEF_TRUE = new Set(['true', '1', 'yes']);

function first(q: RawQuery, name: string): string | undefined {
  const v = q[name];
  return Array.isArray(v) ? v[0] : v;
}

function list(q: RawQuery, name: string): string[] | undefined {
  const v = q[name];
  if (v === undefined) return undefined;
  const values = (Array.isArray(v) ? v : [v]).flatMap((part) => part.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  return values.length > 0 ? [...new Set(values)] : undefined;
}

/** `brief`: `true`, `1` or `yes` (any case); any other value means a full answer. */
export function isBrief(q: RawQuery): boolean {
  const v = first(q, 'brief');
  return v !== undefined && BRIEF_TRUE.has(v.trim().toLowerCase());
}

/**
 * `state`: comma list, any case; `ALL` lifts every state filter. girar's 13 states are valid
 * (the README's 12 and FAILURE), and so is any state a task of the source is in now, so a state
 * a newer girar adds can be asked for as soon as it shows up.
 */
function parseStates(q: RawQuery, known: Iterable<string>): string[] | 'ALL' | undefined {
  const values = list(q, 'state')?.map((s) => s.toUpperCase());
  if (values === undefined) return undefined;
  if (values.includes(ALL)) return ALL;
  const valid = new Set<string>([...GIRAR_STATES, ...known]);
  const bad = values.filter((s) => !valid.has(s));
  if (bad.length > 0) {
    throw badRequest(`invalid state${bad.length === 1 ? '' : 's'} ${bad.join(', ')}: expected a comma-separated list of ${[...valid].join(', ')}, or ALL`);
  }
  return values;
}

/**
 * Read the `GET /tasks` parameters; throws a 400 ApiError for a bad value. `knownStates`: states
 * the source's tasks are in beyond girar's 13 (see parseStates).
 */
export function parseListQuery(q: RawQuery, knownStates: Iterable<string>): ListQuery {
  const rawGroup = first(q, 'needs_approval');
  const rawSearch = first(q, 'q');
  let needsApproval: ApprovalGroup | undefined;
  if (rawGroup !== undefined) {
    const group = rawGroup.trim().toLowerCase();
    if (group !== 'maint' && group !== 'tester') throw badRequest(`invalid needs_approval value ${JSON.stringify(rawGroup)}: expected maint or tester`);
    if (rawSearch !== undefined) throw badRequest('q cannot be combined with needs_approval: use one or the other');
    needsApproval = group;
  }
  let terms: string[] | undefined;
  if (rawSearch !== undefined) {
    try {
      terms = parseSearch(rawSearch);
    } catch (err) {
      if (err instanceof SearchQueryError) throw badRequest(err.message);
      throw err;
    }
  }
  const repos = list(q, 'repo');
  const user = first(q, 'user')?.trim();
  return {
    states: parseStates(q, knownStates),
    repos: repos === undefined || repos.includes(ALL) ? undefined : repos,
    user: user === undefined || user === '' || user === ALL ? undefined : user,
    brief: isBrief(q),
    needsApproval,
    terms,
  };
}

/**
 * The states to list: the ones asked for; with needs_approval always EPERM; else taskoteka's
 * defaults: without user and q the queue states, with either every state but DONE (of the states
 * tasks are in, so one girar adds later is listed too).
 */
export function effectiveStates(query: ListQuery, knownStates: Iterable<string>): string[] | 'ALL' {
  if (query.needsApproval) return ['EPERM'];
  if (query.states !== undefined) return query.states;
  if (query.user === undefined && query.terms === undefined) return [...GIRAR_DEFAULT_STATES.active];
  const hidden = new Set(GIRAR_DEFAULT_STATES.hiddenWhenPersonal);
  return [...new Set([...GIRAR_STATES, ...knownStates])].filter((s) => !hidden.has(s));
}

/** A task id in a path: a positive (safe) integer in decimal digits; leading zeros are read away. */
export function parseTaskId(raw: string): number {
  const id = /^\d{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(id) || id < 1) throw badRequest(`invalid task id ${JSON.stringify(raw)}: expected a positive integer`);
  return id;
}
