// From valid, defaulted objects to one immutable Config: every semantic check MetalLB makes (and
// those ironlb's extensions need), all reported in one pass. `config` only when there is no error.
import type { Diagnostic } from '../api/diagnostics.ts';
import type { LoadedObject } from '../api/loaded.ts';
import type { Namespace } from '../api/resources.ts';
import { checkAttributeConflicts } from './attribute-conflicts.ts';
import { resolveBfdProfiles } from './bfd.ts';
import { checkPoolValues } from './dangerous-values.ts';
import { resolveBgpAdvertisements } from './bgp-advertisements.ts';
import { resolveAliases } from './communities.ts';
import { checkBfdUse, checkFamilyReach, checkLocalPrefReach, checkSourceAddressReach } from './cross-checks.ts';
import { resolveL2Advertisements } from './l2-advertisements.ts';
import { chooseNamespace, checkNamespaces } from './namespace.ts';
import { canonicalJson } from './pool-selection.ts';
import { resolvePeers } from './peers.ts';
import { resolvePools } from './pools.ts';
import { Report } from './report.ts';
import type { Config } from './types.ts';

export { configEquals } from './equals.ts';

export interface ResolveOptions {
  /** The MetalLB namespace; default: the namespace most metallb.io resources use. */
  readonly namespace?: string;
  /**
   * Who runs the sessions: ironlb's own BGP and BFD (native, the default), or frr-k8s's FRR, to
   * which `--bgp-backend frr-k8s` hands them; FRR's bfdd has the echo function ironlb's BFD lacks.
   */
  readonly bgpBackend?: 'native' | 'frr-k8s';
}

export interface ResolveResult {
  readonly config?: Config;
  /**
   * With errors: what did resolve (invalid objects left out), for checks that still make sense,
   * such as a Service naming a pool. Never to be put in force.
   */
  readonly partial?: Config;
  readonly diagnostics: Diagnostic[];
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const metallbKinds = new Set(['IPAddressPool', 'BGPPeer', 'BGPAdvertisement', 'L2Advertisement', 'BFDProfile', 'Community']);
const usedKinds = new Set([...metallbKinds, 'Namespace', 'Secret']);

type Kind = LoadedObject['object']['kind'];
function ofKind<K extends Kind>(objects: readonly LoadedObject[], kind: K): LoadedObject<Extract<LoadedObject['object'], { kind: K }>>[] {
  return objects.filter((o) => o.object.kind === kind) as LoadedObject<Extract<LoadedObject['object'], { kind: K }>>[];
}

/** The Config is shared by every consumer; freezing it makes an accidental write throw. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

export function resolveConfig(objects: readonly LoadedObject[], options: ResolveOptions = {}): ResolveResult {
  const report = new Report();
  // One order whatever the input order: by name, then by content, so that of two objects with
  // the same name the same one is always kept and the other reported.
  // Services, Nodes and EndpointSlices (possibly thousands) play no part and are left out first.
  const keyed = objects.filter((o) => usedKinds.has(o.object.kind)).map((o) => ({ o, name: o.object.metadata.name ?? '', json: canonicalJson(o.object) }));
  keyed.sort((a, b) => cmp(a.name, b.name) || cmp(a.json, b.json));
  objects = keyed.map((k) => k.o);
  const metallb = objects.filter((o) => metallbKinds.has(o.object.kind));
  const namespace = chooseNamespace(metallb, options.namespace);
  checkNamespaces(report, metallb, namespace, options.namespace !== undefined);

  const namespaces: Namespace[] = ofKind(objects, 'Namespace').map((o) => o.object);
  const pools = resolvePools(report, ofKind(objects, 'IPAddressPool'), namespaces);
  const bfdProfiles = resolveBfdProfiles(report, ofKind(objects, 'BFDProfile'), { echo: options.bgpBackend === 'frr-k8s' });
  const aliases = resolveAliases(report, ofKind(objects, 'Community'));
  const peers = resolvePeers(report, ofKind(objects, 'BGPPeer'), {
    namespace,
    bfdProfiles: new Set(bfdProfiles.keys()),
    secrets: ofKind(objects, 'Secret'),
  });
  const bgpAds = resolveBgpAdvertisements(report, ofKind(objects, 'BGPAdvertisement'), pools, new Set(peers.keys()), aliases);
  const l2Ads = resolveL2Advertisements(report, ofKind(objects, 'L2Advertisement'), pools);
  checkAttributeConflicts(report, bgpAds, peers, pools);
  checkPoolValues(report, pools, l2Ads);
  checkBfdUse(report, peers, bfdProfiles, bgpAds, pools);
  checkSourceAddressReach(report, peers);
  checkLocalPrefReach(report, bgpAds, peers);
  checkFamilyReach(report, bgpAds, peers, pools);

  // Every map was filled in name order, so each list below is sorted by name.
  const config: Config = deepFreeze({
    pools: [...pools.values()].map((p) => p.pool),
    peers: [...peers.values()].map((p) => p.peer),
    bgpAdvertisements: [...bgpAds.values()].map((a) => a.ad),
    l2Advertisements: [...l2Ads.values()].map((a) => a.ad),
    bfdProfiles: [...bfdProfiles.values()].map((b) => b.profile).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  });
  if (report.errorCount > 0) return { diagnostics: report.diagnostics, partial: config };
  return { config, diagnostics: report.diagnostics };
}
