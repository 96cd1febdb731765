// One BGP connection over one socket: frames and decodes input, drives the ConnectionFsm, runs its
// timers, and, once Established, drains the peer's Adj-RIB-Out through an UpdatePacker while
// respecting socket backpressure.
import type { Socket } from 'node:net';
import type { Family } from '../net/ip.ts';
import { type IpAddress, ipToBytes, parseIp } from '../net/ip.ts';
import type { AdjRibOut } from './adj-rib-out.ts';
import type { DecodeContext } from './attributes.ts';
import { BufferWriter } from './buffer-writer.ts';
import { Afi, Safi } from './capabilities.ts';
import { encodeRouteRefresh } from './route-refresh.ts';
import { familyOf } from './attributes.ts';
import { BgpError, CeaseSubcode, ErrorCode, worstProblem } from './errors.ts';
import { type ConnectionState, type FsmAction, type FsmConfig, type FsmEvent, type Negotiated, type Timer, ConnectionFsm } from './fsm.ts';
import { MAX_EXTENDED_MESSAGE, MAX_MESSAGE, MessageFramer } from './framing.ts';
import { KEEPALIVE } from './keepalive.ts';
import { type BgpMessage, decodeMessage } from './messages.ts';
import { type NotificationMessage, encodeNotification, notificationText } from './notification.ts';
import { type OpenMessage, encodeOpen } from './open.ts';
import type { BgpLogger, Clock, MessageCounts } from './peer-config.ts';
import { type RefusedUpdate, findRefusedUpdate } from './refused-update.ts';
import { UpdatePacker } from './update-packer.ts';
import { type DecodedUpdate, encodeEndOfRib } from './update.ts';
import { reconcileAs4 } from './as4-path.ts';

export interface SessionOwner {
  readonly rib: AdjRibOut;
  readonly log: BgpLogger;
  /** An OPEN arrived; false when this connection lost a collision and must close. */
  onOpenReceived(s: Session, open: OpenMessage): boolean;
  onEstablished(s: Session): void;
  onStateChange(s: Session, from: ConnectionState, to: ConnectionState, reason: string): void;
  onNotification(s: Session, direction: 'sent' | 'received', n: NotificationMessage): void;
  onDown(s: Session, reason: string): void;
  /** Decoded inbound UPDATEs, for observers (tests, debugging); ironlb imports nothing. */
  onUpdate?(s: Session, u: DecodedUpdate): void;
}

export interface SessionOptions {
  readonly socket: Socket;
  readonly direction: 'outgoing' | 'incoming';
  readonly fsm: FsmConfig;
  readonly ebgp: boolean;
  readonly clock: Clock;
  readonly owner: SessionOwner;
  readonly nextHop?: IpAddress;
  readonly nextHopV6?: IpAddress;
  readonly nextHopV6LinkLocal?: IpAddress;
}

/** Bytes per write while draining the Adj-RIB-Out; between writes the event loop runs. */
const BATCH_BYTES = 128 * 1024;
/**
 * The last batches written are kept (copies, at most this many) so that an UPDATE the peer
 * refuses with NOTIFICATION 3/x can be named; dropped once a KEEPALIVE arrives this long after.
 */
const REMEMBERED_BATCHES = 2;
const REMEMBER_MS = 10_000;
const newCounts = (): MessageCounts => ({ open: 0, update: 0, notification: 0, keepalive: 0, routeRefresh: 0 });

export class Session {
  readonly fsm: ConnectionFsm;
  readonly sent = newCounts();
  readonly received = newCounts();
  establishedAt?: number;
  private readonly framer = new MessageFramer();
  private readonly timers = new Map<Timer, unknown>();
  private packer?: UpdatePacker;
  private decodeCtx: DecodeContext;
  private waitingDrain = false;
  private pumpScheduled = false;
  private endOfRibPending = false;
  private closed = false;
  private unsendableLogged = 0;
  /** Set by reset(): close the socket at once instead of lingering for the peer to read. */
  private closeNow = false;
  /** The session was ended on our side (stop, reset, abort): not the peer's doing. */
  endedLocally = false;
  private recent: { at: number; bytes: Buffer }[] = [];
  readonly localAddress: string;
  readonly localPort: number;

  constructor(readonly opts: SessionOptions) {
    this.fsm = new ConnectionFsm(opts.fsm);
    this.fsm.state = opts.direction === 'outgoing' ? 'Connect' : 'Active';
    this.decodeCtx = { fourOctetAsn: false, ebgp: opts.ebgp };
    this.localAddress = unmapV4(opts.socket.localAddress ?? '');
    this.localPort = opts.socket.localPort ?? 0;
    const s = opts.socket;
    s.setNoDelay(true);
    s.on('data', (chunk: Buffer) => this.onData(chunk));
    s.on('error', (e) => this.dispatch({ type: 'TcpConnectionFails', reason: e.message }));
    s.on('close', () => this.dispatch({ type: 'TcpConnectionFails', reason: 'closed by peer' }));
    s.on('end', () => this.dispatch({ type: 'TcpConnectionFails', reason: 'closed by peer' }));
  }

