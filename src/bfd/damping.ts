// Flap damping for BFD, after BGP route-flap damping (RFC 2439): each Up→Down adds a penalty that
// halves every halfLifeMs. Once the penalty reaches suppressThreshold the session is "damped": Down
// is still reported at once (traffic must leave a dead path immediately) but Up is held back until
// the penalty decays below reuseThreshold, so a flapping link does not churn BGP sessions and routes.
import type { Clock } from './clock.ts';

export interface DampingOptions {
  readonly penaltyPerFlap: number;
  readonly suppressThreshold: number;
  readonly reuseThreshold: number;
  readonly halfLifeMs: number;
  /** Caps the penalty so no session stays damped longer than this after its last flap. */
  readonly maxSuppressMs: number;
}

export const dampingDefaults: DampingOptions = {
  penaltyPerFlap: 1000,
  suppressThreshold: 2500, // the third flap in quick succession
  reuseThreshold: 800,
  halfLifeMs: 15_000,
  maxSuppressMs: 120_000,
};

export class FlapDamper {
  private penalty = 0;
  private at = 0;
  private suppressed = false;
  private readonly o: DampingOptions;

  constructor(private readonly clock: Clock, options: Partial<DampingOptions> = {}) {
    this.o = { ...dampingDefaults, ...options };
    if (!(this.o.reuseThreshold > 0 && this.o.reuseThreshold < this.o.suppressThreshold && this.o.halfLifeMs > 0)) {
      throw new RangeError('BFD damping: want 0 < reuseThreshold < suppressThreshold and halfLifeMs > 0');
    }
  }

  private maxPenalty(): number { return this.o.reuseThreshold * 2 ** (this.o.maxSuppressMs / this.o.halfLifeMs); }

  currentPenalty(): number {
    const now = this.clock.now();
    return this.penalty * 2 ** (-(now - this.at) / this.o.halfLifeMs);
  }

  private settle(): number {
    const p = this.currentPenalty();
    this.penalty = p;
    this.at = this.clock.now();
    if (this.suppressed && p < this.o.reuseThreshold) this.suppressed = false;
    return p;
  }

  /** A Up→Down transition. */
  recordFlap(): void {
    const p = Math.min(this.settle() + this.o.penaltyPerFlap, this.maxPenalty());
    this.penalty = p;
    if (p >= this.o.suppressThreshold) this.suppressed = true;
  }

  isSuppressed(): boolean { this.settle(); return this.suppressed; }

  /** How long an Up must wait now before it may be reported (0 when not damped). */
  upDelayMs(): number {
    const p = this.settle();
    if (!this.suppressed) return 0;
    return Math.ceil(this.o.halfLifeMs * Math.log2(p / this.o.reuseThreshold)) + 1;
  }
}
