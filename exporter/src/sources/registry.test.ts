import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
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
      expect(def.configSchema.additionalProperties).toBe(false);
      expect(Value.Check(def.configSchema, Value.Default(def.configSchema, { surely_not_a_key: 1 }))).toBe(false);
      expect(typeof def.demo).toBe('function');
    });
  }
});
