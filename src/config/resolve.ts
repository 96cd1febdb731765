// From valid, defaulted objects to one immutable Config: every semantic check MetalLB makes (and
// those ironlb's extensions need), all reported in one pass. `config` only when there is no error.
import type { Diagnostic } from '../api/diagnostics.ts';
import type { LoadedObject } from '../api/loaded.ts';
import type { Namespace } from '../api/resources.ts';
import { chooseNamespace, checkNamespaces } from './namespace.ts';
import { resolvePools } from './pools.ts';
import { Report } from './report.ts';
import type { Config } from './types.ts';

export interface ResolveOptions {
  /** The MetalLB namespace; default: the namespace most metallb.io resources use. */
  readonly namespace?: string;
}

export interface ResolveResult {
  readonly config?: Config;
  readonly diagnostics: Diagnostic[];
}

const metallbKinds = new Set(['IPAddressPool', 'BGPPeer', 'BGPAdvertisement', 'L2Advertisement', 'BFDProfile', 'Community']);

function ofKind<K extends string>(objects: readonly LoadedObject[], kind: K): LoadedObject<Extract<LoadedObject['object'], { kind: K }>>[] {
  return objects.filter((o) => o.object.kind === kind) as LoadedObject<Extract<LoadedObject['object'], { kind: K }>>[];
}

export function resolveConfig(objects: readonly LoadedObject[], options: ResolveOptions = {}): ResolveResult {
  const report = new Report();
  const metallb = objects.filter((o) => metallbKinds.has(o.object.kind));
  const namespace = chooseNamespace(metallb, options.namespace);
  checkNamespaces(report, metallb, namespace, options.namespace !== undefined);

  const namespaces: Namespace[] = ofKind(objects, 'Namespace').map((o) => o.object);
  const pools = resolvePools(report, ofKind(objects, 'IPAddressPool'), namespaces);

  if (report.errorCount > 0) return { diagnostics: report.diagnostics };
  const config: Config = {
    pools: [...pools.values()].map((p) => p.pool),
    peers: [],
    bgpAdvertisements: [],
    l2Advertisements: [],
    bfdProfiles: [],
  };
  return { config, diagnostics: report.diagnostics };
}
