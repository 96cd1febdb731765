// BGPAdvertisement: pools, peers and community aliases resolved; MetalLB's rules (aggregation
// limits, serviceSelectors only with default aggregation, duplicates, localPref conflicts per pool)
// plus ironlb's extensions (asPrepend, med). An aggregationLength shorter than a pool's own prefix
// is refused by MetalLB; ironlb accepts it with a warning that says what will be announced.
import type { LoadedObject } from '../api/loaded.ts';
import type { BGPAdvertisement as BGPAdvertisementResource } from '../api/resources.ts';
import { familyBits } from '../net/ip.ts';
import { formatPrefix, makePrefix } from '../net/prefix.ts';
import { type Alias, resolveCommunityList } from './communities.ts';
import { canonicalJson, selectPools } from './pool-selection.ts';
import type { ResolvedPool } from './pools.ts';
import { type Report, describe, locate } from './report.ts';
import { compileSelectors, selectorListsIntersect, selectorsText } from './selectors.ts';
import type { BgpAdvertisement } from './types.ts';

/** ironlb's AS-path prepend limit: FRR's `set as-path prepend last-as` takes 1..10, and more
 * than a handful of copies changes no real best-path decision while bloating every UPDATE. */
export const maxPrependCount = 10;
const maxU32 = 4294967295;

export interface ResolvedBgpAdvertisement {
  readonly lo: LoadedObject<BGPAdvertisementResource>;
  readonly ad: BgpAdvertisement;
}

function aggregation(report: Report, lo: LoadedObject<BGPAdvertisementResource>, field: 'aggregationLength' | 'aggregationLengthV6', max: number): number {
  const v = lo.object.spec[field];
  if (v === undefined) return max;
  if (!Number.isInteger(v) || v < 1 || v > max) {
    report.error(lo, ['spec', field], `${field} ${v} is not allowed: want 1..${max}`);
    return max;
  }
  return v;
}

function resolveAd(report: Report, lo: LoadedObject<BGPAdvertisementResource>, pools: ReadonlyMap<string, ResolvedPool>, peerNames: ReadonlySet<string>, aliases: ReadonlyMap<string, Alias>): BgpAdvertisement {
  const spec = lo.object.spec ?? {};
  const aggregationLength = aggregation(report, lo, 'aggregationLength', 32);
  const aggregationLengthV6 = aggregation(report, lo, 'aggregationLengthV6', 128);
  const serviceSelectors = compileSelectors(report, lo, ['spec', 'serviceSelectors'], spec.serviceSelectors);
  if ((spec.serviceSelectors ?? []).length > 0) {
    if (aggregationLength !== 32) report.error(lo, ['spec', 'aggregationLength'], `aggregationLength ${aggregationLength} cannot be combined with serviceSelectors: with serviceSelectors only the default 32 is allowed`);
    if (aggregationLengthV6 !== 128) report.error(lo, ['spec', 'aggregationLengthV6'], `aggregationLengthV6 ${aggregationLengthV6} cannot be combined with serviceSelectors: with serviceSelectors only the default 128 is allowed`);
  }
  let peers: string[] | undefined;
  if ((spec.peers ?? []).length > 0) {
    const known = [...peerNames].sort();
    peers = [];
    spec.peers!.forEach((name, i) => {
      if (spec.peers!.indexOf(name) !== i) report.error(lo, ['spec', 'peers', i], `duplicate peer "${name}": each peer may be named once`);
      else if (!peerNames.has(name)) report.error(lo, ['spec', 'peers', i], `unknown BGPPeer "${name}": ${known.length ? `known peers are ${known.map((k) => `"${k}"`).join(', ')}` : 'no BGPPeer is defined'}`);
      else peers!.push(name);
    });
    peers.sort();
  }
  const localPref = spec.localPref ?? 0;
  if (!Number.isInteger(localPref) || localPref < 0 || localPref > maxU32) report.error(lo, ['spec', 'localPref'], `localPref ${localPref} is not allowed: want 0..${maxU32}`);
  let asPrepend: BgpAdvertisement['asPrepend'];
  if (spec.asPrepend) {
    const { count, asn } = spec.asPrepend;
    let ok = true;
    if (!Number.isInteger(count) || count < 1 || count > maxPrependCount) {
      report.error(lo, ['spec', 'asPrepend', 'count'], `count ${count} is not allowed: want 1..${maxPrependCount} copies`);
      ok = false;
    }
    if (asn !== undefined && (!Number.isInteger(asn) || asn < 1 || asn > maxU32)) {
      report.error(lo, ['spec', 'asPrepend', 'asn'], `asn ${asn} is not allowed: want 1..${maxU32} (0 is reserved, RFC 7607), or leave it out to prepend the session's own ASN`);
      ok = false;
    }
    if (ok) asPrepend = asn !== undefined ? { count, asn } : { count };
  }
  if (spec.med !== undefined && (!Number.isInteger(spec.med) || spec.med < 0 || spec.med > maxU32)) {
    report.error(lo, ['spec', 'med'], `med ${spec.med} is not allowed: want 0..${maxU32}`);
  }
  return {
    name: lo.object.metadata.name ?? '',
    aggregationLength,
    aggregationLengthV6,
    localPref,
    communities: resolveCommunityList(report, lo, ['spec', 'communities'], spec.communities, aliases),
    pools: selectPools(report, lo, spec.ipAddressPools, spec.ipAddressPoolSelectors, pools),
    nodeSelectors: compileSelectors(report, lo, ['spec', 'nodeSelectors'], spec.nodeSelectors),
    ...(peers ? { peers } : {}),
    serviceSelectors,
    ...(asPrepend ? { asPrepend } : {}),
    ...(spec.med !== undefined ? { med: spec.med } : {}),
  };
}

