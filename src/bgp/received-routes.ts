// A tiny Adj-RIB-In built from decoded UPDATEs. ironlb imports no routes; this exists for tests
// and diagnostics that want to see what a peer (or another ironlb) announced.
import type { Family } from '../net/ip.ts';
import { formatPrefix } from '../net/prefix.ts';
import type { PathAttributes } from './attributes.ts';
import type { DecodedUpdate } from './update.ts';

export class ReceivedRoutes {
  /** Prefix text → attributes (MP_REACH/MP_UNREACH stripped). */
  readonly routes = new Map<string, PathAttributes>();
  readonly endOfRib = new Set<Family>();
  updates = 0;

  apply(u: DecodedUpdate): void {
    this.updates++;
    if (u.endOfRib) { this.endOfRib.add(u.endOfRib); return; }
    if (u.problems.some((p) => p.action !== 'attribute-discard')) return;
    for (const w of u.withdrawn) this.routes.delete(formatPrefix(w.prefix));
    for (const w of u.attributes.mpUnreach?.withdrawn ?? []) this.routes.delete(formatPrefix(w.prefix));
    const { mpReach, mpUnreach: _u, ...rest } = u.attributes;
    for (const n of u.nlri) this.routes.set(formatPrefix(n.prefix), rest);
    if (mpReach) {
      const attrs: PathAttributes = { ...rest, ...(mpReach.nextHops[0] ? { nextHop: mpReach.nextHops[0] } : {}) };
      for (const n of mpReach.nlri) this.routes.set(formatPrefix(n.prefix), attrs);
    }
  }

  clear(): void { this.routes.clear(); this.endOfRib.clear(); }
}
