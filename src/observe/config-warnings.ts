// Things worth a warning that hold for as long as the configuration does: each logged once, when
// it first appears. A snapshot follows every Service or endpoint change, so logging every line on
// every snapshot would drown the log; a line that goes away and comes back is logged again.
import { type Diagnostic, formatDiagnostic } from '../api/diagnostics.ts';
import type { Logger } from './log.ts';

/** At most this many new lines per call; the rest are counted in one more line. */
const maxPerCall = 20;

/** A function that logs at warn, under `message`, the lines it was not given the last time. */
export function newLinesLog(logger: Pick<Logger, 'warn'>, message: string, field = 'detail'): (lines: Iterable<string>) => void {
  let inForce = new Set<string>();
  return (lines) => {
    const now = new Set(lines);
    const fresh = [...now].filter((l) => !inForce.has(l));
    for (const line of fresh.slice(0, maxPerCall)) logger.warn({ [field]: line }, message);
    if (fresh.length > maxPerCall) logger.warn({ more: fresh.length - maxPerCall }, `${message}: ${fresh.length - maxPerCall} more not shown`);
    inForce = now;
  };
}

/**
 * The warnings `ironlb validate` prints, in the daemon's log when their configuration comes into
 * force; `more` are warnings found outside the resolved configuration (a Node's own address in a pool).
 */
export function configWarningLog(logger: Pick<Logger, 'warn'>): (diagnostics: readonly Diagnostic[], more?: readonly string[]) => void {
  const log = newLinesLog(logger, 'configuration warning', 'diagnostic');
  return (diagnostics, more = []) => log([...diagnostics.filter((d) => d.severity === 'warning').map(formatDiagnostic), ...more]);
}
