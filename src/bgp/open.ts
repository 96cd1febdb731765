// OPEN (RFC 4271 §4.2) with capabilities in optional parameters (RFC 5492), including the
// extended optional parameters length of RFC 9072 on decode.
import { BufferReader } from './buffer-reader.ts';
import { BufferWriter } from './buffer-writer.ts';
import { type Capabilities, decodeCapabilities, encodeCapabilities, newCapabilities } from './capabilities.ts';
import { BgpError, ErrorCode, OpenSubcode } from './errors.ts';
import { MessageType } from './framing.ts';

export const AS_TRANS = 23456;

export interface OpenMessage {
  readonly version: number;
  /** The 2-octet My Autonomous System field (AS_TRANS when the real ASN needs 4 octets). */
  readonly myAs: number;
  readonly holdTime: number;
  /** BGP Identifier as an unsigned 32-bit number. */
  readonly bgpId: number;
  readonly capabilities: Capabilities;
}

/** The speaker's real ASN: the 4-octet capability when present, else the 2-octet field. */
export const openAsn = (o: OpenMessage): number => o.capabilities.fourOctetAsn ?? o.myAs;

export function decodeOpen(body: Buffer): OpenMessage {
  const r = new BufferReader(body, 0, body.length, [ErrorCode.MessageHeader, 2]);
  const version = r.u8();
  if (version !== 4) throw new BgpError(ErrorCode.Open, OpenSubcode.UnsupportedVersionNumber, Buffer.from([0, 4]), `version ${version}`);
  const myAs = r.u16();
  const holdTime = r.u16();
  const bgpId = r.u32();
  let optLen = r.u8();
  let extended = false;
  if (optLen === 255 && r.remaining >= 3 && body[r.offset] === 255) { r.u8(); optLen = r.u16(); extended = true; }
  if (optLen !== r.remaining) throw new BgpError(ErrorCode.Open, 0, undefined, `optional parameters length ${optLen} but ${r.remaining} bytes follow`);
  const caps = newCapabilities();
  while (!r.atEnd()) {
    const type = r.u8('parameter type');
    const len = extended ? r.u16('parameter length') : r.u8('parameter length');
    const v = r.sub(len, 'parameter value', [ErrorCode.Open, 0]);
    if (type !== 2) throw new BgpError(ErrorCode.Open, OpenSubcode.UnsupportedOptionalParameter, undefined, `optional parameter ${type}`);
    decodeCapabilities(v, caps);
  }
  return { version, myAs, holdTime, bgpId, capabilities: caps };
}

export function encodeOpen(o: OpenMessage, w = new BufferWriter(256)): Buffer {
  const start = w.startMessage(MessageType.Open);
  w.u8(o.version).u16(o.myAs).u16(o.holdTime).u32(o.bgpId);
  const optLenAt = w.pos;
  w.u8(0).u8(2);
  const capLenAt = w.pos;
  w.u8(0);
  encodeCapabilities(o.capabilities, w);
  const capLen = w.pos - capLenAt - 1;
  if (capLen === 0) { w.pos = optLenAt + 1; } else {
    if (capLen > 253) throw new RangeError('capabilities do not fit one optional parameter');
    w.patchU8(capLenAt, capLen);
    w.patchU8(optLenAt, capLen + 2);
  }
  w.endMessage(start);
  return w.toBuffer().subarray(start);
}
