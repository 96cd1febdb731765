// The BGP decision process (RFC 4271 §9.1.2.2) over the paths several peers sent for one prefix,
// with ECMP as FRR does it by default: the paths equal down to the eBGP-over-iBGP step (and, as
// FRR without `bestpath as-path multipath-relax`, from the same neighbouring AS) all carry
// traffic. Pure: the caller gives each path what the decision needs.
import type { IpAddress } from '../net/ip.ts';
import { compareIp } from '../net/ip.ts';

export interface CandidatePath {
  /** Which session it came from (the peer id). */
  readonly peerId: string;
  readonly nextHop: IpAddress;
  /** LOCAL_PREF as received on iBGP; eBGP paths (and iBGP ones without it) count as 100. */
  readonly localPref?: number;
  /** AS_PATH length: each AS in a sequence counts, a whole AS_SET counts one (§9.1.2.2 a). */
  readonly asPathLength: number;
  /** The first AS of the path (the neighbouring AS); undefined for a path from our own AS. */
  readonly neighborAs?: number;
  /** 0 IGP, 1 EGP, 2 INCOMPLETE. */
  readonly origin: number;
  readonly med?: number;
  readonly ebgp: boolean;
  /** The peer's BGP identifier (ORIGINATOR_ID when reflected), as a number. */
  readonly routerId: number;
  readonly peerAddress: IpAddress;
  /** A path kept through the peer's graceful restart: it loses to a fresh one (RFC 4724 §4.2 spirit). */
  readonly stale?: boolean;
}

export interface Decision {
  /** The best path. */
  readonly best: CandidatePath;
  /** The paths carrying traffic: best first, then the others equal to it, by peer address. */
  readonly multipath: readonly CandidatePath[];
}

const lp = (p: CandidatePath): number => p.localPref ?? 100;

/** Negative when `a` is preferred, down to (and including) the eBGP/iBGP step. */
function compareUpToMultipath(a: CandidatePath, b: CandidatePath): number {
  if (lp(a) !== lp(b)) return lp(b) - lp(a);
  if (a.asPathLength !== b.asPathLength) return a.asPathLength - b.asPathLength;
  if (a.origin !== b.origin) return a.origin - b.origin;
  // MED only between paths from the same neighbouring AS (no always-compare-med); missing = 0.
  if (a.neighborAs === b.neighborAs && (a.med ?? 0) !== (b.med ?? 0)) return (a.med ?? 0) - (b.med ?? 0);
  if (a.ebgp !== b.ebgp) return a.ebgp ? -1 : 1;
  return 0;
}

function compareFull(a: CandidatePath, b: CandidatePath): number {
  return compareUpToMultipath(a, b)
    || Number(a.stale ?? false) - Number(b.stale ?? false)
    || (a.routerId >>> 0) - (b.routerId >>> 0)
    || compareIp(a.peerAddress, b.peerAddress);
}

/** The decision over `paths` (one per peer), or undefined when there is none. */
export function decide(paths: readonly CandidatePath[]): Decision | undefined {
  if (paths.length === 0) return undefined;
  const sorted = [...paths].sort(compareFull);
  const best = sorted[0]!;
  const multipath = [best, ...sorted.slice(1)
    .filter((p) => compareUpToMultipath(p, best) === 0 && p.neighborAs === best.neighborAs)
    .sort((a, b) => compareIp(a.peerAddress, b.peerAddress))];
  return { best, multipath };
}
