// planAnnouncements: from the snapshot (Config, Services with their IPs, EndpointSlices, Nodes) and
// this node's name to the routes each of this node's BGP peers gets, with a reason for everything
// left out. Pure and deterministic: input order never changes the result.
//
// MetalLB builds one advertisement per (Service IP, matching BGPAdvertisement): prefix = IP masked
// to aggregationLength(V6), with that advertisement's localPref, communities and peer names; the
// union over all Services goes to every session whose peer name matches, duplicates compacted per
// prefix with communities merged (speaker/bgp_controller.go SetBalancer/publishAds,
// internal/bgp/native Set). ironlb does the same, and where MetalLB would keep one arbitrary value
// (two Services sharing an IP or an aggregate whose advertisements disagree on localPref, med or
// asPrepend for the same peer) it announces nothing for that prefix to that peer and says why.
import type { EndpointSlice, Node, Service } from '../api/resources.ts';
import type { Route, RouteAttributes } from '../bgp/route.ts';
import { sessionIsEbgp } from '../config/peers.ts';
import type { BgpAdvertisement, Config, Peer } from '../config/types.ts';
import { type Family, formatIp, type IpAddress } from '../net/ip.ts';
import { comparePrefix, formatPrefix, type Prefix, prefixOf } from '../net/prefix.ts';
import { anySelectorMatches } from '../net/selector.ts';
import { attributeConflict, routeAttributes } from './conflicts.ts';
import { judgeService, nodeState, type PlanOptions, serviceKey, serviceWideReasons, slicesByService } from './eligibility.ts';
import type { AnnouncementPlan, NotAnnouncedEntry, NotAnnouncedReason, PeerPlan, ServiceEntry, ServicePlan } from './plan-types.ts';

export interface PlanInput {
  readonly config: Config;
  /** Services with status.loadBalancer.ingress holding the IPs the controller assigned. */
  readonly services: readonly Service[];
  readonly endpointSlices: readonly EndpointSlice[];
  /**
   * The EndpointSlices of a Service that has none (standalone: this host serves it), shared by all
   * of them; default none. One per Service cost ~300 bytes each at 50,000 Services.
   */
  readonly standInSlices?: readonly EndpointSlice[];
  readonly nodes: readonly Node[];
  /** This node. */
  readonly nodeName: string;
  readonly options?: PlanOptions;
}

export type { PlanOptions };

export const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
export const quoted = (names: readonly string[]): string => names.map((n) => `"${n}"`).join(', ');
export const familyName = (f: Family): string => (f === 4 ? 'IPv4' : 'IPv6');

/** Families a session carries: its own, or both when dual-stack or unnumbered (MetalLB/FRR rule). */
export function sessionFamilies(peer: Peer): Family[] {
  if (peer.dualStackAddressFamily || peer.interface !== undefined || peer.address === undefined) return [4, 6];
  return [peer.address.family];
}

/** A map key for a prefix, cheaper than its text (formatting BigInt addresses dominates otherwise). */
export const prefixKey = (p: Prefix): string => `${p.family}/${p.network.toString(16)}/${p.length}`;

/** One (Service, IP, prefix): the advertisements that produce this prefix for this IP. */
export interface Candidate {
  readonly svc: string;
  readonly ip: IpAddress;
  readonly ipText: string;
  readonly prefix: Prefix;
  readonly prefixKey: string;
  readonly ads: readonly BgpAdvertisement[];
}

/** One (peer, prefix): the advertisements sending it there, by the Service they serve. */
export interface PrefixSlot {
  readonly prefix: Prefix;
  /** Service key -> names of its advertisements for this prefix and peer. */
  readonly bySvc: Map<string, Set<string>>;
  /** Distinct advertisements, by name. */
  readonly ads: Map<string, BgpAdvertisement>;
  conflict?: string;
}
export interface PeerRefusal { readonly reason: NotAnnouncedReason; readonly message: string }

export function candidatesFor(svc: string, ips: readonly IpAddress[], ads: readonly BgpAdvertisement[]): Candidate[] {
  const out: Candidate[] = [];
  for (const ip of ips) {
    const ipText = formatIp(ip);
    const byPrefix = new Map<string, { prefix: Prefix; ads: BgpAdvertisement[] }>();
    for (const ad of ads) {
      const prefix = prefixOf(ip, ip.family === 4 ? ad.aggregationLength : ad.aggregationLengthV6);
      const key = prefixKey(prefix);
      const slot = byPrefix.get(key);
      if (slot) slot.ads.push(ad); else byPrefix.set(key, { prefix, ads: [ad] });
    }
    const sorted = [...byPrefix.entries()].sort((a, b) => comparePrefix(a[1].prefix, b[1].prefix));
    for (const [prefixKey, { prefix, ads: list }] of sorted) out.push({ svc, ip, ipText, prefix, prefixKey, ads: list });
  }
  return out;
}

