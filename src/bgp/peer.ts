// One configured neighbor: keeps a session up (connect with backoff, accept from the listener),
// resolves connection collisions (RFC 4271 §6.8), owns the Adj-RIB-Out across sessions, and
// reports one peer-level state.
import type { Socket } from 'node:net';
import { formatIp } from '../net/ip.ts';
import { AdjRibOut } from './adj-rib-out.ts';
import { CeaseSubcode } from './errors.ts';
import { type ConnectionState, type FsmConfig, STABLE_SESSION_MS, collisionLoser, connectRetryDelayMs, idleHoldDelayMs, publicNegotiated } from './fsm.ts';
import type { NotificationMessage } from './notification.ts';
import { notificationText } from './notification.ts';
import { type OpenMessage, openAsn } from './open.ts';
import type { BgpLogger, BgpState, Clock, PeerConfig, PeerStatus } from './peer-config.ts';
import type { RefusedUpdate } from './refused-update.ts';
import { Session, type SessionOwner } from './session.ts';
import type { LogLimiter } from './log-limiter.ts';
import type { DecodedUpdate } from './update.ts';
import { type BgpTransport, TransportError } from './transport.ts';

export interface PeerEvents {
  state(peerId: string, from: BgpState, to: BgpState, reason: string): void;
  established(peer: Peer, s: Session): void;
  notification(peerId: string, direction: 'sent' | 'received', n: NotificationMessage): void;
  error(peerId: string, e: Error): void;
  update?(peerId: string, u: DecodedUpdate): void;
  /** The peer ended the session with NOTIFICATION 3/x after our UPDATE(s); retryMs: next attempt (absent when passive). */
  refused(peerId: string, r: RefusedUpdate, flaps: number, retryMs: number | undefined): void;
}

const order: Record<ConnectionState, number> = { Idle: 0, Connect: 1, Active: 1, OpenSent: 2, OpenConfirm: 3, Established: 4 };

/**
 * Connections one peer may have at once: one we opened, one it opened (a collision, RFC 4271
 * §6.8) and the Established one a graceful-restart reconnection replaces. More from the same
 * address is a misbehaving or hostile peer; each would cost a session and timers.
 */
export const MAX_CONNECTIONS_PER_PEER = 3;

/** Why a TCP MD5 session that gets no answer is hard to diagnose: the kernel drops bad segments silently. */
export const MD5_TIMEOUT_HINT = 'with TCP MD5 a key mismatch looks exactly like this: the peer\'s kernel drops segments with a wrong or missing key without an answer, so check that both sides have the same password';
const NO_MD5_TIMEOUT_HINT = 'if the peer expects TCP MD5, a missing password looks exactly like this (segments without a key are dropped without an answer)';

export class Peer implements SessionOwner {
  readonly rib = new AdjRibOut();
  private readonly sessions = new Set<Session>();
  private established?: Session;
  private state: BgpState = 'Idle';
  private failures = 0;
  private retryTimer?: unknown;
  private connecting = false;
  private stopped = true;
  /** Held down after a reset (BFD damped): no connection out, none accepted, until release(). */
  private held = false;
  /** The R/F bits go out until a session has been established once (RFC 4724 §4.1). */
  private restarting = true;
  private lastError?: string;
  private detailFrom?: Session;
  /** Sessions in a row the peer ended within STABLE_SESSION_MS (DampPeerOscillations). */
  private flaps = 0;
  /** While flapping: no connection out or in before this time (the IdleHoldTimer). */
  private idleHoldUntil = 0;
  /** What the peer last refused, until a session is stable again. */
  private refused?: RefusedUpdate;
  private refusedPending = false;
  /** Bumped by stop(): a connect() that resolves after a restart belongs to an old configuration. */
  private generation = 0;
  private readonly totals = { sent: { open: 0, update: 0, notification: 0, keepalive: 0, routeRefresh: 0 }, received: { open: 0, update: 0, notification: 0, keepalive: 0, routeRefresh: 0 } };

