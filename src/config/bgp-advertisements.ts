// BGPAdvertisement: pools, peers and community aliases resolved; MetalLB's rules (aggregation
// limits, serviceSelectors only with default aggregation, duplicates) plus ironlb's extensions
// (asPrepend, med); conflicting single values across advertisements: attribute-conflicts.ts.
// An aggregationLength shorter than a pool's own prefix is refused by MetalLB; ironlb accepts it
// with a warning that says what will be announced.
import type { LoadedObject } from '../api/loaded.ts';
import type { BGPAdvertisement as BGPAdvertisementResource } from '../api/resources.ts';
import { asnRangeText } from '../api/schema-kit.ts';
import { familyBits } from '../net/ip.ts';
import { formatPrefix, makePrefix } from '../net/prefix.ts';
import { type Alias, resolveCommunityList } from './communities.ts';
import { warnReservedAsns } from './dangerous-values.ts';
import { canonicalJson, selectPools } from './pool-selection.ts';
import type { ResolvedPool } from './pools.ts';
import { type Report, describe, locate } from './report.ts';
import { compileSelectors } from './selectors.ts';
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
      report.error(lo, ['spec', 'asPrepend', 'asn'], `asn ${asn} is not allowed: want ${asnRangeText} (0 is reserved, RFC 7607), or leave it out to prepend the session's own ASN`);
      ok = false;
    }
    if (ok) {
      asPrepend = asn !== undefined ? { count, asn } : { count };
      warnReservedAsns(report, lo, [{ path: ['spec', 'asPrepend', 'asn'], asn }]);
    }
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

export function resolveBgpAdvertisements(
  report: Report,
  los: readonly LoadedObject<BGPAdvertisementResource>[],
  pools: ReadonlyMap<string, ResolvedPool>,
  peerNames: ReadonlySet<string>,
  aliases: ReadonlyMap<string, Alias>,
): Map<string, ResolvedBgpAdvertisement> {
  const out = new Map<string, ResolvedBgpAdvertisement>();
  const specs = new Map<string, ResolvedBgpAdvertisement>();
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
    for (const name of r.ad.pools) warnWideAggregation(report, r, pools.get(name)!);
    out.set(r.ad.name, r);
  }
  return out;
}