/** The warning for aggregating beyond a pool's own prefix: exactly which routes go out. */
function warnWideAggregation(report: Report, r: ResolvedBgpAdvertisement, pool: ResolvedPool): void {
  for (const a of pool.addresses) {
    const field = a.range.family === 4 ? 'aggregationLength' : 'aggregationLengthV6';
    const len = a.range.family === 4 ? r.ad.aggregationLength : r.ad.aggregationLengthV6;
    const shortest = a.shortest;
    if (len >= shortest) continue;
    const shift = BigInt(familyBits(a.range.family) - len);
    const count = (a.range.last >> shift) - (a.range.first >> shift) + 1n;
    const outside = count * (1n << shift) - (a.range.last - a.range.first + 1n);
    const first = makePrefix(a.range.family, a.range.first, len);
    // Every summarized CIDR is longer than `len`, so the range meets at most two /len blocks.
    const routes = count === 1n
      ? `the single route ${formatPrefix(first)}`
      : `one of ${count} routes (${Array.from({ length: Number(count) }, (_, i) => formatPrefix(makePrefix(a.range.family, first.network + (BigInt(i) << shift), len))).join(', ')})`;
    report.warn(r.lo, ['spec', field],
      `${field} ${len} is shorter than /${shortest}, the prefix of "${a.text}" in IPAddressPool "${pool.pool.name}" (MetalLB refuses this; ironlb accepts it): ` +
      `each service IP from it is announced as ${routes}, covering ${outside} address${outside === 1n ? '' : 'es'} outside the pool`);
  }
}

