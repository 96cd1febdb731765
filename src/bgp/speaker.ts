// Many peers, one optional listener. The public face of bgp/: callers add peers and set, per
// peer, the routes they want announced; the speaker keeps sessions up and sends only differences.
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { formatIp, ipEquals, parseIp } from '../net/ip.ts';
import { CeaseSubcode, ErrorCode, describeNotification } from './errors.ts';
import { publicNegotiated } from './fsm.ts';
import { notificationText } from './notification.ts';
import { Peer } from './peer.ts';
import type { BgpLogger, Clock, EstablishedEvent, NotificationEvent, PeerConfig, PeerErrorEvent, PeerStatus, RefusedUpdateEvent, StateChangeEvent } from './peer-config.ts';
import { refusedText } from './refused-update.ts';
import { LogLimiter } from './log-limiter.ts';
import { systemClock } from './peer-config.ts';
import type { Prefix } from '../net/prefix.ts';
import type { Route } from './route.ts';
import type { DecodedUpdate } from './update.ts';
import { unmapV4 } from './session.ts';
import { type BgpListener, type BgpTransport, plainTransport } from './transport.ts';

export type * from './peer-config.ts';
export type { Route, RouteAttributes } from './route.ts';
export { plainTransport } from './transport.ts';
export type { BgpTransport, BgpListener, ConnectOptions, ListenOptions } from './transport.ts';

export interface BgpSpeakerOptions {
  readonly transport?: BgpTransport;
  /** Accept connections from configured peers (others are refused). */
  readonly listen?: { readonly host: string; readonly port: number };
  readonly logger?: BgpLogger;
  readonly clock?: Clock;
  /** For deterministic connect-retry jitter in tests. */
  readonly random?: () => number;
}

const silent: BgpLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined };

