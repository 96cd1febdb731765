// Which node answers ARP/NDP for each layer-2 Service: MetalLB's election
// (speaker/layer2_controller.go ShouldAnnounce), computed alike by every speaker from the same
// facts, so no lease and no message is needed to agree. Pure: membership (who is alive) is an input.
//
// Per Service, in MetalLB's order: a LoadBalancer of our class with IPs, all in one pool; the
// pool's L2Advertisements that match the Service (serviceSelectors); a serving endpoint somewhere.
// Candidates: Nodes with a live speaker, not NetworkUnavailable, not labelled
// exclude-from-external-load-balancers, selected by a matching advertisement's nodeSelectors; with
// externalTrafficPolicy Local only those with a serving endpoint of the Service. Order: the sum of
// the preferredNodeSelectors weights that match the node (higher first), then
// sha256(node + "#" + first ingress IP) ascending. The first candidate owns every IP of the
// Service (both families of a dual-stack Service stay on one node).
import { createHash } from 'node:crypto';
import type { EndpointSlice, Node, Service } from '../api/resources.ts';
import { excludeFromLbLabel } from '../api/resources.ts';
import type { Config, L2Advertisement, Pool } from '../config/types.ts';
import { annotationValue, annotation } from '../controller/service-facts.ts';
import { compareIp, formatIp, type IpAddress, parseIp } from '../net/ip.ts';
import { anySelectorMatches, selectorMatches } from '../net/selector.ts';
import { endpointCanServe, type PlanOptions, poolHoldingAll, serviceKey, slicesByService } from './eligibility.ts';

export type L2Reason =
  | 'notLoadBalancer' | 'loadBalancerClassMismatch' | 'noIPAllocated' | 'invalidIP' | 'ipNotAllowed'
  | 'noMatchingAdvertisement' | 'sharedIPWithServiceSelector' | 'noEndpoints' | 'noCandidates' | 'notOwner';

export interface L2ServiceDecision {
  /** namespace/name */
  readonly service: string;
  readonly ips: readonly IpAddress[];
  /** The node that answers for the IPs, when there is one. */
  readonly owner?: string;
  /** Every candidate, in MetalLB's order (the owner first). */
  readonly ranking: readonly string[];
  /** For the owner: the interfaces the matching advertisements name, or 'all' (MetalLB's default set). */
  readonly interfaces?: readonly string[] | 'all';
  /** Set when this node does not answer: why (`notOwner`: another node does). */
  readonly reason?: L2Reason;
  readonly message?: string;
}

/** One IP this node answers for; shared IPs merge their Services' interfaces. */
export interface L2Claim {
  readonly ip: IpAddress;
  readonly interfaces: readonly string[] | 'all';
  readonly services: readonly string[];
}

export interface L2Plan {
  /** Layer-2 Services only (their pool has an L2Advertisement), sorted by namespace/name. */
  readonly services: readonly L2ServiceDecision[];
  /** What this node answers for, sorted by IP. */
  readonly claims: readonly L2Claim[];
}

export interface L2PlanInput {
  readonly config: Config;
  readonly services: readonly Service[];
  readonly endpointSlices: readonly EndpointSlice[];
  readonly nodes: readonly Node[];
  /** Nodes whose speaker is alive; undefined = no membership: every Node counts (as MetalLB without memberlist). */
  readonly live?: ReadonlySet<string>;
  readonly nodeName: string;
  readonly options?: PlanOptions;
}

/** MetalLB's hash order key: sha256(node + "#" + ip) compared bytewise. */
export function rankKey(node: string, firstIp: string): Buffer {
  return createHash('sha256').update(`${node}#${firstIp}`).digest();
}

/** The candidates in MetalLB's order: preferred-selector score descending, then the hash. */
export function rankNodes(candidates: readonly string[], firstIp: string, score: (node: string) => number = () => 0): string[] {
  const keyed = candidates.map((n) => ({ n, s: score(n), k: rankKey(n, firstIp) }));
  keyed.sort((a, b) => (b.s - a.s) || Buffer.compare(a.k, b.k));
  return keyed.map((x) => x.n);
}

