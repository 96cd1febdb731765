// The speaker role for one node: on every snapshot, plan what this node announces to each of its
// peers and make the BGP (and BFD) sessions match. Sessions are added, changed and removed by
// difference; routes are handed over whole per peer (bgp/ sends only what changed), and every
// announce and withdraw is logged. BFD Down resets the BGP session at once.
import type { Logger } from 'pino';
import { CeaseSubcode } from '../bgp/errors.ts';
import type { PeerConfig, RefusedUpdateEvent, Route, StateChangeEvent } from '../bgp/speaker.ts';
import { refusedText } from '../bgp/refused-update.ts';
import { LogLimiter } from '../bgp/log-limiter.ts';
import type { BfdProfile } from '../config/types.ts';
import { formatCommunity } from '../net/community.ts';
import { formatIp, type IpAddress } from '../net/ip.ts';
import { formatPrefix } from '../net/prefix.ts';
import type { Metrics } from '../observe/metrics.ts';
import { ConflictLog } from './conflict-log.ts';
import { CappedLog } from '../observe/log.ts';
import { bgpEntriesOf, bgpSummaryOf, layer2OnlyPools, type ServiceSummary, summaryOf } from '../speaker/bgp-summary.ts';
import type { AnnouncementPlan, PeerPlan } from '../speaker/plan-types.ts';
import type { PeerAnnouncement, ServiceBgpEntries, Snapshot, SpeakerStatus, SpeakerStatusChanges, SpeakerStatusWrite, Store } from '../store/store.ts';
import type { BfdEngine, BfdStateEvent, BgpEngine, Plan, PlanInput } from './engines.ts';
import type { IncrementalPlan, RouteChange } from '../speaker/plan-incremental.ts';
import { prefixKey } from '../speaker/plan.ts';
import type { ServicePlan } from '../speaker/plan-types.ts';
import type { SnapshotDelta } from '../store/store.ts';
import { peerConfigFor } from './peer-config.ts';
import { FrrK8sHook } from './frrk8s-hook.ts';
import { standInSlices, withThisNode } from './synthesize.ts';

/** JSON with bigints (addresses, prefixes), for comparing settings. */
export const stableKey = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));

// The planner shares attribute and prefix objects between routes and plans: key each once.
const attributeKeys = new WeakMap<object, string>();
const attributeKey = (a: Route['attributes']): string => {
  let k = attributeKeys.get(a);
  if (k === undefined) attributeKeys.set(a, (k = stableKey(a)));
  return k;
};

/** Prefix text, once per prefix object (the planner keeps them): status lists every prefix. */
const prefixTexts = new WeakMap<Route['prefix'], string>();
const prefixText = (p: Route['prefix']): string => {
  let t = prefixTexts.get(p);
  if (t === undefined) prefixTexts.set(p, (t = formatPrefix(p)));
  return t;
};

function describeRoute(r: Route): Record<string, unknown> {
  const a = r.attributes;
  return {
    prefix: formatPrefix(r.prefix),
    ...(a.localPref !== undefined ? { localPref: a.localPref } : {}),
    ...(a.med !== undefined ? { med: a.med } : {}),
    ...(a.communities.length > 0 ? { communities: a.communities.map(formatCommunity) } : {}),
    ...(a.asPrepend ? { asPrepend: a.asPrepend } : {}),
  };
}

interface ActivePeer {
  config: PeerConfig;
  configKey: string;
  /**
   * By the planner's prefix key (the same strings the planner holds). Peers given the same routes
   * share one Map (never mutated while shared unless every sharer changes alike; see applyDelta):
   * 4 peers x 50,000 routes were four 50,000-entry Maps.
   */
  routes: Map<string, Route>;
  bfd?: { profile: BfdProfile; key: string };
  /** Set while BGP is held down because BFD is damped (see onBfdState). */
  heldDown?: NodeJS.Timeout;
}

