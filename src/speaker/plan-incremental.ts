// The announcement plan kept up to date one Service at a time. planAnnouncements (plan.ts) stays
// the reference: built from scratch, this gives the same plan, and after any sequence of Service
// upserts and deletions it gives what planAnnouncements would give for the Services now held
// (plan-incremental.property.test.ts checks both). An edit costs what it touches: the Service, the
// (peer, prefix) slots its candidates fall in, and the Services that share those slots or its IPs;
// never the whole world. Config, Node or EndpointSlice changes are not incremental: build anew.
// Memory: one slot per prefix for all peers (a peer's view is derived when it changes), Service
// plans built when asked for, not kept.
import { exact } from '../api/exact.ts';
import type { EndpointSlice, Service } from '../api/resources.ts';
import type { Route, RouteAttributes } from '../bgp/route.ts';
import { sessionIsEbgp } from '../config/peers.ts';
import type { BgpAdvertisement, Peer } from '../config/types.ts';
import { type Family, formatIp } from '../net/ip.ts';
import { comparePrefix, formatPrefix, type Prefix } from '../net/prefix.ts';
import { anySelectorMatches, type Labels } from '../net/selector.ts';
import { routeAttributes } from './conflicts.ts';
import { judgeService, nodeState, serviceKey, serviceWideReasons, slicesByService, type ServiceVerdict } from './eligibility.ts';
import {
  byText, type Candidate, candidatesFor, distinctAds, familyName, type PeerRefusal, type PlanInput, type PrefixSlot, quoted, sessionFamilies, slotConflict,
} from './plan.ts';
import type { ServiceSummary } from './bgp-summary.ts';
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
  /** The IPs this Service has this node announce (to at least one peer). */
  announcedIps: readonly string[];
}

/**
 * One prefix, shared by every peer: which Services' candidates produce it, and what each session
 * peer gets. At 50,000 Services one slot per (peer, prefix) with its Maps and Sets was most of the
 * daemon's heap; a peer's view is derived from the candidates (see admitted/usableAds).
 */
interface Slot {
  readonly prefix: Prefix;
  /** The candidates producing this prefix (usually one; a shared IP or an aggregate has more). */
  cands: Candidate[];
  /** By session peer index: the attributes sent, or undefined (nothing admitted, or a conflict). */
  attrs: readonly (RouteAttributes | undefined)[];
  /** By session peer index: why the advertisements disagree; absent when none does. */
  conflicts?: (string | undefined)[];
}

/** Key -> values, where most keys have one value: a string until a second one comes. */
type MultiMap = Map<string, string | Set<string>>;
function mark(m: MultiMap, k: string, v: string): void {
  const s = m.get(k);
  if (s === undefined) m.set(k, v);
  else if (typeof s === 'string') { if (s !== v) m.set(k, new Set([s, v])); } else s.add(v);
}
function unmark(m: MultiMap, k: string, v: string): void {
  const s = m.get(k);
  if (s === v) m.delete(k);
  else if (typeof s === 'object' && s.delete(v) && s.size === 1) m.set(k, s.values().next().value!);
}
const valuesOf = (m: MultiMap, k: string): Iterable<string> => { const s = m.get(k); return s === undefined ? [] : typeof s === 'string' ? [s] : s; };

const keyOf = (svc: Service): string => serviceKey(svc.metadata.namespace ?? 'default', svc.metadata.name ?? '');
const byServiceOrder = (a: ServicePlan, b: ServicePlan): number => byText(a.namespace, b.namespace) || byText(a.name, b.name);
const usesPeer = (a: BgpAdvertisement, peer: string): boolean => (a.peers ?? []).length === 0 || a.peers!.includes(peer);
const none: readonly never[] = [];

