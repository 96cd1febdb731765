// A BFDProfile as the session uses it. MetalLB's limits are re-checked here because the BFD
// manager is also driven directly (tests, daemon wiring) and must never run a session on values it
// would silently clamp. Echo mode is refused, not ignored: ironlb has no echo function (it needs a
// peer that loops our packets back in its forwarding plane, which this test bed cannot exercise).
import { type BfdProfile, bfdDefaults } from '../config/types.ts';

export type { BfdProfile };

export class BfdProfileError extends Error {
  constructor(readonly profile: string, readonly field: keyof BfdProfile, message: string) {
    super(`BFD profile "${profile}": ${field}: ${message}`);
    this.name = 'BfdProfileError';
  }
}

const ranges: readonly [keyof BfdProfile, number, number][] = [
  ['receiveIntervalMs', 10, 60000],
  ['transmitIntervalMs', 10, 60000],
  ['detectMultiplier', 2, 255],
  ['echoIntervalMs', 10, 60000],
  ['minimumTtl', 1, 254],
];

/** Every problem with a profile, as errors naming the field; empty when ironlb can run it. */
export function bfdProfileProblems(p: BfdProfile): BfdProfileError[] {
  const out: BfdProfileError[] = [];
  for (const [field, min, max] of ranges) {
    const v = p[field];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      out.push(new BfdProfileError(p.name, field, `${String(v)} is out of range: want a whole number ${min}..${max}`));
    }
  }
  if (p.echoMode) {
    out.push(new BfdProfileError(p.name, 'echoMode',
      'echo mode is not supported by ironlb\'s BFD (no echo function); set echoMode: false (control packets alone detect failures)'));
  }
  return out;
}

/** Throws the first problem; the manager calls this before touching any session. */
export function validateBfdProfile(p: BfdProfile): BfdProfile {
  const problems = bfdProfileProblems(p);
  if (problems[0]) throw problems[0];
  return p;
}

export function defaultBfdProfile(name = 'default', over: Partial<Omit<BfdProfile, 'name'>> = {}): BfdProfile {
  return { name, ...bfdDefaults, ...over };
}
