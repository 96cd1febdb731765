// CRD defaulting: a field that is absent gets the schema's `default`, as the API server does when
// it stores an object. Only inside parents that exist; lists are defaulted item by item.
import type { TSchema } from 'typebox';

type Json = Record<string, unknown>;

/** A copy of `value` with every absent defaulted field filled in. */
export function applyDefaults<T>(schema: TSchema, value: T): T {
  return fill(schema as unknown as Json, structuredClone(value)) as T;
}

function fill(schema: Json, value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = schema.items as Json | undefined;
    return items ? value.map((v) => fill(items, v)) : value;
  }
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Json;
  const props = (schema.properties ?? {}) as Record<string, Json>;
  for (const [name, sub] of Object.entries(props)) {
    if (obj[name] === undefined && sub.default !== undefined) obj[name] = structuredClone(sub.default);
    else if (obj[name] !== undefined) obj[name] = fill(sub, obj[name]);
  }
  return obj;
}
