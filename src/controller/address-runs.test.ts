import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AddressRuns } from './address-runs.ts';
import { OrderedMap } from './ordered-map.ts';

const buggy = (v: bigint): boolean => (v & 0xffn) === 0n || (v & 0xffn) === 0xffn;

test('AddressRuns.firstFree equals a brute-force scan, with and without avoidBuggyIPs', () => {
  // Addresses around two /24 boundaries, where the buggy ones sit.
  const base = 0x0a0000f0n;
  fc.assert(fc.property(fc.boolean(), fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 300 })), { maxLength: 200 }), fc.integer({ min: 0, max: 300 }), (avoid, ops, from) => {
    const runs = new AddressRuns(avoid);
    const used = new Set<bigint>();
    for (const [add, off] of ops) {
      const v = base + BigInt(off);
      if (avoid && buggy(v)) continue;
      if (add && !used.has(v)) { runs.add(v); used.add(v); }
      if (!add && used.has(v)) { runs.remove(v); used.delete(v); }
      // Invariant: runs start and end on used addresses and are separated by a usable free one.
      const arr = runs.toArray();
      for (const [s, e] of arr) { assert.ok(used.has(s) && used.has(e), `run ${s}-${e}`); }
      for (let i = 1; i < arr.length; i++) {
        let gapHasFree = false;
        for (let x = arr[i - 1]![1] + 1n; x < arr[i]![0]; x++) if (!(avoid && buggy(x))) gapHasFree = true;
        assert.ok(gapHasFree, 'runs not maximal');
      }
    }
    const lo = base + BigInt(from);
    const hi = base + 300n;
    let expected: bigint | undefined;
    for (let x = lo; x <= hi; x++) if (!used.has(x) && !(avoid && buggy(x))) { expected = x; break; }
    assert.equal(runs.firstFree(lo, hi), expected);
    for (const v of used) assert.ok(runs.has(v));
  }), { numRuns: 300 });
});

test('OrderedMap floor/ceiling/higher/around agree with a sorted array', () => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.boolean(), fc.bigInt({ min: 0n, max: 60n })), { maxLength: 120 }), fc.bigInt({ min: -1n, max: 61n }), (ops, q) => {
    const m = new OrderedMap<number>();
    const ref = new Map<bigint, number>();
    ops.forEach(([add, k], i) => {
      if (add) { m.set(k, i); ref.set(k, i); } else { assert.equal(m.delete(k), ref.delete(k)); }
    });
    const keys = [...ref.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    assert.deepEqual([...m.entries()].map((e) => e.key), keys);
    assert.equal(m.size, keys.length);
    const floor = keys.filter((k) => k <= q).pop();
    const ceil = keys.find((k) => k >= q);
    const higher = keys.find((k) => k > q);
    assert.equal(m.floor(q)?.key, floor);
    assert.equal(m.ceiling(q)?.key, ceil);
    assert.equal(m.higher(q)?.key, higher);
    const [lo, hi] = m.around(q);
    assert.equal(lo?.key, floor);
    assert.equal(hi?.key, higher);
    assert.equal(m.get(q), ref.get(q));
    assert.equal(m.first()?.key, keys[0]);
  }), { numRuns: 300 });
});

test('memory grows with what is allocated: a /64 with 1000 sequential addresses is one run', () => {
  const runs = new AddressRuns(false);
  const start = 0xfd00n << 112n;
  for (let i = 0n; i < 1000n; i++) runs.add(runs.firstFree(start, start + (1n << 64n) - 1n)!);
  assert.equal(runs.runCount, 1);
  assert.equal(runs.firstFree(start, start + (1n << 64n) - 1n), start + 1000n);
  runs.remove(start + 500n);
  assert.equal(runs.runCount, 2);
  assert.equal(runs.firstFree(start, start + (1n << 64n) - 1n), start + 500n);
});
