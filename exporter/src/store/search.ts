/**
 * Full-text search with taskoteka's semantics: space-separated terms, all must match (AND),
 * case-insensitive substring over id, owner, repo, state, message and subtask fields;
 * each hit lists where every term matched (`repo:p11`, `300/pkgname:lib`).
 */
import type { Task } from '../model/task.js';

export const SEARCH_LIMITS = { maxChars: 200, maxTerms: 10, minTermChars: 2 } as const;

export class SearchQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SearchQueryError';
  }
}

/** Split and validate a query; throws SearchQueryError with a message fit for a 400 answer. */
export function parseSearch(q: string): string[] {
  if (q.length > SEARCH_LIMITS.maxChars) {
    throw new SearchQueryError(`search query too long: ${q.length} characters, at most ${SEARCH_LIMITS.maxChars}`);
  }
  const terms = q
    .toLowerCase()
    .split(/\s+/)
    .filter((t) => t.length > 0);
  if (terms.length === 0) throw new SearchQueryError('search query is empty: give at least one term of 2 or more characters');
  if (terms.length > SEARCH_LIMITS.maxTerms) {
    throw new SearchQueryError(`search query has ${terms.length} terms, at most ${SEARCH_LIMITS.maxTerms}`);
  }
  const short = terms.find((t) => t.length < SEARCH_LIMITS.minTermChars);
  if (short !== undefined) {
    throw new SearchQueryError(`search term "${short}" is too short: each term needs at least ${SEARCH_LIMITS.minTermChars} characters`);
  }
  return [...new Set(terms)];
}

/** A task's searchable text, lower-cased once at ingest: [where, text] pairs. */
export type SearchDoc = ReadonlyArray<readonly [string, string]>;

export function buildSearchDoc(task: Task): SearchDoc {
  const doc: [string, string][] = [['id', task.id.toLowerCase()], ['state', task.state.toLowerCase()]];
  if (task.owner) doc.push(['owner', task.owner.toLowerCase()]);
  if (task.repo) doc.push(['repo', task.repo.toLowerCase()]);
  if (task.message) doc.push(['message', task.message.toLowerCase()]);
  for (const sub of task.subtasks) {
    if (!sub.fields) continue;
    for (const [name, value] of Object.entries(sub.fields)) {
      if (value) doc.push([`${sub.id}/${name}`, value.toLowerCase()]);
    }
  }
  return doc;
}

/**
 * A task's searchable text as one lower-case string, its fields joined by newlines: a term holds
 * no whitespace, so it is a substring of this text exactly when it is a substring of one field.
 * Built once per task version at ingest; a query tests each task with one `includes` per term.
 */
export function buildSearchText(task: Task): string {
  const parts = [task.id, task.state];
  if (task.owner) parts.push(task.owner);
  if (task.repo) parts.push(task.repo);
  if (task.message) parts.push(task.message);
  for (const sub of task.subtasks) {
    if (!sub.fields) continue;
    for (const value of Object.values(sub.fields)) if (value) parts.push(value);
  }
  return parts.join('\n').toLowerCase();
}

/** Put search terms in the order that rejects a non-matching text soonest: longest first. */
export function searchOrder(terms: readonly string[]): string[] {
  return [...terms].sort((a, b) => b.length - a.length);
}

/** True when every term is in the text (see buildSearchText). */
export function matchesAll(text: string, terms: readonly string[]): boolean {
  for (const term of terms) if (!text.includes(term)) return false;
  return true;
}

/** The sorted `where:term` list when every term matches, else undefined. */
export function matchSearch(doc: SearchDoc, terms: readonly string[]): string[] | undefined {
  const matches: string[] = [];
  for (const term of terms) {
    let hit = false;
    for (const [where, text] of doc) {
      if (text.includes(term)) {
        matches.push(`${where}:${term}`);
        hit = true;
      }
    }
    if (!hit) return undefined;
  }
  return [...new Set(matches)].sort();
}