function servingNodes(slices: readonly EndpointSlice[]): Set<string> {
  const out = new Set<string>();
  for (const s of slices) for (const e of s.endpoints ?? []) if (e.nodeName !== undefined && endpointCanServe(e.conditions)) out.add(e.nodeName);
  return out;
}

const anyServing = (slices: readonly EndpointSlice[]): boolean =>
  slices.some((s) => (s.endpoints ?? []).some((e) => endpointCanServe(e.conditions)));

function eligibleNode(n: Node, options: PlanOptions | undefined): boolean {
  if ((n.status?.conditions ?? []).some((c) => c.type === 'NetworkUnavailable' && c.status === 'True')) return false;
  const labels = n.metadata.labels ?? {};
  return options?.ignoreExcludeLb === true || !Object.prototype.hasOwnProperty.call(labels, excludeFromLbLabel);
}

function interfacesOf(ads: readonly L2Advertisement[]): readonly string[] | 'all' {
  if (ads.some((a) => a.interfaces.length === 0)) return 'all';
  return [...new Set(ads.flatMap((a) => a.interfaces))].sort();
}

function decide(svc: Service, input: L2PlanInput, ctx: Ctx): L2ServiceDecision | undefined {
  const key = serviceKey(svc.metadata.namespace ?? 'default', svc.metadata.name ?? '');
  const no = (reason: L2Reason, message: string, ips: readonly IpAddress[] = [], ranking: readonly string[] = [], owner?: string): L2ServiceDecision =>
    ({ service: key, ips, ranking, reason, message, ...(owner !== undefined ? { owner } : {}) });
  if (svc.spec.type !== 'LoadBalancer') return undefined;
  if (svc.spec.loadBalancerClass !== input.options?.loadBalancerClass) return undefined;
  const ingress = svc.status?.loadBalancer?.ingress ?? [];
  if (ingress.length === 0) return undefined;
  const inOrder: IpAddress[] = [];
  for (const i of ingress) {
    const ip = i.ip === undefined ? undefined : parseIp(i.ip);
    if (!ip) return undefined;
    inOrder.push(ip);
  }
  const ips = [...inOrder].sort(compareIp);
  const pool: Pool | undefined = poolHoldingAll(input.config, ips);
  if (!pool) return undefined;
  const poolAds = ctx.adsByPool.get(pool.name) ?? [];
  if (poolAds.length === 0) return undefined; // not a layer-2 Service
  const ads = poolAds.filter((a) => anySelectorMatches(a.serviceSelectors, svc.metadata.labels));
  if (ads.length === 0) {
    return no('noMatchingAdvertisement', `the serviceSelectors of ${poolAds.map((a) => `L2Advertisement "${a.name}"`).join(', ')} do not match the Service's labels`, ips);
  }
  if (annotationValue(svc, annotation.allowSharedIP) !== '' && ads.some((a) => a.serviceSelectors.length > 0)) {
    return no('sharedIPWithServiceSelector', 'the Service shares its IP (allow-shared-ip) and a matching L2Advertisement has serviceSelectors; MetalLB does not announce such a Service', ips);
  }
  const slices = ctx.slices.get(key) ?? [];
  if (!anyServing(slices)) return no('noEndpoints', 'the Service has no ready or serving endpoint on any node', ips);
  let candidates = ctx.liveNodes.filter((n) => ads.some((a) => anySelectorMatches(a.nodeSelectors, n.metadata.labels)));
  if (svc.spec.externalTrafficPolicy === 'Local') {
    const serving = servingNodes(slices);
    candidates = candidates.filter((n) => serving.has(n.metadata.name ?? ''));
  }
  if (candidates.length === 0) {
    return no('noCandidates', `no live node qualifies (speaker alive, selected by ${ads.map((a) => `"${a.name}"`).join(', ')}, network available, not excluded${svc.spec.externalTrafficPolicy === 'Local' ? ', a serving endpoint of the Service' : ''})`, ips);
  }
  const labelsOf = new Map(candidates.map((n) => [n.metadata.name ?? '', n.metadata.labels ?? {}]));
  // preferredNodeSelectors: only advertisements that select the node give it points.
  const score = (name: string): number => {
    const labels = labelsOf.get(name);
    let s = 0;
    for (const a of ads) {
      if (!anySelectorMatches(a.nodeSelectors, labels)) continue;
      for (const p of a.preferredNodeSelectors) if (selectorMatches(p.preference, labels)) s += p.weight;
    }
    return s;
  };
  const ranking = rankNodes([...labelsOf.keys()], formatIp(inOrder[0]!), score);
  const owner = ranking[0]!;
  if (owner !== input.nodeName) return no('notOwner', `node "${owner}" answers for it (first of ${ranking.length} in MetalLB's order)`, ips, ranking, owner);
  const mine = ads.filter((a) => anySelectorMatches(a.nodeSelectors, input.nodes.find((n) => n.metadata.name === owner)?.metadata.labels));
  return { service: key, ips, ranking, owner, interfaces: interfacesOf(mine) };
}