  get state(): ConnectionState { return this.fsm.state; }
  get negotiated(): Negotiated | undefined { return this.fsm.negotiated; }

  start(): void { this.dispatch({ type: 'TcpConnectionConfirmed' }); }

  /** Ends the session with a Cease NOTIFICATION (subcode per RFC 4486). */
  stop(subcode: number, data?: Buffer): void { if (this.fsm.state !== 'Idle') this.endedLocally = true; this.dispatch({ type: 'ManualStop', subcode, ...(data ? { data } : {}) }); }

  /**
   * Ends the session with a Cease NOTIFICATION and closes the socket at once: the path is
   * probably gone (BFD Down), so nothing waits for the peer to read. What the kernel already has
   * is still sent before the FIN.
   */
  reset(subcode: number, data?: Buffer): void {
    this.closeNow = true;
    this.stop(subcode, data);
  }

  /**
   * Asks the peer to send its routes again (ROUTE-REFRESH, RFC 2918), one request per negotiated
   * family; only on an Established session whose peer advertised the capability. False otherwise.
   */
  requestRefresh(): boolean {
    const n = this.negotiated;
    if (this.fsm.state !== 'Established' || !n?.routeRefresh) return false;
    for (const f of n.families) {
      this.sent.routeRefresh++;
      this.write(encodeRouteRefresh({ afi: f === 4 ? Afi.Ipv4 : Afi.Ipv6, safi: Safi.Unicast, subtype: 0 }));
    }
    return true;
  }

  /** Ends the session without a NOTIFICATION: what a restarting speaker does for graceful restart. */
  abort(reason: string): void {
    if (this.fsm.state === 'Idle') return;
    this.endedLocally = true;
    this.opts.socket.destroy();
    this.dispatch({ type: 'TcpConnectionFails', reason });
  }

  /** Something in the Adj-RIB-Out changed: send it when the socket can take it. */
  kick(): void {
    if (this.fsm.state !== 'Established' || this.pumpScheduled || this.waitingDrain) return;
    this.pumpScheduled = true;
    setImmediate(() => { this.pumpScheduled = false; this.pump(); });
  }