/** Distinct advertisements of a slot, sorted by name. */
export const distinctAds = (slot: PrefixSlot): BgpAdvertisement[] => [...slot.ads.values()].sort((a, b) => byText(a.name, b.name));

export function slotConflict(slot: PrefixSlot, peer: Peer): string | undefined {
  const c = attributeConflict(distinctAds(slot), sessionIsEbgp(peer));
  if (c === undefined) return undefined;
  const users = (ad: BgpAdvertisement): string =>
    [...slot.bySvc.entries()].filter(([, names]) => names.has(ad.name)).map(([svc]) => svc).sort(byText).join(', ');
  return `BGPAdvertisements "${c.first.name}" (for ${users(c.first)}) and "${c.second.name}" (for ${users(c.second)}) would send ` +
    `${formatPrefix(slot.prefix)} to ${c.attribute === 'localPref' ? 'iBGP ' : ''}peer "${peer.name}" with different values (${c.values}); ` +
    'a route carries one value, so it is not sent to that peer';
}

export function planAnnouncements(input: PlanInput): AnnouncementPlan {
  const options = input.options ?? {};
  const nodeObj = input.nodes.find((n) => n.metadata.name === input.nodeName);
  const nodeLabels = nodeObj?.metadata.labels ?? {};
  const node = nodeState(input.nodeName, nodeObj, options);

  const allPeers = [...input.config.peers].sort((a, b) => byText(a.name, b.name));
  const sessionPeers = allPeers.filter((p) => anySelectorMatches(p.nodeSelectors, nodeLabels));
  const peersNotOnThisNode = allPeers.filter((p) => !sessionPeers.includes(p)).map((p) => p.name);

  const slices = slicesByService(input.endpointSlices);
  const services = [...input.services].sort((a, b) =>
    byText(a.metadata.namespace ?? 'default', b.metadata.namespace ?? 'default') || byText(a.metadata.name ?? '', b.metadata.name ?? ''));

  // 1. Which Services this node announces, and the (IP, prefix) candidates of each.
  const judged = services.map((svc) => {
    const key = serviceKey(svc.metadata.namespace ?? 'default', svc.metadata.name ?? '');
    const verdict = judgeService(svc, { config: input.config, node, nodeLabels, slices: slices.get(key) ?? input.standInSlices ?? [], options });
    const ads = verdict.announce ? [...verdict.ads].sort((a, b) => byText(a.name, b.name)) : [];
    return { svc, key, verdict, candidates: verdict.announce ? candidatesFor(key, verdict.ips, ads) : [] };
  });

  // 2. Per peer, per prefix: every (Service, advertisement) that sends it there; or why not.
  const table = new Map<string, Map<string, PrefixSlot>>(sessionPeers.map((p) => [p.name, new Map()]));
  const refusals = new Map<string, PeerRefusal>();
  const refusalKey = (c: Candidate, peer: string): string => `${c.svc}|${c.ipText}|${c.prefixKey}|${peer}`;
  for (const { candidates } of judged) {
    for (const c of candidates) {
      for (const peer of sessionPeers) {
        const ads = c.ads.filter((a) => (a.peers ?? []).length === 0 || a.peers!.includes(peer.name));
        if (ads.length === 0) {
          refusals.set(refusalKey(c, peer.name), {
            reason: 'peerNotSelectedByAdvertisement',
            message: `the peers list of BGPAdvertisement${c.ads.length > 1 ? 's' : ''} ${quoted(c.ads.map((a) => a.name))} does not name peer "${peer.name}"`,
          });
          continue;
        }
        const families = sessionFamilies(peer);
        if (!families.includes(c.prefix.family)) {
          refusals.set(refusalKey(c, peer.name), {
            reason: 'addressFamilyMismatch',
            message: `the session with peer "${peer.name}" carries ${familyName(families[0]!)} only and ${formatPrefix(c.prefix)} is ` +
              `${familyName(c.prefix.family)} (dualStackAddressFamily would carry both)`,
          });
          continue;
        }
        const slots = table.get(peer.name)!;
        let slot = slots.get(c.prefixKey);
        if (!slot) { slot = { prefix: c.prefix, bySvc: new Map(), ads: new Map() }; slots.set(c.prefixKey, slot); }
        let names = slot.bySvc.get(c.svc);
        if (!names) { names = new Set(); slot.bySvc.set(c.svc, names); }
        for (const ad of ads) { names.add(ad.name); slot.ads.set(ad.name, ad); }
      }
    }
  }

  // 3. Routes: one per (peer, prefix), communities merged; disagreeing single values refuse it.
  const attributesBySet = new Map<string, RouteAttributes>(); // most prefixes share an advertisement set
  const peers: PeerPlan[] = sessionPeers.map((peer) => {
    const routes: Route[] = [];
    for (const slot of table.get(peer.name)!.values()) {
      const setKey = `${sessionIsEbgp(peer) ? 'e' : 'i'}\u0000${[...slot.ads.keys()].sort(byText).join('\u0000')}`;
      let attributes = attributesBySet.get(setKey);
      if (attributes === undefined) {
        const conflict = slotConflict(slot, peer);
        if (conflict) { slot.conflict = conflict; continue; }
        attributes = routeAttributes(distinctAds(slot), sessionIsEbgp(peer));
        attributesBySet.set(setKey, attributes);
      }
      routes.push({ prefix: slot.prefix, attributes });
    }
    routes.sort((a, b) => comparePrefix(a.prefix, b.prefix));
    return { peer, families: sessionFamilies(peer), routes };
  });

  // 4. Per Service: what went where, and why the rest did not.
  const announcedIps = new Map<string, Set<string>>(); // IP text -> Services announcing it here
  const entriesBySvc = new Map<string, ServiceEntry[]>();
  for (const { key, candidates } of judged) {
    const entries: ServiceEntry[] = [];
    for (const c of candidates) {
      const ip = c.ipText;
      const to: string[] = [];
      const used = new Set<string>();
      const refused: NotAnnouncedEntry[] = [];
      for (const peer of sessionPeers) {
        const slot = table.get(peer.name)!.get(c.prefixKey);
        const mine = slot?.bySvc.get(key);
        if (slot && mine && slot.conflict === undefined) {
          to.push(peer.name);
          for (const name of mine) used.add(name);
          continue;
        }
        const why: PeerRefusal = slot?.conflict !== undefined && mine
          ? { reason: 'conflictingAdvertisements', message: slot.conflict }
          : refusals.get(refusalKey(c, peer.name))!;
        refused.push({ kind: 'notAnnounced', ip, prefix: c.prefix, peer: peer.name, ...why });
      }
      if (to.length > 0) {
        const ads = [...used].sort(byText);
        entries.push({
          kind: 'announced', ip, prefix: c.prefix, peers: to, advertisements: ads,
          message: `announced as ${formatPrefix(c.prefix)} to peer${to.length > 1 ? 's' : ''} ${quoted(to)} (BGPAdvertisement${ads.length > 1 ? 's' : ''} ${quoted(ads)})`,
        });
        const set = announcedIps.get(ip) ?? new Set<string>();
        set.add(key);
        announcedIps.set(ip, set);
      }
      if (sessionPeers.length === 0) {
        refused.push({
          kind: 'notAnnounced', ip, prefix: c.prefix, reason: 'noPeers',
          message: `node "${node.name}" has no BGP peer: no BGPPeer's nodeSelectors match it`,
        });
      }
      entries.push(...refused);
    }
    entriesBySvc.set(key, entries);
  }

  const servicePlans: ServicePlan[] = judged.map(({ svc, key, verdict }) => {
    const namespace = svc.metadata.namespace ?? 'default';
    const name = svc.metadata.name ?? '';
    const ips = verdict.ips.map(formatIp);
    let entries = entriesBySvc.get(key) ?? [];
    if (!verdict.announce) {
      const { reason, message } = verdict;
      entries = serviceWideReasons.has(reason) || ips.length === 0
        ? [{ kind: 'notAnnounced', reason, message }]
        : ips.map((ip): NotAnnouncedEntry => {
          // With a shared IP, another Service on it may still have this node announce it.
          const others = [...(announcedIps.get(ip) ?? [])].filter((s) => s !== key).sort(byText);
          return others.length > 0
            ? { kind: 'notAnnounced', ip, reason, message: `${message}; the IP is announced anyway for ${others.join(', ')}, which shares it`, ipAnnouncedFor: others }
            : { kind: 'notAnnounced', ip, reason, message };
        });
    }
    return { namespace, name, ips, ...(verdict.pool ? { pool: verdict.pool.name } : {}), entries };
  });

  return { node, peers, peersNotOnThisNode, services: servicePlans };
}
