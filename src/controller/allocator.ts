// The allocation state and MetalLB's allocator operations (internal/allocator/allocator.go:
// Assign, Unassign, Allocate, AllocateFromPool, AllocateFromPoolForAdditionalFamily, SetPools),
// with the same choices and error texts, but a free-address search that jumps over runs of used
// addresses instead of walking the pool from its first address.
import type { Service } from '../api/resources.ts';
import type { Pool } from '../config/types.ts';
import type { Family, IpAddress } from '../net/ip.ts';
import { OrderedMap } from './ordered-map.ts';
import { PoolState } from './pool-state.ts';
import { type FamilyPolicy, type ServiceFamily, familyPolicy, goQuote, ipText, ipsQuoted } from './service-facts.ts';

/** Who asks: the Service and what MetalLB derives from it for sharing decisions. */
export interface Requester {
  readonly key: string;
  readonly svc: Service;
  readonly ports: readonly string[];
  readonly sharing: string;
  readonly backend: string;
}

interface Allocation {
  readonly key: string;
  pool: PoolState;
  readonly ips: readonly IpAddress[];
  ports: readonly string[];
  sharing: string;
  backend: string;
}

/** One address in use: who uses it and the sharing key it carries (the last one assigned). */
interface AddressUse {
  readonly ip: IpAddress;
  pool: PoolState;
  readonly users: Allocation[];
  group: string;
  sharing: string;
  backend: string;
}

export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };
const ok = <T>(value: T): Outcome<T> => ({ ok: true, value });
const fail = <T>(error: string): Outcome<T> => ({ ok: false, error });

/** Free addresses found in one pool, per family (MetalLB's Allocation). */
interface Candidate {
  readonly pool: PoolState;
  readonly v4: IpAddress | undefined;
  readonly v6: IpAddress | undefined;
}

/**
 * Sorts by address. IPv4 keys are compared as numbers (exact below 2^53), which is several times
 * cheaper than BigInt comparison; IPv6 keys stay BigInt. Stable, IPv4 first.
 */
function byAddress<T>(items: readonly T[], ip: (t: T) => IpAddress): T[] {
  const v4: { n: number; t: T }[] = [];
  const v6: { v: bigint; t: T }[] = [];
  for (const t of items) {
    const a = ip(t);
    if (a.family === 4) v4.push({ n: Number(a.value), t });
    else v6.push({ v: a.value, t });
  }
  v4.sort((a, b) => a.n - b.n);
  v6.sort((a, b) => (a.v < b.v ? -1 : a.v > b.v ? 1 : 0));
  return [...v4.map((x) => x.t), ...v6.map((x) => x.t)];
}

const groupOf = (sharing: string, backend: string): string => `${sharing}\u0000${backend}`;

/**
 * Why `who` cannot share `ip` with its users, in words (MetalLB's text only says "can't change
 * sharing key", even when neither side has a key or the keys are equal and the backends differ).
 */
function sharingConflict(who: Requester, use: AddressUse, ip: IpAddress): string {
  const at = goQuote(ipText(ip));
  const key = (k: string): string => (k === '' ? 'no allow-shared-ip key' : `allow-shared-ip ${goQuote(k)}`);
  if (use.sharing === '' && who.sharing === '') return `${at} is in use and neither Service has an allow-shared-ip key (both need the same one to share it)`;
  if (use.sharing === '' || who.sharing === '' || use.sharing !== who.sharing) {
    return `${at} is held with ${key(use.sharing)} and this Service has ${key(who.sharing)}; Services share an address only with the same non-empty allow-shared-ip key`;
  }
  return `${at} is held under the same allow-shared-ip key by Services with externalTrafficPolicy Local and another pod selector ` +
    `(${goQuote(use.backend === '' ? 'Cluster' : use.backend)} vs ${goQuote(who.backend === '' ? 'Cluster' : who.backend)}); sharing Services must send traffic to the same pods`;
}
const forFamily = (c: Candidate, f: ServiceFamily): IpAddress | undefined => (f === 'ipv4' ? c.v4 : f === 'ipv6' ? c.v6 : undefined);

