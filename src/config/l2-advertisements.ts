// L2Advertisement: pools resolved, interfaces checked as Linux names, selectors compiled. MetalLB
// merges identical L2 advertisements silently; ironlb says so with a warning.
import type { LoadedObject } from '../api/loaded.ts';
import type { L2Advertisement as L2AdvertisementResource } from '../api/resources.ts';
import { ifnameProblem } from './peers.ts';
import { canonicalJson, selectPools } from './pool-selection.ts';
import type { ResolvedPool } from './pools.ts';
import { type Report, describe, locate } from './report.ts';
import { compileSelectors } from './selectors.ts';
import type { L2Advertisement, PreferredNode } from './types.ts';

export interface ResolvedL2Advertisement {
  readonly lo: LoadedObject<L2AdvertisementResource>;
  readonly ad: L2Advertisement;
}

function resolveAd(report: Report, lo: LoadedObject<L2AdvertisementResource>, pools: ReadonlyMap<string, ResolvedPool>): L2Advertisement {
  const spec = lo.object.spec ?? {};
  const interfaces = new Set<string>();
  (spec.interfaces ?? []).forEach((name, i) => {
    const bad = ifnameProblem(name);
    if (bad) report.error(lo, ['spec', 'interfaces', i], `${bad} (interfaces are exact names, not patterns)`);
    else if (interfaces.has(name)) report.error(lo, ['spec', 'interfaces', i], `duplicate interface "${name}": each interface may be named once`);
    else interfaces.add(name);
  });
  const preferred: PreferredNode[] = [];
  (spec.preferredNodeSelectors ?? []).forEach((p, i) => {
    const at = ['spec', 'preferredNodeSelectors', i];
    if (!Number.isInteger(p.weight) || p.weight < 1 || p.weight > 100) report.error(lo, [...at, 'weight'], `weight ${p.weight} is not allowed: want 1..100`);
    const [sel] = compileSelectors(report, lo, [...at, 'preference'], [p.preference]);
    if (sel) preferred.push({ weight: p.weight, preference: sel });
  });
  preferred.sort((a, b) => (a.preference.text < b.preference.text ? -1 : a.preference.text > b.preference.text ? 1 : a.weight - b.weight));
  return {
    name: lo.object.metadata.name ?? '',
    pools: selectPools(report, lo, spec.ipAddressPools, spec.ipAddressPoolSelectors, pools),
    nodeSelectors: compileSelectors(report, lo, ['spec', 'nodeSelectors'], spec.nodeSelectors),
    interfaces: [...interfaces].sort(),
    serviceSelectors: compileSelectors(report, lo, ['spec', 'serviceSelectors'], spec.serviceSelectors),
    preferredNodeSelectors: preferred,
  };
}

export function resolveL2Advertisements(report: Report, los: readonly LoadedObject<L2AdvertisementResource>[], pools: ReadonlyMap<string, ResolvedPool>): Map<string, ResolvedL2Advertisement> {
  const out = new Map<string, ResolvedL2Advertisement>();
  const specs = new Map<string, ResolvedL2Advertisement>();
  const sorted = [...los].sort((a, b) => ((a.object.metadata.name ?? '') < (b.object.metadata.name ?? '') ? -1 : 1));
  for (const lo of sorted) {
    const r = { lo, ad: resolveAd(report, lo, pools) };
    const earlier = out.get(r.ad.name);
    if (earlier) {
      report.error(lo, ['metadata', 'name'], `duplicate definition of L2 advertisement "${r.ad.name}": already defined${locate(earlier.lo)}; advertisement names must be unique`);
      continue;
    }
    const key = canonicalJson(lo.object.spec ?? {});
    const twin = specs.get(key);
    if (twin) report.warn(lo, ['spec'], `identical to ${describe(twin.lo)}: the two are merged into one`);
    else specs.set(key, r);
    out.set(r.ad.name, r);
  }
  return out;
}
