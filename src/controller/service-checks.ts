// The Service mistakes MetalLB's controller refuses, found before any allocation: `ironlb validate`
// reports them as errors on that Service. The running controller meets the same mistakes in
// converge.ts and turns them into that Service's AllocationFailed / LoadBalancerFailed event; they
// never block the rest of the configuration (Services are not part of the resolved Config).
import type { Diagnostic } from '../api/diagnostics.ts';
import { type FieldPath, type LoadedObject, formatFieldPath } from '../api/loaded.ts';
import { sessionIsEbgp } from '../config/peers.ts';
import { objectRef } from '../config/report.ts';
import { formatIp } from '../net/ip.ts';
import { anySelectorMatches } from '../net/selector.ts';
import { attributeConflict } from '../speaker/conflicts.ts';
import type { Service } from '../api/resources.ts';
import type { Config, Pool } from '../config/types.ts';
import { prefixContains } from '../net/prefix.ts';
import { annotation, annotationValue, deprecatedAnnotationPrefix, desiredIps, ipsQuoted } from './service-facts.ts';

export interface ServiceProblem {
  readonly path: FieldPath;
  readonly message: string;
}

/** The annotation key as written (stable or legacy prefix), for positions. */
function keyWritten(svc: Service, stable: string): string {
  const a = svc.metadata.annotations ?? {};
  if (stable in a) return stable;
  const legacy = stable.replace(/^metallb\.io\//, `${deprecatedAnnotationPrefix}/`);
  return legacy in a ? legacy : stable;
}

const holds = (p: Pool, ips: readonly { family: 4 | 6; value: bigint }[]): boolean => ips.every((ip) => p.cidrs.some((c) => prefixContains(c, ip)));

/**
 * What MetalLB's controller would refuse in this Service's requests: the loadBalancerIPs
 * annotation with spec.loadBalancerIP, an address that does not parse, two addresses of one
 * family (or more than two), an address-pool that does not exist, addresses outside the
 * requested pool or outside every pool. Only `type: LoadBalancer` Services without a
 * loadBalancerClass (the ones a default controller handles).
 */
export function serviceRequestProblems(svc: Service, config: Config | undefined): ServiceProblem[] {
  if (svc.spec.type !== 'LoadBalancer' || svc.spec.loadBalancerClass !== undefined) return [];
  const out: ServiceProblem[] = [];
  const ipsKey = keyWritten(svc, annotation.loadBalancerIPs);
  const fromAnnotation = annotationValue(svc, annotation.loadBalancerIPs) !== '';
  const requestPath: FieldPath = fromAnnotation ? ['metadata', 'annotations', ipsKey] : ['spec', 'loadBalancerIP'];
  const desired = desiredIps(svc);
  if (desired.error !== undefined) {
    const both = fromAnnotation && (svc.spec.loadBalancerIP ?? '') !== '';
    out.push({
      path: requestPath,
      message: both
        ? `${ipsKey} and spec.loadBalancerIP are both set: MetalLB refuses the Service ("${desired.error}"); keep one (spec.loadBalancerIP is deprecated in Kubernetes)`
        : `the requested addresses are refused: ${desired.error} (want one address, or one IPv4 and one IPv6 separated by a comma)`,
    });
  }
  const poolName = annotationValue(svc, annotation.addressPool);
  const poolKey = keyWritten(svc, annotation.addressPool);
  if (!config) return out;
  let pool: Pool | undefined;
  if (poolName !== '') {
    pool = config.pools.find((p) => p.name === poolName);
    if (!pool) {
      const known = config.pools.map((p) => `"${p.name}"`).join(', ');
      out.push({ path: ['metadata', 'annotations', poolKey], message: `unknown IPAddressPool "${poolName}": ${known ? `known pools are ${known}` : 'no IPAddressPool is defined'}` });
    }
  }
  if (desired.error === undefined && desired.ips.length > 0) {
    if (pool && !holds(pool, desired.ips)) {
      out.push({ path: requestPath, message: `requested ${ipsQuoted(desired.ips)} is not in IPAddressPool "${pool.name}", which the ${poolKey} annotation asks for` });
    } else if (!pool && poolName === '' && !config.pools.some((p) => holds(p, desired.ips))) {
      out.push({ path: requestPath, message: `requested ${ipsQuoted(desired.ips)} is in no IPAddressPool${desired.ips.length > 1 ? ' (both addresses must be in one pool)' : ''}: MetalLB refuses it ("is not allowed in config")` });
    }
  }
  return out;
}

/** serviceRequestProblems of every Service among `objects`, as errors with file:line:column. */
export function serviceDiagnostics(objects: readonly LoadedObject[], config: Config | undefined): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const lo of objects) {
    if (lo.object.kind !== 'Service') continue;
    for (const p of serviceRequestProblems(lo.object, config)) {
      const position = lo.positionOf(p.path);
      out.push({ severity: 'error', ...(position ? { position } : {}), object: objectRef(lo), path: formatFieldPath(p.path), message: p.message });
    }
  }
  return out;
}

