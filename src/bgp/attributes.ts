// Path attributes (RFC 4271 §4.3/§5, RFC 4760, RFC 6793, RFC 1997, RFC 8092): decode with the
// RFC 7606 decision for each malformation, and encode, side by side.
import { type Family, type IpAddress, ipFromBytes, ipToBytes } from '../net/ip.ts';
import { BufferReader } from './buffer-reader.ts';
import { BufferWriter } from './buffer-writer.ts';
import { Afi, Safi } from './capabilities.ts';
import { BgpError, ErrorCode, UpdateSubcode, type UpdateErrorAction, type UpdateProblem } from './errors.ts';
import { type NlriEntry, decodeNlri, encodeNlri } from './nlri.ts';

export const AttrType = {
  Origin: 1, AsPath: 2, NextHop: 3, Med: 4, LocalPref: 5, AtomicAggregate: 6, Aggregator: 7, Communities: 8,
  OriginatorId: 9, ClusterList: 10, MpReach: 14, MpUnreach: 15, ExtendedCommunities: 16, As4Path: 17, As4Aggregator: 18,
  LargeCommunity: 32,
} as const;

export const AttrFlag = { Optional: 0x80, Transitive: 0x40, Partial: 0x20, ExtendedLength: 0x10 } as const;
export const Origin = { Igp: 0, Egp: 1, Incomplete: 2 } as const;
export const AsPathSegmentType = { Set: 1, Sequence: 2, ConfedSequence: 3, ConfedSet: 4 } as const;

export interface AsPathSegment { readonly type: number; readonly asns: readonly number[] }
export interface Aggregator { readonly asn: number; readonly address: IpAddress }
export interface LargeCommunityValue { readonly global: number; readonly local1: number; readonly local2: number }
export interface MpReach { readonly afi: number; readonly safi: number; readonly nextHops: readonly IpAddress[]; readonly nlri: readonly NlriEntry[]; readonly rawNextHop?: Buffer }
export interface MpUnreach { readonly afi: number; readonly safi: number; readonly withdrawn: readonly NlriEntry[] }
export interface RawAttribute { readonly flags: number; readonly type: number; readonly value: Buffer }

export interface PathAttributes {
  origin?: number;
  asPath?: AsPathSegment[];
  nextHop?: IpAddress;
  med?: number;
  localPref?: number;
  atomicAggregate?: boolean;
  aggregator?: Aggregator;
  communities?: number[];
  originatorId?: number;
  clusterList?: number[];
  mpReach?: MpReach;
  mpUnreach?: MpUnreach;
  extendedCommunities?: Buffer[];
  as4Path?: AsPathSegment[];
  as4Aggregator?: Aggregator;
  largeCommunities?: LargeCommunityValue[];
  /** Unrecognized optional attributes, kept as received (transitive ones would be passed on). */
  other: RawAttribute[];
}

export interface DecodeContext {
  /** Both sides advertised 4-octet ASN: AS_PATH/AGGREGATOR carry 4-octet numbers. */
  readonly fourOctetAsn: boolean;
  /** eBGP session: LOCAL_PREF, ORIGINATOR_ID, CLUSTER_LIST from the peer are discarded. */
  readonly ebgp: boolean;
  /** Families for which the peer may send ADD-PATH path identifiers. */
  readonly addPathReceive?: readonly Family[];
}

const wellKnown = 0x40; // non-optional, transitive
const optionalTransitive = 0xc0;
const optionalNonTransitive = 0x80;
const expectedFlags: Record<number, number> = {
  1: wellKnown, 2: wellKnown, 3: wellKnown, 4: optionalNonTransitive, 5: wellKnown, 6: wellKnown, 7: optionalTransitive,
  8: optionalTransitive, 9: optionalNonTransitive, 10: optionalNonTransitive, 14: optionalNonTransitive, 15: optionalNonTransitive,
  16: optionalTransitive, 17: optionalTransitive, 18: optionalTransitive, 32: optionalTransitive,
};

