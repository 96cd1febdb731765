// The RFC 4271 §8 state machine of one BGP connection, as a pure function of events: it returns
// actions (send, timers, drop) for session.ts to carry out, so every transition is unit-testable
// without sockets or clocks. Connecting (Idle/Connect/Active with connect-retry backoff) and
// connection collisions involve several connections and live in peer.ts, using the helpers here.
import type { Family } from '../net/ip.ts';
import type { AddressFamily, BgpState, NegotiatedSession } from './peer-config.ts';
import { type Capabilities, Afi, Safi, hasFamily } from './capabilities.ts';
import { BgpError, CeaseSubcode, ErrorCode, FsmSubcode, OpenSubcode } from './errors.ts';
import { type OpenMessage, AS_TRANS, openAsn } from './open.ts';
import type { NotificationMessage } from './notification.ts';

/** RFC 4271 §10 suggests 4 minutes for the hold timer before the OPEN exchange. */
export const LARGE_HOLD_TIME = 240;

export interface FsmConfig {
  readonly myAsn: number;
  /** Absent with dynamicAsn: then any ASN of that kind is accepted from the OPEN. */
  readonly peerAsn?: number;
  readonly dynamicAsn?: 'internal' | 'external';
  /** Our BGP identifier as an unsigned 32-bit number. */
  readonly routerId: number;
  readonly holdTimeSeconds: number;
  readonly keepaliveSeconds?: number;
  readonly families: readonly Family[];
  readonly gracefulRestart?: { readonly restartTimeSeconds: number };
  /** Set the R and F bits of graceful restart: we restarted and kept forwarding. */
  readonly restarting: boolean;
  readonly extendedMessage: boolean;
  readonly addPathSend: boolean;
}

export type Timer = 'hold' | 'keepalive';

export type FsmEvent =
  | { readonly type: 'TcpConnectionConfirmed' }
  | { readonly type: 'TcpConnectionFails'; readonly reason: string }
  | { readonly type: 'ManualStop'; readonly subcode: number; readonly data?: Buffer }
  | { readonly type: 'HoldTimerExpires' }
  | { readonly type: 'KeepaliveTimerExpires' }
  | { readonly type: 'BGPOpen'; readonly open: OpenMessage }
  | { readonly type: 'KeepAliveMsg' }
  | { readonly type: 'UpdateMsg' }
  | { readonly type: 'RouteRefreshMsg' }
  | { readonly type: 'NotifMsg'; readonly notification: NotificationMessage }
  /** A decode error (header, OPEN, UPDATE session-reset): answer with its NOTIFICATION. */
  | { readonly type: 'MessageError'; readonly error: BgpError };

export type FsmAction =
  | { readonly type: 'sendOpen'; readonly open: OpenMessage }
  | { readonly type: 'sendKeepalive' }
  | { readonly type: 'sendNotification'; readonly code: number; readonly subcode: number; readonly data: Buffer }
  | { readonly type: 'startTimer'; readonly timer: Timer; readonly seconds: number }
  | { readonly type: 'stopTimer'; readonly timer: Timer }
  | { readonly type: 'established'; readonly negotiated: Negotiated }
  /** Close the TCP connection; the connection is over (state Idle). */
  | { readonly type: 'drop'; readonly reason: string };

/** What the OPEN exchange settled, in the form the session and packer use. */
export interface Negotiated {
  readonly holdTime: number;
  readonly keepaliveTime: number;
  readonly fourOctetAsn: boolean;
  readonly families: readonly Family[];
  readonly gracefulRestart: boolean;
  readonly extendedMessage: boolean;
  readonly routeRefresh: boolean;
  readonly addPath: readonly Family[];
  readonly peerBgpId: number;
  readonly peerOpen: OpenMessage;
}

const afiOf = (f: Family): number => (f === 4 ? Afi.Ipv4 : Afi.Ipv6);

