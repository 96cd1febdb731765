// One Service through MetalLB's convergeBalancer + SetBalancer (controller/service.go, main.go):
// decide its addresses, the status and annotations to write, and the events to emit. The steps
// and their order follow MetalLB, so that the same inputs give the same events.
import type { LoadBalancerIngress, Service, ServiceStatus } from '../api/resources.ts';
import type { IpAddress } from '../net/ip.ts';
import type { AddressAllocator, Requester } from './allocator.ts';
import {
  annotation, annotationValue, backendKey, deprecatedAnnotationPrefix, desiredIps, familyForIps, familyForService,
  familyPolicy, goList, goQuote, goQuoteList, hasClusterIPs, ingressIps, ipText, ipsQuoted, serviceKey, servicePorts, sharingKey,
  type ServiceFamily,
} from './service-facts.ts';

export interface ControllerEvent {
  readonly reason: string;
  readonly type: 'Normal' | 'Warning';
  readonly message: string;
  readonly object: { readonly namespace: string; readonly name: string };
  /** The `now` the reconcile ran at (ms). */
  readonly timeMs: number;
}

export interface ServiceOutcome {
  readonly key: string;
  /** status.loadBalancer as it should be written. */
  readonly status: ServiceStatus;
  /** metadata.annotations as they should be written. */
  readonly annotations: Record<string, string>;
  /** True when status or annotations differ from the Service given. */
  readonly changed: boolean;
  readonly events: ControllerEvent[];
  /** The Service could not converge (it stays pending; MetalLB's ErrConverge). */
  readonly failed: boolean;
  /** Other Services should be reprocessed (MetalLB's SyncStateReprocessAll). */
  readonly reprocessAll: boolean;
}

interface Working {
  status: ServiceStatus;
  annotations: Record<string, string>;
}

/** Filtered out by class: MetalLB leaves such Services alone, state and all. */
export function ignoredByClass(svc: Service, loadBalancerClass: string | undefined): boolean {
  const cls = svc.spec.loadBalancerClass;
  const mine = loadBalancerClass ?? '';
  if (cls === undefined) return mine !== '';
  return cls !== mine;
}

/** `key` may be passed when the caller has it (the same string object makes map look-ups cheaper). */
export function converge(alloc: AddressAllocator, svc: Service, now: number, key = serviceKey(svc)): ServiceOutcome {
  const emit = new Emitter(svc, now);
  const events = emit.events;
  const work: Working = {
    status: { ...svc.status },
    annotations: { ...(svc.metadata.annotations ?? {}) },
  };
  // Read before converging: the allocator updates a Service's record in place.
  const before = alloc.holding(key);
  const beforeIps = before?.ips;
  const beforeKey = before ? before.backend + before.sharing : '';
  const failed = !convergeBalancer(alloc, svc, key, work, emit);
  const after = alloc.holding(key);
  let reprocessAll = beforeKey !== (after ? after.backend + after.sharing : '');
  const changed = !sameStatus(svc.status, work.status) || !sameAnnotations(svc.metadata.annotations, work.annotations);
  if (changed) {
    // Only when something is written, so that steady state stays quiet (as in MetalLB).
    for (const k of Object.keys(svc.metadata.annotations ?? {}).sort()) {
      if (k.startsWith(deprecatedAnnotationPrefix)) emit.push('Warning', 'deprecatedAnnotation', `Service uses deprecated annotation ${k}`);
    }
    // An address given up may let a pending Service through.
    if (beforeIps && !after && alloc.poolFor(beforeIps)) reprocessAll = true;
  }
  return { key, status: work.status, annotations: work.annotations, changed, events, failed, reprocessAll };
}

function clear(alloc: AddressAllocator, key: string, work: Working): void {
  alloc.unassign(key);
  delete work.annotations[annotation.allocatedFromPool];
  work.status = { ...work.status, loadBalancer: {} };
}

/** serviceFamilyChanged. */
function familyChanged(lb: ServiceFamily, cluster: ServiceFamily, policy: string): boolean {
  if (lb === 'unknown') return true;
  if (lb === cluster) return false;
  return !(cluster === 'dual' && policy === 'PreferDualStack');
}

function sameIps(a: readonly (IpAddress | undefined)[], b: readonly IpAddress[]): boolean {
  if (a.length !== b.length) return false;
  const x = a.map(ipText).sort();
  const y = b.map(ipText).sort();
  return x.every((v, i) => v === y[i]);
}

/** Collects a Service's events (a class, not a closure: this runs once per Service per pass). */
class Emitter {
  readonly events: ControllerEvent[] = [];
  private readonly object: { readonly namespace: string; readonly name: string };

  constructor(svc: Service, private readonly now: number) {
    this.object = { namespace: svc.metadata.namespace ?? 'default', name: svc.metadata.name ?? '' };
  }

  push(type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.events.push({ reason, type, message, object: this.object, timeMs: this.now });
  }
}

