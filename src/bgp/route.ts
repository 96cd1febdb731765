// What the speaker is asked to announce: a prefix and the attributes configuration gives it.
// bgp/ knows nothing about Services; this is its whole input vocabulary.
import type { Community } from '../net/community.ts';
import type { Prefix } from '../net/prefix.ts';

export interface RouteAttributes {
  /** Sent only on iBGP sessions (as MetalLB does). */
  readonly localPref?: number;
  /** MULTI_EXIT_DISC, sent when set. */
  readonly med?: number;
  /** Standard and large communities; order and duplicates do not matter. */
  readonly communities: readonly Community[];
  /** Prepend `asn` (default: our own ASN) `count` times in front of the AS_PATH. */
  readonly asPrepend?: { readonly count: number; readonly asn?: number };
}

export interface Route {
  readonly prefix: Prefix;
  readonly attributes: RouteAttributes;
}
