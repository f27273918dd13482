/**
 * TypeBox response schemas of the JSON API. They drive serialization (fields not declared here
 * are not sent) and the OpenAPI document, so they mirror model/ field for field; a new model
 * field needs a line here too (schemas.test.ts fails until it has one).
 */
import { Type, type Static, type TSchema, type TUnsafe } from '@sinclair/typebox';
import { CHANGE_EVENT_TYPES } from '../model/events.js';
import { PHASES } from '../model/task.js';
import { StringEnum } from './params.js';

/** OpenAPI 3.0 spelling of "this or null" (3.0 has no `type: null`). */
export function Nullable<T extends TSchema>(schema: T): TUnsafe<Static<T> | null> {
  return Type.Unsafe<Static<T> | null>({ ...schema, nullable: true });
}

const Time = (description: string) => Type.String({ format: 'date-time', description: `${description} (ISO 8601 UTC)` });

export const ErrorSchema = Type.Object({ error: Type.String({ description: 'What is wrong and what to do about it' }) }, { description: 'Error' });

export const PhaseSchema = StringEnum(PHASES, { description: 'Normalized life-cycle phase' });

export const ArchResultSchema = Type.Object({
  arch: Type.String(),
  status: Type.String({ description: 'Upstream word, e.g. built, failed, excluded' }),
  phase: PhaseSchema,
});

export const SubtaskSchema = Type.Object({
  id: Type.String(),
  type: Type.String({ description: 'Upstream kind, e.g. repo, srpm, copy, delete' }),
  package: Type.Optional(Type.String()),
  label: Type.Optional(Type.String()),
  owner: Type.Optional(Type.String()),
  archs: Type.Array(ArchResultSchema),
  approvedBy: Type.Optional(Type.Array(Type.String())),
  disapprovedBy: Type.Optional(Type.Array(Type.String())),
  approvals: Type.Optional(
    Type.Array(
      Type.Object({
        by: Type.String(),
        verdict: Type.Union([Type.Literal('approved'), Type.Literal('disapproved')]),
        at: Type.Optional(Time('When it was stamped')),
        comment: Type.Optional(Type.String()),
      }),
      { description: 'Approvals and disapprovals with their time and comment (girar acl/)' },
    ),
  ),
  fields: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Upstream subtask attributes that are searched (girar: dir, tag_name, pkgname, userid, srpm)' })),
});

const taskProps = {
  source: Type.String({ description: 'Configured source instance name' }),
  kind: Type.String({ description: 'Build-system kind' }),
  id: Type.String({ description: 'Upstream id (unique within source)' }),
  state: Type.String({ description: 'Native upstream state' }),
  phase: PhaseSchema,
  owner: Type.Optional(Type.String()),
  repo: Type.Optional(Type.String({ description: 'girar repo, Koji tag, Cuirass specification, APB architecture' })),
  message: Type.Optional(Type.String()),
  created: Type.Optional(Time('Submitted')),
  started: Type.Optional(Time('Started running')),
  finished: Type.Optional(Time('Finished')),
  updated: Type.Optional(Time('Last changed')),
  stateSince: Type.Optional(Time('Entered its current state')),
  archs: Type.Array(Type.String()),
  subtasks: Type.Array(SubtaskSchema),
  url: Type.Optional(Type.String({ description: 'Upstream page of the task' })),
  attrs: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), { description: 'Kind-specific attributes' })),
};

export const TaskSummarySchema = Type.Object({
  ...taskProps,
  matches: Type.Optional(Type.Array(Type.String(), { description: 'With q: where each term matched, e.g. repo:p11, 100/pkgname:lib' })),
});

export const ArtifactSchema = Type.Object({
  name: Type.String(),
  type: Type.String({ description: 'package, log, ...' }),
  size: Type.Optional(Type.Number({ description: 'Bytes' })),
  url: Type.Optional(Type.String({ description: 'Download URL on the upstream' })),
});

export const TaskDetailSchema = Type.Object({
  ...taskProps,
  artifacts: Type.Optional(Type.Array(ArtifactSchema, { description: 'Files the task produced (APB: packages and logs), with upstream download URLs' })),
  native: Type.Unknown({ description: 'The upstream record exactly as the upstream serves it (girar: girar task show --json)' }),
});

export const WorkerSchema = Type.Object({
  source: Type.String(),
  kind: Type.String(),
  id: Type.String(),
  name: Type.String(),
  up: Type.Boolean(),
  busy: Type.Optional(Type.Boolean()),
  enabled: Type.Optional(Type.Boolean()),
  archs: Type.Array(Type.String()),
  capacity: Type.Optional(Type.Number({ description: 'Concurrent builds it accepts' })),
  load: Type.Optional(Type.Number({ description: 'Builds it runs now' })),
  queueLength: Type.Optional(Type.Number()),
  cpuCores: Type.Optional(Type.Number()),
  loadAverage: Type.Optional(Type.Number({ description: 'One-minute load average' })),
  cpuUsageRatio: Type.Optional(Type.Number({ description: 'Share of CPU time in use, 0..1' })),
  memoryUsedBytes: Type.Optional(Type.Number()),
  memoryTotalBytes: Type.Optional(Type.Number()),
  diskUsedBytes: Type.Optional(Type.Number()),
  diskTotalBytes: Type.Optional(Type.Number()),
  currentTask: Type.Optional(Type.String()),
  version: Type.Optional(Type.String()),
  health: Type.Optional(Type.String({ description: 'Upstream health word (APB: healthy, warning, degraded)' })),
  lastSeen: Type.Optional(Time('Last time the worker answered')),
  lastError: Type.Optional(Type.Object({ message: Type.String(), at: Time('When it happened') }, { description: 'Why the worker is down or stale' })),
  labels: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Labels from the exporter config' })),
  url: Type.Optional(Type.String()),
});

