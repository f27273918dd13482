/**
 * The Koji simulator's hub methods (kojihub.py / repos.py semantics for the read calls a monitor
 * makes), dispatch by name with Koji's argument rules, and multiCall: one entry per call, `[result]`
 * or a `{faultCode, faultString, traceback}` struct, later calls still running. Pure functions of
 * the model; errors are thrown as HubFault.
 */
import { arg, asInt, asList, asStruct, bindArgs, castInt, genericError, HubFault, parameterError, pyType, queryOpts, runQuery, timeUs, truthy, type Args, type Signature } from './simulator-args.js';
import { channelRow, eventRow, hostRow, QUEUE_DEFAULT_FIELDS, QUEUE_FIELDS, queueRow, taskInfo, taskRow } from './simulator-rows.js';
import type { KojiModel } from './simulator-model.js';
import { TASK, type SimTask } from './simulator-records.js';
import { listBuilds, getBuild } from './simulator-builds.js';
import { isStruct, multiCallValue, type MultiCallResult, type XmlRpcStruct, type XmlRpcValue } from './xmlrpc.js';

export interface HubContext {
  model: KojiModel;
  inMulticall: boolean;
}

type Handler = (ctx: HubContext, a: Args) => XmlRpcValue;

const TIME_OPTS: [string, 'createUs' | 'startUs' | 'completionUs', '<' | '>'][] = [
  ['createdBefore', 'createUs', '<'], ['createdAfter', 'createUs', '>'], ['startedBefore', 'startUs', '<'], ['startedAfter', 'startUs', '>'],
  ['completeBefore', 'completionUs', '<'], ['completeAfter', 'completionUs', '>'], ['completedBefore', 'completionUs', '<'], ['completedAfter', 'completionUs', '>'],
];
const TASK_ALIASES = ['arch', 'awaited', 'channel_id', 'completion_time', 'completion_ts', 'create_time', 'create_ts', 'host_id', 'id', 'label', 'method', 'owner', 'owner_name', 'owner_type', 'parent', 'priority', 'request', 'result', 'start_time', 'start_ts', 'state', 'waiting', 'weight'];
const HOST_ALIASES = ['arches', 'capacity', 'comment', 'description', 'enabled', 'id', 'name', 'ready', 'task_load', 'update_ts', 'user_id'];

/** SQL semantics: `col IN (...)` and `col = x` never match NULL; neither do NOT IN and `!=`. */
function sqlMatch(col: XmlRpcValue, want: XmlRpcValue, negate: boolean, name: string, column: 'int' | 'str'): boolean {
  if (want === null) return negate ? col !== null : col === null;
  if (col === null) return false;
  const cast = (v: XmlRpcValue): XmlRpcValue => (column === 'int' ? asInt(v, name) : v);
  const hit = Array.isArray(want) ? want.map(cast).includes(col) : cast(want) === col;
  return negate ? !hit : hit;
}

function listTasks(ctx: HubContext, a: Args): XmlRpcValue {
  const opts = asStruct(arg(a, 'opts'), 'opts');
  const q = queryOpts(arg(a, 'queryOpts'));
  const has = (k: string): boolean => Object.hasOwn(opts, k);
  const filters: ((t: SimTask) => boolean)[] = [];
  for (const f of ['arch', 'state'] as const) {
    const col = (t: SimTask): XmlRpcValue => (f === 'arch' ? t.arch : t.state);
    const kind = f === 'arch' ? 'str' : 'int';
    if (has(f)) filters.push((t) => sqlMatch(col(t), asList(opts[f] as XmlRpcValue, f), false, f, kind));
    if (has(`not_${f}`)) filters.push((t) => sqlMatch(col(t), asList(opts[`not_${f}`] as XmlRpcValue, `not_${f}`), true, f, kind));
  }
  const cols = { owner: (t: SimTask) => t.owner, host_id: (t: SimTask) => t.hostId, channel_id: (t: SimTask) => t.channelId, parent: (t: SimTask) => t.parent };
  for (const [f, col] of Object.entries(cols)) {
    if (has(f)) filters.push((t) => sqlMatch(col(t), opts[f] as XmlRpcValue, false, f, 'int'));
    if (has(`not_${f}`)) filters.push((t) => sqlMatch(col(t), opts[`not_${f}`] as XmlRpcValue, true, f, 'int'));
  }
  if (has('method')) {
    const m = opts.method as XmlRpcValue;
    filters.push((t) => t.method === m);
  }
  for (const [key, field, cmp] of TIME_OPTS) {
    const v = opts[key];
    if (v === undefined || v === null) continue;
    const us = timeUs(v, key);
    filters.push((t) => t[field] !== null && (cmp === '<' ? (t[field] as number) < us : (t[field] as number) > us));
  }
  const list = ctx.model.tasks.filter((t) => filters.every((f) => f(t)));
  const decode = truthy(opts.decode ?? null);
  return runQuery(list, q, TASK_ALIASES, (t, alias) => (alias in INFO_KEYS ? (taskInfo(t)[alias] as XmlRpcValue) : (taskRow(ctx.model, t)[alias] as XmlRpcValue)), (t) => taskRow(ctx.model, t, decode));
}
const INFO_KEYS: Record<string, true> = Object.fromEntries(TASK_ALIASES.filter((k) => !['owner_name', 'owner_type', 'request', 'result'].includes(k)).map((k) => [k, true]));

