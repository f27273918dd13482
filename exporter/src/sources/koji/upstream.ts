/**
 * Koji hub structs as the exporter reads them (reference/koji.md §5, kojihub.py `Task.fields`,
 * `get_host`, `list_channels`, `list_builds`). Values are what the XML-RPC codec decodes: NULL
 * columns arrive as nil (null), times as strings with `*_ts` doubles beside them (the doubles are
 * used). Unknown members are accepted (newer hubs add some); known ones of the wrong type are not.
 * Lists are checked entry by entry so one odd row does not hide the rest.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Opt = <T extends TSchema>(t: T) => Type.Optional(t);
const Id = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
/** Epoch seconds as a double (`create_ts`, `update_ts`, ...). */
const Ts = Type.Number();
const Str = Type.String();

/** TASK_STATES (koji/__init__.py), by value. */
export const TASK_STATES = ['FREE', 'OPEN', 'CLOSED', 'CANCELED', 'ASSIGNED', 'FAILED'] as const;
export type TaskStateName = (typeof TASK_STATES)[number];
export const TASK_STATE: Record<TaskStateName, number> = { FREE: 0, OPEN: 1, CLOSED: 2, CANCELED: 3, ASSIGNED: 4, FAILED: 5 };
/** BUILD_STATES, by value. */
export const BUILD_STATES = ['BUILDING', 'COMPLETE', 'DELETED', 'FAILED', 'CANCELED'] as const;
export type BuildStateName = (typeof BUILD_STATES)[number];

export const taskSchema = Type.Object({
  id: Id,
  state: Type.Integer({ minimum: 0, maximum: 1000 }),
  method: Str,
  arch: Str,
  owner: Id,
  /** listTasks only; getTaskInfo has just the numeric `owner`. */
  owner_name: Opt(Nullable(Str)),
  owner_type: Opt(Type.Integer()),
  channel_id: Id,
  host_id: Nullable(Id),
  parent: Nullable(Id),
  label: Opt(Nullable(Str)),
  waiting: Opt(Nullable(Type.Boolean())),
  awaited: Opt(Nullable(Type.Boolean())),
  priority: Opt(Type.Integer()),
  weight: Opt(Nullable(Type.Number())),
  create_ts: Ts,
  start_ts: Nullable(Ts),
  completion_ts: Nullable(Ts),
  /** listTasks and getTaskInfo(request=True): the task's XML-RPC request; read for a summary, never kept. */
  request: Opt(Nullable(Str)),
  result: Opt(Nullable(Str)),
});
export type KojiTask = Static<typeof taskSchema>;

export const hostSchema = Type.Object({
  id: Id,
  name: Str,
  arches: Str,
  capacity: Type.Number(),
  task_load: Type.Number(),
  ready: Type.Boolean(),
  enabled: Type.Boolean(),
  update_ts: Nullable(Ts),
  user_id: Opt(Id),
  description: Opt(Nullable(Str)),
  comment: Opt(Nullable(Str)),
});
export type KojiHost = Static<typeof hostSchema>;

export const channelSchema = Type.Object({
  id: Id,
  name: Str,
  /** Koji 1.26+. */
  enabled: Opt(Type.Boolean()),
  description: Opt(Nullable(Str)),
  comment: Opt(Nullable(Str)),
});
export type KojiChannel = Static<typeof channelSchema>;

export const buildSchema = Type.Object({
  build_id: Id,
  state: Type.Integer({ minimum: 0, maximum: 1000 }),
  nvr: Str,
  name: Opt(Str),
  package_name: Opt(Str),
  version: Opt(Str),
  release: Opt(Str),
  epoch: Opt(Nullable(Type.Integer())),
  owner_id: Opt(Id),
  owner_name: Opt(Nullable(Str)),
  task_id: Nullable(Id),
  creation_event_id: Id,
  creation_ts: Ts,
  start_ts: Opt(Nullable(Ts)),
  completion_ts: Nullable(Ts),
  volume_name: Opt(Nullable(Str)),
  draft: Opt(Type.Boolean()),
});
export type KojiBuild = Static<typeof buildSchema>;

export const lastEventSchema = Type.Object({ id: Id, ts: Ts });
export type KojiEvent = Static<typeof lastEventSchema>;

export const checkTask: TypeCheck<typeof taskSchema> = TypeCompiler.Compile(taskSchema);
export const checkHost: TypeCheck<typeof hostSchema> = TypeCompiler.Compile(hostSchema);
export const checkChannel: TypeCheck<typeof channelSchema> = TypeCompiler.Compile(channelSchema);
export const checkBuild: TypeCheck<typeof buildSchema> = TypeCompiler.Compile(buildSchema);
export const checkLastEvent: TypeCheck<typeof lastEventSchema> = TypeCompiler.Compile(lastEventSchema);
