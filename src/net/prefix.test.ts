import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatIp, parseIp } from './ip.ts';
import { formatPrefix, parsePrefix, parseRange, prefixContains, prefixesOverlap, prefixFirst, prefixLast, summarizeRange } from './prefix.ts';

describe('ip', () => {
  it('round-trips IPv4 and IPv6 in canonical form', () => {
    for (const [inp, out] of [
      ['10.0.0.1', '10.0.0.1'],
      ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
      ['::', '::'],
      ['::ffff:1.2.3.4', '::ffff:102:304'],
      ['fd00:1:0:0:1:0:0:0', 'fd00:1:0:0:1::'],
      ['1:0:0:1:0:0:0:1', '1:0:0:1::1'],
    ]) assert.equal(formatIp(parseIp(inp!)!), out);
  });
  it('rejects what is not an address', () => {
    for (const s of ['', '1.2.3', '1.2.3.256', '01.2.3.4', '1::2::3', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0', 'g::1']) {
      assert.equal(parseIp(s), undefined, s);
    }
  });
  it('round-trips random IPv6 values', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (v) => {
      const ip = parseIp(formatIp({ family: 6, value: v }));
      return ip !== undefined && ip.value === v;
    }));
  });
});

describe('prefix', () => {
  it('parses and masks', () => {
    const p = parsePrefix('192.168.1.7/24')!;
    assert.equal(formatPrefix(p.prefix), '192.168.1.0/24');
    assert.equal(p.hostBitsSet, true);
    assert.equal(parsePrefix('10.0.0.0/33'), undefined);
    assert.equal(formatPrefix(parsePrefix('fc00::/64')!.prefix), 'fc00::/64');
  });
  it('summarizes ranges to minimal CIDRs', () => {
    const r = parseRange('192.168.1.10 - 192.168.1.20')!.range!;
    assert.deepEqual(summarizeRange(r).map(formatPrefix), ['192.168.1.10/31', '192.168.1.12/30', '192.168.1.16/30', '192.168.1.20/32']);
    assert.deepEqual(summarizeRange(parseRange('0.0.0.0-255.255.255.255')!.range!).map(formatPrefix), ['0.0.0.0/0']);
    assert.match(parseRange('10.0.0.5-10.0.0.1')!.error!, /start is after end/);
  });
  it('summary covers exactly the range (property)', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 0xffffffffn }), fc.bigInt({ min: 0n, max: 0xffffffffn }), (a, b) => {
      const [first, last] = a <= b ? [a, b] : [b, a];
      const cidrs = summarizeRange({ family: 4, first, last });
      let cur = first;
      for (const c of cidrs) {
        if (prefixFirst(c) !== cur) return false;
        cur = prefixLast(c) + 1n;
      }
      return cur === last + 1n && cidrs.length <= 62;
    }));
  });
  it('overlap and containment', () => {
    const a = parsePrefix('10.0.0.0/8')!.prefix;
    const b = parsePrefix('10.1.0.0/16')!.prefix;
    const c = parsePrefix('11.0.0.0/8')!.prefix;
    assert.ok(prefixesOverlap(a, b) && prefixesOverlap(b, a));
    assert.ok(!prefixesOverlap(a, c));
    assert.ok(prefixContains(a, parseIp('10.200.0.1')!));
    assert.ok(!prefixContains(a, parseIp('::a00:1')!));
  });
});