export class AddressAllocator {
  private pools: PoolState[] = [];
  private byName = new Map<string, PoolState>();
  /** Pools any Service may fall back to: autoAssign and no serviceAllocation, by name. */
  private generalPools: PoolState[] = [];
  private anyPinning = false;
  /** While claiming in bulk: addresses recorded but not yet in their pool's runs. */
  private deferred: Set<AddressUse> | undefined;
  private readonly allocations = new Map<string, Allocation>();
  private readonly uses: Record<Family, Map<bigint, AddressUse>> = { 4: new Map(), 6: new Map() };
  /**
   * Addresses Services request (loadBalancerIPs annotation, spec.loadBalancerIP) → the keys
   * requesting them. Automatic assignment skips them, whatever order Services come in: an
   * address a Service asks for by name is never handed to one that asked for any address.
   */
  private readonly requested: Record<Family, Map<bigint, string[]>> = { 4: new Map(), 6: new Map() };
  private readonly requestOf = new Map<string, readonly IpAddress[]>();
  /** Requested addresses the current search stepped over (a few), to name them when it fails. */
  private readonly skippedRequested: IpAddress[] = [];

  constructor(pools: readonly Pool[] = []) {
    this.setPools(pools);
  }

  get poolNames(): string[] {
    return this.pools.map((p) => p.name);
  }

  get hasPools(): boolean {
    return this.pools.length > 0;
  }

  pool(name: string): PoolState | undefined {
    return this.byName.get(name);
  }

  /** Allocated Service keys. */
  keys(): IterableIterator<string> {
    return this.allocations.keys();
  }

  /** The pool a Service's addresses came from, "" when it holds none. */
  poolOf(key: string): string {
    return this.allocations.get(key)?.pool.name ?? '';
  }

  ipsOf(key: string): readonly IpAddress[] {
    return this.allocations.get(key)?.ips ?? [];
  }

  /** What a Service holds: its addresses, pool and allocation key (one look-up). */
  holding(key: string): { readonly ips: readonly IpAddress[]; readonly pool: { readonly name: string }; readonly backend: string; readonly sharing: string } | undefined {
    return this.allocations.get(key);
  }

  /** MetalLB's AllocationKey: backend key + sharing key, "" when unallocated. */
  allocationKey(key: string): string {
    const a = this.allocations.get(key);
    return a ? a.backend + a.sharing : '';
  }

  /**
   * Replaces the pools (SetPools): allocations whose addresses are in no pool are dropped, those
   * now in another pool are re-homed. Returns the keys of both kinds, in allocation order.
   */
  setPools(pools: readonly Pool[]): string[] {
    this.flushDeferred();
    const sorted = [...pools].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const old = this.byName;
    const kept = new Set<PoolState>();
    this.pools = sorted.map((p, i) => {
      // A pool whose addresses did not change keeps its indexes: a config change costs what it moves.
      const same = old.get(p.name);
      if (same?.sameAddresses(p)) { same.adopt(p, i); kept.add(same); return same; }
      return new PoolState(p, i);
    });
    // Pools replaced or gone: their indexes are dropped whole, not emptied address by address.
    for (const p of old.values()) if (!kept.has(p)) p.retired = true;
    this.byName = new Map(this.pools.map((p) => [p.name, p]));
    this.generalPools = this.pools.filter((p) => p.autoAssign && !p.hasServiceAllocation);
    this.anyPinning = this.pools.some((p) => p.hasServiceAllocation);
    const movers: [Allocation, PoolState | undefined][] = [];
    const affected: string[] = [];
    for (const a of this.allocations.values()) {
      const pool = this.poolFor(a.ips);
      if (pool === a.pool) continue;
      movers.push([a, pool]);
      // MetalLB's SetPools: dropped (no pool) or re-homed (another pool). A pool rebuilt under
      // the same name is neither; its holders only move to the rebuilt indexes.
      if (!pool || pool.name !== a.pool.name) affected.push(a.key);
    }
    // Dropped ones free their addresses; moved ones take their address records along to the new
    // pool (Services sharing an address move together: the first one moves the record). The new
    // run trees are filled in address order, so that they grow at one end.
    const arriving: AddressUse[] = [];
    for (const [a, pool] of movers) {
      if (!pool) { this.unassign(a.key); continue; }
      a.pool = pool;
      for (const ip of a.ips) {
        const use = this.uses[ip.family].get(ip.value)!;
        if (use.pool === pool) continue;
        if (!use.pool.retired) {
          this.leaveGroup(use);
          use.pool.runs[ip.family].remove(ip.value);
          use.pool.assigned[ip.family]--;
        }
        use.pool = pool;
        pool.assigned[ip.family]++;
        this.joinGroup(use);
        arriving.push(use);
      }
    }
    for (const u of byAddress(arriving, (x) => x.ip)) u.pool.runs[u.ip.family].add(u.ip.value);
    return affected;
  }

