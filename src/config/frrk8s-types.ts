// FRRConfiguration (frr-k8s) after checking: addresses and prefixes parsed, durations in ms, the
// object's own BFD profiles resolved. What speaker/frrk8s-merge.ts merges per node with ironlb's
// own sessions.
import type { IpAddress } from '../net/ip.ts';
import type { Community } from '../net/community.ts';
import type { Prefix } from '../net/prefix.ts';
import type { Selector } from '../net/selector.ts';
import type { BfdProfile, PeerPassword } from './types.ts';

export type AllowMode = 'all' | 'filtered';

/** A prefix-list entry: `prefix` itself, or with le/ge the prefixes inside it of those lengths. */
export interface PrefixFilter {
  readonly prefix: Prefix;
  readonly le?: number;
  readonly ge?: number;
}

export interface ReceivePolicy {
  /** all: every route the peer sends; filtered: those matching `prefixes` (none: nothing). */
  readonly mode: AllowMode;
  readonly prefixes: readonly PrefixFilter[];
}

export interface AdvertisePolicy {
  /** all: every prefix of the router; filtered: `prefixes` only. */
  readonly mode: AllowMode;
  readonly prefixes: readonly Prefix[];
  readonly localPrefs: readonly { readonly prefix: Prefix; readonly localPref: number }[];
  readonly communities: readonly { readonly prefix: Prefix; readonly community: Community }[];
}

export interface FrrNeighbor {
  /** How neighbours are merged: `vrf|address` or `vrf|interface`. */
  readonly key: string;
  readonly address?: IpAddress;
  readonly interface?: string;
  readonly asn?: number;
  readonly dynamicAsn?: 'internal' | 'external';
  readonly localAsn?: number;
  /** Undefined: 179. */
  readonly port?: number;
  readonly sourceAddress?: IpAddress;
  readonly password?: PeerPassword;
  readonly holdTimeMs?: number;
  readonly keepaliveTimeMs?: number;
  readonly connectTimeMs?: number;
  readonly ebgpMultiHop: boolean;
  /** The name of a profile in the same object's bfdProfiles. */
  readonly bfdProfile?: string;
  readonly gracefulRestart: boolean;
  readonly dualStackAddressFamily: boolean;
  readonly toAdvertise: AdvertisePolicy;
  readonly toReceive: ReceivePolicy;
  /** Index in the router's neighbors, for messages. */
  readonly index: number;
}

export interface FrrRouter {
  readonly asn: number;
  readonly routerId?: IpAddress;
  /** '' = the default VRF. */
  readonly vrf: string;
  readonly prefixes: readonly Prefix[];
  readonly neighbors: readonly FrrNeighbor[];
  readonly index: number;
}

export interface FrrConfiguration {
  readonly namespace: string;
  readonly name: string;
  /** `namespace/name`. */
  readonly id: string;
  readonly nodeSelector: Selector;
  readonly routers: readonly FrrRouter[];
  readonly bfdProfiles: readonly BfdProfile[];
}