/** Returns false when the Service did not converge. */
function convergeBalancer(alloc: AddressAllocator, svc: Service, key: string, work: Working, emit: Emitter): boolean {
  if (svc.spec.type !== 'LoadBalancer') { clear(alloc, key, work); return true; }
  if (!alloc.hasPools) { clear(alloc, key, work); return false; }
  if (!hasClusterIPs(svc)) { clear(alloc, key, work); return false; }

  let lbIps = ingressIps(svc);
  const policy = familyPolicy(svc);
  if (policy === 'RequireDualStack' && (svc.spec.clusterIPs?.length ?? 0) < 2) {
    emit.push('Warning', 'not enough clusterips', `Service requires dual stack but not enough clusterips ${goList(svc.spec.clusterIPs ?? [])}`);
    clear(alloc, key, work);
    return false;
  }

  const clusterFamily = familyForService(svc);
  if (lbIps.length === 0) {
    clear(alloc, key, work);
  } else {
    const lbFamily = familyForIps(lbIps);
    if (lbFamily.error !== undefined) {
      emit.push('Warning', 'nolbIPsIPFamily', `Failed to retrieve LBIPs IPFamily for ${ipsQuoted(lbIps)}: ${lbFamily.error}`);
    }
    if (clusterFamily.error !== undefined) {
      emit.push('Warning', 'noclusterIPsIPFamily', `Failed to retrieve ClusterIPs IPFamily for ${goQuoteList(svc.spec.clusterIPs ?? [])} ${svc.spec.clusterIP ?? ''}: ${clusterFamily.error}`);
      return false;
    }
    if (familyChanged(lbFamily.family, clusterFamily.family, policy)) {
      clear(alloc, key, work);
      lbIps = [];
    }
  }

  const who: Requester = { key, svc, ports: servicePorts(svc), sharing: sharingKey(svc), backend: backendKey(svc) };
  if (lbIps.length > 0) {
    // Idempotent while the configuration still allows the addresses; otherwise it says why not.
    const err = alloc.assign(who, lbIps);
    if (err !== undefined) {
      emit.push('Normal', 'ClearAssignment', `current IP for ${goQuote(key)} not allowed by config, will attempt for new IP assignment: ${err}`);
      clear(alloc, key, work);
      lbIps = [];
    }
    const desiredPool = annotationValue(svc, annotation.addressPool);
    if (lbIps.length > 0 && desiredPool !== '' && alloc.poolOf(key) !== desiredPool) {
      clear(alloc, key, work);
      lbIps = [];
    }
    const desired = desiredIps(svc);
    if (desired.error !== undefined) {
      emit.push('Warning', 'LoadBalancerFailed', `invalid requested loadbalancer IPs: ${desired.error}`);
      return false;
    }
    if (desired.ips.length > 0 && !sameIps(lbIps, desired.ips)) {
      clear(alloc, key, work);
      lbIps = [];
    }
  }

  // ironlb adds the missing family only when the ClusterIPs are dual-stack: MetalLB also tries
  // for single-stack ClusterIPs and then clears the pair on the next pass (a flip-flop).
  if (lbIps.length === 1 && policy === 'PreferDualStack' && clusterFamily.family === 'dual') {
    const extra = alloc.allocateAdditional(who, lbIps[0]!, alloc.poolOf(key));
    if (!extra.ok) emit.push('Normal', 'AdditionalAssignFailed', `cannot assign additional IP in PreferDualStack: ${extra.error}`);
    else {
      lbIps = [lbIps[0], extra.value];
      emit.push('Normal', 'IPAllocated', `Assigned additional IP ${goQuote(ipText(extra.value))}`);
    }
  }

  let texts: string[] | undefined;
  if (lbIps.length === 0) {
    const r = allocateIps(alloc, svc, who, clusterFamily);
    if (!r.ok) {
      emit.push('Warning', 'AllocationFailed', `Failed to allocate IP for ${goQuote(key)}: ${r.error}`);
      return false;
    }
    lbIps = r.value;
    texts = lbIps.map(ipText);
    emit.push('Normal', 'IPAllocated', `Assigned IP ${goQuoteList(texts)}`);
  }

  const pool = alloc.poolOf(key);
  if (pool === '') {
    emit.push('Warning', 'InternalError', 'allocated an IP that has no pool');
    clear(alloc, key, work);
    return false;
  }
  const ingress: LoadBalancerIngress[] = (texts ?? lbIps.map(ipText)).map((ip) => ({ ip }));
  work.status = { ...work.status, loadBalancer: { ingress } };
  work.annotations[annotation.allocatedFromPool] = pool;
  return true;
}

/** allocateIPs: requested addresses, else the requested pool, else any suitable pool. */
function allocateIps(alloc: AddressAllocator, svc: Service, who: Requester, family: { family: ServiceFamily; error?: string }): { ok: true; value: IpAddress[] } | { ok: false; error: string } {
  if (family.error !== undefined) return { ok: false, error: family.error };
  const desired = desiredIps(svc);
  if (desired.error !== undefined) return { ok: false, error: desired.error };
  const desiredPool = annotationValue(svc, annotation.addressPool);
  if (desired.ips.length > 0) {
    if (family.family !== desired.family) {
      return { ok: false, error: `requested loadBalancer IP(s) ${ipsQuoted(desired.ips)} does not match the ipFamily of the service` };
    }
    const err = alloc.assign(who, desired.ips);
    if (err !== undefined) return { ok: false, error: err };
    if (desiredPool !== '' && alloc.poolOf(who.key) !== desiredPool) {
      alloc.unassign(who.key);
      return { ok: false, error: `requested loadBalancer IP(s) ${ipsQuoted(desired.ips)} is not compatible with requested address pool ${desiredPool}` };
    }
    return { ok: true, value: desired.ips };
  }
  if (desiredPool !== '') return alloc.allocateFromPool(who, family.family, desiredPool);
  return alloc.allocate(who, family.family);
}

function sameIngress(a: readonly LoadBalancerIngress[] | undefined, b: readonly LoadBalancerIngress[] | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  return x.length === y.length && x.every((e, i) => e.ip === y[i]!.ip && e.hostname === y[i]!.hostname && e.ipMode === y[i]!.ipMode);
}

function sameStatus(a: ServiceStatus | undefined, b: ServiceStatus): boolean {
  return sameIngress(a?.loadBalancer?.ingress, b.loadBalancer?.ingress);
}

function sameAnnotations(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  const x = a ?? {};
  const kx = Object.keys(x);
  return kx.length === Object.keys(b).length && kx.every((k) => b[k] === x[k]);
}
