// The fast failure detector for layer 2: the owner of layer-2 IPs sends direct heartbeats (every
// few ms, authenticated like the gossip) to the nodes that would take its IPs over; a node that
// stops hearing them for the deadline believes the owner down *for layer 2* at once, without
// waiting for SWIM's probe and suspicion. The gossip stays the truth for everything else: the
// watcher also marks the owner suspect there, and an owner that refutes the suspicion (or sends a
// heartbeat again) is believed again.
//
// Pure: time is passed in, so the tests drive it with numbers (heartbeat.test.ts) and the daemon
// with its monotonic clock (daemon/l2-role.ts).

/**
 * Watches the owners that send us heartbeats. A peer is watched ("armed") only from its first
 * heartbeat: an owner that never sends (an older speaker, a transient disagreement on the order)
 * is left to the gossip, never believed down for silence it never promised to break.
 *
 * The deadline adapts to the owner (a simple form of the phi accrual detector of Hayashibara et
 * al.): it is the base (misses × interval) or twice the longest recent gap between heartbeats,
 * whichever is longer, the recent gap halving every second. An owner whose process stalls now and
 * then (garbage collection, a starved CPU) is given the time it has shown it needs, instead of
 * losing its IPs at every stall; a quiet owner on a quiet LAN gets the base.
 */
export class OwnerWatch {
  /**
   * Armed peers: the time by which the next heartbeat must arrive, the gap estimate; and, to undo
   * a gap that was our own: the estimate before the last long gap, that gap, and how many
   * heartbeats have been read right behind it.
   */
  private readonly armed = new Map<string, { deadline: number; last: number; gap: number; before: number; since: number; queued: number; first: boolean }>();
  private readonly downSet = new Set<string>();

  /**
   * @param deadlineMs the base: silence after a heartbeat that makes its sender down (misses × interval, plus slack).
   * @param intervalMs the owners' heartbeat interval, when known (0: not): heartbeats read back to
   *   back, less than half of it apart, had queued in our socket while we were not reading, so
   *   the gap before them was (that many intervals of) our own delay, not the owner's.
   * @param firstWaitMs the longest wait for the heartbeat after the first (see beat; the daemon: firstBeatGraceMs).
   */
  constructor(readonly deadlineMs: number, private readonly halfLifeMs = 1000, private readonly intervalMs = 0, private readonly firstWaitMs = 0) {}

  /**
   * A heartbeat from `peer` at `now`. True when the peer was believed down (it is back).
   *
   * The first one after arming is the owner's main thread announcing itself; the steady ones
   * follow from its heartbeat thread once that has opened a socket to us, which on a loaded node
   * can take longer than the deadline. So the first wait is at least `firstWaitMs`: a node that
   * just became the owner is not robbed for its heartbeat thread's start.
   */
  beat(peer: string, now: number): boolean {
    const a = this.armed.get(peer);
    if (!a) {
      this.armed.set(peer, { deadline: now + Math.max(this.deadlineMs, this.firstWaitMs), last: now, gap: 0, before: 0, since: 0, queued: 0, first: this.firstWaitMs > 0 });
      return this.downSet.delete(peer);
    }
    if (a.first) {
      // The wait for the heartbeat thread's first is its start-up, not a stall: not a gap.
      a.first = false;
      a.deadline = now + this.deadlineMs;
      a.last = now;
      return false;
    }
    // Hundreds a second: updated in place, no allocation.
    const since = Math.max(0, now - a.last);
    if (this.intervalMs > 0 && since < this.intervalMs / 2 && a.since > this.intervalMs) {
      // Read right behind the previous one: it waited in the socket, sent an interval after the
      // previous one, so the long gap before them was our own stall (a busy event loop, garbage
      // collection), by one more interval. The owner's sender does not burst (its timer does not
      // catch up), so this never hides an owner's own stall.
      a.queued++;
      a.gap = Math.max(a.before, a.since - a.queued * this.intervalMs);
    } else {
      a.before = a.gap * 2 ** (-since / this.halfLifeMs);
      a.gap = Math.max(since, a.before);
      a.since = since;
      a.queued = 0;
    }
    a.deadline = now + Math.max(this.deadlineMs, Math.ceil(2 * a.gap));
    a.last = now;
    return false;
  }

