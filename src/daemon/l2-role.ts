// The layer-2 part of the speaker: on every snapshot and every membership change, run MetalLB's
// election (speaker/l2-owner.ts) over the live members and make the ARP/NDP responder answer for
// exactly the IPs this node wins. Raw sockets and the membership socket are opened only once the
// configuration has an L2Advertisement, so a BGP-only speaker needs no CAP_NET_RAW.
//
// Liveness: SWIM gossip among the speakers (membership/), authenticated with the memberlist
// secret; without a secret every Node object counts as live, as in MetalLB without memberlist.
// Node conditions (NetworkUnavailable) and EndpointSlices from the store are applied on top.
//
// Fast failover: the owner of layer-2 IPs sends direct heartbeats (every 10 ms by default) to the
// next node in MetalLB's order for each of its Services (speaker/l2-owner.ts l2Successors); that
// node takes the IPs over as soon as `misses` of them are missing (membership/heartbeat.ts), marks
// the owner suspect in the gossip, and yields again when the owner's heartbeats return or it
// refutes the suspicion. The gossip stays the truth for everything else.
import type { Logger } from 'pino';
import type { Node } from '../api/resources.ts';
import { L2Metrics } from '../l2/metrics.ts';
import { type L2Announcement, Responder } from '../l2/responder.ts';
import { BeatSender } from '../membership/beat-sender.ts';
import { defaultHeartbeatMisses, defaultHeartbeatMs, firstBeatGraceMs, heartbeatDeadlineMs, OwnerWatch } from '../membership/heartbeat.ts';
import { deriveKey, joinHostPort, openUdpTransport, Swim } from '../membership/index.ts';
import { formatIp } from '../net/ip.ts';
import type { Metrics } from '../observe/metrics.ts';
import type { PlanOptions } from '../speaker/eligibility.ts';
import { IncrementalL2, type L2Plan } from '../speaker/l2-owner.ts';
import type { Snapshot } from '../store/store.ts';
import { localSlice, withThisNode } from './synthesize.ts';

export interface MembershipOptions {
  /** The shared secret (MetalLB: the memberlist secret key file's content). */
  readonly secret: string;
  /** UDP port every speaker uses (MetalLB: 7946). */
  readonly port: number;
  /** Bind address; "" = every address. */
  readonly bindHost?: string;
  readonly periodMs?: number;
  /** Layer-2 heartbeats from an owner to its successors (default 10 ms; 0 = off, gossip only). */
  readonly heartbeatMs?: number;
  /** Missed heartbeats that make the owner down for layer 2 (default 3). */
  readonly heartbeatMisses?: number;
}

export interface L2RoleOptions {
  readonly nodeName: string;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  readonly membership?: MembershipOptions;
  readonly assumeLocalEndpoints?: boolean;
  /** The speaker's --lb-class and --ignore-exclude-lb, as its BGP plan gets them. */
  readonly options?: PlanOptions;
  /** Called when what status() reports changed. */
  readonly onStatus?: () => void;
  /** For tests: a responder stand-in. */
  readonly responder?: Pick<Responder, 'setAnnouncements' | 'reannounce' | 'interfacesFor' | 'close'>;
}

/** One layer-2 Service as `ironlb status` and ServiceL2Status show it (MetalLB's fields). */
export interface L2ServiceStatus {
  readonly node: string;
  readonly ips: readonly string[];
  /** Interfaces this node answers on; empty on other nodes' entries. */
  readonly interfaces: readonly string[];
  /**
   * On the owner's entry: the IPs it cannot answer for because none of the interfaces its
   * L2Advertisements name exists on this node (MetalLB's `announceFailed`).
   */
  readonly noInterface?: readonly string[];
}

/** The node's address other speakers reach it at: InternalIP first, as MetalLB's pod IP would be. */
export function memberAddress(n: Node): string | undefined {
  const list = n.status?.addresses ?? [];
  return (list.find((a) => a.type === 'InternalIP') ?? list.find((a) => a.type === 'ExternalIP'))?.address;
}

export class L2Role {
  private responder: L2RoleOptions['responder'];
  private swim: Swim | undefined;
  private starting: Promise<void> | undefined;
  private snapshot: Snapshot | undefined;
  /** The election, kept by Services-only deltas; rebuilt whole when anything else changes. */
  private l2: IncrementalL2 | undefined;
  /** The snapshot generation `l2` has seen; a delta from it can be applied. */
  private plannedGeneration: number | undefined;
  private claimKey = '';
  private lastLive: ReadonlySet<string> | undefined;
  private l2Metrics: L2Metrics | undefined;
  private stopped = false;
  /** Heartbeats: whom we send them to, the detector for those that send them to us, and its timers. */
  private beatTo: readonly string[] = [];
  private watch: OwnerWatch | undefined;
  private sender: BeatSender | undefined;
  private checkTimer: NodeJS.Timeout | undefined;
  /** Gossip incarnation of each owner when the heartbeats believed it down: a newer "alive" is a refutation. */
  private readonly downAt = new Map<string, number>();
  private lastBack = 0;

