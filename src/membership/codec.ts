// Membership messages on the wire: a 2-byte header ("I", version 1), a 32-byte HMAC-SHA256 of the
// rest under a key derived from the shared secret, then JSON. A message whose MAC does not verify
// is dropped before it is parsed: only speakers holding the secret can join, suspect or kill a
// member. (MetalLB encrypts memberlist with AES under SHA-256 of its secret; the facts here are
// not confidential, so ironlb authenticates instead.) Replays are harmless: every state claim
// carries an incarnation, and a claim older than what a member knows is ignored (swim.ts).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export type MemberStateCode = 0 | 1 | 2; // alive, suspect, dead

/** [name, address "host:port", state, incarnation] */
export type Update = [string, string, MemberStateCode, number];

export type MessageKind = 'ping' | 'ack' | 'req' | 'leave';
const kinds: ReadonlySet<string> = new Set<MessageKind>(['ping', 'ack', 'req', 'leave']);

export interface Message {
  /**
   * ping: are you there; ack: yes (seq echoes the ping); req: ping `target` for me; leave: I stop.
   * (The layer-2 heartbeats have their own binary format: direct.ts.)
   */
  readonly k: MessageKind;
  readonly from: string;
  /** The sender's own incarnation. */
  readonly inc: number;
  readonly seq: number;
  readonly target?: string;
  readonly targetAddr?: string;
  readonly updates: readonly Update[];
}

const MAGIC = 0x49;
const VERSION = 1;
const MAC_LEN = 32;

export function deriveKey(secret: string | Buffer): Buffer {
  return createHash('sha256').update(secret).digest();
}

export function encode(key: Buffer, m: Message): Buffer {
  const body = Buffer.from(JSON.stringify(m));
  const head = Buffer.from([MAGIC, VERSION]);
  const mac = createHmac('sha256', key).update(head).update(body).digest();
  return Buffer.concat([head, mac, body]);
}

/** The message, or undefined when it is not ours, the MAC is wrong, or it is malformed. */
export function decode(key: Buffer, b: Buffer): Message | undefined {
  if (b.length < 2 + MAC_LEN + 2 || b[0] !== MAGIC || b[1] !== VERSION) return undefined;
  const body = b.subarray(2 + MAC_LEN);
  const want = createHmac('sha256', key).update(b.subarray(0, 2)).update(body).digest();
  if (!timingSafeEqual(want, b.subarray(2, 2 + MAC_LEN))) return undefined;
  try {
    const m = JSON.parse(body.toString('utf8')) as Message;
    if (typeof m.from !== 'string' || typeof m.inc !== 'number' || typeof m.seq !== 'number' || !Array.isArray(m.updates)) return undefined;
    if (!kinds.has(m.k)) return undefined;
    return m;
  } catch {
    return undefined;
  }
}
