// The announcement plan: what this node announces to each of its BGP peers, and for every Service
// why each of its IPs is or is not announced. The daemon feeds `peers` to bgp/; `services` feeds
// `ironlb explain` and status.
import type { Route } from '../bgp/route.ts';
import type { Peer } from '../config/types.ts';
import type { Family } from '../net/ip.ts';
import type { Prefix } from '../net/prefix.ts';

/**
 * Why something is not announced. Names follow MetalLB's withdraw reasons where MetalLB has one
 * (speaker/main.go, speaker/bgp_controller.go); the rest are ironlb's, for finer explanations.
 */
export type NotAnnouncedReason =
  // the Service is not ours to announce
  | 'notLoadBalancer'
  | 'loadBalancerClassMismatch'
  | 'noIPAllocated'
  | 'invalidIP'
  | 'ipNotAllowed'
  // this node does not announce the Service
  | 'nodeNotFound'
  | 'notOwner'
  | 'noMatchingAdvertisement'
  | 'conflictingAdvertisements'
  | 'nodeNetworkUnavailable'
  | 'nodeLabeledExcludeBalancers'
  | 'noLocalEndpoints'
  | 'noEndpoints'
  // this node announces it, but not to a given peer
  | 'noPeers'
  | 'peerNotSelectedByAdvertisement'
  | 'addressFamilyMismatch';

export const notAnnouncedReasons: readonly NotAnnouncedReason[] = [
  'notLoadBalancer', 'loadBalancerClassMismatch', 'noIPAllocated', 'invalidIP', 'ipNotAllowed',
  'nodeNotFound', 'notOwner', 'noMatchingAdvertisement', 'conflictingAdvertisements',
  'nodeNetworkUnavailable', 'nodeLabeledExcludeBalancers', 'noLocalEndpoints', 'noEndpoints',
  'noPeers', 'peerNotSelectedByAdvertisement', 'addressFamilyMismatch',
];

/** An (IP, prefix) of a Service sent to some peers from this node. */
export interface AnnouncedEntry {
  readonly kind: 'announced';
  /** Canonical text of the Service IP. */
  readonly ip: string;
  /** The prefix announced for it: the IP itself, or its aggregate. */
  readonly prefix: Prefix;
  /** Names of the peers that receive the prefix because of this Service, sorted. */
  readonly peers: readonly string[];
  /** Names of the BGPAdvertisements that produced it, sorted. */
  readonly advertisements: readonly string[];
  readonly message: string;
}

/** Something not announced: the whole Service (no `ip`), one IP, or one (IP, prefix) to one peer. */
export interface NotAnnouncedEntry {
  readonly kind: 'notAnnounced';
  readonly ip?: string;
  readonly prefix?: Prefix;
  readonly peer?: string;
  readonly reason: NotAnnouncedReason;
  readonly message: string;
  /** Other Services (namespace/name) sharing this IP for which this node does announce it. */
  readonly ipAnnouncedFor?: readonly string[];
}

export type ServiceEntry = AnnouncedEntry | NotAnnouncedEntry;

export interface ServicePlan {
  readonly namespace: string;
  readonly name: string;
  /** The ingress IPs that parsed, canonical, sorted. */
  readonly ips: readonly string[];
  /** The pool holding all of the Service's IPs, when one does. */
  readonly pool?: string;
  /** Sorted by IP, prefix, announced before not, then peer. */
  readonly entries: readonly ServiceEntry[];
}

export interface PeerPlan {
  readonly peer: Peer;
  /** Address families the session carries (its own, or both with dualStackAddressFamily/unnumbered). */
  readonly families: readonly Family[];
  /** Sorted by prefix; one route per prefix. */
  readonly routes: readonly Route[];
}

export interface NodeState {
  readonly name: string;
  /** False when no Node object of that name was given. */
  readonly found: boolean;
  readonly networkUnavailable: boolean;
  /** Carries the exclude-from-external-load-balancers label and it is not being ignored. */
  readonly excludedFromLoadBalancers: boolean;
}

export interface AnnouncementPlan {
  readonly node: NodeState;
  /** The peers this node has a session with (nodeSelectors match), sorted by name. */
  readonly peers: readonly PeerPlan[];
  /** Configured peers whose nodeSelectors leave this node out, sorted. */
  readonly peersNotOnThisNode: readonly string[];
  /** Every Service given, sorted by namespace then name. */
  readonly services: readonly ServicePlan[];
}
