// Go durations (`time.ParseDuration`), the format of every timer field in MetalLB's API
// (`metav1.Duration`): `90s`, `1m30s`, `500ms`, `1h`, `1.5h`, `0`. Parsed into milliseconds.

// Exact arithmetic in BigInt nanoseconds, as Go's int64 Duration: "1.1s" is 1100 ms, not 1100.0000000000002.
const unitNs: Readonly<Record<string, bigint>> = {
  ns: 1n, us: 1_000n, 'µs': 1_000n, 'μs': 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n,
};

const part = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/;
const maxNs = 9_223_372_036_854_775_807n;

export const durationExamples = '90s, 1m30s, 500ms or 1h';

/** Milliseconds (fractional only for sub-millisecond parts) or the reason the text is not a Go duration. */
export function parseGoDuration(text: string): { ms?: number; error?: string } {
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  // Go accepts a bare 0 (and only 0) without a unit.
  if (s === '0') return { ms: 0 };
  if (s === '') return { error: `"${text}" is not a duration (examples: ${durationExamples})` };
  let ns = 0n;
  while (s.length > 0) {
    const m = part.exec(s);
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) {
      const unitless = /^(\d+\.?\d*|\.\d+)$/.test(s);
      return {
        error: unitless
          ? `"${text}" has no unit (use ns, us, ms, s, m or h, e.g. ${durationExamples})`
          : `"${text}" is not a duration (examples: ${durationExamples})`,
      };
    }
    const unit = unitNs[m[3] ?? ''] ?? 0n;
    const frac = m[2] ?? '';
    ns += BigInt(m[1] || '0') * unit + (frac === '' ? 0n : (BigInt(frac) * unit) / 10n ** BigInt(frac.length));
    s = s.slice(m[0].length);
  }
  // Go's limit: durations are int64 nanoseconds (about 292 years).
  if (ns > maxNs) return { error: `"${text}" is out of range (at most about 2562047h)` };
  const whole = ns / 1_000_000n;
  return { ms: sign * (Number(whole) + Number(ns % 1_000_000n) / 1e6) };
}

/** A Go-style duration text (`time.Duration.String()`), e.g. 120000 → `2m0s`, 500 → `500ms`. */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  const neg = ms < 0;
  let rest = Math.abs(ms);
  let out: string;
  if (rest < 1000) {
    if (rest >= 1) out = `${trim(rest)}ms`;
    else if (rest >= 1e-3) out = `${trim(rest * 1e3)}µs`;
    else out = `${trim(rest * 1e6)}ns`;
  } else {
    const h = Math.floor(rest / 3_600_000);
    rest -= h * 3_600_000;
    const m = Math.floor(rest / 60_000);
    rest -= m * 60_000;
    const s = `${trim(rest / 1000)}s`;
    out = h > 0 ? `${h}h${m}m${s}` : m > 0 ? `${m}m${s}` : s;
  }
  return neg ? `-${out}` : out;
}

function trim(n: number): string {
  return String(Number(n.toFixed(9)));
}
