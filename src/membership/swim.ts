// SWIM membership (Das, Gupta, Motivala 2002) with the Lifeguard-style refutation memberlist uses:
// each protocol period a member pings one other member (round-robin over a shuffled list); no ack
// within ackTimeoutMs makes it ask k others to ping the target for it; no ack by the end of the
// period makes the target suspect; a suspect that does not refute (bump its incarnation) within
// the suspicion timeout is dead. State changes travel piggybacked on pings and acks, each a
// bounded number of times. A member that stops on purpose says so (leave) and is dead at once.
//
// Tuned for layer-2 failover, not for WANs: period 100 ms, ack timeout 40 ms, suspicion 300 ms
// (scaled by log10 of the size past 10 members, like memberlist), so a silent death is noticed in
// about 0.2-0.6 s. memberlist's LAN defaults (1 s, 500 ms, 4-6 s) are why MetalLB takes seconds.
//
// Dead members are still pinged now and then (deadProbeMs): after a partition heals, each side
// learns the other is back (they refute the death with a higher incarnation) without a rejoin.
import { EventEmitter } from 'node:events';
import { decode, encode, type MemberStateCode, type Message, type Update } from './codec.ts';
import { DirectEncoder, type DirectKind, DirectReceiver, isDirectBytes, monotonicMs } from './direct.ts';

export type MemberState = 'alive' | 'suspect' | 'dead';
const stateName: readonly MemberState[] = ['alive', 'suspect', 'dead'];
const stateCode = (s: MemberState): MemberStateCode => (s === 'alive' ? 0 : s === 'suspect' ? 1 : 2);

export interface Member {
  readonly name: string;
  address: string;
  state: MemberState;
  incarnation: number;
  /** Runs out the suspicion timeout. */
  suspectTimer?: NodeJS.Timeout;
}

export interface Transport {
  send(msg: Buffer, address: string): void;
  /** Calls back for every datagram received, with the sender's "host:port". */
  onMessage(cb: (msg: Buffer, from: string) => void): void;
  close(): void;
}

export interface SwimOptions {
  readonly name: string;
  /** This member's own "host:port", as others reach it. */
  readonly address: string;
  readonly key: Buffer;
  readonly transport: Transport;
  readonly periodMs?: number;
  readonly ackTimeoutMs?: number;
  readonly suspicionMs?: number;
  /** Members asked to ping a target that did not answer directly. */
  readonly indirectChecks?: number;
  readonly deadProbeMs?: number;
  /** Each update is sent retransmitMult * ceil(log2(n + 1)) times. */
  readonly retransmitMult?: number;
  /** The first incarnation; default the wall clock in ms, so a restarted member outranks its old death. */
  readonly incarnation?: number;
  readonly random?: () => number;
}

interface PendingProbe {
  target: string;
  acked: boolean;
  /** For a probe run on behalf of another member: who asked, and its seq. */
  relay?: { address: string; seq: number };
  timers: NodeJS.Timeout[];
}

interface Gossip { update: Update; sent: number }

/**
 * A timer that judges (a probe unanswered, a suspicion run out) only after the event loop's next
 * poll: the datagrams that arrived while this process was not running (its own stall: garbage
 * collection, a large plan, a starved CPU) are read first, so an ack or a refutation already in
 * the socket is never overtaken by the timeout it answers. Callbacks check their own state: one
 * may run after clearTimeout when the timer had already fired.
 */
function later(fn: () => void, ms: number): NodeJS.Timeout {
  const t = setTimeout(() => setImmediate(fn), ms);
  t.unref();
  return t;
}

/**
 * Events: 'change' (live: ReadonlySet<string>) whenever the set of live members changes;
 * 'refuted' (state) when another member believed this one suspect or dead; 'alive' (name,
 * incarnation) when a member is known alive at a newer incarnation (it refuted, or came back);
 * 'direct' (kind, name) for the layer-2 heartbeat messages (heartbeat.ts), which carry no gossip.
 */
