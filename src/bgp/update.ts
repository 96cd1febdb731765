// UPDATE (RFC 4271 §4.3): withdrawn routes, path attributes, NLRI; End-of-RIB (RFC 4724 §2).
import type { Family } from '../net/ip.ts';
import { BufferReader } from './buffer-reader.ts';
import { BufferWriter } from './buffer-writer.ts';
import { Afi, Safi } from './capabilities.ts';
import { type DecodeContext, type PathAttributes, AttrType, decodeAttributes, encodeAttributes, familyOf } from './attributes.ts';
import { BgpError, ErrorCode, UpdateSubcode, type UpdateProblem } from './errors.ts';
import { MessageType } from './framing.ts';
import { type NlriEntry, decodeNlri, encodeNlri } from './nlri.ts';

export interface UpdateMessage {
  readonly withdrawn: readonly NlriEntry[];
  readonly attributes: PathAttributes;
  readonly nlri: readonly NlriEntry[];
}

export interface DecodedUpdate extends UpdateMessage {
  /** RFC 7606 findings; the caller acts on the worst. */
  readonly problems: readonly UpdateProblem[];
  /** Set when this UPDATE is an End-of-RIB marker for the family. */
  readonly endOfRib?: Family;
}

const malformed = (detail: string): BgpError => new BgpError(ErrorCode.Update, UpdateSubcode.MalformedAttributeList, undefined, detail);

/**
 * Throws BgpError when the message structure itself is broken (lengths that do not add up, an
 * NLRI field that cannot be parsed): RFC 7606 §5.3 leaves only a session reset for those.
 */
export function decodeUpdate(body: Buffer, ctx: DecodeContext): DecodedUpdate {
  const r = new BufferReader(body, 0, body.length, [ErrorCode.Update, UpdateSubcode.MalformedAttributeList]);
  const withdrawnLength = r.u16('withdrawn routes length');
  if (withdrawnLength > r.remaining - 2) throw malformed(`withdrawn routes length ${withdrawnLength} exceeds the message`);
  const withdrawn = decodeNlri(r.sub(withdrawnLength, 'withdrawn routes', [ErrorCode.Update, UpdateSubcode.InvalidNetworkField]), 4, ctx.addPathReceive?.includes(4) ?? false);
  const attrLength = r.u16('total path attribute length');
  if (attrLength > r.remaining) throw malformed(`total path attribute length ${attrLength} exceeds the message`);
  const attrBytes = r.bytes(attrLength);
  const nlri = decodeNlri(r, 4, ctx.addPathReceive?.includes(4) ?? false);
  const { attributes, problems } = decodeAttributes(attrBytes, ctx);

  if (withdrawnLength === 0 && attrLength === 0 && nlri.length === 0) return { withdrawn, attributes, nlri, problems, endOfRib: 4 };
  const a = attributes;
  const onlyUnreach = a.mpUnreach && a.mpUnreach.withdrawn.length === 0 && !a.mpReach && a.origin === undefined && !a.asPath && a.other.length === 0 && nlri.length === 0 && withdrawn.length === 0;
  const eorFamily = onlyUnreach ? familyOf(a.mpUnreach!.afi, a.mpUnreach!.safi) : undefined;
  if (eorFamily) return { withdrawn, attributes, nlri, problems, endOfRib: eorFamily };

  // Mandatory well-known attributes, only when there is something to announce (RFC 7606 §3(d)).
  const announces = nlri.length > 0 || (a.mpReach !== undefined && a.mpReach.nlri.length > 0);
  if (announces && !problems.some((p) => p.action !== 'attribute-discard')) {
    const missing: number[] = [];
    if (a.origin === undefined) missing.push(AttrType.Origin);
    if (!a.asPath) missing.push(AttrType.AsPath);
    if (nlri.length > 0 && !a.nextHop) missing.push(AttrType.NextHop);
    if (!ctx.ebgp && a.localPref === undefined) missing.push(AttrType.LocalPref);
    for (const t of missing) {
      problems.push({ action: 'treat-as-withdraw', code: ErrorCode.Update, subcode: UpdateSubcode.MissingWellKnownAttribute, data: Buffer.from([t]), detail: `missing well-known attribute ${t}` });
    }
  }
  return { withdrawn, attributes, nlri, problems };
}

export function encodeUpdate(u: UpdateMessage, fourOctetAsn: boolean, w = new BufferWriter()): Buffer {
  const start = w.startMessage(MessageType.Update);
  const wdAt = w.pos;
  w.u16(0);
  encodeNlri(u.withdrawn, w, u.withdrawn.some((e) => e.pathId !== undefined));
  w.patchU16(wdAt, w.pos - wdAt - 2);
  const attrAt = w.pos;
  w.u16(0);
  encodeAttributes(u.attributes, fourOctetAsn, w);
  w.patchU16(attrAt, w.pos - attrAt - 2);
  encodeNlri(u.nlri, w, u.nlri.some((e) => e.pathId !== undefined));
  w.endMessage(start);
  return w.toBuffer().subarray(start);
}

/** End-of-RIB: an empty UPDATE for IPv4 unicast, an empty MP_UNREACH for other families. */
export function encodeEndOfRib(family: Family): Buffer {
  if (family === 4) return Buffer.from([...Array<number>(16).fill(0xff), 0, 23, MessageType.Update, 0, 0, 0, 0]);
  return Buffer.from([...Array<number>(16).fill(0xff), 0, 29, MessageType.Update, 0, 0, 0, 6, 0x80, AttrType.MpUnreach, 3, 0, Afi.Ipv6, Safi.Unicast]);
}
