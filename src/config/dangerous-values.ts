// Values that are valid but almost certainly wrong, each a warning that says what will happen:
// a pool of every address, pools holding special-purpose addresses (RFC 6890: unspecified,
// loopback, link-local, multicast, limited broadcast) or a Node's own addresses, addresses ending
// in .0/.255 in a layer-2 pool without avoidBuggyIPs, and reserved AS numbers.
import type { Diagnostic } from '../api/diagnostics.ts';
import type { LoadedObject } from '../api/loaded.ts';
import { formatFieldPath } from '../api/loaded.ts';
import type { Node } from '../api/resources.ts';
import { type Family, formatIp, parseIp } from '../net/ip.ts';
import { type IpRange, parsePrefix, prefixToRange } from '../net/prefix.ts';
import type { ResolvedL2Advertisement } from './l2-advertisements.ts';
import type { ResolvedPool } from './pools.ts';
import { type Report, objectRef } from './report.ts';
import type { Config } from './types.ts';

/** AS numbers a configuration should not use, and why. */
export function reservedAsnReason(asn: number): string | undefined {
  if (asn === 23456) return 'AS_TRANS (RFC 6793), the placeholder a 2-octet speaker sees in place of a 4-octet ASN; as a real ASN it makes AS paths ambiguous';
  if (asn === 65535 || asn === 4294967295) return 'reserved (RFC 7300: the last ASN of the 2-octet and of the 4-octet range); routers may refuse it';
  if (asn >= 65552 && asn <= 131071) return 'reserved by IANA (65552-131071); routers may refuse it';
  return undefined;
}

/** Warns on each reserved ASN at the fields given. */
export function warnReservedAsns(report: Report, lo: LoadedObject, fields: readonly { path: (string | number)[]; asn: number | undefined }[]): void {
  for (const { path, asn } of fields) {
    if (asn === undefined || asn === 0) continue;
    const why = reservedAsnReason(asn);
    if (why) report.warn(lo, path, `AS ${asn} is ${why}; use a public ASN you hold or a private one (64512-65534, 4200000000-4294967294)`);
  }
}

const range = (cidr: string): IpRange => prefixToRange(parsePrefix(cidr)!.prefix);
/** Special-purpose blocks (RFC 6890 and its IPv6 registry) that can never be a Service's address. */
const special: readonly { readonly range: IpRange; readonly what: string }[] = [
  { range: range('0.0.0.0/8'), what: '"this network" addresses (0.0.0.0/8, 0.0.0.0 being "any address")' },
  { range: range('127.0.0.0/8'), what: 'loopback addresses (127.0.0.0/8)' },
  { range: range('169.254.0.0/16'), what: 'link-local addresses (169.254.0.0/16)' },
  { range: range('224.0.0.0/4'), what: 'multicast addresses (224.0.0.0/4)' },
  { range: range('255.255.255.255/32'), what: 'the limited broadcast address 255.255.255.255' },
  { range: range('::/128'), what: 'the unspecified address :: ("any address")' },
  { range: range('::1/128'), what: 'the loopback address ::1' },
  { range: range('fe80::/10'), what: 'link-local addresses (fe80::/10)' },
  { range: range('ff00::/8'), what: 'multicast addresses (ff00::/8)' },
];

const overlaps = (a: IpRange, b: IpRange): boolean => a.family === b.family && a.first <= b.last && b.first <= a.last;
const ipText = (family: Family, value: bigint): string => formatIp({ family, value });

/** Pools of every address, special-purpose addresses, .0/.255 where layer 2 announces them. */
export function checkPoolValues(report: Report, pools: ReadonlyMap<string, ResolvedPool>, l2Ads: ReadonlyMap<string, ResolvedL2Advertisement>): void {
  const layer2 = new Set([...l2Ads.values()].flatMap((a) => a.ad.pools));
  for (const p of pools.values()) {
    for (const a of p.addresses) {
      const path = ['spec', 'addresses', a.index];
      if (a.cidrs.length === 1 && a.cidrs[0]!.length === 0) {
        report.warn(p.lo, path, `"${a.text}" is every IPv${a.range.family} address: Services may be given addresses that belong to other networks, ` +
          'and this speaker would announce them, drawing their traffic into the cluster; give the pool only the addresses you own for Services');
      }
      for (const s of special) {
        if (!overlaps(a.range, s.range)) continue;
        report.warn(p.lo, path, `"${a.text}" holds ${s.what}, which cannot serve as a Service's address; leave them out of the pool`);
      }
      if (a.range.family === 4 && layer2.has(p.pool.name) && !p.pool.avoidBuggyIPs) {
        const first = a.range.first;
        const last = a.range.last;
        // Any address of the range ending in .0 or .255?
        const buggy = [first, last, (first | 0xffn), ((first >> 8n) + 1n) << 8n].find((v) => v >= first && v <= last && ((v & 0xffn) === 0n || (v & 0xffn) === 0xffn));
        if (buggy !== undefined) {
          report.warn(p.lo, path, `"${a.text}" includes ${ipText(4, buggy)} and possibly other addresses ending in .0 or .255, and layer 2 announces this pool: ` +
            'where such an address is the network or broadcast address of the nodes\' subnet, clients cannot reach it, and some equipment drops them anyway; ' +
            'set avoidBuggyIPs: true to skip them (as MetalLB does)');
        }
      }
    }
  }
}

/** Each Node InternalIP/ExternalIP that lies in a pool, with the pool. */
function nodeAddressesInPools(nodes: readonly Node[], config: Config): { node: Node; pool: string; message: string }[] {
  const out: { node: Node; pool: string; message: string }[] = [];
  for (const node of nodes) {
    for (const addr of node.status?.addresses ?? []) {
      if (addr.type !== 'InternalIP' && addr.type !== 'ExternalIP') continue;
      const ip = parseIp(addr.address);
      if (!ip) continue;
      const pool = config.pools.find((p) => p.ranges.some((r) => r.family === ip.family && r.first <= ip.value && ip.value <= r.last));
      if (!pool) continue;
      out.push({ node, pool: pool.name, message: `IPAddressPool "${pool.name}" holds ${addr.address}, the ${addr.type} of Node "${node.metadata.name ?? ''}": a Service given it would take the node's own address; leave it out of the pool` });
    }
  }
  return out;
}

/** The same, as lines for the daemon's log (Nodes are not part of the resolved Config). */
export function nodeAddressWarnings(nodes: readonly Node[], config: Config): string[] {
  return nodeAddressesInPools(nodes, config).map((x) => x.message);
}

/** A Node's InternalIP/ExternalIP inside a pool: a Service given it would collide with the node. */
export function nodeAddressDiagnostics(objects: readonly LoadedObject[], config: Config | undefined): Diagnostic[] {
  if (!config) return [];
  const nodes = objects.filter((o): o is LoadedObject<Node> => o.object.kind === 'Node');
  return nodeAddressesInPools(nodes.map((n) => n.object), config).map(({ node, pool, message }) => {
    const plo = objects.find((o) => o.object.kind === 'IPAddressPool' && o.object.metadata.name === pool);
    const at = plo ?? nodes.find((n) => n.object === node)!;
    const path = plo ? ['spec', 'addresses'] : ['status', 'addresses'];
    const position = at.positionOf(path);
    return { severity: 'warning' as const, ...(position ? { position } : {}), object: objectRef(at), path: formatFieldPath(path), message };
  });
}
