// A speaker's status in a cluster: one ironlb.io BGPSessionState per (node, BGPPeer) with the live
// session state (and, with an FRRConfiguration toReceive, the routes received and installed), one metallb.io ServiceBGPStatus per Service this node announces over BGP and one
// ServiceL2Status per Service it answers ARP/NDP for (MetalLB's fields and labels: node,
// serviceName, serviceNamespace, peers / interfaces). Objects are named from what
// they describe, so a restarted speaker finds and updates its own; at start it lists the objects
// labelled with its node and deletes those it no longer owns (Service or peer gone). Writes only
// when the status an object would hold changed; a BGPSessionState whose counters alone changed
// (prefixes sent, received, accepted, installed) at most every `countersEveryMs` (2 s), the last
// counts then: under a churn of Services they change with every status write (5 a second), and
// one PATCH per session per write was a quarter of the speaker's API requests. A write that failed (apiserver restarting, a new
// CRD's storage still initializing: 429) is retried with backoff on its own: the speaker writes
// again only when its status changes, which may be never.
//
// Events, as MetalLB's speaker writes them: `Normal nodeAssigned: announcing from node "<node>"
// with protocol "bgp"|"layer2"` on a Service when this node starts announcing it (BGP: an
// advertisement of its pool selects this node and its endpoints allow it, whether or not a peer
// takes the route; layer 2: this node won the election), and `Warning announceFailed` per IP when
// this node owns a layer-2 IP but none of the interfaces its L2Advertisements name exists here.
// MetalLB writes them on every sync of the Service (client-go counts the repeats on one Event
// object); ironlb on each change (the Service newly announced from this node, or the speaker
// started): the same Event objects, a smaller count.
import { createHash } from 'node:crypto';
import { type BGPSessionStateStatus, statusLabels, statusResources } from '../../api/status-kinds.ts';
import { type PeerAnnouncement, type SpeakerStatus, type SpeakerStatusChanges, type SpeakerStatusWrite, wholeSpeakerStatus } from '../store.ts';
import type { Json, KubeClient } from './kube-client.ts';
import { KubeApiError, resourcePath } from './kube-client.ts';
import type { EventRecorder, ServiceEvent } from './event-recorder.ts';

export interface SpeakerWriterOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly node: string;
  /** The VRF of a BGPPeer, from the configuration in force. */
  readonly vrfOf?: (peer: string) => string | undefined;
  readonly logger?: { warn(obj: object, msg?: string): void };
  readonly now?: () => number;
  /** First retry delay after a failed write, doubled up to 30 s (default 1 s). */
  readonly retryMs?: number;
  /** Where the speaker's Events on Services go (none without). */
  readonly events?: EventRecorder;
  /** A BGPSessionState whose counters alone changed is written at most this often (default 2 s). */
  readonly countersEveryMs?: number;
}

/** A session's status without its counters, to tell a counter-only change (JSON in, JSON out). */
const counters = new Set(['prefixesSent', 'prefixesReceived', 'prefixesAccepted', 'routesInstalled']);
export function withoutCounters(statusJson: string): string {
  return JSON.stringify(JSON.parse(statusJson), (k, v: unknown) => (counters.has(k) ? undefined : v));
}

/**
 * The Events a speaker's status calls for, given what it announced before (`held`, updated): per
 * Service and protocol newly announced from this node, `nodeAssigned`; per layer-2 IP newly
 * without an interface, `announceFailed`. Pure.
 */
export function speakerEvents(s: SpeakerStatus, held: Set<string>): ServiceEvent[] {
  const out: ServiceEvent[] = [];
  const now = new Set<string>();
  const assigned = (service: string, protocol: 'bgp' | 'layer2') => {
    const k = `${protocol} ${service}`;
    if (now.has(k)) return;
    now.add(k);
    if (!held.has(k)) out.push({ object: service, type: 'Normal', reason: 'nodeAssigned', message: `announcing from node "${s.node}" with protocol "${protocol}"` });
  };
  for (const a of s.announced ?? []) assigned(a.service, 'bgp');
  for (const service of s.announcedToNoPeer ?? []) assigned(service, 'bgp');
  for (const [service, l2] of Object.entries(s.layer2 ?? {})) {
    if (l2.node !== s.node) continue;
    // MetalLB checks the interfaces per IP before it says the Service is announced.
    for (const ip of l2.noInterface ?? []) {
      const k = `noif ${service} ${ip}`;
      now.add(k);
      if (!held.has(k)) {
        out.push({
          object: service, type: 'Warning', reason: 'announceFailed',
          message: `the interfaces specified by LB IP "${ip}" doesn't exist in assigned node "${s.node}" with protocol "layer2"`,
        });
      }
    }
    assigned(service, 'layer2');
  }
  held.clear();
  for (const k of now) held.add(k);
  return out;
}