/** MetalLB's BGPAdvertisementsHaveCompatibleLocalPref, with node overlap judged from the selectors. */
function localPrefConflict(a: BgpAdvertisement, b: BgpAdvertisement, pool: ResolvedPool): boolean {
  if (a.localPref === b.localPref || a.serviceSelectors.length > 0 || b.serviceSelectors.length > 0) return false;
  const v4 = pool.addresses.some((x) => x.range.family === 4);
  const v6 = pool.addresses.some((x) => x.range.family === 6);
  const d4 = a.aggregationLength !== b.aggregationLength;
  const d6 = a.aggregationLengthV6 !== b.aggregationLengthV6;
  // Different aggregation lengths make different routes, each with its own LOCAL_PREF.
  if ((!v4 && !v6) || (d4 && !v6) || (d6 && !v4) || (d4 && d6)) return false;
  if (a.peers && b.peers && !a.peers.some((p) => b.peers!.includes(p))) return false;
  return selectorListsIntersect(a.nodeSelectors, b.nodeSelectors);
}

function commonPeers(a: BgpAdvertisement, b: BgpAdvertisement): string {
  const common = a.peers && b.peers ? a.peers.filter((p) => b.peers!.includes(p)) : (a.peers ?? b.peers);
  return common ? `${common.length === 1 ? 'peer' : 'peers'} ${common.join(', ')}` : 'every peer';
}

export function resolveBgpAdvertisements(
  report: Report,
  los: readonly LoadedObject<BGPAdvertisementResource>[],
  pools: ReadonlyMap<string, ResolvedPool>,
  peerNames: ReadonlySet<string>,
  aliases: ReadonlyMap<string, Alias>,
): Map<string, ResolvedBgpAdvertisement> {
  const out = new Map<string, ResolvedBgpAdvertisement>();
  const specs = new Map<string, ResolvedBgpAdvertisement>();
  /** Per pool, the advertisements so far by localPref: only different values can conflict. */
  const byPool = new Map<string, Map<number, ResolvedBgpAdvertisement[]>>();
  const sorted = [...los].sort((a, b) => ((a.object.metadata.name ?? '') < (b.object.metadata.name ?? '') ? -1 : 1));
  for (const lo of sorted) {
    const r: ResolvedBgpAdvertisement = { lo, ad: resolveAd(report, lo, pools, peerNames, aliases) };
    const earlier = out.get(r.ad.name);
    if (earlier) {
      report.error(lo, ['metadata', 'name'], `duplicate definition of BGP advertisement "${r.ad.name}": already defined${locate(earlier.lo)}; advertisement names must be unique`);
      continue;
    }
    const key = canonicalJson(lo.object.spec ?? {});
    const twin = specs.get(key);
    if (twin) report.error(lo, ['spec'], `identical to ${describe(twin.lo)}: duplicate advertisements are not allowed`);
    else specs.set(key, r);
    const conflicting = new Set<ResolvedBgpAdvertisement>();
    for (const name of r.ad.pools) {
      const pool = pools.get(name)!;
      warnWideAggregation(report, r, pool);
      // serviceSelectors exempt an advertisement from the check (MetalLB: decided at runtime).
      if (r.ad.serviceSelectors.length > 0) continue;
      const byPref = byPool.get(name) ?? new Map<number, ResolvedBgpAdvertisement[]>();
      byPool.set(name, byPref);
      for (const [pref, others] of byPref) {
        if (pref === r.ad.localPref) continue;
        for (const other of others) {
          if (conflicting.has(other) || !localPrefConflict(other.ad, r.ad, pool)) continue;
          conflicting.add(other);
          report.error(lo, ['spec', 'localPref'],
            `localPref ${r.ad.localPref} conflicts with localPref ${other.ad.localPref} of ${describe(other.lo)}: both announce IPAddressPool "${name}" ` +
            `with the same aggregation length to ${commonPeers(r.ad, other.ad)} ` +
            `from nodes that can overlap (${selectorsText(other.ad.nodeSelectors)} vs ${selectorsText(r.ad.nodeSelectors)}); ` +
            'a route carries one LOCAL_PREF: use the same localPref, or separate them by aggregation length, peers, nodes or serviceSelectors');
        }
      }
      const same = byPref.get(r.ad.localPref);
      if (same) same.push(r);
      else byPref.set(r.ad.localPref, [r]);
    }
    out.set(r.ad.name, r);
  }
  return out;
}
