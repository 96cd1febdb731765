// The AS_PATH ironlb sends (own AS leftmost on eBGP, prepends after it; AS_TRANS + AS4_PATH for a
// 2-octet peer) and how a received AS4_PATH is merged back (RFC 6793 §4.2.3).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIp } from '../net/ip.ts';
import { type AsPathSegment, type PathAttributes, decodeAttributes } from './attributes.ts';
import { reconcileAs4 } from './as4-path.ts';
import { type OutboundContext, asPathFor, encodeOutboundAttributes } from './outbound-attributes.ts';
import type { RouteAttributes } from './route.ts';

const attrs = (asPrepend?: { count: number; asn?: number }): RouteAttributes => ({ communities: [], ...(asPrepend ? { asPrepend } : {}) });
const ebgp: OutboundContext = { ebgp: true, myAsn: 64500, fourOctetAsn: true };
const ibgp: OutboundContext = { ...ebgp, ebgp: false };
const seq = (...asns: number[]): AsPathSegment => ({ type: 2, asns });
const set = (...asns: number[]): AsPathSegment => ({ type: 1, asns });

test('eBGP: own AS leftmost, then the prepends (FRR route-map prepend order)', () => {
  assert.deepEqual(asPathFor(attrs({ count: 2, asn: 65099 }), ebgp), [64500, 65099, 65099]);
  assert.deepEqual(asPathFor(attrs({ count: 2 }), ebgp), [64500, 64500, 64500]);
  assert.deepEqual(asPathFor(attrs(), ebgp), [64500]);
});

test('iBGP: no own AS; a prepend is the whole path', () => {
  assert.deepEqual(asPathFor(attrs({ count: 2, asn: 65099 }), ibgp), [65099, 65099]);
  assert.deepEqual(asPathFor(attrs(), ibgp), []);
});

test('on the wire (4-octet session): AS_PATH 64500 65099 65099, no AS4_PATH', () => {
  const { attributes } = decodeAttributes(encodeOutboundAttributes(attrs({ count: 2, asn: 65099 }), 4, { ...ebgp, nextHop4: Buffer.from([192, 0, 2, 1]) }), { fourOctetAsn: true, ebgp: true });
  assert.deepEqual(attributes.asPath, [seq(64500, 65099, 65099)]);
  assert.equal(attributes.as4Path, undefined);
});

test('2-octet peer: AS_TRANS in AS_PATH for every 4-octet ASN, the real path in AS4_PATH, merged back by the receiver', () => {
  const ctx: OutboundContext = { ebgp: true, myAsn: 4200000001, fourOctetAsn: false, nextHop4: Buffer.from([192, 0, 2, 1]) };
  const wire = encodeOutboundAttributes(attrs({ count: 2, asn: 65099 }), 4, ctx);
  const { attributes, problems } = decodeAttributes(wire, { fourOctetAsn: false, ebgp: true });
  assert.deepEqual(problems, []);
  assert.deepEqual(attributes.asPath, [seq(23456, 65099, 65099)]);
  assert.deepEqual(attributes.as4Path, [seq(4200000001, 65099, 65099)]);
  assert.deepEqual(reconcileAs4(attributes, false).asPath, [seq(4200000001, 65099, 65099)]);
  // Only 2-octet ASNs in the path: no AS4_PATH at all (RFC 6793 §4.2.2).
  const small = decodeAttributes(encodeOutboundAttributes(attrs({ count: 1 }), 4, { ...ctx, myAsn: 64500 }), { fourOctetAsn: false, ebgp: true }).attributes;
  assert.deepEqual([small.asPath, small.as4Path], [[seq(64500, 64500)], undefined]);
});

test('RFC 6793 §4.2.3: merging AS4_PATH / AS4_AGGREGATOR from a 2-octet session', () => {
  const base = (over: Partial<PathAttributes>): PathAttributes => ({ other: [], ...over });
  // OLD speakers 65010 and 65011 prepended themselves in front of a NEW speaker's path.
  assert.deepEqual(reconcileAs4(base({ asPath: [seq(65010, 65011, 23456, 23456)], as4Path: [seq(4200000001, 4200000002)] }), false).asPath,
    [seq(65010, 65011, 4200000001, 4200000002)]);
  // A set counts as one AS; the leading part is cut inside a sequence.
  assert.deepEqual(reconcileAs4(base({ asPath: [seq(65010, 23456), set(1, 2)], as4Path: [seq(4200000001), set(1, 2)] }), false).asPath,
    [seq(65010, 4200000001), set(1, 2)]);
  // Longer AS4_PATH than AS_PATH: ignored.
  assert.deepEqual(reconcileAs4(base({ asPath: [seq(23456)], as4Path: [seq(4200000001, 4200000002)] }), false).asPath, [seq(23456)]);
  // Confederation segments in AS4_PATH are left out.
  assert.deepEqual(reconcileAs4(base({ asPath: [seq(65010, 23456)], as4Path: [{ type: 3, asns: [7] }, seq(4200000001)] }), false).asPath,
    [seq(65010, 4200000001)]);
  // AGGREGATOR AS_TRANS: AS4_AGGREGATOR replaces it.
  const agg = { asn: 23456, address: parseIp('192.0.2.9')! };
  const agg4 = { asn: 4200000009, address: parseIp('192.0.2.9')! };
  const m = reconcileAs4(base({ asPath: [seq(23456)], aggregator: agg, as4Aggregator: agg4, as4Path: [seq(4200000009)] }), false);
  assert.deepEqual([m.aggregator, m.asPath, m.as4Path, m.as4Aggregator], [agg4, [seq(4200000009)], undefined, undefined]);
  // AGGREGATOR with a real 2-octet ASN: both AS4 attributes are stale and ignored.
  const old = { asn: 65010, address: parseIp('192.0.2.9')! };
  const s = reconcileAs4(base({ asPath: [seq(65010, 23456)], aggregator: old, as4Aggregator: agg4, as4Path: [seq(4200000009)] }), false);
  assert.deepEqual([s.aggregator, s.asPath, s.as4Path], [old, [seq(65010, 23456)], undefined]);
  // Between two 4-octet speakers the AS4 attributes mean nothing: dropped.
  const n = reconcileAs4(base({ asPath: [seq(4200000001)], as4Path: [seq(1)] }), true);
  assert.deepEqual([n.asPath, n.as4Path], [[seq(4200000001)], undefined]);
});
