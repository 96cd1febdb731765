// One node's BGP configuration: ironlb's own sessions (the announcement plan's peers) merged with
// the FRRConfigurations selecting the node, by frr-k8s's rules (its README, "How multiple
// configurations are merged together"): configurations only extend each other — routers are one
// per VRF with one ASN, neighbours one per VRF and address (or interface) with one set of session
// settings, advertised prefixes and communities are unioned, and the more permissive receive
// filter wins (all > some > none). A configuration that conflicts with what is already there is
// refused whole, with a message naming both sides, and its last version that merged stays in force
// (frr-k8s keeps the node's last valid FRR configuration; ironlb narrows that to the one object).
// Pure: no I/O, no clock; configurations are taken in force first, then by id, so input order
// never matters.
import { isDeepStrictEqual } from 'node:util';
import type { Route } from '../bgp/route.ts';
import { neighborKey } from '../config/frrk8s-configurations.ts';
import type { FrrConfiguration, FrrNeighbor, FrrRouter, PrefixFilter, ReceivePolicy } from '../config/frrk8s-types.ts';
import type { BfdProfile, Peer, PeerPassword } from '../config/types.ts';
import { type Community, mergeCommunities } from '../net/community.ts';
import { formatIp } from '../net/ip.ts';
import { type Prefix, comparePrefix, formatPrefix } from '../net/prefix.ts';
import { type Labels, selectorMatches } from '../net/selector.ts';
import { byText, prefixKey, sessionFamilies } from './plan.ts';
import type { PeerPlan } from './plan-types.ts';

export interface FrrMergeInput {
  /** ironlb's own sessions on this node (planAnnouncements(...).peers). */
  readonly peers: readonly PeerPlan[];
  /** The BFD profiles ironlb's own configuration defines. */
  readonly bfdProfiles: readonly BfdProfile[];
  /** Valid FRRConfigurations (config/frrk8s-configurations.ts); those not selecting the node are skipped. */
  readonly configurations: readonly FrrConfiguration[];
  readonly nodeLabels: Labels;
  /** The previous result's `lastGood`: per configuration id, its last version that merged. */
  readonly lastGood?: ReadonlyMap<string, FrrConfiguration>;
  /** Ids of configurations present but invalid now: their last good version stays in force. */
  readonly invalid?: readonly string[];
}

export interface FrrMergeError {
  /** `namespace/name` of the FRRConfiguration refused. */
  readonly configuration: string;
  readonly message: string;
}

export interface FrrMergeResult {
  /** ironlb's sessions (FRR-advertised prefixes added) and the extra neighbours, sorted by name. */
  readonly peers: readonly PeerPlan[];
  /** What each session may receive (by peer name); a session not listed receives nothing. */
  readonly receive: ReadonlyMap<string, ReceivePolicy>;
  /** Profiles the configurations add (ironlb's own are not repeated), sorted by name. */
  readonly bfdProfiles: readonly BfdProfile[];
  /** The configurations in force: id → the version merged (the current one or the last good one). */
  readonly lastGood: ReadonlyMap<string, FrrConfiguration>;
  readonly errors: readonly FrrMergeError[];
}

/** The session settings frr-k8s requires to be equal for one neighbour. */
interface SessionSettings {
  readonly asn: string;
  readonly port: number;
  readonly sourceAddress: string;
  readonly password: string;
  readonly ebgpMultiHop: boolean;
  readonly dualStack: boolean;
  readonly holdTimeMs: number;
  readonly keepaliveTimeMs: number;
  readonly connectTimeMs: number;
  readonly localAsn: number;
}

// frr-k8s's defaults: a setting left out equals the default written out.
const defaultHoldMs = 180_000;
const defaultKeepaliveMs = 60_000;
const defaultConnectMs = 120_000;

const settingNames: Record<keyof SessionSettings, string> = {
  asn: 'ASN', port: 'port', sourceAddress: 'source address', password: 'password', ebgpMultiHop: 'ebgpMultiHop',
  dualStack: 'dualStackAddressFamily', holdTimeMs: 'hold time', keepaliveTimeMs: 'keepalive time', connectTimeMs: 'connect time',
  localAsn: 'localASN',
};