  constructor(
    public config: PeerConfig,
    private readonly transport: BgpTransport,
    private readonly clock: Clock,
    readonly log: BgpLogger,
    private readonly refusedLog: LogLimiter,
    private readonly events: PeerEvents,
    private readonly random: () => number = Math.random,
  ) {}

  get id(): string { return this.config.id; }
  /** With dynamicAsn the kind is configured; the OPEN must then match it (fsm.ts negotiate). */
  get ebgp(): boolean { return this.config.dynamicAsn !== undefined ? this.config.dynamicAsn === 'external' : this.config.myAsn !== this.config.peerAsn; }
  get isHeld(): boolean { return this.held; }
  get currentState(): BgpState { return this.state; }
  get session(): Session | undefined { return this.established; }

  start(): void {
    this.stopped = false;
    if (this.held) this.setState('Idle', 'held down');
    else if (this.config.passive) this.setState('Active', 'passive: waiting for the peer to connect');
    else this.connect();
  }

  /** Stops every connection: Cease with `subcode`, or (graceful) just closes TCP. */
  stop(subcode: number, graceful = false): void {
    this.stopped = true;
    this.generation++;
    this.connecting = false;
    this.clearRetry();
    for (const s of [...this.sessions]) {
      if (graceful) s.abort('graceful shutdown'); else s.stop(subcode);
    }
    this.setState('Idle', 'stopped');
  }

  /**
   * Ends every connection now with Cease `subcode` (sockets closed without waiting), keeping the
   * configuration and the desired routes. The peer then reconnects as after any lost session
   * (connect-retry with backoff), unless `hold`: then it stays Idle until release().
   */
  reset(subcode: number, reason: string, hold: boolean): void {
    if (this.stopped) return;
    if (hold) {
      this.held = true;
      this.generation++;
      this.connecting = false;
      this.clearRetry();
    }
    for (const s of [...this.sessions]) s.reset(subcode);
    this.lastError = reason;
    if (this.held) this.setState('Idle', reason);
  }

  /** ROUTE-REFRESH on the Established session (see Session.requestRefresh); false if none could. */
  requestRefresh(): boolean {
    let asked = false;
    for (const s of this.sessions) asked = s.requestRefresh() || asked;
    return asked;
  }

  /** Ends a hold-down: connect (or wait for the peer) again at once. */
  release(): void {
    if (!this.held) return;
    this.held = false;
    if (this.stopped) return;
    this.failures = 0;
    this.start();
  }

  /** Resolves once every session is gone (or after the timeout). */
  async drained(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.sessions.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  }

  /** Resolves once the Adj-RIB-Out has been written to the socket (or the session is gone). */
  async flushed(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.established && !this.established.idleOutput() && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  }

  fsmConfig(): FsmConfig {
    const c = this.config;
    const families = (c.families ?? ['ipv4', 'ipv6']).map((f) => (f === 'ipv4' ? 4 : 6));
    return {
      myAsn: c.myAsn, ...(c.peerAsn !== undefined ? { peerAsn: c.peerAsn } : {}), ...(c.dynamicAsn ? { dynamicAsn: c.dynamicAsn } : {}), routerId: Number(c.routerId.value & 0xffffffffn),
      holdTimeSeconds: c.holdTimeSeconds, ...(c.keepaliveSeconds !== undefined ? { keepaliveSeconds: c.keepaliveSeconds } : {}),
      families, ...(c.gracefulRestart ? { gracefulRestart: c.gracefulRestart } : {}),
      restarting: this.restarting && c.gracefulRestart !== undefined,
      extendedMessage: c.extendedMessage ?? true, addPathSend: c.addPath ?? false,
    };
  }

