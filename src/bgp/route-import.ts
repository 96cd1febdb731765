// Received routes end to end: each peer's UPDATEs into its Adj-RIB-In, the receive policy
// (FRRConfiguration toReceive; nothing without one), the decision process across peers with
// ECMP, and the winners into the kernel (kernel-routes.ts). Session loss drops the peer's routes
// at once, or — when graceful restart was negotiated — keeps them as stale until the peer sends
// End-of-RIB after reconnecting or the stale time runs out. `close()` removes every route
// installed.
import type { EventEmitter } from 'node:events';
import { parseIp } from '../net/ip.ts';
import type { IpAddress } from '../net/ip.ts';
import { formatPrefix } from '../net/prefix.ts';
import type { Prefix } from '../net/prefix.ts';
import { decide } from './best-path.ts';
import type { KernelRoutes } from './kernel-routes.ts';
import type { EstablishedEvent, StateChangeEvent } from './peer-config.ts';
import { RibIn } from './rib-in.ts';
import type { UpdateEvent } from './speaker.ts';

export interface ImportPeer {
  readonly peerAddress: IpAddress;
  /** Session kind (fixed by configuration: peer ASN vs own). */
  readonly ebgp: boolean;
  /** Whether a received prefix may be used (toReceive); undefined: none is. */
  readonly accept?: (prefix: Prefix) => boolean;
  /** How long stale routes stay after a graceful-restart session loss; default 120 s. */
  readonly staleTimeMs?: number;
}

export interface ImportStatus {
  readonly received: number;
  readonly accepted: number;
  /** Prefixes for which this peer's path is among those installed (and the kernel took the route). */
  readonly installed: number;
  readonly stale: number;
  readonly treatedAsWithdraw: number;
}

interface PeerState {
  config: ImportPeer;
  rib: RibIn;
  gracefulRestart: boolean;
  staleTimer?: ReturnType<typeof setTimeout>;
}

const dottedToNumber = (s: string): number => (parseIp(s)?.family === 4 ? Number(parseIp(s)!.value) : 0);

export class RouteImporter {
  private readonly peers = new Map<string, PeerState>();
  /** Prefix key → peers whose paths are installed (for status). */
  private readonly installedBy = new Map<string, readonly string[]>();
  private readonly prefixes = new Map<string, Prefix>();

  /** `onChange`: what status() reports may have changed (routes received, withdrawn, dropped). */
  constructor(private readonly speaker: EventEmitter, private readonly kernel: KernelRoutes, private readonly onChange?: () => void) {
    speaker.on('update', this.onUpdate);
    speaker.on('established', this.onEstablished);
    speaker.on('state', this.onState);
  }

  /** Adds or updates a peer's import settings; a policy change re-decides its prefixes. */
  setPeer(peerId: string, config: ImportPeer): void {
    const s = this.peers.get(peerId);
    if (!s) {
      this.peers.set(peerId, { config, gracefulRestart: false, rib: new RibIn({ peerId, ebgp: config.ebgp, routerId: 0, peerAddress: config.peerAddress }) });
      return;
    }
    s.config = config;
    s.rib.facts = { ...s.rib.facts, ebgp: config.ebgp, peerAddress: config.peerAddress };
    this.redecide([...s.rib.routes.keys()]);
  }

  removePeer(peerId: string): void {
    const s = this.peers.get(peerId);
    if (!s) return;
    if (s.staleTimer) clearTimeout(s.staleTimer);
    const keys = s.rib.drop(false);
    this.peers.delete(peerId);
    this.redecide(keys);
  }

  status(peerId: string): ImportStatus | undefined {
    const s = this.peers.get(peerId);
    if (!s) return undefined;
    let accepted = 0;
    let stale = 0;
    for (const r of s.rib.routes.values()) {
      if (s.config.accept?.(r.prefix)) accepted++;
      if (r.stale) stale++;
    }
    let installed = 0;
    // Counted only when the kernel accepted the route (another's route in the slot refuses ours).
    const inKernel = this.kernel.routes();
    for (const [k, ps] of this.installedBy) if (ps.includes(peerId) && inKernel.has(k)) installed++;
    return { received: s.rib.routes.size, accepted, installed, stale, treatedAsWithdraw: s.rib.treatedAsWithdraw };
  }

  /** Installed prefix text → peers (for `ironlb status`). */
  installed(): Map<string, readonly string[]> {
    const out = new Map<string, readonly string[]>();
    for (const [k, ps] of this.installedBy) out.set(formatPrefix(this.prefixes.get(k)!), ps);
    return out;
  }

  /** Stops listening and removes every route installed. */
  async close(): Promise<void> {
    this.speaker.off('update', this.onUpdate);
    this.speaker.off('established', this.onEstablished);
    this.speaker.off('state', this.onState);
    for (const s of this.peers.values()) if (s.staleTimer) clearTimeout(s.staleTimer);
    this.peers.clear();
    this.installedBy.clear();
    await this.kernel.cleanup();
  }

  private readonly onUpdate = (e: UpdateEvent): void => {
    const s = this.peers.get(e.peerId);
    if (!s) return;
    this.redecide(s.rib.apply(e.update));
  };

  /** A peer set while its session was already up: what its establishment said (router ID, GR). */
  sessionUp(peerId: string, negotiated: EstablishedEvent['negotiated']): void {
    this.onEstablished({ peerId, negotiated });
  }

  private readonly onEstablished = (e: EstablishedEvent): void => {
    const s = this.peers.get(e.peerId);
    if (!s) return;
    s.gracefulRestart = e.negotiated.gracefulRestart;
    s.rib.facts = { ...s.rib.facts, routerId: dottedToNumber(e.negotiated.peerRouterId) };
  };

  private readonly onState = (e: StateChangeEvent): void => {
    const s = this.peers.get(e.peerId);
    if (!s || e.from !== 'Established' || e.to === 'Established') return;
    if (s.gracefulRestart) {
      s.rib.markStale();
      this.redecide([...s.rib.routes.keys()]); // stale paths lose to fresh ones
      if (s.staleTimer) clearTimeout(s.staleTimer);
      s.staleTimer = setTimeout(() => { s.staleTimer = undefined; this.redecide(s.rib.drop(true)); }, s.config.staleTimeMs ?? 120_000);
      s.staleTimer.unref?.();
    } else {
      this.redecide(s.rib.drop(false));
    }
  };

  private redecide(keys: readonly string[]): void {
    if (keys.length > 0) this.onChange?.();
    for (const key of new Set(keys)) {
      const candidates = [];
      let prefix: Prefix | undefined;
      for (const s of this.peers.values()) {
        const r = s.rib.routes.get(key);
        if (!r) continue;
        prefix = r.prefix;
        if (s.config.accept?.(r.prefix)) candidates.push(s.rib.candidate(key)!);
      }
      const d = decide(candidates);
      // The prefix of a key is remembered while any route or installed path has it (a withdraw
      // leaves no route to take it from).
      const p = prefix ?? this.prefixes.get(key);
      if (!p) continue;
      if (d) {
        this.prefixes.set(key, p);
        this.installedBy.set(key, d.multipath.map((c) => c.peerId));
        this.kernel.set(key, p, d.multipath.map((c) => c.nextHop));
      } else {
        this.installedBy.delete(key);
        if (!prefix) this.prefixes.delete(key);
        this.kernel.set(key, p, []);
      }
    }
  }
}
