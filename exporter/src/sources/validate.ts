/** Boundary validation helpers shared by the sources' upstream schemas. */
import type { TSchema } from '@sinclair/typebox';
import type { TypeCheck } from '@sinclair/typebox/compiler';

/** The first reason a value fails a schema, as `<json path>: expected ..., got ...`; undefined when it passes. */
export function describeInvalid<T extends TSchema>(check: TypeCheck<T>, value: unknown): string | undefined {
  const first = check.Errors(value).First();
  if (!first) return undefined;
  const path = first.path || '/';
  if (first.value === undefined) return `${path}: required key is missing`;
  return `${path}: expected ${first.message.replace(/^Expected /, '')}, got ${preview(first.value)}`;
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 80)}...` : text;
}
