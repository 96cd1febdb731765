// Rules that span kinds once each is resolved: BFD echo mode with IPv6 advertisements (MetalLB's
// validateConfig), and BFD settings that do nothing for the sessions that use them.
import type { ResolvedBfdProfile } from './bfd.ts';
import type { ResolvedBgpAdvertisement } from './bgp-advertisements.ts';
import { type ResolvedPeer, sessionIsEbgp } from './peers.ts';
import type { ResolvedPool } from './pools.ts';
import type { Report } from './report.ts';

/** eBGP without ebgpMultiHop is certainly single-hop (TTL 255, RFC 5881); iBGP may be either. */

const ebgp = (p: ResolvedPeer): boolean => sessionIsEbgp(p.peer);
/** Single-hop: eBGP (a fixed peerASN that differs, or dynamicASN external) without ebgpMultiHop. */
const singleHop = (p: ResolvedPeer): boolean => ebgp(p) && !p.peer.ebgpMultiHop;

export function checkBfdUse(
  report: Report,
  peers: ReadonlyMap<string, ResolvedPeer>,
  profiles: ReadonlyMap<string, ResolvedBfdProfile>,
  ads: ReadonlyMap<string, ResolvedBgpAdvertisement>,
  pools: ReadonlyMap<string, ResolvedPool>,
): void {
  for (const p of peers.values()) {
    const profile = p.peer.bfdProfile !== undefined ? profiles.get(p.peer.bfdProfile) : undefined;
    if (!profile) continue;
    if (profile.profile.echoMode) {
      const v6 = [...ads.values()].find((a) => (a.ad.peers === undefined || a.ad.peers.includes(p.peer.name)) &&
        a.ad.pools.some((n) => pools.get(n)?.addresses.some((x) => x.range.family === 6)));
      if (v6) {
        const pool = v6.ad.pools.find((n) => pools.get(n)?.addresses.some((x) => x.range.family === 6))!;
        report.error(p.lo, ['spec', 'bfdProfile'], `BFD profile "${profile.profile.name}" has echoMode, which cannot be used by a peer receiving IPv6 advertisements, and BGPAdvertisement "${v6.ad.name}" announces IPv6 pool "${pool}" to this peer; use a profile without echoMode`);
      }
      // Echo packets loop back through the neighbour's forwarding plane: one hop only (FRR's rule, frr-k8s's CRD says so).
      if (p.peer.ebgpMultiHop) report.warn(p.lo, ['spec', 'bfdProfile'], `BFD profile "${profile.profile.name}" has echoMode, which works on single-hop sessions only, and this peer has ebgpMultiHop: its BFD session runs without echo`);
    }
    if (profile.minimumTtlSet && singleHop(p)) {
      report.warn(profile.lo, ['spec', 'minimumTtl'], `minimumTtl ${profile.profile.minimumTtl} applies to multi-hop BFD sessions only; BGPPeer "${p.peer.name}" is single-hop (eBGP without ebgpMultiHop), where packets must arrive with TTL 255 (RFC 5881), so it is ignored there`);
    }
  }
}


/** LOCAL_PREF is an iBGP attribute (RFC 4271 §5.1.5): on eBGP sessions it is never sent. */
export function checkLocalPrefReach(report: Report, ads: ReadonlyMap<string, ResolvedBgpAdvertisement>, peers: ReadonlyMap<string, ResolvedPeer>): void {
  for (const a of ads.values()) {
    if (a.ad.localPref === 0) continue;
    const targets = a.ad.peers ? a.ad.peers.map((n) => peers.get(n)).filter((p) => p !== undefined) : [...peers.values()];
    if (targets.length === 0 || !targets.every(ebgp)) continue;
    report.warn(a.lo, ['spec', 'localPref'], `localPref ${a.ad.localPref} has no effect: LOCAL_PREF is sent to iBGP peers only, and every peer this advertisement reaches (${targets.map((p) => p.peer.name).join(', ')}) is eBGP`);
  }
}

/** A source address exists on one node; a peer for every node can only bind it there. */
export function checkSourceAddressReach(report: Report, peers: ReadonlyMap<string, ResolvedPeer>): void {
  for (const p of peers.values()) {
    if (!p.peer.sourceAddress || p.peer.nodeSelectors.length > 0) continue;
    report.warn(p.lo, ['spec', 'sourceAddress'], `sourceAddress ${p.lo.object.spec.sourceAddress} on a peer for every node: only a node that holds this address can open the session, the others will fail to bind it; give the peer nodeSelectors that pick that node`);
  }
}

/** The families a session carries: its own, or both with dualStackAddressFamily or unnumbered. */
const carries = (p: ResolvedPeer, family: 4 | 6): boolean =>
  p.peer.dualStackAddressFamily || p.peer.address === undefined || p.peer.address.family === family;

/** An advertisement whose pools hold a family none of its peers' sessions carry announces none of it. */
export function checkFamilyReach(
  report: Report,
  ads: ReadonlyMap<string, ResolvedBgpAdvertisement>,
  peers: ReadonlyMap<string, ResolvedPeer>,
  pools: ReadonlyMap<string, ResolvedPool>,
): void {
  for (const a of ads.values()) {
    const targets = a.ad.peers ? a.ad.peers.map((n) => peers.get(n)).filter((p) => p !== undefined) : [...peers.values()];
    if (targets.length === 0) continue;
    for (const family of [4, 6] as const) {
      const holding = a.ad.pools.filter((n) => pools.get(n)?.addresses.some((x) => x.range.family === family));
      if (holding.length === 0 || targets.some((p) => carries(p, family))) continue;
      report.warn(a.lo, ['spec', a.ad.peers ? 'peers' : 'ipAddressPools'],
        `the IPv${family} addresses of ${holding.map((n) => `"${n}"`).join(', ')} will not be announced: no peer this advertisement reaches ` +
        `(${targets.map((p) => p.peer.name).join(', ')}) has an IPv${family} session, and none sets dualStackAddressFamily`);
    }
  }
}
