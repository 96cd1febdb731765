// Rules MetalLB's CRDs state in CEL (`x-kubernetes-validations`), and ironlb's own for its
// extensions. Each rule is written twice on purpose: as CEL for the generated CRD (the API server
// enforces it in a cluster) and as a TypeScript check for files. Tests keep them in step.
import { parseGoDuration } from './duration.ts';
import type { FieldPath } from './loaded.ts';

export interface CrdRule {
  readonly kind: string;
  readonly version: string;
  /** Where the rule sits in the CRD schema (and which field a violation is reported on). */
  readonly at: FieldPath;
  readonly rule: string;
  readonly message: string;
  /** The violation message for `value` (the field at `at`) in `spec`, or undefined when it holds. */
  readonly check: (value: unknown, spec: Record<string, unknown>) => string | undefined;
}

function wholeSecondsBetween(min: number, max: number) {
  return (value: unknown): string | undefined => {
    if (typeof value !== 'string') return undefined;
    const { ms } = parseGoDuration(value);
    if (ms === undefined) return undefined; // the format check reports it
    if (ms < min * 1000 || ms >= (max + 1) * 1000) return `must be from ${min}s to ${max}s, got "${value}"`;
    if (ms % 1000 !== 0) return `must be a whole number of seconds, got "${value}"`;
    return undefined;
  };
}

const betweenRule = (min: number, max: number) =>
  `duration(self).getSeconds() >= ${min} && duration(self).getSeconds() <= ${max} && duration(self).getMilliseconds() % 1000 == 0`;

export const crdRules: readonly CrdRule[] = [
  {
    kind: 'BGPPeer', version: 'v1beta2', at: ['spec', 'connectTime'],
    rule: betweenRule(1, 65535),
    message: 'connectTime must be from 1s to 65535s, in whole seconds',
    check: wholeSecondsBetween(1, 65535),
  },
  {
    // A transition rule (GR is negotiated in OPEN only): the API server enforces it on update; a
    // file has no previous version, so there is nothing to check here.
    kind: 'BGPPeer', version: 'v1beta2', at: ['spec', 'enableGracefulRestart'],
    rule: 'self == oldSelf',
    message: 'EnableGracefulRestart cannot be changed after creation',
    check: () => undefined,
  },
  {
    // RFC 4724: the restart time is a 12-bit field of seconds.
    kind: 'BGPPeer', version: 'v1beta2', at: ['spec', 'gracefulRestart', 'restartTime'],
    rule: betweenRule(1, 4095),
    message: 'restartTime must be from 1s to 4095s, in whole seconds',
    check: wholeSecondsBetween(1, 4095),
  },
  {
    kind: 'BGPAdvertisement', version: 'v1beta1', at: ['spec'],
    rule: '!has(self.serviceSelectors) || size(self.serviceSelectors) == 0 || '
      + '((!has(self.aggregationLength) || self.aggregationLength == 32) && (!has(self.aggregationLengthV6) || self.aggregationLengthV6 == 128))',
    message: 'serviceSelectors can only be used with aggregationLength 32 and aggregationLengthV6 128',
    check: (_value, spec) => {
      const sels = spec.serviceSelectors;
      if (!Array.isArray(sels) || sels.length === 0) return undefined;
      const v4 = spec.aggregationLength;
      const v6 = spec.aggregationLengthV6;
      const bad = [v4 !== undefined && v4 !== 32 ? `aggregationLength is ${JSON.stringify(v4)}` : '', v6 !== undefined && v6 !== 128 ? `aggregationLengthV6 is ${JSON.stringify(v6)}` : '']
        .filter((x) => x !== '');
      return bad.length > 0
        ? `serviceSelectors can only be used without aggregation (aggregationLength 32, aggregationLengthV6 128), but ${bad.join(' and ')}`
        : undefined;
    },
  },
];

/** Violations of the rules for `kind`/`version` in a structurally valid object. */
export function checkCrdRules(kind: string, version: string, object: Record<string, unknown>): { path: FieldPath; message: string }[] {
  const out: { path: FieldPath; message: string }[] = [];
  const spec = (object.spec ?? {}) as Record<string, unknown>;
  for (const r of crdRules) {
    if (r.kind !== kind || r.version !== version) continue;
    let v: unknown = object;
    for (const p of r.at) v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[p] : undefined;
    if (v === undefined && r.at.length > 1) continue;
    const msg = r.check(v, spec);
    if (msg !== undefined) out.push({ path: r.at[r.at.length - 1] === 'spec' ? ['spec', 'serviceSelectors'] : r.at, message: msg });
  }
  return out;
}
