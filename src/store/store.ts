// Where objects come from and where status goes. A Store turns the world (a folder of YAML now,
// the Kubernetes API later) into a stream of snapshots: every valid object, the resolved Config,
// and the status ironlb wrote back (each Service's assigned IPs), merged into the Services the way
// a cluster keeps them in `status.loadBalancer`. The daemons only ever see this interface.
import type { Diagnostic } from '../api/diagnostics.ts';
import type { LoadedObject } from '../api/loaded.ts';
import type { EndpointSlice, Namespace, Node, Service } from '../api/resources.ts';
import type { Config } from '../config/types.ts';

/** `namespace/name`, the key Services are known by in status. */
export type ServiceKey = string;

export function serviceKey(s: { metadata: { namespace?: string; name?: string } }): ServiceKey {
  return `${s.metadata.namespace ?? 'default'}/${s.metadata.name ?? ''}`;
}

export interface ServiceAssignment {
  /** Assigned load-balancer IPs (one per family), as strings. */
  readonly ips: readonly string[];
  /** The pool the IPs came from. */
  readonly pool?: string;
}

export interface PoolUsage {
  readonly assignedIPv4: number;
  readonly assignedIPv6: number;
  readonly availableIPv4: number;
  readonly availableIPv6: number;
}

export interface StatusEvent {
  /** ISO time. */
  readonly time: string;
  readonly type: 'Normal' | 'Warning';
  readonly object: string;
  readonly reason: string;
  readonly message: string;
}

/** What the controller owns: assignments, pool usage, recent events. */
export interface ControllerStatus {
  readonly services: Readonly<Record<ServiceKey, ServiceAssignment>>;
  readonly pools: Readonly<Record<string, PoolUsage>>;
  readonly events: readonly StatusEvent[];
  /**
   * Every event new since the previous write, coalesced per object and reason (`events` keeps
   * only the latest 200, for display: a burst pushes some out before they are written). The
   * Kubernetes store posts these as Events; the status file does not keep them.
   */
  readonly newEvents?: readonly StatusEvent[];
  /** ISO time of the last write. */
  readonly updated?: string;
  /**
   * Set when the stored status exists but is damaged (unreadable, unparsable): the controller then
   * refuses to allocate (it would renumber every Service) until the operator accepts the loss.
   */
  readonly damaged?: string;
}

export interface PeerAnnouncement {
  readonly address: string;
  readonly state: string;
  readonly prefixes: readonly string[];
  /** Read back from a cluster's BGPSessionState, which keeps the count, not the list (prefixes is then empty). */
  readonly prefixesSent?: number;
  readonly bfd?: string;
  /** Milliseconds the session has been Established, while it is. */
  readonly uptimeMs?: number;
  /** Why the session is not up or keeps failing (e.g. the UPDATE the peer refused, and its Services). */
  readonly lastError?: string;
  /** Routes received from the peer, accepted by the FRRConfiguration's toReceive, and in the kernel (issue #14). */
  readonly received?: { readonly routes: number; readonly accepted: number; readonly installed: number };
}

/** An FRRConfiguration (frr-k8s's kind) this node's speaker did not apply, or not in its current version, and why. */
export interface FrrConfigurationProblem {
  /** `namespace/name`. */
  readonly configuration: string;
  readonly message: string;
}

/** What one speaker owns: its sessions and what it announces on each; what it does not, and why. */
export interface SpeakerStatus {
  readonly node: string;
  readonly peers: Readonly<Record<string, PeerAnnouncement>>;
  readonly notAnnounced: readonly { readonly service: string; readonly reason: string }[];
  /** Layer 2, per Service (namespace/name): the node answering ARP/NDP, the IPs, and (on that node) its interfaces. */
  readonly layer2?: Readonly<Record<string, { readonly node: string; readonly ips: readonly string[]; readonly interfaces: readonly string[]; readonly noInterface?: readonly string[] }>>;
  /** The Services this node announces over BGP and to which peers (a cluster's ServiceBGPStatus). */
  readonly announced?: readonly { readonly service: string; readonly peers: readonly string[] }[];
  /**
   * The FRRConfigurations refused on this node (invalid, or conflicting with what is already in
   * force). Present, maybe empty, when the speaker merges FRRConfigurations itself (its own BGP
   * speaker); absent with `--bgp-backend frr-k8s`, where frr-k8s judges them.
   */
  readonly frrConfigurationProblems?: readonly FrrConfigurationProblem[];
  /** The Services this node announces over BGP that no peer takes (MetalLB still says `nodeAssigned`). */
  readonly announcedToNoPeer?: readonly string[];
  readonly updated?: string;
}

/**
 * What changed in a speaker's status since its previous write, each part as it reads now: a writer
 * that has the previous status writes only this (an edit at 50,000 Services then costs its own
 * Service and prefixes, not a list of every prefix and Service of the node). A writer that has no
 * previous status (its first write, a failed one, a compaction) builds the whole with `whole()`.
 */
