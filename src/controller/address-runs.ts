// The addresses in use in one pool and family, kept as maximal runs of consecutive blocked
// addresses. "Blocked" means in use, or (IPv4 with avoidBuggyIPs) ending in .0 or .255. A run
// starts and ends on an address in use; between two runs there is always at least one address
// that can be handed out. That invariant makes `firstFree` a constant number of O(log n) tree
// look-ups: jump over the run holding the cursor, step over at most two buggy addresses, done.
// Memory is one tree node per run, so it grows with what is allocated, never with pool size.
import { OrderedMap } from './ordered-map.ts';

//
// The tree holds offsets from `base` (the pool's lowest network address of the family, rounded
// down to a multiple of 256 so that the low byte — avoidBuggyIPs — reads the same): in an IPv6
// pool they are small numbers, and V8 compares and adds BigInts that fit 64 bits much faster
// than 128-bit ones. The public methods take and return addresses.
export class AddressRuns {
  /** run start → run end (inclusive), both offsets from `base`. */
  private readonly runs = new OrderedMap<bigint>();
  private readonly base: bigint;
  /** base ≠ 0: IPv4 trees (base 0) skip the subtraction, a BigInt allocation per call. */
  private readonly shifted: boolean;
  private lastFrom = -1n;
  private lastTo = -1n;
  private lastFromOffset = 0n;
  private lastToOffset = 0n;

  /** `avoidBuggy` only for IPv4 pools with avoidBuggyIPs; IPv6 never skips. */
  constructor(private readonly avoidBuggy: boolean, base = 0n) {
    this.base = base - (base & 0xffn);
    this.shifted = this.base !== 0n;
  }

  get runCount(): number {
    return this.runs.size;
  }

  skippable(v: bigint): boolean {
    if (!this.avoidBuggy) return false;
    const low = v & 0xffn;
    return low === 0n || low === 0xffn;
  }

  /** True when every address strictly between `a` and `b` (a < b) is skippable. */
  private bridged(a: bigint, b: bigint): boolean {
    const gap = b - a - 1n;
    if (gap === 0n) return true;
    if (!this.avoidBuggy || gap > 2n) return false;
    for (let v = a + 1n; v < b; v++) if (!this.skippable(v)) return false;
    return true;
  }

  has(address: bigint): boolean {
    const v = this.shifted ? address - this.base : address;
    const r = this.runs.floor(v);
    return r !== undefined && r.value >= v && !this.skippable(v);
  }

  /** Marks `v` in use. The caller adds each address once. */
  add(address: bigint): void {
    const v = this.shifted ? address - this.base : address;
    const [left, right] = this.runs.around(v);
    if (left && left.value >= v) throw new Error(`address ${address} is already in a run`);
    const joinLeft = left !== undefined && this.bridged(left.value, v);
    const joinRight = right !== undefined && this.bridged(v, right.key);
    if (joinLeft && joinRight) {
      left.value = right.value;
      this.runs.delete(right.key);
    } else if (joinLeft) {
      left.value = v;
    } else if (joinRight) {
      const end = right.value;
      this.runs.delete(right.key);
      this.runs.insertNew(v, end);
    } else {
      this.runs.insertNew(v, v);
    }
  }

  /** Marks `v` free again. */
  remove(address: bigint): void {
    const v = this.shifted ? address - this.base : address;
    const r = this.runs.floor(v);
    if (!r || r.value < v) throw new Error(`address ${address} is not in a run`);
    const start = r.key;
    const end = r.value;
    if (v > start) {
      // Trim skippable addresses so that the left part again ends on an address in use.
      let e = v - 1n;
      while (this.skippable(e)) e--;
      r.value = e;
    } else {
      this.runs.delete(start);
    }
    if (v < end) {
      let s = v + 1n;
      while (this.skippable(s)) s++;
      this.runs.insertNew(s, end);
    }
  }

  /** The lowest address in [from, to] that is neither in use nor skippable. */
  firstFree(from: bigint, to: bigint): bigint | undefined {
    let c = from;
    let end = to;
    if (this.shifted) {
      // A pool searches the same CIDR bounds every time: their offsets are kept (compared, not
      // recomputed: a 128-bit subtraction allocates, an equality test does not).
      if (from !== this.lastFrom || to !== this.lastTo) {
        this.lastFrom = from;
        this.lastTo = to;
        this.lastFromOffset = from - this.base;
        this.lastToOffset = to - this.base;
      }
      c = this.lastFromOffset;
      end = this.lastToOffset;
    }
    while (c <= end) {
      if (this.skippable(c)) { c++; continue; }
      const r = this.runs.floor(c);
      if (r && r.value >= c) { c = r.value + 1n; continue; }
      return this.shifted ? c + this.base : c;
    }
    return undefined;
  }

  /** The runs in order, for tests. */
  toArray(): [bigint, bigint][] {
    return [...this.runs.entries()].map((e) => [e.key + this.base, e.value + this.base]);
  }
}
