// Time and randomness come in through this interface so the FSM runs under a fake clock in tests.
// The real implementation is the only place in bfd/ (with transport.ts) that touches timers.
import { performance } from 'node:perf_hooks';

export interface Timer { cancel(): void }

export interface Clock {
  /** Milliseconds, monotonic, fractional. */
  now(): number;
  /** Calls fn once after ms milliseconds unless cancelled. */
  setTimer(ms: number, fn: () => void): Timer;
  /**
   * Runs fn after the I/O that is already waiting has been handled. Node runs due timers before it
   * polls sockets, so after a stall a detection timer would fire before the packets that arrived in
   * time are read; deferring the verdict past the poll phase avoids those false Downs.
   */
  defer(fn: () => void): void;
}

/** Uniform in [0, 1). */
export type Random = () => number;

export const realClock: Clock = {
  now: () => performance.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, Math.max(0, ms));
    return { cancel: () => clearTimeout(t) };
  },
  defer: (fn) => { setImmediate(fn); },
};

/** A manual clock for tests: advance() fires due timers in deadline order. */
export class FakeClock implements Clock {
  private t = 0;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  now(): number { return this.t; }

  setTimer(ms: number, fn: () => void): Timer {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return { cancel: () => { this.timers.delete(id); } };
  }

  /** No I/O is pending under a fake clock: the deferred function runs at once. */
  defer(fn: () => void): void { fn(); }

  /** Moves time forward by ms, firing every timer that falls due (including ones set meanwhile). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!next || e[1].at < next[1].at || (e[1].at === next[1].at && e[0] < next[0]))) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = end;
  }

  pending(): number { return this.timers.size; }
}