function getTaskInfo(ctx: HubContext, a: Args): XmlRpcValue {
  const id = arg(a, 'task_id');
  const request = truthy(arg(a, 'request'));
  const one = (v: XmlRpcValue, strict: boolean): XmlRpcValue => {
    const t = ctx.model.task(castInt(v));
    if (!t && strict) throw genericError('query returned no rows');
    return t ? taskInfo(t, request) : null;
  };
  // A list: the strict flag is not passed on (kojihub getTaskInfo).
  return Array.isArray(id) ? id.map((v) => one(v, false)) : one(id, truthy(arg(a, 'strict')));
}

function getTaskChildren(ctx: HubContext, a: Args): XmlRpcValue {
  const id = castInt(arg(a, 'task_id'));
  if (truthy(arg(a, 'strict')) && !ctx.model.task(id)) throw genericError('query returned no rows');
  const request = truthy(arg(a, 'request'));
  const rows = ctx.model.tasks.filter((t) => t.parent === id).map((t) => taskInfo(t));
  if (!request) return rows;
  return rows.map((r) => Object.fromEntries(Object.entries({ ...r, request: ctx.model.task(r.id as number)?.params ?? [] }).sort(([x], [y]) => (x < y ? -1 : 1))));
}

function getTaskResult(ctx: HubContext, a: Args): XmlRpcValue {
  const t = ctx.model.task(castInt(arg(a, 'taskId')));
  if (!t) throw genericError('No such task');
  if (t.state === TASK.CANCELED) throw genericError(`Task ${t.id} is canceled`);
  if ((t.state !== TASK.CLOSED && t.state !== TASK.FAILED) || !t.result) throw genericError(`Task ${t.id} is not finished`);
  if (t.result.ok) return t.result.value;
  if (truthy(arg(a, 'raise_fault'))) throw new HubFault(t.result.code, t.result.message, true);
  return { faultCode: t.result.code, faultString: t.result.message };
}

function userId(ctx: HubContext, v: XmlRpcValue): number {
  const u = typeof v === 'string' ? ctx.model.users.find((x) => x.name === v) : ctx.model.user(asInt(v, 'userID'));
  if (!u) throw genericError(`No such user: ${typeof v === 'string' ? `'${v}'` : String(v)}`);
  return u.id;
}

function listHosts(ctx: HubContext, a: Args): XmlRpcValue {
  const { model } = ctx;
  let hosts = [...model.hosts];
  const arches = arg(a, 'arches');
  if (arches !== null) {
    const want = typeof arches === 'string' ? [arches] : asList(arches, 'arches');
    if (want.length === 0) throw genericError('Requires at least one arch');
    hosts = hosts.filter((h) => want.some((x) => typeof x === 'string' && h.arches.includes(x)));
  }
  const channel = arg(a, 'channelID');
  if (channel !== null) {
    const c = model.channels.find((x) => (typeof channel === 'string' ? x.name === channel : x.id === asInt(channel, 'channelID')));
    if (!c) throw genericError(`No such channel: ${String(channel)}`);
    hosts = hosts.filter((h) => h.channels.includes(c.id));
  }
  const ready = arg(a, 'ready');
  if (ready !== null) hosts = hosts.filter((h) => model.ready(h) === truthy(ready));
  const enabled = arg(a, 'enabled');
  if (enabled !== null) hosts = hosts.filter((h) => h.enabled === truthy(enabled));
  const user = arg(a, 'userID');
  if (user !== null) {
    const id = userId(ctx, user);
    hosts = hosts.filter((h) => h.userId === id);
  }
  return runQuery(hosts, queryOpts(arg(a, 'queryOpts')), HOST_ALIASES, (h, alias) => hostRow(model, h)[alias] ?? null, (h) => hostRow(model, h));
}