/** RFC 7606 §7: what a malformed instance of each attribute costs. */
const onMalformed: Record<number, UpdateErrorAction> = {
  1: 'treat-as-withdraw', 2: 'treat-as-withdraw', 3: 'treat-as-withdraw', 4: 'treat-as-withdraw', 5: 'treat-as-withdraw',
  6: 'attribute-discard', 7: 'attribute-discard', 8: 'treat-as-withdraw', 9: 'treat-as-withdraw', 10: 'treat-as-withdraw',
  14: 'session-reset', 15: 'session-reset', 16: 'treat-as-withdraw', 17: 'attribute-discard', 18: 'attribute-discard',
  32: 'treat-as-withdraw',
};

/** The attribute's whole TLV, as RFC 4271 wants it in the NOTIFICATION data. */
function tlv(flags: number, type: number, value: Buffer): Buffer {
  const w = new BufferWriter(value.length + 4);
  writeHeader(w, flags, type, value.length);
  w.bytes(value);
  return w.toBuffer();
}

class Malformed extends Error {
  constructor(readonly subcode: number, detail: string) { super(detail); }
}

function decodeAsPath(v: BufferReader, four: boolean): AsPathSegment[] {
  const segs: AsPathSegment[] = [];
  while (!v.atEnd()) {
    if (v.remaining < 2) throw new Malformed(UpdateSubcode.MalformedAsPath, 'truncated segment header');
    const type = v.u8();
    const count = v.u8();
    if (type < 1 || type > 4) throw new Malformed(UpdateSubcode.MalformedAsPath, `segment type ${type}`);
    if (count === 0) throw new Malformed(UpdateSubcode.MalformedAsPath, 'empty segment');
    const size = four ? 4 : 2;
    if (v.remaining < count * size) throw new Malformed(UpdateSubcode.MalformedAsPath, 'segment overruns the attribute');
    const asns: number[] = [];
    for (let i = 0; i < count; i++) asns.push(four ? v.u32() : v.u16());
    segs.push({ type, asns });
  }
  return segs;
}

function decodeMpReach(v: BufferReader, ctx: DecodeContext): MpReach {
  const afi = v.u16('AFI');
  const safi = v.u8('SAFI');
  const nhLen = v.u8('next hop length');
  const nh = v.bytes(nhLen, 'next hop');
  v.u8('reserved');
  const family = familyOf(afi, safi);
  if (!family) return { afi, safi, nextHops: [], nlri: [], rawNextHop: Buffer.from(nh) };
  const nextHops: IpAddress[] = [];
  if (afi === Afi.Ipv6 && (nhLen === 16 || nhLen === 32)) {
    for (let o = 0; o < nhLen; o += 16) nextHops.push(ipFromBytes(nh.subarray(o, o + 16)));
  } else if (afi === Afi.Ipv4 && (nhLen === 4 || nhLen === 16 || nhLen === 32)) {
    // 16/32: an IPv6 next hop for IPv4 NLRI (RFC 8950).
    for (let o = 0; o < nhLen; o += nhLen === 4 ? 4 : 16) nextHops.push(ipFromBytes(nh.subarray(o, o + (nhLen === 4 ? 4 : 16))));
  } else {
    throw new Malformed(UpdateSubcode.OptionalAttributeError, `next hop length ${nhLen} for AFI ${afi}`);
  }
  const nlri = decodeNlri(v, family, ctx.addPathReceive?.includes(family) ?? false);
  return { afi, safi, nextHops, nlri };
}

function decodeMpUnreach(v: BufferReader, ctx: DecodeContext): MpUnreach {
  const afi = v.u16('AFI');
  const safi = v.u8('SAFI');
  const family = familyOf(afi, safi);
  if (!family) { v.rest(); return { afi, safi, withdrawn: [] }; }
  return { afi, safi, withdrawn: decodeNlri(v, family, ctx.addPathReceive?.includes(family) ?? false) };
}

export function familyOf(afi: number, safi: number): Family | undefined {
  if (safi !== Safi.Unicast) return undefined;
  return afi === Afi.Ipv4 ? 4 : afi === Afi.Ipv6 ? 6 : undefined;
}

