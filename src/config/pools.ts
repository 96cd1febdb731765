// IPAddressPool: addresses parsed (CIDR or range) and summarized, overlaps refused across every
// pool, service allocation resolved against the Namespace objects' labels.
import type { LoadedObject } from '../api/loaded.ts';
import type { IPAddressPool, Namespace } from '../api/resources.ts';
import { formatIp, parseIp } from '../net/ip.ts';
import { type IpRange, type Prefix, formatPrefix, parsePrefix, parseRange, prefixToRange, summarizeRange } from '../net/prefix.ts';
import { selectorMatches } from '../net/selector.ts';
import { compileSelectors } from './selectors.ts';
import { type Report, describe, locate } from './report.ts';
import type { Pool, ServiceAllocation } from './types.ts';

export const addressSyntax = 'a CIDR ("192.168.10.0/24", "fc00::/64") or a range ("192.168.10.1-192.168.10.50")';

/** One entry of `spec.addresses`, parsed. */
export interface PoolAddress {
  readonly index: number;
  readonly text: string;
  readonly range: IpRange;
  readonly cidrs: readonly Prefix[];
  /** The shortest prefix length among `cidrs`: how far MetalLB lets an advertisement aggregate. */
  readonly shortest: number;
}

export interface ResolvedPool {
  readonly lo: LoadedObject<IPAddressPool>;
  readonly pool: Pool;
  readonly addresses: readonly PoolAddress[];
}

export function formatRange(r: IpRange): string {
  const a = formatIp({ family: r.family, value: r.first });
  return r.first === r.last ? a : `${a}-${formatIp({ family: r.family, value: r.last })}`;
}

function parseAddress(report: Report, lo: LoadedObject, index: number, text: string): PoolAddress | undefined {
  const path = ['spec', 'addresses', index];
  const s = text.trim();
  if (s === '') {
    report.error(lo, path, `empty address: want ${addressSyntax}`);
    return undefined;
  }
  if (s.includes('-')) {
    const r = parseRange(s);
    if (!r?.range) {
      report.error(lo, path, `${r?.error ?? `invalid IP range "${text}"`}; want ${addressSyntax}`);
      return undefined;
    }
    const cidrs = summarizeRange(r.range);
    return { index, text, range: r.range, cidrs, shortest: Math.min(...cidrs.map((c) => c.length)) };
  }
  if (s.includes('/')) {
    const p = parsePrefix(s);
    if (!p) {
      report.error(lo, path, `invalid CIDR "${text}": want address/length, length 0..32 for IPv4 or 0..128 for IPv6; or ${addressSyntax.replace(/^a CIDR \([^)]*\) or /, '')}`);
      return undefined;
    }
    if (p.hostBitsSet) {
      report.warn(lo, path, `"${text}" has host bits set: the pool holds all of ${formatPrefix(p.prefix)}`);
    }
    return { index, text, range: prefixToRange(p.prefix), cidrs: [p.prefix], shortest: p.prefix.length };
  }
  const ip = parseIp(s);
  report.error(lo, path, ip
    ? `"${text}" is a single address, not a CIDR or range: write "${s}/${ip.family === 4 ? 32 : 128}" or "${s}-${s}"`
    : `invalid address "${text}": want ${addressSyntax}`);
  return undefined;
}

function resolveServiceAllocation(report: Report, lo: LoadedObject<IPAddressPool>, namespaces: readonly Namespace[]): ServiceAllocation | undefined {
  const sa = lo.object.spec.serviceAllocation;
  if (!sa) return undefined;
  const base = ['spec', 'serviceAllocation'];
  const priority = sa.priority ?? 0;
  if (priority < 0 || !Number.isInteger(priority)) {
    report.error(lo, [...base, 'priority'], `priority ${priority} is not allowed: want a whole number >= 0 (0 = no priority, 1 = highest)`);
  }
  const named = sa.namespaces ?? [];
  named.forEach((ns, i) => {
    if (named.indexOf(ns) !== i) report.error(lo, [...base, 'namespaces', i], `duplicate namespace "${ns}": each namespace may appear once`);
    if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(ns)) {
      report.error(lo, [...base, 'namespaces', i], `"${ns}" is not a namespace name: want a DNS-1123 label (lower-case letters, digits and '-', at most 63)`);
    }
  });
  const namespaceSelectors = compileSelectors(report, lo, [...base, 'namespaceSelectors'], sa.namespaceSelectors);
  const serviceSelectors = compileSelectors(report, lo, [...base, 'serviceSelectors'], sa.serviceSelectors);
  const resolved = new Set(named);
  for (const ns of namespaces) {
    const name = ns.metadata.name;
    if (name !== undefined && namespaceSelectors.some((sel) => selectorMatches(sel, ns.metadata.labels))) resolved.add(name);
  }
  return { priority, namespaces: [...resolved].sort(), namespaceSelectors, serviceSelectors };
}

