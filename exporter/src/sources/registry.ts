/**
 * Every build-system kind the exporter knows, by name. Adding a kind = one folder under
 * sources/ and one line here (a test checks the two agree).
 */
import type { TSchema } from '@sinclair/typebox';
import type { KindSchemas } from '../config/load.js';
import { apbSource } from './apb/index.js';
import { cuirassSource } from './cuirass/index.js';
import { kojiSource } from './koji/index.js';
import { girarSource } from './girar/index.js';
import { karajoSource } from './karajo/index.js';
import type { DefaultStates, Lifecycle, SourceDefinition } from './source.js';

export const registry: Readonly<Record<string, SourceDefinition>> = {
  girar: girarSource as unknown as SourceDefinition,
  apb: apbSource as unknown as SourceDefinition,
  karajo: karajoSource as unknown as SourceDefinition,
  cuirass: cuirassSource as unknown as SourceDefinition,
  koji: kojiSource as unknown as SourceDefinition,
};

export function definitionOf(kind: string): SourceDefinition | undefined {
  return Object.hasOwn(registry, kind) ? registry[kind] : undefined;
}

export const kindSchemas: KindSchemas = {
  kinds: () => Object.keys(registry),
  schemaOf: (kind: string, block?: Record<string, unknown>): TSchema | undefined => {
    const def = definitionOf(kind);
    return def && block && def.configSchemaFor ? def.configSchemaFor(block) : def?.configSchema;
  },
  validate: (kind, settings) => definitionOf(kind)?.validate?.(settings) ?? [],
};

/** Default-state rules of every kind that has them, for the store's task queries. */
export function defaultStatesByKind(): Map<string, DefaultStates> {
  const out = new Map<string, DefaultStates>();
  for (const [kind, def] of Object.entries(registry)) if (def.defaultStates) out.set(kind, def.defaultStates);
  return out;
}

/** Run boundaries of every kind that declares them, for the store's derived times. */
export function lifecyclesByKind(): Map<string, Lifecycle> {
  const out = new Map<string, Lifecycle>();
  for (const [kind, def] of Object.entries(registry)) if (def.lifecycle) out.set(kind, def.lifecycle);
  return out;
}