/**
 * speakerEvents for a write that carries only its changes: the Services it names (and layer 2,
 * when it changed), `held` updated as speakerEvents would from the whole status. Pure.
 */
export function speakerEventsOfChanges(c: SpeakerStatusChanges, held: Set<string>): ServiceEvent[] {
  const out: ServiceEvent[] = [];
  for (const [service, e] of c.services) {
    const k = `bgp ${service}`;
    if (e.peers.length === 0 && e.toNoPeer !== true) held.delete(k);
    else if (!held.has(k)) {
      held.add(k);
      out.push({ object: service, type: 'Normal', reason: 'nodeAssigned', message: `announcing from node "${c.node}" with protocol "bgp"` });
    }
  }
  if ('layer2' in c) {
    // The layer-2 part is whole: its keys are worked out as speakerEvents does, the BGP ones kept.
    const bgp = new Set<string>();
    for (const k of held) if (k.startsWith('bgp ')) bgp.add(k);
    const l2 = new Set([...held].filter((k) => !k.startsWith('bgp ')));
    out.push(...speakerEvents({ node: c.node, peers: {}, notAnnounced: [], ...(c.layer2 ? { layer2: c.layer2 } : {}) }, l2));
    held.clear();
    for (const k of bgp) held.add(k);
    for (const k of l2) held.add(k);
  }
  return out;
}

/** A DNS-1123 name from free text, with a hash when it had to be changed or cut. */
export function objectName(prefix: string, text: string): string {
  const clean = text.toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '');
  const name = `${prefix}${clean}`;
  if (name === `${prefix}${text}` && name.length <= 253) return name;
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 10);
  return `${prefix}${clean.slice(0, 200)}-${hash}`;
}

interface Desired {
  readonly resource: (typeof statusResources)[keyof typeof statusResources];
  readonly kind: string;
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly status: Json;
}

type Kind = 'BGPSessionState' | 'ServiceBGPStatus' | 'ServiceL2Status';
const kinds: readonly Kind[] = ['BGPSessionState', 'ServiceBGPStatus', 'ServiceL2Status'];

/** What a write of changes must look at: the sessions always, these Services, layer 2 when it changed. */
interface Dirty {
  readonly services: Map<string, readonly string[]>;
  layer2: boolean;
}

