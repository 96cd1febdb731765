// The validating webhook's decision, with the same validator as `ironlb validate` (api/'s loader,
// then config/'s resolver) run over the cluster's current metallb.io objects with the candidate
// in place. A request is refused for the errors it would add, not for those already there (one
// bad object in the cluster must not block every later change). As in MetalLB, references that
// may legitimately arrive later are not checked here: a BGPPeer's password Secret or BFD
// profile, a BGPAdvertisement's community alias (creation order must not matter); the runtime
// check and ConfigurationState catch them if they never arrive. Deletes are allowed, except of a
// BFDProfile a BGPPeer uses. Pure.
import { type Diagnostic, formatDiagnostic } from '../api/diagnostics.ts';
import { type LoadResult, loadValue } from '../api/load.ts';
import { type ResolveOptions, resolveConfig } from '../config/resolve.ts';

type Json = Record<string, unknown>;

export interface AdmissionRequest {
  readonly uid: string;
  readonly kind: { group: string; version: string; kind: string };
  readonly operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  readonly namespace?: string;
  readonly name?: string;
  readonly object?: Json | null;
  readonly oldObject?: Json | null;
}

export interface AdmissionVerdict {
  readonly allowed: boolean;
  readonly message?: string;
  readonly warnings?: readonly string[];
}

const metaOf = (o: Json) => (o.metadata ?? {}) as { name?: string; namespace?: string };
const sameObject = (a: Json, kind: string, name: string) => a.kind === kind && metaOf(a).name === name;

/** Diagnostics that name a reference which may be created after the object using it. */
function laterReference(d: Diagnostic): boolean {
  return d.path.startsWith('spec.passwordSecret') || d.path === 'spec.bfdProfile' || d.message.startsWith('unknown community alias');
}

function errorsOf(objects: readonly Json[], namespace: string, resolveAs: ResolveOptions): { errors: Map<string, Diagnostic>; warnings: Diagnostic[] } {
  const out: LoadResult = { objects: [], diagnostics: [] };
  for (const o of objects) loadValue(o, { file: '', document: 0, positionOf: () => undefined }, out);
  const loadErrors = out.diagnostics.filter((d) => d.severity === 'error');
  const resolved = loadErrors.length > 0 ? { diagnostics: [] } : resolveConfig(out.objects, { ...resolveAs, namespace });
  const all = [...out.diagnostics, ...resolved.diagnostics].map(({ position: _p, ...d }) => d as Diagnostic);
  const errors = new Map<string, Diagnostic>();
  for (const d of all) if (d.severity === 'error' && !laterReference(d)) errors.set(formatDiagnostic(d), d);
  return { errors, warnings: all.filter((d) => d.severity === 'warning') };
}

/**
 * Admits or refuses `req` given `current`: every metallb.io configuration object in the cluster
 * now (any kind, as the API holds them).
 */
export function admit(req: AdmissionRequest, current: readonly Json[], namespace: string, resolveAs: ResolveOptions = {}): AdmissionVerdict {
  const kind = req.kind.kind;
  if (req.operation === 'DELETE') {
    const name = req.name ?? metaOf(req.oldObject ?? {}).name ?? '';
    if (kind === 'BFDProfile') {
      const users = current.filter((o) => o.kind === 'BGPPeer' && (o.spec as { bfdProfile?: string } | undefined)?.bfdProfile === name).map((o) => metaOf(o).name);
      if (users.length > 0) return { allowed: false, message: `BFDProfile ${namespace}/${name} is used by BGPPeer ${users.join(', ')}: remove it from the peers first` };
    }
    return { allowed: true };
  }
  const obj = req.object;
  if (!obj) return { allowed: false, message: 'the request carries no object' };
  const objNamespace = metaOf(obj).namespace ?? req.namespace;
  if (objNamespace !== namespace) {
    return { allowed: false, message: `${kind} ${objNamespace ?? ''}/${metaOf(obj).name ?? ''}: metallb.io resources must be created in the MetalLB namespace "${namespace}", not "${objNamespace ?? ''}"` };
  }
  const name = metaOf(obj).name ?? '';
  const candidate: Json = { ...obj, apiVersion: `${req.kind.group}/${req.kind.version}`, kind };
  const others = current.filter((o) => !sameObject(o, kind, name));
  const before = errorsOf(current, namespace, resolveAs);
  const after = errorsOf([...others, candidate], namespace, resolveAs);
  const added = [...after.errors].filter(([k]) => !before.errors.has(k)).map(([, d]) => d);
  const warnings = after.warnings.filter((d) => d.object?.kind === kind && d.object.name === name).map(formatDiagnostic);
  if (added.length > 0) return { allowed: false, message: added.map(formatDiagnostic).join('; '), ...(warnings.length ? { warnings } : {}) };
  return { allowed: true, ...(warnings.length ? { warnings } : {}) };
}
