// The single-valued attributes of one route (LOCAL_PREF, MED, the AS-path prepend) from the
// advertisements that send one prefix to one peer, judged per peer:
//
// - an advertisement that leaves an attribute unset (localPref 0, no med, no asPrepend) does not
//   conflict with one that sets it: the set value applies on the peers the setting advertisement
//   reaches (seed 000: "production" for every router, "prepend" adds 2 × AS64500 on router-3);
// - two different set values on one peer conflict: that prefix is not sent to that peer, and
//   only to that peer (config/attribute-conflicts.ts refuses such configurations up front; what
//   it cannot see — serviceSelectors, two Services sharing an IP — is caught here);
// - LOCAL_PREF is sent to iBGP peers only (RFC 4271 §5.1.5), so different localPrefs conflict on
//   iBGP peers only; an eBGP peer gets the route without it.
//
// MetalLB (bgp_controller.go checkBGPAdvConflicts) compares the raw localPref of every advertisement
// matching a Service, 0 included, and withdraws the Service from every peer.
import type { RouteAttributes } from '../bgp/route.ts';
import { type SingleValuedAttribute, setValue } from '../config/attribute-conflicts.ts';
import type { BgpAdvertisement } from '../config/types.ts';
import { mergeCommunities } from '../net/community.ts';
import type { AnnouncementPlan } from './plan-types.ts';


export interface AttributeConflict {
  readonly attribute: SingleValuedAttribute;
  readonly first: BgpAdvertisement;
  readonly second: BgpAdvertisement;
  /** `localPref 100 vs 50` */
  readonly values: string;
}


/** The first advertisement setting `attribute`, and the first setting it differently. */
function disagreement(ads: readonly BgpAdvertisement[], attribute: SingleValuedAttribute): AttributeConflict | undefined {
  let first: BgpAdvertisement | undefined;
  let value: string | undefined;
  for (const ad of ads) {
    const v = setValue[attribute](ad);
    if (v === undefined) continue;
    if (first === undefined) { first = ad; value = v; continue; }
    if (v !== value) return { attribute, first, second: ad, values: `${attribute} ${value} vs ${v}` };
  }
  return undefined;
}

/**
 * Why these advertisements (sorted by name) cannot make one route to a peer of this kind, or
 * undefined when they can.
 */
export function attributeConflict(ads: readonly BgpAdvertisement[], ebgp: boolean): AttributeConflict | undefined {
  return (ebgp ? undefined : disagreement(ads, 'localPref')) ?? disagreement(ads, 'med') ?? disagreement(ads, 'asPrepend');
}

/** The route's attributes: each single value as set (no conflict, checked before), communities merged. */
export function routeAttributes(ads: readonly BgpAdvertisement[], ebgp: boolean): RouteAttributes {
  const localPref = ads.find((a) => a.localPref > 0)?.localPref;
  // On eBGP LOCAL_PREF is not sent; advertisements may disagree on it there, and then none is kept.
  const keepLocalPref = localPref !== undefined && (!ebgp || disagreement(ads, 'localPref') === undefined);
  const med = ads.find((a) => a.med !== undefined)?.med;
  const prepend = ads.find((a) => a.asPrepend !== undefined)?.asPrepend;
  return {
    ...(keepLocalPref ? { localPref } : {}),
    ...(med !== undefined ? { med } : {}),
    communities: ads.length === 1 ? [...ads[0]!.communities] : mergeCommunities(...ads.map((a) => a.communities)),
    ...(prepend !== undefined ? { asPrepend: prepend.asn === undefined ? { count: prepend.count } : { count: prepend.count, asn: prepend.asn } } : {}),
  };
}

/**
 * The routes this plan leaves out because advertisements disagree, one sentence each (naming the
 * prefix, the peer, both advertisements and the Services), sorted: what the speaker logs at warn.
 */
export function conflictDrops(plan: AnnouncementPlan): string[] {
  const out = new Set<string>();
  for (const s of plan.services) {
    for (const e of s.entries) if (e.kind === 'notAnnounced' && e.reason === 'conflictingAdvertisements') out.add(e.message);
  }
  return [...out].sort();
}
