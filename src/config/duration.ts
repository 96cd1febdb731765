// Kubernetes `metav1.Duration` text (Go's time.ParseDuration: "90s", "1m30s", "1.5h", "300ms") to
// whole milliseconds, on top of api/'s exact Go duration parser.
import { parseGoDuration } from '../api/duration.ts';

export const durationSyntax = 'a duration such as "90s", "1m30s" or "500ms" (units h, m, s, ms, us, ns)';

/** Whole milliseconds (sub-millisecond parts truncated), or an error text. Negative durations are refused. */
export function parseDurationMs(text: string): { ms?: number; error?: string } {
  const r = parseGoDuration(text.trim());
  if (r.error !== undefined || r.ms === undefined) return { error: `"${text}" is not ${durationSyntax}` };
  if (r.ms < 0) return { error: `"${text}" is negative: a duration here must be >= 0` };
  return { ms: Math.trunc(r.ms) };
}

/** `90s`, `1m30s` or `250ms`: how a duration in ms is shown back to a user. */
export function formatMs(ms: number): string {
  if (ms % 1000 !== 0) return `${ms}ms`;
  const s = ms / 1000;
  if (s < 60 || s % 60 !== 0) return s >= 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s}s`;
  return `${s / 60}m`;
}
