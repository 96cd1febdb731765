// The announcement plan kept up to date one Service at a time. planAnnouncements (plan.ts) stays
// the reference: built from scratch, this gives the same plan, and after any sequence of Service
// upserts and deletions it gives what planAnnouncements would give for the Services now held
// (plan-incremental.property.test.ts checks both). An edit costs what it touches: the Service, the
// (peer, prefix) slots its candidates fall in, and the Services that share those slots or its IPs;
// never the whole world. Config, Node or EndpointSlice changes are not incremental: build anew.
import type { EndpointSlice, Service } from '../api/resources.ts';
import type { Route, RouteAttributes } from '../bgp/route.ts';
import { sessionIsEbgp } from '../config/peers.ts';
import type { Peer } from '../config/types.ts';
import { formatIp } from '../net/ip.ts';
import { comparePrefix, formatPrefix, type Prefix } from '../net/prefix.ts';
import { anySelectorMatches, type Labels } from '../net/selector.ts';
import { routeAttributes } from './conflicts.ts';
import { judgeService, nodeState, serviceKey, serviceWideReasons, slicesByService, type ServiceVerdict } from './eligibility.ts';
import {
  byText, type Candidate, candidatesFor, distinctAds, familyName, type PeerRefusal, type PlanInput, type PrefixSlot, quoted, sessionFamilies, slotConflict,
} from './plan.ts';
import type { AnnouncementPlan, NodeState, NotAnnouncedEntry, PeerPlan, ServiceEntry, ServicePlan } from './plan-types.ts';

/** One route that changed for one peer: `route` undefined is a withdrawal. */
export interface RouteChange {
  readonly peer: string;
  readonly prefixKey: string;
  readonly prefix: Prefix;
  readonly route?: Route;
  /** The route this peer had for the prefix before. */
  readonly previous?: Route;
}

interface Held {
  readonly svc: Service;
  readonly key: string;
  readonly verdict: ServiceVerdict;
  readonly ipTexts: readonly string[];
  readonly candidates: readonly Candidate[];
  /** `ip|prefixKey|peer` -> why that candidate does not reach that peer. */
  readonly refusals: Map<string, PeerRefusal>;
  /** The IPs this Service has this node announce (to at least one peer). */
  announcedIps: ReadonlySet<string>;
}

const keyOf = (svc: Service): string => serviceKey(svc.metadata.namespace ?? 'default', svc.metadata.name ?? '');
const byServiceOrder = (a: ServicePlan, b: ServicePlan): number => byText(a.namespace, b.namespace) || byText(a.name, b.name);

export class IncrementalPlan {
  readonly node: NodeState;
  private readonly nodeLabels: Labels;
  private readonly sessionPeers: readonly Peer[];
  private readonly peersNotOnThisNode: readonly string[];
  private readonly families = new Map<string, ReturnType<typeof sessionFamilies>>();
  private readonly slices: ReturnType<typeof slicesByService>;
  private readonly held = new Map<string, Held>();
  /** peer -> prefix key -> slot. */
  private readonly table = new Map<string, Map<string, PrefixSlot>>();
  /** peer -> prefix key -> the route sent (slots in conflict send none). */
  private readonly routes = new Map<string, Map<string, Route>>();
  /** Route attributes by (eBGP or not, advertisement set): shared by every prefix with that set. */
  private readonly attributesBySet = new Map<string, RouteAttributes>();
  /** IP text -> Services holding it (announced or not). */
  private readonly byIp = new Map<string, Set<string>>();
  /** IP text -> Services having this node announce it. */
  private readonly announcedIps = new Map<string, Set<string>>();
  private readonly plans = new Map<string, ServicePlan>();
  private lastAffected: ReadonlySet<string> = new Set();

  constructor(private readonly input: PlanInput) {
    const options = input.options ?? {};
    const nodeObj = input.nodes.find((n) => n.metadata.name === input.nodeName);
    this.nodeLabels = nodeObj?.metadata.labels ?? {};
    this.node = nodeState(input.nodeName, nodeObj, options);
    const allPeers = [...input.config.peers].sort((a, b) => byText(a.name, b.name));
    this.sessionPeers = allPeers.filter((p) => anySelectorMatches(p.nodeSelectors, this.nodeLabels));
    this.peersNotOnThisNode = allPeers.filter((p) => !this.sessionPeers.includes(p)).map((p) => p.name);
    for (const p of this.sessionPeers) {
      this.table.set(p.name, new Map());
      this.routes.set(p.name, new Map());
      this.families.set(p.name, sessionFamilies(p));
    }
    this.slices = slicesByService(input.endpointSlices);
    this.apply(input.services, []);
  }