/** Resolves every pool, reporting bad addresses, duplicate names and overlaps between any two pools. */
export function resolvePools(report: Report, los: readonly LoadedObject<IPAddressPool>[], namespaces: readonly Namespace[]): Map<string, ResolvedPool> {
  const byName = new Map<string, ResolvedPool>();
  const sorted = [...los].sort((a, b) => cmp(a.object.metadata.name ?? '', b.object.metadata.name ?? ''));
  for (const lo of sorted) {
    const name = lo.object.metadata.name ?? '';
    const spec = lo.object.spec;
    const addresses: PoolAddress[] = [];
    if ((spec.addresses ?? []).length === 0) {
      report.error(lo, ['spec', 'addresses'], `the pool has no addresses: want at least one, each ${addressSyntax}`);
    }
    (spec.addresses ?? []).forEach((text, i) => {
      const a = parseAddress(report, lo, i, text);
      if (a) addresses.push(a);
    });
    const serviceAllocation = resolveServiceAllocation(report, lo, namespaces);
    if (spec.avoidBuggyIPs && addresses.length > 0 && addresses.every((a) => a.range.family === 6)) {
      report.warn(lo, ['spec', 'avoidBuggyIPs'], 'avoidBuggyIPs has no effect on an IPv6-only pool (it skips IPv4 addresses ending in .0 and .255)');
    }
    const pool: Pool = {
      name,
      labels: { ...(lo.object.metadata.labels ?? {}) },
      ranges: addresses.map((a) => a.range),
      cidrs: addresses.flatMap((a) => a.cidrs),
      autoAssign: spec.autoAssign ?? true,
      avoidBuggyIPs: spec.avoidBuggyIPs ?? false,
      ...(serviceAllocation ? { serviceAllocation } : {}),
    };
    const earlier = byName.get(name);
    if (earlier) {
      report.error(lo, ['metadata', 'name'], `duplicate definition of pool "${name}": already defined${locate(earlier.lo)}; pool names must be unique`);
      continue;
    }
    byName.set(name, { lo, pool, addresses });
  }
  reportOverlaps(report, [...byName.values()]);
  return byName;
}

/** A sweep over all addresses in address order: O(n log n) rather than MetalLB's O(n²). */
function reportOverlaps(report: Report, pools: readonly ResolvedPool[]): void {
  const all = pools.flatMap((p) => p.addresses.map((a) => ({ p, a })));
  all.sort((x, y) => x.a.range.family - y.a.range.family || cmpBig(x.a.range.first, y.a.range.first) || cmpBig(x.a.range.last, y.a.range.last));
  let reach: (typeof all)[number] | undefined;
  for (const cur of all) {
    if (reach && reach.a.range.family === cur.a.range.family && cur.a.range.first <= reach.a.range.last) {
      const where = reach.p === cur.p ? `spec.addresses[${reach.a.index}] of the same pool` : `"${reach.a.text}" in ${describe(reach.p.lo)} (spec.addresses[${reach.a.index}])`;
      const shared = formatRange({ family: cur.a.range.family, first: cur.a.range.first, last: cur.a.range.last < reach.a.range.last ? cur.a.range.last : reach.a.range.last });
      report.error(cur.p.lo, ['spec', 'addresses', cur.a.index], `"${cur.a.text}" overlaps ${reach.p === cur.p ? `"${reach.a.text}", ` : ''}${where}: both hold ${shared}; an address may belong to one pool entry only`);
    }
    if (!reach || reach.a.range.family !== cur.a.range.family || cur.a.range.last > reach.a.range.last) reach = cur;
  }
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const cmpBig = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);
