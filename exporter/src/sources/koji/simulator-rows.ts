/**
 * The Koji simulator's rows as the hub marshals them: keys in QueryProcessor order (sorted by
 * alias, with fields added afterwards at the end, e.g. getBuild's cg_name), every NULL as nil,
 * datetimes as `isoformat(' ')` strings beside `*_ts` doubles.
 */
import type { SimChannel, SimHost } from './simulator-data.js';
import type { KojiModel } from './simulator-model.js';
import { nvr, type SimBuild, type SimEvent, type SimRepoRequest, type SimTask, type TaskResult } from './simulator-records.js';
import { encodeFault, encodeMethodCall, encodeMethodResponse, type XmlRpcStruct, type XmlRpcValue } from './xmlrpc.js';

/** `2026-11-24 06:12:35.644425+00:00` from microseconds since the epoch. */
export function fmtTime(us: number | null): string | null {
  if (us === null) return null;
  const iso = new Date(Math.floor(us / 1000)).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${String(us % 1_000_000).padStart(6, '0')}+00:00`;
}

/** date_part('epoch', ...): float seconds. */
export function ts(us: number | null): number | null {
  return us === null ? null : us / 1e6;
}

function sorted(row: XmlRpcStruct): XmlRpcStruct {
  const out: XmlRpcStruct = {};
  for (const k of Object.keys(row).sort()) out[k] = row[k] as XmlRpcValue;
  return out;
}

/** Task.fields (getTaskInfo); `request` adds the decoded request. */
export function taskInfo(t: SimTask, request = false): XmlRpcStruct {
  const row: XmlRpcStruct = {
    id: t.id, state: t.state, create_time: fmtTime(t.createUs), create_ts: ts(t.createUs), start_time: fmtTime(t.startUs), start_ts: ts(t.startUs),
    completion_time: fmtTime(t.completionUs), completion_ts: ts(t.completionUs), channel_id: t.channelId, host_id: t.hostId, parent: t.parent,
    label: t.label, waiting: t.waiting, awaited: t.awaited, owner: t.owner, method: t.method, arch: t.arch, priority: t.priority, weight: t.weight,
  };
  // getInfo adds the decoded request after the query, so at the end.
  return request ? { ...sorted(row), request: t.params } : sorted(row);
}

export function encodeResult(r: TaskResult | null): string | null {
  if (r === null) return null;
  return r.ok ? encodeMethodResponse(r.value) : encodeFault({ code: r.code, message: r.message });
}

/** A listTasks row: the task fields plus the raw request and result XML (decoded with `decode`), owner_name, owner_type. */
export function taskRow(model: KojiModel, t: SimTask, decode = false): XmlRpcStruct {
  const owner = model.user(t.owner);
  const result: XmlRpcValue = decode && t.result ? (t.result.ok ? t.result.value : { faultCode: t.result.code, faultString: t.result.message }) : encodeResult(t.result);
  return sorted({
    ...taskInfo(t), request: decode ? t.params : encodeMethodCall(t.method, t.params), result,
    owner_name: owner?.name ?? null, owner_type: owner?.type ?? 0,
  });
}

export function hostRow(model: KojiModel, h: SimHost): XmlRpcStruct {
  return {
    arches: h.arches.join(' '), capacity: h.capacity, comment: h.comment, description: h.description, enabled: h.enabled, id: h.id, name: h.name,
    ready: model.ready(h), task_load: model.load(h), update_ts: ts(h.updateUs), user_id: h.userId,
  };
}

export function channelRow(c: SimChannel): XmlRpcStruct {
  return { comment: c.comment, description: c.description, enabled: c.enabled, id: c.id, name: c.name };
}

export function eventRow(e: SimEvent): XmlRpcStruct {
  return { id: e.id, ts: ts(e.us) };
}

/** listBuilds' fields; getBuild adds id and cg_id (in order) and cg_name last. */
export function buildRow(model: KojiModel, b: SimBuild, full = false): XmlRpcStruct {
  const row: XmlRpcStruct = {
    build_id: b.id, version: b.version, release: b.release, epoch: b.pkg.name === 'openssl' ? 1 : null, draft: false, state: b.state,
    package_id: b.pkg.id, package_name: b.pkg.name, name: b.pkg.name, nvr: nvr(b), owner_id: b.ownerId, owner_name: model.user(b.ownerId)?.name ?? null,
    promoter_id: null, promoter_name: null, volume_id: 0, volume_name: 'DEFAULT', source: b.source, creation_event_id: b.createEventId,
    creation_time: fmtTime(b.createUs), creation_ts: ts(b.createUs), start_time: fmtTime(b.startUs), start_ts: ts(b.startUs),
    completion_time: fmtTime(b.completionUs), completion_ts: ts(b.completionUs), promotion_time: null, promotion_ts: null, task_id: b.taskId,
    extra: { source: { original_url: b.source } },
  };
  if (!full) return sorted(row);
  return { ...sorted({ ...row, id: b.id, cg_id: null }), cg_name: null };
}

export const QUEUE_FIELDS = ['active', 'at_event', 'create_time', 'create_ts', 'id', 'min_event', 'opts', 'owner', 'owner_name', 'priority', 'repo_id', 'score', 'tag_id', 'tag_name', 'task_id', 'task_state', 'tries', 'update_time', 'update_ts'];
export const QUEUE_DEFAULT_FIELDS = ['id', 'tag_id', 'at_event', 'min_event', 'score', 'create_ts', 'task_id', 'tries', 'repo_id', 'opts', 'active', 'update_ts'];

/** Every RepoQueueQuery field of a request. */
export function queueRow(model: KojiModel, r: SimRepoRequest): XmlRpcStruct {
  const kojira = model.users.find((u) => u.name === 'kojira');
  return {
    active: r.active, at_event: null, create_time: fmtTime(r.createUs), create_ts: ts(r.createUs), id: r.id, min_event: r.minEvent, opts: {},
    owner: kojira?.id ?? null, owner_name: kojira?.name ?? null, priority: 20, repo_id: r.repoId, score: null, tag_id: r.tagId, tag_name: r.tagName,
    task_id: r.taskId, task_state: r.taskId === null ? null : model.task(r.taskId)?.state ?? null, tries: r.tries, update_time: fmtTime(r.updateUs),
    update_ts: ts(r.updateUs),
  };
}
