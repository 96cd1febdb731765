// Does this node announce a Service at all? MetalLB's speaker pipeline (speaker/main.go
// SetBalancer, bgp_controller.go ShouldAnnounce), checked in the same order so that the reason
// given is the one MetalLB would give.
import type { EndpointConditions, EndpointSlice, Node, Service } from '../api/resources.ts';
import { excludeFromLbLabel } from '../api/resources.ts';
import { exact } from '../api/exact.ts';
import type { BgpAdvertisement, Config, Pool } from '../config/types.ts';
import { compareIp, formatIp, type IpAddress, parseIp } from '../net/ip.ts';
import { prefixContains } from '../net/prefix.ts';
import { anySelectorMatches, type Labels } from '../net/selector.ts';
import type { NodeState, NotAnnouncedReason } from './plan-types.ts';

export const serviceNameLabel = 'kubernetes.io/service-name';

export interface PlanOptions {
  /** Announce even from a node labelled exclude-from-external-load-balancers (`--ignore-exclude-lb`). */
  readonly ignoreExcludeLb?: boolean;
  /** Handle only Services of this class; unset: only Services without a class (`--lb-class`). */
  readonly loadBalancerClass?: string;
}

export type ServiceVerdict =
  | { readonly announce: false; readonly ips: readonly IpAddress[]; readonly pool?: Pool; readonly reason: NotAnnouncedReason; readonly message: string }
  | { readonly announce: true; readonly ips: readonly IpAddress[]; readonly pool: Pool; readonly ads: readonly BgpAdvertisement[] };

/** Reasons decided before the Service's IPs are known: reported once, not per IP. */
export const serviceWideReasons: ReadonlySet<NotAnnouncedReason> = new Set(['notLoadBalancer', 'loadBalancerClassMismatch', 'noIPAllocated', 'invalidIP']);

export function nodeState(nodeName: string, node: Node | undefined, options: PlanOptions): NodeState {
  const labels = node?.metadata.labels ?? {};
  return {
    name: nodeName,
    found: node !== undefined,
    networkUnavailable: (node?.status?.conditions ?? []).some((c) => c.type === 'NetworkUnavailable' && c.status === 'True'),
    // Any value, even empty, excludes (MetalLB checks presence of the key).
    excludedFromLoadBalancers: options.ignoreExcludeLb !== true && Object.prototype.hasOwnProperty.call(labels, excludeFromLbLabel),
  };
}

/** epslices.EndpointCanServe: ready unset or true, or serving true. Terminating is not consulted,
 * so a terminating endpoint that still serves keeps the node announced (as in MetalLB). */
export function endpointCanServe(c: EndpointConditions | undefined): boolean {
  return c?.ready === undefined || c.ready || c.serving === true;
}

function hasServingEndpoint(slices: readonly EndpointSlice[], onNode?: string): boolean {
  return slices.some((s) => (s.endpoints ?? []).some((e) =>
    (onNode === undefined || e.nodeName === onNode) && e.addresses.length > 0 && endpointCanServe(e.conditions)));
}

export const serviceKey = (namespace: string, name: string): string => `${namespace}/${name}`;

/** EndpointSlices by the Service they belong to (label kubernetes.io/service-name, same namespace). */
export function slicesByService(slices: readonly EndpointSlice[]): Map<string, EndpointSlice[]> {
  const out = new Map<string, EndpointSlice[]>();
  for (const s of slices) {
    const svc = s.metadata.labels?.[serviceNameLabel];
    if (svc === undefined) continue;
    const key = serviceKey(s.metadata.namespace ?? 'default', svc);
    const list = out.get(key);
    if (list) list.push(s); else out.set(key, [s]);
  }
  return out;
}

/** speaker/main.go poolFor: the pool whose CIDRs hold every one of the IPs. */
export function poolHoldingAll(config: Config, ips: readonly IpAddress[]): Pool | undefined {
  return config.pools.find((p) => ips.every((ip) => p.cidrs.some((c) => prefixContains(c, ip))));
}

export interface ServiceContext {
  readonly config: Config;
  readonly node: NodeState;
  readonly nodeLabels: Labels;
  readonly slices: readonly EndpointSlice[];
  readonly options: PlanOptions;
}

