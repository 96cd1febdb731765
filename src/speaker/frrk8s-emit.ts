// `--bgp-backend frr-k8s`: instead of speaking BGP, the speaker hands this node's sessions and
// routes to frr-k8s as one FRRConfiguration, the object MetalLB v0.15.3's speaker writes in its
// frr-k8s mode (internal/bgp/frrk8s, internal/k8s/controllers/frrk8s_config_controller.go):
//
// - named `metallb-<node>` in frr-k8s's namespace, no labels, selecting the node by
//   `kubernetes.io/hostname`; one router per (router ID, ASN, VRF), one neighbour per session;
// - each neighbour lists the prefixes it may send (`toAdvertise.allowed`), grouped again by
//   community (`large:` before a large one) and by localPref (0 = none) for the route maps;
//   the router lists the union (what FRR originates);
// - lists are sorted as MetalLB sorts them: routers and neighbours by MetalLB's key texts,
//   prefixes and communities as text, localPrefs as numbers, BFD profiles by name;
// - the field shapes Go's encoder gives: the peer port always, `passwordSecret: {}`,
//   `toReceive: {allowed: {}}` and `raw: {}` present though empty, booleans only when true
//   (echoMode and passiveMode always), BFD values only where the BFDProfile sets them.
//
// So the apiserver stores the same spec for both, and a user can switch between MetalLB and
// ironlb without frr-k8s seeing a change. The deliberate differences are in the README
// (sourceAddress is written; BFD profiles follow the configuration). Pure: no I/O, no clock.
import { formatGoDuration } from '../api/duration.ts';
import type { LoadedObject } from '../api/loaded.ts';
import type { BFDProfileSpec, BGPPeerSpec } from '../api/resources.ts';
import type { BfdProfile, Config, Peer } from '../config/types.ts';
import { formatCommunity } from '../net/community.ts';
import { formatIp } from '../net/ip.ts';
import { formatPrefix } from '../net/prefix.ts';
import { byText } from './plan.ts';
import type { PeerPlan } from './plan-types.ts';

/** How a BGPPeer's passwordSecret reaches frr-k8s (MetalLB's SecretPassThrough / SecretConvert). */
export type SecretHandling =
  /** frr-k8s runs in ironlb's namespace: the neighbour names the Secret, frr-k8s reads it. */
  | 'reference'
  /** frr-k8s runs elsewhere and cannot read ironlb's Secrets: the password is written in clear. */
  | 'inline';

export interface FrrEmitInput {
  /** The configuration in force: every BGPPeer (frr-k8s's one-router rules are cluster-wide) and BFD profile. */
  readonly config: Config;
  /** This node's sessions and their routes (planAnnouncements(...).peers). */
  readonly peers: readonly PeerPlan[];
  readonly nodeName: string;
  /** frr-k8s's namespace, where the object goes. */
  readonly namespace: string;
  readonly secrets: SecretHandling;
  /**
   * The objects the configuration came from: BFDProfile and BGPPeer specs as written, so that
   * only the BFD values a profile sets are written and a passwordSecret keeps its own shape.
   */
  readonly objects?: readonly LoadedObject[];
}

export interface EmittedNeighbor {
  asn?: number;
  dynamicASN?: 'internal' | 'external';
  sourceaddress?: string;
  address?: string;
  interface?: string;
  port: number;
  password?: string;
  passwordSecret: { name?: string; namespace?: string };
  holdTime?: string;
  keepaliveTime?: string;
  connectTime?: string;
  ebgpMultiHop?: true;
  bfdProfile?: string;
  enableGracefulRestart?: true;
  toAdvertise: {
    allowed: { prefixes?: string[] };
    withLocalPref?: { prefixes: string[]; localPref: number }[];
    withCommunity?: { prefixes: string[]; community: string }[];
  };
  toReceive: { allowed: Record<string, never> };
  disableMP?: true;
  dualStackAddressFamily?: true;
}

export interface EmittedRouter {
  asn: number;
  id?: string;
  vrf?: string;
  neighbors?: EmittedNeighbor[];
  prefixes?: string[];
}

export interface EmittedBfdProfile {
  name: string;
  receiveInterval?: number;
  transmitInterval?: number;
  detectMultiplier?: number;
  echoInterval?: number;
  echoMode: boolean;
  passiveMode: boolean;
  minimumTtl?: number;
}

export interface EmittedFrrConfiguration {
  apiVersion: 'frrk8s.metallb.io/v1beta1';
  kind: 'FRRConfiguration';
  metadata: { name: string; namespace: string };
  spec: {
    bgp: { routers: EmittedRouter[]; bfdProfiles?: EmittedBfdProfile[] };
    raw: Record<string, never>;
    nodeSelector: { matchLabels: { 'kubernetes.io/hostname': string } };
  };
}

