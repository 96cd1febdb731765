// What the allocator reads from a Service, with MetalLB's exact error texts. MetalLB formats
// lists with Go's %q and %v; the helpers here reproduce those renderings so that events read the
// same in ironlb and MetalLB.
import type { Service } from '../api/resources.ts';
import type { IpAddress } from '../net/ip.ts';
import { addressFamily, formatAddress, parseAddress } from './address-text.ts';

export const annotation = {
  addressPool: 'metallb.io/address-pool',
  loadBalancerIPs: 'metallb.io/loadBalancerIPs',
  allocatedFromPool: 'metallb.io/ip-allocated-from-pool',
  allowSharedIP: 'metallb.io/allow-shared-ip',
} as const;

/** Annotation keys with this prefix draw the `deprecatedAnnotation` warning (MetalLB's test). */
export const deprecatedAnnotationPrefix = 'metallb.universe.tf';

const deprecatedKeys: Record<string, string> = Object.fromEntries(
  Object.values(annotation).map((k) => [k, k.replace(/^metallb\.io\//, `${deprecatedAnnotationPrefix}/`)]),
);

/** MetalLB's valueForAnnotation: the stable key when present (even empty), else the legacy one. */
export function annotationValue(svc: Service, stable: string): string {
  const a = svc.metadata.annotations;
  if (a === undefined) return '';
  const v = a[stable];
  if (v !== undefined) return v;
  return a[deprecatedKeys[stable] ?? stable] ?? '';
}

export function serviceKey(svc: Service): string {
  return `${svc.metadata.namespace ?? 'default'}/${svc.metadata.name ?? ''}`;
}

export type FamilyPolicy = 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';
export type ServiceFamily = 'ipv4' | 'ipv6' | 'dual' | 'unknown';

export const familyPolicy = (svc: Service): FamilyPolicy => svc.spec.ipFamilyPolicy ?? 'SingleStack';

/** Go's strconv.Quote for the texts that reach events (addresses, keys, annotation values). */
export const goQuote = (s: string): string => JSON.stringify(s);
/** Go's %q of a slice. */
export const goQuoteList = (items: readonly string[]): string => `[${items.map(goQuote).join(' ')}]`;
/** Go's %v of a []string. */
export const goList = (items: readonly string[]): string => `[${items.join(' ')}]`;

/** An address as Go's net.IP prints it; `undefined` stands for a nil net.IP. */
export const ipText = (ip: IpAddress | undefined): string => (ip === undefined ? '<nil>' : formatAddress(ip));
export const ipsQuoted = (ips: readonly (IpAddress | undefined)[]): string => goQuoteList(ips.map(ipText));

/** net.ParseIP (IPv4-mapped IPv6 addresses are IPv4 addresses in Go). */
export const parseGoIp = parseAddress;

/** ipfamily.ForAddresses over texts. */
export function familyForTexts(texts: readonly string[]): { family: ServiceFamily; error?: string } {
  if (texts.length === 1 || texts.length === 2) {
    const f0 = addressFamily(texts[0]!);
    const f1 = texts.length === 2 ? addressFamily(texts[1]!) : f0;
    if (f0 === undefined || f1 === undefined) return { family: 'unknown', error: `IPFamilyForAddresses: Invalid address ${goQuoteList(texts)}` };
    if (texts.length === 1) return { family: f0 === 4 ? 'ipv4' : 'ipv6' };
    if (f0 === f1) return { family: 'unknown', error: `IPFamilyForAddresses: same address family ${goQuoteList(texts)}` };
    return { family: 'dual' };
  }
  return { family: 'unknown', error: `IPFamilyForAddresses: invalid ips length ${texts.length} ${goQuoteList(texts)}` };
}

/** ipfamily.ForAddressesIPs: the addresses are printed first, so a nil one reads "<nil>". */
export function familyForIps(ips: readonly (IpAddress | undefined)[]): { family: ServiceFamily; error?: string } {
  // The common cases straight from the parsed families; the texts only when an error needs them.
  const [a, b] = ips;
  if (ips.length === 1 && a) return { family: a.family === 4 ? 'ipv4' : 'ipv6' };
  if (ips.length === 2 && a && b && a.family !== b.family) return { family: 'dual' };
  return familyForTexts(ips.map(ipText));
}

export function clusterIPTexts(svc: Service): string[] {
  const list = svc.spec.clusterIPs ?? [];
  return list.length > 0 ? list : [svc.spec.clusterIP ?? ''];
}

export const hasClusterIPs = (svc: Service): boolean => (svc.spec.clusterIPs?.length ?? 0) > 0 || (svc.spec.clusterIP ?? '') !== '';

export const familyForService = (svc: Service): { family: ServiceFamily; error?: string } => familyForTexts(clusterIPTexts(svc));

/** The (protocol, port) pairs a Service uses, as MetalLB prints them (`TCP/80`). */
// `map` sizes its result exactly; a `push` loop would reserve 17 slots, and allocations keep these.
export const servicePorts = (svc: Service): string[] => (svc.spec.ports ?? []).map((p) => portText(p.protocol ?? 'TCP', p.port));

/** Interned port texts: every allocation holds its ports, and most Services use the same few. */
const portTexts = new Map<string, Map<number, string>>();
function portText(protocol: string, port: number): string {
  let byPort = portTexts.get(protocol);
  if (!byPort) { byPort = new Map(); portTexts.set(protocol, byPort); }
  let t = byPort.get(port);
  if (t === undefined) {
    t = `${protocol}/${port}`;
    // Bounded: at most 3 protocols × 65536 ports, and in practice a handful.
    byPort.set(port, t);
  }
  return t;
}

export const sharingKey = (svc: Service): string => annotationValue(svc, annotation.allowSharedIP);

/** k8salloc.BackendKey: the selector as a label string for Local traffic policy, else "". */
export function backendKey(svc: Service): string {
  if (svc.spec.externalTrafficPolicy !== 'Local') return '';
  const sel = svc.spec.selector ?? {};
  return Object.keys(sel).sort().map((k) => `${k}=${sel[k]}`).join(',');
}

export interface DesiredIps {
  readonly ips: IpAddress[];
  readonly family: ServiceFamily;
  readonly error?: string;
}

/** getDesiredLbIPs: the loadBalancerIPs annotation or spec.loadBalancerIP, never both. */
export function desiredIps(svc: Service): DesiredIps {
  const fromAnnotation = annotationValue(svc, annotation.loadBalancerIPs);
  const fromSpec = svc.spec.loadBalancerIP ?? '';
  if (fromAnnotation === '' && fromSpec === '') return { ips: [], family: 'unknown' };
  if (fromAnnotation !== '' && fromSpec !== '') {
    return { ips: [], family: 'unknown', error: `service can not have both ${annotation.loadBalancerIPs} and svc.Spec.LoadBalancerIP` };
  }
  if (fromAnnotation !== '') {
    const ips: IpAddress[] = [];
    for (const part of fromAnnotation.split(',')) {
      const ip = parseGoIp(part.trim());
      if (!ip) return { ips: [], family: 'unknown', error: `invalid ${annotation.loadBalancerIPs}: ${goQuote(fromAnnotation)}` };
      ips.push(ip);
    }
    const f = familyForIps(ips);
    if (f.error !== undefined) return { ips: [], family: 'unknown', error: f.error };
    return { ips, family: f.family };
  }
  const ip = parseGoIp(fromSpec);
  if (!ip) return { ips: [], family: 'unknown', error: `invalid spec.loadBalancerIP ${goQuote(fromSpec)}` };
  return { ips: [ip], family: ip.family === 4 ? 'ipv4' : 'ipv6' };
}

/** The addresses in status.loadBalancer.ingress (entries without an ip are skipped; bad text → nil). */
export function ingressIps(svc: Service): (IpAddress | undefined)[] {
  const ingress = svc.status?.loadBalancer?.ingress;
  if (!ingress || ingress.length === 0) return [];
  return ingress.filter((ing) => ing.ip !== undefined && ing.ip !== '').map((ing) => parseGoIp(ing.ip!));
}
