// The controller's IP address management API: a stateful `Allocator` the daemon keeps, and the
// pure `reconcileAll` that runs every Service through it. No clock, no client, no I/O: the
// Services, the resolved Config and `now` come in; statuses, annotations, events and pool
// status go out.
import type { IPAddressPoolStatus, LoadBalancerIngress, Service } from '../api/resources.ts';
import type { Config } from '../config/types.ts';
import { AddressAllocator } from './allocator.ts';
import { type ControllerEvent, type ServiceOutcome, converge, ignoredByClass } from './converge.ts';
import type { PoolCounters } from './pool-state.ts';
import { annotation, annotationValue, backendKey, desiredIps, ingressIps, serviceKey, servicePorts, sharingKey } from './service-facts.ts';

/** Asks for addresses by name (loadBalancerIPs annotation or spec.loadBalancerIP). */
const requestsAddresses = (svc: Service): boolean => (svc.spec.loadBalancerIP ?? '') !== '' || annotationValue(svc, annotation.loadBalancerIPs) !== '';

export type { ControllerEvent, ServiceOutcome } from './converge.ts';
export type { PoolCounters } from './pool-state.ts';

export interface AllocatorOptions {
  /** The controller's --lb-class: only Services of this class (none: only Services without one). */
  readonly loadBalancerClass?: string;
}

export class Allocator {
  private core: AddressAllocator;
  private config: Config;

  constructor(config: Config, readonly options: AllocatorOptions = {}) {
    this.config = config;
    this.core = new AddressAllocator(config.pools);
  }

  /** The Config in force. */
  get currentConfig(): Config {
    return this.config;
  }

  /**
   * Applies a new Config (MetalLB SetPools): holders of addresses no pool contains lose them,
   * holders whose addresses moved to another pool are re-homed. Returns both kinds of keys. The
   * caller then reprocesses every Service (reconcileAll does), which emits ClearAssignment and
   * allocates anew where an address is no longer allowed.
   */
  setConfig(config: Config): string[] {
    this.config = config;
    return this.core.setPools(config.pools);
  }

  /** True when this controller handles the Service at all (loadBalancerClass). */
  handles(svc: Service): boolean {
    return !ignoredByClass(svc, this.options.loadBalancerClass);
  }

  /** Converges one Service; undefined when its class is not ours (MetalLB ignores it). */
  reconcileService(svc: Service, now: number, key?: string): ServiceOutcome | undefined {
    if (!this.handles(svc)) { this.core.setRequest(key ?? serviceKey(svc), []); return undefined; }
    this.noteRequest(svc, key);
    return converge(this.core, svc, now, key);
  }

  /**
   * Records what these Services request by address, before any of them is reconciled: automatic
   * assignment then never hands out an address a Service later in the same batch asks for.
   * reconcileAll does this for every Service; a caller reconciling a few changed Services one by
   * one calls it with those first.
   */
  noteRequests(services: Iterable<Service>): void {
    for (const svc of services) this.noteRequest(svc);
  }

  private noteRequest(svc: Service, key?: string): void {
    // Most Services request nothing: two look-ups, no parsing, no key built.
    if (!requestsAddresses(svc)) {
      if (this.core.requesters > 0) this.core.setRequest(key ?? serviceKey(svc), []);
      return;
    }
    const wanted = this.handles(svc) && svc.spec.type === 'LoadBalancer' ? desiredIps(svc) : undefined;
    this.core.setRequest(key ?? serviceKey(svc), wanted && wanted.error === undefined ? wanted.ips : []);
  }

  /** A Service was deleted. True when others should be reprocessed (it held addresses). */
  deleteService(key: string): boolean {
    this.core.setRequest(key, []);
    return this.core.unassign(key);
  }

  /**
   * After a restart: reprocesses every Service once, those holding addresses first, so that they
   * re-claim them before any pending Service allocates. Returns the outcomes by key.
   */
  rebuild(services: readonly Service[], now = 0): Map<string, ServiceOutcome> {
    const out = new Map<string, ServiceOutcome>();
    this.noteRequests(services);
    for (const r of this.restartPass(keyedRestartOrder(services), now)) out.set(r.key, r);
    return out;
  }

