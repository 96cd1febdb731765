// Collects diagnostics while resolving: every one names the object (kind/namespace/name), the field
// path and, when the loader knows it, the file:line:column where the field was written.
import type { Diagnostic, ObjectRef, Severity } from '../api/diagnostics.ts';
import { type FieldPath, type LoadedObject, formatFieldPath } from '../api/loaded.ts';

export function objectRef(lo: LoadedObject): ObjectRef {
  const m = lo.object.metadata;
  return { kind: lo.object.kind, ...(m.namespace !== undefined ? { namespace: m.namespace } : {}), ...(m.name !== undefined ? { name: m.name } : {}) };
}

/** `BGPPeer metallb-system/router-1`, for messages that name another object. */
export function describe(lo: LoadedObject): string {
  const m = lo.object.metadata;
  return `${lo.object.kind} ${m.namespace ? `${m.namespace}/` : ''}${m.name ?? '(unnamed)'}`;
}

/** " (at file:line)" where the object's name was written, when known: to point at the other of two. */
export function locate(lo: LoadedObject): string {
  const p = lo.positionOf(['metadata', 'name']);
  return p ? ` (at ${p.file}:${p.line})` : '';
}

export class Report {
  readonly diagnostics: Diagnostic[] = [];
  private errors = 0;

  error(lo: LoadedObject, path: FieldPath, message: string): void {
    this.add('error', lo, path, message);
  }

  warn(lo: LoadedObject, path: FieldPath, message: string): void {
    this.add('warning', lo, path, message);
  }

  get errorCount(): number {
    return this.errors;
  }

  private add(severity: Severity, lo: LoadedObject, path: FieldPath, message: string): void {
    if (severity === 'error') this.errors++;
    const position = lo.positionOf(path);
    this.diagnostics.push({ severity, ...(position ? { position } : {}), object: objectRef(lo), path: formatFieldPath(path), message });
  }
}