  /** poolFor: the first pool (by name; MetalLB: map order) that holds every address. */
  poolFor(ips: readonly (IpAddress | undefined)[]): PoolState | undefined {
    for (const p of this.pools) {
      if (ips.every((ip) => ip !== undefined && p.contains(ip))) return p;
    }
    return undefined;
  }

  /** Records an allocation unconditionally (MetalLB's internal assign: unassign, then assign). */
  private record(a: Allocation, found?: readonly (AddressUse | undefined)[]): void {
    const old = this.allocations.get(a.key);
    if (old && old.pool === a.pool && old.ips.length === a.ips.length && old.ips.every((ip, i) => ip.family === a.ips[i]!.family && ip.value === a.ips[i]!.value)) {
      // Same addresses again (every reprocess of a converged Service): update the record in
      // place instead of freeing and re-claiming, which would split and re-merge runs for nothing.
      old.ports = a.ports;
      old.sharing = a.sharing;
      old.backend = a.backend;
      for (let i = 0; i < old.ips.length; i++) {
        const ip = old.ips[i]!;
        this.setGroup(found?.[i] ?? this.uses[ip.family].get(ip.value)!, old);
      }
      return;
    }
    this.unassign(a.key);
    this.allocations.set(a.key, a);
    for (const ip of a.ips) {
      const uses = this.uses[ip.family];
      let use = uses.get(ip.value);
      if (!use) {
        // `[a]`, not `[]` then push: V8 would reserve 17 slots for a list that mostly holds one.
        use = { ip, pool: a.pool, users: [a], group: '', sharing: '', backend: '' };
        uses.set(ip.value, use);
        if (this.deferred) this.deferred.add(use);
        else a.pool.runs[ip.family].add(ip.value);
        a.pool.assigned[ip.family]++;
      } else {
        use.users.push(a);
      }
      this.setGroup(use, a);
    }
  }

  /** The address takes the sharing key of its latest user (MetalLB's sharingKeyForIP). */
  private setGroup(use: AddressUse, a: Allocation): void {
    if (use.sharing === a.sharing && use.backend === a.backend) return;
    this.leaveGroup(use);
    use.sharing = a.sharing;
    use.backend = a.backend;
    use.group = groupOf(a.sharing, a.backend);
    this.joinGroup(use);
  }

  private joinGroup(use: AddressUse): void {
    if (use.sharing === '') return;
    const groups = use.pool.groups[use.ip.family];
    let set = groups.get(use.group);
    if (!set) { set = new OrderedMap<true>(); groups.set(use.group, set); }
    set.set(use.ip.value, true);
  }

  private leaveGroup(use: AddressUse): void {
    if (use.sharing === '') return;
    const groups = use.pool.groups[use.ip.family];
    const set = groups.get(use.group);
    if (!set) return;
    set.delete(use.ip.value);
    if (set.size === 0) groups.delete(use.group);
  }

  /** Frees whatever the Service holds. */
  unassign(key: string): boolean {
    const a = this.allocations.get(key);
    if (!a) return false;
    this.allocations.delete(key);
    for (const ip of a.ips) {
      const uses = this.uses[ip.family];
      const use = uses.get(ip.value);
      if (!use) continue;
      const i = use.users.indexOf(a);
      if (i >= 0) use.users.splice(i, 1);
      if (use.users.length === 0) {
        uses.delete(ip.value);
        if (use.pool.retired) continue;
        this.leaveGroup(use);
        if (this.deferred?.delete(use) !== true) use.pool.runs[ip.family].remove(ip.value);
        use.pool.assigned[ip.family]--;
      }
    }
    return true;
  }