export interface SpeakerRoleOptions {
  readonly store: Store;
  readonly nodeName: string;
  readonly plan: Plan;
  readonly bgp: BgpEngine;
  readonly bfd?: BfdEngine;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /** Serve Services that have no EndpointSlice from this host (standalone). */
  readonly assumeLocalEndpoints?: boolean;
  /** Router ID of last resort when neither the peer nor the Node gives one. */
  readonly hostIpv4?: IpAddress;
  /** Minimum spacing of speaker status writes. */
  readonly statusEveryMs?: number;
  /**
   * Keeps the plan incrementally: a snapshot whose delta follows the one planned last costs what
   * changed (production); without it every snapshot is planned whole with `plan`.
   */
  readonly incremental?: (input: PlanInput) => IncrementalPlan;
  /** How often a held-down peer checks whether BFD damping has decayed (default 1 s). */
  readonly dampingCheckMs?: number;
  /** The layer-2 part of the status (daemon/l2-role.ts). */
  readonly layer2Status?: () => SpeakerStatus['layer2'];
}

export class SpeakerRole {
  private readonly peers = new Map<string, ActivePeer>();
  private readonly sessionState = new Map<string, string>();
  private readonly bfdState = new Map<string, string>();
  private lastPlan: AnnouncementPlan | undefined;
  private planner: IncrementalPlan | undefined;
  private plannedGeneration: number | undefined;
  /** Session peer name -> BGP peer id, as last planned whole. */
  private peerIds = new Map<string, string>();
  /** Pools that only layer 2 announces (an L2Advertisement, no BGPAdvertisement): their Services are not BGP's to report. */
  private layer2OnlyPools: ReadonlySet<string> = new Set();
  private lastStatusMs = 0;
  private statusTimer: NodeJS.Timeout | undefined;
  /**
   * What changed in status since the last write, for a write of changes only (SpeakerStatusChanges):
   * the Services re-planned and, per session, the prefixes announced (true) or withdrawn (false).
   * `statusWhole`: something else changed (a whole plan, a session added or removed): write it all.
   */
  private statusWhole = true;
  private readonly statusServices = new Set<string>();
  private readonly statusPrefixes = new Map<string, Map<string, boolean>>();
  private layer2Changed = false;
  private statusWrite: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Connection attempts that fail the same way repeat the same transitions: once a minute each. */
  private readonly stateLog = new LogLimiter({ now: () => Date.now() });

  /** Routes the plan leaves out because advertisements disagree: logged at warn when they appear. */
  private readonly conflicts: ConflictLog;

  /** FRRConfiguration: merged sessions and received routes (issue #14). */
  private readonly frrk8s: FrrK8sHook;

  constructor(private readonly o: SpeakerRoleOptions) {
    this.frrk8s = new FrrK8sHook({ bgp: o.bgp, logger: o.logger, onStatusChange: () => this.scheduleStatus() });
    this.conflicts = new ConflictLog(o.logger);
    o.bgp.on('state', (e: StateChangeEvent) => this.onSessionState(e));
    o.bgp.on('refused', (e: RefusedUpdateEvent) => this.onRefused(e));
    o.bfd?.on('state', (e: BfdStateEvent) => this.onBfdState(e));
  }

  get log(): Logger {
    return this.o.logger;
  }