export interface FrrEmitResult {
  /**
   * The object to write; undefined when there is nothing for frr-k8s to do on this node (no
   * session, no BFD profile) or when `errors` is not empty (then keep what was written last).
   */
  readonly configuration?: EmittedFrrConfiguration;
  /** Why the configuration cannot be handed to frr-k8s, one sentence each. */
  readonly errors: readonly string[];
  /** Settings frr-k8s has no field for, left out of the object. */
  readonly warnings: readonly string[];
}

/** MetalLB's object name (frrk8s.ConfigName). */
export const frrConfigurationName = (node: string): string => `metallb-${node}`;

// The capability value frr-k8s's FRR advertises; ironlb's restartTime extension has no field there.
const frrRestartTimeMs = 120_000;

/** Go's net.IP.String() of a nil address, which MetalLB's key texts contain. */
const goNil = '<nil>';

function neighborKey(peer: Peer): string {
  const asn = peer.dynamicAsn ?? String(peer.peerAsn ?? 0);
  const name = peer.interface ?? (peer.address ? formatIp(peer.address) : '');
  const base = `${asn}@${name}-${peer.myAsn}@${peer.sourceAddress ? formatIp(peer.sourceAddress) : goNil}`;
  return peer.vrf === '' ? base : `${base}/${peer.vrf}`;
}

const routerKey = (peer: Peer): string => `${peer.myAsn}@${peer.routerId ? formatIp(peer.routerId) : goNil}@${peer.vrf}`;

/** A limit of --bgp-backend frr-k8s, met by one object (the first its message names). */
export interface FrrModeProblem {
  readonly kind: 'BGPPeer' | 'BGPAdvertisement';
  readonly name: string;
  readonly message: string;
}

/** MetalLB's frr-k8s mode validation (config.DiscardNativeOnly): one router per VRF, one neighbour per address. */
export function frrModeErrors(config: Config): string[] {
  return frrModeRules(config).map((e) => e.message);
}

function frrModeRules(config: Config): FrrModeProblem[] {
  const errors: FrrModeProblem[] = [];
  const error = (p: Peer, message: string) => errors.push({ kind: 'BGPPeer', name: p.name, message });
  const peers = config.peers;
  const idText = (p: Peer): string => (p.routerId ? formatIp(p.routerId) : 'none');
  const first = peers[0];
  const seen = new Map<string, Peer>();
  for (const p of peers) {
    if (first && p !== first && idText(p) !== idText(first)) {
      error(p, `BGPPeer "${p.name}" has routerID ${idText(p)} and "${first.name}" ${idText(first)}: with --bgp-backend frr-k8s every BGPPeer must have the same routerID (frr-k8s runs one BGP router per VRF)`);
    }
    const where = p.interface ?? (p.address ? formatIp(p.address) : '');
    const key = `${where}|${p.vrf}`;
    const dup = seen.get(key);
    if (dup) error(dup, `BGPPeers "${dup.name}" and "${p.name}" both peer with ${where}${p.vrf ? ` in VRF ${p.vrf}` : ''}: with --bgp-backend frr-k8s one BGPPeer per address and VRF (FRR has one neighbour per address)`);
    else seen.set(key, p);
  }
  const asnByVrf = new Map<string, Peer>();
  for (const p of peers) {
    const other = asnByVrf.get(p.vrf);
    if (!other) { asnByVrf.set(p.vrf, p); continue; }
    if (other.myAsn !== p.myAsn) {
      error(other, `BGPPeers "${other.name}" (myASN ${other.myAsn}) and "${p.name}" (myASN ${p.myAsn}) are in the same VRF${p.vrf ? ` ${p.vrf}` : ' (default)'}: with --bgp-backend frr-k8s every BGPPeer of a VRF must have the same myASN`);
    }
  }
  return errors;
}

function specsOf<T>(objects: readonly LoadedObject[] | undefined, kind: string): Map<string, T> {
  const out = new Map<string, T>();
  for (const lo of objects ?? []) {
    const o = lo.object as { kind?: string; metadata?: { name?: string }; spec?: T };
    if (o.kind === kind && o.metadata?.name !== undefined) out.set(o.metadata.name, o.spec ?? ({} as T));
  }
  return out;
}

function passwordFields(peer: Peer, secrets: SecretHandling, written: BGPPeerSpec | undefined): Pick<EmittedNeighbor, 'password' | 'passwordSecret'> {
  const pw = peer.password;
  if (!pw) return { passwordSecret: {} };
  if (pw.source === 'inline' || secrets === 'inline') return { password: pw.value, passwordSecret: {} };
  // The reference as the BGPPeer writes it: frr-k8s looks the name up in its own namespace.
  const ns = written?.passwordSecret?.namespace ?? (pw.secretNamespace !== peer.namespace ? pw.secretNamespace : undefined);
  return { passwordSecret: { name: pw.secretName, ...(ns ? { namespace: ns } : {}) } };
}

