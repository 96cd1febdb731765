// One address pool as the allocator sees it: which Services may use it, its capacity counted
// exactly (BigInt), and the per-family indexes of the addresses in use.
import type { IPAddressPoolStatus, Service } from '../api/resources.ts';
import type { Pool } from '../config/types.ts';
import type { Family, IpAddress } from '../net/ip.ts';
import { type Prefix, prefixFirst, prefixLast, prefixSize } from '../net/prefix.ts';
import { type Selector, everything, selectorMatches } from '../net/selector.ts';
import { AddressRuns } from './address-runs.ts';
import { OrderedMap } from './ordered-map.ts';

/** Kubernetes writes the pool counters as int64: larger values saturate here. */
export const int64Max = (1n << 63n) - 1n;

export interface PoolCounters {
  readonly assignedIPv4: bigint;
  readonly assignedIPv6: bigint;
  readonly availableIPv4: bigint;
  readonly availableIPv6: bigint;
}

export const isBuggy = (ip: IpAddress): boolean => ip.family === 4 && ((ip.value & 0xffn) === 0n || (ip.value & 0xffn) === 0xffn);

/** Addresses ending in .0 or .255 inside one IPv4 CIDR. */
function buggyCount(p: Prefix): bigint {
  if (p.family !== 4) return 0n;
  if (p.length <= 24) return 2n << BigInt(24 - p.length);
  const first = prefixFirst(p) & 0xffn;
  const last = prefixLast(p) & 0xffn;
  // A block longer than /24 lies inside one /24: .0 can only be its first address, .255 its last.
  return (first === 0n ? 1n : 0n) + (last === 0xffn ? 1n : 0n);
}

export class PoolState {
  readonly name: string;
  readonly capacity: Record<Family, bigint> = { 4: 0n, 6: 0n };
  readonly assigned: Record<Family, number> = { 4: 0, 6: 0 };
  /** Replaced by a config change: its indexes are garbage, nothing maintains them any more. */
  retired = false;
  readonly runs: Record<Family, AddressRuns>;
  /** sharing group (sharing key + backend key) → addresses of that group in this pool. */
  readonly groups: Record<Family, Map<string, OrderedMap<true>>> = { 4: new Map(), 6: new Map() };
  /** Each CIDR's first and last address, precomputed: the hot path compares, never masks. */
  readonly bounds: readonly { readonly family: Family; readonly first: bigint; readonly last: bigint }[];
  /** serviceSelectors as MetalLB uses them: a serviceAllocation naming nothing matches everything. */
  private serviceSelectors: readonly Selector[] = [];

  constructor(public pool: Pool, public order: number) {
    this.name = pool.name;
    for (const c of pool.cidrs) {
      this.capacity[c.family] += prefixSize(c) - (pool.avoidBuggyIPs ? buggyCount(c) : 0n);
    }
    this.bounds = pool.cidrs.map((c) => ({ family: c.family, first: prefixFirst(c), last: prefixLast(c) }));
    // IPv6 run trees count from the pool's lowest IPv6 address (small offsets, cheap BigInts).
    const v6Base = this.bounds.reduce<bigint | undefined>((m, b) => (b.family === 6 && (m === undefined || b.first < m) ? b.first : m), undefined);
    this.runs = { 4: new AddressRuns(pool.avoidBuggyIPs), 6: new AddressRuns(false, v6Base ?? 0n) };
    this.adopt(pool, order);
  }

  /** Same addresses, new settings (autoAssign, serviceAllocation, order): the indexes stay. */
  adopt(pool: Pool, order: number): void {
    this.pool = pool;
    this.order = order;
    const sa = pool.serviceAllocation;
    this.serviceSelectors = sa && sa.namespaces.length === 0 && sa.namespaceSelectors.length === 0 && sa.serviceSelectors.length === 0
      ? [everything]
      : (sa?.serviceSelectors ?? []);
  }

  /** True when `other` has exactly this pool's addresses (so the indexes carry over). */
  sameAddresses(other: Pool): boolean {
    const a = this.pool.cidrs;
    const b = other.cidrs;
    return this.pool.avoidBuggyIPs === other.avoidBuggyIPs && a.length === b.length
      && a.every((c, i) => c.family === b[i]!.family && c.network === b[i]!.network && c.length === b[i]!.length);
  }

  get autoAssign(): boolean {
    return this.pool.autoAssign;
  }

  get hasServiceAllocation(): boolean {
    return this.pool.serviceAllocation !== undefined;
  }

  /** 0 = none (after every positive priority). */
  get priority(): number {
    return this.pool.serviceAllocation?.priority ?? 0;
  }

  /** True when the pool holds `ip` as an allocatable address (buggy ones excluded when avoided). */
  contains(ip: IpAddress): boolean {
    if (this.pool.avoidBuggyIPs && isBuggy(ip)) return false;
    const v = ip.value;
    for (const b of this.bounds) if (b.family === ip.family && v >= b.first && v <= b.last) return true;
    return false;
  }

  /** Pinned to the Service: its namespace is listed, or one of its service selectors matches. */
  pinnedTo(svc: Service): boolean {
    const sa = this.pool.serviceAllocation;
    if (!sa) return false;
    const ns = svc.metadata.namespace ?? 'default';
    return sa.namespaces.includes(ns) || this.serviceSelectors.length > 0;
  }

  /** isPoolCompatibleWithService: the namespace list (if any) and the service selectors (if any). */
  compatibleWith(svc: Service): boolean {
    const sa = this.pool.serviceAllocation;
    if (!sa) return true;
    if (sa.namespaces.length > 0 && !sa.namespaces.includes(svc.metadata.namespace ?? 'default')) return false;
    if (this.serviceSelectors.length > 0) return this.serviceSelectors.some((s) => selectorMatches(s, svc.metadata.labels));
    return true;
  }

  counters(): PoolCounters {
    const sat = (v: bigint): bigint => (v > int64Max ? int64Max : v < 0n ? 0n : v);
    const a4 = BigInt(this.assigned[4]);
    const a6 = BigInt(this.assigned[6]);
    return {
      assignedIPv4: sat(a4),
      assignedIPv6: sat(a6),
      availableIPv4: sat(this.capacity[4] - a4),
      availableIPv6: sat(this.capacity[6] - a6),
    };
  }

  /** The counters as the IPAddressPool status type (numbers): exact up to 2^53 - 1, saturated there. */
  status(): IPAddressPoolStatus {
    const c = this.counters();
    const num = (v: bigint): number => (v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v));
    return { assignedIPv4: num(c.assignedIPv4), assignedIPv6: num(c.assignedIPv6), availableIPv4: num(c.availableIPv4), availableIPv6: num(c.availableIPv6) };
  }
}
