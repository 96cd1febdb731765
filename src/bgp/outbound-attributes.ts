// The path attributes ironlb sends for one attribute set on one session, encoded once and then
// copied into every UPDATE that carries prefixes of that set.
import type { Family } from '../net/ip.ts';
import type { RouteAttributes } from './route.ts';
import { BufferWriter } from './buffer-writer.ts';
import { AsPathSegmentType, AttrType, Origin, writeAsPath, writeAttribute } from './attributes.ts';
import { AS_TRANS } from './open.ts';

export interface OutboundContext {
  readonly ebgp: boolean;
  readonly myAsn: number;
  /** Both sides speak 4-octet ASNs (RFC 6793). */
  readonly fourOctetAsn: boolean;
  /** 4 bytes; NEXT_HOP of IPv4 routes. */
  readonly nextHop4?: Buffer;
}

/**
 * The AS_PATH sequence. eBGP: own ASN leftmost, then the prepends — a speaker adds its own AS in
 * front of whatever the path holds when it sends to an external peer (RFC 4271 §5.1.2), and a
 * prepend is part of the path before that, as FRR's outbound route-map `set as-path prepend`
 * (64500 65099 65099 for AS 64500 prepending 65099 twice). A peer that checks the first AS
 * (OpenBGPD's enforce neighbor-as, FRR's enforce-first-as) refuses any other order.
 * iBGP: no own AS is added, so the path is only the prepends (as FRR sends them on iBGP).
 */
export function asPathFor(a: RouteAttributes, ctx: OutboundContext): number[] {
  const path: number[] = [];
  if (ctx.ebgp) path.push(ctx.myAsn);
  const count = a.asPrepend?.count ?? 0;
  for (let i = 0; i < count; i++) path.push(a.asPrepend?.asn ?? ctx.myAsn);
  return path;
}

/**
 * ORIGIN, AS_PATH (+AS4_PATH for a 2-octet peer when a 4-octet ASN is in the path), NEXT_HOP
 * (IPv4 only: IPv6 routes carry theirs in MP_REACH_NLRI), MED, LOCAL_PREF (iBGP only),
 * COMMUNITIES, LARGE_COMMUNITY — in type order.
 */
export function encodeOutboundAttributes(a: RouteAttributes, family: Family, ctx: OutboundContext): Buffer {
  const w = new BufferWriter(128);
  writeAttribute(w, 0x40, AttrType.Origin, (w) => w.u8(Origin.Igp));
  const path = asPathFor(a, ctx);
  const needsAs4 = !ctx.fourOctetAsn && path.some((asn) => asn > 0xffff);
  const twoOctetPath = ctx.fourOctetAsn ? path : path.map((asn) => (asn > 0xffff ? AS_TRANS : asn));
  writeAttribute(w, 0x40, AttrType.AsPath, (w) => { if (path.length > 0) writeAsPath(w, [{ type: AsPathSegmentType.Sequence, asns: twoOctetPath }], ctx.fourOctetAsn); });
  if (family === 4 && ctx.nextHop4) { const nh = ctx.nextHop4; writeAttribute(w, 0x40, AttrType.NextHop, (w) => w.bytes(nh)); }
  if (a.med !== undefined) { const med = a.med; writeAttribute(w, 0x80, AttrType.Med, (w) => w.u32(med)); }
  if (!ctx.ebgp) { const lp = a.localPref ?? 100; writeAttribute(w, 0x40, AttrType.LocalPref, (w) => w.u32(lp)); }
  const standard = new Set<number>();
  const large = new Map<string, [number, number, number]>();
  for (const c of a.communities) {
    if (c.kind === 'standard') standard.add(c.value >>> 0);
    else large.set(`${c.global}:${c.local1}:${c.local2}`, [c.global, c.local1, c.local2]);
  }
  if (standard.size > 0) {
    const sorted = [...standard].sort((x, y) => x - y);
    writeAttribute(w, 0xc0, AttrType.Communities, (w) => { for (const c of sorted) w.u32(c); });
  }
  if (needsAs4) writeAttribute(w, 0xc0, AttrType.As4Path, (w) => writeAsPath(w, [{ type: AsPathSegmentType.Sequence, asns: path }], true));
  if (large.size > 0) {
    const sorted = [...large.values()].sort((x, y) => x[0] - y[0] || x[1] - y[1] || x[2] - y[2]);
    writeAttribute(w, 0xc0, AttrType.LargeCommunity, (w) => { for (const [g, l1, l2] of sorted) w.u32(g).u32(l1).u32(l2); });
  }
  return w.toBuffer();
}

/** Interning key: two RouteAttributes with the same key encode identically on every session. */
export function attributeKey(a: RouteAttributes): string {
  const comms = a.communities.map((c) => (c.kind === 'standard' ? `s${c.value >>> 0}` : `l${c.global}:${c.local1}:${c.local2}`));
  comms.sort();
  let last = '';
  const uniq = comms.filter((c) => { const keep = c !== last; last = c; return keep; });
  return `${a.localPref ?? ''}|${a.med ?? ''}|${a.asPrepend ? `${a.asPrepend.count}x${a.asPrepend.asn ?? ''}` : ''}|${uniq.join(',')}`;
}