  /** Records the addresses one Service requests (none: forgets its request). */
  setRequest(key: string, ips: readonly IpAddress[]): void {
    const old = this.requestOf.get(key);
    if (old === undefined && ips.length === 0) return;
    if (old && old.length === ips.length && old.every((ip, i) => ip.family === ips[i]!.family && ip.value === ips[i]!.value)) return;
    for (const ip of old ?? []) {
      const keys = this.requested[ip.family].get(ip.value);
      if (!keys) continue;
      const rest = keys.filter((k) => k !== key);
      if (rest.length === 0) this.requested[ip.family].delete(ip.value);
      else this.requested[ip.family].set(ip.value, rest);
    }
    if (ips.length === 0) { this.requestOf.delete(key); return; }
    this.requestOf.set(key, ips);
    for (const ip of ips) {
      const keys = this.requested[ip.family].get(ip.value);
      if (keys) { if (!keys.includes(key)) keys.push(key); } else this.requested[ip.family].set(ip.value, [key]);
    }
  }

  /** How many Services request addresses by name. */
  get requesters(): number {
    return this.requestOf.size;
  }

  /** Forgets every request (a full pass records them all again). */
  clearRequests(): void {
    this.requested[4].clear();
    this.requested[6].clear();
    this.requestOf.clear();
  }

  private requestedByOther(family: Family, value: bigint, key: string): boolean {
    const keys = this.requested[family].size > 0 ? this.requested[family].get(value) : undefined;
    return keys !== undefined && keys.some((k) => k !== key);
  }

  /** The Services other than `key` requesting this address, sorted. */
  requestersOf(family: Family, value: bigint, key: string): string[] {
    const keys = this.requested[family].get(value);
    return keys ? keys.filter((k) => k !== key).sort() : [];
  }

  /** checkSharing: may `who` use `ip` next to its current users? */
  private checkSharing(who: Requester, ip: IpAddress, use = this.uses[ip.family].get(ip.value)): string | undefined {
    if (!use) return undefined;
    const compatible = use.sharing !== '' && who.sharing !== '' && use.sharing === who.sharing && use.backend === who.backend;
    if (!compatible) {
      // The only user may change its own key in place.
      const others = use.users.filter((u) => u.key !== who.key).map((u) => u.key).sort();
      if (others.length > 0) return `can't change sharing key for ${goQuote(who.key)}, address also in use by ${others.join(',')}: ${sharingConflict(who, use, ip)}`;
    }
    for (const port of who.ports) {
      for (const u of use.users) {
        if (u.key !== who.key && u.ports.includes(port)) return `port ${port} is already in use on ${goQuote(ipText(ip))}`;
      }
    }
    return undefined;
  }

  /** Assign: claims exactly these addresses, if configuration and sharing allow it. */
  assign(who: Requester, ips: readonly (IpAddress | undefined)[]): string | undefined {
    const pool = this.poolFor(ips);
    if (!pool) return `${ipsQuoted(ips)} is not allowed in config`;
    if (!pool.compatibleWith(who.svc)) return `pool ${pool.name} not compatible for ip assignment`;
    if (ips.length > 2) return `more than two addresses ${ipsQuoted(ips)}`;
    if (ips.length === 2 && ips[0]!.family === ips[1]!.family) return `${goQuote(ipText(ips[0]))} ${goQuote(ipText(ips[1]))} has the same family`;
    const valid = ips as readonly IpAddress[];
    const found: (AddressUse | undefined)[] = valid.map((ip) => this.uses[ip.family].get(ip.value));
    for (let i = 0; i < valid.length; i++) {
      const err = this.checkSharing(who, valid[i]!, found[i]);
      if (err !== undefined) return err;
    }
    // The arrays are the caller's fresh ones and never mutated: kept as they are, not copied.
    this.record({ key: who.key, pool, ips: valid, ports: who.ports, sharing: who.sharing, backend: who.backend }, found);
    return undefined;
  }

  /**
   * Runs `work` with the run trees buffered: addresses taken are added to their pool's tree in
   * address order, when a free-address search next needs the trees or when `work` ends. The
   * trees then grow at one end instead of at random places, which is what makes a restart of
   * 100k Services cheap. Nothing else reads the trees, so the results are the same.
   */
  buffered<T>(work: () => T): T {
    if (this.deferred) return work();
    this.deferred = new Set();
    try {
      return work();
    } finally {
      this.flushDeferred();
      this.deferred = undefined;
    }
  }

