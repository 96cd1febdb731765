// BFDProfile: unique names, MetalLB's ranges, defaults applied (bfdDefaults) so the speaker never
// has to know which fields were written.
import type { LoadedObject } from '../api/loaded.ts';
import type { BFDProfile as BFDProfileResource, BFDProfileSpec } from '../api/resources.ts';
import { type Report, locate } from './report.ts';
import { type BfdProfile, bfdDefaults } from './types.ts';

export interface ResolvedBfdProfile {
  readonly lo: LoadedObject<BFDProfileResource>;
  readonly profile: BfdProfile;
  /** Whether minimumTtl was written (it only matters for multi-hop sessions). */
  readonly minimumTtlSet: boolean;
}

/** MetalLB's bfdIntFromConfig limits (the CRD's too). */
const limits: readonly [keyof BFDProfileSpec, number, number, string][] = [
  ['receiveInterval', 10, 60000, 'ms'],
  ['transmitInterval', 10, 60000, 'ms'],
  ['detectMultiplier', 2, 255, ''],
  ['echoInterval', 10, 60000, 'ms'],
  ['minimumTtl', 1, 254, ''],
];

/** `echo`: whether the BFD that runs the profiles has an echo function (FRR's, with --bgp-backend frr-k8s). */
export function resolveBfdProfiles(report: Report, los: readonly LoadedObject<BFDProfileResource>[], o: { echo: boolean } = { echo: false }): Map<string, ResolvedBfdProfile> {
  const out = new Map<string, ResolvedBfdProfile>();
  for (const lo of los) {
    const name = lo.object.metadata.name ?? '';
    const spec = lo.object.spec ?? {};
    for (const [field, min, max, unit] of limits) {
      const v = spec[field];
      if (typeof v === 'number' && (!Number.isInteger(v) || v < min || v > max)) {
        report.error(lo, ['spec', field], `${field} ${v} is not allowed: want a whole number ${min}..${max}${unit ? ` (${unit})` : ''}`);
      }
    }
    // The speaker's BFD (bfd/profile.ts) has no echo function and refuses such a profile: say so
    // here, where MetalLB (FRR) would run echo, rather than at run time. frr-k8s's FRR runs it.
    if (spec.echoMode === true && !o.echo) {
      report.error(lo, ['spec', 'echoMode'], 'echo mode is not supported by ironlb\'s own BFD (no echo function): set echoMode: false; control packets alone detect failures (lower transmitInterval/receiveInterval for faster detection); or let frr-k8s run BGP and BFD (--bgp-backend frr-k8s), whose FRR does echo');
    }
    const earlier = out.get(name);
    if (earlier) {
      report.error(lo, ['metadata', 'name'], `duplicate definition of BFD profile "${name}": already defined${locate(earlier.lo)}; profile names must be unique`);
      continue;
    }
    out.set(name, {
      lo,
      minimumTtlSet: spec.minimumTtl !== undefined,
      profile: {
        name,
        receiveIntervalMs: spec.receiveInterval ?? bfdDefaults.receiveIntervalMs,
        transmitIntervalMs: spec.transmitInterval ?? bfdDefaults.transmitIntervalMs,
        detectMultiplier: spec.detectMultiplier ?? bfdDefaults.detectMultiplier,
        echoIntervalMs: spec.echoInterval ?? bfdDefaults.echoIntervalMs,
        echoMode: spec.echoMode ?? bfdDefaults.echoMode,
        passiveMode: spec.passiveMode ?? bfdDefaults.passiveMode,
        minimumTtl: spec.minimumTtl ?? bfdDefaults.minimumTtl,
      },
    });
  }
  return out;
}
