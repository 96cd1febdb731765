// What a speaker's status says about BGP per Service: the peers this node sends its IPs to, and
// why the rest is not announced. Shared by the native speaker and `--bgp-backend frr-k8s`.
import type { Config } from '../config/types.ts';
import type { NotAnnouncedEntry, ServicePlan } from './plan-types.ts';

export interface BgpSummary {
  readonly notAnnounced: { service: string; reason: string }[];
  readonly announced: { service: string; peers: readonly string[] }[];
  /**
   * Services this node announces over BGP that no peer takes: no session on this node, or the
   * advertisements name other peers or the other address family. MetalLB counts them as announced
   * from this node (its `nodeAssigned` Event), as `announced` ones.
   */
  readonly announcedToNoPeer: string[];
}

/** Reasons that leave the Service announced from this node, only not to a given peer. */
const peerLevel = new Set<string>(['noPeers', 'peerNotSelectedByAdvertisement', 'addressFamilyMismatch']);

/** Pools only layer 2 announces (an L2Advertisement, no BGPAdvertisement): their Services are not BGP's to report. */
export function layer2OnlyPools(config: Config): ReadonlySet<string> {
  const bgpPools = new Set(config.bgpAdvertisements.flatMap((a) => a.pools));
  return new Set(config.l2Advertisements.flatMap((a) => a.pools).filter((p) => !bgpPools.has(p)));
}

/** What status needs of one Service (IncrementalPlan.summaries() gives these without building plans). */
export interface ServiceSummary {
  /** namespace/name */
  readonly key: string;
  readonly ips: readonly string[];
  /** The pool holding all of its IPs, as in its ServicePlan. */
  readonly pool?: string;
  /** The peers it is announced to, sorted. */
  readonly peers: readonly string[];
  readonly notAnnounced: readonly NotAnnouncedEntry[];
}

export function summaryOf(sp: ServicePlan): ServiceSummary {
  const to = new Set<string>();
  const notAnnounced: NotAnnouncedEntry[] = [];
  for (const e of sp.entries) {
    if (e.kind === 'announced') for (const p of e.peers) to.add(p);
    else notAnnounced.push(e);
  }
  return { key: `${sp.namespace}/${sp.name}`, ips: sp.ips, ...(sp.pool !== undefined ? { pool: sp.pool } : {}), peers: [...to].sort(), notAnnounced };
}

export function bgpSummary(plans: Iterable<ServicePlan>, skipPools: ReadonlySet<string>): BgpSummary {
  return bgpSummaryOf((function* () { for (const sp of plans) yield summaryOf(sp); })(), skipPools);
}

/** What the status says of one Service over BGP: the peers it goes to, and why not (`reason: message`). */
export interface BgpEntries {
  readonly peers: readonly string[];
  readonly notAnnounced: readonly string[];
  /** Announced from this node but taken by no peer (see BgpSummary.announcedToNoPeer). */
  readonly toNoPeer?: boolean;
}

const noEntries: BgpEntries = { peers: [], notAnnounced: [] };

/** One Service's part of bgpSummaryOf (a Service gone, or absent, has none). */
export function bgpEntriesOf(s: ServiceSummary | undefined, skipPools: ReadonlySet<string>): BgpEntries {
  // A layer-2 Service is not "not announced" by BGP: the layer-2 status says who answers for it.
  if (s === undefined || (s.pool !== undefined && skipPools.has(s.pool))) return noEntries;
  const notAnnounced = s.ips.length > 0 ? s.notAnnounced.map((e) => `${e.reason}: ${e.message}`) : [];
  const toNoPeer = s.peers.length === 0 && s.ips.length > 0 && s.notAnnounced.some((e) => peerLevel.has(e.reason));
  return notAnnounced.length === 0 && s.peers.length === 0 ? noEntries : { peers: s.peers, notAnnounced, ...(toNoPeer ? { toNoPeer } : {}) };
}

export function bgpSummaryOf(summaries: Iterable<ServiceSummary>, skipPools: ReadonlySet<string>): BgpSummary {
  const notAnnounced: BgpSummary['notAnnounced'] = [];
  const announced: BgpSummary['announced'] = [];
  const announcedToNoPeer: string[] = [];
  for (const s of summaries) {
    const e = bgpEntriesOf(s, skipPools);
    for (const reason of e.notAnnounced) notAnnounced.push({ service: s.key, reason });
    if (e.peers.length > 0) announced.push({ service: s.key, peers: e.peers });
    else if (e.toNoPeer === true) announcedToNoPeer.push(s.key);
  }
  return { notAnnounced, announced, announcedToNoPeer };
}
