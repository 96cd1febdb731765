// The per-peer settings and the status the speaker reports. Part of the public API of bgp/.
import type { IpAddress } from '../net/ip.ts';
import type { RefusedUpdate } from './refused-update.ts';

export type { RefusedUpdate, RefusedAttributeSet } from './refused-update.ts';

export type AddressFamily = 'ipv4' | 'ipv6';

export interface PeerConfig {
  /** Unique key chosen by the caller (e.g. the BGPPeer name). */
  readonly id: string;
  readonly peerAddress: IpAddress;
  /** Default 179. */
  readonly peerPort: number;
  /** Source address of the session (BGPPeer sourceAddress). */
  readonly localAddress?: IpAddress;
  readonly myAsn: number;
  /** Required unless `dynamicAsn` is set (then it must be left out). */
  readonly peerAsn?: number;
  /**
   * MetalLB's BGPPeer dynamicASN: accept the peer's ASN from its OPEN when it equals myAsn
   * (internal: iBGP) or differs from it (external: eBGP); else NOTIFICATION OPEN / Bad Peer AS.
   */
  readonly dynamicAsn?: 'internal' | 'external';
  readonly routerId: IpAddress;
  /** Proposed hold time: 0, or 3..65535. 0 = no keepalives, no hold timer. */
  readonly holdTimeSeconds: number;
  /** Default: a third of the negotiated hold time. */
  readonly keepaliveSeconds?: number;
  /** Initial connect-retry interval (BGPPeer connectTime); doubles up to 8x on repeated failure. Default 5. */
  readonly connectRetrySeconds?: number;
  /** eBGP multi-hop: TTL 255 instead of 1. */
  readonly ebgpMultiHop: boolean;
  /** TCP MD5 (needs the native transport). */
  readonly password?: string;
  readonly vrf?: string;
  /** IPv4 next hop for IPv4 routes; default the session's local address (when IPv4). */
  readonly nextHop?: IpAddress;
  /** IPv6 global next hop for IPv6 routes; default the session's local address (when IPv6). */
  readonly nextHopV6?: IpAddress;
  /** Sent as the second (link-local) IPv6 next hop of MP_REACH_NLRI (RFC 2545), when set. */
  readonly nextHopV6LinkLocal?: IpAddress;
  /** Advertise graceful restart (RFC 4724) with this restart time. */
  readonly gracefulRestart?: { readonly restartTimeSeconds: number };
  /** Never connect; wait for the peer to connect to the speaker's listener. */
  readonly passive?: boolean;
  /** Families to negotiate. Default both. */
  readonly families?: readonly AddressFamily[];
  /** Advertise ADD-PATH send (RFC 7911); used for families where the peer can receive. Default false. */
  readonly addPath?: boolean;
  /** Advertise extended messages (RFC 8654). Default true. */
  readonly extendedMessage?: boolean;
}

export type BgpState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

export interface NegotiatedSession {
  /** 0 = no keepalives. */
  readonly holdTime: number;
  readonly keepaliveTime: number;
  readonly fourOctetAsn: boolean;
  readonly families: readonly AddressFamily[];
  /** Both sides advertised graceful restart. */
  readonly gracefulRestart: boolean;
  readonly extendedMessage: boolean;
  readonly routeRefresh: boolean;
  /** Families for which we may send ADD-PATH path identifiers. */
  readonly addPath: readonly AddressFamily[];
  readonly peerRouterId: string;
  /** The peer's ASN from its OPEN (the configured one, or the one dynamicAsn accepted). */
  readonly peerAsn: number;
  readonly localAddress: string;
  readonly localPort: number;
}

export interface MessageCounts {
  open: number;
  update: number;
  notification: number;
  keepalive: number;
  routeRefresh: number;
}

export interface PeerStatus {
  readonly state: BgpState;
  /** Milliseconds since the session became Established. */
  readonly uptimeMs?: number;
  readonly negotiated?: NegotiatedSession;
  readonly sent: Readonly<MessageCounts>;
  readonly received: Readonly<MessageCounts>;
  /** Routes the caller wants announced / routes currently in the Adj-RIB-Out. */
  readonly desiredRoutes: number;
  readonly advertisedRoutes: number;
  /** The last error or NOTIFICATION that ended a session, if any. */
  readonly lastError?: string;
  /** Sessions in a row the peer ended within a minute of Established (the reconnect delay grows with it). */
  readonly flaps?: number;
  /** Milliseconds until the next connection attempt, while one is scheduled. */
  readonly retryInMs?: number;
  /** The UPDATE(s) the peer last refused with NOTIFICATION 3/x, until a session is stable again. */
  readonly refusedUpdate?: RefusedUpdate;
}

export interface StateChangeEvent { readonly peerId: string; readonly from: BgpState; readonly to: BgpState; readonly reason: string }
export interface EstablishedEvent { readonly peerId: string; readonly negotiated: NegotiatedSession }
export interface NotificationEvent { readonly peerId: string; readonly direction: 'sent' | 'received'; readonly code: number; readonly subcode: number; readonly text: string }
export interface PeerErrorEvent { readonly peerId: string; readonly error: Error }
/**
 * The peer ended the session with NOTIFICATION 3/x (UPDATE Message Error) after our UPDATE(s):
 * what it refused, how many times in a row, and when the next attempt is (absent: passive peer).
 */
export interface RefusedUpdateEvent { readonly peerId: string; readonly refused: RefusedUpdate; readonly flaps: number; readonly retryInMs?: number }

/** Subset of pino's interface the speaker uses. */
export interface BgpLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** Time source and timers; tests inject a fake. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /**
   * Runs `fn` once the input already waiting has been read. Node's loop runs due timers before it
   * polls the sockets, so after a stall of the event loop (a long synchronous pass) a deadline
   * fires before the messages that arrived meanwhile are seen; a timer that judges the peer's
   * silence calls this first (as BIRD re-arms its hold timer when input is waiting). Absent: at once.
   */
  afterIo?(fn: () => void): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => { const t = setTimeout(fn, ms); t.unref?.(); return t; },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  // A timer callback runs in the timers phase; setImmediate's in the check phase, after the poll.
  afterIo: (fn) => { setImmediate(fn); },
};