function getHost(ctx: HubContext, a: Args): XmlRpcValue {
  const info = arg(a, 'hostInfo');
  if (typeof info !== 'string' && (typeof info !== 'number' || !Number.isInteger(info))) throw genericError(`Invalid type for hostInfo: ${pyType(info)}`);
  const h = ctx.model.host(info);
  if (!h && truthy(arg(a, 'strict'))) throw genericError(`Invalid hostInfo: ${info}`);
  return h ? hostRow(ctx.model, h) : null;
}

function listChannels(ctx: HubContext, a: Args): XmlRpcValue {
  let list = [...ctx.model.channels];
  const hostID = arg(a, 'hostID');
  if (hostID !== null) {
    const h = typeof hostID === 'string' ? ctx.model.host(hostID) : ctx.model.host(asInt(hostID, 'hostID'));
    if (!h && typeof hostID === 'string') throw genericError(`Invalid hostInfo: ${hostID}`);
    list = list.filter((c) => h?.channels.includes(c.id) === true);
  }
  const enabled = arg(a, 'enabled');
  if (enabled !== null) list = list.filter((c) => c.enabled === truthy(enabled));
  return list.map(channelRow);
}

function getLastEvent(ctx: HubContext, a: Args): XmlRpcValue {
  const before = arg(a, 'before');
  if (before === null) return eventRow(ctx.model.lastEvent());
  if (typeof before !== 'number') throw genericError(`Invalid type for before: ${pyType(before)}`);
  const limit = Math.round(before * 1e6);
  const ev = [...ctx.model.events].reverse().find((e) => e.us < limit);
  if (!ev && truthy(arg(a, 'strict'))) throw genericError('query returned no rows');
  return ev ? eventRow(ev) : null;
}

const QUEUE_OPS = ['=', '!=', '<', '>', '<=', '>=', 'IS', 'IS NOT', 'IN', 'NOT IN'];

function queryQueue(ctx: HubContext, a: Args): XmlRpcValue {
  const clauses = arg(a, 'clauses') === null ? [] : asList(arg(a, 'clauses'), 'clauses');
  const tests = clauses.map((c) => {
    if (!Array.isArray(c) || c.length !== 3) throw parameterError(`Invalid clause: ${JSON.stringify(c)}`);
    const [field, op, value] = c as [XmlRpcValue, XmlRpcValue, XmlRpcValue];
    if (typeof field !== 'string' || !QUEUE_FIELDS.includes(field)) throw parameterError(`Invalid field: ${String(field)}`);
    if (typeof op !== 'string' || !QUEUE_OPS.includes(op.toUpperCase())) throw parameterError(`Invalid operator: ${String(op)}`);
    return (row: XmlRpcStruct): boolean => {
      const v = row[field] ?? null;
      switch (op.toUpperCase()) {
        case 'IS': return v === value;
        case 'IS NOT': return v !== value;
        case 'IN': return v !== null && asList(value, field).includes(v);
        case 'NOT IN': return v !== null && !asList(value, field).includes(v);
        default: {
          if (v === null || value === null) return false;
          const [x, y] = [v as number, value as number];
          return op === '=' ? x === y : op === '!=' ? x !== y : op === '<' ? x < y : op === '>' ? x > y : op === '<=' ? x <= y : x >= y;
        }
      }
    };
  });
  const f = arg(a, 'fields');
  const fields = f === null ? QUEUE_DEFAULT_FIELDS : f === '*' || f === '**' ? QUEUE_FIELDS : asList(f, 'fields').map((x) => {
    if (typeof x !== 'string' || !QUEUE_FIELDS.includes(x)) throw parameterError(`Invalid field: ${String(x)}`);
    return x;
  });
  const rows = ctx.model.repoQueue.map((r) => queueRow(ctx.model, r)).filter((row) => tests.every((t) => t(row)));
  const pick = (row: XmlRpcStruct): XmlRpcStruct => Object.fromEntries([...fields].sort().map((k) => [k, row[k] ?? null]));
  return runQuery(rows, queryOpts(arg(a, 'opts'), 'opts'), QUEUE_FIELDS, (row, alias) => row[alias] ?? null, pick);
}

const TRACE_HEAD = 'Traceback (most recent call last):\n';
function traceback(method: string, e: HubFault): string[] {
  const cls = e.code === 1019 ? 'koji.ParameterError' : e.code === 1 ? 'Exception' : 'koji.GenericError';
  return [TRACE_HEAD, '  File "/usr/lib/python3.13/site-packages/kojihub/kojixmlrpc.py", line 436, in multiCall\n    result = self._dispatch(call[\'methodName\'], call[\'params\'])\n', `  File "/usr/lib/python3.13/site-packages/kojihub/kojixmlrpc.py", line 287, in _dispatch\n    ret = koji.util.call_with_argcheck(func, params, opts)  # ${method}\n`, `${cls}: ${e.message}\n`];
}

