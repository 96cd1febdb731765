// MetalLB reads its resources from one namespace only (the one it runs in) and refuses the others
// in its webhooks. ironlb does the same: the namespace given, else the one most resources use.
import type { LoadedObject } from '../api/loaded.ts';
import type { Report } from './report.ts';

export const defaultNamespace = 'metallb-system';

/** The MetalLB namespace: `wanted`, else the most used one (ties: metallb-system, then by name). */
export function chooseNamespace(los: readonly LoadedObject[], wanted?: string): string {
  if (wanted) return wanted;
  const counts = new Map<string, number>();
  for (const lo of los) {
    const ns = lo.object.metadata.namespace;
    if (ns) counts.set(ns, (counts.get(ns) ?? 0) + 1);
  }
  let best = defaultNamespace;
  let bestCount = counts.get(defaultNamespace) ?? 0;
  for (const [ns, n] of [...counts].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    if (n > bestCount) {
      best = ns;
      bestCount = n;
    }
  }
  return best;
}

/** Reports every MetalLB resource outside `namespace`; objects with no namespace are taken as in it. */
export function checkNamespaces(report: Report, los: readonly LoadedObject[], namespace: string, given: boolean): void {
  for (const lo of los) {
    const ns = lo.object.metadata.namespace;
    if (ns === undefined || ns === '' || ns === namespace) continue;
    report.error(lo, ['metadata', 'namespace'], `namespace "${ns}" is not the MetalLB namespace "${namespace}"${given ? '' : ' (the one most resources use)'}: all metallb.io resources must be in it`);
  }
}
