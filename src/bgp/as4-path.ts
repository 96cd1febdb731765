// RFC 6793 §4.2.3: the AS path and aggregator a 2-octet-only (OLD) peer really means. An OLD
// speaker writes AS_TRANS for every 4-octet ASN in AS_PATH / AGGREGATOR and passes AS4_PATH /
// AS4_AGGREGATOR on untouched; the receiver merges them back. Between two NEW speakers the AS4
// attributes mean nothing and are dropped. Decoding (attributes.ts) keeps what was on the wire;
// this turns it into what observers of received UPDATEs should see.
import type { AsPathSegment, PathAttributes } from './attributes.ts';
import { AsPathSegmentType } from './attributes.ts';
import { AS_TRANS } from './open.ts';

/** Path length as RFC 4271 §9.1.2.2 counts it: a set is one AS, confederation segments none. */
function countAses(segs: readonly AsPathSegment[]): number {
  let n = 0;
  for (const s of segs) {
    if (s.type === AsPathSegmentType.Sequence) n += s.asns.length;
    else if (s.type === AsPathSegmentType.Set) n += 1;
  }
  return n;
}

/** The first `n` counted ASes of the path (confederation segments before them are kept). */
function leading(segs: readonly AsPathSegment[], n: number): AsPathSegment[] {
  const out: AsPathSegment[] = [];
  let left = n;
  for (const s of segs) {
    if (left === 0) break;
    if (s.type === AsPathSegmentType.Sequence) {
      const take = Math.min(left, s.asns.length);
      out.push(take === s.asns.length ? s : { type: s.type, asns: s.asns.slice(0, take) });
      left -= take;
    } else if (s.type === AsPathSegmentType.Set) {
      out.push(s);
      left -= 1;
    } else {
      out.push(s);
    }
  }
  return out;
}

/**
 * The attributes with AS4_PATH / AS4_AGGREGATOR folded into AS_PATH / AGGREGATOR (session
 * without 4-octet ASNs), or dropped (4-octet session, where they must be ignored).
 */
export function reconcileAs4(a: PathAttributes, fourOctetSession: boolean): PathAttributes {
  if (a.as4Path === undefined && a.as4Aggregator === undefined) return a;
  const { as4Path, as4Aggregator, ...rest } = a;
  const out: PathAttributes = rest;
  if (fourOctetSession) return out;
  // An AGGREGATOR with a real 2-octet ASN: the route was aggregated by an OLD speaker after the
  // AS4 attributes were attached, so both are stale (§4.2.3).
  if (a.aggregator !== undefined && a.aggregator.asn !== AS_TRANS) return out;
  if (a.aggregator !== undefined && as4Aggregator !== undefined) out.aggregator = as4Aggregator;
  if (as4Path === undefined || a.asPath === undefined) return out;
  // Confederation segments do not belong in AS4_PATH (§6): they are left out.
  const as4 = as4Path.filter((s) => s.type === AsPathSegmentType.Sequence || s.type === AsPathSegmentType.Set);
  const have = countAses(a.asPath);
  const want = countAses(as4);
  // A longer AS4_PATH than AS_PATH cannot be right (an OLD speaker only prepends): ignore it.
  if (want > have) return out;
  const head = leading(a.asPath, have - want);
  const last = head[head.length - 1];
  const first = as4[0];
  // One sequence where the two parts meet, as the path was before an OLD speaker split it.
  if (last?.type === AsPathSegmentType.Sequence && first?.type === AsPathSegmentType.Sequence && last.asns.length + first.asns.length <= 255) {
    out.asPath = [...head.slice(0, -1), { type: AsPathSegmentType.Sequence, asns: [...last.asns, ...first.asns] }, ...as4.slice(1)];
  } else {
    out.asPath = [...head, ...as4];
  }
  return out;
}