interface AdvertisedPrefix {
  readonly prefix: Prefix;
  localPref?: { value: number; from: string };
  communities: Community[];
}

interface NeighborState {
  readonly key: string;
  readonly from: string;
  readonly settings: SessionSettings;
  /** ironlb's own session, when the neighbour is one of its BGPPeers. */
  readonly own?: PeerPlan;
  /** The first FRR neighbour and router defining it, for sessions FRRConfigurations add. */
  readonly frr?: { readonly neighbor: FrrNeighbor; readonly router: FrrRouter; readonly namespace: string };
  bfd?: { name: string; profile: BfdProfile | undefined; from: string };
  gracefulRestart: boolean;
  readonly advertised: Map<string, AdvertisedPrefix>;
  receive?: ReceivePolicy;
}

interface RouterState {
  readonly asn: number | 'mixed';
  readonly from: string;
  routerId?: { value: string; from: string };
}

interface State {
  readonly routers: Map<string, RouterState>;
  readonly neighbors: Map<string, NeighborState>;
  readonly bfd: Map<string, { profile: BfdProfile; from: string }>;
}

const passwordText = (p: PeerPassword | undefined): string => p?.value ?? '';

function ownSettings(peer: Peer): SessionSettings {
  return {
    asn: peer.peerAsn !== undefined ? String(peer.peerAsn) : peer.dynamicAsn ?? '',
    port: peer.port, sourceAddress: peer.sourceAddress ? formatIp(peer.sourceAddress) : '', password: passwordText(peer.password),
    ebgpMultiHop: peer.ebgpMultiHop, dualStack: peer.dualStackAddressFamily,
    holdTimeMs: peer.holdTimeMs ?? defaultHoldMs, keepaliveTimeMs: peer.keepaliveTimeMs ?? defaultKeepaliveMs,
    connectTimeMs: peer.connectTimeMs ?? defaultConnectMs, localAsn: peer.localAsn ?? 0,
  };
}

function frrSettings(n: FrrNeighbor): SessionSettings {
  return {
    asn: n.asn !== undefined ? String(n.asn) : n.dynamicAsn ?? '',
    port: n.port ?? 179, sourceAddress: n.sourceAddress ? formatIp(n.sourceAddress) : '', password: passwordText(n.password),
    ebgpMultiHop: n.ebgpMultiHop, dualStack: n.dualStackAddressFamily,
    holdTimeMs: n.holdTimeMs ?? defaultHoldMs, keepaliveTimeMs: n.keepaliveTimeMs ?? defaultKeepaliveMs,
    connectTimeMs: n.connectTimeMs ?? defaultConnectMs, localAsn: n.localAsn ?? 0,
  };
}

const showSetting = (k: keyof SessionSettings, v: SessionSettings[keyof SessionSettings]): string =>
  k === 'password' ? (v === '' ? 'none' : 'one') : k.endsWith('Ms') ? `${Number(v) / 1000}s` : v === '' ? 'none' : String(v);

const bfdEqual = (a: BfdProfile, b: BfdProfile): boolean => JSON.stringify({ ...a, name: '' }) === JSON.stringify({ ...b, name: '' });

function seed(input: FrrMergeInput): State {
  const state: State = { routers: new Map(), neighbors: new Map(), bfd: new Map() };
  for (const p of input.bfdProfiles) state.bfd.set(p.name, { profile: p, from: `BFDProfile ${p.name}` });
  for (const plan of input.peers) {
    const peer = plan.peer;
    const from = `BGPPeer ${peer.namespace}/${peer.name}`;
    const r = state.routers.get(peer.vrf);
    if (!r) state.routers.set(peer.vrf, { asn: peer.myAsn, from, ...(peer.routerId ? { routerId: { value: formatIp(peer.routerId), from } } : {}) });
    else if (r.asn !== peer.myAsn) state.routers.set(peer.vrf, { ...r, asn: 'mixed' });
    const key = neighborKey(peer.vrf, peer.address ? formatIp(peer.address) : peer.interface ?? '');
    state.neighbors.set(key, {
      key, from, settings: ownSettings(peer), own: plan, gracefulRestart: peer.gracefulRestart.enabled, advertised: new Map(),
      ...(peer.bfdProfile ? { bfd: { name: peer.bfdProfile, profile: input.bfdProfiles.find((b) => b.name === peer.bfdProfile), from } } : {}),
    });
  }
  return state;
}

