// One peer's Adj-RIB-In: every route the peer sent (before policy), with RFC 7606's verdicts
// applied — an UPDATE found "treat-as-withdraw" withdraws the prefixes it carried, attribute
// discards keep the route (session resets never reach here: the session ends). Routes a peer
// restarting gracefully left behind are kept as stale until it re-sends them or the stale timer
// runs out (RFC 4724 §4.2). Returns the prefixes whose state changed, for the decision process.
import { AsPathSegmentType, type PathAttributes } from './attributes.ts';
import type { CandidatePath } from './best-path.ts';
import type { DecodedUpdate } from './update.ts';
import type { Family, IpAddress } from '../net/ip.ts';
import type { Prefix } from '../net/prefix.ts';

export interface PeerFacts {
  readonly peerId: string;
  readonly ebgp: boolean;
  readonly routerId: number;
  readonly peerAddress: IpAddress;
}

export interface ReceivedRoute {
  readonly prefix: Prefix;
  readonly nextHop: IpAddress;
  readonly attributes: PathAttributes;
  stale: boolean;
}

export const ribKey = (p: Prefix): string => `${p.family}/${p.network.toString(16)}/${p.length}`;

export function asPathLength(a: PathAttributes): number {
  let n = 0;
  for (const s of a.asPath ?? []) {
    if (s.type === AsPathSegmentType.Sequence) n += s.asns.length;
    else if (s.type === AsPathSegmentType.Set) n += 1;
  }
  return n;
}

export class RibIn {
  readonly routes = new Map<string, ReceivedRoute>();
  readonly endOfRib = new Set<Family>();
  /** UPDATEs treated as withdraw (RFC 7606), for status. */
  treatedAsWithdraw = 0;

  constructor(public facts: PeerFacts) {}

  /** Applies one UPDATE; returns the keys of the prefixes it changed. */
  apply(u: DecodedUpdate): string[] {
    const changed: string[] = [];
    if (u.endOfRib) {
      this.endOfRib.add(u.endOfRib);
      // The peer has re-sent its table for that family: what is still stale is gone (§4.2).
      for (const [k, r] of this.routes) if (r.stale && r.prefix.family === u.endOfRib) { this.routes.delete(k); changed.push(k); }
      return changed;
    }
    const withdraw = (p: Prefix) => { const k = ribKey(p); if (this.routes.delete(k)) changed.push(k); };
    for (const w of u.withdrawn) withdraw(w.prefix);
    for (const w of u.attributes.mpUnreach?.withdrawn ?? []) withdraw(w.prefix);
    const reach = u.attributes.mpReach;
    if (u.problems.some((p) => p.action === 'treat-as-withdraw' || p.action === 'session-reset')) {
      this.treatedAsWithdraw++;
      for (const n of u.nlri) withdraw(n.prefix);
      for (const n of reach?.nlri ?? []) withdraw(n.prefix);
      return changed;
    }
    const { mpReach: _r, mpUnreach: _u, ...rest } = u.attributes;
    const add = (p: Prefix, nextHop: IpAddress | undefined) => {
      if (!nextHop) return;
      const k = ribKey(p);
      this.routes.set(k, { prefix: p, nextHop, attributes: rest, stale: false });
      changed.push(k);
    };
    for (const n of u.nlri) add(n.prefix, u.attributes.nextHop);
    // The global next hop (RFC 2545: a link-local second one needs the interface, not used here).
    for (const n of reach?.nlri ?? []) add(n.prefix, reach!.nextHops[0]);
    return changed;
  }

  /** The session went down with graceful restart: keep everything, as stale. */
  markStale(): void {
    for (const r of this.routes.values()) r.stale = true;
    this.endOfRib.clear();
  }

  /** Drops stale routes (stale timer out) or everything (session lost without GR, peer removed). */
  drop(onlyStale: boolean): string[] {
    const changed: string[] = [];
    for (const [k, r] of this.routes) if (!onlyStale || r.stale) { this.routes.delete(k); changed.push(k); }
    if (!onlyStale) this.endOfRib.clear();
    return changed;
  }

  /** The route for `key` as a candidate for the decision process. */
  candidate(key: string): CandidatePath | undefined {
    const r = this.routes.get(key);
    if (!r) return undefined;
    const a = r.attributes;
    const first = a.asPath?.find((s) => s.type === AsPathSegmentType.Sequence)?.asns[0];
    return {
      peerId: this.facts.peerId, nextHop: r.nextHop,
      ...(!this.facts.ebgp && a.localPref !== undefined ? { localPref: a.localPref } : {}),
      asPathLength: asPathLength(a), ...(first !== undefined ? { neighborAs: first } : {}),
      origin: a.origin ?? 2, ...(a.med !== undefined ? { med: a.med } : {}),
      ebgp: this.facts.ebgp, routerId: a.originatorId ?? this.facts.routerId, peerAddress: this.facts.peerAddress,
      ...(r.stale ? { stale: true } : {}),
    };
  }
}