  /** True while Established with nothing left to send. */
  idleOutput(): boolean { return this.fsm.state === 'Established' && !this.hasPending() && !this.endOfRibPending && !this.waitingDrain; }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.framer.push(chunk);
    for (;;) {
      if (this.closed) return;
      let msg: BgpMessage;
      try {
        const raw = this.framer.next();
        if (!raw) return;
        msg = decodeMessage(raw, this.decodeCtx);
      } catch (e) {
        this.dispatch({ type: 'MessageError', error: asBgpError(e) });
        return;
      }
      this.onMessage(msg);
    }
  }

  /** Exposed for the fuzzer: the same path as socket input. */
  feed(chunk: Buffer): void { this.onData(chunk); }

  private onMessage(m: BgpMessage): void {
    switch (m.type) {
      case 'open':
        this.received.open++;
        if (this.fsm.state === 'OpenSent' && !this.opts.owner.onOpenReceived(this, m.open)) {
          this.stop(CeaseSubcode.ConnectionCollisionResolution);
          return;
        }
        this.dispatch({ type: 'BGPOpen', open: m.open });
        return;
      case 'keepalive': {
        this.received.keepalive++;
        const old = this.opts.clock.now() - REMEMBER_MS;
        if (this.recent.length > 0 && this.recent[0]!.at < old) this.recent = this.recent.filter((r) => r.at >= old);
        this.dispatch({ type: 'KeepAliveMsg' });
        return;
      }
      case 'notification':
        this.received.notification++;
        this.opts.owner.onNotification(this, 'received', m.notification);
        this.dispatch({ type: 'NotifMsg', notification: m.notification });
        return;
      case 'route-refresh': {
        this.received.routeRefresh++;
        this.dispatch({ type: 'RouteRefreshMsg' });
        const family = familyOf(m.routeRefresh.afi, m.routeRefresh.safi);
        // Subtypes 1/2 are BoRR/EoRR markers (RFC 7313), not requests.
        if (this.fsm.state === 'Established' && family && m.routeRefresh.subtype === 0 && this.negotiated!.families.includes(family)) {
          this.opts.owner.rib.refresh(family);
          this.kick();
        }
        return;
      }
      case 'update': {
        this.received.update++;
        const worst = worstProblem(m.update.problems);
        if (worst?.action === 'session-reset' && this.fsm.state === 'Established') {
          this.dispatch({ type: 'MessageError', error: new BgpError(worst.code, worst.subcode, worst.data, worst.detail) });
          return;
        }
        if (worst) this.opts.owner.log.debug({ problem: worst.detail, action: worst.action }, 'malformed UPDATE (RFC 7606)');
        // ironlb imports no routes: a well-formed UPDATE only refreshes the hold timer.
        this.dispatch({ type: 'UpdateMsg' });
        // Observers see the path the peer meant: AS4_PATH merged in from a 2-octet peer (RFC 6793).
        if (this.fsm.state === 'Established' && this.opts.owner.onUpdate) {
          const attributes = reconcileAs4(m.update.attributes, this.decodeCtx.fourOctetAsn);
          this.opts.owner.onUpdate(this, attributes === m.update.attributes ? m.update : { ...m.update, attributes });
        }
        return;
      }
    }
  }

  private dispatch(ev: FsmEvent): void {
    if (this.closed) return;
    const from = this.fsm.state;
    let actions: FsmAction[];
    try {
      actions = this.fsm.handle(ev);
    } catch (e) {
      actions = this.fsm.handle({ type: 'MessageError', error: asBgpError(e) });
    }
    const to = this.fsm.state;
    for (const a of actions) this.run(a);
    if (from !== to) {
      const reason = to === 'Idle' ? this.fsm.reason : ev.type;
      this.opts.owner.onStateChange(this, from, to, reason);
    }
  }

  private run(a: FsmAction): void {
    const s = this.opts.socket;
    switch (a.type) {
      case 'sendOpen': this.sent.open++; this.write(encodeOpen(a.open)); return;
      case 'sendKeepalive': this.sent.keepalive++; this.write(KEEPALIVE); return;
      case 'sendNotification': {
        const n = { code: a.code, subcode: a.subcode, data: a.data };
        this.sent.notification++;
        this.write(encodeNotification(n));
        this.opts.owner.onNotification(this, 'sent', n);
        return;
      }
      case 'startTimer': this.startTimer(a.timer, a.seconds); return;
      case 'stopTimer': this.stopTimer(a.timer); return;
      case 'established': this.onEstablished(a.negotiated); return;
      case 'drop': {
        this.closed = true;
        for (const t of [...this.timers.keys()]) this.stopTimer(t);
        // end() flushes a NOTIFICATION still queued; destroy() follows in case the peer never reads.
        if (!s.destroyed) {
          s.end();
          if (this.closeNow && !(s.writableLength > 0)) s.destroy();
          else { const t = this.opts.clock.setTimeout(() => s.destroy(), this.closeNow ? 200 : 2000); s.once('close', () => this.opts.clock.clearTimeout(t)); }
        }
        this.packer = undefined;
        this.opts.owner.onDown(this, a.reason);
        return;
      }
    }
  }

  private write(b: Buffer): boolean {
    const s = this.opts.socket;
    if (s.destroyed || !s.writable) return false;
    return s.write(b);
  }

  private startTimer(t: Timer, seconds: number): void {
    this.stopTimer(t);
    if (seconds <= 0) return;
    const ev: FsmEvent = t === 'hold' ? { type: 'HoldTimerExpires' } : { type: 'KeepaliveTimerExpires' };
    const clock = this.opts.clock;
    const fire = (): void => { if (this.timers.get(t) !== handle) return; this.timers.delete(t); this.dispatch(ev); };
    // The hold timer judges the peer's silence: read what arrived while our loop was held up
    // first (a message restarts the timer, and this expiry is then stale).
    const handle: unknown = clock.setTimeout(() => (t === 'hold' && clock.afterIo ? clock.afterIo(fire) : fire()), seconds * 1000);
    this.timers.set(t, handle);
  }

  private stopTimer(t: Timer): void {
    const h = this.timers.get(t);
    if (h !== undefined) { this.opts.clock.clearTimeout(h); this.timers.delete(t); }
  }

  private onEstablished(n: Negotiated): void {
    this.establishedAt = this.opts.clock.now();
    this.decodeCtx = { fourOctetAsn: n.fourOctetAsn, ebgp: this.opts.ebgp };
    this.framer.maxLength = n.extendedMessage ? MAX_EXTENDED_MESSAGE : MAX_MESSAGE;
    const local = parseIp(this.localAddress);
    const nh4 = this.opts.nextHop ?? (local?.family === 4 ? local : undefined);
    // An IPv6 next hop over an IPv4 session: the IPv4-mapped address, unless one is configured.
    const nh6 = this.opts.nextHopV6 ?? (local?.family === 6 ? local : local ? { family: 6 as const, value: 0xffff00000000n | local.value } : undefined);
    this.packer = new UpdatePacker({
      ebgp: this.opts.ebgp, myAsn: this.opts.fsm.myAsn, fourOctetAsn: n.fourOctetAsn,
      ...(nh4 ? { nextHop4: ipToBytes(nh4) } : {}),
      ...(nh6 ? { nextHop6: this.opts.nextHopV6LinkLocal ? Buffer.concat([ipToBytes(nh6), ipToBytes(this.opts.nextHopV6LinkLocal)]) : ipToBytes(nh6) } : {}),
      maxMessage: n.extendedMessage ? MAX_EXTENDED_MESSAGE : MAX_MESSAGE,
      addPath: { 4: n.addPath.includes(4), 6: n.addPath.includes(6) },
    });
    this.endOfRibPending = true;
    this.opts.owner.onEstablished(this);
    this.kick();
  }

  private hasPending(): boolean {
    const n = this.negotiated;
    if (!n) return false;
    return n.families.some((f) => this.opts.owner.rib.tables[f].dirty.size > 0);
  }

  /** Writes batches until the socket pushes back or nothing is left; End-of-RIB after the first full table. */
  private pump(): void {
    const packer = this.packer;
    const n = this.negotiated;
    if (this.fsm.state !== 'Established' || !packer || !n || this.waitingDrain) return;
    const rib = this.opts.owner.rib;
    // Families the peer did not negotiate are never sent; their changes are dropped here.
    for (const f of [4, 6] as const) if (!n.families.includes(f)) rib.tables[f].dirty.clear();
    // Small at first, grown as the batch needs: a batch of a few UPDATEs (a Service's) then costs
    // a slice of node's pooled 8 kB, where a buffer sized for the largest batch (192 kB) per pump per peer was
    // external memory enough to make V8 collect often under a churn of Services.
    const w = new BufferWriter(2048);
    try {
      for (const f of n.families) {
        const table = rib.tables[f];
        while (w.pos < BATCH_BYTES && table.dirty.size > 0) packer.pack(table, f, w, 16384);
      }
    } catch (e) {
      this.opts.owner.log.warn({ err: String(e) }, 'cannot pack UPDATE');
    }
    if (packer.unsendable !== this.unsendableLogged) {
      this.unsendableLogged = packer.unsendable;
      this.opts.owner.log.warn({ routes: packer.unsendable, localAddress: this.localAddress }, 'routes not announced: no next hop of their family on this session (set nextHop / nextHopV6), or attributes too large for an UPDATE');
    }
    if (!this.hasPending() && this.endOfRibPending) {
      for (const f of n.families) w.bytes(encodeEndOfRib(f));
      this.endOfRibPending = false;
    }
    this.sent.update += countMessages(w);
    if (w.pos === 0) return;
    this.recent.push({ at: this.opts.clock.now(), bytes: Buffer.from(w.view()) });
    if (this.recent.length > REMEMBERED_BATCHES) this.recent.shift();
    const ok = this.write(w.view());
    if (!ok) {
      if (this.opts.socket.destroyed) return;
      this.waitingDrain = true;
      this.opts.socket.once('drain', () => { this.waitingDrain = false; this.kick(); });
      return;
    }
    if (this.hasPending()) this.kick();
  }

  /** The UPDATE(s) that a NOTIFICATION 3/x from the peer answered, from the batches last written. */
  refusedUpdate(n: NotificationMessage): RefusedUpdate | undefined {
    return findRefusedUpdate(this.recent.map((r) => r.bytes), n, this.decodeCtx);
  }

  /** Test hook: the current family set of the session's decode context. */
  get fourOctetAsn(): boolean { return this.decodeCtx.fourOctetAsn; }
}

/** Counts the messages in a writer's buffer by walking their length headers. */
function countMessages(w: BufferWriter): number {
  let n = 0;
  for (let p = 0; p + 19 <= w.pos; p += w.buf.readUInt16BE(p + 16)) n++;
  return n;
}

function asBgpError(e: unknown): BgpError {
  if (e instanceof BgpError) return e;
  // Never expected: the fuzzer hunts for these. Answer with a Cease rather than crash.
  return new BgpError(ErrorCode.Cease, CeaseSubcode.OutOfResources, undefined, `internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
}

export const unmapV4 = (a: string): string => (a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a);
export const familyOfAddress = (a: string): Family | undefined => parseIp(unmapV4(a))?.family;
export { notificationText };