export class IncrementalPlan {
  readonly node: NodeState;
  private readonly nodeLabels: Labels;
  private readonly sessionPeers: readonly Peer[];
  private readonly peerNames: readonly string[];
  private readonly ebgp: readonly boolean[];
  private readonly peersNotOnThisNode: readonly string[];
  private readonly families: (readonly Family[])[];
  private readonly slices: Map<string, readonly EndpointSlice[]>;
  private readonly held = new Map<string, Held>();
  /** prefix key -> slot, for every peer. */
  private readonly slots = new Map<string, Slot>();
  /** Route attributes by (eBGP or not, advertisement set): shared by every prefix with that set. */
  private readonly attributesBySet = new Map<string, RouteAttributes>();
  /** Slots' per-peer attribute arrays by their sets' keys: slots whose peers get the same sets share one array. */
  private readonly attrsBySets = new Map<string, readonly (RouteAttributes | undefined)[]>();
  /** IP text -> Services holding it (announced or not). */
  private readonly byIp: MultiMap = new Map();
  /** IP text -> Services having this node announce it. */
  private readonly announcedIps: MultiMap = new Map();
  private lastAffected: ReadonlySet<string> = new Set();
  /**
   * Advertisement lists by their names: every Service of a pool has the same list (its verdict's
   * and its candidates'), kept once instead of twice per Service (~110 bytes each).
   */
  private readonly adLists = new Map<string, readonly BgpAdvertisement[]>();

  constructor(private readonly input: PlanInput) {
    const options = input.options ?? {};
    const nodeObj = input.nodes.find((n) => n.metadata.name === input.nodeName);
    this.nodeLabels = nodeObj?.metadata.labels ?? {};
    this.node = nodeState(input.nodeName, nodeObj, options);
    const allPeers = [...input.config.peers].sort((a, b) => byText(a.name, b.name));
    this.sessionPeers = allPeers.filter((p) => anySelectorMatches(p.nodeSelectors, this.nodeLabels));
    this.peersNotOnThisNode = allPeers.filter((p) => !this.sessionPeers.includes(p)).map((p) => p.name);
    this.peerNames = this.sessionPeers.map((p) => p.name);
    this.ebgp = this.sessionPeers.map(sessionIsEbgp);
    this.families = this.sessionPeers.map(sessionFamilies);
    this.slices = slicesByService(input.endpointSlices);
    this.apply(input.services, []);
    // Every Service was "replanned" by the build: nobody asks (the daemon reads conflictedPlans).
    this.lastAffected = new Set();
  }


  /** Replaces the EndpointSlices of one Service (a store's delta names them); takes effect on its next upsert. */
  setSlices(key: string, slices: readonly EndpointSlice[]): void {
    if (slices.length > 0) this.slices.set(key, [...slices]); else this.slices.delete(key);
  }

  /** The routes of one peer now, by prefix key (built on each call: for tests and explain). */
  routesOf(peer: string): ReadonlyMap<string, Route> {
    const i = this.peerNames.indexOf(peer);
    const out = new Map<string, Route>();
    if (i < 0) return out;
    for (const [pk, slot] of this.slots) { const a = slot.attrs[i]; if (a) out.set(pk, { prefix: slot.prefix, attributes: a }); }
    return out;
  }

  /** The session peers, sorted by name. */
  peers(): readonly Peer[] {
    return this.sessionPeers;
  }

  /** Every Service's plan entry (unordered; plan() sorts), built as it is iterated: none is kept. */
  *servicePlans(): IterableIterator<ServicePlan> {
    for (const h of this.held.values()) yield this.servicePlanOf(h);
  }

  /**
   * The plans of the Services that have a prefix some advertisements disagree on: the only plans
   * with a conflictingAdvertisements entry (the conflict log reads these, not every Service's).
   */
  *conflictedPlans(): IterableIterator<ServicePlan> {
    for (const h of this.held.values()) {
      if (h.verdict.announce && h.candidates.some((c) => this.slots.get(c.prefixKey)?.conflicts !== undefined)) yield this.servicePlanOf(h);
    }
  }

  servicePlan(key: string): ServicePlan | undefined {
    const h = this.held.get(key);
    return h ? this.servicePlanOf(h) : undefined;
  }

  /**
   * What status needs of every Service, equal to what its servicePlan says (peers announced to,
   * entries not announced); a Service announced to every peer costs no plan entry.
   */
  *summaries(): IterableIterator<ServiceSummary> {
    for (const h of this.held.values()) {
      if (h.verdict.announce && this.sessionPeers.length > 0 && h.candidates.every((c) => this.everywhere(c))) {
        yield { key: h.key, ips: h.ipTexts, pool: h.verdict.pool.name, peers: this.peerNames, notAnnounced: none };
        continue;
      }
      const sp = this.servicePlanOf(h);
      const to = new Set<string>();
      const notAnnounced: NotAnnouncedEntry[] = [];
      for (const e of sp.entries) {
        if (e.kind === 'announced') for (const p of e.peers) to.add(p);
        else notAnnounced.push(e);
      }
      yield { key: h.key, ips: sp.ips, ...(sp.pool !== undefined ? { pool: sp.pool } : {}), peers: [...to].sort(byText), notAnnounced };
    }
  }