/** Why `c` cannot join `state`, or undefined. Nothing is changed. */
function conflict(state: State, c: FrrConfiguration): string | undefined {
  for (const p of c.bfdProfiles) {
    const have = state.bfd.get(p.name);
    if (have && !bfdEqual(have.profile, p)) return `spec.bgp.bfdProfiles: BFD profile "${p.name}" differs from the one of the same name in ${have.from}`;
  }
  for (const r of c.routers) {
    const at = `spec.bgp.routers[${r.index}]`;
    const vrf = r.vrf === '' ? 'the default VRF' : `VRF "${r.vrf}"`;
    const have = state.routers.get(r.vrf);
    if (have?.asn === 'mixed') return `${at}.asn: ironlb's BGPPeers on this node use several myASNs in ${vrf}; an FRRConfiguration router there has no single ASN to agree with`;
    if (have && have.asn !== r.asn) return `${at}.asn: ${r.asn} differs from ${have.asn}, the ASN ${have.from} gives the router of ${vrf} (one router per VRF, one ASN)`;
    const id = r.routerId ? formatIp(r.routerId) : undefined;
    if (id && have?.routerId && have.routerId.value !== id) return `${at}.id: router ID ${id} differs from ${have.routerId.value} set by ${have.routerId.from}`;
    for (const n of r.neighbors) {
      const nat = `${at}.neighbors[${n.index}]`;
      const existing = state.neighbors.get(n.key);
      if (!existing) continue;
      const mine = frrSettings(n);
      for (const k of Object.keys(settingNames) as (keyof SessionSettings)[]) {
        if (mine[k] !== existing.settings[k]) {
          return `${nat}: neighbour ${n.key.slice(n.key.indexOf('|') + 1)} has ${settingNames[k]} ${showSetting(k, mine[k])} here and ${showSetting(k, existing.settings[k])} in ${existing.from}`;
        }
      }
      if (n.bfdProfile && existing.bfd && existing.bfd.name !== n.bfdProfile) {
        return `${nat}.bfdProfile: neighbour ${n.key.slice(n.key.indexOf('|') + 1)} has BFD profile "${n.bfdProfile}" here and "${existing.bfd.name}" in ${existing.bfd.from}`;
      }
      for (const lp of n.toAdvertise.localPrefs) {
        const a = existing.advertised.get(prefixKey(lp.prefix));
        if (a?.localPref && a.localPref.value !== lp.localPref) {
          return `${nat}.toAdvertise.withLocalPref: ${formatPrefix(lp.prefix)} has local preference ${lp.localPref} here and ${a.localPref.value} in ${a.localPref.from}`;
        }
        const own = existing.own?.routes.find((x) => comparePrefix(x.prefix, lp.prefix) === 0);
        if (own?.attributes.localPref !== undefined && own.attributes.localPref !== lp.localPref) {
          return `${nat}.toAdvertise.withLocalPref: ${formatPrefix(lp.prefix)} has local preference ${lp.localPref} here and ${own.attributes.localPref} from ${existing.from}'s BGPAdvertisements`;
        }
      }
    }
  }
  return undefined;
}

function unionReceive(a: ReceivePolicy | undefined, b: ReceivePolicy): ReceivePolicy {
  if (!a) return b;
  if (a.mode === 'all' || b.mode === 'all') return { mode: 'all', prefixes: [] };
  const seen = new Set<string>();
  const prefixes: PrefixFilter[] = [];
  for (const f of [...a.prefixes, ...b.prefixes]) {
    const k = `${prefixKey(f.prefix)} ${f.le ?? ''} ${f.ge ?? ''}`;
    if (!seen.has(k)) { seen.add(k); prefixes.push(f); }
  }
  return { mode: 'filtered', prefixes };
}

