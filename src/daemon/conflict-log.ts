// Routes the plan leaves out because advertisements disagree, logged at warn when they appear,
// whether the plan was made whole or one edit at a time: each Service's conflict lines are kept,
// with a count per line (Services sharing an IP share a line), so an edit looks at its Services only.
import type { Logger } from 'pino';
import type { ServicePlan } from '../speaker/plan-types.ts';

const message = 'route not announced: advertisements disagree';
const maxPerCall = 20;

function linesOf(sp: ServicePlan): string[] {
  const out: string[] = [];
  for (const e of sp.entries) if (e.kind === 'notAnnounced' && e.reason === 'conflictingAdvertisements' && !out.includes(e.message)) out.push(e.message);
  return out;
}

export class ConflictLog {
  private bySvc = new Map<string, string[]>();
  private count = new Map<string, number>();

  constructor(private readonly logger: Pick<Logger, 'warn'>) {}

  /** A whole plan: lines not in force before are logged. */
  all(plans: Iterable<ServicePlan>): void {
    const before = this.count;
    this.bySvc = new Map();
    this.count = new Map();
    for (const sp of plans) this.add(`${sp.namespace}/${sp.name}`, linesOf(sp));
    this.log([...this.count.keys()].filter((l) => !before.has(l)).sort());
  }

  /** Some Services were planned again (`undefined`: the Service is gone). */
  some(plans: Iterable<[string, ServicePlan | undefined]>): void {
    const incoming = [...plans].map(([key, sp]): [string, string[]] => [key, sp ? linesOf(sp) : []]);
    const fresh = new Set<string>();
    for (const [, lines] of incoming) for (const l of lines) if (!this.count.has(l)) fresh.add(l);
    for (const [key, lines] of incoming) {
      for (const l of this.bySvc.get(key) ?? []) {
        const n = this.count.get(l)! - 1;
        if (n === 0) this.count.delete(l); else this.count.set(l, n);
      }
      this.bySvc.delete(key);
      this.add(key, lines);
    }
    this.log([...fresh].sort());
  }

  private add(key: string, lines: string[]): void {
    if (lines.length === 0) return;
    this.bySvc.set(key, lines);
    for (const l of lines) this.count.set(l, (this.count.get(l) ?? 0) + 1);
  }

  private log(fresh: readonly string[]): void {
    for (const line of fresh.slice(0, maxPerCall)) this.logger.warn({ reason: line }, message);
    if (fresh.length > maxPerCall) this.logger.warn({ more: fresh.length - maxPerCall }, `${message}: ${fresh.length - maxPerCall} more not shown`);
  }
}
