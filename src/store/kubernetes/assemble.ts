// From the objects the API holds to a Snapshot: the one place the Kubernetes store turns objects
// into what the daemons consume. metallb.io objects go through api/'s loader (schemas, defaults,
// v1beta1 conversion) one by one, cached by resourceVersion, so a bad object is one error naming
// that object; the configuration is resolved by config/ only when a configuration object, a
// referenced Secret or a Namespace changed. Services, EndpointSlices and Nodes come as the API
// server holds them (it validated and defaulted them): the same object while unchanged, so the
// allocator's identity checks skip them. Pure: no I/O.
import type { Diagnostic } from '../../api/diagnostics.ts';
import { type LoadResult as ApiLoadResult, loadValue } from '../../api/load.ts';
import { type LoadedObject, unpositioned } from '../../api/loaded.ts';
import type { EndpointSlice, Namespace, Node, Secret, Service } from '../../api/resources.ts';
import type { Config } from '../../config/types.ts';
import type { ConfigResolver } from '../files/folder-store.ts';
import type { ControllerStatus, PoolUsage, ServiceAssignment, Snapshot } from '../store.ts';
import { serviceKey, withLazyLists } from '../store.ts';
import type { Json } from './kube-client.ts';

export const allocatedFromPoolAnnotation = 'metallb.io/ip-allocated-from-pool';

export interface ObjectsByKind {
  readonly config: readonly Json[];
  readonly secrets: readonly Json[];
  readonly namespaces: readonly Json[];
  readonly services: readonly Json[];
  readonly endpointSlices: readonly Json[];
  readonly nodes: readonly Json[];
  /** frr-k8s's FRRConfigurations (speaker only): handed to the speaker, never part of the MetalLB configuration. */
  readonly frrConfigurations?: readonly Json[];
}

const metaOf = (o: Json) => (o.metadata ?? {}) as { namespace?: string; name?: string; resourceVersion?: string; generation?: number; uid?: string; labels?: Record<string, string>; annotations?: Record<string, string> };

/**
 * What a metallb.io object's configuration depends on: its generation (the apiserver bumps it on
 * a spec change, not on a status write) with its labels (pool selectors) and annotations. The
 * controller writes IPAddressPool status with every allocation: keyed by resourceVersion, each
 * of those writes re-resolved the configuration and made the next snapshot a full one (every
 * Service re-allocated and re-planned, in the controller and in every speaker). Without a
 * generation (objects not from an apiserver), the resourceVersion.
 */
export function specVersion(o: Json): string {
  const m = metaOf(o);
  if (typeof m.generation !== 'number') return `rv${m.resourceVersion ?? ''}`;
  return `g${m.generation}${m.labels ? JSON.stringify(m.labels) : ''}${m.annotations ? JSON.stringify(m.annotations) : ''}`;
}
const idOf = (o: Json): string => `${String(o.kind)}/${metaOf(o).namespace ?? ''}/${metaOf(o).name ?? ''}`;

export type AssembleResult =
  | { readonly kind: 'snapshot'; readonly snapshot: Snapshot }
  /** The configuration is invalid: `snapshot` carries the last good Config with the current Services (if there was one). */
  | { readonly kind: 'rejected'; readonly diagnostics: readonly Diagnostic[]; readonly configKey: string; readonly snapshot?: Snapshot };

/** The controller's status as the cluster holds it: each Service's ingress IPs and pool annotation, each pool's status. */
export function statusFromObjects(services: readonly Service[], pools: readonly Json[]): ControllerStatus {
  const assigned: Record<string, ServiceAssignment> = {};
  for (const svc of services) {
    const ips = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).filter((x): x is string => x !== undefined);
    if (ips.length === 0) continue;
    const pool = svc.metadata.annotations?.[allocatedFromPoolAnnotation];
    assigned[serviceKey(svc)] = pool ? { ips, pool } : { ips };
  }
  const usage: Record<string, PoolUsage> = {};
  for (const p of pools) {
    const s = p.status as PoolUsage | undefined;
    const name = metaOf(p).name;
    if (s && name && typeof s.assignedIPv4 === 'number') usage[name] = { assignedIPv4: s.assignedIPv4, assignedIPv6: s.assignedIPv6, availableIPv4: s.availableIPv4, availableIPv6: s.availableIPv6 };
  }
  return { services: assigned, pools: usage, events: [] };
}

/**
 * statusFromObjects, worked out when first read: only a controller's first snapshot reads it (it
 * keeps what it wrote after that), and at 50k Services building it for every burst cost more than
 * the rest of the snapshot.
 */
