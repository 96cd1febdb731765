// Which pools an advertisement applies to: named pools plus pools whose labels match a selector;
// neither given means every pool. Unknown names are errors (MetalLB silently ignores them).
import type { LoadedObject } from '../api/loaded.ts';
import type { LabelSelector } from '../net/selector.ts';
import { selectorMatches } from '../net/selector.ts';
import type { ResolvedPool } from './pools.ts';
import type { Report } from './report.ts';
import { compileSelectors } from './selectors.ts';

export function selectPools(
  report: Report,
  lo: LoadedObject,
  names: readonly string[] | undefined,
  selectors: readonly LabelSelector[] | undefined,
  pools: ReadonlyMap<string, ResolvedPool>,
): string[] {
  const compiled = compileSelectors(report, lo, ['spec', 'ipAddressPoolSelectors'], selectors);
  const known = [...pools.keys()].sort();
  const out = new Set<string>();
  (names ?? []).forEach((name, i) => {
    const at = ['spec', 'ipAddressPools', i];
    if (names!.indexOf(name) !== i) report.error(lo, at, `duplicate pool "${name}": each pool may be named once`);
    else if (!pools.has(name)) {
      report.error(lo, at, `unknown IPAddressPool "${name}": ${known.length ? `known pools are ${known.map((k) => `"${k}"`).join(', ')}` : 'no IPAddressPool is defined'}`);
    } else out.add(name);
  });
  for (const [name, p] of pools) if (compiled.some((s) => selectorMatches(s, p.pool.labels))) out.add(name);
  if ((names ?? []).length === 0 && (selectors ?? []).length === 0) return known;
  if (out.size === 0 && (selectors ?? []).length > 0 && compiled.length === (selectors ?? []).length) {
    report.warn(lo, ['spec', 'ipAddressPoolSelectors'], 'no IPAddressPool matches these selectors: the advertisement applies to no pool and announces nothing');
  }
  return [...out].sort();
}

/** Canonical JSON (sorted keys) so two specs written in different key orders compare equal. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
