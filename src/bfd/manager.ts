// Many BFD sessions over shared receive sockets: demultiplexing (RFC 5880 §6.3 — by Your
// Discriminator, or by source address while the peer does not know ours yet), GTSM (RFC 5881 §5,
// RFC 5883 §2), flap damping of Up notifications, and the public API the daemon wires to BGP.
import { EventEmitter } from 'node:events';
import { type Clock, type Random, realClock } from './clock.ts';
import { type DampingOptions, FlapDamper } from './damping.ts';
import { type ControlPacket, Diag, type DiscardReason, SessionState, decodeControl, diagName, encodeControl, stateName } from './packet.ts';
import { type BfdProfile, validateBfdProfile } from './profile.ts';
import { BfdSession } from './session.ts';
import { type BfdRemoteInfo, type BfdSocket, type BfdTransport, selectTransport } from './transport.ts';
import { formatIp, parseIp } from '../net/ip.ts';

export const SINGLE_HOP_PORT = 3784;
export const MULTIHOP_PORT = 4784;
/** RFC 5881 §4: single-hop source ports. We use the same range for multihop (RFC 5883 §5). */
export const SOURCE_PORT_MIN = 49152;
export const SOURCE_PORT_MAX = 65535;

export type StateName = 'AdminDown' | 'Down' | 'Init' | 'Up';

export interface BfdSessionSpec {
  readonly id: string;
  readonly peerAddress: string;
  readonly localAddress?: string;
  readonly multihop: boolean;
  readonly profile: BfdProfile;
  /** Demand mode (RFC 5880 §6.6) is not implemented; asking for it is an error, not a no-op. */
  readonly demandMode?: boolean;
}

export interface BfdSessionInfo {
  readonly id: string;
  readonly peerAddress: string;
  readonly localAddress?: string;
  readonly multihop: boolean;
  readonly state: StateName;
  readonly remoteState: StateName;
  /** What the 'up'/'down' events last said (Up may lag state while damped). */
  readonly reportedUp: boolean;
  readonly damped: boolean;
  readonly localDiscriminator: number;
  readonly remoteDiscriminator: number;
  readonly negotiatedTxMs: number;
  readonly negotiatedRxMs: number;
  readonly detectionTimeMs: number;
  readonly diag: string;
  readonly remoteDiag: string;
  readonly sourcePort: number;
  /** Whether the received TTL is checked (native transport) for this session. */
  readonly ttlChecked: boolean;
  readonly received: number;
  readonly transmitted: number;
  /** The peer's C bit; see README.md (graceful restart and BFD). */
  readonly remoteControlPlaneIndependent: boolean;
}

export interface StateEvent { id: string; from: StateName; to: StateName; diag: string; at: number }
export interface DownEvent { id: string; diag: string; at: number }
export interface UpEvent { id: string; at: number; delayedMs: number }

export interface BfdManagerOptions {
  /** Default 'native' (GTSM enforced); 'dgram' is the explicit fallback without received-TTL checks. */
  readonly transport?: BfdTransport | 'native' | 'dgram';
  readonly clock?: Clock;
  readonly random?: Random;
  /** false disables damping. */
  readonly damping?: Partial<DampingOptions> | false;
  /** Listening ports; tests on loopback change them. */
  readonly singleHopPort?: number;
  readonly multihopPort?: number;
  /** The destination port of our packets (default: the listening ones). */
  readonly peerSingleHopPort?: number;
  readonly peerMultihopPort?: number;
}

interface Entry {
  readonly spec: BfdSessionSpec;
  readonly peerKey: string;
  readonly family: 4 | 6;
  session: BfdSession;
  readonly tx: BfdSocket;
  readonly damper: FlapDamper | undefined;
  reportedUp: boolean;
  upTimer: { cancel(): void } | undefined;
}

interface Listener { socket: BfdSocket; users: number }

/** Canonical text of an address; an IPv4-mapped IPv6 source (dual-stack socket) counts as IPv4. */
const canon = (a: string): string => {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  const ip = parseIp(m ? m[1]! : a);
  return ip ? formatIp(ip) : a;
};
const name = (s: SessionState): StateName => stateName(s) as StateName;

