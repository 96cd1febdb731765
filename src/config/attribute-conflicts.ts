// Two BGPAdvertisements that would give one route two values of a single-valued attribute
// (localPref, med, asPrepend), judged per peer with the planner's rules (speaker/conflicts.ts):
//
// - unset (localPref 0, no med, no asPrepend) against set is no conflict: the set value applies
//   on the peers the setting advertisement reaches;
// - two different set values for the same prefix on the same peer: an error naming both
//   advertisements and the peer(s) — the planner would not send that prefix there;
// - localPref matters only where LOCAL_PREF is sent: overlapping on iBGP peers is an error, on
//   eBGP peers only a warning naming them (RFC 4271 §5.1.5: it is never sent there);
// - with no BGPPeer defined yet, MetalLB's rule (BGPAdvertisementsHaveCompatibleLocalPref): any
//   localPref difference, 0 included, on routes that can coincide is an error.
//
// "The same prefix" follows from the pools and aggregation lengths: two advertisements make a
// common prefix when, for one family, their lengths are equal and some block of that length
// holds addresses of a pool of each (the same pool always does). Nodes must be able to overlap.
// serviceSelectors move the decision to run time (as in MetalLB): such a pair is a warning when
// one Service could match both, saying what the speaker will drop.
import { familyBits, type Family } from '../net/ip.ts';
import type { ResolvedBgpAdvertisement } from './bgp-advertisements.ts';
import { type ResolvedPeer, sessionIsEbgp } from './peers.ts';
import type { ResolvedPool } from './pools.ts';
import { type Report, describe } from './report.ts';
import { selectorListsIntersect, selectorsText } from './selectors.ts';
import type { AsPrepend, BgpAdvertisement } from './types.ts';

/** The attributes a route carries one value of (shared with the planner, speaker/conflicts.ts). */
export type SingleValuedAttribute = 'localPref' | 'med' | 'asPrepend';
type Attribute = SingleValuedAttribute;

export const prependText = (p: AsPrepend): string => `${p.count}x${p.asn === undefined ? ' own ASN' : ` AS${p.asn}`}`;
/** The value an advertisement sets, as text for comparison; undefined when it leaves it unset (localPref 0). */
export const setValue: Record<Attribute, (a: BgpAdvertisement) => string | undefined> = {
  localPref: (a) => (a.localPref > 0 ? String(a.localPref) : undefined),
  med: (a) => (a.med !== undefined ? String(a.med) : undefined),
  asPrepend: (a) => (a.asPrepend !== undefined ? prependText(a.asPrepend) : undefined),
};
const wireName: Record<Attribute, string> = { localPref: 'LOCAL_PREF', med: 'MULTI_EXIT_DISC', asPrepend: 'AS_PATH' };

/** The attributes both set to different values. */
function differing(a: BgpAdvertisement, b: BgpAdvertisement): Attribute[] {
  return (['localPref', 'med', 'asPrepend'] as const).filter((k) => {
    const va = setValue[k](a);
    const vb = setValue[k](b);
    return va !== undefined && vb !== undefined && va !== vb;
  });
}

/** Where the two advertisements can produce one prefix, as words ("IPAddressPool "p" at /32"), or undefined. */
function commonPrefix(a: BgpAdvertisement, b: BgpAdvertisement, pools: ReadonlyMap<string, ResolvedPool>): string | undefined {
  for (const family of [4, 6] as const satisfies readonly Family[]) {
    const len = family === 4 ? a.aggregationLength : a.aggregationLengthV6;
    if (len !== (family === 4 ? b.aggregationLength : b.aggregationLengthV6)) continue;
    const shift = BigInt(familyBits(family) - len);
    const blocks = (ad: BgpAdvertisement) => ad.pools.flatMap((name) => (pools.get(name)?.addresses ?? [])
      .filter((x) => x.range.family === family).map((x) => ({ name, from: x.range.first >> shift, to: x.range.last >> shift })));
    const bb = blocks(b);
    for (const x of blocks(a)) {
      const y = bb.find((z) => z.from <= x.to && x.from <= z.to);
      if (y) return x.name === y.name ? `IPAddressPool "${x.name}" at /${len}` : `IPAddressPools "${x.name}" and "${y.name}" (both within one /${len})`;
    }
  }
  return undefined;
}