  constructor(private readonly o: L2RoleOptions) {
    this.responder = o.responder;
  }

  get log(): Logger {
    return this.o.logger;
  }

  onSnapshot(s: Snapshot): void {
    if (this.stopped) return;
    this.snapshot = s;
    if (s.config.l2Advertisements.length > 0 && !this.starting) this.starting = this.startEngines();
    const d = s.delta;
    if (this.l2 && d?.servicesOnly === true && d.from === this.plannedGeneration) {
      // Only Services (and their slices) changed: re-decide those, not every Service.
      this.plannedGeneration = s.generation;
      this.publish(this.l2, this.l2.apply(d.upserted, d.deleted, d.slices));
      return;
    }
    if (this.swim) this.swim.setSeeds(this.seeds(s));
    this.recompute();
    this.sendBeatsTo(this.beatTo); // a successor's address may have changed with its Node object
  }

  /** Services the election decided since it was last built whole: what edits cost (tests count it). */
  get decided(): number {
    return this.l2?.decided ?? 0;
  }

  /** The plan as the last snapshot and membership give it. */
  private get plan(): L2Plan | undefined {
    return this.l2?.plan();
  }

  /** Per layer-2 Service: the owner and, for Services this node owns, its interfaces. */
  status(): Record<string, L2ServiceStatus> {
    const out: Record<string, L2ServiceStatus> = {};
    for (const d of this.plan?.services ?? []) {
      if (d.owner === undefined) continue;
      const ips = d.ips.map(formatIp);
      const mine = d.owner === this.o.nodeName;
      const interfaces = mine && this.responder ? [...new Set(ips.flatMap((ip) => this.responder!.interfacesFor(ip)))].sort() : [];
      // Named interfaces of which none is here (the responder's scan knows this node's interfaces).
      const noInterface = mine && this.responder && d.interfaces !== undefined && d.interfaces !== 'all'
        ? ips.filter((ip) => this.responder!.interfacesFor(ip).length === 0) : [];
      out[d.service] = { node: d.owner, ips, interfaces, ...(noInterface.length > 0 ? { noInterface } : {}) };
    }
    return out;
  }

  /** Owners whose heartbeats this node watches right now (it would take their IPs over). */
  watchedOwners(): string[] {
    return this.watch?.watched() ?? [];
  }

  /** Live members right now (undefined without membership). */
  live(): ReadonlySet<string> | undefined {
    return this.swim?.live();
  }