function lazyStatus(services: () => readonly Service[], pools: readonly Json[]): ControllerStatus {
  let built: ControllerStatus | undefined;
  const get = () => (built ??= statusFromObjects(services(), pools));
  return {
    get services() { return get().services; },
    get pools() { return get().pools; },
    events: [],
  };
}

/** Keeps what is expensive to recompute between calls: loaded objects by resourceVersion, the last resolution. */
export class SnapshotAssembler {
  private readonly loaded = new Map<string, { rv: string | undefined; result: ApiLoadResult }>();
  private lastResolved: { key: string; config?: Config; diagnostics: Diagnostic[] } | undefined;
  private lastGood: { config: Config; objects: readonly LoadedObject[]; diagnostics: readonly Diagnostic[] } | undefined;
  private generation = 0;
  /** Per FRRConfiguration id, its last version that loaded: one refused by the loader keeps it. */
  private readonly frrLoaded = new Map<string, LoadedObject>();
  /** The loader's errors on FRRConfigurations now (the store logs them when they change). */
  frrDiagnostics: readonly Diagnostic[] = [];

  constructor(private readonly resolver: ConfigResolver, private readonly namespace: string) {}

  /** api/'s loader on one object from the API, cached while its resourceVersion stays. */
  private load(o: Json): ApiLoadResult {
    const id = idOf(o);
    const rv = metaOf(o).resourceVersion;
    const hit = this.loaded.get(id);
    if (hit && hit.rv === rv && rv !== undefined) return hit.result;
    const out: ApiLoadResult = { objects: [], diagnostics: [] };
    // No file: diagnostics name the object (Kind/namespace/name) and the field instead of a line.
    loadValue(o, { file: '', document: 0, positionOf: () => undefined }, out);
    const result = { objects: out.objects, diagnostics: out.diagnostics.map(({ position: _p, ...d }) => d) };
    this.loaded.set(id, { rv, result });
    return result;
  }

  /** What the last full build worked out from the configuration objects (reused while they are unchanged). */
  private lastFixed: { namespaces: Namespace[]; frrObjects: LoadedObject[]; pools: Json[] } | undefined;

  /**
   * `configUnchanged`: the caller knows that no configuration object, Secret, Namespace or
   * FRRConfiguration changed since the last call (only Services, EndpointSlices or Nodes did):
   * the last build's Config and config-derived parts are reused without reading `o.config`,
   * `o.secrets`, `o.namespaces` or `o.frrConfigurations`. Ignored while the configuration in force
   * is refused (that build is a full one).
   */
  assemble(o: ObjectsByKind, opts: { configUnchanged?: boolean } = {}): AssembleResult {
    const fixed = this.lastFixed;
    if (opts.configUnchanged && fixed && this.lastResolved?.config !== undefined && this.lastGood) {
      return { kind: 'snapshot', snapshot: this.build(o, this.lastGood, fixed) };
    }
    const config = o.config;
    const present = new Set<string>();
    const configObjects: LoadedObject[] = [];
    const diagnostics: Diagnostic[] = [];
    const keyParts: string[] = [];
    for (const raw of config) {
      present.add(idOf(raw));
      keyParts.push(`${idOf(raw)}@${specVersion(raw)}`);
      const r = this.load(raw);
      configObjects.push(...r.objects);
      diagnostics.push(...r.diagnostics);
    }
    // Secrets reach the configuration only when a BGPPeer references them.
    const referenced = new Set<string>();
    for (const lo of configObjects) {
      if (lo.object.kind !== 'BGPPeer') continue;
      const ref = (lo.object).spec.passwordSecret;
      if (ref?.name) referenced.add(`${ref.namespace ?? this.namespace}/${ref.name}`);
    }
    const frr = this.loadFrrConfigurations(o.frrConfigurations ?? [], present);
    for (const s of o.secrets) {
      const m = metaOf(s);
      const id = `${m.namespace ?? ''}/${m.name ?? ''}`;
      const secret = () => unpositioned({ ...s, kind: 'Secret', apiVersion: 'v1' } as unknown as Secret);
      if (frr.secrets.has(id)) frr.objects.push(secret());
      if (!referenced.has(id)) continue;
      keyParts.push(`Secret/${m.namespace}/${m.name}@${m.resourceVersion ?? ''}`);
      configObjects.push(secret());
    }
    const namespaces = o.namespaces.map((n) => ({ ...n, kind: 'Namespace', apiVersion: 'v1' }) as unknown as Namespace);
    for (const n of namespaces) {
      keyParts.push(`Namespace/${n.metadata.name}@${n.metadata.resourceVersion ?? ''}`);
      configObjects.push(unpositioned(n));
    }
    for (const id of [...this.loaded.keys()]) if (!present.has(id)) this.loaded.delete(id);

    const key = keyParts.sort().join('\n');
    if (this.lastResolved?.key !== key) {
      const errors = diagnostics.filter((d) => d.severity === 'error');
      let resolved: { config?: Config; diagnostics: Diagnostic[] };
      try {
        resolved = errors.length > 0 ? { diagnostics: [] } : this.resolver(configObjects, { namespace: this.namespace });
      } catch (e) {
        resolved = { diagnostics: [{ severity: 'error', path: '', message: `internal error while resolving the configuration: ${(e as Error).message}` }] };
      }
      const all = [...diagnostics, ...resolved.diagnostics];
      this.lastResolved = { key, ...(resolved.config && !all.some((d) => d.severity === 'error') ? { config: resolved.config } : {}), diagnostics: all };
      if (this.lastResolved.config) this.lastGood = { config: this.lastResolved.config, objects: configObjects, diagnostics: all.filter((d) => d.severity !== 'error') };
    }

    const pools = config.filter((c) => c.kind === 'IPAddressPool');
    const parts = { namespaces, frrObjects: frr.objects, pools };
    this.lastFixed = parts;
    const build = (good: NonNullable<typeof this.lastGood>) => this.build(o, good, parts);
    if (this.lastResolved.config === undefined) {
      return { kind: 'rejected', diagnostics: this.lastResolved.diagnostics, configKey: key, ...(this.lastGood ? { snapshot: build(this.lastGood) } : {}) };
    }
    return { kind: 'snapshot', snapshot: build(this.lastGood!) };
  }