function decodeAggregator(v: BufferReader, four: boolean): Aggregator {
  if (v.remaining !== (four ? 8 : 6)) throw new Malformed(UpdateSubcode.AttributeLengthError, `length ${v.remaining}`);
  const asn = four ? v.u32() : v.u16();
  return { asn, address: ipFromBytes(v.bytes(4)) };
}

function fixed(v: BufferReader, n: number): void {
  if (v.remaining !== n) throw new Malformed(UpdateSubcode.AttributeLengthError, `length ${v.remaining}, want ${n}`);
}
function multiple(v: BufferReader, n: number): void {
  if (v.remaining === 0 || v.remaining % n !== 0) throw new Malformed(UpdateSubcode.AttributeLengthError, `length ${v.remaining}, want a non-zero multiple of ${n}`);
}

/**
 * Decodes the Path Attributes field. Malformations become problems with their RFC 7606 action,
 * except those that leave no way to find the NLRI, which throw (session reset).
 */
export function decodeAttributes(buf: Buffer, ctx: DecodeContext): { attributes: PathAttributes; problems: UpdateProblem[] } {
  const a: PathAttributes = { other: [] };
  const problems: UpdateProblem[] = [];
  const seen = new Set<number>();
  const r = new BufferReader(buf);
  while (!r.atEnd()) {
    if (r.remaining < 3) { problems.push({ action: 'treat-as-withdraw', code: ErrorCode.Update, subcode: UpdateSubcode.MalformedAttributeList, detail: 'truncated attribute header' }); break; }
    const flags = r.u8();
    const type = r.u8();
    const ext = (flags & AttrFlag.ExtendedLength) !== 0;
    if (ext && r.remaining < 2) { problems.push({ action: 'treat-as-withdraw', code: ErrorCode.Update, subcode: UpdateSubcode.MalformedAttributeList, detail: 'truncated attribute length' }); break; }
    const len = ext ? r.u16() : r.u8();
    if (len > r.remaining) {
      // RFC 7606 §4: an attribute that overruns the field makes the rest unparsable.
      const action: UpdateErrorAction = type === AttrType.MpReach || type === AttrType.MpUnreach ? 'session-reset' : 'treat-as-withdraw';
      problems.push({ action, code: ErrorCode.Update, subcode: UpdateSubcode.AttributeLengthError, detail: `attribute ${type} length ${len} overruns the field (${r.remaining} left)` });
      break;
    }
    const value = r.bytes(len);
    const v = new BufferReader(value, 0, value.length, [ErrorCode.Update, UpdateSubcode.AttributeLengthError]);
    if (seen.has(type)) {
      // RFC 7606 §3(g): keep the first; a repeated MP_REACH/MP_UNREACH is a session reset.
      if (type === AttrType.MpReach || type === AttrType.MpUnreach) problems.push({ action: 'session-reset', code: ErrorCode.Update, subcode: UpdateSubcode.MalformedAttributeList, detail: `attribute ${type} repeated` });
      else problems.push({ action: 'attribute-discard', code: ErrorCode.Update, subcode: UpdateSubcode.MalformedAttributeList, detail: `attribute ${type} repeated` });
      continue;
    }
    seen.add(type);
    const expected = expectedFlags[type];
    if (expected === undefined) {
      if ((flags & AttrFlag.Optional) === 0) {
        problems.push({ action: 'session-reset', code: ErrorCode.Update, subcode: UpdateSubcode.UnrecognizedWellKnownAttribute, data: tlv(flags, type, value), detail: `unrecognized well-known attribute ${type}` });
      } else {
        a.other.push({ flags, type, value: Buffer.from(value) });
      }
      continue;
    }
    try {
      if ((flags & 0xc0) !== expected) throw new Malformed(UpdateSubcode.AttributeFlagsError, `flags 0x${flags.toString(16)}`);
      switch (type) {
        case AttrType.Origin: fixed(v, 1); a.origin = v.u8(); if (a.origin > 2) throw new Malformed(UpdateSubcode.InvalidOriginAttribute, `origin ${a.origin}`); break;
        case AttrType.AsPath: a.asPath = decodeAsPath(v, ctx.fourOctetAsn); break;
        case AttrType.NextHop: fixed(v, 4); a.nextHop = ipFromBytes(v.bytes(4)); break;
        case AttrType.Med: fixed(v, 4); a.med = v.u32(); break;
        case AttrType.LocalPref:
          if (ctx.ebgp) { problems.push({ action: 'attribute-discard', code: ErrorCode.Update, subcode: UpdateSubcode.MalformedAttributeList, detail: 'LOCAL_PREF from an eBGP peer' }); break; }
          fixed(v, 4); a.localPref = v.u32(); break;
        case AttrType.AtomicAggregate: fixed(v, 0); a.atomicAggregate = true; break;
        case AttrType.Aggregator: a.aggregator = decodeAggregator(v, ctx.fourOctetAsn); break;
        case AttrType.Communities: multiple(v, 4); a.communities = []; while (!v.atEnd()) a.communities.push(v.u32()); break;
        case AttrType.OriginatorId: fixed(v, 4); if (!ctx.ebgp) a.originatorId = v.u32(); break;
        case AttrType.ClusterList: multiple(v, 4); if (!ctx.ebgp) { a.clusterList = []; while (!v.atEnd()) a.clusterList.push(v.u32()); } break;
        case AttrType.MpReach: a.mpReach = decodeMpReach(v, ctx); break;
        case AttrType.MpUnreach: a.mpUnreach = decodeMpUnreach(v, ctx); break;
        case AttrType.ExtendedCommunities: multiple(v, 8); a.extendedCommunities = []; while (!v.atEnd()) a.extendedCommunities.push(Buffer.from(v.bytes(8))); break;
        case AttrType.As4Path: a.as4Path = decodeAsPath(v, true); break;
        case AttrType.As4Aggregator: a.as4Aggregator = decodeAggregator(v, true); break;
        case AttrType.LargeCommunity: multiple(v, 12); a.largeCommunities = []; while (!v.atEnd()) a.largeCommunities.push({ global: v.u32(), local1: v.u32(), local2: v.u32() }); break;
      }
    } catch (e) {
      if (!(e instanceof Malformed) && !(e instanceof BgpError)) throw e;
      // A short read inside a value is a length error; inside MP_REACH/MP_UNREACH (a bad NLRI or
      // next hop) it is an Optional Attribute Error, as RFC 4271 §6.3 names for optional attributes.
      const mp = type === AttrType.MpReach || type === AttrType.MpUnreach;
      const subcode = e instanceof Malformed && !mp ? e.subcode : mp ? UpdateSubcode.OptionalAttributeError : UpdateSubcode.AttributeLengthError;
      problems.push({ action: onMalformed[type] ?? 'treat-as-withdraw', code: ErrorCode.Update, subcode, data: tlv(flags, type, value), detail: `attribute ${type}: ${e.message}` });
    }
  }
  return { attributes: a, problems };
}