  /** SIGTERM: tell the other speakers first (they take over at once), then go quiet. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.starting?.catch(() => undefined);
    this.sender?.close();
    clearTimeout(this.checkTimer);
    this.swim?.leave();
    this.responder?.close();
    this.l2 = undefined;
    if (this.claimKey !== '') this.log.info({}, 'layer 2: stopped answering; other speakers were told');
  }

  private async startEngines(): Promise<void> {
    const o = this.o;
    if (o.metrics) this.l2Metrics = new L2Metrics(o.metrics.registry);
    try {
      this.responder ??= new Responder({ logger: o.logger, ...(this.l2Metrics ? { metrics: this.l2Metrics } : {}) });
    } catch (e) {
      this.log.error({ err: e }, 'layer 2: the responder could not start; layer-2 Services are not answered');
    }
    if (o.membership) {
      try {
        const t = await openUdpTransport(o.membership.bindHost ?? '', o.membership.port);
        const self = this.snapshot ? withThisNode(this.snapshot.nodes, o.nodeName).find((n) => n.metadata.name === o.nodeName) : undefined;
        const host = (self && memberAddress(self)) ?? o.membership.bindHost ?? '127.0.0.1';
        this.swim = new Swim({
          name: o.nodeName, address: joinHostPort(host, o.membership.port), key: deriveKey(o.membership.secret), transport: t,
          ...(o.membership.periodMs !== undefined ? { periodMs: o.membership.periodMs } : {}),
        });
        this.swim.on('change', (live: ReadonlySet<string>) => this.onLive(live));
        // Others thought we were gone and may have taken our addresses over (a stall, a lost
        // burst of datagrams): once they know better they go quiet, so take the caches back.
        this.swim.on('refuted', () => this.responder?.reannounce());
        if (this.snapshot) this.swim.setSeeds(this.seeds(this.snapshot));
        this.swim.start();
        this.startHeartbeats(this.swim, o.membership);
        this.log.info({ port: t.port, address: host, heartbeatMs: o.membership.heartbeatMs ?? defaultHeartbeatMs }, 'layer 2: membership started');
      } catch (e) {
        this.log.error({ err: e }, 'layer 2: membership could not start; every Node counts as live');
      }
    } else {
      this.log.warn({}, 'layer 2: no memberlist secret; every Node counts as live (a dead node keeps its IPs until its Node object changes)');
    }
    if (this.stopped) {
      this.sender?.close();
      clearTimeout(this.checkTimer);
      this.swim?.stop();
      this.responder?.close();
      return;
    }
    this.claimKey = ''; // the responder is new: hand it the claims even if they did not change
    this.recompute();
  }

  // ---- fast failover: heartbeats ---------------------------------------------------------

  private startHeartbeats(swim: Swim, m: MembershipOptions): void {
    const every = m.heartbeatMs ?? defaultHeartbeatMs;
    if (every <= 0) return;
    // Every speaker runs with the same interval (a cluster-wide flag): it tells our own stalls from the owner's.
    const watch = new OwnerWatch(heartbeatDeadlineMs(every, m.heartbeatMisses ?? defaultHeartbeatMisses), undefined, every, firstBeatGraceMs);
    this.watch = watch;
    // Sent by a worker thread, so that our own event loop's stalls are not our death (beat-sender.ts).
    this.sender = new BeatSender({
      key: deriveKey(m.secret), name: this.o.nodeName, everyMs: every, incarnation: () => swim.currentIncarnation,
      onStarted: (niced) => this.log.info({ niced }, niced ? 'layer 2: heartbeat thread at nice -10' : 'layer 2: heartbeat thread at the process\'s priority (no CAP_SYS_NICE)'),
      onError: (e) => this.log.error({ err: e }, 'layer 2: heartbeat worker failed'),
      onUnsigned: () => this.log.warn({}, 'layer 2: heartbeats paused: this speaker\'s main thread did not run in time to sign them (stuck, or starved of CPU); its successors may take its IPs'),
    });
    // A refutation raises our incarnation: heartbeats signed for the old one would still be believed, but sign anew at once.
    swim.on('refuted', () => this.sender?.sign());
    swim.on('direct', (kind: string, from: string) => {
      if (kind === 'beat') {
        if (watch.beat(from, performance.now())) {
          this.downAt.delete(from);
          this.log.info({ node: from }, 'layer 2: heartbeats from the owner are back; yielding its IPs');
          this.recompute();
          // The owner does not know we answered for it: tell it to win the caches back now.
          for (let i = 0; i < 2; i++) swim.sendDirect('back', from);
        }
        this.armCheck();
      } else if (kind === 'stop') {
        watch.stop(from);
      } else if (kind === 'back') {
        const now = performance.now();
        if (now - this.lastBack > 50) this.responder?.reannounce();
        this.lastBack = now;
      }
    });
    // The owner refuted the suspicion our detector raised (it was alive: a stall, lost datagrams):
    // the gossip is the truth, believe it again.
    swim.on('alive', (name: string, inc: number) => {
      const at = this.downAt.get(name);
      if (at === undefined || inc <= at) return;
      this.downAt.delete(name);
      if (watch.clear(name)) {
        this.log.info({ node: name }, 'layer 2: the gossip says the owner is alive after all; yielding its IPs');
        this.recompute();
      }
    });
  }

  /**
   * One timer at the earliest deadline. Its check runs from setImmediate, after the poll phase: if
   * this process itself stalled, the heartbeats that queued meanwhile are read before any deadline
   * is judged, so our own pause never passes for the owner's death. And if the check ran later
   * than a whole allowance (we were not running: our silence, not the owner's), nobody is judged:
   * every owner gets its allowance again from now (OwnerWatch.resume).
   */
  private armCheck(): void {
    const watch = this.watch;
    if (!watch || this.checkTimer || this.stopped) return;
    const next = watch.nextDeadline();
    if (next === undefined) return;
    this.checkTimer = setTimeout(() => setImmediate(() => {
      this.checkTimer = undefined;
      if (this.stopped) return;
      const now = performance.now();
      if (now - next > watch.deadlineMs) {
        this.log.debug({ lateMs: Math.round(now - next) }, 'layer 2: this speaker was stalled; owners get their allowance again');
        watch.resume(now);
      }
      const gone = watch.expireWithSilence(now);
      for (const { peer: n, silenceMs, allowedMs } of gone) {
        const m = this.swim?.members.get(n);
        this.downAt.set(n, m?.incarnation ?? 0);
        this.log.warn({ node: n, silenceMs, allowedMs, lateMs: Math.round(now - next) }, 'layer 2: no heartbeat from the owner: taking over its IPs, suspecting it in the gossip');
        this.swim?.suspectNow(n);
      }
      if (gone.length > 0) this.recompute();
      this.armCheck();
    }), Math.max(0, next - performance.now()));
    this.checkTimer.unref();
  }