export class BfdManager extends EventEmitter {
  private readonly clock: Clock;
  private readonly random: Random;
  private transport: BfdTransport | undefined;
  private readonly entries = new Map<string, Entry>();
  private readonly byDiscr = new Map<number, Entry>();
  private readonly byPeer = new Map<string, Entry>();
  private readonly receivers = new Map<string, Promise<Listener>>();
  private readonly discards = new Map<DiscardReason, number>();
  private closed = false;
  private socketErrors = 0;

  constructor(private readonly options: BfdManagerOptions = {}) {
    super();
    this.clock = options.clock ?? realClock;
    this.random = options.random ?? Math.random;
  }

  private async getTransport(): Promise<BfdTransport> {
    const t = this.options.transport ?? 'native';
    this.transport ??= typeof t === 'string' ? selectTransport(t) : t;
    return this.transport;
  }

  /** Which transport runs (and so whether GTSM is enforced on receipt). */
  async transportInfo(): Promise<{ name: string; receivedTtl: boolean }> {
    const t = await this.getTransport();
    return { name: t.name, receivedTtl: t.receivedTtl };
  }

  async addSession(spec: BfdSessionSpec): Promise<void> {
    if (this.closed) throw new Error('BFD manager is closed');
    if (this.entries.has(spec.id)) throw new Error(`BFD session "${spec.id}" already exists`);
    if (spec.demandMode) throw new Error(`BFD session "${spec.id}": demand mode is not supported (asynchronous mode only)`);
    validateBfdProfile(spec.profile);
    const peer = parseIp(spec.peerAddress);
    if (!peer) throw new Error(`BFD session "${spec.id}": peerAddress "${spec.peerAddress}" is not an IP address`);
    const local = spec.localAddress === undefined ? undefined : parseIp(spec.localAddress);
    if (spec.localAddress !== undefined && (!local || local.family !== peer.family)) {
      throw new Error(`BFD session "${spec.id}": localAddress "${spec.localAddress}" is not an IPv${peer.family} address`);
    }
    const peerKey = `${spec.multihop ? 'm' : 's'}|${formatIp(peer)}`;
    if (this.byPeer.has(peerKey)) throw new Error(`BFD session "${spec.id}": a ${spec.multihop ? 'multihop' : 'single-hop'} session to ${spec.peerAddress} already exists`);
    const transport = await this.getTransport();
    await this.listen(peer.family, spec.multihop);
    const tx = await this.openSource(transport, peer.family, spec.localAddress);
    if (this.closed || this.entries.has(spec.id) || this.byPeer.has(peerKey)) {
      tx.close();
      await this.unlisten(peer.family, spec.multihop);
      throw new Error(`BFD session "${spec.id}": lost a race with close() or a duplicate addSession`);
    }
    tx.on('error', (e) => this.socketError(e));
    const damping = this.options.damping;
    const entry: Entry = {
      spec, peerKey, family: peer.family, tx, reportedUp: false, upTimer: undefined,
      damper: damping === false ? undefined : new FlapDamper(this.clock, damping ?? {}),
      session: undefined as unknown as BfdSession,
    };
    entry.session = new BfdSession(this.newDiscriminator(), spec.profile, {
      clock: this.clock, random: this.random,
      send: (p) => this.sendTo(entry, encodeControl(p)),
      onStateChange: (from, to, diag) => this.onState(entry, from, to, diag),
    });
    this.entries.set(spec.id, entry);
    this.byDiscr.set(entry.session.localDiscr, entry);
    this.byPeer.set(peerKey, entry);
    entry.session.start();
  }

  /**
   * Tells the peer AdminDown (RFC 5882 §3.2: not a path failure) and forgets the session. With
   * `{ adminDown: false }` it just falls silent, so the peer's detection timer expires instead.
   */
  async removeSession(id: string, o: { adminDown?: boolean } = {}): Promise<void> {
    const e = this.entries.get(id);
    if (!e) return;
    e.upTimer?.cancel();
    // Forgotten before stopping: removal is not a failure, so no 'down' (only 'state' → AdminDown).
    this.entries.delete(id);
    e.session.stop(o.adminDown ?? true);
    e.tx.close();
    this.byDiscr.delete(e.session.localDiscr);
    this.byPeer.delete(e.peerKey);
    await this.unlisten(e.family, e.spec.multihop);
  }

