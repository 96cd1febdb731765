// Which of our UPDATEs a peer refused. A peer answers the first UPDATE it cannot accept with
// NOTIFICATION 3/x and reads no further; it often sends no data (OpenBGPD's and FRR's 3/11 for
// the first AS carry none), so the culprit is pinned down only when the data (an attribute's
// TLV) occurs in one of the UPDATEs last sent. Otherwise every attribute set of those UPDATEs is
// a suspect, listed in the order sent. The caller maps the prefixes back to what announced them.
import { formatIp } from '../net/ip.ts';
import { formatPrefix } from '../net/prefix.ts';
import type { DecodeContext, PathAttributes } from './attributes.ts';
import { reconcileAs4 } from './as4-path.ts';
import { type NotificationMessage, notificationText } from './notification.ts';
import { decodeUpdate } from './update.ts';

/** One attribute set of the refused UPDATE(s), with its prefixes. */
export interface RefusedAttributeSet {
  /** e.g. "as-path 64500 65099 65099, next-hop 192.0.2.1, med 5". */
  readonly attributes: string;
  /** At most MAX_PREFIXES of them. */
  readonly prefixes: readonly string[];
  readonly prefixCount: number;
}

export interface RefusedUpdate {
  /** The NOTIFICATION the peer sent, as text. */
  readonly notification: string;
  /** true: the NOTIFICATION's data occurs in exactly this UPDATE; false: suspects, in send order. */
  readonly certain: boolean;
  readonly sets: readonly RefusedAttributeSet[];
}

const MAX_PREFIXES = 20;
const MAX_SETS = 8;

/** Human-readable attributes, in the order a router's `show` lists them. */
export function describeAttributes(a: PathAttributes): string {
  const parts: string[] = [];
  const path = (a.asPath ?? []).map((s) => (s.type === 1 ? `{${s.asns.join(',')}}` : s.asns.join(' '))).join(' ');
  parts.push(`as-path ${path === '' ? '(empty)' : path}`);
  const nh = a.nextHop ?? a.mpReach?.nextHops[0];
  if (nh) parts.push(`next-hop ${formatIp(nh)}`);
  if (a.med !== undefined) parts.push(`med ${a.med}`);
  if (a.localPref !== undefined) parts.push(`local-pref ${a.localPref}`);
  if (a.communities?.length) parts.push(`communities ${a.communities.map((c) => `${c >>> 16}:${c & 0xffff}`).join(' ')}`);
  if (a.largeCommunities?.length) parts.push(`large-communities ${a.largeCommunities.map((c) => `${c.global}:${c.local1}:${c.local2}`).join(' ')}`);
  return parts.join(', ');
}

/** Splits concatenated messages into UPDATE bodies (other types skipped). */
function* updateBodies(batch: Buffer): Generator<Buffer> {
  for (let p = 0; p + 19 <= batch.length;) {
    const len = batch.readUInt16BE(p + 16);
    if (len < 19 || p + len > batch.length) return;
    if (batch[p + 18] === 2) yield batch.subarray(p + 19, p + len);
    p += len;
  }
}

/**
 * The UPDATE(s) a NOTIFICATION 3/x answered, from the batches last written (oldest first);
 * undefined when none of them announced anything.
 */
export function findRefusedUpdate(batches: readonly Buffer[], n: NotificationMessage, ctx: DecodeContext): RefusedUpdate | undefined {
  const sets = new Map<string, { prefixes: string[]; count: number }>();
  let certain = false;
  const add = (body: Buffer): void => {
    let u;
    try { u = decodeUpdate(body, ctx); } catch { return; }
    const prefixes = [...u.nlri, ...(u.attributes.mpReach?.nlri ?? [])].map((e) => formatPrefix(e.prefix));
    if (prefixes.length === 0) return;
    const key = describeAttributes(reconcileAs4(u.attributes, ctx.fourOctetAsn));
    const set = sets.get(key) ?? { prefixes: [], count: 0 };
    for (const p of prefixes) if (set.prefixes.length < MAX_PREFIXES) set.prefixes.push(p);
    set.count += prefixes.length;
    sets.set(key, set);
  };
  if (n.data.length > 0) {
    for (const b of batches) {
      for (const body of updateBodies(b)) {
        if (body.indexOf(n.data) >= 0) { add(body); certain = true; break; }
      }
      if (certain) break;
    }
  }
  if (!certain) for (const b of batches) for (const body of updateBodies(b)) add(body);
  if (sets.size === 0) return undefined;
  return {
    notification: notificationText(n), certain,
    sets: [...sets].slice(0, MAX_SETS).map(([attributes, s]) => ({ attributes, prefixes: s.prefixes, prefixCount: s.count })),
  };
}

/** One line for logs and status: "3/11 …: 203.0.113.0/28 (as-path …)". */
export function refusedText(r: RefusedUpdate): string {
  const sets = r.sets.map((s) => `${s.prefixes.join(' ')}${s.prefixCount > s.prefixes.length ? ` (+${s.prefixCount - s.prefixes.length} more)` : ''} [${s.attributes}]`);
  return `peer refused ${r.certain ? 'the UPDATE for' : 'one of the UPDATEs for'} ${sets.join('; ')}: ${r.notification}`;
}