  /** `buffered` for the re-claim pass after a restart. */
  claimInBulk(claims: () => void): void {
    this.buffered(claims);
  }

  private flushDeferred(): void {
    if (!this.deferred || this.deferred.size === 0) return;
    const uses = byAddress([...this.deferred], (u) => u.ip);
    this.deferred.clear();
    for (const u of uses) u.pool.runs[u.ip.family].add(u.ip.value);
  }

  /** getIPFromCIDR over the pool's CIDRs of one family, in the order written: lowest usable address. */
  private freeIn(pool: PoolState, family: Family, who: Requester): IpAddress | undefined {
    if (this.deferred && this.deferred.size > 0) this.flushDeferred();
    const runs = pool.runs[family];
    const group = who.sharing === '' ? undefined : pool.groups[family].get(groupOf(who.sharing, who.backend));
    for (const { family: f, first, last } of pool.bounds) {
      if (f !== family) continue;
      let free = runs.firstFree(first, last);
      // Addresses other Services request are not free for automatic assignment.
      while (free !== undefined && this.requestedByOther(family, free, who.key)) {
        if (this.skippedRequested.length < 3) this.skippedRequested.push({ family, value: free });
        free = free < last ? runs.firstFree(free + 1n, last) : undefined;
      }
      if (group) {
        // An address already shared under the same key wins when it comes first (MetalLB walks
        // addresses in order and takes the first one checkSharing accepts).
        for (let e = group.ceiling(first); e && e.key <= last && (free === undefined || e.key < free); e = group.higher(e.key)) {
          const ip: IpAddress = { family, value: e.key };
          if (this.checkSharing(who, ip) === undefined) return ip;
        }
      }
      if (free !== undefined) return { family, value: free };
    }
    return undefined;
  }

  private candidate(pool: PoolState, who: Requester, families: readonly Family[]): Candidate {
    return {
      pool,
      v4: families.includes(4) ? this.freeIn(pool, 4, who) : undefined,
      v6: families.includes(6) ? this.freeIn(pool, 6, who) : undefined,
    };
  }

  /** findBestPoolForService. Only the families the decision reads are searched. */
  private bestPool(pools: readonly PoolState[], who: Requester, family: ServiceFamily): Outcome<Candidate> {
    const policy = familyPolicy(who.svc);
    const primary: Family = who.svc.spec.ipFamilies?.[0] === 'IPv6' ? 6 : 4;
    const secondary: Family = primary === 4 ? 6 : 4;
    const single = family === 'ipv4' || family === 'ipv6';
    const families: Family[] = family === 'ipv4' ? [4] : family === 'ipv6' ? [6] : [4, 6];
    const preferDual = policy === 'PreferDualStack' && family === 'dual';
    let first: Candidate | undefined;
    let second: Candidate | undefined;
    for (const pool of pools) {
      const c = this.candidate(pool, who, families);
      if (single) {
        if (forFamily(c, family)) return ok(c);
        continue;
      }
      const p = primary === 4 ? c.v4 : c.v6;
      const s = secondary === 4 ? c.v4 : c.v6;
      if (p && s) return ok(c);
      if (!preferDual) continue;
      if (p && !first) first = c;
      if (s && !second) second = c;
    }
    if (first) return ok(first);
    if (second) return ok(second);
    return fail(`no suitable pool for ${family} IPFamily`);
  }

  /** selectIPsForFamilyAndPolicy. A missing address stays `undefined` (Go's nil), as in MetalLB. */
  private select(c: Candidate, family: ServiceFamily, policy: FamilyPolicy): Outcome<(IpAddress | undefined)[]> {
    if (family === 'ipv4') return ok([c.v4]);
    if (family === 'ipv6') return ok([c.v6]);
    if (policy === 'RequireDualStack' || policy === 'PreferDualStack') {
      if (c.v4 && c.v6) return ok([c.v4, c.v6]);
      if (policy === 'PreferDualStack' && c.v4) return ok([c.v4]);
      if (policy === 'PreferDualStack' && c.v6) return ok([c.v6]);
    }
    return fail(`no available IPs in pool ${c.pool.name} for ${family} IPFamily`);
  }