export interface SpeakerStatusChanges {
  readonly node: string;
  /** Every session as the status says it, but `prefixes` empty and `prefixesSent` its count (few per node). */
  readonly peers: Readonly<Record<string, PeerAnnouncement>>;
  /** Per session: prefixes announced (true) or withdrawn (false) since the previous write. */
  readonly prefixes: ReadonlyMap<string, ReadonlyMap<string, boolean>>;
  /** Per Service (namespace/name) touched since the previous write: its entries now (both empty: none, or gone). */
  readonly services: ReadonlyMap<ServiceKey, ServiceBgpEntries>;
  /** The layer-2 part, when it may have changed since the previous write. */
  readonly layer2?: SpeakerStatus['layer2'];
  /** As in SpeakerStatus, whole (a few per node). */
  readonly frrConfigurationProblems?: SpeakerStatus['frrConfigurationProblems'];
  readonly updated?: string;
}

/** What a speaker's status says of one Service over BGP: the peers it goes to, and why not (`reason: message`). */
export interface ServiceBgpEntries {
  readonly peers: readonly string[];
  readonly notAnnounced: readonly string[];
  /** Announced from this node, taken by no peer (SpeakerStatus.announcedToNoPeer). */
  readonly toNoPeer?: boolean;
}

/**
 * A status write: the whole status, or the changes since the previous write of the same writer
 * with the whole one on demand (see SpeakerStatusChanges).
 */
export type SpeakerStatusWrite = SpeakerStatus | { readonly whole: () => SpeakerStatus; readonly changes: SpeakerStatusChanges };

/** The whole status of a write (builds it when the write carries only changes). */
export const wholeSpeakerStatus = (w: SpeakerStatusWrite): SpeakerStatus => ('whole' in w ? w.whole() : w);

/**
 * What changed since the store's previous snapshot: how an edit costs what it changes. The
 * contract, for every store (the folder one here, the Kubernetes informers next):
 * - `from` is the generation of the snapshot this one follows; a consumer that did not see that
 *   one (or any snapshot without a delta) recomputes from the whole snapshot.
 * - `servicesOnly`: nothing but Services changed (the Config, Nodes, EndpointSlices and Namespaces
 *   are those of `from`), or the EndpointSlices of the Services `slices` names. When false,
 *   consumers recompute everything.
 * - `slices`: per Service key, its EndpointSlices now, for every Service whose slices changed
 *   since `from` (that Service, when it exists, is upserted too).
 * - `upserted`: every Service added or changed since `from`, as the snapshot holds it (status
 *   merged); `deleted`: the keys of every Service gone since `from`. A key is in at most one.
 *   Services not named are the same objects as in `from`.
 * An informer's add or update is an upsert, its delete a deletion; several events for one key
 * between two snapshots fold into the last. A status change that moves a Service's IPs (another
 * process's write) upserts that Service; the status this store's own writer wrote is not news to
 * it (that writer knows what it wrote), so a Service that differs only by it is not named. The delta is advisory: the snapshot stays complete, and
 * the full recomputation from it is the reference an incremental consumer must agree with.
 */
export interface SnapshotDelta {
  readonly from: number;
  readonly servicesOnly: boolean;
  readonly upserted: readonly Service[];
  readonly deleted: readonly ServiceKey[];
  readonly slices?: ReadonlyMap<ServiceKey, readonly EndpointSlice[]>;
}

export interface Snapshot {
  /** Increases with every accepted change. */
  readonly generation: number;
  readonly config: Config;
  readonly objects: readonly LoadedObject[];
  /**
   * Services with `status.loadBalancer.ingress` filled from the controller's status. This list and
   * `objects` may be built when first read (withLazyLists): read them while the snapshot is the
   * newest, as a listener does on delivery; keep the list, not the snapshot, to read it later.
   */
  readonly services: readonly Service[];
  readonly endpointSlices: readonly EndpointSlice[];
  readonly nodes: readonly Node[];
  readonly namespaces: readonly Namespace[];
  /** Warnings of the accepted configuration. */
  readonly diagnostics: readonly Diagnostic[];
  readonly status: ControllerStatus;
  /**
   * The configuration in force is older than the newest one written, which was refused (a cluster
   * keeps serving Services under the last good configuration meanwhile).
   */
  readonly stale?: boolean;
  /** What changed since the previous snapshot (see SnapshotDelta); absent: assume everything. */
  readonly delta?: SnapshotDelta;
}

/**
 * `base` with its `services` and `objects` lists built only when first read: an edit's consumers
 * read the delta, and at 50,000 Services each list cost ~2 ms per edit. The lists are built from
 * the producer's state when read, so read them while the snapshot is the newest one (listeners do).
 */