  private connect(): void {
    if (this.stopped || this.held || this.connecting || this.config.passive) return;
    this.connecting = true;
    this.setState('Connect', 'connecting');
    const c = this.config;
    const ttl = this.ebgp ? (c.ebgpMultiHop ? 255 : 1) : undefined;
    const generation = this.generation;
    this.transport.connect({
      peerAddress: formatIp(c.peerAddress), peerPort: c.peerPort,
      ...(c.localAddress ? { localAddress: formatIp(c.localAddress) } : {}),
      ...(c.password ? { md5Password: c.password } : {}),
      ...(ttl !== undefined ? { ttl } : {}),
      ...(c.vrf ? { vrf: c.vrf } : {}),
      timeoutMs: Math.max(1000, (c.connectRetrySeconds ?? 5) * 1000),
    }).then((socket) => {
      if (generation !== this.generation) { socket.destroy(); return; }
      this.connecting = false;
      // An incoming connection won meanwhile: RFC 4271 §6.8 keeps the Established one.
      if (this.stopped || this.held || this.established) { socket.destroy(); return; }
      this.attach(socket, 'outgoing');
    }, (e: unknown) => {
      if (generation !== this.generation) return;
      this.connecting = false;
      this.lastError = e instanceof Error ? e.message : String(e);
      if ((e as { code?: unknown }).code === 'ETIMEDOUT') {
        // No answer to our SYN: the usual face of an MD5 key mismatch. Said once per failure streak.
        this.lastError += `; ${c.password ? MD5_TIMEOUT_HINT : NO_MD5_TIMEOUT_HINT}`;
        if (this.failures === 0 && c.password) this.log.warn({ peer: this.id, address: formatIp(c.peerAddress) }, `BGP connection timed out; ${MD5_TIMEOUT_HINT}`);
      }
      // A transport that cannot do what the configuration asks (MD5, VRF) will never succeed.
      if (e instanceof TransportError) this.events.error(this.id, e);
      this.failures++;
      if (this.sessions.size === 0) this.setState('Active', `connect failed: ${this.lastError}`);
      this.scheduleRetry();
    });
  }

  /** A connection from the listener whose source address is this peer's. */
  accept(socket: Socket): void {
    if (this.stopped || this.held) { socket.destroy(); return; }
    if (this.sessions.size >= MAX_CONNECTIONS_PER_PEER) {
      const ok = this.refusedLog.allow(`cap ${this.id}`);
      if (ok) this.log.warn({ peer: this.id, connections: this.sessions.size, ...(ok.suppressed > 0 ? { alsoRefused: ok.suppressed } : {}) }, `refused BGP connection: the peer already has ${MAX_CONNECTIONS_PER_PEER} connections open`);
      socket.destroy();
      return;
    }
    if (this.flaps >= 2 && this.clock.now() < this.idleHoldUntil) {
      // A passive peer's side of the IdleHoldTimer: a peer that keeps refusing what we send
      // would otherwise reconnect at its own pace and get the same UPDATE again.
      this.log.debug({ peer: this.id, flaps: this.flaps }, 'refused incoming BGP connection: idle hold after flapping');
      socket.destroy();
      return;
    }
    if (this.established) {
      if (this.established.negotiated?.gracefulRestart) {
        // RFC 4724 §4.2: a new connection while Established means the peer restarted.
        this.established.abort('peer reconnected (graceful restart)');
      } else {
        // RFC 4271 §6.8: a connection colliding with an Established one is closed.
        const s = this.attach(socket, 'incoming', false);
        s.start();
        s.stop(CeaseSubcode.ConnectionCollisionResolution);
        return;
      }
    }
    this.attach(socket, 'incoming');
  }

  private attach(socket: Socket, direction: 'outgoing' | 'incoming', start = true): Session {
    const c = this.config;
    const s = new Session({
      socket, direction, fsm: this.fsmConfig(), ebgp: this.ebgp, clock: this.clock, owner: this,
      ...(c.nextHop ? { nextHop: c.nextHop } : {}), ...(c.nextHopV6 ? { nextHopV6: c.nextHopV6 } : {}),
      ...(c.nextHopV6LinkLocal ? { nextHopV6LinkLocal: c.nextHopV6LinkLocal } : {}),
    });
    this.sessions.add(s);
    if (start) s.start();
    return s;
  }

