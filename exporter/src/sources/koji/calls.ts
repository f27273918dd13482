/**
 * The hub calls a poll sends, as Koji's signatures take them (reference/koji.md §4, §7). Every
 * listing is bounded by `queryOpts.limit`: Koji's task rows carry their request and result XML.
 * Times sent to the hub are epoch seconds (floats), compared strictly (`>`).
 */
import type { KojiCall } from './client.js';
import { TASK_STATE } from './upstream.js';
import { kwargs, type XmlRpcValue } from './xmlrpc.js';

/** Task states counted on the hub each poll: the unfinished ones (terminal counts grow without bound and are slow to count on a big hub). */
export const COUNTED_STATES = ['FREE', 'ASSIGNED', 'OPEN'] as const;

const count: XmlRpcValue = { countOnly: true };

/** The first multiCall of every poll: liveness, hub-side counts, hosts and channels. */
export function statusCalls(opts: { repoQueue: boolean; version: boolean }): KojiCall[] {
  const calls: KojiCall[] = [
    { method: 'getLastEvent', params: [] },
    ...COUNTED_STATES.map((s) => ({ method: 'listTasks', params: [{ state: [TASK_STATE[s]] }, count] })),
    { method: 'listHosts', params: [] },
    { method: 'listChannels', params: [] },
    { method: 'listBuilds', params: [kwargs({ state: 0, queryOpts: count })] },
  ];
  if (opts.repoQueue) calls.push({ method: 'repo.queryQueue', params: [[['active', 'IS', true]], null, count] });
  if (opts.version) calls.push({ method: 'getKojiVersion', params: [] });
  return calls;
}

export const STATUS_INDEX = { lastEvent: 0, counts: 1, hosts: 4, channels: 5, buildsBuilding: 6, repoQueue: 7 } as const;

/** A page of an incremental listing: rows after `since`, skipping the first `offset` of them. */
export interface Page {
  since: number;
  offset: number;
}

/** Ascending page of tasks whose `filter` time is after `since` (ties in id order, so `offset` is stable). */
export function tasksAfter(filter: 'createdAfter' | 'startedAfter' | 'completeAfter', page: Page, limit: number): KojiCall {
  const order = filter === 'createdAfter' ? 'create_ts' : filter === 'startedAfter' ? 'start_ts' : 'completion_ts';
  return { method: 'listTasks', params: [{ [filter]: page.since }, { order: `${order},id`, limit, ...(page.offset > 0 ? { offset: page.offset } : {}) }] };
}

/** Tasks in the given states, newest first. */
export function tasksInStates(states: readonly number[], limit: number, order = '-id'): KojiCall {
  return { method: 'listTasks', params: [{ state: [...states] }, { order, limit }] };
}

/** The newest tasks finished after `since` (first poll: what the look-back shows). */
export function tasksFinishedSince(since: number, limit: number): KojiCall {
  return { method: 'listTasks', params: [{ completeAfter: since }, { order: '-completion_ts', limit }] };
}

/** getTaskInfo for several ids at once: a list with nil for ids the hub does not know. */
export function taskInfo(ids: readonly number[]): KojiCall {
  return { method: 'getTaskInfo', params: [[...ids], false] };
}

export function buildsAfter(filter: 'createdAfter' | 'completeAfter', page: Page, limit: number, order?: string): KojiCall {
  const queryOpts = { order: order ?? (filter === 'createdAfter' ? 'creation_ts,build_id' : 'completion_ts,build_id'), limit, ...(page.offset > 0 ? { offset: page.offset } : {}) };
  return { method: 'listBuilds', params: [kwargs({ [filter]: page.since, queryOpts })] };
}

export function buildsBuilding(limit: number): KojiCall {
  return { method: 'listBuilds', params: [kwargs({ state: 0, queryOpts: { order: '-build_id', limit } })] };
}

export function getBuild(id: number): KojiCall {
  return { method: 'getBuild', params: [id] };
}

export function hostsInChannel(channelId: number): KojiCall {
  return { method: 'listHosts', params: [kwargs({ channelID: channelId })] };
}