  private build(o: ObjectsByKind, good: NonNullable<typeof this.lastGood>, parts: NonNullable<typeof this.lastFixed>): Snapshot {
    // Services, EndpointSlices and Nodes are read when a consumer reads them, not here: `o` may
    // hand them out lazily (the Kubernetes store does: its informers hold the world, and an edit's
    // consumers read the delta), so a build costs what changed rather than a copy of every object.
    let services: Service[] | undefined;
    const servicesNow = () => (services ??= o.services as unknown as Service[]);
    const objects = parts.frrObjects.length > 0 ? [...good.objects, ...parts.frrObjects] : good.objects;
    const s = withLazyLists({
      generation: ++this.generation,
      config: good.config,
      endpointSlices: [],
      nodes: [],
      namespaces: parts.namespaces,
      diagnostics: good.diagnostics,
      status: lazyStatus(servicesNow, parts.pools),
    }, servicesNow, () => objects);
    let slices: EndpointSlice[] | undefined;
    let nodes: Node[] | undefined;
    return Object.defineProperties(s, {
      endpointSlices: { get: () => (slices ??= o.endpointSlices as unknown as EndpointSlice[]), enumerable: true, configurable: true },
      nodes: { get: () => (nodes ??= o.nodes as unknown as Node[]), enumerable: true, configurable: true },
    });
  }

  /**
   * FRRConfigurations, loaded one by one like the metallb.io objects but kept out of the MetalLB
   * configuration: a refused one is that object's problem (its last version that loaded stays),
   * never a reason to refuse the configuration. Also the Secrets their neighbours reference.
   */
  private loadFrrConfigurations(raws: readonly Json[], present: Set<string>): { objects: LoadedObject[]; secrets: Set<string> } {
    const objects: LoadedObject[] = [];
    const secrets = new Set<string>();
    const diagnostics: Diagnostic[] = [];
    const ids = new Set<string>();
    for (const raw of raws) {
      const id = idOf(raw);
      present.add(id);
      ids.add(id);
      const r = this.load(raw);
      diagnostics.push(...r.diagnostics.filter((d) => d.severity === 'error'));
      const lo = r.objects[0];
      if (lo && !r.diagnostics.some((d) => d.severity === 'error')) this.frrLoaded.set(id, lo);
      const good = this.frrLoaded.get(id);
      if (!good) continue;
      objects.push(good);
      const spec = (good.object as unknown as { spec: { bgp?: { routers?: { neighbors?: { passwordSecret?: { name?: string; namespace?: string } }[] }[] } } }).spec;
      for (const router of spec.bgp?.routers ?? []) {
        for (const n of router.neighbors ?? []) {
          if (n.passwordSecret?.name) secrets.add(`${n.passwordSecret.namespace || metaOf(raw).namespace || ''}/${n.passwordSecret.name}`);
        }
      }
    }
    for (const id of [...this.frrLoaded.keys()]) if (!ids.has(id)) this.frrLoaded.delete(id);
    this.frrDiagnostics = diagnostics;
    return { objects, secrets };
  }
}