  onSnapshot(s: Snapshot): void {
    if (this.stopped) return;
    const started = process.hrtime.bigint();
    this.layer2OnlyPools = layer2OnlyPools(s.config);
    const d = s.delta;
    if (this.planner && d?.servicesOnly === true && d.from === this.plannedGeneration) {
      try {
        this.applyDelta(this.planner, d);
        this.plannedGeneration = s.generation;
        this.o.metrics?.reconcileSeconds.observe({ role: 'speaker' }, Number(process.hrtime.bigint() - started) / 1e9);
        this.scheduleStatus();
        return;
      } catch (e) {
        this.log.error({ err: e, generation: s.generation }, 'incremental planning failed; planning everything');
      }
    }
    const nodes = withThisNode(s.nodes, this.o.nodeName);
    // The incremental planner gives the routes without every Service's plan (built when asked for).
    let peers: readonly PeerPlan[];
    let services: Iterable<ServicePlan>;
    // A Service without EndpointSlices is served by this host (standalone): one stand-in for all.
    const input: PlanInput = {
      config: s.config, services: s.services, endpointSlices: s.endpointSlices, nodes, nodeName: this.o.nodeName,
      ...(this.o.assumeLocalEndpoints ? { standInSlices: standInSlices(this.o.nodeName) } : {}),
    };
    try {
      if (this.o.incremental) {
        this.planner = this.o.incremental(input);
        peers = this.planner.peerPlans();
        services = this.planner.conflictedPlans(); // the conflict log needs no other Service's plan
      } else {
        const whole = this.o.plan(input);
        peers = whole.peers;
        services = whole.services;
        this.lastPlan = whole;
      }
    } catch (e) {
      this.planner = undefined;
      this.log.error({ err: e, generation: s.generation }, 'planning failed; announcements left as they were');
      return;
    }
    this.plannedGeneration = s.generation;
    this.statusWhole = true;
    this.peerIds = new Map();
    if (this.planner) this.lastPlan = undefined;
    this.conflicts.all(services);
    const node = nodes.find((n) => n.metadata.name === this.o.nodeName);
    const merged = this.frrk8s.merge(s, peers, node?.metadata.labels ?? {});
    const profiles = new Map([...s.config.bfdProfiles, ...merged.bfdProfiles].map((p) => [p.name, p]));
    const wanted = new Set<string>();
    for (const pp of merged.peers) {
      const m = peerConfigFor(pp.peer, pp.families, node, this.o.hostIpv4, this.o.nodeName);
      if ('unsupported' in m) {
        this.log.warn({ peer: pp.peer.name }, m.unsupported);
        continue;
      }
      wanted.add(m.config.id);
      this.peerIds.set(pp.peer.name, m.config.id);
      const profile = pp.peer.bfdProfile !== undefined ? profiles.get(pp.peer.bfdProfile) : undefined;
      this.applyPeer(m.config, pp.routes, profile, pp.peer.ebgpMultiHop);
      this.frrk8s.importPeer(m.config, pp.peer, merged.receive.get(pp.peer.name));
    }
    for (const id of [...this.peers.keys()]) if (!wanted.has(id)) void this.dropPeer(id);
    this.o.metrics?.reconcileSeconds.observe({ role: 'speaker' }, Number(process.hrtime.bigint() - started) / 1e9);
    this.scheduleStatus();
  }

  /** Only Services changed: re-plan those, and hand bgp/ only the routes that changed. */
  private applyDelta(planner: IncrementalPlan, d: SnapshotDelta): void {
    for (const [key, slices] of d.slices ?? []) planner.setSlices(key, slices);
    const byPeer = new Map<string, RouteChange[]>();
    const routeChanges = planner.apply(d.upserted, d.deleted);
    const replanned = planner.replanned();
    this.conflicts.some(replanned);
    for (const [key] of replanned) this.statusServices.add(key);
    for (const c of routeChanges) {
      const list = byPeer.get(c.peer);
      if (list) list.push(c); else byPeer.set(c.peer, [c]);
    }
    const byId = new Map<string, readonly RouteChange[]>();
    for (const [name, changes] of byPeer) {
      const id = this.peerIds.get(name);
      if (id !== undefined && this.peers.has(id)) byId.set(id, changes);
    }
    this.unshareDiverging(byId);
    const updated = new Set<Map<string, Route>>();
    for (const [id, changes] of byId) {
      const p = this.peers.get(id)!;
      // A Map shared by peers that all change alike is updated once.
      const update = !updated.has(p.routes);
      updated.add(p.routes);
      const announce: Route[] = [];
      const withdraw: Route['prefix'][] = [];
      const log = new CappedLog(this.log);
      let sent = this.statusPrefixes.get(id);
      if (!sent) this.statusPrefixes.set(id, (sent = new Map()));
      for (const c of changes) {
        const k = c.prefixKey;
        sent.set(prefixText(c.prefix), c.route !== undefined);
        if (c.route) {
          const route = c.route;
          announce.push(route);
          if (update) p.routes.set(k, route);
          log.info(() => ({ peer: id, ...describeRoute(route) }), c.previous ? 'announce (attributes changed)' : 'announce');
        } else {
          withdraw.push(c.prefix);
          if (update) p.routes.delete(k);
          log.info(() => ({ peer: id, prefix: formatPrefix(c.prefix), ...(c.previous ? { was: describeRoute(c.previous) } : {}) }), 'withdraw');
        }
      }
      log.done({ peer: id });
      this.o.bgp.updateRoutes(id, announce, withdraw);
      this.o.metrics?.bgpAnnouncedPrefixes.set({ peer: id }, p.routes.size);
    }
  }