interface Ctx {
  readonly adsByPool: ReadonlyMap<string, L2Advertisement[]>;
  readonly slices: ReadonlyMap<string, EndpointSlice[]>;
  readonly liveNodes: readonly Node[];
}

function context(input: L2PlanInput, slices: ReadonlyMap<string, EndpointSlice[]>): Ctx {
  const adsByPool = new Map<string, L2Advertisement[]>();
  for (const a of [...input.config.l2Advertisements].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))) {
    for (const p of a.pools) {
      const list = adsByPool.get(p);
      if (list) list.push(a); else adsByPool.set(p, [a]);
    }
  }
  const liveNodes = input.nodes.filter((n) => n.metadata.name !== undefined && (input.live === undefined || input.live.has(n.metadata.name)) && eligibleNode(n, input.options));
  return { adsByPool, slices, liveNodes };
}

const byService = (a: L2ServiceDecision, b: L2ServiceDecision): number => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0);

export function planLayer2(input: L2PlanInput): L2Plan {
  const ctx = context(input, slicesByService(input.endpointSlices));
  const services: L2ServiceDecision[] = [];
  for (const svc of input.services) {
    const d = decide(svc, input, ctx);
    if (d) services.push(d);
  }
  services.sort(byService);
  return { services, claims: claimsOf(services) };
}

function claimsOf(services: readonly L2ServiceDecision[]): L2Claim[] {
  const claims = new Map<string, { ip: IpAddress; interfaces: Set<string> | 'all'; services: string[] }>();
  for (const d of services) {
    if (d.reason !== undefined || d.interfaces === undefined) continue;
    for (const ip of d.ips) {
      const k = formatIp(ip);
      const c = claims.get(k) ?? { ip, interfaces: new Set<string>(), services: [] };
      c.services.push(d.service);
      if (d.interfaces === 'all' || c.interfaces === 'all') c.interfaces = 'all';
      else for (const i of d.interfaces) c.interfaces.add(i);
      claims.set(k, c);
    }
  }
  return [...claims.values()].sort((a, b) => compareIp(a.ip, b.ip))
    .map((c) => ({ ip: c.ip, interfaces: c.interfaces === 'all' ? 'all' : [...c.interfaces].sort(), services: c.services }));
}

/** What an edit changed in the layer-2 election (IncrementalL2.apply). */
export interface L2Change {
  /** Some Service's decision changed (status, explain). */
  readonly decisions: boolean;
  /** What this node answers for changed (the responder's list). */
  readonly claims: boolean;
}

/**
 * The election kept up to date by Services-only changes: an edit re-decides the Services it names
 * and nothing else, where planLayer2 (the reference it must agree with) decides every Service.
 * The Config, the Nodes and the live set are those it was built with: when any of them changes,
 * build a new one. `slices` per changed Service come from the store's delta; `standIn` gives the
 * slices of a Service that has none (standalone: this host serves it), as withLocalEndpoints does.
 */
