// ROUTE-REFRESH (RFC 2918; subtypes from RFC 7313). The speaker answers a refresh by resending
// its Adj-RIB-Out for the family.
import { BufferWriter } from './buffer-writer.ts';
import { MessageType } from './framing.ts';

export interface RouteRefreshMessage {
  readonly afi: number;
  /** 0 normal request, 1 BoRR, 2 EoRR (RFC 7313). */
  readonly subtype: number;
  readonly safi: number;
}

export function decodeRouteRefresh(body: Buffer): RouteRefreshMessage {
  // The framer guarantees the 4 bytes; ORF entries past them (RFC 5291) are ignored.
  return { afi: body.readUInt16BE(0), subtype: body[2]!, safi: body[3]! };
}

export function encodeRouteRefresh(m: RouteRefreshMessage): Buffer {
  const w = new BufferWriter(23);
  const start = w.startMessage(MessageType.RouteRefresh);
  w.u16(m.afi).u8(m.subtype).u8(m.safi);
  w.endMessage(start);
  return w.toBuffer();
}