  /**
   * The first pass after a restart, optimistically in one go: if no Service allocates a new
   * address before the last holder has re-claimed its own, the outcome is the one a separate
   * re-claim pass would give. Otherwise (a holder lost its address, or PreferDualStack added a
   * family) it starts over from an empty state with every claim made first (`reclaim`).
   */
  restartPass(ordered: readonly { readonly svc: Service; readonly key: string; readonly n: number }[], now: number): ServiceOutcome[] {
    let lastHolder = -1;
    for (let i = 0; i < ordered.length; i++) if (ordered[i]!.n > 0) lastHolder = i;
    const fresh = this.core.addressesInUse() === 0;
    if (fresh) {
      const out: ServiceOutcome[] = [];
      const clean = this.core.buffered(() => {
        for (let i = 0; i < ordered.length; i++) {
          const { svc, key } = ordered[i]!;
          const r = this.reconcileService(svc, now, key);
          if (!r) continue;
          out.push(r);
          if (i < lastHolder && r.events.some((e) => e.reason === 'IPAllocated')) return false;
        }
        return true;
      });
      if (clean) return out;
      this.core = new AddressAllocator(this.config.pools);
      this.noteRequests(ordered.map((o) => o.svc));
    }
    this.reclaim(ordered);
    const out: ServiceOutcome[] = [];
    this.core.buffered(() => {
      for (const { svc, key } of ordered) {
        const r = this.reconcileService(svc, now, key);
        if (r) out.push(r);
      }
    });
    return out;
  }

  /**
   * Before any Service allocates after a restart, every Service re-claims the addresses its
   * status shows (in restart order; conflicts go to the first). MetalLB only sorts: its
   * PreferDualStack step can then hand a holder's address to a Service processed earlier.
   */
  reclaim(ordered: readonly { readonly svc: Service; readonly key: string }[]): void {
    this.core.claimInBulk(() => {
      for (const { svc, key } of ordered) {
        if (!this.handles(svc) || svc.spec.type !== 'LoadBalancer') continue;
        const ips = ingressIps(svc);
        if (ips.length === 0 || ips.some((ip) => ip === undefined)) continue;
        this.core.assign({ key, svc, ports: servicePorts(svc), sharing: sharingKey(svc), backend: backendKey(svc) }, ips);
      }
    });
  }

  /** Keys of the Services holding addresses. */
  allocatedKeys(): string[] {
    return [...this.core.keys()];
  }

  poolOf(key: string): string {
    return this.core.poolOf(key);
  }

  /** Exact counters, saturated at 2^63 - 1 (the int64 the IPAddressPool status holds). */
  poolCounters(pool: string): PoolCounters | undefined {
    return this.core.pool(pool)?.counters();
  }

  /** The status as IPAddressPoolStatus numbers (exact up to 2^53 - 1, saturated there). */
  poolStatus(pool: string): IPAddressPoolStatus | undefined {
    return this.core.pool(pool)?.status();
  }

  poolStatuses(): Map<string, IPAddressPoolStatus> {
    return new Map(this.core.poolNames.map((n) => [n, this.core.pool(n)!.status()]));
  }

  /** The allocation engine, for tests and the benchmark. */
  get engine(): AddressAllocator {
    return this.core;
  }
}

/**
 * MetalLB's reprocessAll order: more ingress addresses first; then (ironlb) Services that request
 * addresses by name before those that take any, ties by key (List order).
 */
export function restartOrder(services: readonly Service[]): Service[] {
  return keyedRestartOrder(services).map((x) => x.svc);
}