  /** New timers take effect through a poll sequence while Up; passive mode flips at once. */
  updateProfile(id: string, profile: BfdProfile): void {
    const e = this.entries.get(id);
    if (!e) throw new Error(`BFD session "${id}" does not exist`);
    validateBfdProfile(profile);
    (e as { spec: BfdSessionSpec }).spec = { ...e.spec, profile };
    e.session.updateProfile(profile);
  }

  sessionIds(): string[] { return [...this.entries.keys()]; }

  sessionState(id: string): BfdSessionInfo | undefined {
    const e = this.entries.get(id);
    if (!e) return undefined;
    const s = e.session.snapshot();
    return {
      id, peerAddress: e.spec.peerAddress, ...(e.spec.localAddress !== undefined ? { localAddress: e.spec.localAddress } : {}),
      multihop: e.spec.multihop, state: name(s.state), remoteState: name(s.remoteState),
      reportedUp: e.reportedUp, damped: e.damper?.isSuppressed() ?? false,
      localDiscriminator: s.localDiscriminator, remoteDiscriminator: s.remoteDiscriminator,
      negotiatedTxMs: s.negotiatedTxMs, negotiatedRxMs: s.negotiatedRxMs, detectionTimeMs: s.detectionTimeMs,
      diag: diagName(s.diag), remoteDiag: diagName(s.remoteDiag), sourcePort: e.tx.address().port,
      ttlChecked: this.transport?.receivedTtl ?? false, received: s.received, transmitted: s.transmitted,
      remoteControlPlaneIndependent: s.remoteControlPlaneIndependent,
    };
  }

  /** Packets discarded so far, by reason (for metrics and tests). */
  discardCounts(): Record<string, number> { return Object.fromEntries(this.discards); }

  /** Socket errors so far (sends while a route is missing, …). */
  socketErrorCount(): number { return this.socketErrors; }