  /** Replaces the EndpointSlices of one Service (standalone's stand-ins); takes effect on its next upsert. */
  setSlices(key: string, slices: readonly EndpointSlice[] | undefined): void {
    if (slices && slices.length > 0) this.slices.set(key, [...slices]); else this.slices.delete(key);
  }

  /** The routes of one peer now, by prefix key (a live view: do not change it). */
  routesOf(peer: string): ReadonlyMap<string, Route> {
    return this.routes.get(peer) ?? new Map();
  }

  /** The session peers, sorted by name. */
  peers(): readonly Peer[] {
    return this.sessionPeers;
  }

  /** Every Service's plan entry (unordered; plan() sorts). */
  servicePlans(): IterableIterator<ServicePlan> {
    return this.plans.values();
  }

  servicePlan(key: string): ServicePlan | undefined {
    return this.plans.get(key);
  }

  /** The whole plan, as planAnnouncements gives it (costs the whole world: for tests and explain). */
  plan(): AnnouncementPlan {
    const peers: PeerPlan[] = this.sessionPeers.map((peer) => ({
      peer, families: this.families.get(peer.name)!, routes: [...this.routes.get(peer.name)!.values()].sort((a, b) => comparePrefix(a.prefix, b.prefix)),
    }));
    return { node: this.node, peers, peersNotOnThisNode: this.peersNotOnThisNode, services: [...this.plans.values()].sort(byServiceOrder) };
  }

  /**
   * Services added or changed (`upserted`, as they now read) and removed (`deleted`, by key);
   * returns the routes that changed, per peer. A key in both: the upsert wins.
   */
  apply(upserted: readonly Service[], deleted: readonly string[]): RouteChange[] {
    const touched = new Map<string, Map<string, Prefix>>(); // peer -> prefix key -> prefix
    const affected = new Set<string>();
    const ipsChanged = new Set<string>();
    const upsertKeys = new Set<string>();
    for (const svc of upserted) upsertKeys.add(keyOf(svc));
    for (const key of deleted) if (!upsertKeys.has(key)) this.remove(key, touched, affected, ipsChanged);
    for (const svc of upserted) {
      const key = keyOf(svc);
      this.remove(key, touched, affected, ipsChanged);
      this.add(svc, key, touched, affected);
    }
    const changes: RouteChange[] = [];
    for (const [peerName, prefixes] of touched) {
      const peer = this.sessionPeers.find((p) => p.name === peerName)!;
      const slots = this.table.get(peerName)!;
      const routes = this.routes.get(peerName)!;
      for (const [pk, prefix] of prefixes) {
        const slot = slots.get(pk);
        for (const svc of slot?.bySvc.keys() ?? []) affected.add(svc);
        const previous = routes.get(pk);
        const route = slot ? this.routeOf(slot, peer) : undefined;
        if (route) routes.set(pk, route); else routes.delete(pk);
        if (route?.attributes !== previous?.attributes) changes.push({ peer: peerName, prefixKey: pk, prefix, ...(route ? { route } : {}), ...(previous ? { previous } : {}) });
      }
    }
    // Which IPs this node announces, and for whom, follows from the slots: then the entries.
    for (const key of affected) {
      const h = this.held.get(key);
      const now = h ? this.announcedBy(h) : new Set<string>();
      const before = h?.announcedIps ?? new Set<string>();
      for (const ip of before) if (!now.has(ip)) { this.unmark(this.announcedIps, ip, key); ipsChanged.add(ip); }
      for (const ip of now) if (!before.has(ip)) { this.mark(this.announcedIps, ip, key); ipsChanged.add(ip); }
      if (h) h.announcedIps = now;
    }
    for (const ip of ipsChanged) for (const key of this.byIp.get(ip) ?? []) affected.add(key);
    for (const key of affected) {
      const h = this.held.get(key);
      if (h) this.plans.set(key, this.servicePlanOf(h)); else this.plans.delete(key);
    }
    this.lastAffected = affected;
    return changes;
  }