function writeHeader(w: BufferWriter, flags: number, type: number, len: number): void {
  if (len > 255) w.u8(flags | AttrFlag.ExtendedLength).u8(type).u16(len);
  else w.u8(flags & ~AttrFlag.ExtendedLength).u8(type).u8(len);
}

/** Writes one attribute: header (extended length when the value needs it) and value. */
export function writeAttribute(w: BufferWriter, flags: number, type: number, body: (w: BufferWriter) => void): void {
  // Written with a 2-byte length first, then shrunk when the value fits one byte: one pass, no copy of headers.
  const start = w.pos;
  w.u8(flags | AttrFlag.ExtendedLength).u8(type).u16(0);
  body(w);
  const len = w.pos - start - 4;
  if (len <= 255) {
    w.buf.copyWithin(start + 3, start + 4, w.pos);
    w.pos -= 1;
    w.patchU8(start, flags & ~AttrFlag.ExtendedLength);
    w.patchU8(start + 2, len);
  } else {
    w.patchU16(start + 2, len);
  }
}

export function writeAsPath(w: BufferWriter, segs: readonly AsPathSegment[], four: boolean): void {
  for (const s of segs) {
    // A segment holds at most 255 ASNs; longer sequences are split.
    for (let i = 0; i < s.asns.length || (i === 0 && s.asns.length === 0); i += 255) {
      const part = s.asns.slice(i, i + 255);
      if (part.length === 0) break;
      w.u8(s.type).u8(part.length);
      for (const asn of part) { if (four) w.u32(asn); else w.u16(asn); }
    }
  }
}

