// RFC 5880 §4.1: the BFD Control packet, mandatory section only. ironlb runs no authentication, so
// a packet with the A bit (or a length that claims an auth section) is refused, never half-read.
// decodeControl() applies every reception check of §6.8.6 that needs only the packet itself; the
// checks that need a session (discriminator lookup, state) live in the manager and the FSM.

export const BFD_VERSION = 1;
export const CONTROL_LENGTH = 24;

export enum SessionState { AdminDown = 0, Down = 1, Init = 2, Up = 3 }

/** RFC 5880 §4.1 diagnostic codes. */
export enum Diag {
  None = 0,
  ControlDetectionTimeExpired = 1,
  EchoFunctionFailed = 2,
  NeighborSignaledSessionDown = 3,
  ForwardingPlaneReset = 4,
  PathDown = 5,
  ConcatenatedPathDown = 6,
  AdministrativelyDown = 7,
  ReverseConcatenatedPathDown = 8,
}

export const stateName = (s: SessionState): string => SessionState[s] ?? `state-${s}`;
export const diagName = (d: Diag): string => Diag[d] ?? `diag-${d}`;

export interface ControlPacket {
  readonly version: number;
  readonly diag: Diag;
  readonly state: SessionState;
  readonly poll: boolean;
  readonly final: boolean;
  /** C: BFD does not share fate with the control plane (RFC 5880 §4.1, RFC 5882 §4.3). */
  readonly controlPlaneIndependent: boolean;
  readonly authPresent: boolean;
  readonly demand: boolean;
  readonly multipoint: boolean;
  readonly detectMult: number;
  readonly length: number;
  readonly myDiscriminator: number;
  readonly yourDiscriminator: number;
  /** Microseconds, as on the wire. */
  readonly desiredMinTxUs: number;
  readonly requiredMinRxUs: number;
  readonly requiredMinEchoRxUs: number;
}

export type ControlFields = Omit<ControlPacket, 'version' | 'length' | 'authPresent' | 'multipoint'> &
  Partial<Pick<ControlPacket, 'version' | 'length' | 'authPresent' | 'multipoint'>>;

const u32 = (v: number, field: string): number => {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`BFD ${field} ${v} does not fit 32 bits`);
  return v;
};

/** Encodes the 24-byte mandatory section. version/length/auth/multipoint may be overridden to build bad packets in tests. */
export function encodeControl(p: ControlFields): Buffer {
  if (p.poll && p.final) throw new RangeError('BFD: a packet must not carry both Poll and Final (RFC 5880 §6.5)');
  if (!Number.isInteger(p.detectMult) || p.detectMult < 0 || p.detectMult > 255) throw new RangeError(`BFD detect multiplier ${p.detectMult} out of 0..255`);
  const b = Buffer.alloc(CONTROL_LENGTH);
  const version = p.version ?? BFD_VERSION;
  b[0] = ((version & 0x7) << 5) | (p.diag & 0x1f);
  b[1] = ((p.state & 0x3) << 6) | (p.poll ? 0x20 : 0) | (p.final ? 0x10 : 0) | (p.controlPlaneIndependent ? 0x08 : 0) |
    (p.authPresent ? 0x04 : 0) | (p.demand ? 0x02 : 0) | (p.multipoint ? 0x01 : 0);
  b[2] = p.detectMult;
  b[3] = p.length ?? CONTROL_LENGTH;
  b.writeUInt32BE(u32(p.myDiscriminator, 'my discriminator'), 4);
  b.writeUInt32BE(u32(p.yourDiscriminator, 'your discriminator'), 8);
  b.writeUInt32BE(u32(p.desiredMinTxUs, 'desired min TX'), 12);
  b.writeUInt32BE(u32(p.requiredMinRxUs, 'required min RX'), 16);
  b.writeUInt32BE(u32(p.requiredMinEchoRxUs, 'required min echo RX'), 20);
  return b;
}

/** Why a packet was discarded: stable words, used as metric labels and in tests. */
export type DiscardReason =
  | 'short' | 'bad-version' | 'bad-length' | 'length-exceeds-payload' | 'zero-detect-mult' | 'multipoint'
  | 'zero-my-discriminator' | 'zero-your-discriminator-not-down' | 'auth-not-supported'
  | 'unknown-discriminator' | 'no-session' | 'ttl' | 'demand-mode-not-supported' | 'wrong-peer' | 'admin-down';

export type DecodeResult = { ok: true; packet: ControlPacket } | { ok: false; reason: DiscardReason };

export function decodeControl(buf: Uint8Array): DecodeResult {
  if (buf.length < CONTROL_LENGTH) return { ok: false, reason: 'short' };
  const b0 = buf[0]!;
  const b1 = buf[1]!;
  const version = b0 >> 5;
  if (version !== BFD_VERSION) return { ok: false, reason: 'bad-version' };
  const authPresent = (b1 & 0x04) !== 0;
  const length = buf[3]!;
  // §6.8.6: Length below the minimum (24, or 26 with the A bit) or above the payload is discarded.
  if (length < (authPresent ? CONTROL_LENGTH + 2 : CONTROL_LENGTH)) return { ok: false, reason: 'bad-length' };
  if (length > buf.length) return { ok: false, reason: 'length-exceeds-payload' };
  const detectMult = buf[2]!;
  if (detectMult === 0) return { ok: false, reason: 'zero-detect-mult' };
  if ((b1 & 0x01) !== 0) return { ok: false, reason: 'multipoint' };
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const myDiscriminator = dv.getUint32(4);
  const yourDiscriminator = dv.getUint32(8);
  if (myDiscriminator === 0) return { ok: false, reason: 'zero-my-discriminator' };
  const state = (b1 >> 6) as SessionState;
  if (yourDiscriminator === 0 && state !== SessionState.Down && state !== SessionState.AdminDown) {
    return { ok: false, reason: 'zero-your-discriminator-not-down' };
  }
  // No authentication is configured on any ironlb session, so §6.8.6 says: A bit set → discard.
  if (authPresent) return { ok: false, reason: 'auth-not-supported' };
  return {
    ok: true,
    packet: {
      version, diag: (b0 & 0x1f), state,
      poll: (b1 & 0x20) !== 0, final: (b1 & 0x10) !== 0, controlPlaneIndependent: (b1 & 0x08) !== 0,
      authPresent, demand: (b1 & 0x02) !== 0, multipoint: false,
      detectMult, length, myDiscriminator, yourDiscriminator,
      desiredMinTxUs: dv.getUint32(12), requiredMinRxUs: dv.getUint32(16), requiredMinEchoRxUs: dv.getUint32(20),
    },
  };
}
