// Cuts a TCP byte stream into whole BGP messages by the 19-byte header (RFC 4271 §4.1), keeping
// the unread remainder between chunks. Header errors throw the BgpError RFC 4271 §6.1 names.
import { BgpError, ErrorCode, HeaderSubcode } from './errors.ts';

export const MessageType = { Open: 1, Update: 2, Notification: 3, Keepalive: 4, RouteRefresh: 5 } as const;
export const HEADER_LENGTH = 19;
export const MAX_MESSAGE = 4096;
/** RFC 8654, once both sides advertise the Extended Message capability. */
export const MAX_EXTENDED_MESSAGE = 65535;

const minLength: Record<number, number> = { 1: 29, 2: 23, 3: 21, 4: 19, 5: 23 };

export interface RawMessage {
  readonly type: number;
  /** The body after the header (a view into the stream buffer, valid until the next push). */
  readonly body: Buffer;
  /** The whole message including its header. */
  readonly whole: Buffer;
}

export class MessageFramer {
  private pending: Buffer = Buffer.alloc(0);
  private pos = 0;
  /** 4096 until extended messages are negotiated. */
  maxLength = MAX_MESSAGE;

  push(chunk: Buffer): void {
    const left = this.pending.length - this.pos;
    this.pending = left === 0 ? chunk : Buffer.concat([this.pending.subarray(this.pos), chunk]);
    this.pos = 0;
  }

  get buffered(): number { return this.pending.length - this.pos; }

  /** The next whole message, or undefined when more bytes are needed. Throws BgpError on a bad header. */
  next(): RawMessage | undefined {
    const b = this.pending;
    const p = this.pos;
    if (b.length - p < HEADER_LENGTH) return undefined;
    for (let i = 0; i < 16; i++) {
      if (b[p + i] !== 0xff) throw new BgpError(ErrorCode.MessageHeader, HeaderSubcode.ConnectionNotSynchronized, undefined, 'marker is not all ones');
    }
    const length = b.readUInt16BE(p + 16);
    const type = b[p + 18]!;
    if (length < HEADER_LENGTH || length > this.maxLength) throw badLength(length);
    const min = minLength[type];
    if (min === undefined) throw new BgpError(ErrorCode.MessageHeader, HeaderSubcode.BadMessageType, Buffer.from([type]), `type ${type}`);
    // RFC 8654 §4: OPEN stays within 4096 bytes even once extended messages are negotiated.
    if (length < min || (type === MessageType.Keepalive && length !== 19) || (type === MessageType.Open && length > MAX_MESSAGE)) throw badLength(length);
    if (b.length - p < length) return undefined;
    this.pos = p + length;
    return { type, body: b.subarray(p + HEADER_LENGTH, p + length), whole: b.subarray(p, p + length) };
  }
}

function badLength(length: number): BgpError {
  const data = Buffer.alloc(2);
  data.writeUInt16BE(length);
  return new BgpError(ErrorCode.MessageHeader, HeaderSubcode.BadMessageLength, data, `length ${length}`);
}