function multiCall(ctx: HubContext, a: Args): XmlRpcValue {
  if (ctx.inMulticall) throw genericError('multicall calls cannot be nested');
  const calls = asList(arg(a, 'calls'), 'calls');
  const inner: HubContext = { ...ctx, inMulticall: true };
  const results: MultiCallResult[] = calls.map((c) => {
    const name = isStruct(c) && typeof c.methodName === 'string' ? c.methodName : '?';
    try {
      if (!isStruct(c) || typeof c.methodName !== 'string' || !Array.isArray(c.params)) throw genericError('a multicall entry needs methodName (string) and params (array)');
      return { ok: true, value: dispatch(inner, c.methodName, c.params) };
    } catch (e) {
      const f = e instanceof HubFault ? e : new HubFault(1, `<class 'Exception'>: ${e instanceof Error ? e.message : String(e)}`);
      return { ok: false, fault: { code: f.code, message: f.message, ...(f.reraised ? {} : { traceback: traceback(name, f) }) } };
    }
  });
  return multiCallValue(results);
}

const METHODS: Record<string, [Signature, Handler]> = {
  getAPIVersion: [{ args: [] }, () => 1],
  getKojiVersion: [{ args: [] }, () => '1.35.3'],
  getLoggedInUser: [{ args: [] }, () => null],
  echo: [{ args: [], varargs: true }, (_c, a) => arg(a, 'args')],
  getLastEvent: [{ args: ['before', 'strict'], defaults: { strict: true } }, getLastEvent],
  listTasks: [{ args: ['opts', 'queryOpts'] }, listTasks],
  getTaskInfo: [{ args: ['task_id', 'request', 'strict'], required: 1, defaults: { request: false, strict: false } }, getTaskInfo],
  getTaskChildren: [{ args: ['task_id', 'request', 'strict'], required: 1, defaults: { request: false, strict: false } }, getTaskChildren],
  getTaskResult: [{ args: ['taskId', 'raise_fault'], required: 1, defaults: { raise_fault: true } }, getTaskResult],
  listHosts: [{ args: ['arches', 'channelID', 'ready', 'enabled', 'userID', 'queryOpts'] }, listHosts],
  getHost: [{ args: ['hostInfo', 'strict', 'event'], required: 1, defaults: { strict: false } }, getHost],
  listChannels: [{ args: ['hostID', 'event', 'enabled'] }, listChannels],
  listBuilds: [{ args: ['packageID', 'userID', 'taskID', 'prefix', 'state', 'volumeID', 'source', 'createdBefore', 'createdAfter', 'completeBefore', 'completeAfter', 'type', 'typeInfo', 'queryOpts', 'pattern', 'cgID', 'draft', 'promotedBefore', 'promotedAfter', 'promoter'] }, (c, a) => listBuilds(c.model, a)],
  getBuild: [{ args: ['buildInfo', 'strict'], required: 1, defaults: { strict: false } }, (c, a) => getBuild(c.model, a)],
  'repo.queryQueue': [{ args: ['clauses', 'fields', 'opts'] }, queryQueue],
  multiCall: [{ args: ['calls'], required: 1 }, multiCall],
  'system.multicall': [{ args: ['calls'], required: 1 }, multiCall],
  'system.listMethods': [{ args: [] }, () => Object.keys(METHODS).sort()],
};

/** Call a hub method by name; throws HubFault. */
export function dispatch(ctx: HubContext, method: string, params: readonly XmlRpcValue[]): XmlRpcValue {
  const entry = Object.hasOwn(METHODS, method) ? METHODS[method] : undefined;
  if (!entry) throw genericError(`Invalid method: ${method}`);
  const [sig, handler] = entry;
  return handler(ctx, bindArgs(method, sig, params));
}

/** The method names of a call: the method, then each multiCall entry's. */
export function callNames(method: string, params: readonly XmlRpcValue[]): string[] {
  if (method !== 'multiCall' && method !== 'system.multicall') return [method];
  const first = params[0];
  const calls = isStruct(first) && truthy(first.__starstar ?? null) ? first.calls : first;
  return [method, ...(Array.isArray(calls) ? calls.map((c) => (isStruct(c) && typeof c.methodName === 'string' ? c.methodName : '?')) : [])];
}