  /**
   * Peers sharing a route Map whose changes in this delta differ (a peer-limited advertisement, a
   * conflict on one peer) stop sharing it: each group of peers changing alike gets its own copy.
   */
  private unshareDiverging(byId: ReadonlyMap<string, readonly RouteChange[]>): void {
    const sharers = new Map<Map<string, Route>, ActivePeer[]>();
    for (const p of this.peers.values()) {
      const g = sharers.get(p.routes);
      if (g) g.push(p); else sharers.set(p.routes, [p]);
    }
    for (const [routes, group] of sharers) {
      if (group.length < 2) continue;
      const classes: { changes: readonly RouteChange[]; map: Map<string, Route> }[] = [];
      for (const p of group) {
        const changes = byId.get(p.config.id) ?? [];
        let c = classes.find((x) => sameChanges(x.changes, changes));
        if (!c) classes.push((c = { changes, map: classes.length === 0 ? routes : new Map(routes) }));
        p.routes = c.map;
      }
    }
  }

  /** What status says of every Service: from the incremental planner, or the last whole plan. */
  private summaries(): Iterable<ServiceSummary> {
    if (this.planner) return this.planner.summaries();
    return (this.lastPlan?.services ?? []).map(summaryOf);
  }

  /** Every Service's plan: from the incremental planner, or the last whole plan. */
  private servicePlans(): Iterable<ServicePlan> {
    return this.planner ? this.planner.servicePlans() : (this.lastPlan?.services ?? []);
  }

  private applyPeer(config: PeerConfig, routes: readonly Route[], profile: BfdProfile | undefined, multiHop: boolean): void {
    const configKey = stableKey(config);
    let p = this.peers.get(config.id);
    if (!p) {
      p = { config, configKey, routes: new Map() };
      this.peers.set(config.id, p);
      this.o.bgp.addPeer(config);
      this.log.info({ peer: config.id, address: formatIp(config.peerAddress), port: config.peerPort, myAsn: config.myAsn, ...(config.dynamicAsn ? { dynamicAsn: config.dynamicAsn } : { peerAsn: config.peerAsn }) }, 'BGP peer added');
    } else if (p.configKey !== configKey) {
      p.config = config;
      p.configKey = configKey;
      this.o.bgp.updatePeer(config);
      this.log.info({ peer: config.id }, 'BGP peer settings changed');
    }
    this.applyBfd(p, profile, multiHop);
    const next = new Map<string, Route>();
    for (const r of routes) next.set(prefixKey(r.prefix), r);
    let changed = false;
    const log = new CappedLog(this.log);
    for (const [prefix, n] of next) {
      const old = p.routes.get(prefix);
      if (old && (old.attributes === n.attributes || attributeKey(old.attributes) === attributeKey(n.attributes))) continue;
      changed = true;
      log.info(() => ({ peer: config.id, ...describeRoute(n) }), old ? 'announce (attributes changed)' : 'announce');
    }
    for (const [prefix, old] of p.routes) {
      if (next.has(prefix)) continue;
      changed = true;
      log.info(() => ({ peer: config.id, prefix: formatPrefix(old.prefix), was: describeRoute(old) }), 'withdraw');
    }
    log.done({ peer: config.id });
    p.routes = this.sharedRoutes(p, next) ?? next;
    if (changed || routes.length === 0) this.o.bgp.setRoutes(config.id, routes);
    this.o.metrics?.bgpAnnouncedPrefixes.set({ peer: config.id }, routes.length);
  }

  /** Another peer's route Map holding exactly these routes (same prefixes, same attributes objects). */
  private sharedRoutes(p: ActivePeer, next: ReadonlyMap<string, Route>): Map<string, Route> | undefined {
    const seen = new Set<Map<string, Route>>();
    for (const q of this.peers.values()) {
      if (q === p || seen.has(q.routes)) continue;
      seen.add(q.routes);
      if (q.routes.size !== next.size) continue;
      let same = true;
      for (const [k, r] of next) if (q.routes.get(k)?.attributes !== r.attributes) { same = false; break; }
      if (same) return q.routes;
    }
    return undefined;
  }