  /** After each election: send heartbeats to the successors of what we own; tell the dropped ones. */
  private updateBeats(l2: IncrementalL2): void {
    if (!this.watch || !this.swim) return;
    const next = l2.successors().heartbeatTo;
    if (next.join(',') === this.beatTo.join(',')) return;
    for (const n of this.beatTo) if (!next.includes(n)) for (let i = 0; i < 3; i++) this.swim.sendDirect('stop', n);
    for (const n of next) if (!this.beatTo.includes(n)) this.swim.sendDirect('beat', n);
    this.beatTo = next;
    this.sendBeatsTo(next);
  }

  /** The worker sends to addresses; a member's address can change with its Node object. */
  private sendBeatsTo(names: readonly string[]): void {
    const addresses: string[] = [];
    for (const n of names) {
      const a = this.swim?.members.get(n)?.address;
      if (a !== undefined) addresses.push(a);
    }
    this.sender?.setTargets(addresses);
  }

  private seeds(s: Snapshot): { name: string; address: string }[] {
    const port = this.o.membership?.port ?? 0;
    const out: { name: string; address: string }[] = [];
    for (const n of s.nodes) {
      const a = memberAddress(n);
      if (n.metadata.name !== undefined && a !== undefined) out.push({ name: n.metadata.name, address: joinHostPort(a, port) });
    }
    return out;
  }

  private onLive(live: ReadonlySet<string>): void {
    const before = this.lastLive;
    this.lastLive = new Set(live);
    this.log.info({ live: [...live].sort() }, 'layer 2: live speakers changed');
    this.recompute();
    // A member came back: if it had grabbed caches with a stale claim, our owned IPs win them back.
    if (before && [...live].some((n) => !before.has(n))) this.responder?.reannounce();
  }

  /** Everything again: a new Config, Nodes, live set or a snapshot without a usable delta. */
  private recompute(): void {
    const s = this.snapshot;
    if (!s || this.stopped) return;
    if (s.config.l2Advertisements.length === 0) {
      // No layer-2 Service can exist: an edit must not cost a pass over every Service.
      this.plannedGeneration = undefined;
      if (this.l2 && this.l2.plan().services.length === 0) return;
      this.l2 = new IncrementalL2({ config: s.config, services: [], endpointSlices: [], nodes: [], nodeName: this.o.nodeName });
      if (this.claimKey !== '[]') { this.claimKey = '[]'; this.responder?.setAnnouncements([]); }
      this.o.onStatus?.();
      return;
    }
    const nodes = withThisNode(s.nodes, this.o.nodeName);
    const live = this.swim?.live();
    for (const n of this.watch?.down ?? []) live?.delete(n);
    const nodeName = this.o.nodeName;
    this.l2 = new IncrementalL2({
      config: s.config, services: s.services, endpointSlices: s.endpointSlices, nodes, nodeName, ...(live ? { live } : {}), ...(this.o.options ? { options: this.o.options } : {}),
    }, this.o.assumeLocalEndpoints ? (svc) => (svc.spec.type === 'LoadBalancer' ? [localSlice(svc, nodeName)] : undefined) : undefined);
    this.plannedGeneration = s.generation;
    this.publish(this.l2, { decisions: true, claims: true });
  }

  /** Hands the responder what this node answers for when that changed; heartbeats; status. */
  private publish(l2: IncrementalL2, change: { decisions: boolean; claims: boolean }): void {
    if (change.claims) {
      const claims: L2Announcement[] = l2.claims().map((c) => ({ ip: c.ip, interfaces: c.interfaces }));
      const key = JSON.stringify(claims.map((c) => [formatIp(c.ip), c.interfaces]));
      if (key !== this.claimKey) {
        this.claimKey = key;
        this.responder?.setAnnouncements(claims);
      }
    }
    if (change.decisions || change.claims) this.updateBeats(l2); // a successor can change with the claims unchanged
    if (change.decisions) this.o.onStatus?.();
  }
}
