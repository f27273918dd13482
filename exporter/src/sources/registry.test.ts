import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { registry } from './registry.js';

const here = fileURLToPath(new URL('.', import.meta.url));

describe('source registry', () => {
  it('registers exactly the kinds that have a folder under sources/', () => {
    const folders = readdirSync(here).filter((f) => statSync(`${here}${f}`).isDirectory());
    expect(Object.keys(registry).sort()).toEqual(folders.sort());
  });

  for (const [kind, def] of Object.entries(registry)) {
    it(`${kind}: its definition is complete and its schema rejects unknown keys`, () => {
      expect(def.kind).toBe(kind);
      expect(def.description.length).toBeGreaterThan(10);
      // A union schema (girar's transports) must be closed in every variant.
      const variants = (def.configSchema.anyOf as TSchema[] | undefined) ?? [def.configSchema];
      for (const schema of variants) {
        expect(schema.additionalProperties).toBe(false);
        expect(Value.Check(schema, Value.Default(schema, { surely_not_a_key: 1 }))).toBe(false);
      }
      expect(Value.Check(def.configSchema, Value.Default(def.configSchema, { surely_not_a_key: 1 }))).toBe(false);
      expect(typeof def.demo).toBe('function');
    });
  }
});
