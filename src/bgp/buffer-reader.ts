// A cursor over one message (or one field of it). Every read is bounds-checked and a short read
// throws the BgpError the caller chose, so malformed input maps to a NOTIFICATION, never a crash.
import { BgpError } from './errors.ts';

export class BufferReader {
  private pos: number;
  constructor(
    private readonly buf: Buffer,
    start = 0,
    private readonly end = buf.length,
    /** NOTIFICATION for "the field ends too early". */
    private readonly shortCode: readonly [number, number] = [3, 1],
  ) { this.pos = start; }

  get offset(): number { return this.pos; }
  get remaining(): number { return this.end - this.pos; }
  atEnd(): boolean { return this.pos >= this.end; }

  private need(n: number, what: string): void {
    if (n > this.end - this.pos) throw new BgpError(this.shortCode[0], this.shortCode[1], undefined, `${what}: need ${n} bytes, ${this.end - this.pos} left`);
  }
  u8(what = 'u8'): number { this.need(1, what); return this.buf[this.pos++]!; }
  u16(what = 'u16'): number { this.need(2, what); const v = this.buf.readUInt16BE(this.pos); this.pos += 2; return v; }
  u32(what = 'u32'): number { this.need(4, what); const v = this.buf.readUInt32BE(this.pos); this.pos += 4; return v; }
  /** A view (no copy) of the next n bytes. */
  bytes(n: number, what = 'bytes'): Buffer { this.need(n, what); const b = this.buf.subarray(this.pos, this.pos + n); this.pos += n; return b; }
  /** A reader over the next n bytes, with its own short-read error. */
  sub(n: number, what: string, shortCode: readonly [number, number] = this.shortCode): BufferReader {
    this.need(n, what);
    const r = new BufferReader(this.buf, this.pos, this.pos + n, shortCode);
    this.pos += n;
    return r;
  }
  rest(): Buffer { const b = this.buf.subarray(this.pos, this.end); this.pos = this.end; return b; }
}
