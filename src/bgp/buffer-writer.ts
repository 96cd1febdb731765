// One growing buffer; message and attribute lengths are back-filled once the body is written
// (pg-protocol's writer, BGP-shaped).
export class BufferWriter {
  buf: Buffer;
  pos = 0;
  constructor(size = 4096) { this.buf = Buffer.allocUnsafe(size); }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const b = Buffer.allocUnsafe(size);
    this.buf.copy(b, 0, 0, this.pos);
    this.buf = b;
  }
  u8(v: number): this { this.ensure(1); this.buf[this.pos++] = v & 0xff; return this; }
  u16(v: number): this { this.ensure(2); this.buf.writeUInt16BE(v & 0xffff, this.pos); this.pos += 2; return this; }
  u32(v: number): this { this.ensure(4); this.buf.writeUInt32BE(v >>> 0, this.pos); this.pos += 4; return this; }
  bytes(b: Uint8Array): this { this.ensure(b.length); this.buf.set(b, this.pos); this.pos += b.length; return this; }
  patchU8(at: number, v: number): void { this.buf[at] = v & 0xff; }
  patchU16(at: number, v: number): void { this.buf.writeUInt16BE(v, at); }

  /** Starts a BGP message: marker, length placeholder, type. Returns its start for endMessage. */
  startMessage(type: number): number {
    const start = this.pos;
    this.ensure(19);
    this.buf.fill(0xff, this.pos, this.pos + 16);
    this.pos += 18;
    this.buf[this.pos++] = type;
    return start;
  }
  endMessage(start: number): void { this.buf.writeUInt16BE(this.pos - start, start + 16); }

  /** The bytes written so far (a copy, so the writer can be reused). */
  toBuffer(): Buffer { return Buffer.from(this.buf.subarray(0, this.pos)); }
  /** The bytes written so far, without copying; valid until the next write. */
  view(): Buffer { return this.buf.subarray(0, this.pos); }
  reset(): void { this.pos = 0; }
}