  private applyBfd(p: ActivePeer, profile: BfdProfile | undefined, multiHop: boolean): void {
    const bfd = this.o.bfd;
    if (!bfd) {
      if (profile) this.log.warn({ peer: p.config.id }, 'BFD profile configured but BFD is not available in this process');
      return;
    }
    const key = profile ? stableKey({ a: formatIp(p.config.peerAddress), l: p.config.localAddress, multiHop }) : undefined;
    if (p.bfd && profile && p.bfd.key === key) {
      // Same path, maybe new timers: renegotiate in place (RFC 5880 Poll) rather than drop the session.
      if (stableKey(p.bfd.profile) !== stableKey(profile)) {
        bfd.updateProfile(p.config.id, profile);
        p.bfd = { profile, key };
        this.log.info({ peer: p.config.id, profile: profile.name }, 'BFD profile changed');
      }
      return;
    }
    if (p.bfd) {
      bfd.removeSession(p.config.id);
      this.bfdState.delete(p.config.id);
      this.release(p.config.id, 'BFD session removed');
      delete p.bfd;
      this.log.info({ peer: p.config.id }, 'BFD session removed');
    }
    if (profile && key) {
      bfd.addSession({ id: p.config.id, peerAddress: formatIp(p.config.peerAddress), ...(p.config.localAddress ? { localAddress: formatIp(p.config.localAddress) } : {}), multiHop, profile });
      p.bfd = { profile, key };
      this.log.info({ peer: p.config.id, profile: profile.name, rxMs: profile.receiveIntervalMs, txMs: profile.transmitIntervalMs, multiplier: profile.detectMultiplier }, 'BFD session added');
    }
  }

  private async dropPeer(id: string): Promise<void> {
    const p = this.peers.get(id);
    if (!p) return;
    this.peers.delete(id);
    this.statusWhole = true;
    this.frrk8s.dropPeer(id);
    for (const r of p.routes.values()) this.log.info({ peer: id, prefix: formatPrefix(r.prefix) }, 'withdraw');
    if (p.bfd) this.o.bfd?.removeSession(id);
    clearInterval(p.heldDown);
    this.log.info({ peer: id }, 'BGP peer removed');
    this.o.metrics?.bgpSessionUp.remove({ peer: id });
    this.o.metrics?.bgpAnnouncedPrefixes.remove({ peer: id });
    await this.o.bgp.removePeer(id);
  }

  /** The Services and BGPAdvertisements behind prefixes this node sends to the peer. */
  private announcedBy(peerId: string, prefixes: ReadonlySet<string>): { services: string[]; advertisements: string[] } {
    const services = new Set<string>();
    const advertisements = new Set<string>();
    for (const sp of this.servicePlans()) {
      for (const e of sp.entries) {
        if (e.kind !== 'announced' || !e.peers.includes(peerId) || !prefixes.has(formatPrefix(e.prefix))) continue;
        services.add(`${sp.namespace}/${sp.name}`);
        for (const a of e.advertisements) advertisements.add(a);
      }
    }
    return { services: [...services].sort(), advertisements: [...advertisements].sort() };
  }

  /** The peer ended the session over our UPDATE: say which Services and advertisements it was. */
  private onRefused(e: RefusedUpdateEvent): void {
    const sets = e.refused.sets.map((s) => ({ ...s, ...this.announcedBy(e.peerId, new Set(s.prefixes)) }));
    const retrySeconds = e.retryInMs !== undefined ? Math.round(e.retryInMs / 100) / 10 : undefined;
    this.log.warn({ peer: e.peerId, notification: e.refused.notification, certain: e.refused.certain, flaps: e.flaps, ...(retrySeconds !== undefined ? { retrySeconds } : {}), refused: sets },
      `${refusedText(e.refused)}; Services ${[...new Set(sets.flatMap((x) => x.services))].join(', ') || '(none known)'}, BGPAdvertisements ${[...new Set(sets.flatMap((x) => x.advertisements))].join(', ') || '(none known)'}${retrySeconds !== undefined ? `; next attempt in ${retrySeconds} s` : ''}`);
    this.scheduleStatus();
  }

  private onSessionState(e: StateChangeEvent): void {
    this.sessionState.set(e.peerId, e.to);
    // Up and down are always logged; the connect/retry churn in between once a minute per kind.
    const ok = e.from === 'Established' || e.to === 'Established' ? { suppressed: 0 } : this.stateLog.allow(`${e.peerId} ${e.from} ${e.to} ${e.reason}`);
    if (ok) this.log.info({ peer: e.peerId, from: e.from, to: e.to, reason: e.reason, ...(ok.suppressed > 0 ? { alsoSeen: ok.suppressed } : {}) }, `BGP session ${e.to}`);
    this.o.metrics?.bgpSessionUp.set({ peer: e.peerId }, e.to === 'Established' ? 1 : 0);
    this.scheduleStatus();
  }