export class IncrementalL2 {
  /** Services decided so far (construction included): the work an edit cost. */
  decided = 0;
  private readonly ctx: Ctx;
  private readonly realSlices: Map<string, EndpointSlice[]>;
  private readonly decisions = new Map<string, L2ServiceDecision>();
  /** This node's claims: IP key → Service → the interfaces it asks for. */
  private readonly claimed = new Map<string, { ip: IpAddress; by: Map<string, readonly string[] | 'all'> }>();
  /** Successor counts for heartbeats (l2Successors): node → Services. */
  private readonly beatTo = new Map<string, number>();
  private readonly watching = new Map<string, number>();
  private sortedPlan: L2Plan | undefined;

  constructor(private readonly input: L2PlanInput, private readonly standIn?: (svc: Service) => EndpointSlice[] | undefined) {
    this.realSlices = slicesByService(input.endpointSlices);
    const slices = new Map(this.realSlices);
    if (standIn) for (const svc of input.services) { const k = keyOf(svc); if (!slices.has(k)) { const x = standIn(svc); if (x) slices.set(k, x); } }
    this.ctx = context(input, slices);
    for (const svc of input.services) this.put(keyOf(svc), this.decideOne(svc));
  }

  /** Services upserted (as the snapshot holds them) and deleted; `slices`: per Service, its EndpointSlices now. */
  apply(upserted: readonly Service[], deleted: readonly string[], slices?: ReadonlyMap<string, readonly EndpointSlice[]>): L2Change {
    const slicesNow = this.ctx.slices as Map<string, EndpointSlice[]>;
    for (const [k, list] of slices ?? []) {
      if (list.length > 0) { this.realSlices.set(k, [...list]); slicesNow.set(k, [...list]); } else { this.realSlices.delete(k); slicesNow.delete(k); }
    }
    let decisions = false;
    let claims = false;
    const record = (c: L2Change): void => { decisions ||= c.decisions; claims ||= c.claims; };
    for (const k of deleted) {
      record(this.put(k, undefined));
      if (!this.realSlices.has(k)) slicesNow.delete(k);
    }
    for (const svc of upserted) {
      const k = keyOf(svc);
      if (this.standIn && !this.realSlices.has(k)) { const x = this.standIn(svc); if (x) slicesNow.set(k, x); else slicesNow.delete(k); }
      record(this.put(k, this.decideOne(svc)));
    }
    if (decisions) this.sortedPlan = undefined;
    return { decisions, claims };
  }

  /** The plan as planLayer2 gives it (built when read after a change: status and explain read it). */
  plan(): L2Plan {
    if (this.sortedPlan) return this.sortedPlan;
    const services = [...this.decisions.values()].sort(byService);
    return (this.sortedPlan = { services, claims: this.claims() });
  }

  /** What this node answers for, sorted by IP (as the plan's claims). */
  claims(): L2Claim[] {
    return [...this.claimed.values()].sort((a, b) => compareIp(a.ip, b.ip)).map(({ ip, by }) => {
      const names = [...by.keys()].sort();
      const all = [...by.values()].some((i) => i === 'all');
      return { ip, interfaces: all ? 'all' : [...new Set([...by.values()].flatMap((i) => (i === 'all' ? [] : i)))].sort(), services: names };
    });
  }

  /** l2Successors of the plan, from counts kept per change. */
  successors(): L2Successors {
    return { heartbeatTo: [...this.beatTo.keys()].sort(), watch: [...this.watching.keys()].sort() };
  }

  private decideOne(svc: Service): L2ServiceDecision | undefined {
    this.decided++;
    return decide(svc, this.input, this.ctx);
  }

  private put(key: string, d: L2ServiceDecision | undefined): L2Change {
    const before = this.decisions.get(key);
    if (before === undefined && d === undefined) return { decisions: false, claims: false };
    if (before !== undefined) this.account(before, -1);
    if (d) this.decisions.set(key, d); else this.decisions.delete(key);
    if (d) this.account(d, +1);
    const claimsChanged = claimOf(before) !== claimOf(d);
    return { decisions: before === undefined || d === undefined || !sameDecision(before, d), claims: claimsChanged };
  }