  onOpenReceived(s: Session, open: OpenMessage): boolean {
    if (this.established && this.established !== s) return false;
    for (const other of this.sessions) {
      if (other === s || other.state !== 'OpenConfirm') continue;
      const loser = collisionLoser(Number(this.config.routerId.value & 0xffffffffn), open.bgpId, this.config.myAsn, openAsn(open));
      const loserDirection = loser === 'locally-initiated' ? 'outgoing' : 'incoming';
      this.log.info({ peer: this.id, close: loserDirection }, 'connection collision');
      if (s.opts.direction === loserDirection) return false;
      other.stop(CeaseSubcode.ConnectionCollisionResolution);
    }
    return true;
  }

  onEstablished(s: Session): void {
    this.established = s;
    this.failures = 0;
    this.restarting = false;
    this.clearRetry();
    // Any other connection still negotiating lost the race.
    for (const o of this.sessions) if (o !== s) o.stop(CeaseSubcode.ConnectionCollisionResolution);
    this.rib.sessionUp();
    const n = s.negotiated!;
    this.setState('Established', 'session established');
    this.events.established(this, s);
    this.log.info({ peer: this.id, negotiated: publicNegotiated(n, s.localAddress, s.localPort) }, 'BGP session established');
  }

  onStateChange(_s: Session, _from: ConnectionState, _to: ConnectionState, reason: string): void {
    this.recomputeState(reason);
  }

  onNotification(s: Session, direction: 'sent' | 'received', n: NotificationMessage): void {
    const text = notificationText(n);
    if (direction === 'received' && n.code === 3 && s === this.established) {
      const r = s.refusedUpdate(n);
      if (r) { this.refused = r; this.refusedPending = true; }
    }
    if (direction === 'received' || n.code !== 6) this.lastError = `${direction === 'sent' ? 'sent' : 'received'} ${text}`;
    // The drop reason that follows carries the detail (e.g. which AS was expected).
    this.detailFrom = direction === 'sent' && n.code !== 6 ? s : undefined;
    this.events.notification(this.id, direction, n);
  }

  onUpdate(_s: Session, u: DecodedUpdate): void { this.events.update?.(this.id, u); }

  onDown(s: Session, reason: string): void {
    if (!this.sessions.delete(s)) return;
    for (const k of Object.keys(s.sent) as (keyof typeof s.sent)[]) { this.totals.sent[k] += s.sent[k]; this.totals.received[k] += s.received[k]; }
    if (s === this.established) {
      this.established = undefined;
      this.rib.sessionDown();
      const up = this.clock.now() - (s.establishedAt ?? 0);
      if (up >= STABLE_SESSION_MS) { this.flaps = 0; this.refused = undefined; } else if (!s.endedLocally) this.flaps++;
      this.lastError ??= reason;
      if (!reason.startsWith('NOTIFICATION')) this.lastError = reason;
    } else if (s.opts.direction === 'outgoing') {
      this.failures++;
    }
    if (this.detailFrom === s) { this.lastError = `sent ${reason}`; this.detailFrom = undefined; }
    if (!s.negotiated && this.config.password && reason.startsWith('Hold Timer Expired')) {
      // Connected but no OPEN came back within the hold time.
      this.lastError = `${this.lastError ?? reason}; ${MD5_TIMEOUT_HINT}`;
      this.log.warn({ peer: this.id }, `no OPEN from the peer within the hold time; ${MD5_TIMEOUT_HINT}`);
    }
    if (this.sessions.size === 0 && !this.stopped) {
      this.setState('Idle', this.held ? `held down: ${reason}` : reason);
      this.scheduleRetry();
    } else {
      this.recomputeState(reason);
    }
    if (this.refusedPending && this.refused) {
      this.refusedPending = false;
      const wait = this.idleHoldUntil - this.clock.now();
      const retryMs = this.retryTimer !== undefined || (this.config.passive && this.flaps >= 2) ? Math.max(0, wait) : undefined;
      this.events.refused(this.id, this.refused, this.flaps, retryMs);
    }
  }