export function withLazyLists(base: SnapshotBase, services: () => readonly Service[], objects: () => readonly LoadedObject[]): Snapshot {
  let svc: readonly Service[] | undefined;
  let obj: readonly LoadedObject[] | undefined;
  return Object.defineProperties(copyFields(base), {
    services: { get: () => (svc ??= services()), enumerable: true, configurable: true },
    objects: { get: () => (obj ??= objects()), enumerable: true, configurable: true },
  }) as Snapshot;
}

export type SnapshotBase = Omit<Snapshot, 'services' | 'objects'>;

/** The fields of `s` but its lists and its delta, without reading the lists (a spread would build them). */
export function snapshotBase(s: Snapshot): SnapshotBase {
  const { generation, config, namespaces, diagnostics, status, stale } = s;
  const base = { generation, config, namespaces, diagnostics, status, ...(stale !== undefined ? { stale } : {}) };
  // endpointSlices and nodes may be lazy too (the Kubernetes store's): carried as they are, unread.
  for (const k of ['endpointSlices', 'nodes'] as const) {
    Object.defineProperty(base, k, Object.getOwnPropertyDescriptor(s, k) ?? { value: s[k], enumerable: true, configurable: true, writable: true });
  }
  return base as SnapshotBase;
}

/** A copy of `o`'s own fields with their getters as getters (a spread would read, i.e. build, lazy lists). */
export function copyFields<T extends object>(o: T, extra?: Partial<T>): T {
  const out = Object.defineProperties({}, Object.getOwnPropertyDescriptors(o)) as T;
  for (const [k, v] of Object.entries(extra ?? {})) Object.defineProperty(out, k, { value: v, enumerable: true, configurable: true, writable: true });
  return out;
}

export interface Rejection {
  /** The errors (and warnings) that made the change invalid. */
  readonly diagnostics: readonly Diagnostic[];
}

export interface StoreListener {
  snapshot(s: Snapshot): void;
  /** A change was invalid; the last good snapshot stays in force. */
  rejected?(r: Rejection): void;
}

export interface Store {
  /** Reads the source once and starts watching. Rejects if the first read is invalid. */
  start(listener: StoreListener): Promise<Snapshot>;
  current(): Snapshot | undefined;
  /**
   * `changed`: the Services whose assignment changed since the last write (when the writer knows):
   * the store may then write only those.
   */
  writeControllerStatus(s: ControllerStatus, changed?: ReadonlySet<ServiceKey>): Promise<void>;
  /** A write that carries changes may be written as those alone (the whole status is built only when needed). */
  writeSpeakerStatus(s: SpeakerStatusWrite): Promise<void>;
  readSpeakerStatuses(): Promise<SpeakerStatus[]>;
  close(): Promise<void>;
}

const sameIngress = (svc: Service, ips: readonly string[]): boolean => {
  const ingress = svc.status?.loadBalancer?.ingress ?? [];
  return ingress.length === ips.length && ingress.every((e, i) => e.ip === ips[i] && e.hostname === undefined);
};

/**
 * The last merge of each Service object: the controller and the folder store both merge the same
 * loaded Service with the IPs just assigned, and share one copy instead of holding one each.
 */
const lastMerge = new WeakMap<Service, Service>();

/** The Service with `status.loadBalancer.ingress` set to `ips` (the same object when it already is). */
export function withIngress(svc: Service, ips: readonly string[]): Service {
  if (sameIngress(svc, ips)) return svc;
  const prev = lastMerge.get(svc);
  if (prev && sameIngress(prev, ips)) return prev;
  const status = { ...svc.status, loadBalancer: ips.length > 0 ? { ingress: ips.map((ip) => ({ ip })) } : {} };
  // A literal, when the Service has just these fields: every such copy shares one hidden class.
  // `{ ...svc }` of an object that came through postMessage (the parser worker) got a hidden class
  // and descriptor array of its own: ~240 bytes per Service, 12 MiB at 50,000.
  const plain = Object.keys(svc).length === (svc.status === undefined ? 4 : 5) && svc.apiVersion !== undefined && svc.kind !== undefined &&
    svc.metadata !== undefined && svc.spec !== undefined;
  const out: Service = plain ? { apiVersion: svc.apiVersion, kind: svc.kind, metadata: svc.metadata, spec: svc.spec, status } : { ...svc, status };
  lastMerge.set(svc, out);
  return out;
}

/** The Services as a cluster would hold them after the controller wrote `status`. */
export function withStatus(snapshot: Snapshot, status: ControllerStatus): Snapshot {
  const services = snapshot.services.map((svc) => withIngress(svc, status.services[serviceKey(svc)]?.ips ?? []));
  const { delta: _delta, ...rest } = snapshot;
  return { ...rest, services, status };
}

export const emptyControllerStatus: ControllerStatus = { services: {}, pools: {}, events: [] };