  /** Removes every session (see removeSession for `adminDown`) and closes the sockets. */
  async close(o: { adminDown?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    for (const id of [...this.entries.keys()]) await this.removeSession(id, o);
    this.closed = true;
    for (const l of this.receivers.values()) (await l).socket.close();
    this.receivers.clear();
  }

  private newDiscriminator(): number {
    for (;;) {
      const d = Math.floor(this.random() * 0xffffffff) + 1;
      if (d <= 0xffffffff && !this.byDiscr.has(d)) return d;
    }
  }

  private async openSource(t: BfdTransport, family: 4 | 6, localAddress: string | undefined): Promise<BfdSocket> {
    let last: unknown;
    for (let i = 0; i < 32; i++) {
      const port = SOURCE_PORT_MIN + Math.floor(this.random() * (SOURCE_PORT_MAX - SOURCE_PORT_MIN + 1));
      try {
        return await t.open({ family, localPort: port, ttl: 255, ...(localAddress !== undefined ? { localAddress } : {}) });
      } catch (e) {
        last = e;
        if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
      }
    }
    throw new Error(`BFD: no free source port in ${SOURCE_PORT_MIN}-${SOURCE_PORT_MAX}: ${String(last)}`);
  }

  private listenPort(multihop: boolean): number {
    return multihop ? this.options.multihopPort ?? MULTIHOP_PORT : this.options.singleHopPort ?? SINGLE_HOP_PORT;
  }

  private listen(family: 4 | 6, multihop: boolean): Promise<Listener> {
    const key = `${family}/${multihop}`;
    let l = this.receivers.get(key);
    if (!l) {
      l = (async () => {
        const t = await this.getTransport();
        const socket = await t.open({ family, localPort: this.listenPort(multihop), ttl: 255, reuseAddress: true });
        socket.on('message', (msg, rinfo) => this.onPacket(msg, rinfo, multihop));
        socket.on('error', (e) => this.socketError(e));
        return { socket, users: 0 };
      })();
      this.receivers.set(key, l);
      l.catch(() => this.receivers.delete(key));
    }
    return l.then((x) => { x.users++; return x; });
  }

  private async unlisten(family: 4 | 6, multihop: boolean): Promise<void> {
    const key = `${family}/${multihop}`;
    const p = this.receivers.get(key);
    if (!p) return;
    const l = await p;
    if (--l.users > 0) return;
    this.receivers.delete(key);
    l.socket.close();
  }

  /**
   * Socket errors (ENETUNREACH while a link is down, …) are expected in a failure detector: they are
   * counted and reported as 'socket-error', never as 'error', which would kill a daemon with no listener.
   */
  private socketError(err: unknown): void {
    this.socketErrors++;
    this.emit('socket-error', err instanceof Error ? err : new Error(String(err)));
  }

  private discard(reason: DiscardReason): void {
    this.discards.set(reason, (this.discards.get(reason) ?? 0) + 1);
    this.emit('discard', reason);
  }

  private onPacket(msg: Buffer, rinfo: BfdRemoteInfo, multihop: boolean): void {
    const d = decodeControl(msg);
    if (!d.ok) return this.discard(d.reason);
    const p: ControlPacket = d.packet;
    const from = canon(rinfo.address);
    let e: Entry | undefined;
    if (p.yourDiscriminator !== 0) {
      e = this.byDiscr.get(p.yourDiscriminator);
      if (!e || e.spec.multihop !== multihop) return this.discard('unknown-discriminator');
      if (canon(e.spec.peerAddress) !== from) return this.discard('wrong-peer');
    } else {
      e = this.byPeer.get(`${multihop ? 'm' : 's'}|${from}`);
      if (!e) return this.discard('no-session');
    }
    // GTSM: single-hop packets must arrive with TTL 255 (RFC 5881 §5); multihop ones with at
    // least the profile's minimumTtl (RFC 5883 §2 leaves the bound to configuration).
    if (rinfo.ttl !== undefined && rinfo.ttl < (multihop ? e.spec.profile.minimumTtl : 255)) return this.discard('ttl');
    const r = e.session.receive(p);
    if (r) this.discard(r);
  }

  private sendTo(e: Entry, buf: Buffer): void {
    const port = e.spec.multihop
      ? this.options.peerMultihopPort ?? this.listenPort(true)
      : this.options.peerSingleHopPort ?? this.listenPort(false);
    try { e.tx.send(buf, port, e.spec.peerAddress); } catch (err) { this.socketError(err); }
  }

  private onState(e: Entry, from: SessionState, to: SessionState, diag: Diag): void {
    const at = this.clock.now();
    this.emit('state', { id: e.spec.id, from: name(from), to: name(to), diag: diagName(diag), at } satisfies StateEvent);
    if (this.entries.get(e.spec.id) !== e) return;
    if (to === SessionState.Up) {
      const delay = e.damper?.upDelayMs() ?? 0;
      if (delay === 0) return this.reportUp(e, 0);
      this.emit('damped', { id: e.spec.id, delayMs: delay });
      e.upTimer?.cancel();
      e.upTimer = this.clock.setTimer(delay, () => {
        e.upTimer = undefined;
        if (e.session.state === SessionState.Up && this.entries.get(e.spec.id) === e) this.reportUp(e, delay);
      });
      return;
    }
    if (from === SessionState.Up) {
      e.upTimer?.cancel();
      e.upTimer = undefined;
      e.damper?.recordFlap();
      if (e.reportedUp) {
        e.reportedUp = false;
        this.emit('down', { id: e.spec.id, diag: diagName(diag), at } satisfies DownEvent);
      }
    }
  }

  private reportUp(e: Entry, delayedMs: number): void {
    if (e.reportedUp) return;
    e.reportedUp = true;
    this.emit('up', { id: e.spec.id, at: this.clock.now(), delayedMs } satisfies UpEvent);
  }
}