  /** Adds (+1) or removes (-1) a decision's claims and successor counts. */
  private account(d: L2ServiceDecision, sign: 1 | -1): void {
    if (d.reason === undefined && d.interfaces !== undefined) {
      for (const ip of d.ips) {
        const k = formatIp(ip);
        let c = this.claimed.get(k);
        if (sign > 0) {
          if (!c) this.claimed.set(k, (c = { ip, by: new Map() }));
          c.by.set(d.service, d.interfaces);
        } else if (c) {
          c.by.delete(d.service);
          if (c.by.size === 0) this.claimed.delete(k);
        }
      }
    }
    const [first, second] = d.ranking;
    if (first === undefined || second === undefined || d.owner !== first) return;
    const me = this.input.nodeName;
    const count = first === me ? this.beatTo : second === me ? this.watching : undefined;
    const node = first === me ? second : first;
    if (!count) return;
    const n = (count.get(node) ?? 0) + sign;
    if (n > 0) count.set(node, n); else count.delete(node);
  }
}

const keyOf = (svc: Service): string => serviceKey(svc.metadata.namespace ?? 'default', svc.metadata.name ?? '');

/** What a decision claims on this node, as text: equal texts, equal claims. */
const claimOf = (d: L2ServiceDecision | undefined): string =>
  d === undefined || d.reason !== undefined || d.interfaces === undefined ? '' : `${d.ips.map(formatIp).join(',')}|${d.interfaces === 'all' ? '*' : d.interfaces.join(',')}`;

function sameDecision(a: L2ServiceDecision, b: L2ServiceDecision): boolean {
  const list = (x: readonly string[] | 'all' | undefined): string => (x === undefined ? '-' : x === 'all' ? '*' : x.join(','));
  return a.owner === b.owner && a.reason === b.reason && a.message === b.message && list(a.interfaces) === list(b.interfaces)
    && a.ranking.join(',') === b.ranking.join(',') && a.ips.map(formatIp).join(',') === b.ips.map(formatIp).join(',');
}

/** Lines for `ironlb explain`: the layer-2 election for one Service, as every speaker computes it. */
export function explainLayer2(plan: L2Plan, service: string): string[] {
  const d = plan.services.find((s) => s.service === service);
  if (!d) return [];
  const ips = d.ips.map(formatIp).join(', ');
  if (d.owner === undefined) return [`  layer 2: nobody answers for ${ips || 'it'}: ${d.reason}: ${d.message}`];
  const where = d.interfaces === undefined ? '' : d.interfaces === 'all' ? ' on every usable interface' : ` on ${d.interfaces.join(', ')}`;
  return [
    `  layer 2: node ${d.owner} answers ARP/NDP for ${ips}${where}`,
    `    MetalLB's order among the live candidates: ${d.ranking.join(', ')}; if ${d.owner} dies, ${d.ranking[1] ?? 'nobody'} takes over`,
  ];
}

/**
 * Layer-2 fast failover (`daemon/l2-role.ts`): the owner of a Service sends direct heartbeats to
 * the node that would take it over (the second in MetalLB's order), and that node watches it.
 * Both sides compute this from the same plan, so no message is needed to agree on who watches whom.
 */
export interface L2Successors {
  /** Nodes this node must send heartbeats to: the next in order for each Service it owns. */
  readonly heartbeatTo: readonly string[];
  /** Owners this node is next in order for (it takes their Services over when they die). */
  readonly watch: readonly string[];
}

export function l2Successors(plan: L2Plan, nodeName: string): L2Successors {
  const to = new Set<string>();
  const watch = new Set<string>();
  for (const d of plan.services) {
    const [first, second] = d.ranking;
    if (first === undefined || second === undefined || d.owner !== first) continue;
    if (first === nodeName) to.add(second);
    else if (second === nodeName) watch.add(first);
  }
  return { heartbeatTo: [...to].sort(), watch: [...watch].sort() };
}
