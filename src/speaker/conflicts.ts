// Advertisements that would give one route two values of a single-valued attribute.
//
// MetalLB (internal/config/config.go BGPAdvertisementsHaveCompatibleLocalPref) lets two
// advertisements with different localPref coexist only when they cannot produce the same route:
// different aggregation lengths for the pool's families, or `peers` lists with no name in common
// (nodes are not compared here: both already select this node). Its speaker re-checks the
// advertisements matching a Service at run time (bgp_controller.go checkBGPAdvConflicts) because
// serviceSelectors move the check out of validation. ironlb applies the same rule to its two
// extensions, `med` and `asPrepend`, which are single-valued in a route just like LOCAL_PREF:
// differing values are a conflict, never silently resolved. 0 localPref and an unset med or
// asPrepend count as values, as in MetalLB (0 vs 100 conflicts).
import type { AsPrepend, BgpAdvertisement, Pool } from '../config/types.ts';

export interface SingleValuedAttributes {
  readonly localPref: number;
  readonly med?: number;
  readonly asPrepend?: AsPrepend;
}

const prependText = (p: AsPrepend | undefined): string =>
  p === undefined ? 'none' : `${p.count}x${p.asn === undefined ? ' own ASN' : ` AS${p.asn}`}`;

/** Human descriptions of the single-valued attributes on which `a` and `b` differ. */
export function attributeDifferences(a: SingleValuedAttributes, b: SingleValuedAttributes): string[] {
  const out: string[] = [];
  if (a.localPref !== b.localPref) out.push(`localPref ${a.localPref} vs ${b.localPref}`);
  if (a.med !== b.med) out.push(`med ${a.med ?? 'unset'} vs ${b.med ?? 'unset'}`);
  if (prependText(a.asPrepend) !== prependText(b.asPrepend)) {
    out.push(`asPrepend ${prependText(a.asPrepend)} vs ${prependText(b.asPrepend)}`);
  }
  return out;
}

function aggregationDiffers(a: BgpAdvertisement, b: BgpAdvertisement, pool: Pool): boolean {
  const hasV4 = pool.cidrs.some((c) => c.family === 4);
  const hasV6 = pool.cidrs.some((c) => c.family === 6);
  if (!hasV4 && !hasV6) return true;
  const v4Differs = a.aggregationLength !== b.aggregationLength;
  const v6Differs = a.aggregationLengthV6 !== b.aggregationLengthV6;
  if (v4Differs && !hasV6) return true;
  if (v6Differs && !hasV4) return true;
  return v4Differs && v6Differs;
}

function peersDisjoint(a: BgpAdvertisement, b: BgpAdvertisement): boolean {
  const pa = a.peers ?? [];
  const pb = b.peers ?? [];
  return pa.length > 0 && pb.length > 0 && !pa.some((p) => pb.includes(p));
}

/**
 * The first conflicting pair among the advertisements matching one Service on this node, as a
 * sentence, or undefined. Pairs are visited in the given order (callers sort by name).
 */
export function findAdvertisementConflict(ads: readonly BgpAdvertisement[], pool: Pool): string | undefined {
  for (let i = 0; i < ads.length; i++) {
    for (let j = i + 1; j < ads.length; j++) {
      const a = ads[i]!;
      const b = ads[j]!;
      const diffs = attributeDifferences(a, b);
      if (diffs.length === 0 || aggregationDiffers(a, b, pool) || peersDisjoint(a, b)) continue;
      return `BGPAdvertisements "${a.name}" and "${b.name}" both apply and would give the same route different values (${diffs.join(', ')})`;
    }
  }
  return undefined;
}