  /** The Services the last apply() planned again, with their plan now (undefined: gone). */
  replanned(): [string, ServicePlan | undefined][] {
    return [...this.lastAffected].map((k) => [k, this.plans.get(k)]);
  }

  private mark(m: Map<string, Set<string>>, k: string, v: string): void {
    const s = m.get(k);
    if (s) s.add(v); else m.set(k, new Set([v]));
  }

  private unmark(m: Map<string, Set<string>>, k: string, v: string): void {
    const s = m.get(k);
    if (s?.delete(v) && s.size === 0) m.delete(k);
  }

  private touch(touched: Map<string, Map<string, Prefix>>, peer: string, c: Candidate): void {
    let m = touched.get(peer);
    if (!m) touched.set(peer, (m = new Map()));
    m.set(c.prefixKey, c.prefix);
  }

  private remove(key: string, touched: Map<string, Map<string, Prefix>>, affected: Set<string>, ipsChanged: Set<string>): void {
    const h = this.held.get(key);
    if (!h) return;
    this.held.delete(key);
    affected.add(key);
    for (const ip of h.announcedIps) { this.unmark(this.announcedIps, ip, key); ipsChanged.add(ip); }
    for (const ip of h.ipTexts) this.unmark(this.byIp, ip, key);
    for (const c of h.candidates) {
      for (const peer of this.sessionPeers) {
        const slots = this.table.get(peer.name)!;
        const slot = slots.get(c.prefixKey);
        if (!slot?.bySvc.delete(key)) continue;
        this.touch(touched, peer.name, c);
        if (slot.bySvc.size === 0) { slots.delete(c.prefixKey); continue; }
        // The slot's advertisements: those the remaining Services still send it with.
        const names = new Set<string>();
        for (const n of slot.bySvc.values()) for (const name of n) names.add(name);
        for (const name of [...slot.ads.keys()]) if (!names.has(name)) slot.ads.delete(name);
      }
    }
  }

  private add(svc: Service, key: string, touched: Map<string, Map<string, Prefix>>, affected: Set<string>): void {
    const input = this.input;
    const verdict = judgeService(svc, { config: input.config, node: this.node, nodeLabels: this.nodeLabels, slices: this.slices.get(key) ?? [], options: input.options ?? {} });
    const ads = verdict.announce ? [...verdict.ads].sort((a, b) => byText(a.name, b.name)) : [];
    const candidates = verdict.announce ? candidatesFor(key, verdict.ips, ads) : [];
    const ipTexts = verdict.ips.map(formatIp);
    const h: Held = { svc, key, verdict, ipTexts, candidates, refusals: new Map(), announcedIps: new Set() };
    this.held.set(key, h);
    affected.add(key);
    for (const ip of ipTexts) this.mark(this.byIp, ip, key);
    for (const c of candidates) {
      for (const peer of this.sessionPeers) {
        const refusal = this.refusalFor(c, peer);
        if (refusal) { h.refusals.set(`${c.ipText}|${c.prefixKey}|${peer.name}`, refusal); continue; }
        const usable = c.ads.filter((a) => (a.peers ?? []).length === 0 || a.peers!.includes(peer.name));
        const slots = this.table.get(peer.name)!;
        let slot = slots.get(c.prefixKey);
        if (!slot) { slot = { prefix: c.prefix, bySvc: new Map(), ads: new Map() }; slots.set(c.prefixKey, slot); }
        let names = slot.bySvc.get(key);
        if (!names) { names = new Set(); slot.bySvc.set(key, names); }
        for (const ad of usable) { names.add(ad.name); slot.ads.set(ad.name, ad); }
        this.touch(touched, peer.name, c);
      }
    }
  }

  private refusalFor(c: Candidate, peer: Peer): PeerRefusal | undefined {
    if (!c.ads.some((a) => (a.peers ?? []).length === 0 || a.peers!.includes(peer.name))) {
      return {
        reason: 'peerNotSelectedByAdvertisement',
        message: `the peers list of BGPAdvertisement${c.ads.length > 1 ? 's' : ''} ${quoted(c.ads.map((a) => a.name))} does not name peer "${peer.name}"`,
      };
    }
    const families = this.families.get(peer.name)!;
    if (!families.includes(c.prefix.family)) {
      return {
        reason: 'addressFamilyMismatch',
        message: `the session with peer "${peer.name}" carries ${familyName(families[0]!)} only and ${formatPrefix(c.prefix)} is ` +
          `${familyName(c.prefix.family)} (dualStackAddressFamily would carry both)`,
      };
    }
    return undefined;
  }