  /** The silence that would make `peer` down right now (for logs). */
  silenceAllowed(peer: string): number {
    const a = this.armed.get(peer);
    return a ? a.deadline - a.last : this.deadlineMs;
  }

  /** The peer stops sending on purpose (we are no longer next for any of its IPs): not watched. */
  stop(peer: string): void {
    this.armed.delete(peer);
  }

  /**
   * The watcher itself did not run until `now` for longer than the base deadline (its check ran
   * that late: a stall of its own process, a machine-wide pause): the owners' silence over that
   * time proves nothing (on a machine-wide stall they could not send either), so each armed owner
   * gets its allowance again, counted from now. The heartbeats that arrived meanwhile are read
   * before this is judged (daemon/l2-role.ts), so a live owner is simply heard; a dead one is
   * found one allowance later. A watcher's stall never counts against an owner.
   */
  resume(now: number): void {
    for (const a of this.armed.values()) a.deadline = Math.max(a.deadline, now + Math.max(this.deadlineMs, Math.ceil(2 * a.gap)));
  }

  /** Peers whose deadline has passed by `now`: down from now on, each reported once. */
  expire(now: number): string[] {
    return this.expireWithSilence(now).map((e) => e.peer);
  }

  /** As expire, with the silence each one was last heard before `now` and the silence it was allowed (for the log). */
  expireWithSilence(now: number): { peer: string; silenceMs: number; allowedMs: number }[] {
    const out: { peer: string; silenceMs: number; allowedMs: number }[] = [];
    for (const [peer, a] of this.armed) {
      if (a.deadline > now) continue;
      this.armed.delete(peer);
      this.downSet.add(peer);
      out.push({ peer, silenceMs: Math.round(now - a.last), allowedMs: Math.round(a.deadline - a.last) });
    }
    return out.sort((x, y) => (x.peer < y.peer ? -1 : x.peer > y.peer ? 1 : 0));
  }

  /** The gossip says the peer is alive after all (it refuted), or it left the cluster: forget it. True when it was down. */
  clear(peer: string): boolean {
    this.armed.delete(peer);
    return this.downSet.delete(peer);
  }

  /** The earliest deadline among armed peers, when one is armed. */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const a of this.armed.values()) if (next === undefined || a.deadline < next) next = a.deadline;
    return next;
  }

  /** Peers believed down for layer 2 (removed from the election's live set). */
  get down(): ReadonlySet<string> {
    return this.downSet;
  }

  isArmed(peer: string): boolean {
    return this.armed.has(peer);
  }

  /** Peers watched right now (their heartbeats arrive), sorted. */
  watched(): string[] {
    return [...this.armed.keys()].sort();
  }
}

/**
 * MetalLB has no such detector; these are ironlb's defaults (`--l2-heartbeat-interval`,
 * `--l2-heartbeat-misses`): every 10 ms, down after 35 ms of silence (keepalived at its fastest
 * advert: 3 adverts + skew = 36 ms). 5 ms (18 ms) was tried as the default and dropped: at load
 * ~4 its successors took over from live owners many times more often (src/l2/README.md, Figures).
 */
export const defaultHeartbeatMs = 10;
export const defaultHeartbeatMisses = 3;

/** The longest wait for an owner's second heartbeat (its heartbeat thread's first), whatever the deadline. */
export const firstBeatGraceMs = 250;

/** Silence that makes an owner down: `misses` heartbeats not arrived, plus half an interval for jitter. */
export function heartbeatDeadlineMs(intervalMs: number, misses: number): number {
  return misses * intervalMs + Math.ceil(intervalMs / 2);
}