function apply(state: State, c: FrrConfiguration): void {
  const from = `FRRConfiguration ${c.id}`;
  for (const p of c.bfdProfiles) if (!state.bfd.has(p.name)) state.bfd.set(p.name, { profile: p, from });
  for (const r of c.routers) {
    const have = state.routers.get(r.vrf);
    if (!have) state.routers.set(r.vrf, { asn: r.asn, from, ...(r.routerId ? { routerId: { value: formatIp(r.routerId), from } } : {}) });
    else if (r.routerId && !have.routerId) have.routerId = { value: formatIp(r.routerId), from };
    for (const n of r.neighbors) {
      let s = state.neighbors.get(n.key);
      if (!s) {
        s = { key: n.key, from, settings: frrSettings(n), frr: { neighbor: n, router: r, namespace: c.namespace }, gracefulRestart: false, advertised: new Map() };
        state.neighbors.set(n.key, s);
      }
      s.gracefulRestart ||= n.gracefulRestart;
      if (n.bfdProfile && !s.bfd) s.bfd = { name: n.bfdProfile, profile: c.bfdProfiles.find((b) => b.name === n.bfdProfile), from };
      if (n.toReceive.mode === 'all' || n.toReceive.prefixes.length > 0) s.receive = unionReceive(s.receive, n.toReceive);
      const prefixes = n.toAdvertise.mode === 'all' ? r.prefixes : n.toAdvertise.prefixes;
      for (const p of prefixes) {
        const k = prefixKey(p);
        const a = s.advertised.get(k) ?? { prefix: p, communities: [] };
        s.advertised.set(k, a);
        const lp = n.toAdvertise.localPrefs.find((x) => comparePrefix(x.prefix, p) === 0);
        if (lp && !a.localPref) a.localPref = { value: lp.localPref, from };
        a.communities = mergeCommunities(a.communities, n.toAdvertise.communities.filter((x) => comparePrefix(x.prefix, p) === 0).map((x) => x.community));
      }
    }
  }
}

/** The session ironlb runs for a neighbour only FRRConfigurations define. */
function frrPeer(s: NeighborState): Peer {
  const { neighbor: n, router: r, namespace } = s.frr!;
  const where = n.address ? formatIp(n.address) : n.interface!;
  return {
    name: `frrk8s-${where}${r.vrf ? `@${r.vrf}` : ''}`, namespace, myAsn: r.asn,
    ...(n.asn !== undefined ? { peerAsn: n.asn } : {}), ...(n.dynamicAsn ? { dynamicAsn: n.dynamicAsn } : {}),
    ...(n.localAsn !== undefined ? { localAsn: n.localAsn } : {}),
    ...(n.address ? { address: n.address } : {}), ...(n.interface ? { interface: n.interface } : {}),
    port: n.port ?? 179, ...(n.sourceAddress ? { sourceAddress: n.sourceAddress } : {}),
    ...(n.holdTimeMs !== undefined ? { holdTimeMs: n.holdTimeMs } : {}), ...(n.keepaliveTimeMs !== undefined ? { keepaliveTimeMs: n.keepaliveTimeMs } : {}),
    ...(n.connectTimeMs !== undefined ? { connectTimeMs: n.connectTimeMs } : {}),
    ...(r.routerId ? { routerId: r.routerId } : {}),
    nodeSelectors: [], ...(n.password ? { password: n.password } : {}), ...(s.bfd ? { bfdProfile: s.bfd.name } : {}),
    gracefulRestart: { enabled: s.gracefulRestart, restartTimeMs: 120_000 },
    ebgpMultiHop: n.ebgpMultiHop, vrf: r.vrf, disableMP: false, dualStackAddressFamily: n.dualStackAddressFamily,
  };
}

function routesOf(s: NeighborState, own: readonly Route[], families: readonly number[]): Route[] {
  const byKey = new Map<string, Route>();
  for (const r of own) byKey.set(prefixKey(r.prefix), r);
  for (const [k, a] of s.advertised) {
    if (!families.includes(a.prefix.family)) continue; // the session does not carry it (frr-k8s: same)
    const mine = byKey.get(k);
    const localPref = mine?.attributes.localPref ?? a.localPref?.value;
    byKey.set(k, {
      prefix: a.prefix,
      attributes: {
        ...(mine?.attributes ?? {}),
        communities: mergeCommunities(mine?.attributes.communities ?? [], a.communities),
        ...(localPref !== undefined ? { localPref } : {}),
      },
    });
  }
  return [...byKey.values()].sort((x, y) => comparePrefix(x.prefix, y.prefix));
}