export function judgeService(svc: Service, ctx: ServiceContext): ServiceVerdict {
  const refuse = (reason: NotAnnouncedReason, message: string, ips: readonly IpAddress[] = [], pool?: Pool): ServiceVerdict =>
    ({ announce: false, ips, reason, message, ...(pool ? { pool } : {}) });

  if (svc.spec.type !== 'LoadBalancer') return refuse('notLoadBalancer', `the Service is of type ${svc.spec.type ?? 'ClusterIP'}, not LoadBalancer`);
  const wanted = ctx.options.loadBalancerClass;
  const cls = svc.spec.loadBalancerClass;
  if (cls !== wanted) {
    return refuse('loadBalancerClassMismatch', wanted === undefined
      ? `the Service has loadBalancerClass "${cls}" and this speaker handles only Services without a class`
      : `the Service has ${cls === undefined ? 'no loadBalancerClass' : `loadBalancerClass "${cls}"`}; this speaker handles class "${wanted}"`);
  }
  const ingress = svc.status?.loadBalancer?.ingress ?? [];
  if (ingress.length === 0) return refuse('noIPAllocated', 'no IP has been assigned yet (status.loadBalancer.ingress is empty)');
  const parsed: IpAddress[] = [];
  for (const i of ingress) {
    const ip = i.ip === undefined ? undefined : parseIp(i.ip);
    if (!ip) return refuse('invalidIP', `status.loadBalancer.ingress holds "${i.ip ?? i.hostname ?? ''}", which is not an IP address`);
    if (!parsed.some((p) => compareIp(p, ip) === 0)) parsed.push(ip);
  }
  const ips = exact(parsed.sort(compareIp));
  const pool = poolHoldingAll(ctx.config, ips);
  if (!pool) return refuse('ipNotAllowed', `no IPAddressPool holds ${ips.length > 1 ? 'all of ' : ''}${ips.map(formatIp).join(', ')}`, ips);

  if (!ctx.node.found) return refuse('nodeNotFound', `node "${ctx.node.name}" is not among the Nodes given, so no advertisement can select it`, ips, pool);
  // Sorted by name so that messages and the conflict found do not depend on input order.
  const poolAds = ctx.config.bgpAdvertisements.filter((a) => a.pools.includes(pool.name))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const nodeAds = poolAds.filter((a) => anySelectorMatches(a.nodeSelectors, ctx.nodeLabels));
  if (nodeAds.length === 0) {
    return refuse('notOwner', poolAds.length === 0
      ? `no BGPAdvertisement applies to IPAddressPool "${pool.name}"`
      : `no BGPAdvertisement of IPAddressPool "${pool.name}" selects node "${ctx.node.name}" (nodeSelectors of ${poolAds.map((a) => `"${a.name}"`).join(', ')})`, ips, pool);
  }
  const ads = nodeAds.filter((a) => anySelectorMatches(a.serviceSelectors, svc.metadata.labels));
  if (ads.length === 0) {
    return refuse('noMatchingAdvertisement', `the serviceSelectors of ${nodeAds.map((a) => `"${a.name}"`).join(', ')} do not match the Service's labels`, ips, pool);
  }
  if (ctx.node.networkUnavailable) return refuse('nodeNetworkUnavailable', `node "${ctx.node.name}" has condition NetworkUnavailable=True`, ips, pool);
  if (ctx.node.excludedFromLoadBalancers) {
    return refuse('nodeLabeledExcludeBalancers', `node "${ctx.node.name}" is labelled ${excludeFromLbLabel}`, ips, pool);
  }
  if (svc.spec.externalTrafficPolicy === 'Local' && !hasServingEndpoint(ctx.slices, ctx.node.name)) {
    return refuse('noLocalEndpoints', `externalTrafficPolicy is Local and node "${ctx.node.name}" has no ready or serving endpoint of the Service`, ips, pool);
  }
  if (!hasServingEndpoint(ctx.slices)) return refuse('noEndpoints', 'the Service has no ready or serving endpoint on any node', ips, pool);
  return { announce: true, ips, pool, ads: exact(ads) };
}
