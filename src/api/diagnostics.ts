// What validation says to a person: where (file:line:column), which object, which field, what is
// allowed. Errors reject the configuration; warnings do not.

export type Severity = 'error' | 'warning';

export interface SourcePosition {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
}

export interface ObjectRef {
  readonly kind: string;
  readonly namespace?: string;
  readonly name?: string;
}

export interface Diagnostic {
  readonly severity: Severity;
  readonly position?: SourcePosition;
  readonly object?: ObjectRef;
  /** Dotted field path inside the object, e.g. `spec.addresses[1]`; empty for the whole object. */
  readonly path: string;
  readonly message: string;
}

export function formatObjectRef(o: ObjectRef): string {
  const nm = o.namespace ? `${o.namespace}/${o.name ?? ''}` : (o.name ?? '');
  return nm ? `${o.kind}/${nm}` : o.kind;
}

/** `file:line:col: error: Kind/ns/name: spec.field: message` */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.position ? `${d.position.file}:${d.position.line}:${d.position.column}: ` : '';
  const obj = d.object ? `${formatObjectRef(d.object)}: ` : '';
  const path = d.path ? `${d.path}: ` : '';
  return `${where}${d.severity}: ${obj}${path}${d.message}`;
}
