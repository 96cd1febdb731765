// BGPPeer timers, MetalLB's parseTimers: holdTime alone gives keepalive = hold/3, keepaliveTime
// alone gives hold = 3 × keepalive; the hold time, truncated to seconds, must be 0 or >= 3 s (RFC
// 4271 §4.2) and the keepalive no longer than it. ironlb adds the OPEN field's own limit: the hold
// time travels as 16-bit seconds, so at most 65535 s.
import type { LoadedObject } from '../api/loaded.ts';
import type { BGPPeer } from '../api/resources.ts';
import { formatMs, parseDurationMs } from './duration.ts';
import type { Report } from './report.ts';

export interface PeerTimers {
  readonly holdTimeMs?: number;
  readonly keepaliveTimeMs?: number;
  readonly connectTimeMs?: number;
}

const maxHoldMs = 65535 * 1000;

function duration(report: Report, lo: LoadedObject, field: string, text: string | undefined): number | undefined | null {
  if (text === undefined) return undefined;
  const d = parseDurationMs(text);
  if (d.ms === undefined) {
    report.error(lo, ['spec', field], d.error ?? `invalid duration "${text}"`);
    return null;
  }
  return d.ms;
}

/** The resolved timers; fields stay undefined when not given (the speaker's default applies). */
export function resolveTimers(report: Report, lo: LoadedObject<BGPPeer>): PeerTimers {
  const spec = lo.object.spec;
  const hold = duration(report, lo, 'holdTime', spec.holdTime);
  const keepalive = duration(report, lo, 'keepaliveTime', spec.keepaliveTime);
  const connect = duration(report, lo, 'connectTime', spec.connectTime);
  const out: { holdTimeMs?: number; keepaliveTimeMs?: number; connectTimeMs?: number } = {};

  if (connect !== undefined && connect !== null) {
    if (connect % 1000 !== 0 || connect < 1000 || connect > 65535_000) {
      report.error(lo, ['spec', 'connectTime'], `connectTime ${spec.connectTime} is not allowed: want whole seconds from 1s to 65535s`);
    } else {
      out.connectTimeMs = connect;
    }
  }
  if (hold === null || keepalive === null || (hold === undefined && keepalive === undefined)) return out;

  const holdMs = hold ?? keepalive! * 3;
  const keepaliveMs = keepalive ?? Math.floor(hold! / 3);
  const holdField = hold !== undefined ? 'holdTime' : 'keepaliveTime';
  const holdText = hold !== undefined ? `holdTime ${spec.holdTime}` : `holdTime ${formatMs(holdMs)} (3 × keepaliveTime ${spec.keepaliveTime})`;
  const roundedS = Math.floor(holdMs / 1000);
  let ok = true;
  if (roundedS !== 0 && roundedS < 3) {
    report.error(lo, ['spec', holdField], `${holdText} is not allowed: the hold time must be 0 (no keepalives) or at least 3s`);
    ok = false;
  } else if (holdMs > maxHoldMs) {
    report.error(lo, ['spec', holdField], `${holdText} is not allowed: the hold time is sent in 16 bits of seconds, at most 65535s`);
    ok = false;
  }
  if (keepaliveMs > holdMs) {
    const kaText = keepalive !== undefined ? `keepaliveTime ${spec.keepaliveTime}` : `keepaliveTime ${formatMs(keepaliveMs)}`;
    report.error(lo, ['spec', keepalive !== undefined ? 'keepaliveTime' : 'holdTime'], `${kaText} is longer than ${holdText}: the keepalive time must be at most the hold time`);
    ok = false;
  }
  if (ok && keepaliveMs === 0 && holdMs !== 0) {
    report.warn(lo, ['spec', 'keepaliveTime'], `keepaliveTime 0s with ${holdText}: no KEEPALIVE will be sent, so the peer will drop the session after the hold time unless UPDATEs keep it alive`);
  }
  if (ok) {
    out.holdTimeMs = holdMs;
    out.keepaliveTimeMs = keepaliveMs;
  }
  return out;
}