export function buildOpen(c: FsmConfig): OpenMessage {
  const capabilities: Capabilities = {
    multiprotocol: c.families.map((f) => ({ afi: afiOf(f), safi: Safi.Unicast })),
    routeRefresh: true,
    enhancedRouteRefresh: false,
    extendedMessage: c.extendedMessage,
    fourOctetAsn: c.myAsn,
    ...(c.gracefulRestart ? {
      gracefulRestart: {
        restarting: c.restarting, notification: false, restartTimeSeconds: Math.min(c.gracefulRestart.restartTimeSeconds, 4095),
        families: c.families.map((f) => ({ afi: afiOf(f), safi: Safi.Unicast, forwardingState: c.restarting })),
      },
    } : {}),
    addPath: c.addPathSend ? c.families.map((f) => ({ afi: afiOf(f), safi: Safi.Unicast, mode: 2 })) : [],
    unknown: [],
  };
  return { version: 4, myAs: c.myAsn > 0xffff ? AS_TRANS : c.myAsn, holdTime: c.holdTimeSeconds, bgpId: c.routerId >>> 0, capabilities };
}

/**
 * undefined when the OPEN's AS is the one configured; else what was configured, for the error.
 * dynamicAsn (MetalLB's FRR "remote-as internal|external") takes any AS of the right kind:
 * internal = our own, external = any other.
 */
export function peerAsAcceptable(c: Pick<FsmConfig, 'myAsn' | 'peerAsn' | 'dynamicAsn'>, peerAs: number): string | undefined {
  if (c.peerAsn !== undefined) return peerAs === c.peerAsn ? undefined : String(c.peerAsn);
  if (c.dynamicAsn === 'internal') return peerAs === c.myAsn ? undefined : `internal (AS ${c.myAsn})`;
  if (c.dynamicAsn === 'external') return peerAs !== c.myAsn ? undefined : `external (any AS but ${c.myAsn})`;
  return 'no peer AS';
}

/** Checks a received OPEN (RFC 4271 §6.2, RFC 6286, RFC 6793) and settles the session's parameters. */
export function negotiate(c: FsmConfig, o: OpenMessage): Negotiated {
  const peerAs = openAsn(o);
  const expected = peerAsAcceptable(c, peerAs);
  if (expected !== undefined) {
    const data = Buffer.alloc(2);
    data.writeUInt16BE(o.myAs);
    throw new BgpError(ErrorCode.Open, OpenSubcode.BadPeerAs, data, `peer says AS ${peerAs}, configured ${expected}`);
  }
  if (o.holdTime === 1 || o.holdTime === 2) throw new BgpError(ErrorCode.Open, OpenSubcode.UnacceptableHoldTime, undefined, `hold time ${o.holdTime}`);
  if (o.bgpId === 0 || (c.myAsn === peerAs && o.bgpId === c.routerId >>> 0)) {
    throw new BgpError(ErrorCode.Open, OpenSubcode.BadBgpIdentifier, undefined, `identifier ${o.bgpId}`);
  }
  const caps = o.capabilities;
  // A peer without the capability (an OLD speaker, RFC 6793) is fine: it knows us as AS_TRANS
  // (the OPEN says so) and gets 2-octet AS_PATHs with AS_TRANS plus AS4_PATH.
  const fourOctetAsn = caps.fourOctetAsn !== undefined;
  // RFC 4760: a peer that advertises no multiprotocol capability speaks IPv4 unicast only.
  const peerFamilies = caps.multiprotocol.length === 0 ? [{ afi: Afi.Ipv4, safi: Safi.Unicast }] : caps.multiprotocol;
  const families = c.families.filter((f) => hasFamily(peerFamilies, afiOf(f), Safi.Unicast));
  const holdTime = Math.min(c.holdTimeSeconds, o.holdTime);
  const keepaliveTime = holdTime === 0 ? 0 : Math.max(1, Math.min(c.keepaliveSeconds ?? Math.floor(holdTime / 3), Math.floor(holdTime / 3)));
  const addPath = c.addPathSend ? families.filter((f) => caps.addPath.some((a) => a.afi === afiOf(f) && a.safi === Safi.Unicast && (a.mode & 1) !== 0)) : [];
  return {
    holdTime, keepaliveTime, fourOctetAsn, families,
    gracefulRestart: c.gracefulRestart !== undefined && caps.gracefulRestart !== undefined,
    extendedMessage: c.extendedMessage && caps.extendedMessage,
    routeRefresh: caps.routeRefresh || caps.enhancedRouteRefresh,
    addPath, peerBgpId: o.bgpId, peerOpen: o,
  };
}