export class SpeakerStatusWriter {
  /** Per kind: name → the status JSON last written. */
  private readonly held = new Map<Kind, Map<string, string>>(kinds.map((k) => [k, new Map()]));
  private primed = false;
  /** Writes run one at a time, in order; a retry re-writes the newest status. */
  private chain: Promise<void> = Promise.resolve();
  private latest: SpeakerStatusWrite | undefined;
  /** What the writes since the last one written changed ('whole': look at everything). */
  private dirty: Dirty | 'whole' = 'whole';
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay = 0;
  private closed = false;
  /** What the Events said so far: "<protocol> <service>" announced, "noif <service> <ip>" failed. */
  private readonly announcedNow = new Set<string>();
  /** The Events have seen a whole status (after which a write's changes are enough). */
  private eventsPrimed = false;
  /** Per BGPSessionState: when it was last written, and the counter-only change held back since. */
  private readonly sessionWrittenAt = new Map<string, number>();
  private readonly heldBack = new Map<string, Desired>();
  private heldBackTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: SpeakerWriterOptions) {}

  private sessionDesired(node: string, peer: string, p: PeerAnnouncement, now: number): Desired {
    const status: BGPSessionStateStatus = {
      node, peer, address: p.address, vrf: this.o.vrfOf?.(peer) ?? '',
      bgpStatus: p.state, bfdStatus: p.bfd ?? 'N/A', prefixesSent: p.prefixesSent ?? p.prefixes.length,
      // Rounded to the second so that a session that stays up is not rewritten every status tick.
      ...(p.state === 'Established' && p.uptimeMs !== undefined ? { establishedSince: new Date(Math.floor((now - p.uptimeMs) / 1000) * 1000).toISOString().replace('.000Z', 'Z') } : {}),
      ...(p.received ? { prefixesReceived: p.received.routes, prefixesAccepted: p.received.accepted, routesInstalled: p.received.installed } : {}),
      ...(p.lastError ? { lastError: p.lastError } : {}),
    };
    return {
      resource: statusResources.BGPSessionState, kind: 'BGPSessionState', name: objectName('', `${node}-${peer}`),
      labels: { [statusLabels.node]: node, [statusLabels.peer]: objectName('', peer).slice(0, 63) },
      status: status as unknown as Json,
    };
  }

  private serviceName(node: string, service: string): string {
    return `bgp-${createHash('sha256').update(`${node}/${service}`).digest('hex').slice(0, 16)}`;
  }

  private serviceDesired(node: string, service: string, peers: readonly string[]): Desired {
    const [serviceNamespace = '', serviceName = ''] = service.split('/');
    return {
      resource: statusResources.ServiceBGPStatus, kind: 'ServiceBGPStatus', name: this.serviceName(node, service),
      labels: { [statusLabels.node]: node, [statusLabels.serviceName]: serviceName, [statusLabels.serviceNamespace]: serviceNamespace },
      status: { node, serviceName, serviceNamespace, peers: [...peers] },
    };
  }

  /**
   * Layer 2: one ServiceL2Status per Service this node answers ARP/NDP for (MetalLB's fields), its
   * `interfaces` those that answer (MetalLB leaves it empty when the advertisement names none).
   */
  private layer2Desired(node: string, layer2: SpeakerStatus['layer2']): Desired[] {
    const out: Desired[] = [];
    for (const [service, l2] of Object.entries(layer2 ?? {})) {
      if (l2.node !== node) continue;
      // None of its IPs has an interface here (announceFailed for each): answered nowhere, so no
      // object, as MetalLB's speaker, which writes one only for a Service it announces.
      if (l2.ips.length > 0 && l2.ips.every((ip) => l2.noInterface?.includes(ip))) continue;
      const [serviceNamespace = '', serviceName = ''] = service.split('/');
      const id = createHash('sha256').update(`${node}/${service}`).digest('hex').slice(0, 16);
      out.push({
        resource: statusResources.ServiceL2Status, kind: 'ServiceL2Status', name: `l2-${id}`,
        labels: { [statusLabels.node]: node, [statusLabels.serviceName]: serviceName, [statusLabels.serviceNamespace]: serviceNamespace },
        status: { node, serviceName, serviceNamespace, interfaces: l2.interfaces.map((name) => ({ name })) },
      });
    }
    return out;
  }

  private desired(s: SpeakerStatus): Desired[] {
    const now = this.o.now?.() ?? Date.now();
    const out = Object.entries(s.peers).map(([peer, p]) => this.sessionDesired(s.node, peer, p, now));
    for (const a of s.announced ?? []) out.push(this.serviceDesired(s.node, a.service, a.peers));
    out.push(...this.layer2Desired(s.node, s.layer2));
    return out;
  }

  /** What this node's objects hold now (once, at the first write): to update and clean up, not recreate. */
  private async prime(): Promise<void> {
    for (const [kind, r] of [['BGPSessionState', statusResources.BGPSessionState], ['ServiceBGPStatus', statusResources.ServiceBGPStatus], ['ServiceL2Status', statusResources.ServiceL2Status]] as const) {
      let list: { items?: Json[] };
      try {
        list = await this.o.client.request<{ items?: Json[] }>('GET', resourcePath(r, this.o.namespace), { query: { labelSelector: `${statusLabels.node}=${this.o.node}` } });
      } catch (e) {
        // A kind whose CRD is not installed (MetalLB's CRDs kept, without ironlb's BGPSessionState)
        // holds nothing: the other kinds are still written; that kind's writes fail and are retried.
        if (!(e instanceof KubeApiError && e.code === 404)) throw e;
        this.o.logger?.warn({ kind, err: (e as Error).message }, 'a status kind is not served (its CRD is not installed): its objects cannot be written');
        continue;
      }
      for (const item of list.items ?? []) {
        const name = (item.metadata as { name: string }).name;
        this.held.get(kind)!.set(name, JSON.stringify(item.status ?? null));
      }
    }
    this.primed = true;
  }

  /**
   * Writes this status; when some of it could not be written, tries again later until it is. A
   * write that carries its changes looks only at the sessions and the Services (and layer 2) they
   * name: an edit at 50,000 Services costs one object's comparison, not 50,000.
   */
  write(w: SpeakerStatusWrite): Promise<void> {
    // Every status given counts for the Events, even one a newer status replaces before it is written.
    if (this.o.events) {
      const events = 'changes' in w && this.eventsPrimed ? speakerEventsOfChanges(w.changes, this.announcedNow) : speakerEvents(wholeSpeakerStatus(w), this.announcedNow);
      this.eventsPrimed = true;
      for (const e of events) this.o.events.record(e);
    }
    this.latest = w;
    if ('changes' in w && this.dirty !== 'whole') {
      for (const [k, e] of w.changes.services) this.dirty.services.set(k, e.peers);
      if ('layer2' in w.changes) this.dirty.layer2 = true;
    } else this.dirty = 'whole';
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const run = this.chain.then(async () => {
      if (this.latest !== w) return; // a newer status is queued behind: it is the one to write
      const dirty = this.dirty;
      this.dirty = { services: new Map(), layer2: false };
      let ok = false;
      try {
        ok = dirty !== 'whole' && 'changes' in w && this.primed ? await this.writeChanges(w.changes, dirty) : await this.writeWhole(wholeSpeakerStatus(w));
      } catch (e) {
        this.o.logger?.warn({ err: (e as Error).message }, 'writing speaker status failed');
      }
      if (ok) this.retryDelay = 0;
      else {
        this.dirty = 'whole';
        this.scheduleRetry();
      }
    });
    this.chain = run;
    return run;
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer) return;
    this.retryDelay = Math.min(30_000, this.retryDelay === 0 ? this.o.retryMs ?? 1000 : this.retryDelay * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.latest) void this.write(this.latest);
    }, this.retryDelay);
    this.retryTimer.unref();
  }

  /** No more retries (the process is stopping); a final write() still goes out once. */
  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.heldBackTimer);
    this.o.events?.close();
  }

  /** True when every object now holds what it should. */
  private async writeWhole(s: SpeakerStatus): Promise<boolean> {
    if (!this.primed) await this.prime();
    const want = this.desired(s);
    const wanted = new Set(want.map((d) => `${d.kind}/${d.name}`));
    const stale: [Kind, string][] = [];
    for (const [kind, names] of this.held) for (const name of names.keys()) if (!wanted.has(`${kind}/${name}`)) stale.push([kind, name]);
    return await this.put(want) && await this.remove(stale);
  }

  /** Only the sessions, the Services named since the last write and (when it changed) layer 2. */
  private async writeChanges(c: SpeakerStatusChanges, dirty: Dirty): Promise<boolean> {
    const now = this.o.now?.() ?? Date.now();
    const want: Desired[] = Object.entries(c.peers).map(([peer, p]) => this.sessionDesired(c.node, peer, p, now));
    const stale: [Kind, string][] = [];
    const sessions = new Set(want.map((d) => d.name));
    for (const name of this.held.get('BGPSessionState')!.keys()) if (!sessions.has(name)) stale.push(['BGPSessionState', name]);
    for (const [service, peers] of dirty.services) {
      if (peers.length > 0) want.push(this.serviceDesired(c.node, service, peers));
      else if (this.held.get('ServiceBGPStatus')!.has(this.serviceName(c.node, service))) stale.push(['ServiceBGPStatus', this.serviceName(c.node, service)]);
    }
    if (dirty.layer2) {
      const l2 = this.layer2Desired(c.node, c.layer2);
      const names = new Set(l2.map((d) => d.name));
      for (const name of this.held.get('ServiceL2Status')!.keys()) if (!names.has(name)) stale.push(['ServiceL2Status', name]);
      want.push(...l2);
    }
    return await this.put(want) && await this.remove(stale);
  }

  /**
   * True when `d` is a session whose counters alone changed since it was written less than
   * countersEveryMs ago: kept to be written when that time is up (a later status replaces it).
   */
  private holdBack(d: Desired, was: string | undefined, json: string): boolean {
    if (d.kind !== 'BGPSessionState' || was === undefined) return false;
    const due = (this.sessionWrittenAt.get(d.name) ?? -Infinity) + (this.o.countersEveryMs ?? 2000);
    const now = this.o.now?.() ?? Date.now();
    if (now >= due || withoutCounters(was) !== withoutCounters(json)) return false;
    this.heldBack.set(d.name, d);
    if (!this.heldBackTimer && !this.closed) {
      this.heldBackTimer = setTimeout(() => {
        this.heldBackTimer = undefined;
        this.chain = this.chain.then(async () => {
          const late = [...this.heldBack.values()];
          this.heldBack.clear();
          if (!await this.put(late, true)) this.scheduleRetry();
        });
      }, due - now);
      this.heldBackTimer.unref();
    }
    return true;
  }

  /** Creates or patches what differs from what is held (`now`: nothing held back); true when all went through. */
  private async put(want: readonly Desired[], now = false): Promise<boolean> {
    let ok = true;
    for (const d of want) {
      const held = this.held.get(d.kind as Kind)!;
      const json = JSON.stringify(d.status);
      const was = held.get(d.name);
      if (was === json) {
        this.heldBack.delete(d.name);
        continue;
      }
      if (!now && this.holdBack(d, was, json)) continue;
      this.heldBack.delete(d.name);
      try {
        if (was === undefined) await this.create(d);
        await this.o.client.request('PATCH', resourcePath(d.resource, this.o.namespace, d.name, 'status'), { body: { status: d.status } });
        held.set(d.name, json);
        if (d.kind === 'BGPSessionState') this.sessionWrittenAt.set(d.name, this.o.now?.() ?? Date.now());
      } catch (e) {
        held.delete(d.name);
        ok = false;
        this.o.logger?.warn({ object: `${d.kind}/${d.name}`, err: (e as Error).message }, 'writing speaker status failed');
      }
    }
    return ok;
  }

  private async remove(stale: readonly [Kind, string][]): Promise<boolean> {
    let ok = true;
    for (const [kind, name] of stale) {
      try {
        await this.o.client.request('DELETE', resourcePath(statusResources[kind], this.o.namespace, name));
      } catch (e) {
        if (!(e instanceof KubeApiError && e.code === 404)) {
          ok = false;
          this.o.logger?.warn({ object: `${kind}/${name}`, err: (e as Error).message }, 'deleting speaker status failed');
          continue;
        }
      }
      this.held.get(kind)!.delete(name);
      this.heldBack.delete(name);
      this.sessionWrittenAt.delete(name);
    }
    return ok;
  }

  private async create(d: Desired): Promise<void> {
    const r = d.resource;
    const body = { apiVersion: `${r.group}/${r.version}`, kind: d.kind, metadata: { name: d.name, namespace: this.o.namespace, labels: d.labels }, spec: {} };
    try {
      await this.o.client.request('POST', resourcePath(r, this.o.namespace), { body });
    } catch (e) {
      if (!(e instanceof KubeApiError && e.code === 409)) throw e; // already there (a previous run): update it
    }
  }
}

