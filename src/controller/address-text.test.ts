import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { addressFamily, formatAddress, parseAddress } from './address-text.ts';
import { formatIp, parseIp } from '../net/ip.ts';

const texts = fc.oneof(fc.ipV6(), fc.ipV4(), fc.ipV4Extended(), fc.string({ maxLength: 12 }), fc.stringMatching(/^[0-9a-fA-F:.]{0,20}$/));

test('parseAddress agrees with net/ip parseIp, mapping ::ffff:a.b.c.d to IPv4 as Go does', () => {
  fc.assert(fc.property(texts, (t) => {
    fc.pre(t.trim() === t);
    const mine = parseAddress(t);
    const ref = parseIp(t);
    if (ref === undefined) { assert.equal(mine, undefined, t); return; }
    assert.notEqual(mine, undefined, t);
    if (ref.family === 6 && ref.value >> 32n === 0xffffn) {
      assert.deepEqual(mine, { family: 4, value: ref.value & 0xffffffffn });
    } else {
      assert.deepEqual(mine, ref);
    }
    assert.equal(addressFamily(t), mine?.family);
  }), { numRuns: 5000 });
});

test('formatAddress equals formatIp (RFC 5952) for any address', () => {
  fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.bigInt({ min: 0n, max: 0xffffffffn }), (v6, v4) => {
    assert.equal(formatAddress({ family: 6, value: v6 }), formatIp({ family: 6, value: v6 }));
    assert.equal(formatAddress({ family: 4, value: v4 }), formatIp({ family: 4, value: v4 }));
  }), { numRuns: 3000 });
  // Sparse values: runs of zero groups are where RFC 5952 has rules.
  for (const t of ['::', '::1', '1::', '1:0:0:2:0:0:0:3', '1:0:2:0:3:0:4:0', 'fd00::1:0:0:0', '0:0:1::']) {
    const ip = parseIp(t)!;
    assert.equal(formatAddress(ip), formatIp(ip), t);
  }
});

test('parseAddress rejects what Go rejects', () => {
  for (const t of ['', ' 1.2.3.4', '1.2.3.4 ', '01.2.3.4', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1:2', ':1::', '1:::2', '1::2::3', '12345::', 'fe80::1%eth0', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::8', 'g::1']) {
    assert.equal(parseAddress(t), undefined, t);
    assert.equal(addressFamily(t), undefined, t);
  }
  assert.deepEqual(parseAddress('::ffff:1.2.3.4'), { family: 4, value: 0x01020304n });
  assert.deepEqual(parseAddress('::1.2.3.4'), { family: 6, value: 0x01020304n });
});

test('formatAddress equals formatIp for runs of consecutive IPv6 addresses (the reused upper groups)', () => {
  // Interleaved runs from several bases, crossing 32-bit boundaries and zero groups, so that the
  // kept upper-group texts are reused, replaced and re-derived.
  const bases = ['fd00:1:2:3::', '::', '1::fffe:0', '0:0:0:0:0:1::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0', '2001:db8::ffff:fff0'].map((t) => parseIp(t)!.value);
  for (let i = 0n; i < 40n; i++) {
    for (const b of bases) {
      const v = b + i * 0x7fffn;
      if (v >= 1n << 128n) continue;
      assert.equal(formatAddress({ family: 6, value: v }), formatIp({ family: 6, value: v }), v.toString(16));
      assert.equal(formatAddress({ family: 6, value: b + i }), formatIp({ family: 6, value: b + i }), (b + i).toString(16));
    }
  }
});