  /** The candidate reaches every session peer (admitted everywhere, no conflict). */
  private everywhere(c: Candidate): boolean {
    const slot = this.slots.get(c.prefixKey);
    if (!slot) return false;
    for (let i = 0; i < this.sessionPeers.length; i++) if (slot.attrs[i] === undefined || !this.admitted(c, i)) return false;
    return true;
  }

  /** The whole plan, as planAnnouncements gives it (costs the whole world: for tests and explain). */
  plan(): AnnouncementPlan {
    return { node: this.node, peers: this.peerPlans(), peersNotOnThisNode: this.peersNotOnThisNode, services: [...this.servicePlans()].sort(byServiceOrder) };
  }

  /** plan().peers alone: what each session peer gets, without building every Service's plan. */
  peerPlans(): PeerPlan[] {
    const routes: Route[][] = this.sessionPeers.map(() => []);
    for (const slot of this.slots.values()) {
      // Peers sent the same attributes share one Route object (the daemon keeps them per peer).
      let last: Route | undefined;
      slot.attrs.forEach((a, i) => {
        if (!a) return;
        if (last?.attributes !== a) last = { prefix: slot.prefix, attributes: a };
        routes[i]!.push(last);
      });
    }
    return this.sessionPeers.map((peer, i) => ({ peer, families: this.families[i]!, routes: routes[i]!.sort((a, b) => comparePrefix(a.prefix, b.prefix)) }));
  }

  /**
   * Services added or changed (`upserted`, as they now read) and removed (`deleted`, by key);
   * returns the routes that changed, per peer. A key in both: the upsert wins.
   */
  apply(upserted: readonly Service[], deleted: readonly string[]): RouteChange[] {
    const touched = new Map<string, Prefix>(); // prefix key -> prefix
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
    for (const [pk, prefix] of touched) {
      const slot = this.slots.get(pk);
      if (!slot) continue;
      for (const c of slot.cands) affected.add(c.svc);
      const before = slot.attrs;
      this.route(slot);
      let last: Route | undefined; // peers sent the same attributes share one Route object
      this.sessionPeers.forEach((peer, i) => {
        const was = before[i];
        const now = slot.attrs[i];
        if (now === was) return;
        if (now && last?.attributes !== now) last = { prefix, attributes: now };
        changes.push({ peer: peer.name, prefixKey: pk, prefix, ...(now ? { route: last! } : {}), ...(was ? { previous: { prefix, attributes: was } } : {}) });
      });
      if (slot.cands.length === 0) this.slots.delete(pk);
    }
    // Which IPs this node announces, and for whom, follows from the slots.
    for (const key of affected) {
      const h = this.held.get(key);
      if (!h) continue;
      const now = this.announcedBy(h);
      for (const ip of h.announcedIps) if (!now.includes(ip)) { unmark(this.announcedIps, ip, key); ipsChanged.add(ip); }
      for (const ip of now) if (!h.announcedIps.includes(ip)) { mark(this.announcedIps, ip, key); ipsChanged.add(ip); }
      h.announcedIps = now;
    }
    // A Service sharing an IP whose announcement changed says so in its plan: it changed too.
    for (const ip of ipsChanged) for (const key of valuesOf(this.byIp, ip)) affected.add(key);
    this.lastAffected = affected;
    return changes;
  }

  /** The Services the last apply() touched, with their plan now (undefined: gone); built on demand. */
  replanned(): [string, ServicePlan | undefined][] {
    return [...this.lastAffected].map((k) => [k, this.servicePlan(k)]);
  }