  /**
   * The BFD rule (src/bfd/README.md, "With BGP"): every BFD Down resets the BGP session at once
   * (Cease / BFD Down), reported Up or not. A Down that leaves BFD damped also holds BGP down
   * until BFD is reported Up again or the damping has decayed, so a flapping link costs at most
   * the sessions the damper lets through.
   */
  private onBfdState(e: BfdStateEvent): void {
    const before = this.bfdState.get(e.id);
    this.bfdState.set(e.id, e.state);
    if (e.state === 'Down') {
      this.log.info({ peer: e.id, from: before, diagnostic: e.diagnostic, damped: e.damped === true }, 'BFD session Down');
      this.o.metrics?.bfdSessionUp.set({ peer: e.id }, 0);
      this.o.metrics?.bfdSessionDownEvents.inc({ peer: e.id });
      this.resetSession(e.id, `BFD Down${e.diagnostic ? ` (${e.diagnostic})` : ''}`, e.damped === true);
    } else if (before !== e.state) {
      this.log.info({ peer: e.id, from: before, to: e.state, diagnostic: e.diagnostic }, `BFD session ${e.state}`);
      this.o.metrics?.bfdSessionUp.set({ peer: e.id }, e.state === 'Up' ? 1 : 0);
      if (e.state === 'Up') this.release(e.id, 'BFD Up');
    }
    this.scheduleStatus();
  }

  /** BFD says the path is gone: end the BGP session now rather than waiting for the hold timer. */
  private resetSession(id: string, reason: string, holdDown: boolean): void {
    const p = this.peers.get(id);
    if (!p || this.stopped) return;
    this.log.warn({ peer: id, reason }, holdDown ? 'resetting BGP session; held down while BFD is damped' : 'resetting BGP session');
    this.o.bgp.resetPeer(id, { subcode: CeaseSubcode.BfdDown, message: reason, holdDown });
    if (!holdDown || p.heldDown) return;
    // Damping can end without an Up (the path stays dark): check now and then, and let BGP try.
    p.heldDown = setInterval(() => { if (!this.o.bfd?.damped(id)) this.release(id, 'BFD damping decayed'); }, this.o.dampingCheckMs ?? 1000);
    p.heldDown.unref();
  }

  private release(id: string, why: string): void {
    const p = this.peers.get(id);
    if (!p?.heldDown) return;
    clearInterval(p.heldDown);
    delete p.heldDown;
    this.log.info({ peer: id, why }, 'BGP session released');
    if (!this.stopped) this.o.bgp.releasePeer(id);
  }

  /** One session as status says it, its prefixes aside. */
  private peerStatus(id: string, p: ActivePeer): Omit<PeerAnnouncement, 'prefixes'> {
    const bfd = this.bfdState.get(id) ?? (p.bfd ? 'Down' : undefined);
    const st = this.o.bgp.peerState(id);
    const state = st?.state ?? this.sessionState.get(id) ?? 'Idle';
    // Why a session is not up (or keeps failing): the refused UPDATE, with its Services, first.
    const refused = st?.refusedUpdate;
    const lastError = refused
      ? `${refusedText(refused)} (Services ${this.announcedBy(id, new Set(refused.sets.flatMap((x) => x.prefixes))).services.join(', ') || 'unknown'})${st.flaps ? `; ${st.flaps} flaps` : ''}${st.retryInMs !== undefined ? `, next attempt in ${Math.round(st.retryInMs / 1000)} s` : ''}`
      : state !== 'Established' ? st?.lastError : undefined;
    return {
      address: formatIp(p.config.peerAddress),
      state,
      ...(bfd !== undefined ? { bfd } : {}),
      ...(lastError !== undefined ? { lastError } : {}),
      ...(st?.uptimeMs !== undefined ? { uptimeMs: st.uptimeMs } : {}),
      ...received(this.frrk8s.status(id)),
    };
  }

  status(): SpeakerStatus {
    const peers: Record<string, PeerAnnouncement> = {};
    for (const [id, p] of this.peers) peers[id] = { ...this.peerStatus(id, p), prefixes: [...p.routes.values()].map((r) => prefixText(r.prefix)) };
    const { notAnnounced, announced, announcedToNoPeer } = bgpSummaryOf(this.summaries(), this.layer2OnlyPools);
    return {
      node: this.o.nodeName, peers, notAnnounced, announced, ...(announcedToNoPeer.length > 0 ? { announcedToNoPeer } : {}), ...this.layer2Part(),
      frrConfigurationProblems: this.frrk8s.refused(), updated: new Date().toISOString(),
    };
  }