export type ConnectionState = Extract<BgpState, 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established'>;

export class ConnectionFsm {
  state: ConnectionState = 'Connect';
  negotiated?: Negotiated;
  /** Why the connection ended (set when it goes Idle). */
  reason = '';

  constructor(readonly config: FsmConfig) {}

  handle(ev: FsmEvent): FsmAction[] {
    if (this.state === 'Idle') return [];
    switch (ev.type) {
      case 'TcpConnectionConfirmed':
        if (this.state !== 'Connect' && this.state !== 'Active') return [];
        this.state = 'OpenSent';
        return [{ type: 'sendOpen', open: buildOpen(this.config) }, { type: 'startTimer', timer: 'hold', seconds: LARGE_HOLD_TIME }];
      case 'TcpConnectionFails':
        return this.idle(`connection lost: ${ev.reason}`);
      case 'ManualStop':
        return this.state === 'Connect' || this.state === 'Active'
          ? this.idle('stopped')
          : this.fail(new BgpError(ErrorCode.Cease, ev.subcode, ev.data));
      case 'HoldTimerExpires':
        return this.fail(new BgpError(ErrorCode.HoldTimerExpired, 0));
      case 'KeepaliveTimerExpires':
        if (this.state !== 'OpenConfirm' && this.state !== 'Established') return [];
        return [{ type: 'sendKeepalive' }, { type: 'startTimer', timer: 'keepalive', seconds: this.negotiated!.keepaliveTime }];
      case 'NotifMsg':
        return this.idle(`NOTIFICATION received`);
      case 'MessageError':
        return this.fail(ev.error);
      case 'BGPOpen':
        if (this.state !== 'OpenSent') return this.unexpected();
        try {
          this.negotiated = negotiate(this.config, ev.open);
        } catch (e) {
          if (e instanceof BgpError) return this.fail(e);
          throw e;
        }
        this.state = 'OpenConfirm';
        return [
          { type: 'sendKeepalive' },
          ...this.timersAfterOpen(),
        ];
      case 'KeepAliveMsg':
        if (this.state === 'OpenConfirm') {
          this.state = 'Established';
          return [...this.restartHold(), { type: 'established', negotiated: this.negotiated! }];
        }
        if (this.state === 'Established') return this.restartHold();
        return this.unexpected();
      case 'UpdateMsg':
      case 'RouteRefreshMsg':
        if (this.state === 'Established') return this.restartHold();
        return this.unexpected();
    }
  }

  private timersAfterOpen(): FsmAction[] {
    const n = this.negotiated!;
    // Hold time 0: neither hold nor keepalive timer runs (RFC 4271 §4.4).
    if (n.holdTime === 0) return [{ type: 'stopTimer', timer: 'hold' }, { type: 'stopTimer', timer: 'keepalive' }];
    return [{ type: 'startTimer', timer: 'hold', seconds: n.holdTime }, { type: 'startTimer', timer: 'keepalive', seconds: n.keepaliveTime }];
  }

  private restartHold(): FsmAction[] {
    const n = this.negotiated!;
    return n.holdTime === 0 ? [] : [{ type: 'startTimer', timer: 'hold', seconds: n.holdTime }];
  }