  private remove(key: string, touched: Map<string, Prefix>, affected: Set<string>, ipsChanged: Set<string>): void {
    const h = this.held.get(key);
    if (!h) return;
    this.held.delete(key);
    affected.add(key);
    for (const ip of h.announcedIps) { unmark(this.announcedIps, ip, key); ipsChanged.add(ip); }
    for (const ip of h.ipTexts) unmark(this.byIp, ip, key);
    for (const c of h.candidates) {
      const slot = this.slots.get(c.prefixKey);
      if (!slot) continue;
      // Left in place even when empty: apply() compares what each peer had before, then drops it.
      slot.cands = slot.cands.filter((x) => x !== c);
      touched.set(c.prefixKey, c.prefix);
    }
  }

  private add(svc: Service, key: string, touched: Map<string, Prefix>, affected: Set<string>): void {
    const input = this.input;
    const judged = judgeService(svc, { config: input.config, node: this.node, nodeLabels: this.nodeLabels, slices: this.slices.get(key) ?? input.standInSlices ?? [], options: input.options ?? {} });
    const verdict = judged.announce ? { ...judged, ads: this.adList(judged.ads) } : judged;
    const ads = verdict.announce ? [...verdict.ads].sort((a, b) => byText(a.name, b.name)) : [];
    const candidates = verdict.announce ? exact(candidatesFor(key, verdict.ips, ads).map((c) => ({ ...c, ads: this.adList(c.ads) }))) : none;
    const ipTexts = verdict.ips.map(formatIp);
    const h: Held = { svc, key, verdict, ipTexts, candidates, announcedIps: none };
    this.held.set(key, h);
    affected.add(key);
    for (const ip of ipTexts) mark(this.byIp, ip, key);
    for (const c of candidates) {
      const slot = this.slots.get(c.prefixKey);
      if (slot) slot.cands = [...slot.cands, c];
      else this.slots.set(c.prefixKey, { prefix: c.prefix, cands: [c], attrs: none });
      touched.set(c.prefixKey, c.prefix);
    }
  }

  /** The one kept list of these advertisements (in this order). */
  private adList(ads: readonly BgpAdvertisement[]): readonly BgpAdvertisement[] {
    const k = ads.map((a) => a.name).join('\u0000');
    let l = this.adLists.get(k);
    // Same names, other objects (a new Config builds a new planner): the kept list is of this Config.
    if (l === undefined || l.some((a, i) => a !== ads[i])) this.adLists.set(k, (l = exact(ads)));
    return l;
  }

  /** The candidate goes to session peer i: an advertisement names it (or none names any) and the family fits. */
  private admitted(c: Candidate, i: number): boolean {
    return c.ads.some((a) => usesPeer(a, this.peerNames[i]!)) && this.families[i]!.includes(c.prefix.family);
  }

  private refusalFor(c: Candidate, i: number): PeerRefusal {
    const peer = this.sessionPeers[i]!;
    if (!c.ads.some((a) => usesPeer(a, peer.name))) {
      return {
        reason: 'peerNotSelectedByAdvertisement',
        message: `the peers list of BGPAdvertisement${c.ads.length > 1 ? 's' : ''} ${quoted(c.ads.map((a) => a.name))} does not name peer "${peer.name}"`,
      };
    }
    const families = this.families[i]!;
    return {
      reason: 'addressFamilyMismatch',
      message: `the session with peer "${peer.name}" carries ${familyName(families[0]!)} only and ${formatPrefix(c.prefix)} is ` +
        `${familyName(c.prefix.family)} (dualStackAddressFamily would carry both)`,
    };
  }

  /** The slot as planAnnouncements sees it for session peer i: Services -> advertisement names, distinct advertisements. */
  private viewFor(slot: Slot, i: number): PrefixSlot | undefined {
    const bySvc = new Map<string, Set<string>>();
    const ads = new Map<string, BgpAdvertisement>();
    const name = this.peerNames[i]!;
    for (const c of slot.cands) {
      if (!this.admitted(c, i)) continue;
      let names = bySvc.get(c.svc);
      if (!names) bySvc.set(c.svc, (names = new Set()));
      for (const a of c.ads) if (usesPeer(a, name)) { names.add(a.name); ads.set(a.name, a); }
    }
    return bySvc.size > 0 ? { prefix: slot.prefix, bySvc, ads } : undefined;
  }

