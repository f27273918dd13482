/**
 * karajo v0.9.3 payloads (reference/karajo.md §2, §5): every answer is the envelope
 * `{code, message, name, data}`; `GET /karajo/api/environment` carries `Env`. Unknown keys are
 * accepted (karajo adds fields between versions); known keys of the wrong type are rejected.
 * Jobs and their log entries are checked one by one, so one odd job does not hide the others.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';

const Opt = <T extends TSchema>(t: T) => Type.Optional(t);
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Str = Type.String();

/** The envelope of every answer (libhttp.EndpointResponse); `data` is absent on errors. */
export const envelopeSchema = Type.Object({
  code: Type.Integer(),
  message: Opt(Str),
  name: Opt(Str),
  data: Opt(Type.Unknown()),
});
export type Envelope = Static<typeof envelopeSchema>;

/** `Env`: jobs and http_jobs are maps keyed by job NAME; Go writes a nil map as null. */
export const envSchema = Type.Object({
  jobs: Opt(Nullable(Type.Record(Str, Type.Unknown()))),
  http_jobs: Opt(Nullable(Type.Record(Str, Type.Unknown()))),
  name: Opt(Str),
  listen_address: Opt(Str),
  dir_base: Opt(Str),
  dir_public: Opt(Str),
  version: Opt(Str),
  http_timeout: Opt(Type.Number()),
  max_job_running: Opt(Type.Integer()),
  is_development: Opt(Type.Boolean()),
});
export type Env = Static<typeof envSchema>;

/** A JobLog in a job's `logs` (no content): name is `<id>.<counter>` while running, `<id>.<counter>.<status>` after. */
export const jobLogEntrySchema = Type.Object({
  job_id: Str,
  name: Str,
  status: Opt(Str),
  counter: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
});
export type JobLogEntry = Static<typeof jobLogEntrySchema>;

const jobBase = {
  id: Type.String({ minLength: 1, maxLength: 200 }),
  name: Str,
  description: Opt(Str),
  status: Opt(Str),
  schedule: Opt(Str),
  last_run: Opt(Nullable(Str)),
  next_run: Opt(Nullable(Str)),
  /** Nanoseconds. */
  interval: Opt(Type.Integer({ minimum: 0 })),
  log_retention: Opt(Type.Integer({ minimum: 0 })),
  logs: Opt(Nullable(Type.Array(Type.Unknown()))),
  notif_on_success: Opt(Nullable(Type.Array(Str))),
  notif_on_failed: Opt(Nullable(Type.Array(Str))),
};

/** A JobExec (secret and Call are never serialized). */
export const jobExecSchema = Type.Object({
  ...jobBase,
  path: Opt(Str),
  auth_kind: Opt(Str),
  header_sign: Opt(Str),
  commands: Opt(Nullable(Type.Array(Str))),
});
export type JobExec = Static<typeof jobExecSchema>;

/** A JobHTTP. */
export const jobHttpSchema = Type.Object({
  ...jobBase,
  header_sign: Opt(Str),
  http_method: Opt(Str),
  http_url: Opt(Str),
  http_request_type: Opt(Str),
  http_headers: Opt(Nullable(Type.Array(Str))),
  http_timeout: Opt(Type.Number()),
  http_insecure: Opt(Type.Boolean()),
});
export type JobHttp = Static<typeof jobHttpSchema>;

/** A JobLog from the log endpoints: the entry plus `content`, base64. */
export const jobLogSchema = Type.Object({ ...jobLogEntrySchema.properties, content: Opt(Str) });
export type JobLog = Static<typeof jobLogSchema>;

export const checkEnvelope: TypeCheck<typeof envelopeSchema> = TypeCompiler.Compile(envelopeSchema);
export const checkEnv: TypeCheck<typeof envSchema> = TypeCompiler.Compile(envSchema);
export const checkJobExec: TypeCheck<typeof jobExecSchema> = TypeCompiler.Compile(jobExecSchema);
export const checkJobHttp: TypeCheck<typeof jobHttpSchema> = TypeCompiler.Compile(jobHttpSchema);
export const checkJobLogEntry: TypeCheck<typeof jobLogEntrySchema> = TypeCompiler.Compile(jobLogEntrySchema);
export const checkJobLog: TypeCheck<typeof jobLogSchema> = TypeCompiler.Compile(jobLogSchema);