/**
 * The object MetalLB's frr-k8s mode (and `--bgp-backend frr-k8s`) writes for a node: `metallb-<node>`
 * selecting exactly that hostname. A migration from that mode leaves it behind (it has no owner);
 * merged, it would re-announce the Service IPs of the day it was written, deleted ones included,
 * beside what the speaker plans from the same MetalLB configuration.
 */
export function writtenByFrrK8sMode(c: FrrConfiguration): boolean {
  const [r, ...more] = c.nodeSelector.requirements;
  return more.length === 0 && r?.key === 'kubernetes.io/hostname' && r.operator === 'In' && r.values.length === 1 && c.name === `metallb-${r.values[0]}`;
}

export function mergeFrrConfigurations(input: FrrMergeInput): FrrMergeResult {
  const state = seed(input);
  const errors: FrrMergeError[] = [];
  const lastGood = new Map<string, FrrConfiguration>();
  const current = new Map(input.configurations.map((c) => [c.id, c]));
  // What is in force goes first, unchanged before edited, then what is new: an edit or a newcomer
  // that conflicts with a configuration already applied is the one refused (its last good version,
  // if any, stays), never the one already in force.
  const tier = (id: string): number => {
    const previous = input.lastGood?.get(id);
    if (!previous) return 2;
    return isDeepStrictEqual(previous, current.get(id)) ? 0 : 1;
  };
  const ids = [...new Set([...current.keys(), ...(input.invalid ?? []).filter((id) => input.lastGood?.has(id))])]
    .map((id) => ({ id, tier: tier(id) })).sort((a, b) => a.tier - b.tier || byText(a.id, b.id)).map((x) => x.id);
  for (const id of ids) {
    const c = current.get(id);
    const previous = input.lastGood?.get(id);
    if (c && !selectorMatches(c.nodeSelector, input.nodeLabels)) continue;
    if (c && writtenByFrrK8sMode(c)) {
      errors.push({ configuration: id, message: `FRRConfiguration ${id}: the object MetalLB's frr-k8s mode (or ironlb --bgp-backend frr-k8s) writes for node ${c.name.slice('metallb-'.length)}; ironlb's own speaker announces what the MetalLB configuration says and does not merge it (it would keep announcing the addresses of the day it was written): delete it once frr-k8s is gone` });
      continue;
    }
    const why = c ? conflict(state, c) : 'invalid (see its errors)';
    if (c && why === undefined) {
      apply(state, c);
      lastGood.set(id, c);
      continue;
    }
    const keep = previous && previous !== c && conflict(state, previous) === undefined;
    if (c) errors.push({ configuration: id, message: `FRRConfiguration ${id}: ${why}; ${keep ? 'its last good version stays in force' : 'not applied on this node'}` });
    if (keep) {
      apply(state, previous);
      lastGood.set(id, previous);
    }
  }

  const peers: PeerPlan[] = [];
  const receive = new Map<string, ReceivePolicy>();
  for (const s of state.neighbors.values()) {
    let peer = s.own ? s.own.peer : frrPeer(s);
    if (s.own && (s.gracefulRestart !== peer.gracefulRestart.enabled || (s.bfd && !peer.bfdProfile))) {
      peer = { ...peer, gracefulRestart: { ...peer.gracefulRestart, enabled: s.gracefulRestart }, ...(s.bfd ? { bfdProfile: s.bfd.name } : {}) };
    }
    const families = s.own ? s.own.families : sessionFamilies(peer);
    peers.push({ peer, families, routes: routesOf(s, s.own?.routes ?? [], families) });
    if (s.receive) receive.set(peer.name, s.receive);
  }
  peers.sort((a, b) => byText(a.peer.name, b.peer.name));
  const own = new Set(input.bfdProfiles.map((b) => b.name));
  const bfdProfiles = [...state.bfd.values()].map((b) => b.profile).filter((p) => !own.has(p.name)).sort((a, b) => byText(a.name, b.name));
  return { peers, receive, bfdProfiles, lastGood, errors };
}