  /** Recomputes what each session peer gets for the slot (a new attrs array: the old one stays for comparison). */
  private route(slot: Slot): void {
    const attrs: (RouteAttributes | undefined)[] = [];
    let sets = '';
    let conflicts: (string | undefined)[] | undefined;
    for (let i = 0; i < this.sessionPeers.length; i++) {
      // The common case, one candidate, needs no view: its usable advertisements are the set.
      let names: string[] | undefined;
      let view: PrefixSlot | undefined;
      if (slot.cands.length === 1) {
        const c = slot.cands[0]!;
        if (this.admitted(c, i)) names = c.ads.filter((a) => usesPeer(a, this.peerNames[i]!)).map((a) => a.name);
      } else {
        view = this.viewFor(slot, i);
        if (view) names = [...view.ads.keys()];
      }
      if (!names) { attrs.push(undefined); sets += '\u0001'; continue; }
      const ebgp = this.ebgp[i]!;
      const setKey = `${ebgp ? 'e' : 'i'}\u0000${names.sort(byText).join('\u0000')}`;
      let attributes = this.attributesBySet.get(setKey);
      if (attributes === undefined) {
        view ??= this.viewFor(slot, i)!;
        const conflict = slotConflict(view, this.sessionPeers[i]!);
        if (conflict) { (conflicts ??= [])[i] = conflict; attrs.push(undefined); sets += '\u0001'; continue; }
        attributes = routeAttributes(distinctAds(view), ebgp);
        this.attributesBySet.set(setKey, attributes);
      }
      attrs.push(attributes);
      sets += `${setKey}\u0001`;
    }
    let shared = this.attrsBySets.get(sets);
    if (!shared) this.attrsBySets.set(sets, (shared = exact(attrs)));
    slot.attrs = shared;
    if (conflicts) slot.conflicts = conflicts; else delete slot.conflicts;
  }

  /** Names of the advertisements this Service sends the slot's prefix with to session peer i; undefined: none. */
  private mine(slot: Slot, key: string, i: number): Set<string> | undefined {
    let out: Set<string> | undefined;
    for (const c of slot.cands) {
      if (c.svc !== key || !this.admitted(c, i)) continue;
      out ??= new Set();
      for (const a of c.ads) if (usesPeer(a, this.peerNames[i]!)) out.add(a.name);
    }
    return out;
  }

  /** The IPs a Service has this node announce: those of its candidates that reach a peer. */
  private announcedBy(h: Held): readonly string[] {
    let out: string[] | undefined;
    for (const c of h.candidates) {
      if (out?.includes(c.ipText)) continue;
      const slot = this.slots.get(c.prefixKey);
      if (!slot) continue;
      for (let i = 0; i < this.sessionPeers.length; i++) {
        if (slot.attrs[i] !== undefined && slot.cands.some((x) => x.svc === h.key && this.admitted(x, i))) { (out ??= []).push(c.ipText); break; }
      }
    }
    // Usually every IP is announced: the same list as ipTexts, kept once.
    if (!out) return none;
    return out.length === h.ipTexts.length && out.every((ip, i) => ip === h.ipTexts[i]) ? h.ipTexts : exact(out);
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
        const slot = this.slots.get(c.prefixKey);
        this.sessionPeers.forEach((peer, i) => {
          const mine = slot && this.mine(slot, key, i);
          const conflict = slot?.conflicts?.[i];
          if (slot && mine && conflict === undefined) {
            to.push(peer.name);
            for (const n of mine) used.add(n);
            return;
          }
          const why: PeerRefusal = conflict !== undefined && mine ? { reason: 'conflictingAdvertisements', message: conflict } : this.refusalFor(c, i);
          refused.push({ kind: 'notAnnounced', ip, prefix: c.prefix, peer: peer.name, ...why });
        });
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
          const others = [...valuesOf(this.announcedIps, ip)].filter((s) => s !== key).sort(byText);
          return others.length > 0
            ? { kind: 'notAnnounced', ip, reason, message: `${message}; the IP is announced anyway for ${others.join(', ')}, which shares it`, ipAnnouncedFor: others }
            : { kind: 'notAnnounced', ip, reason, message };
        });
    }
    return { namespace, name, ips, ...(verdict.pool ? { pool: verdict.pool.name } : {}), entries };
  }
}
