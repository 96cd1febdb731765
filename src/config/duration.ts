// Kubernetes `metav1.Duration` text (Go's time.ParseDuration: "90s", "1m30s", "1.5h", "300ms") to
// whole milliseconds. Parsed exactly with BigInt nanoseconds so "1.1s" is 1100 ms, not 1100.0000002.

const unitNs: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n,
  'μs': 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

export const durationSyntax = 'a duration such as "90s", "1m30s" or "500ms" (units h, m, s, ms, us, ns)';

/** Milliseconds (sub-millisecond parts truncated), or an error text. Negative durations are refused. */
export function parseDurationMs(text: string): { ms?: number; error?: string } {
  const s = text.trim();
  if (s === '0') return { ms: 0 };
  if (s.startsWith('-')) return { error: `"${text}" is negative: a duration here must be >= 0` };
  const body = s.startsWith('+') ? s.slice(1) : s;
  const term = /(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/y;
  let ns = 0n;
  let pos = 0;
  while (pos < body.length) {
    term.lastIndex = pos;
    const m = term.exec(body);
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) return { error: `"${text}" is not ${durationSyntax}` };
    const unit = unitNs[m[3]!]!;
    const frac = m[2] ?? '';
    ns += BigInt(m[1] || '0') * unit + (frac === '' ? 0n : (BigInt(frac) * unit) / 10n ** BigInt(frac.length));
    pos = term.lastIndex;
  }
  if (body === '') return { error: `"${text}" is not ${durationSyntax}` };
  return { ms: Number(ns / 1_000_000n) };
}

/** `90s`, `1m30s` or `250ms`: how a duration in ms is shown back to a user. */
export function formatMs(ms: number): string {
  if (ms % 1000 !== 0) return `${ms}ms`;
  const s = ms / 1000;
  if (s < 60 || s % 60 !== 0) return s >= 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s}s`;
  return `${s / 60}m`;
}
