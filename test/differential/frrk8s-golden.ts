// The FRRConfiguration golden record (golden/frrk8s.json): per scenario of frrk8s-scenarios.ts,
// the spec MetalLB v0.15.3's speaker (METALLB_BGP_TYPE=frr-k8s) wrote, as the apiserver stores it
// (frr-k8s's CRD defaults filled in). Shared by the cluster test that records it and the unit
// test that compares ironlb's pure output with it.
import { readFileSync } from 'node:fs';

export type Json = Record<string, unknown>;

export interface FrrGolden { metallb: string; scenarios: Record<string, Json> }

export const frrGoldenPath = new URL('./golden/frrk8s.json', import.meta.url);

export const readFrrGolden = (): FrrGolden => JSON.parse(readFileSync(frrGoldenPath, 'utf8')) as FrrGolden;

/**
 * ironlb's deliberate differences from what MetalLB writes, each with its reason, applied to
 * ironlb's spec before comparing (README "MetalLB compatibility").
 */
export const frrk8sDifferences = [
  {
    line: 'neighbour sourceaddress: ironlb writes the BGPPeer\'s sourceAddress; MetalLB v0.15.3 drops it in frr-k8s mode (its session key has it, the Neighbor it writes does not), so FRR picks the source itself',
    apply(spec: Json): Json {
      const bgp = spec.bgp as { routers?: { neighbors?: Json[] }[] } | undefined;
      for (const r of bgp?.routers ?? []) for (const n of r.neighbors ?? []) delete n.sourceaddress;
      return spec;
    },
  },
] as const;

/** A deep copy with frr-k8s v0.0.21's CRD defaults filled in, as the apiserver stores a spec. */
export function withFrrCrdDefaults(spec: unknown): Json {
  const copy = JSON.parse(JSON.stringify(spec)) as Json;
  const bgp = copy.bgp as { routers?: { neighbors?: Json[] }[] } | undefined;
  for (const r of bgp?.routers ?? []) {
    for (const n of r.neighbors ?? []) {
      n.disableMP ??= false;
      n.dualStackAddressFamily ??= false;
      for (const side of ['toAdvertise', 'toReceive']) {
        const s = n[side] as { allowed?: Json } | undefined;
        if (s?.allowed) s.allowed.mode ??= 'filtered';
      }
    }
  }
  return copy;
}

/** ironlb's spec as it compares with MetalLB's: defaults filled, the listed differences applied. */
export const comparableIronlbSpec = (spec: unknown): Json => frrk8sDifferences.reduce((s, d) => d.apply(s), withFrrCrdDefaults(spec));