export const JobSchema = Type.Object({
  source: Type.String(),
  kind: Type.String(),
  id: Type.String(),
  name: Type.String(),
  jobType: Type.String({ description: 'exec, http, ...' }),
  status: Type.String(),
  paused: Type.Boolean(),
  lastRun: Type.Optional(Time('Last run')),
  nextRun: Type.Optional(Time('Next run')),
  intervalSeconds: Type.Optional(Type.Number()),
  schedule: Type.Optional(Type.String()),
  lastDurationSeconds: Type.Optional(Type.Number()),
  overdue: Type.Optional(Type.Boolean({ description: 'next_run is more than one interval (or schedule period) past while not paused' })),
  logRetention: Type.Optional(Type.Integer({ description: 'Runs the upstream keeps' })),
  lastRunCounter: Type.Optional(Type.Integer({ description: 'Highest run counter (karajo log counter)' })),
  description: Type.Optional(Type.String()),
  url: Type.Optional(Type.String()),
});

const ErrorInfo = () =>
  Type.Object({
    code: Type.String({ description: 'network, timeout, http, payload, too_large, internal' }),
    message: Type.String(),
    at: Time('When it happened'),
    status: Type.Optional(Type.Integer({ description: 'HTTP status the upstream answered' })),
  });

export const SourceSchema = Type.Object({
  name: Type.String(),
  kind: Type.String(),
  up: Type.Boolean({ description: 'The latest poll succeeded' }),
  interval_seconds: Type.Number(),
  last_poll: Nullable(Time('Latest finished poll')),
  last_success: Nullable(Time('Latest successful poll')),
  last_poll_duration_seconds: Nullable(Type.Number()),
  consecutive_failures: Type.Integer(),
  last_error: Nullable(ErrorInfo()),
  next_poll: Nullable(Time('Next poll due')),
  stream_connected: Type.Optional(Type.Boolean({ description: 'Upstream event stream connected (sources that have one)' })),
  upstream: Type.Object({
    version: Type.Optional(Type.String()),
    cache_age_seconds: Type.Optional(Type.Number()),
  }),
  polls: Type.Object({ ok: Type.Integer(), failed: Type.Integer() }, { description: 'Polls since start' }),
  problems: Type.Optional(
    Type.Object(
      {
        current: Type.Record(Type.String(), Type.Integer(), { description: 'Records affected now, by reason' }),
        total: Type.Record(Type.String(), Type.Integer(), { description: 'Problems found since start, by reason' }),
        examples: Type.Array(
          Type.Object({ id: Type.String(), reason: Type.String(), path: Type.Optional(Type.String()), message: Type.String() }),
          { description: 'Up to 10 current problems' },
        ),
      },
      { description: 'Upstream records the source had to skip or keep at their last good version (only sources that check records one by one, e.g. girar fs)' },
    ),
  ),
  endpoints: Type.Optional(
    Type.Array(
      Type.Object({
        name: Type.String({ description: 'Worker id of a server, or farm' }),
        role: Type.String({ description: 'server or farm (APB)' }),
        url: Type.String({ description: 'Base URL, credentials removed' }),
        up: Type.Boolean({ description: 'Every request it needs succeeded in its latest refresh' }),
        reachable: Type.Boolean({ description: 'It answered its latest refresh (APB: GET / of a server, GET /farm of the farm)' }),
        last_success: Nullable(Time('Its latest success')),
        consecutive_failures: Type.Integer(),
        last_error: Nullable(ErrorInfo()),
      }),
      { description: 'Sources that poll several upstream endpoints (APB): the health of each; the source is up while any answers' },
    ),
  ),
  counts: Type.Object({ tasks: Type.Integer(), workers: Type.Integer(), jobs: Type.Integer() }),
});

/** The `data` of every change event on `/api/v1/events`. */
export const ChangeEventSchema = Type.Object(
  {
    seq: Type.Integer({ description: 'Strictly increasing; the SSE id' }),
    at: Time('Observed'),
    type: StringEnum(CHANGE_EVENT_TYPES),
    source: Type.String(),
    kind: Type.String(),
    id: Type.String(),
    state: Type.Optional(Type.String()),
    prev_state: Type.Optional(Type.String()),
    phase: Type.Optional(PhaseSchema),
    prev_phase: Type.Optional(PhaseSchema),
    owner: Type.Optional(Type.String()),
    repo: Type.Optional(Type.String()),
  },
  { $id: 'ChangeEvent', description: 'The data of a change event on /api/v1/events' },
);

/** Standard error responses, for route schemas. */
export const errorResponses = {
  400: { ...ErrorSchema, description: 'Bad parameters' },
  404: { ...ErrorSchema, description: 'Not found' },
} as const;