  /** A message the state does not allow: FSM Error with RFC 6608's subcode. */
  private unexpected(): FsmAction[] {
    const subcode = this.state === 'OpenSent' ? FsmSubcode.UnexpectedInOpenSent : this.state === 'OpenConfirm' ? FsmSubcode.UnexpectedInOpenConfirm : FsmSubcode.UnexpectedInEstablished;
    return this.fail(new BgpError(ErrorCode.Fsm, subcode));
  }

  /** Send the NOTIFICATION (only once a connection exists and OPEN went out), then drop. */
  private fail(e: BgpError): FsmAction[] {
    const send = this.state === 'OpenSent' || this.state === 'OpenConfirm' || this.state === 'Established';
    const actions: FsmAction[] = send ? [{ type: 'sendNotification', code: e.code, subcode: e.subcode, data: e.data }] : [];
    return [...actions, ...this.idle(e.message)];
  }

  private idle(reason: string): FsmAction[] {
    this.state = 'Idle';
    this.reason = reason;
    return [{ type: 'stopTimer', timer: 'hold' }, { type: 'stopTimer', timer: 'keepalive' }, { type: 'drop', reason }];
  }
}

/**
 * RFC 4271 §6.8: of two connections to the same peer, keep the one initiated by the speaker with
 * the higher BGP identifier. Returns which connection to close.
 */
export function collisionLoser(localId: number, remoteId: number, localAsn = 0, remoteAsn = 0): 'locally-initiated' | 'remotely-initiated' {
  const l = localId >>> 0;
  const r = remoteId >>> 0;
  // Equal identifiers (allowed across ASes, RFC 6286 §2.3): the larger AS number wins.
  if (l === r) return localAsn < remoteAsn ? 'locally-initiated' : 'remotely-initiated';
  return l < r ? 'locally-initiated' : 'remotely-initiated';
}

export const COLLISION_CEASE = CeaseSubcode.ConnectionCollisionResolution;

/** Connect-retry backoff: base, doubling per consecutive failure, capped; with RFC 4271 §10 jitter (0.75..1). */
export function connectRetryDelayMs(baseSeconds: number, failures: number, random: number, capSeconds = 120): number {
  // Right after a session that worked, reconnect quickly (as MetalLB does); back off on failures.
  const s = failures === 0 ? Math.min(baseSeconds, 1) : Math.min(baseSeconds * 2 ** (failures - 1), Math.max(capSeconds, baseSeconds));
  return Math.round(s * 1000 * (0.75 + 0.25 * random));
}

/** A session that stays Established this long is stable: the flap count starts again from 0. */
export const STABLE_SESSION_MS = 60_000;

/**
 * RFC 4271 §8.1.1 DampPeerOscillations: the IdleHoldTime before reconnecting after a session
 * that worked. 1 s after a stable one; after `flaps` sessions in a row that the peer ended within
 * STABLE_SESSION_MS (e.g. it refuses an UPDATE ironlb will send again), 2^flaps s up to the cap,
 * so a peer that keeps refusing is asked ever more rarely instead of every second.
 */
export function idleHoldDelayMs(flaps: number, random: number, capSeconds = 120): number {
  const s = flaps === 0 ? 1 : Math.min(2 ** flaps, capSeconds);
  return Math.round(s * 1000 * (0.75 + 0.25 * random));
}

/** Families for status output. */
export const familyNames = (fs: readonly Family[]): AddressFamily[] => fs.map((f) => (f === 4 ? 'ipv4' : 'ipv6'));

export function publicNegotiated(n: Negotiated, localAddress: string, localPort: number): NegotiatedSession {
  const id = n.peerBgpId >>> 0;
  return {
    holdTime: n.holdTime, keepaliveTime: n.keepaliveTime, fourOctetAsn: n.fourOctetAsn, families: familyNames(n.families),
    gracefulRestart: n.gracefulRestart, extendedMessage: n.extendedMessage, routeRefresh: n.routeRefresh, addPath: familyNames(n.addPath),
    peerRouterId: [id >>> 24, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff].join('.'), peerAsn: openAsn(n.peerOpen), localAddress, localPort,
  };
}
