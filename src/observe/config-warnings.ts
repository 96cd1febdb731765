// The warnings `ironlb validate` prints, in the daemon's log: each one at warn level when the
// configuration that carries it comes into force. A snapshot follows every Service or endpoint
// change, so only warnings not in force before are logged (an edit that adds one logs it once).
import { type Diagnostic, formatDiagnostic } from '../api/diagnostics.ts';
import type { Logger } from './log.ts';

export function configWarningLog(logger: Pick<Logger, 'warn'>): (diagnostics: readonly Diagnostic[]) => void {
  let inForce = new Set<string>();
  return (diagnostics) => {
    const now = new Set(diagnostics.filter((d) => d.severity === 'warning').map(formatDiagnostic));
    for (const text of now) if (!inForce.has(text)) logger.warn({ diagnostic: text }, 'configuration warning');
    inForce = now;
  };
}
