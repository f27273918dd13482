/**
 * APB payloads as apb-server and apb-farm (kth5/apb 2026-06-30) write them: reference/apb.md.
 * Unknown extra keys are accepted (APB adds fields between versions); known keys of the wrong type
 * are rejected. Keys APB leaves out in its fallback answers (an exception inside GET /) are optional.
 * Lists are checked as an envelope first and then entry by entry, so one odd build does not
 * hide the others.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';

const Opt = <T extends TSchema>(t: T) => Type.Optional(t);
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Num = Type.Number();
const Str = Type.String();
const Count = Type.Integer({ minimum: 0 });

/** `queue_status.current_build` and the entries of `buildroot_recreation_builds`. */
const currentBuildSchema = Type.Object({
  build_id: Str,
  pkgname: Opt(Str),
  status: Opt(Str),
  start_time: Opt(Nullable(Num)),
  buildroot_recreation: Opt(Type.Boolean()),
});

/** `GET /` of an apb-server. Required: `status` and `queue_status`, which every answer has, the fallback one included. */
export const serverRootSchema = Type.Object({
  status: Str,
  version: Opt(Str),
  supported_architecture: Opt(Str),
  system_info: Opt(
    Type.Object({
      architecture: Opt(Str),
      cpu: Opt(Type.Object({ model: Opt(Str), cores: Opt(Count), usage_percent: Opt(Num), load_average: Opt(Type.Array(Num)) })),
      memory: Opt(Type.Object({ total: Opt(Num), available: Opt(Num), used: Opt(Num), percentage: Opt(Num) })),
      disk: Opt(Type.Object({ total: Opt(Num), used: Opt(Num), free: Opt(Num), percentage: Opt(Num) })),
      uptime: Opt(Str),
    }),
  ),
  queue_status: Type.Object({
    current_builds_count: Count,
    queued_builds: Count,
    max_concurrent_builds: Opt(Count),
    current_build: Opt(Nullable(currentBuildSchema)),
    total_active_builds: Opt(Count),
    build_history_count: Opt(Count),
    buildroot_recreation_count: Opt(Count),
    buildroot_recreation_builds: Opt(Type.Array(currentBuildSchema)),
    server_busy_with_buildroot: Opt(Type.Boolean()),
  }),
  /** Where the server's API document shows it (the code puts it inside queue_status). */
  current_build: Opt(Nullable(currentBuildSchema)),
});
export type ServerRoot = Static<typeof serverRootSchema>;

/** `GET /health` of an apb-server (the farm's is the two-key form). */
export const serverHealthSchema = Type.Object({
  status: Str,
  version: Opt(Str),
  timestamp: Opt(Str),
  response_time_ms: Opt(Num),
  checks: Opt(Type.Record(Str, Type.Unknown())),
});
export type ServerHealth = Static<typeof serverHealthSchema>;

/** The envelope of a list; entries are checked one by one with the entry schemas below. */
export const buildListSchema = Type.Object({ builds: Type.Array(Type.Unknown()), total: Opt(Count) });

/** One entry of an apb-server's `GET /builds/latest`: ISO 8601 times, end_time null while unfinished. */
export const serverBuildSchema = Type.Object({
  build_id: Type.String({ minLength: 1, maxLength: 200 }),
  pkgname: Str,
  status: Str,
  start_time: Opt(Nullable(Str)),
  end_time: Opt(Nullable(Str)),
  duration: Opt(Nullable(Num)),
});
export type ServerBuild = Static<typeof serverBuildSchema>;

const fileSchema = Type.Object({ filename: Str, size: Opt(Nullable(Num)), download_url: Opt(Nullable(Str)) });
export type BuildFile = Static<typeof fileSchema>;

/**
 * `GET /build/{id}/status-api`: the server's in-memory record (epoch-float times); through the
 * farm it adds `server_url`, `server_arch`, `artifacts_ready`, and while the farm still queues it
 * `queue_state`, `queue_position`, `jobs_ahead`, `farm_queue_size`.
 */
export const buildRecordSchema = Type.Object({
  build_id: Type.String({ minLength: 1, maxLength: 200 }),
  pkgname: Str,
  status: Str,
  created_at: Opt(Nullable(Num)),
  arch: Opt(Type.Array(Str)),
  packages: Opt(Type.Array(fileSchema)),
  logs: Opt(Type.Array(fileSchema)),
  build_timeout: Opt(Nullable(Num)),
  start_time: Opt(Nullable(Num)),
  end_time: Opt(Nullable(Num)),
  duration: Opt(Nullable(Num)),
  exit_code: Opt(Nullable(Type.Integer())),
  server_url: Opt(Nullable(Str)),
  server_arch: Opt(Nullable(Str)),
  queue_state: Opt(Nullable(Str)),
  queue_position: Opt(Nullable(Type.Integer())),
});
export type BuildRecord = Static<typeof buildRecordSchema>;

/** One entry of `GET /farm` `servers`; `info` is the server's `GET /` plus `_cached_at` and `_success`. */
export const farmServerSchema = Type.Object({
  url: Str,
  arch: Str,
  status: Str,
  info: Opt(Nullable(Type.Record(Str, Type.Unknown()))),
  consecutive_failures: Opt(Count),
  real_server_url: Opt(Nullable(Str)),
});
export type FarmServer = Static<typeof farmServerSchema>;

export const farmSchema = Type.Object({
  status: Str,
  version: Opt(Str),
  servers: Type.Array(Type.Unknown()),
  available_architectures: Opt(Type.Array(Str)),
  total_servers: Opt(Count),
  authenticated: Opt(Type.Boolean()),
  user_role: Opt(Str),
});
export type Farm = Static<typeof farmSchema>;

/** The farm's `_cached_at` stamp on a server's info. */
export const farmInfoStampSchema = Type.Object({ _cached_at: Opt(Num), _success: Opt(Type.Boolean()) });

/** One entry of the farm's `GET /builds/latest`: times as "YYYY-MM-DD HH:MM:SS UTC" in the farm's local time, or null. */
export const farmBuildSchema = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 200 }),
  server_url: Opt(Nullable(Str)),
  server_arch: Opt(Nullable(Str)),
  pkgname: Str,
  display_name: Opt(Nullable(Str)),
  status: Str,
  start_time: Opt(Nullable(Str)),
  end_time: Opt(Nullable(Str)),
  created_at: Opt(Nullable(Str)),
  username: Opt(Nullable(Str)),
});
export type FarmBuild = Static<typeof farmBuildSchema>;

export const checkServerRoot: TypeCheck<typeof serverRootSchema> = TypeCompiler.Compile(serverRootSchema);
export const checkServerHealth: TypeCheck<typeof serverHealthSchema> = TypeCompiler.Compile(serverHealthSchema);
export const checkBuildList: TypeCheck<typeof buildListSchema> = TypeCompiler.Compile(buildListSchema);
export const checkServerBuild: TypeCheck<typeof serverBuildSchema> = TypeCompiler.Compile(serverBuildSchema);
export const checkBuildRecord: TypeCheck<typeof buildRecordSchema> = TypeCompiler.Compile(buildRecordSchema);
export const checkFarm: TypeCheck<typeof farmSchema> = TypeCompiler.Compile(farmSchema);
export const checkFarmServer: TypeCheck<typeof farmServerSchema> = TypeCompiler.Compile(farmServerSchema);
export const checkFarmInfoStamp: TypeCheck<typeof farmInfoStampSchema> = TypeCompiler.Compile(farmInfoStampSchema);
export const checkFarmBuild: TypeCheck<typeof farmBuildSchema> = TypeCompiler.Compile(farmBuildSchema);