function neighborFor(pp: PeerPlan, input: FrrEmitInput, written: BGPPeerSpec | undefined): { key: string; neighbor: EmittedNeighbor; prefixes: string[] } {
  const peer = pp.peer;
  const allowed: string[] = [];
  const byCommunity = new Map<string, Set<string>>();
  const byLocalPref = new Map<number, Set<string>>();
  for (const r of pp.routes) {
    const prefix = formatPrefix(r.prefix);
    allowed.push(prefix);
    for (const c of r.attributes.communities) {
      const text = formatCommunity(c);
      const set = byCommunity.get(text) ?? new Set<string>();
      set.add(prefix);
      byCommunity.set(text, set);
    }
    const lp = r.attributes.localPref;
    if (lp !== undefined && lp !== 0) {
      const set = byLocalPref.get(lp) ?? new Set<string>();
      set.add(prefix);
      byLocalPref.set(lp, set);
    }
  }
  // Go's sort.Strings: prefixes as text, so 10.0.0.10/32 comes before 10.0.0.2/32.
  const sorted = (s: Iterable<string>): string[] => [...new Set(s)].sort(byText);
  const withCommunity = [...byCommunity].sort((a, b) => byText(a[0], b[0])).map(([community, set]) => ({ prefixes: sorted(set), community }));
  const withLocalPref = [...byLocalPref].sort((a, b) => a[0] - b[0]).map(([localPref, set]) => ({ prefixes: sorted(set), localPref }));
  const prefixes = sorted(allowed);
  const neighbor: EmittedNeighbor = {
    ...(peer.peerAsn !== undefined && peer.peerAsn !== 0 ? { asn: peer.peerAsn } : {}),
    ...(peer.dynamicAsn ? { dynamicASN: peer.dynamicAsn } : {}),
    ...(peer.sourceAddress ? { sourceaddress: formatIp(peer.sourceAddress) } : {}),
    ...(peer.address ? { address: formatIp(peer.address) } : {}),
    ...(peer.interface !== undefined ? { interface: peer.interface } : {}),
    port: peer.port,
    ...passwordFields(peer, input.secrets, written),
    ...(peer.holdTimeMs !== undefined ? { holdTime: formatGoDuration(peer.holdTimeMs) } : {}),
    ...(peer.keepaliveTimeMs !== undefined ? { keepaliveTime: formatGoDuration(peer.keepaliveTimeMs) } : {}),
    ...(peer.connectTimeMs !== undefined ? { connectTime: formatGoDuration(peer.connectTimeMs) } : {}),
    ...(peer.ebgpMultiHop ? { ebgpMultiHop: true as const } : {}),
    ...(peer.bfdProfile ? { bfdProfile: peer.bfdProfile } : {}),
    ...(peer.gracefulRestart.enabled ? { enableGracefulRestart: true as const } : {}),
    toAdvertise: {
      allowed: prefixes.length > 0 ? { prefixes } : {},
      ...(withLocalPref.length > 0 ? { withLocalPref } : {}),
      ...(withCommunity.length > 0 ? { withCommunity } : {}),
    },
    toReceive: { allowed: {} },
    ...(peer.disableMP ? { disableMP: true as const } : {}),
    ...(peer.dualStackAddressFamily ? { dualStackAddressFamily: true as const } : {}),
  };
  return { key: neighborKey(peer), neighbor, prefixes };
}

function bfdProfileFor(p: BfdProfile, written: BFDProfileSpec | undefined): EmittedBfdProfile {
  const has = (field: keyof BFDProfileSpec): boolean => written === undefined || written[field] !== undefined;
  return {
    name: p.name,
    ...(has('receiveInterval') ? { receiveInterval: p.receiveIntervalMs } : {}),
    ...(has('transmitInterval') ? { transmitInterval: p.transmitIntervalMs } : {}),
    ...(has('detectMultiplier') ? { detectMultiplier: p.detectMultiplier } : {}),
    ...(has('echoInterval') ? { echoInterval: p.echoIntervalMs } : {}),
    echoMode: p.echoMode,
    passiveMode: p.passiveMode,
    ...(has('minimumTtl') ? { minimumTtl: p.minimumTtl } : {}),
  };
}

/**
 * What --bgp-backend frr-k8s refuses (errors: no object is written) or cannot carry out (warnings),
 * for these peers (a node's; every BGPPeer for `ironlb validate --bgp-backend frr-k8s`).
 */
