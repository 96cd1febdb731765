// Turns the dirty prefixes of a family table into as few UPDATEs as fit: announcements grouped by
// attribute set (attributes encoded once per set and session), withdrawals packed together.
// Prefix keys are already wire bytes, so packing copies strings into one buffer: no per-prefix
// objects (BIRD's bucket-per-attribute-set packing).
import type { Family } from '../net/ip.ts';
import { BufferWriter } from './buffer-writer.ts';
import { Afi, Safi } from './capabilities.ts';
import { AttrFlag, AttrType } from './attributes.ts';
import { MessageType } from './framing.ts';
import { type AttributeSet, type FamilyTable, sameSet } from './adj-rib-out.ts';
import { type OutboundContext, encodeOutboundAttributes } from './outbound-attributes.ts';

export interface PackContext extends OutboundContext {
  /** 4096, or 65535 with extended messages (RFC 8654). */
  readonly maxMessage: number;
  /** MP_REACH next hop for IPv6: 16 bytes (global) or 32 (global + link-local). */
  readonly nextHop6?: Buffer;
  /** ADD-PATH send negotiated for the family: every NLRI carries path identifier 1. */
  readonly addPath: Readonly<Record<Family, boolean>>;
}

export class UpdatePacker {
  private readonly encoded: Record<Family, Map<number, Buffer>> = { 4: new Map(), 6: new Map() };
  /** Prefixes skipped because the family has no usable next hop on this session. */
  unsendable = 0;

  constructor(readonly ctx: PackContext) {}

  /** Can routes of this family be announced on this session at all? */
  canAnnounce(family: Family): boolean { return family === 4 ? this.ctx.nextHop4 !== undefined : this.ctx.nextHop6 !== undefined; }

  /**
   * Moves up to `limit` dirty prefixes of `table` into UPDATEs appended to `w` and marks them
   * sent. Returns how many dirty keys were consumed.
   */
  pack(table: FamilyTable, family: Family, w: BufferWriter, limit: number): number {
    const announce = new Map<AttributeSet, string[]>();
    const withdraw: string[] = [];
    const canAnnounce = this.canAnnounce(family);
    let n = 0;
    for (const k of table.dirty) {
      table.dirty.delete(k);
      n++;
      const want = canAnnounce ? table.desired.get(k) : undefined;
      if (!canAnnounce && table.desired.has(k)) this.unsendable++;
      const have = table.sent(k);
      if (sameSet(want, have)) table.markSent(k, want);
      else if (want && !this.fits(family, want)) {
        // Attributes too large for any UPDATE (thousands of communities): never sent, never marked sent.
        this.unsendable++;
        if (have) withdraw.push(k);
        table.markSent(k, undefined);
      } else if (want) {
        let list = announce.get(want);
        if (!list) { list = []; announce.set(want, list); }
        list.push(k);
        table.markSent(k, want);
      } else {
        withdraw.push(k);
        table.markSent(k, undefined);
      }
      if (n >= limit) break;
    }
    if (withdraw.length > 0) this.writeWithdrawals(family, withdraw, w);
    for (const [set, keys] of announce) this.writeAnnouncements(family, set, keys, w);
    return n;
  }

  /** Room for the attributes, an IPv6 MP_REACH header and one /128 (with path id) in one UPDATE. */
  private fits(family: Family, set: AttributeSet): boolean {
    return 19 + 4 + this.attributesFor(family, set).length + 5 + 32 + 1 + 4 + 17 <= this.ctx.maxMessage;
  }

  private attributesFor(family: Family, set: AttributeSet): Buffer {
    let b = this.encoded[family].get(set.id);
    if (!b) { b = encodeOutboundAttributes(set.attributes, family, this.ctx); this.encoded[family].set(set.id, b); }
    return b;
  }

  /** Copies NLRI keys from `i` until the message limit; returns the next index. */
  private fill(keys: readonly string[], i: number, w: BufferWriter, end: number, addPath: boolean): number {
    const extra = addPath ? 4 : 0;
    const buf = w.buf;
    let pos = w.pos;
    while (i < keys.length) {
      const k = keys[i]!;
      if (pos + k.length + extra > end) break;
      if (addPath) { buf[pos] = 0; buf[pos + 1] = 0; buf[pos + 2] = 0; buf[pos + 3] = 1; pos += 4; }
      // Keys are 1..17 latin1 characters: a plain loop beats a call into Buffer.write.
      for (let j = 0; j < k.length; j++) buf[pos++] = k.charCodeAt(j);
      i++;
    }
    w.pos = pos;
    return i;
  }

  private writeAnnouncements(family: Family, set: AttributeSet, keys: readonly string[], w: BufferWriter): void {
    const attrs = this.attributesFor(family, set);
    const max = this.ctx.maxMessage;
    const addPath = this.ctx.addPath[family];
    let i = 0;
    while (i < keys.length) {
      w.ensure(max);
      const start = w.startMessage(MessageType.Update);
      w.u16(0);
      const attrLenAt = w.pos;
      w.u16(0);
      w.bytes(attrs);
      let mpLenAt = -1;
      if (family === 6) {
        const nh = this.ctx.nextHop6!;
        w.u8(AttrFlag.Optional | AttrFlag.ExtendedLength).u8(AttrType.MpReach);
        mpLenAt = w.pos;
        w.u16(0).u16(Afi.Ipv6).u8(Safi.Unicast).u8(nh.length).bytes(nh).u8(0);
      }
      const before = i;
      i = this.fill(keys, i, w, start + max, addPath);
      if (i === before) throw new RangeError(`the attributes of set ${set.key} leave no room for a prefix in a ${max}-byte UPDATE`);
      if (mpLenAt >= 0) w.patchU16(mpLenAt, w.pos - mpLenAt - 2);
      w.patchU16(attrLenAt, (family === 6 ? w.pos : attrLenAt + 2 + attrs.length) - attrLenAt - 2);
      w.endMessage(start);
    }
  }

  private writeWithdrawals(family: Family, keys: readonly string[], w: BufferWriter): void {
    const max = this.ctx.maxMessage;
    const addPath = this.ctx.addPath[family];
    let i = 0;
    while (i < keys.length) {
      w.ensure(max);
      const start = w.startMessage(MessageType.Update);
      if (family === 4) {
        const wdAt = w.pos;
        w.u16(0);
        i = this.fill(keys, i, w, start + max - 2, addPath);
        w.patchU16(wdAt, w.pos - wdAt - 2);
        w.u16(0);
      } else {
        w.u16(0);
        const attrLenAt = w.pos;
        w.u16(0);
        w.u8(AttrFlag.Optional | AttrFlag.ExtendedLength).u8(AttrType.MpUnreach);
        const mpLenAt = w.pos;
        w.u16(0).u16(Afi.Ipv6).u8(Safi.Unicast);
        i = this.fill(keys, i, w, start + max, addPath);
        w.patchU16(mpLenAt, w.pos - mpLenAt - 2);
        w.patchU16(attrLenAt, w.pos - attrLenAt - 2);
      }
      w.endMessage(start);
    }
  }
}
