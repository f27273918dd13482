/**
 * The Koji simulator's listBuilds and getBuild (kojihub.py list_builds / get_build): filters
 * applied like the SQL clauses (time filters only when truthy, strict comparisons, NULL never
 * matching), queryOpts through the shared query runner.
 */
import { arg, asInt, genericError, pyType, queryOpts, runQuery, timeUs, truthy, type Args } from './simulator-args.js';
import { buildRow } from './simulator-rows.js';
import type { KojiModel } from './simulator-model.js';
import { nvr, type SimBuild } from './simulator-records.js';
import { isStruct, type XmlRpcValue } from './xmlrpc.js';

const BUILD_ALIASES = [
  'build_id', 'completion_time', 'completion_ts', 'creation_event_id', 'creation_time', 'creation_ts', 'draft', 'epoch', 'extra', 'name', 'nvr', 'owner_id',
  'owner_name', 'package_id', 'package_name', 'promoter_id', 'promoter_name', 'promotion_time', 'promotion_ts', 'release', 'source', 'start_time',
  'start_ts', 'state', 'task_id', 'version', 'volume_id', 'volume_name',
];
const BUILD_TYPES = ['rpm', 'maven', 'win', 'image'];

function glob(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}

export function listBuilds(model: KojiModel, a: Args): XmlRpcValue {
  const filters: ((b: SimBuild) => boolean)[] = [];
  const v = (name: string): XmlRpcValue => arg(a, name);
  if (v('packageID') !== null) {
    const p = v('packageID');
    const id = typeof p === 'string' ? model.builds.find((b) => b.pkg.name === p)?.pkg.id ?? -1 : asInt(p, 'packageID');
    filters.push((b) => b.pkg.id === id);
  }
  if (v('userID') !== null) {
    const u = v('userID');
    const user = typeof u === 'string' ? model.users.find((x) => x.name === u) : model.user(asInt(u, 'userID'));
    if (!user) throw genericError(`No such user: ${String(u)}`);
    filters.push((b) => b.ownerId === user.id);
  }
  if (v('taskID') !== null) {
    const id = asInt(v('taskID'), 'taskID');
    filters.push((b) => (id === -1 ? b.taskId !== null : b.taskId === id));
  }
  const prefix = v('prefix');
  if (truthy(prefix)) filters.push((b) => b.pkg.name.toLowerCase().startsWith(String(prefix).toLowerCase()));
  if (v('state') !== null) {
    const s = asInt(v('state'), 'state');
    filters.push((b) => b.state === s);
  }
  if (v('volumeID') !== null) {
    const vol = asInt(v('volumeID'), 'volumeID');
    filters.push(() => vol === 0);
  }
  const source = v('source');
  if (source !== null) filters.push((b) => b.source.toLowerCase() === String(source).toLowerCase());
  const times: [string, (b: SimBuild) => number | null, '<' | '>'][] = [
    ['createdBefore', (b) => b.createUs, '<'], ['createdAfter', (b) => b.createUs, '>'],
    ['completeBefore', (b) => b.completionUs, '<'], ['completeAfter', (b) => b.completionUs, '>'],
  ];
  for (const [key, col, cmp] of times) {
    const t = v(key);
    if (!truthy(t)) continue;
    const us = timeUs(t, key);
    filters.push((b) => {
      const c = col(b);
      return c !== null && (cmp === '<' ? c < us : c > us);
    });
  }
  const type = v('type');
  if (type !== null) {
    if (typeof type !== 'string' || !BUILD_TYPES.includes(type)) throw genericError(`unsupported build type: ${String(type)}`);
    filters.push(() => type === 'rpm');
  }
  const pattern = v('pattern');
  if (pattern !== null) {
    const re = glob(String(pattern));
    filters.push((b) => re.test(nvr(b)));
  }
  if (v('cgID') !== null) filters.push(() => false);
  if (v('draft') !== null) filters.push(() => !truthy(v('draft')));
  for (const k of ['promotedBefore', 'promotedAfter', 'promoter']) if (v(k) !== null) filters.push(() => false);
  const list = model.builds.filter((b) => filters.every((f) => f(b)));
  return runQuery(list, queryOpts(v('queryOpts')), BUILD_ALIASES, (b, alias) => buildRow(model, b)[alias] ?? null, (b) => buildRow(model, b));
}

export function getBuild(model: KojiModel, a: Args): XmlRpcValue {
  const info = arg(a, 'buildInfo');
  let b: SimBuild | undefined;
  if (typeof info === 'number' && Number.isInteger(info)) b = model.build(info);
  else if (typeof info === 'string') {
    if (!/^.+-[^-]+-[^-]+$/.test(info)) throw genericError(`invalid format: ${info}`);
    b = model.builds.find((x) => nvr(x) === info);
  } else if (isStruct(info)) {
    if (info.id !== undefined && info.id !== null) b = model.build(asInt(info.id, 'id'));
    else if (typeof info.name === 'string' && typeof info.version === 'string' && typeof info.release === 'string') {
      b = model.builds.find((x) => x.pkg.name === info.name && x.version === info.version && x.release === info.release);
    } else throw genericError(`Invalid argument: ${JSON.stringify(info)}`);
  } else throw genericError(`Invalid type for buildInfo: ${pyType(info)}`);
  if (!b && truthy(arg(a, 'strict'))) throw genericError(`No such build: ${typeof info === 'string' || typeof info === 'number' ? info : JSON.stringify(info)}`);
  return b ? buildRow(model, b, true) : null;
}