  /**
   * The desired routes changed. While the peer is idle-held after refusing what we sent, try
   * again at once: the change may be the fix (an advertisement corrected), and if it is not the
   * hold grows as before.
   */
  routesChanged(): void {
    if (this.refused === undefined || this.stopped || this.held || this.established) return;
    this.idleHoldUntil = 0;
    if (this.retryTimer === undefined) return;
    this.clearRetry();
    this.connect();
  }

  private scheduleRetry(): void {
    if (this.held) return;
    // A passive peer makes no attempt of its own, but its IdleHoldTimer still runs (see accept).
    if (this.config.passive && !this.stopped && this.failures === 0 && this.flaps > 0) this.idleHoldUntil = this.clock.now() + idleHoldDelayMs(this.flaps, this.random());
    if (this.stopped || this.config.passive) {
      if (!this.stopped && this.sessions.size === 0) this.setState('Active', 'passive: waiting for the peer to connect');
      return;
    }
    if (this.retryTimer !== undefined || this.connecting || this.sessions.size > 0) return;
    // After a session that worked: 1 s (connectRetrySeconds when shorter), growing while it flaps.
    const delay = this.failures === 0 && this.flaps > 0 ? idleHoldDelayMs(this.flaps, this.random()) : connectRetryDelayMs(this.config.connectRetrySeconds ?? 5, this.failures, this.random());
    this.idleHoldUntil = this.clock.now() + delay;
    if (this.flaps >= 2) this.log.info({ peer: this.id, flaps: this.flaps, retrySeconds: Math.round(delay / 100) / 10 }, 'BGP session flapping: waiting longer before reconnecting');
    this.retryTimer = this.clock.setTimeout(() => { this.retryTimer = undefined; if (this.sessions.size === 0) this.connect(); }, delay);
  }

  private clearRetry(): void {
    if (this.retryTimer !== undefined) { this.clock.clearTimeout(this.retryTimer); this.retryTimer = undefined; }
  }

  private recomputeState(reason: string): void {
    if (this.stopped) return;
    let best: ConnectionState | undefined;
    for (const s of this.sessions) if (best === undefined || order[s.state] > order[best]) best = s.state;
    if (best === undefined || best === 'Idle') return;
    this.setState(best, reason);
  }

  private setState(to: BgpState, reason: string): void {
    const from = this.state;
    if (from === to) return;
    this.state = to;
    this.log.debug({ peer: this.id, from, to, reason }, 'BGP state');
    this.events.state(this.id, from, to, reason);
  }

  /** Asks the current session (if any) to send what changed. */
  kick(): void { this.established?.kick(); }

  status(): PeerStatus {
    const s = this.established;
    const sum = (k: 'sent' | 'received') => {
      const t = { ...this.totals[k] };
      for (const x of this.sessions) for (const m of Object.keys(t) as (keyof typeof t)[]) t[m] += x[k][m];
      return t;
    };
    return {
      state: this.state,
      ...(s?.establishedAt !== undefined ? { uptimeMs: this.clock.now() - s.establishedAt } : {}),
      ...(s?.negotiated ? { negotiated: publicNegotiated(s.negotiated, s.localAddress, s.localPort) } : {}),
      sent: sum('sent'), received: sum('received'),
      desiredRoutes: this.rib.desiredCount, advertisedRoutes: this.rib.sentCount,
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
      ...(this.flaps > 0 ? { flaps: this.flaps } : {}),
      ...(this.retryTimer !== undefined ? { retryInMs: Math.max(0, this.idleHoldUntil - this.clock.now()) } : {}),
      ...(this.refused && !(s?.establishedAt !== undefined && this.clock.now() - s.establishedAt >= STABLE_SESSION_MS) ? { refusedUpdate: this.refused } : {}),
    };
  }
}
