// An object read from a file (or the Kubernetes API), after structural validation, defaulting and
// version conversion, with the way back to where each of its fields was written.
import type { SourcePosition } from './diagnostics.ts';
import type { CoreResource, MetalLBResource } from './resources.ts';

export type FieldPath = readonly (string | number)[];

export interface LoadedObject<T extends MetalLBResource | CoreResource = MetalLBResource | CoreResource> {
  readonly object: T;
  /** Where the object came from (file path and 0-based document index), when it came from a file. */
  readonly source?: { readonly file: string; readonly document: number };
  /** The position of a field (or of the nearest enclosing node that exists), when known. */
  positionOf(path: FieldPath): SourcePosition | undefined;
}

/** A loaded object with no source positions (objects built in code, or read from the API). */
export function unpositioned<T extends MetalLBResource | CoreResource>(object: T): LoadedObject<T> {
  return { object, positionOf: () => undefined };
}

/** `spec.addresses[1]` from ['spec', 'addresses', 1]. */
export function formatFieldPath(path: FieldPath): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s === '' ? p : `.${p}`;
  return s;
}