export class Swim extends EventEmitter {
  readonly members = new Map<string, Member>();
  private incarnation: number;
  private seq = 0;
  private readonly pending = new Map<number, PendingProbe>();
  private readonly gossip = new Map<string, Gossip>();
  private probeOrder: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private deadTimer: NodeJS.Timeout | undefined;
  private lastLive = '';
  /** Layer-2 direct messages (direct.ts): encoded once per epoch, verified once per epoch and sender. */
  private readonly directOut: DirectEncoder;
  private readonly directIn: DirectReceiver;
  private stopped = false;
  readonly periodMs: number;
  private readonly ackTimeoutMs: number;
  private readonly random: () => number;

  constructor(private readonly o: SwimOptions) {
    super();
    this.periodMs = o.periodMs ?? 100;
    this.ackTimeoutMs = o.ackTimeoutMs ?? Math.round(this.periodMs * 0.4);
    this.random = o.random ?? Math.random;
    this.incarnation = o.incarnation ?? Date.now();
    this.directOut = new DirectEncoder(o.key, o.name);
    this.directIn = new DirectReceiver(o.key);
    o.transport.onMessage((b, from) => this.receive(b, from));
  }

  get name(): string {
    return this.o.name;
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.periodMs);
    this.deadTimer = setInterval(() => this.probeDead(), this.o.deadProbeMs ?? 1000);
    this.timer.unref();
    this.deadTimer.unref();
    this.emitIfChanged();
  }

  /**
   * The members we expect (from the Node objects): new ones start alive at incarnation 0, so that
   * a starting speaker does not claim every address before it has heard from the others; a member
   * that never answers is dead within one suspicion timeout. Members no longer listed are dropped.
   */
  setSeeds(seeds: readonly { name: string; address: string }[]): void {
    const names = new Set(seeds.map((s) => s.name));
    for (const s of seeds) {
      if (s.name === this.o.name) continue;
      const m = this.members.get(s.name);
      if (m) m.address = s.address;
      else this.members.set(s.name, { name: s.name, address: s.address, state: 'alive', incarnation: 0 });
    }
    for (const [n, m] of this.members) {
      if (!names.has(n)) {
        clearTimeout(m.suspectTimer);
        this.members.delete(n);
        this.directIn.forget(n);
      }
    }
    this.emitIfChanged();
  }

  /** Live members, this one included. */
  live(): Set<string> {
    const out = new Set<string>([this.o.name]);
    for (const m of this.members.values()) if (m.state !== 'dead') out.add(m.name);
    return out;
  }

  /** Tells every member we stop (they mark us dead at once), then stops. */
  leave(): void {
    if (this.stopped) return;
    for (const m of this.members.values()) {
      const b = this.message('leave', 0, m.name, [[this.o.name, this.o.address, 2, this.incarnation]]);
      // Twice: a single lost datagram should not cost a suspicion timeout.
      for (let i = 0; i < 2; i++) this.safeSend(b, m.address);
    }
    this.stop();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    clearInterval(this.deadTimer);
    for (const p of this.pending.values()) for (const t of p.timers) clearTimeout(t);
    for (const m of this.members.values()) clearTimeout(m.suspectTimer);
    this.pending.clear();
    this.o.transport.close();
  }

  /**
   * A layer-2 direct message (no gossip rides on it) to a member. Its bytes are cached per epoch
   * (direct.ts). The steady heartbeats are sent by a worker (beat-sender.ts); these are the
   * first beat to a new successor, and the rare stop and back.
   */
  sendDirect(kind: DirectKind, to: string): void {
    const m = this.members.get(to);
    if (!m || this.stopped) return;
    this.safeSend(this.directOut.bytes(kind, this.incarnation, monotonicMs()), m.address);
  }

  /** This member's incarnation now (it rises when it refutes a suspicion). */
  get currentIncarnation(): number {
    return this.incarnation;
  }

  /** Another detector (layer-2 heartbeats) believes a member down: suspect it now; it refutes if alive. */
  suspectNow(name: string): void {
    const m = this.members.get(name);
    if (m) this.suspect(name, m.incarnation);
  }

  // ---- the protocol period ----------------------------------------------------------------

  private nextTarget(): Member | undefined {
    for (let tries = 0; tries < 2; tries++) {
      while (this.probeOrder.length > 0) {
        const m = this.members.get(this.probeOrder.pop()!);
        if (m && m.state !== 'dead') return m;
      }
      const names = [...this.members.values()].filter((m) => m.state !== 'dead').map((m) => m.name);
      for (let i = names.length - 1; i > 0; i--) {
        const j = Math.floor(this.random() * (i + 1));
        [names[i], names[j]] = [names[j]!, names[i]!];
      }
      this.probeOrder = names;
    }
    return undefined;
  }

  private tick(): void {
    if (this.stopped) return;
    const target = this.nextTarget();
    if (!target) return;
    const seq = ++this.seq;
    const probe: PendingProbe = { target: target.name, acked: false, timers: [] };
    this.pending.set(seq, probe);
    this.safeSend(this.message('ping', seq, target.name), target.address);
    probe.timers.push(later(() => {
      if (probe.acked || this.stopped) return;
      const helpers = this.randomMembers(this.o.indirectChecks ?? 2, (m) => m.state === 'alive' && m.name !== target.name);
      for (const h of helpers) this.safeSend(this.message('req', seq, h.name, undefined, target), h.address);
    }, this.ackTimeoutMs));
    probe.timers.push(later(() => {
      this.pending.delete(seq);
      if (!probe.acked && !this.stopped) this.suspect(target.name, target.incarnation);
    }, this.periodMs));
  }

  private probeDead(): void {
    for (const m of this.members.values()) if (m.state === 'dead') this.safeSend(this.message('ping', 0, m.name), m.address);
  }

  private randomMembers(k: number, ok: (m: Member) => boolean): Member[] {
    const all = [...this.members.values()].filter(ok);
    const out: Member[] = [];
    while (out.length < k && all.length > 0) out.push(all.splice(Math.floor(this.random() * all.length), 1)[0]!);
    return out;
  }

  // ---- messages ---------------------------------------------------------------------------

  private message(k: Message['k'], seq: number, to: string, updates?: Update[], target?: Member): Buffer {
    return encode(this.o.key, {
      k, from: this.o.name, inc: this.incarnation, seq,
      ...(target ? { target: target.name, targetAddr: target.address } : {}),
      updates: updates ?? this.piggyback(to),
    });
  }

  private safeSend(b: Buffer, address: string): void {
    try {
      this.o.transport.send(b, address);
    } catch {
      // Unreachable right now (no route while a link is down): the probe simply fails.
    }
  }

  /** Up to 8 updates, least-sent first; always what we believe about the recipient when it is not alive. */
  private piggyback(to: string): Update[] {
    const limit = (this.o.retransmitMult ?? 3) * Math.ceil(Math.log2(this.members.size + 2));
    const list = [...this.gossip.values()].sort((a, b) => a.sent - b.sent).slice(0, 8);
    const out: Update[] = [];
    for (const g of list) {
      out.push(g.update);
      if (++g.sent >= limit) this.gossip.delete(g.update[0]);
    }
    const m = this.members.get(to);
    if (m && m.state !== 'alive' && !out.some((u) => u[0] === to)) out.push([m.name, m.address, stateCode(m.state), m.incarnation]);
    out.push([this.o.name, this.o.address, 0, this.incarnation]);
    return out;
  }

  private spread(name: string, address: string, state: MemberState, inc: number): void {
    this.gossip.set(name, { update: [name, address, stateCode(state), inc], sent: 0 });
  }

  private receive(b: Buffer, from: string): void {
    if (this.stopped) return;
    if (isDirectBytes(b)) {
      const d = this.directIn.accept(b, from, performance.now());
      if (d && d.from !== this.o.name) this.emit('direct', d.kind, d.from);
      return;
    }
    const m = decode(this.o.key, b);
    if (!m || m.from === this.o.name) return;
    this.known(m.from, from);
    for (const u of m.updates) this.apply(u);
    switch (m.k) {
      case 'ping':
        this.safeSend(this.message('ack', m.seq, m.from), from);
        break;
      case 'ack': {
        // A relayed ack comes from the helper and names the target it reached.
        const p = this.pending.get(m.seq);
        if (!p || p.target !== (m.target ?? m.from)) break;
        p.acked = true;
        if (p.relay) this.safeSend(this.message('ack', p.relay.seq, '', undefined, this.members.get(p.target)), p.relay.address);
        break;
      }
      case 'req': {
        if (m.target === undefined || m.targetAddr === undefined) break;
        // Probe on the asker's behalf; relay the target's ack under the asker's seq.
        const seq = ++this.seq;
        const probe: PendingProbe = { target: m.target, acked: false, relay: { address: from, seq: m.seq }, timers: [] };
        this.pending.set(seq, probe);
        const t = this.members.get(m.target);
        this.safeSend(this.message('ping', seq, m.target), t?.address ?? m.targetAddr);
        probe.timers.push(later(() => this.pending.delete(seq), this.periodMs));
        break;
      }
      case 'leave':
        break; // its update (dead at its own incarnation) was applied above
      default:
        break; // direct kinds travel in their own format (direct.ts), never as gossip
    }
    this.emitIfChanged();
  }

  /** A sender we have no record of (not among the Node objects yet) joins as alive. */
  private known(name: string, from: string): void {
    if (!this.members.has(name)) this.members.set(name, { name, address: from, state: 'alive', incarnation: 0 });
  }

  private apply([name, address, code, inc]: Update): void {
    const state = stateName[code];
    if (state === undefined || typeof inc !== 'number') return;
    if (name === this.o.name) {
      // Someone thinks we are suspect or dead: refute with a higher incarnation.
      if (state !== 'alive' && inc >= this.incarnation) {
        this.incarnation = inc + 1;
        this.spread(this.o.name, this.o.address, 'alive', this.incarnation);
        this.emit('refuted', state);
      }
      return;
    }
    let m = this.members.get(name);
    if (!m) {
      if (state === 'dead') return;
      m = { name, address, state: 'alive', incarnation: -1 };
      this.members.set(name, m);
    }
    const newer = inc > m.incarnation;
    switch (state) {
      case 'alive':
        if (!newer) return;
        m.incarnation = inc;
        m.address = address;
        if (m.state !== 'alive') {
          clearTimeout(m.suspectTimer);
          m.state = 'alive';
        }
        this.spread(name, address, 'alive', inc);
        this.emit('alive', name, inc);
        return;
      case 'suspect':
        if (m.state === 'dead' || (m.state === 'suspect' && !newer) || inc < m.incarnation) return;
        this.markSuspect(m, inc);
        return;
      case 'dead':
        if (m.state === 'dead' || inc < m.incarnation) return;
        this.markDead(m, inc);
        return;
    }
  }

  private suspect(name: string, inc: number): void {
    const m = this.members.get(name);
    if (!m || m.state !== 'alive' || m.incarnation !== inc) return;
    this.markSuspect(m, inc);
    this.emitIfChanged();
  }

  private markSuspect(m: Member, inc: number): void {
    clearTimeout(m.suspectTimer);
    m.state = 'suspect';
    m.incarnation = inc;
    this.spread(m.name, m.address, 'suspect', inc);
    const scale = Math.max(1, Math.log10(Math.max(1, this.members.size + 1)));
    m.suspectTimer = later(() => {
      if (m.state === 'suspect' && m.incarnation === inc && !this.stopped) {
        this.markDead(m, inc);
        this.emitIfChanged();
      }
    }, Math.round((this.o.suspicionMs ?? 3 * this.periodMs) * scale));
  }

  private markDead(m: Member, inc: number): void {
    clearTimeout(m.suspectTimer);
    m.state = 'dead';
    m.incarnation = inc;
    this.spread(m.name, m.address, 'dead', inc);
  }

  private emitIfChanged(): void {
    const live = this.live();
    const key = [...live].sort().join(',');
    if (key === this.lastLive) return;
    this.lastLive = key;
    this.emit('change', live);
  }
}
