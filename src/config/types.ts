// The resolved configuration: one immutable value built from all valid resources. References are
// resolved, selectors compiled, addresses parsed, durations in milliseconds. Two equal inputs give
// structurally equal values (arrays sorted by name), so `configEquals` tells a no-op from a change.
import type { Community } from '../net/community.ts';
import type { Family, IpAddress } from '../net/ip.ts';
import type { IpRange, Prefix } from '../net/prefix.ts';
import type { Labels, Selector } from '../net/selector.ts';

export interface ServiceAllocation {
  /** 0 = no priority (tried after every positive priority); lower positive values first. */
  readonly priority: number;
  /** Namespaces named explicitly plus those matched by namespaceSelectors at resolve time. */
  readonly namespaces: readonly string[];
  readonly namespaceSelectors: readonly Selector[];
  readonly serviceSelectors: readonly Selector[];
}

export interface Pool {
  readonly name: string;
  readonly labels: Labels;
  /** The pool's addresses as written, each a CIDR or a range, in the order given. */
  readonly ranges: readonly IpRange[];
  /** The same addresses as minimal CIDRs (ranges summarized), in the order given. */
  readonly cidrs: readonly Prefix[];
  readonly autoAssign: boolean;
  readonly avoidBuggyIPs: boolean;
  readonly serviceAllocation?: ServiceAllocation;
}

export type PeerPassword =
  | { readonly source: 'inline'; readonly value: string }
  | { readonly source: 'secret'; readonly secretNamespace: string; readonly secretName: string; readonly value: string };

export interface GracefulRestart {
  readonly enabled: boolean;
  /** The restart time to advertise in the capability (RFC 4724), default 120 s. */
  readonly restartTimeMs: number;
}

export interface Peer {
  readonly name: string;
  readonly namespace: string;
  readonly myAsn: number;
  /** Undefined only with dynamicAsn. */
  readonly peerAsn?: number;
  readonly dynamicAsn?: 'internal' | 'external';
  readonly localAsn?: number;
  /** Undefined only for unnumbered peers (`interface`). */
  readonly address?: IpAddress;
  readonly interface?: string;
  readonly port: number;
  readonly sourceAddress?: IpAddress;
  /** Undefined when neither holdTime nor keepaliveTime was given (backend default applies). */
  readonly holdTimeMs?: number;
  readonly keepaliveTimeMs?: number;
  readonly connectTimeMs?: number;
  readonly routerId?: IpAddress;
  /** Empty means every node. */
  readonly nodeSelectors: readonly Selector[];
  readonly password?: PeerPassword;
  readonly bfdProfile?: string;
  readonly gracefulRestart: GracefulRestart;
  readonly ebgpMultiHop: boolean;
  readonly vrf: string;
  readonly disableMP: boolean;
  readonly dualStackAddressFamily: boolean;
}

export interface AsPrepend {
  readonly count: number;
  /** Undefined: prepend the session's own ASN. */
  readonly asn?: number;
}

export interface BgpAdvertisement {
  readonly name: string;
  readonly aggregationLength: number;
  readonly aggregationLengthV6: number;
  /** 0 = not set. */
  readonly localPref: number;
  /** Aliases resolved, sorted, de-duplicated. */
  readonly communities: readonly Community[];
  /** Names of the pools this advertisement applies to (lists and selectors resolved). */
  readonly pools: readonly string[];
  readonly nodeSelectors: readonly Selector[];
  /** Undefined means every peer. */
  readonly peers?: readonly string[];
  readonly serviceSelectors: readonly Selector[];
  readonly asPrepend?: AsPrepend;
  readonly med?: number;
}

export interface PreferredNode {
  readonly weight: number;
  readonly preference: Selector;
}

export interface L2Advertisement {
  readonly name: string;
  readonly pools: readonly string[];
  readonly nodeSelectors: readonly Selector[];
  /** Empty means every interface. */
  readonly interfaces: readonly string[];
  readonly serviceSelectors: readonly Selector[];
  readonly preferredNodeSelectors: readonly PreferredNode[];
}

export interface BfdProfile {
  readonly name: string;
  readonly receiveIntervalMs: number;
  readonly transmitIntervalMs: number;
  readonly detectMultiplier: number;
  readonly echoIntervalMs: number;
  readonly echoMode: boolean;
  readonly passiveMode: boolean;
  readonly minimumTtl: number;
}

export const bfdDefaults = {
  receiveIntervalMs: 300,
  transmitIntervalMs: 300,
  detectMultiplier: 3,
  echoIntervalMs: 50,
  echoMode: false,
  passiveMode: false,
  minimumTtl: 254,
} as const;

export interface Config {
  /** Sorted by name. */
  readonly pools: readonly Pool[];
  readonly peers: readonly Peer[];
  readonly bgpAdvertisements: readonly BgpAdvertisement[];
  readonly l2Advertisements: readonly L2Advertisement[];
  readonly bfdProfiles: readonly BfdProfile[];
}

export const emptyConfig: Config = { pools: [], peers: [], bgpAdvertisements: [], l2Advertisements: [], bfdProfiles: [] };

export type { Family };
