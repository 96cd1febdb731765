// Layer-2 direct messages (heartbeat.ts): beat, stop, back. Hundreds a second per speaker, so
// they have their own binary layout instead of the gossip's JSON, and cost almost nothing to send
// and to receive:
//
//   "I" 0x82 | kind (1) | incarnation (float64) | epoch (uint32) | name length (1) | name | HMAC-SHA256 (32)
//
// The epoch is the sender's monotonic clock in `epochMs` steps. All of a sender's messages of one
// kind within one epoch are the same bytes, so the sender computes the HMAC once per epoch (cached
// bytes, one `send` per heartbeat), and the receiver verifies it once per epoch: a datagram whose
// bytes equal the last verified one from that sender is that message again, with no HMAC and no
// parse. Freshness is checked all the same, so a replay cannot fake liveness for long:
// - a new epoch (or incarnation) is accepted only when it is newer than the last accepted one
//   from that sender (older verified bytes are replays, dropped);
// - the same bytes are accepted only within `2 × epochMs` of the receiver first verifying them
//   (a genuine sender moves to the next epoch after `epochMs`).
// So someone replaying captured heartbeats of a dead owner keeps it "heard" for at most
// 2 × epochMs (100 ms) after its last genuine heartbeat reached the receiver, then the detector
// fires as usual; without the secret nothing can be forged. (The gossip's own claims are
// protected by incarnations, swim.ts.)
//
// Pure: time is an argument.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** beat: I own IPs you would take over; stop: I no longer send you beats; back: I believed you down and took your IPs, now I yield. */
export type DirectKind = 'beat' | 'stop' | 'back';

const MAGIC = 0x49;
/** Distinct from the gossip's version byte (1): an older speaker drops these as not its own. */
export const DIRECT_VERSION = 0x82;
const MAC_LEN = 32;
const HEAD = 16; // magic, version, kind, incarnation, epoch, name length
const kindCode: Record<DirectKind, number> = { beat: 0, stop: 1, back: 2 };
const kindOf: readonly DirectKind[] = ['beat', 'stop', 'back'];

/** Length of an epoch: one HMAC per sender per epoch; replays are believed for at most two. */
export const directEpochMs = 50;

export interface Direct {
  readonly kind: DirectKind;
  readonly from: string;
  readonly inc: number;
  readonly epoch: number;
}

export const isDirectBytes = (b: Buffer): boolean => b.length >= 2 && b[0] === MAGIC && b[1] === DIRECT_VERSION;

/** The process-wide monotonic clock in ms (shared by the main thread and the sending worker, beat-sender.ts). */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint() / 1000n) / 1000;
}

export function epochAt(monotonicMs: number): number {
  return Math.floor(monotonicMs / directEpochMs) >>> 0;
}

export function encodeDirect(key: Buffer, d: Direct): Buffer {
  const name = Buffer.from(d.from, 'utf8');
  if (name.length > 255) throw new Error(`membership: node name "${d.from}" is longer than 255 bytes`);
  const b = Buffer.alloc(HEAD + name.length + MAC_LEN);
  b[0] = MAGIC;
  b[1] = DIRECT_VERSION;
  b[2] = kindCode[d.kind];
  b.writeDoubleBE(d.inc, 3);
  b.writeUInt32BE(d.epoch >>> 0, 11);
  b[15] = name.length;
  name.copy(b, HEAD);
  createHmac('sha256', key).update(b.subarray(0, HEAD + name.length)).digest().copy(b, HEAD + name.length);
  return b;
}

/** The message, or undefined when it is not a direct message, the MAC is wrong, or it is malformed. */
export function decodeDirect(key: Buffer, b: Buffer): Direct | undefined {
  if (!isDirectBytes(b) || b.length < HEAD + 1 + MAC_LEN) return undefined;
  const n = b[15]!;
  if (b.length !== HEAD + n + MAC_LEN) return undefined;
  const kind = kindOf[b[2]!];
  if (!kind) return undefined;
  const want = createHmac('sha256', key).update(b.subarray(0, HEAD + n)).digest();
  if (!timingSafeEqual(want, b.subarray(HEAD + n))) return undefined;
  const inc = b.readDoubleBE(3);
  if (!Number.isFinite(inc)) return undefined;
  return { kind, from: b.toString('utf8', HEAD, HEAD + n), inc, epoch: b.readUInt32BE(11) };
}

/** Encodes once per (kind, incarnation, epoch): a heartbeat costs a cache look-up and a send. */
export class DirectEncoder {
  private readonly cache = new Map<DirectKind, { inc: number; epoch: number; b: Buffer }>();
  constructor(private readonly key: Buffer, private readonly from: string) {}

  bytes(kind: DirectKind, inc: number, now: number): Buffer {
    const epoch = epochAt(now);
    const c = this.cache.get(kind);
    if (c && c.inc === inc && c.epoch === epoch) return c.b;
    const b = encodeDirect(this.key, { kind, from: this.from, inc, epoch });
    this.cache.set(kind, { inc, epoch, b });
    return b;
  }
}

/**
 * The receiving side: per sender address, the last verified bytes (a repeat skips the HMAC); per
 * sender name, the newest (incarnation, epoch) accepted and when it was first seen.
 */
export class DirectReceiver {
  private readonly lastBytes = new Map<string, { b: Buffer; d: Direct }>();
  private readonly newest = new Map<string, { inc: number; epoch: number; firstSeen: number }>();
  /** HMAC verifications done (for tests and the cost figures). */
  verified = 0;

  constructor(private readonly key: Buffer) {}

  /** The message when it is authentic and fresh at `now`; undefined otherwise (forged, malformed, replayed, stale). */
  accept(b: Buffer, address: string, now: number): Direct | undefined {
    const last = this.lastBytes.get(address);
    let d: Direct | undefined;
    if (last && last.b.equals(b)) {
      d = last.d;
    } else {
      this.verified++;
      d = decodeDirect(this.key, b);
      if (!d) return undefined;
      this.lastBytes.set(address, { b: Buffer.from(b), d });
    }
    const n = this.newest.get(d.from);
    if (!n || d.inc > n.inc || (d.inc === n.inc && d.epoch > n.epoch)) {
      this.newest.set(d.from, { inc: d.inc, epoch: d.epoch, firstSeen: now });
      return d;
    }
    if (d.inc === n.inc && d.epoch === n.epoch && now - n.firstSeen <= 2 * directEpochMs) return d;
    return undefined;
  }

  /** A member left the cluster: forget what we knew of it. */
  forget(name: string): void {
    this.newest.delete(name);
    for (const [a, l] of this.lastBytes) if (l.d.from === name) this.lastBytes.delete(a);
  }
}