/** Encodes attributes in type order (the order RFC 4271 recommends). */
export function encodeAttributes(a: PathAttributes, fourOctetAsn: boolean, w: BufferWriter): void {
  if (a.origin !== undefined) writeAttribute(w, wellKnown, AttrType.Origin, (w) => w.u8(a.origin!));
  if (a.asPath) writeAttribute(w, wellKnown, AttrType.AsPath, (w) => writeAsPath(w, a.asPath!, fourOctetAsn));
  if (a.nextHop) writeAttribute(w, wellKnown, AttrType.NextHop, (w) => w.bytes(ipToBytes(a.nextHop!)));
  if (a.med !== undefined) writeAttribute(w, optionalNonTransitive, AttrType.Med, (w) => w.u32(a.med!));
  if (a.localPref !== undefined) writeAttribute(w, wellKnown, AttrType.LocalPref, (w) => w.u32(a.localPref!));
  if (a.atomicAggregate) writeAttribute(w, wellKnown, AttrType.AtomicAggregate, () => undefined);
  if (a.aggregator) writeAttribute(w, optionalTransitive, AttrType.Aggregator, (w) => { if (fourOctetAsn) w.u32(a.aggregator!.asn); else w.u16(a.aggregator!.asn); w.bytes(ipToBytes(a.aggregator!.address)); });
  if (a.communities) writeAttribute(w, optionalTransitive, AttrType.Communities, (w) => { for (const c of a.communities!) w.u32(c); });
  if (a.originatorId !== undefined) writeAttribute(w, optionalNonTransitive, AttrType.OriginatorId, (w) => w.u32(a.originatorId!));
  if (a.clusterList) writeAttribute(w, optionalNonTransitive, AttrType.ClusterList, (w) => { for (const c of a.clusterList!) w.u32(c); });
  if (a.mpReach) {
    const m = a.mpReach;
    writeAttribute(w, optionalNonTransitive, AttrType.MpReach, (w) => {
      w.u16(m.afi).u8(m.safi);
      const nh = m.rawNextHop ?? Buffer.concat(m.nextHops.map(ipToBytes));
      w.u8(nh.length).bytes(nh).u8(0);
      const fam = familyOf(m.afi, m.safi);
      if (fam) encodeNlri(m.nlri, w, m.nlri.some((e) => e.pathId !== undefined));
    });
  }
  if (a.mpUnreach) {
    const m = a.mpUnreach;
    writeAttribute(w, optionalNonTransitive, AttrType.MpUnreach, (w) => { w.u16(m.afi).u8(m.safi); encodeNlri(m.withdrawn, w, m.withdrawn.some((e) => e.pathId !== undefined)); });
  }
  if (a.extendedCommunities) writeAttribute(w, optionalTransitive, AttrType.ExtendedCommunities, (w) => { for (const c of a.extendedCommunities!) w.bytes(c); });
  if (a.as4Path) writeAttribute(w, optionalTransitive, AttrType.As4Path, (w) => writeAsPath(w, a.as4Path!, true));
  if (a.as4Aggregator) writeAttribute(w, optionalTransitive, AttrType.As4Aggregator, (w) => { w.u32(a.as4Aggregator!.asn); w.bytes(ipToBytes(a.as4Aggregator!.address)); });
  if (a.largeCommunities) writeAttribute(w, optionalTransitive, AttrType.LargeCommunity, (w) => { for (const c of a.largeCommunities!) w.u32(c.global).u32(c.local1).u32(c.local2); });
  for (const o of a.other) writeAttribute(w, o.flags, o.type, (w) => w.bytes(o.value));
}