const names = (peers: readonly ResolvedPeer[]): string => peers.map((p) => p.peer.name).join(', ');
const values = (attr: Attribute, a: BgpAdvertisement): string => `${attr} ${setValue[attr](a) ?? (attr === 'localPref' ? '0 (unset)' : 'unset')}`;

export function checkAttributeConflicts(
  report: Report,
  ads: ReadonlyMap<string, ResolvedBgpAdvertisement>,
  peers: ReadonlyMap<string, ResolvedPeer>,
  pools: ReadonlyMap<string, ResolvedPool>,
): void {
  const list = [...ads.values()];
  const allPeers = [...peers.values()];
  // Per advertisement, the peers it can send to: named (or all), on a node both can select.
  const reach = list.map((r) => new Set(allPeers.filter((p) => (r.ad.peers === undefined || r.ad.peers.includes(p.peer.name)) &&
    selectorListsIntersect(p.peer.nodeSelectors, r.ad.nodeSelectors))));
  for (let j = 1; j < list.length; j++) {
    const rb = list[j]!;
    const b = rb.ad;
    for (let i = 0; i < j; i++) {
      const ra = list[i]!;
      const a = ra.ad;
      // MetalLB's rule without peers counts an unset localPref (0) as a value.
      const noPeers = allPeers.length === 0;
      const attrs = differing(a, b);
      if (noPeers && a.localPref !== b.localPref && !attrs.includes('localPref')) attrs.unshift('localPref');
      if (attrs.length === 0 || !selectorListsIntersect(a.nodeSelectors, b.nodeSelectors)) continue;
      // Cheapest first: peers both reach, then whether their pools and lengths make one prefix.
      const reachB = reach[j]!;
      const bothReach = [...reach[i]!].filter((p) => reachB.has(p));
      if (!noPeers && bothReach.length === 0) continue;
      const where = commonPrefix(a, b, pools);
      if (where === undefined) continue;
      const nodes = `from nodes that can overlap (${selectorsText(a.nodeSelectors)} vs ${selectorsText(b.nodeSelectors)})`;
      const byServices = a.serviceSelectors.length > 0 || b.serviceSelectors.length > 0;
      if (byServices && !selectorListsIntersect(a.serviceSelectors, b.serviceSelectors)) continue;
      for (const attr of attrs) {
        const ebgpOnly = attr === 'localPref' && !noPeers && bothReach.every((p) => sessionIsEbgp(p.peer));
        const affected = attr === 'localPref' && !noPeers ? bothReach.filter((p) => !sessionIsEbgp(p.peer)) : bothReach;
        const head = `${values(attr, b)} differs from ${values(attr, a)} of ${describe(ra.lo)}: both send the same routes (${where}) `;
        if (ebgpOnly) {
          report.warn(rb.lo, ['spec', attr], `${head}to ${bothReach.length === 1 ? 'peer' : 'peers'} ${names(bothReach)}, ` +
            `which ${bothReach.length === 1 ? 'is' : 'are'} eBGP: LOCAL_PREF is not sent there, so the difference has no effect ` +
            '(on an iBGP peer it would be an error); the other attributes of both apply');
        } else if (byServices) {
          report.warn(rb.lo, ['spec', attr], `${head}to ${affected.length === 1 ? 'peer' : 'peers'} ${names(affected)} ${nodes} for Services matching the ` +
            `serviceSelectors of both (${selectorsText(a.serviceSelectors, 'every Service')} vs ${selectorsText(b.serviceSelectors, 'every Service')}): ` +
            `a route carries one ${wireName[attr]}, so the speaker will not send such a Service's IP to ${affected.length === 1 ? 'that peer' : 'those peers'}`);
        } else {
          const to = noPeers ? 'to every peer (no BGPPeer is defined yet, so MetalLB\'s rule applies: any localPref difference, 0 included)'
            : `to ${attr === 'localPref' ? 'iBGP ' : ''}${affected.length === 1 ? 'peer' : 'peers'} ${names(affected)}`;
          const unset = noPeers && attr === 'localPref' ? '' : 'leave it unset on one of them (the set value then applies), ';
          report.error(rb.lo, ['spec', attr], `${head}${to} ${nodes}; a route carries one ${wireName[attr]}: use the same ${attr}, ` +
            `${unset}or separate them by aggregation length, peers, nodes or serviceSelectors`);
        }
      }
    }
  }
}