export function frrModeProblems(config: Config, peers: readonly Peer[] = config.peers): { errors: FrrModeProblem[]; warnings: FrrModeProblem[] } {
  const { errors, warnings } = unexpressible(config, peers);
  return { errors: [...frrModeRules(config), ...errors], warnings };
}

/** What frr-k8s cannot be told: ironlb's extensions and limits of frr-k8s's API. */
function unexpressible(config: Config, peers: readonly Peer[]): { errors: FrrModeProblem[]; warnings: FrrModeProblem[] } {
  const errors: FrrModeProblem[] = [];
  const warnings: FrrModeProblem[] = [];
  const say = (to: FrrModeProblem[], kind: FrrModeProblem['kind'], name: string, message: string) => to.push({ kind, name, message });
  for (const ad of config.bgpAdvertisements) {
    if (ad.med !== undefined) say(warnings, 'BGPAdvertisement', ad.name, `BGPAdvertisement "${ad.name}": med ${ad.med} is not sent: FRRConfiguration has no MED field, frr-k8s announces without it`);
    if (ad.asPrepend !== undefined) say(warnings, 'BGPAdvertisement', ad.name, `BGPAdvertisement "${ad.name}": asPrepend is not applied: FRRConfiguration has no AS-path prepend, frr-k8s announces without it`);
  }
  for (const peer of peers) {
    if (peer.gracefulRestart.enabled && peer.gracefulRestart.restartTimeMs !== frrRestartTimeMs) {
      say(warnings, 'BGPPeer', peer.name, `BGPPeer "${peer.name}": gracefulRestart.restartTime is not applied: FRRConfiguration only has enableGracefulRestart (FRR's restart time, 120s)`);
    }
    if (peer.localAsn !== undefined && peer.localAsn !== peer.myAsn) {
      say(errors, 'BGPPeer', peer.name, `BGPPeer "${peer.name}": localASN ${peer.localAsn} cannot be handed to frr-k8s (its FRRConfiguration has no localASN): drop it or run ironlb's own speaker`);
    }
  }
  return { errors, warnings };
}

/** This node's FRRConfiguration, as MetalLB's speaker in frr-k8s mode would write it. */
export function emitFrrConfiguration(input: FrrEmitInput): FrrEmitResult {
  const problems = frrModeProblems(input.config, input.peers.map((p) => p.peer));
  const errors = problems.errors.map((e) => e.message);
  const warnings = problems.warnings.map((w) => w.message);
  if (errors.length > 0) return { errors, warnings };

  const writtenPeers = specsOf<BGPPeerSpec>(input.objects, 'BGPPeer');
  const writtenBfd = specsOf<BFDProfileSpec>(input.objects, 'BFDProfile');
  const routers = new Map<string, { router: EmittedRouter; neighbors: Map<string, EmittedNeighbor>; prefixes: Set<string> }>();
  for (const pp of input.peers) {
    const peer = pp.peer;
    const rkey = routerKey(peer);
    let r = routers.get(rkey);
    if (!r) {
      r = {
        router: { asn: peer.myAsn, ...(peer.routerId ? { id: formatIp(peer.routerId) } : {}), ...(peer.vrf !== '' ? { vrf: peer.vrf } : {}) },
        neighbors: new Map(), prefixes: new Set(),
      };
      routers.set(rkey, r);
    }
    const { key, neighbor, prefixes } = neighborFor(pp, input, writtenPeers.get(peer.name));
    r.neighbors.set(key, neighbor);
    for (const p of prefixes) r.prefixes.add(p);
  }
  const bfdProfiles = [...input.config.bfdProfiles].sort((a, b) => byText(a.name, b.name)).map((p) => bfdProfileFor(p, writtenBfd.get(p.name)));
  if (routers.size === 0 && bfdProfiles.length === 0) return { errors, warnings };

  const emitted = [...routers].sort((a, b) => byText(a[0], b[0])).map(([, r]): EmittedRouter => {
    const neighbors = [...r.neighbors].sort((a, b) => byText(a[0], b[0])).map(([, n]) => n);
    const prefixes = [...r.prefixes].sort(byText);
    return { ...r.router, ...(neighbors.length > 0 ? { neighbors } : {}), ...(prefixes.length > 0 ? { prefixes } : {}) };
  });
  return {
    errors,
    warnings,
    configuration: {
      apiVersion: 'frrk8s.metallb.io/v1beta1',
      kind: 'FRRConfiguration',
      metadata: { name: frrConfigurationName(input.nodeName), namespace: input.namespace },
      spec: {
        bgp: { routers: emitted, ...(bfdProfiles.length > 0 ? { bfdProfiles } : {}) },
        raw: {},
        nodeSelector: { matchLabels: { 'kubernetes.io/hostname': input.nodeName } },
      },
    },
  };
}
