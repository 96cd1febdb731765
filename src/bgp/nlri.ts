// NLRI: (length, prefix bytes) pairs (RFC 4271 §4.3), optionally preceded by an ADD-PATH path
// identifier (RFC 7911). Used by UPDATE's own fields and by MP_REACH/MP_UNREACH.
import type { Family } from '../net/ip.ts';
import type { Prefix } from '../net/prefix.ts';
import { BufferReader } from './buffer-reader.ts';
import { BufferWriter } from './buffer-writer.ts';
import { BgpError, ErrorCode, UpdateSubcode } from './errors.ts';

export interface NlriEntry { readonly prefix: Prefix; readonly pathId?: number }

/** Decodes prefixes until the reader ends; throws Invalid Network Field on a bad length. */
export function decodeNlri(r: BufferReader, family: Family, addPath = false): NlriEntry[] {
  const max = family === 4 ? 32 : 128;
  const out: NlriEntry[] = [];
  while (!r.atEnd()) {
    const pathId = addPath ? r.u32('path identifier') : undefined;
    const length = r.u8('prefix length');
    if (length > max) throw new BgpError(ErrorCode.Update, UpdateSubcode.InvalidNetworkField, undefined, `prefix length ${length} > ${max}`);
    const n = (length + 7) >> 3;
    if (n > r.remaining) throw new BgpError(ErrorCode.Update, UpdateSubcode.InvalidNetworkField, undefined, `prefix /${length} needs ${n} bytes, ${r.remaining} left`);
    const bytes = r.bytes(n);
    let network = 0n;
    for (let i = 0; i < max / 8; i++) network = (network << 8n) | BigInt(i < n ? bytes[i]! : 0);
    // Host bits past the length are ignored (RFC 4271 calls them irrelevant), not an error.
    const shift = BigInt(max - length);
    network = (network >> shift) << shift;
    out.push(pathId === undefined ? { prefix: { family, network, length } } : { prefix: { family, network, length }, pathId });
  }
  return out;
}

export function encodeNlri(entries: readonly NlriEntry[], w: BufferWriter, addPath = false): void {
  for (const e of entries) {
    if (addPath) w.u32(e.pathId ?? 1);
    w.bytes(prefixWire(e.prefix));
  }
}

/** Length byte plus the significant bytes of the network: the prefix as it sits on the wire. */
export function prefixWire(p: Prefix): Buffer {
  const total = p.family === 4 ? 4 : 16;
  const n = (p.length + 7) >> 3;
  const b = Buffer.allocUnsafe(1 + n);
  b[0] = p.length;
  let v = p.network >> BigInt((total - n) * 8);
  for (let i = n; i >= 1; i--) { b[i] = Number(v & 0xffn); v >>= 8n; }
  return b;
}