  /** The slot's route, or undefined (and the slot marked) when its advertisements conflict. */
  private routeOf(slot: PrefixSlot, peer: Peer): Route | undefined {
    const ebgp = sessionIsEbgp(peer);
    const setKey = `${ebgp ? 'e' : 'i'}\u0000${[...slot.ads.keys()].sort(byText).join('\u0000')}`;
    let attributes = this.attributesBySet.get(setKey);
    delete slot.conflict;
    if (attributes === undefined) {
      const conflict = slotConflict(slot, peer);
      if (conflict) { slot.conflict = conflict; return undefined; }
      attributes = routeAttributes(distinctAds(slot), ebgp);
      this.attributesBySet.set(setKey, attributes);
    }
    return { prefix: slot.prefix, attributes };
  }

  /** The IPs a Service has this node announce: those of its candidates that reach a peer. */
  private announcedBy(h: Held): Set<string> {
    const out = new Set<string>();
    for (const c of h.candidates) {
      if (this.sessionPeers.some((peer) => { const slot = this.table.get(peer.name)!.get(c.prefixKey); return slot?.bySvc.has(h.key) === true && slot.conflict === undefined; })) out.add(c.ipText);
    }
    return out;
  }

  /** planAnnouncements' step 4 for one Service. */
  private servicePlanOf(h: Held): ServicePlan {
    const { svc, key, verdict } = h;
    const namespace = svc.metadata.namespace ?? 'default';
    const name = svc.metadata.name ?? '';
    const ips = h.ipTexts;
    let entries: ServiceEntry[] = [];
    if (verdict.announce) {
      for (const c of h.candidates) {
        const ip = c.ipText;
        const to: string[] = [];
        const used = new Set<string>();
        const refused: NotAnnouncedEntry[] = [];
        for (const peer of this.sessionPeers) {
          const slot = this.table.get(peer.name)!.get(c.prefixKey);
          const mine = slot?.bySvc.get(key);
          if (slot && mine && slot.conflict === undefined) {
            to.push(peer.name);
            for (const n of mine) used.add(n);
            continue;
          }
          const why: PeerRefusal = slot?.conflict !== undefined && mine
            ? { reason: 'conflictingAdvertisements', message: slot.conflict }
            : h.refusals.get(`${c.ipText}|${c.prefixKey}|${peer.name}`)!;
          refused.push({ kind: 'notAnnounced', ip, prefix: c.prefix, peer: peer.name, ...why });
        }
        if (to.length > 0) {
          const ads = [...used].sort(byText);
          entries.push({
            kind: 'announced', ip, prefix: c.prefix, peers: to, advertisements: ads,
            message: `announced as ${formatPrefix(c.prefix)} to peer${to.length > 1 ? 's' : ''} ${quoted(to)} (BGPAdvertisement${ads.length > 1 ? 's' : ''} ${quoted(ads)})`,
          });
        }
        if (this.sessionPeers.length === 0) {
          refused.push({ kind: 'notAnnounced', ip, prefix: c.prefix, reason: 'noPeers', message: `node "${this.node.name}" has no BGP peer: no BGPPeer's nodeSelectors match it` });
        }
        entries.push(...refused);
      }
    } else {
      const { reason, message } = verdict;
      entries = serviceWideReasons.has(reason) || ips.length === 0
        ? [{ kind: 'notAnnounced', reason, message }]
        : ips.map((ip): NotAnnouncedEntry => {
          const others = [...(this.announcedIps.get(ip) ?? [])].filter((s) => s !== key).sort(byText);
          return others.length > 0
            ? { kind: 'notAnnounced', ip, reason, message: `${message}; the IP is announced anyway for ${others.join(', ')}, which shares it`, ipAnnouncedFor: others }
            : { kind: 'notAnnounced', ip, reason, message };
        });
    }
    return { namespace, name, ips, ...(verdict.pool ? { pool: verdict.pool.name } : {}), entries };
  }
}