  private layer2Part(): Pick<SpeakerStatus, 'layer2'> {
    const layer2 = this.o.layer2Status?.();
    return layer2 && Object.keys(layer2).length > 0 ? { layer2 } : {};
  }

  /**
   * What changed since the last write (see statusServices): every session's state, the prefixes
   * and Services touched since. Costs what changed, not the number of Services or prefixes.
   */
  private statusChanges(planner: IncrementalPlan): SpeakerStatusChanges {
    const peers: Record<string, PeerAnnouncement> = {};
    for (const [id, p] of this.peers) peers[id] = { ...this.peerStatus(id, p), prefixes: [], prefixesSent: p.routes.size };
    const services = new Map<string, ServiceBgpEntries>();
    for (const key of this.statusServices) {
      const sp = planner.servicePlan(key);
      services.set(key, bgpEntriesOf(sp && summaryOf(sp), this.layer2OnlyPools));
    }
    const prefixes = new Map(this.statusPrefixes);
    return {
      node: this.o.nodeName, peers, prefixes, services, ...(this.layer2Changed ? { layer2: this.layer2Part().layer2 } : {}),
      frrConfigurationProblems: this.frrk8s.refused(), updated: new Date().toISOString(),
    };
  }

  /** The next write: the changes alone when the incremental planner knows them all, else the whole status. */
  private statusWriteNow(): SpeakerStatusWrite {
    const planner = this.planner;
    const w: SpeakerStatusWrite = planner && !this.statusWhole ? { whole: () => this.status(), changes: this.statusChanges(planner) } : this.status();
    this.statusWhole = false;
    this.statusServices.clear();
    this.statusPrefixes.clear();
    this.layer2Changed = false;
    return w;
  }

  /** Something outside the BGP plan (layer 2) changed what status() reports. */
  statusChanged(): void {
    this.layer2Changed = true;
    this.scheduleStatus();
  }

  /**
   * Status is written at most every statusEveryMs, and at least 20 times its own cost apart. A
   * write after single edits carries only what they changed (statusWriteNow), so a stream of edits
   * costs a journal line or a few objects per write, never a list of every prefix.
   */
  private scheduleStatus(): void {
    if (this.stopped || this.statusTimer) return;
    const gap = Math.max(this.o.statusEveryMs ?? 200, 20 * this.lastStatusMs);
    this.statusTimer = setTimeout(() => {
      this.statusTimer = undefined;
      const t0 = performance.now();
      const s = this.statusWriteNow();
      this.lastStatusMs = performance.now() - t0;
      this.statusWrite = this.statusWrite.then(() => this.o.store.writeSpeakerStatus(s)).catch((e: unknown) => this.log.warn({ err: e }, 'writing speaker status failed'));
    }, gap);
    this.statusTimer.unref();
  }

  /** SIGTERM: withdraw everything and close (or, with graceful restart, close and let peers keep the routes). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    const graceful = [...this.peers.values()].some((p) => p.config.gracefulRestart !== undefined);
    this.stopped = true;
    clearTimeout(this.statusTimer);
    for (const p of this.peers.values()) clearInterval(p.heldDown);
    this.log.info({ peers: this.peers.size, graceful }, graceful ? 'stopping: closing sessions, peers keep routes (graceful restart)' : 'stopping: withdrawing all routes');
    if (!graceful) for (const [id, p] of this.peers) for (const r of p.routes.values()) this.log.info({ peer: id, prefix: formatPrefix(r.prefix) }, 'withdraw');
    await this.o.bgp.close({ graceful });
    await this.o.bfd?.close();
    await this.frrk8s.close();
    await this.statusWrite;
    await this.o.store.writeSpeakerStatus({ ...this.status(), peers: {} }).catch(() => undefined);
  }
}

/** Two peers' changes from one delta are alike: the same prefixes, announced with the same attributes or withdrawn. */
function sameChanges(a: readonly RouteChange[], b: readonly RouteChange[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.prefixKey !== b[i]!.prefixKey || a[i]!.route?.attributes !== b[i]!.route?.attributes) return false;
  return true;
}

/** Received routes on a session, for status, when it has a receive policy (FRRConfiguration). */
function received(st: { received: number; accepted: number; installed: number } | undefined): Partial<PeerAnnouncement> {
  return st ? { received: { routes: st.received, accepted: st.accepted, installed: st.installed } } : {};
}