/** Settings whose change needs a new session (everything but the route next hops). */
function sessionKey(c: PeerConfig): string {
  return JSON.stringify(c, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** A decoded inbound UPDATE (routes are never imported; this is for observers and tests). */
export interface UpdateEvent { readonly peerId: string; readonly update: DecodedUpdate }

/** Throws an Error naming the peer, the field and what is allowed. */
export function checkPeerConfig(c: PeerConfig): void {
  const bad = (field: string, allowed: string): never => { throw new Error(`BGP peer "${c.id}": ${field} must be ${allowed}`); };
  const asn = (v: number) => Number.isInteger(v) && v >= 1 && v <= 0xffffffff;
  if (!asn(c.myAsn)) bad('myAsn', 'an integer 1..4294967295');
  if (c.dynamicAsn !== undefined) {
    if (c.dynamicAsn !== 'internal' && c.dynamicAsn !== 'external') bad('dynamicAsn', "'internal' or 'external'");
    if (c.peerAsn !== undefined) bad('peerAsn', 'left out when dynamicAsn is set');
  } else if (c.peerAsn === undefined || !asn(c.peerAsn)) bad('peerAsn', 'an integer 1..4294967295 (or set dynamicAsn)');
  if (c.routerId.family !== 4 || c.routerId.value === 0n) bad('routerId', 'a non-zero IPv4 address');
  if (!Number.isInteger(c.holdTimeSeconds) || c.holdTimeSeconds === 1 || c.holdTimeSeconds === 2 || c.holdTimeSeconds < 0 || c.holdTimeSeconds > 65535) bad('holdTimeSeconds', '0 or 3..65535');
  if (c.keepaliveSeconds !== undefined && (!Number.isInteger(c.keepaliveSeconds) || c.keepaliveSeconds < 0 || c.keepaliveSeconds > 21845)) bad('keepaliveSeconds', 'an integer 0..21845');
  if (!Number.isInteger(c.peerPort) || c.peerPort < 0 || c.peerPort > 65535) bad('peerPort', 'a port 0..65535');
  if (c.connectRetrySeconds !== undefined && !(c.connectRetrySeconds > 0)) bad('connectRetrySeconds', 'positive');
  if (c.nextHop && c.nextHop.family !== 4) bad('nextHop', 'an IPv4 address');
  if (c.nextHopV6 && c.nextHopV6.family !== 6) bad('nextHopV6', 'an IPv6 address');
  if (c.nextHopV6LinkLocal && (c.nextHopV6LinkLocal.family !== 6 || c.nextHopV6LinkLocal.value >> 118n !== 0x3fan)) bad('nextHopV6LinkLocal', 'an IPv6 link-local address (fe80::/10)');
  // gracefulRestart.restartTimeSeconds above 4095 (12 bits) is sent as 4095.
  if (c.families && c.families.length === 0) bad('families', 'non-empty (ipv4, ipv6)');
}

/**
 * Events: 'state' StateChangeEvent, 'established' EstablishedEvent, 'notification'
 * NotificationEvent, 'update' UpdateEvent, 'error' PeerErrorEvent and 'refused'
 * RefusedUpdateEvent (these two only emitted when someone listens; otherwise logged at warn).
 */
export class BgpSpeaker extends EventEmitter {
  private readonly peers = new Map<string, Peer>();
  private readonly transport: BgpTransport;
  private readonly clock: Clock;
  private readonly log: BgpLogger;
  private listener?: BgpListener;
  private closed = false;
  private refusedLog!: LogLimiter;

  constructor(readonly options: BgpSpeakerOptions = {}) {
    super();
    this.transport = options.transport ?? plainTransport;
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? silent;
    this.refusedLog = new LogLimiter(this.clock);
  }

  /** Starts the listener, if configured. Peers can be added before or after. */
  async start(): Promise<void> {
    if (!this.options.listen || this.listener) return;
    const md5Keys = [...this.peers.values()].filter((p) => p.config.password).map((p) => ({ address: formatIp(p.config.peerAddress), password: p.config.password! }));
    this.listener = await this.transport.listen({ host: this.options.listen.host, port: this.options.listen.port, ...(md5Keys.length > 0 ? { md5Keys } : {}) }, (s) => this.onConnection(s));
  }

  listenAddress(): { address: string; port: number } | undefined { return this.listener?.address(); }

  private onConnection(socket: Socket): void {
    const remote = parseIp(unmapV4(socket.remoteAddress ?? ''));
    const peer = remote && [...this.peers.values()].find((p) => ipEquals(p.config.peerAddress, remote));
    if (!peer || this.closed) {
      // A scanner or a misconfigured router retries all day: one line per address a minute.
      const remote = unmapV4(socket.remoteAddress ?? '');
      const ok = this.refusedLog.allow(remote);
      if (ok) this.log.info({ remote, ...(ok.suppressed > 0 ? { alsoRefused: ok.suppressed } : {}) }, 'refused BGP connection from an address that is not a configured peer');
      socket.destroy();
      return;
    }
    peer.accept(socket);
  }

  addPeer(c: PeerConfig): void {
    if (this.peers.has(c.id)) throw new Error(`BGP peer "${c.id}" already exists`);
    checkPeerConfig(c);
    if (this.closed) throw new Error('the BGP speaker is closed');
    const peer = new Peer(c, this.transport, this.clock, this.log, this.refusedLog, {
      state: (peerId, from, to, reason) => this.emit('state', { peerId, from, to, reason } satisfies StateChangeEvent),
      established: (p, s) => this.emit('established', { peerId: p.id, negotiated: publicNegotiated(s.negotiated!, s.localAddress, s.localPort) } satisfies EstablishedEvent),
      notification: (peerId, direction, n) => {
        const text = notificationText(n);
        // A peer that fails the same way on every attempt (a wrong AS, a refused UPDATE) would
        // repeat this line all day: once a minute per peer, direction and code, with the count.
        const ok = this.refusedLog.allow(`notification ${peerId} ${direction} ${n.code}/${n.subcode}`);
        if (ok) this.log.info({ peer: peerId, direction, code: n.code, subcode: n.subcode, ...(ok.suppressed > 0 ? { alsoSeen: ok.suppressed } : {}) }, `NOTIFICATION ${direction}: ${text}`);
        this.emit('notification', { peerId, direction, code: n.code, subcode: n.subcode, text } satisfies NotificationEvent);
      },
      error: (peerId, error) => this.reportError(peerId, error),
      update: (peerId, update) => { if (this.listenerCount('update') > 0) this.emit('update', { peerId, update } satisfies UpdateEvent); },
      refused: (peerId, refused, flaps, retryInMs) => {
        const e: RefusedUpdateEvent = { peerId, refused, flaps, ...(retryInMs !== undefined ? { retryInMs } : {}) };
        // The caller can say which Services the prefixes belong to; else log what bgp/ knows.
        if (this.listenerCount('refused') > 0) this.emit('refused', e);
        else this.log.warn({ peer: peerId, flaps, ...(retryInMs !== undefined ? { retrySeconds: Math.round(retryInMs / 100) / 10 } : {}), refused }, refusedText(refused));
      },
    }, this.options.random);
    this.peers.set(c.id, peer);
    if (c.password && this.listener) this.trySetKey(formatIp(c.peerAddress), c.password);
    peer.start();
  }

  /** Applies new settings; a change that affects the session restarts it (Cease / Other Configuration Change). */
  updatePeer(c: PeerConfig): void {
    const peer = this.peers.get(c.id);
    if (!peer) { this.addPeer(c); return; }
    checkPeerConfig(c);
    if (sessionKey(peer.config) === sessionKey(c)) return;
    const oldPassword = peer.config.password;
    const oldAddress = formatIp(peer.config.peerAddress);
    peer.stop(CeaseSubcode.OtherConfigurationChange);
    peer.config = c;
    if (this.listener && (oldPassword !== c.password || oldAddress !== formatIp(c.peerAddress))) {
      if (oldPassword) this.trySetKey(oldAddress, undefined);
      if (c.password) this.trySetKey(formatIp(c.peerAddress), c.password);
    }
    peer.start();
  }

  async removePeer(id: string): Promise<void> {
    const peer = this.peers.get(id);
    if (!peer) return;
    this.peers.delete(id);
    peer.stop(CeaseSubcode.PeerDeconfigured);
    if (peer.config.password && this.listener) this.trySetKey(formatIp(peer.config.peerAddress), undefined);
    await peer.drained(3000);
  }

  /**
   * Ends the peer's session now: NOTIFICATION Cease with `reason.subcode` (e.g. 10, BFD Down,
   * RFC 9384), the socket closed without waiting to drain. Configuration and desired routes stay;
   * the peer reconnects with the usual connect-retry, and the new session gets the full table and
   * End-of-RIB. `holdDown`: stay Idle (no connect, incoming refused) until releasePeer().
   */
  resetPeer(id: string, reason: { subcode: number; message?: string; holdDown?: boolean }): void {
    const peer = this.peers.get(id);
    if (!peer) return;
    const text = `reset: ${describeNotification(ErrorCode.Cease, reason.subcode)}${reason.message ? ` (${reason.message})` : ''}`;
    this.log.info({ peer: id, subcode: reason.subcode, holdDown: reason.holdDown === true }, text);
    peer.reset(reason.subcode, text, reason.holdDown === true);
  }

  /**
   * Asks the peer to send all its routes again (ROUTE-REFRESH, RFC 2918), e.g. when a receive
   * policy starts wanting them; false when it cannot (no Established session, or the peer did not
   * advertise the capability): then only a reset makes the peer send them.
   */
  refreshPeer(id: string): boolean {
    const asked = this.peers.get(id)?.requestRefresh() ?? false;
    if (asked) this.log.info({ peer: id }, 'ROUTE-REFRESH sent');
    return asked;
  }

  /** Ends a hold-down from resetPeer(): the peer connects again at once. */
  releasePeer(id: string): void { this.peers.get(id)?.release(); }

  /** Desired state for the peer: only the difference from what was sent goes on the wire. */
  setRoutes(peerId: string, routes: readonly Route[]): void {
    const peer = this.peers.get(peerId);
    if (!peer) throw new Error(`no BGP peer "${peerId}"`);
    if (peer.rib.setDesired(routes) > 0) { peer.kick(); peer.routesChanged(); }
  }

  /** Some routes changed for the peer (the rest stay as they are): costs what changed. */
  updateRoutes(peerId: string, announce: readonly Route[], withdraw: readonly Prefix[]): void {
    const peer = this.peers.get(peerId);
    if (!peer) throw new Error(`no BGP peer "${peerId}"`);
    if (peer.rib.updateDesired(announce, withdraw) > 0) peer.kick();
  }

  peerState(id: string): PeerStatus | undefined { return this.peers.get(id)?.status(); }
  peerIds(): string[] { return [...this.peers.keys()]; }

  /** graceful: just close (peers keep routes as stale, RFC 4724); else withdraw all, then Cease. */
  async close(opts: { graceful?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const peers = [...this.peers.values()];
    if (!opts.graceful) {
      for (const p of peers) { p.rib.setDesired([]); p.kick(); }
      await Promise.all(peers.map((p) => p.flushed(3000)));
    }
    for (const p of peers) p.stop(CeaseSubcode.AdministrativeShutdown, opts.graceful === true);
    await Promise.all(peers.map((p) => p.drained(3000)));
    this.peers.clear();
    await this.listener?.close();
    this.listener = undefined;
  }

  private trySetKey(address: string, password: string | undefined): void {
    try { this.listener?.setMd5Key(address, password); } catch (e) { this.reportError('', e instanceof Error ? e : new Error(String(e))); }
  }

  private reportError(peerId: string, error: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', { peerId, error } satisfies PeerErrorEvent);
    else this.log.warn({ peer: peerId, err: error.message }, 'BGP error');
  }
}