function keyedRestartOrder(services: readonly Service[]): { svc: Service; key: string; n: number }[] {
  const keyed = services.map((svc) => ({ svc, key: serviceKey(svc), n: svc.status?.loadBalancer?.ingress?.length ?? 0, asks: requestsAddresses(svc) ? 0 : 1 }));
  keyed.sort((a, b) => b.n - a.n || a.asks - b.asks || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed;
}

export interface ServiceWrite {
  readonly ingress: LoadBalancerIngress[];
  readonly annotations: Record<string, string>;
  /** True when this differs from the Service given. */
  readonly changed: boolean;
}

export interface ReconcileResult {
  readonly services: Map<string, ServiceWrite>;
  readonly events: ControllerEvent[];
  readonly poolStatus: Map<string, IPAddressPoolStatus>;
  /** The state to pass to the next call. */
  readonly state: Allocator;
}

export interface ReconcileOptions extends AllocatorOptions {
  readonly now?: number;
  /** Full passes at most while some Service asks for reprocessing (MetalLB retries with backoff). */
  readonly maxPasses?: number;
}

/**
 * Runs every Service through the allocator until nothing changes and nothing asks for
 * reprocessing (a written Service returns as an update event in a live cluster). With `state`
 * the previous allocations are kept (Services missing from the list are treated as deleted);
 * without it the state is rebuilt from the statuses, as after a restart. Events repeated across
 * passes are reported once.
 */
export function reconcileAll(config: Config, services: readonly Service[], state?: Allocator, options: ReconcileOptions = {}): ReconcileResult {
  const alloc = state ?? new Allocator(config, options);
  if (state) alloc.setConfig(config);
  const now = options.now ?? 0;
  const present = new Set(services.map(serviceKey));
  for (const key of alloc.allocatedKeys()) if (!present.has(key)) alloc.deleteService(key);

  alloc.engine.clearRequests();
  alloc.noteRequests(services);

  const current = new Map(services.map((s) => [serviceKey(s), s]));
  const outcomes = new Map<string, ServiceOutcome>();
  const events: ControllerEvent[] = [];
  const seen = new Set<string>();
  const maxPasses = options.maxPasses ?? 5;
  // The next pass: every Service after a reprocess request, else only those written (a written
  // Service comes back as an update event, and only it: at a 50k start the second pass over all
  // was a third of the allocator's time for nothing).
  let next: Set<string> | 'all' = 'all';
  for (let pass = 0; pass < maxPasses; pass++) {
    const wanted = next;
    next = new Set();
    const ordered = keyedRestartOrder(wanted === 'all' ? [...current.values()] : [...wanted].map((k) => current.get(k)!));
    const results = pass === 0 && !state
      ? alloc.restartPass(ordered, now)
      : ordered.map(({ svc, key }) => alloc.reconcileService(svc, now, key));
    for (const r of results) {
      if (!r) continue;
      const svc = current.get(r.key)!;
      outcomes.set(r.key, r);
      for (const e of r.events) {
        const id = `${e.object.namespace}/${e.object.name}\u0000${e.reason}\u0000${e.message}`;
        if (!seen.has(id)) { seen.add(id); events.push(e); }
      }
      if (r.changed) { current.set(r.key, { ...svc, metadata: { ...svc.metadata, annotations: r.annotations }, status: r.status }); if (next !== 'all') next.add(r.key); }
      if (r.reprocessAll) next = 'all';
    }
    if (next !== 'all' && next.size === 0) break;
  }

  const writes = new Map<string, ServiceWrite>();
  for (const svc of services) {
    const key = serviceKey(svc);
    const r = outcomes.get(key);
    if (!r) continue;
    const ingress = r.status.loadBalancer?.ingress ?? [];
    const before = svc.status?.loadBalancer?.ingress ?? [];
    const ann = svc.metadata.annotations ?? {};
    const changed = ingress.length !== before.length || ingress.some((e, i) => e.ip !== before[i]!.ip || e.hostname !== before[i]!.hostname)
      || Object.keys(ann).length !== Object.keys(r.annotations).length || Object.keys(ann).some((k) => ann[k] !== r.annotations[k]);
    writes.set(key, { ingress, annotations: r.annotations, changed });
  }
  return { services: writes, events, poolStatus: alloc.poolStatuses(), state: alloc };
}
