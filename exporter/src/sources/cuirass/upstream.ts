/**
 * Cuirass web API payloads (reference/cuirass.md §3, from build->hydra-build,
 * evaluation->json-object, specification->json-object): plain JSON, no envelope. Unknown keys are
 * accepted; known keys of the wrong type are rejected. Lists are checked entry by entry.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';

const Opt = <T extends TSchema>(t: T) => Type.Optional(t);
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Id = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const Epoch = Type.Integer({ minimum: 0, maximum: 1e11 });
const Str = Type.String();

export const buildSchema = Type.Object({
  id: Id,
  evaluation: Opt(Id),
  jobset: Str,
  job: Str,
  timestamp: Opt(Epoch),
  starttime: Opt(Epoch),
  stoptime: Opt(Epoch),
  derivation: Opt(Str),
  buildoutputs: Opt(Nullable(Type.Record(Str, Type.Unknown()))),
  system: Str,
  nixname: Opt(Str),
  buildstatus: Type.Integer({ minimum: -3, maximum: 64 }),
  weather: Opt(Type.Integer({ minimum: -1, maximum: 64 })),
  busy: Opt(Type.Integer()),
  priority: Opt(Type.Integer()),
  finished: Opt(Type.Integer()),
  buildproducts: Opt(Nullable(Type.Array(Type.Unknown()))),
});
export type Build = Static<typeof buildSchema>;

export const evaluationSchema = Type.Object({
  id: Id,
  specification: Str,
  status: Type.Integer({ minimum: -1, maximum: 64 }),
  timestamp: Opt(Epoch),
  checkouttime: Opt(Epoch),
  evaltime: Opt(Epoch),
  checkouts: Opt(Nullable(Type.Array(Type.Unknown()))),
});
export type Evaluation = Static<typeof evaluationSchema>;

export const specificationSchema = Type.Object({
  name: Str,
  build: Opt(Type.Unknown()),
  channels: Opt(Nullable(Type.Array(Type.Unknown()))),
  period: Opt(Type.Number()),
  priority: Opt(Type.Number()),
  systems: Opt(Nullable(Type.Array(Str))),
});
export type Specification = Static<typeof specificationSchema>;

export const checkBuild: TypeCheck<typeof buildSchema> = TypeCompiler.Compile(buildSchema);
export const checkEvaluation: TypeCheck<typeof evaluationSchema> = TypeCompiler.Compile(evaluationSchema);
export const checkSpecification: TypeCheck<typeof specificationSchema> = TypeCompiler.Compile(specificationSchema);
