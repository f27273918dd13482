/**
 * taskoteka payloads as its README and girar's info.json generator define them
 * (reference/girar.md §5). Unknown extra keys are accepted because taskoteka keeps adding
 * fields; known keys of the wrong type are rejected. `state` is any string: girar has FAILURE,
 * which the README omits, and a future state must not break ingestion.
 */
export { describeInvalid } from '../validate.js';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';

const Str = Type.String();
const Int = Type.Integer();
/** Task ids: positive safe integers (girar allocates them from 1 up). */
const TaskId = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
/** Epoch seconds within what a Date can hold (a larger value would make every poll fail). */
const EpochSeconds = Type.Integer({ minimum: 0, maximum: 8_640_000_000_000 });
const opt = <T extends TSchema>(schema: T) => Type.Optional(schema);

/**
 * An approver as girar writes it (a login). taskoteka also serves "approval comments with parsed
 * dates", whose exact shape is not documented, so an object is accepted and its login looked up.
 */
export const approverSchema = Type.Union([Str, Type.Object({})]);

const commonSubtaskKeys = {
  dir: opt(Str),
  tag_name: opt(Str),
  type: opt(Str),
  userid: opt(Str),
  pkgname: opt(Str),
  srpm: opt(Str),
  package: opt(Str),
  copy_repo: opt(Str),
  rebuild_from: opt(Str),
  approved_by: opt(Type.Array(approverSchema)),
  disapproved_by: opt(Type.Array(approverSchema)),
};

/** A subtask in a `GET /tasks` item (taskoteka 1.5.0 adds approved_by / disapproved_by). */
export const listSubtaskSchema = Type.Object(commonSubtaskKeys);

/** One item of `GET /tasks`. */
export const taskListItemSchema = Type.Object({
  id: TaskId,
  state: Str,
  repo: Str,
  owner: Str,
  created: Str,
  build_time: opt(Str),
  age: Int,
  test_only: Type.Boolean(),
  fail_early: Type.Boolean(),
  try: opt(Int),
  iter: opt(Int),
  message: opt(Str),
  subtasks: opt(Type.Record(Str, listSubtaskSchema)),
  matches: opt(Type.Array(Str)),
});

/** A subtask in `GET /tasks/{id}` (info.json keys plus taskoteka's EVR and per-arch `build`). */
export const detailSubtaskSchema = Type.Object({
  ...commonSubtaskKeys,
  tag_id: opt(Str),
  tag_author: opt(Str),
  spec_type: opt(Str),
  fetched: opt(Str),
  relax_git_inheritance_check_for_commit: opt(Str),
  relax_lastchange_inheritance_check_for_evr: opt(Str),
  epoch: opt(Type.Union([Int, Str])),
  version: opt(Str),
  release: opt(Str),
  build: opt(Type.Record(Str, Str)),
});

/** `GET /tasks/{id}`: girar's info.json (`girar task show --json`) as taskoteka serves it. */
export const taskDetailSchema = Type.Object({
  updated: EpochSeconds,
  taskid: TaskId,
  shared: Type.Boolean(),
  fail_early: Type.Boolean(),
  test_only: Type.Boolean(),
  swift: opt(Type.Boolean()),
  aborted_by: opt(Str),
  repo: Str,
  state: Str,
  try: opt(Int),
  iter: opt(Int),
  depends: opt(Type.Array(Int)),
  age: Int,
  build_time: opt(Str),
  message: opt(Str),
  owner: Str,
  subtasks: opt(Type.Record(Str, detailSubtaskSchema)),
});


/** `GET /health`. */
export const healthSchema = Type.Object({
  status: Str,
  total_tasks: Int,
  active_tasks: Int,
});

/** SSE `data` of each `/events` event type. */
export const sseTaskNewSchema = Type.Object({ id: TaskId, state: Str, owner: Str });
export const sseTaskUpdatedSchema = Type.Object({ id: TaskId, state: Str, prev_state: Str, owner: Str });
export const sseTaskRemovedSchema = Type.Object({ id: TaskId });
export const sseHeartbeatSchema = Type.Number();
export const sseReconnectSchema = Type.Object({ reason: Str });

export type TaskListItem = Static<typeof taskListItemSchema>;
export type ListSubtask = Static<typeof listSubtaskSchema>;
export type TaskDetail = Static<typeof taskDetailSchema>;
export type DetailSubtask = Static<typeof detailSubtaskSchema>;
export type HealthBody = Static<typeof healthSchema>;

export const checkTaskList = TypeCompiler.Compile(Type.Array(taskListItemSchema));
export const checkTaskListItem = TypeCompiler.Compile(taskListItemSchema);
export const checkTaskDetail = TypeCompiler.Compile(taskDetailSchema);
export const checkHealth = TypeCompiler.Compile(healthSchema);
export const checkSseTaskNew = TypeCompiler.Compile(sseTaskNewSchema);
export const checkSseTaskUpdated = TypeCompiler.Compile(sseTaskUpdatedSchema);
export const checkSseTaskRemoved = TypeCompiler.Compile(sseTaskRemovedSchema);
export const checkSseHeartbeat = TypeCompiler.Compile(sseHeartbeatSchema);
export const checkSseReconnect = TypeCompiler.Compile(sseReconnectSchema);

/**
 * The first validation problem as `<json path>: expected <what>, got <value>`,
 * e.g. `/3/try: expected integer, got "2"`; undefined when the value is valid.
 */
/** The login in an approver entry: a plain string, or the first login-like key of an object. */
export function approverLogin(entry: Static<typeof approverSchema>): string | undefined {
  if (typeof entry === 'string') return entry;
  const record = entry as Record<string, unknown>;
  for (const key of ['login', 'user', 'userid', 'by', 'name']) {
    const v = record[key];
    if (typeof v === 'string' && v) return v;
  }
  return undefined;
}
