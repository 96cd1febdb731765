// Keeps a hostile or misconfigured neighbor from flooding the log: the first event of a kind per
// key is logged, then at most one per interval, carrying how many were left out meanwhile.
import type { Clock } from './peer-config.ts';

/** Keys remembered at most; beyond that the table starts afresh (a flood of addresses stays bounded). */
const MAX_KEYS = 1024;

export class LogLimiter {
  private readonly seen = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly clock: Pick<Clock, 'now'>, private readonly intervalMs = 60_000) {}

  /** undefined: leave this one out; else log it, noting `suppressed` left out since the last. */
  allow(key: string): { suppressed: number } | undefined {
    const now = this.clock.now();
    const e = this.seen.get(key);
    if (e && now - e.at < this.intervalMs) { e.suppressed++; return undefined; }
    if (!e && this.seen.size >= MAX_KEYS) this.seen.clear();
    this.seen.set(key, { at: now, suppressed: 0 });
    return { suppressed: e?.suppressed ?? 0 };
  }
}
