// What a speaker's status says about BGP per Service: the peers this node sends its IPs to, and
// why the rest is not announced. Shared by the native speaker and `--bgp-backend frr-k8s`.
import type { Config } from '../config/types.ts';
import type { ServicePlan } from './plan-types.ts';

export interface BgpSummary {
  readonly notAnnounced: { service: string; reason: string }[];
  readonly announced: { service: string; peers: string[] }[];
}

/** Pools only layer 2 announces (an L2Advertisement, no BGPAdvertisement): their Services are not BGP's to report. */
export function layer2OnlyPools(config: Config): ReadonlySet<string> {
  const bgpPools = new Set(config.bgpAdvertisements.flatMap((a) => a.pools));
  return new Set(config.l2Advertisements.flatMap((a) => a.pools).filter((p) => !bgpPools.has(p)));
}

export function bgpSummary(plans: Iterable<ServicePlan>, skipPools: ReadonlySet<string>): BgpSummary {
  const notAnnounced: BgpSummary['notAnnounced'] = [];
  const announced: BgpSummary['announced'] = [];
  for (const sp of plans) {
    // A layer-2 Service is not "not announced" by BGP: the layer-2 status says who answers for it.
    if (sp.pool !== undefined && skipPools.has(sp.pool)) continue;
    const to = new Set<string>();
    for (const e of sp.entries) {
      if (e.kind === 'notAnnounced' && sp.ips.length > 0) notAnnounced.push({ service: `${sp.namespace}/${sp.name}`, reason: `${e.reason}: ${e.message}` });
      else if (e.kind === 'announced') for (const peer of e.peers) to.add(peer);
    }
    if (to.size > 0) announced.push({ service: `${sp.namespace}/${sp.name}`, peers: [...to].sort() });
  }
  return { notAnnounced, announced };
}