  /** Pinned pools for a Service: autoAssign, compatible, by priority (positive ascending, then 0), then name. */
  pinnedPools(svc: Service): PoolState[] {
    if (!this.anyPinning) return [];
    const rank = (p: PoolState): number => (p.priority > 0 ? p.priority : Number.MAX_SAFE_INTEGER);
    return this.pools
      .filter((p) => p.autoAssign && p.pinnedTo(svc) && p.compatibleWith(svc))
      .sort((a, b) => rank(a) - rank(b) || a.order - b.order);
  }

  private fromPools(pools: readonly PoolState[], who: Requester, family: ServiceFamily): Outcome<IpAddress[]> {
    const best = this.bestPool(pools, who, family);
    if (best.ok) {
      const ips = this.select(best.value, family, familyPolicy(who.svc));
      if (ips.ok && this.assign(who, ips.value) === undefined) return ok(ips.value as IpAddress[]);
    }
    return fail('no available IPs');
  }

  /**
   * MetalLB's "no available IPs" texts, and when the search stepped over addresses other Services
   * request by name, those too: the pool may look half empty to the user.
   */
  private exhausted(text: string): Outcome<never> {
    const skipped = this.skippedRequested;
    if (skipped.length === 0) return fail(text);
    const named = skipped.map((ip) => `${goQuote(ipText(ip))} (requested by ${this.requestersOf(ip.family, ip.value, '').join(',')})`);
    return fail(`${text}; addresses other Services request by name are not handed out automatically: ${named.join(', ')}${skipped.length >= 3 ? ', …' : ''}`);
  }

  /** Allocate: pinned pools first, then every autoAssign pool without serviceAllocation (by name). */
  allocate(who: Requester, family: ServiceFamily): Outcome<IpAddress[]> {
    this.skippedRequested.length = 0;
    if (this.anyPinning) {
      const pinned = this.fromPools(this.pinnedPools(who.svc), who, family);
      if (pinned.ok) return pinned;
    }
    const r = this.fromPools(this.generalPools, who, family);
    return r.ok ? r : this.exhausted('no available IPs');
  }

  /** AllocateFromPool: the pool named by the address-pool annotation (autoAssign not required). */
  allocateFromPool(who: Requester, family: ServiceFamily, poolName: string): Outcome<IpAddress[]> {
    const pool = this.byName.get(poolName);
    if (!pool) return fail(`unknown pool ${goQuote(poolName)}`);
    this.skippedRequested.length = 0;
    let c = this.candidate(pool, who, family === 'ipv4' ? [4] : family === 'ipv6' ? [6] : [4, 6]);
    if (!c.v4 && !c.v6) {
      // MetalLB searched both families; "no available IPs" only when neither has an address.
      c = this.candidate(pool, who, [4, 6]);
      if (!c.v4 && !c.v6) return this.exhausted(`no available IPs in pool ${pool.name}`);
    }
    const ips = this.select(c, family, familyPolicy(who.svc));
    if (!ips.ok) return fail(ips.error);
    const err = this.assign(who, ips.value);
    return err === undefined ? ok(ips.value as IpAddress[]) : fail(err);
  }

  /** AllocateFromPoolForAdditionalFamily: the missing family for a PreferDualStack Service, same pool. */
  allocateAdditional(who: Requester, existing: IpAddress, poolName: string): Outcome<IpAddress> {
    const pool = this.byName.get(poolName);
    if (!pool) return fail(`unknown pool ${goQuote(poolName)}`);
    // The Service's own address always counts as usable for itself, so MetalLB never reports an
    // empty pool here: a missing family surfaces as a nil address that no pool holds.
    const extra = this.freeIn(pool, existing.family === 4 ? 6 : 4, who);
    const err = this.assign(who, [existing, extra]);
    return err === undefined ? ok(extra!) : fail(err);
  }

  /** Distinct addresses in use (for tests and the benchmark). */
  addressesInUse(): number {
    return this.uses[4].size + this.uses[6].size;
  }

  /** Users of one address (for tests). */
  usersOf(ip: IpAddress): string[] {
    return (this.uses[ip.family].get(ip.value)?.users ?? []).map((u) => u.key);
  }
}