/**
 * Requested addresses whose route the speaker would refuse to some peer: the BGPAdvertisements the
 * Services on one address match (through serviceSelectors, so only Services tell) set two
 * different values of localPref (iBGP), med or asPrepend for that peer. What config/ cannot see
 * without the Services, reported here so that `validate` says it before the speaker drops it.
 */
export function requestedRouteConflicts(objects: readonly LoadedObject[], config: Config | undefined): Diagnostic[] {
  if (!config || config.bgpAdvertisements.length === 0) return [];
  const byIp = new Map<string, { lo: LoadedObject; svc: Service }[]>();
  for (const lo of objects) {
    if (lo.object.kind !== 'Service') continue;
    const svc = lo.object;
    if (svc.spec.type !== 'LoadBalancer' || svc.spec.loadBalancerClass !== undefined) continue;
    const d = desiredIps(svc);
    if (d.error !== undefined) continue;
    for (const ip of d.ips) {
      const key = formatIp(ip);
      byIp.set(key, [...(byIp.get(key) ?? []), { lo, svc }]);
    }
  }
  const out: Diagnostic[] = [];
  const name = (svc: Service): string => `${svc.metadata.namespace ?? 'default'}/${svc.metadata.name ?? ''}`;
  for (const [ipText, users] of byIp) {
    const ip = desiredIps(users[0]!.svc).ips.find((x) => formatIp(x) === ipText)!;
    const pool = config.pools.find((p) => p.cidrs.some((c) => prefixContains(c, ip)));
    if (!pool) continue;
    const ads = config.bgpAdvertisements.filter((a) => a.pools.includes(pool.name) && users.some((u) => anySelectorMatches(a.serviceSelectors, u.svc.metadata.labels)));
    for (const peer of config.peers) {
      const here = ads.filter((a) => a.peers === undefined || a.peers.includes(peer.name)).filter((a) => (ip.family === 4 ? a.aggregationLength === 32 : a.aggregationLengthV6 === 128));
      const c = attributeConflict(here, sessionIsEbgp(peer));
      if (!c) continue;
      const who = (adName: string): string => users.filter((u) => anySelectorMatches(config.bgpAdvertisements.find((a) => a.name === adName)!.serviceSelectors, u.svc.metadata.labels)).map((u) => name(u.svc)).join(', ');
      const last = users[users.length - 1]!;
      const path: FieldPath = ['metadata', 'labels'];
      const position = last.lo.positionOf(path) ?? last.lo.positionOf(['metadata', 'name']);
      out.push({
        severity: 'error', ...(position ? { position } : {}), object: objectRef(last.lo), path: formatFieldPath(path),
        message: `${ipText} would not be announced to peer "${peer.name}": BGPAdvertisements "${c.first.name}" (matching ${who(c.first.name)}) and ` +
          `"${c.second.name}" (matching ${who(c.second.name)}) give it different values (${c.values}); a route carries one value: change the labels, the serviceSelectors or the values`,
      });
    }
  }
  return out;
}