/** The speakers' statuses as `ironlb status` shows them, from the BGPSessionStates and ServiceBGPStatuses in the cluster. */
export async function readSpeakerStatuses(client: KubeClient, namespace: string): Promise<SpeakerStatus[]> {
  // A kind whose CRD is not installed (MetalLB's CRDs only: no BGPSessionState) reads as empty.
  const list = (r: (typeof statusResources)[keyof typeof statusResources]) => client.request<{ items?: Json[] }>('GET', resourcePath(r, namespace))
    .catch((e: unknown) => { if (e instanceof KubeApiError && e.code === 404) return { items: [] }; throw e; });
  const sessions = await list(statusResources.BGPSessionState);
  const services = await list(statusResources.ServiceBGPStatus);
  const byNode = new Map<string, { peers: Record<string, SpeakerStatus['peers'][string]>; announced: { service: string; peers: string[] }[] }>();
  const entry = (node: string) => {
    let e = byNode.get(node);
    if (!e) byNode.set(node, (e = { peers: {}, announced: [] }));
    return e;
  };
  for (const item of sessions.items ?? []) {
    const st = item.status as BGPSessionStateStatus | undefined;
    if (!st?.node) continue;
    entry(st.node).peers[st.peer] = {
      address: st.address, state: st.bgpStatus, prefixes: [], prefixesSent: st.prefixesSent, ...(st.bfdStatus !== 'N/A' ? { bfd: st.bfdStatus } : {}),
      ...(st.prefixesReceived !== undefined ? { received: { routes: st.prefixesReceived, accepted: st.prefixesAccepted ?? 0, installed: st.routesInstalled ?? 0 } } : {}),
      ...(st.lastError ? { lastError: st.lastError } : {}),
    };
  }
  for (const item of services.items ?? []) {
    const st = item.status as { node?: string; serviceName?: string; serviceNamespace?: string; peers?: string[] } | undefined;
    if (!st?.node) continue;
    entry(st.node).announced.push({ service: `${st.serviceNamespace}/${st.serviceName}`, peers: st.peers ?? [] });
  }
  return [...byNode].sort(([a], [b]) => (a < b ? -1 : 1)).map(([node, e]) => ({ node, peers: e.peers, notAnnounced: [], announced: e.announced }));
}
