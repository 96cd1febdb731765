// Byte vectors and round trips for every message, capability and attribute.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIp } from '../net/ip.ts';
import { parsePrefix } from '../net/prefix.ts';
import { BufferWriter } from './buffer-writer.ts';
import { BufferReader } from './buffer-reader.ts';
import { type Capabilities, decodeCapabilities, encodeCapabilities, newCapabilities } from './capabilities.ts';
import { type PathAttributes, decodeAttributes, encodeAttributes } from './attributes.ts';
import { decodeOpen, encodeOpen, AS_TRANS, openAsn } from './open.ts';
import { decodeUpdate, encodeEndOfRib, encodeUpdate } from './update.ts';
import { decodeNotification, encodeNotification, notificationText, shutdownCommunication } from './notification.ts';
import { decodeRouteRefresh, encodeRouteRefresh } from './route-refresh.ts';
import { KEEPALIVE } from './keepalive.ts';
import { MessageFramer } from './framing.ts';
import { BgpError, describeNotification } from './errors.ts';
import { decodeMessage } from './messages.ts';
import { prefixWire } from './nlri.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const marker = 'ff'.repeat(16);
const ip = (s: string) => parseIp(s)!;
const pfx = (s: string) => ({ prefix: parsePrefix(s)!.prefix });
const ctx = { fourOctetAsn: true, ebgp: true };

test('KEEPALIVE is a bare 19-byte header', () => {
  assert.deepEqual(KEEPALIVE, hex(`${marker} 0013 04`));
});

test('OPEN: decodes the classic one-capability-per-parameter form', () => {
  // AS 65001, hold 180, id 10.0.0.1; MP IPv4 unicast, MP IPv6 unicast, route refresh, 4-octet AS 65001.
  const body = hex('04 fde9 00b4 0a000001 1c 02060104 00010001 02060104 00020001 02020200 02064104 0000fde9');
  const o = decodeOpen(body);
  assert.equal(o.myAs, 65001);
  assert.equal(o.holdTime, 180);
  assert.equal(o.bgpId, 0x0a000001);
  assert.deepEqual(o.capabilities.multiprotocol, [{ afi: 1, safi: 1 }, { afi: 2, safi: 1 }]);
  assert.equal(o.capabilities.routeRefresh, true);
  assert.equal(o.capabilities.fourOctetAsn, 65001);
});

test('OPEN: encoding with AS_TRANS for a 4-octet ASN, and round trip', () => {
  const caps: Capabilities = { ...newCapabilities(), multiprotocol: [{ afi: 1, safi: 1 }], fourOctetAsn: 4200000000 };
  const bytes = encodeOpen({ version: 4, myAs: AS_TRANS, holdTime: 90, bgpId: 0x01020304, capabilities: caps });
  assert.deepEqual(bytes, hex(`${marker} 002b 01 04 5ba0 005a 01020304 0e 020c 0104 00010001 4104 fa56ea00`));
  const o = decodeOpen(bytes.subarray(19));
  assert.equal(openAsn(o), 4200000000);
  assert.deepEqual(o.capabilities, caps);
});

test('OPEN: errors map to RFC 4271 subcodes', () => {
  assert.throws(() => decodeOpen(hex('03 fde9 00b4 0a000001 00')), (e: BgpError) => e.code === 2 && e.subcode === 1 && e.data.equals(hex('0004')));
  assert.throws(() => decodeOpen(hex('04 fde9 00b4 0a000001 04 01020000')), (e: BgpError) => e.code === 2 && e.subcode === 4);
  assert.throws(() => decodeOpen(hex('04 fde9 00b4 0a000001 05 0202')), (e: BgpError) => e.code === 2);
});

test('OPEN: RFC 9072 extended optional parameters length', () => {
  const o = decodeOpen(hex('04 fde9 00b4 0a000001 ff ff 0009 02 0006 0104 00010001'));
  assert.deepEqual(o.capabilities.multiprotocol, [{ afi: 1, safi: 1 }]);
});

test('capabilities: graceful restart (R bit, time, F bits), ADD-PATH, extended message round trip', () => {
  const c: Capabilities = {
    ...newCapabilities(), routeRefresh: true, extendedMessage: true, enhancedRouteRefresh: true,
    gracefulRestart: { restarting: true, notification: false, restartTimeSeconds: 120, families: [{ afi: 1, safi: 1, forwardingState: true }, { afi: 2, safi: 1, forwardingState: false }] },
    addPath: [{ afi: 1, safi: 1, mode: 2 }], unknown: [{ code: 73, value: Buffer.from('host') }],
  };
  const w = new BufferWriter();
  encodeCapabilities(c, w);
  // GR: code 64 len 10, flags R + 120 s = 0x8078, IPv4/unicast F, IPv6/unicast no F.
  assert.ok(w.view().includes(hex('400a 8078 00010180 00020100')));
  assert.ok(w.view().includes(hex('4504 00010102')));
  const back = newCapabilities();
  decodeCapabilities(new BufferReader(w.view()), back);
  assert.deepEqual(back, c);
});

const full: PathAttributes = {
  origin: 0, asPath: [{ type: 2, asns: [65001, 4200000000] }], nextHop: ip('192.0.2.1'), med: 5, localPref: 100,
  atomicAggregate: true, aggregator: { asn: 65001, address: ip('192.0.2.9') }, communities: [0xfde80001],
  largeCommunities: [{ global: 65001, local1: 1, local2: 2 }], as4Path: [{ type: 2, asns: [4200000000] }],
  other: [{ flags: 0xc0, type: 200, value: hex('abcd') }],
};

test('attributes: known byte encodings (RFC 4271, RFC 1997, RFC 8092)', () => {
  const w = new BufferWriter();
  encodeAttributes({ origin: 0, asPath: [{ type: 2, asns: [65001] }], nextHop: ip('192.0.2.1'), med: 5, localPref: 100, communities: [0xfde80001], largeCommunities: [{ global: 65001, local1: 1, local2: 2 }], other: [] }, false, w);
  assert.deepEqual(w.view(), hex('40010100 4002 04 0201fde9 400304c0000201 800404 00000005 400504 00000064 c00804 fde80001 c0200c 0000fde9 00000001 00000002'));
});

test('attributes: round trip of every attribute, 2- and 4-octet AS paths', () => {
  for (const four of [true, false]) {
    const a: PathAttributes = four ? full : { ...full, asPath: [{ type: 2, asns: [65001, AS_TRANS] }] };
    const w = new BufferWriter();
    encodeAttributes(a, four, w);
    const { attributes, problems } = decodeAttributes(w.toBuffer(), { fourOctetAsn: four, ebgp: false });
    assert.deepEqual(problems, []);
    assert.deepEqual(attributes, a);
  }
});

test('attributes: RFC 7606 decisions', () => {
  const dec = (h: string, ebgp = true) => decodeAttributes(hex(h), { fourOctetAsn: true, ebgp }).problems.map((p) => `${p.action}:${p.subcode}`);
  assert.deepEqual(dec('40010103'), ['treat-as-withdraw:6']); // ORIGIN 3
  assert.deepEqual(dec('4001020000'), ['treat-as-withdraw:5']); // ORIGIN length 2
  assert.deepEqual(dec('80010100'), ['treat-as-withdraw:4']); // ORIGIN flagged optional
  assert.deepEqual(dec('4002 03 050100'), ['treat-as-withdraw:11']); // AS_PATH bad segment type
  assert.deepEqual(dec('40030300000a'), ['treat-as-withdraw:5']); // NEXT_HOP length 3
  assert.deepEqual(dec('40050400000064'), ['attribute-discard:1']); // LOCAL_PREF from eBGP
  assert.deepEqual(dec('40060100'), ['attribute-discard:5']); // ATOMIC_AGGREGATE with a value
  assert.deepEqual(dec('c00803010203'), ['treat-as-withdraw:5']); // COMMUNITIES not a multiple of 4
  assert.deepEqual(dec('c02004 00000001'), ['treat-as-withdraw:5']); // LARGE_COMMUNITY not a multiple of 12
  assert.deepEqual(dec('c01103 020100'), ['attribute-discard:11']); // AS4_PATH segment overrun
  assert.deepEqual(dec('4063 00'), ['session-reset:2']); // unrecognized well-known
  assert.deepEqual(dec('c0630100'), []); // unknown optional transitive: kept
  assert.deepEqual(dec('40010100 40010100'), ['attribute-discard:1']); // repeated
  assert.deepEqual(dec('800e 05 0002 01 10 00'), ['session-reset:9']); // MP_REACH next hop overrun
  assert.deepEqual(dec('800f03000201 800f03000201'), ['session-reset:1']); // repeated MP_UNREACH
  assert.deepEqual(dec('400105'), ['treat-as-withdraw:5']); // attribute overruns the field
});

test('UPDATE: IPv4 announce and withdraw byte vector, round trip', () => {
  const u = { withdrawn: [pfx('10.0.0.0/8')], attributes: { origin: 0, asPath: [{ type: 2, asns: [65001] }], nextHop: ip('192.0.2.1'), other: [] }, nlri: [pfx('203.0.113.0/24'), pfx('198.51.100.7/32')] };
  const bytes = encodeUpdate(u, true);
  assert.deepEqual(bytes, hex(`${marker} 0036 02 0002 080a 0014 40010100 4002 06 0201 0000fde9 400304 c0000201 18cb0071 20c6336407`));
  const d = decodeUpdate(bytes.subarray(19), ctx);
  assert.deepEqual({ withdrawn: d.withdrawn, attributes: d.attributes, nlri: d.nlri }, u);
  assert.deepEqual(d.problems, []);
});

test('UPDATE: MP_REACH with IPv6 global + link-local next hop, MP_UNREACH, ADD-PATH ids', () => {
  const reach = { withdrawn: [], nlri: [], attributes: { origin: 0, asPath: [], other: [], mpReach: { afi: 2, safi: 1, nextHops: [ip('2001:db8::1'), ip('fe80::1')], nlri: [pfx('2001:db8:1::/48')] } } };
  const d = decodeUpdate(encodeUpdate(reach, true).subarray(19), { fourOctetAsn: true, ebgp: true });
  assert.deepEqual(d.attributes, reach.attributes);
  assert.deepEqual(d.problems, []);
  const un = { withdrawn: [], nlri: [], attributes: { other: [], mpUnreach: { afi: 2, safi: 1, withdrawn: [{ ...pfx('2001:db8::5/128'), pathId: 1 }] } } };
  const d2 = decodeUpdate(encodeUpdate(un, true).subarray(19), { fourOctetAsn: true, ebgp: true, addPathReceive: [6] });
  assert.deepEqual(d2.attributes, un.attributes);
});

test('UPDATE: End-of-RIB markers (RFC 4724 §2)', () => {
  assert.deepEqual(encodeEndOfRib(4), hex(`${marker} 0017 02 0000 0000`));
  assert.deepEqual(encodeEndOfRib(6), hex(`${marker} 001d 02 0000 0006 800f03 0002 01`));
  assert.equal(decodeUpdate(encodeEndOfRib(4).subarray(19), ctx).endOfRib, 4);
  assert.equal(decodeUpdate(encodeEndOfRib(6).subarray(19), ctx).endOfRib, 6);
});

test('UPDATE: structural errors reset the session; missing well-known attributes are treat-as-withdraw', () => {
  assert.throws(() => decodeUpdate(hex('0005 00 0000'), ctx), (e: BgpError) => e.code === 3 && e.subcode === 1);
  assert.throws(() => decodeUpdate(hex('0000 0009 40010100'), ctx), (e: BgpError) => e.code === 3 && e.subcode === 1);
  assert.throws(() => decodeUpdate(hex('0000 0000 21 0a000000 00'), ctx), (e: BgpError) => e.code === 3 && e.subcode === 10);
  assert.throws(() => decodeUpdate(hex('0000 0000 18 0a00'), ctx), (e: BgpError) => e.code === 3 && e.subcode === 10);
  const d = decodeUpdate(hex('0000 0004 40010100 18cb0071'), ctx);
  assert.deepEqual(d.problems.map((p) => [p.action, p.subcode, p.data?.[0]]), [['treat-as-withdraw', 3, 2], ['treat-as-withdraw', 3, 3]]);
});

test('NLRI: host bits are cleared; wire form has only significant bytes', () => {
  assert.deepEqual(prefixWire(parsePrefix('10.1.2.0/23')!.prefix), hex('170a0102'));
  assert.deepEqual(prefixWire(parsePrefix('0.0.0.0/0')!.prefix), hex('00'));
  const d = decodeUpdate(hex('0000 0000 17 0a0103'), ctx);
  assert.equal(d.nlri[0]!.prefix.network, 0x0a010200n);
});

test('NOTIFICATION, shutdown communication (RFC 9003), ROUTE-REFRESH', () => {
  const n = encodeNotification({ code: 6, subcode: 2, data: shutdownCommunication('bye') });
  assert.deepEqual(n, hex(`${marker} 0019 03 06 02 03 627965`));
  const d = decodeNotification(n.subarray(19));
  assert.equal(notificationText(d), 'Cease / Administrative Shutdown: "bye"');
  assert.equal(describeNotification(3, 11), 'UPDATE Message Error / Malformed AS_PATH');
  assert.equal(describeNotification(4, 0), 'Hold Timer Expired');
  const rr = encodeRouteRefresh({ afi: 2, subtype: 0, safi: 1 });
  assert.deepEqual(rr, hex(`${marker} 0017 05 0002 00 01`));
  assert.deepEqual(decodeRouteRefresh(rr.subarray(19)), { afi: 2, subtype: 0, safi: 1 });
});

test('framing: whole messages across chunk boundaries, remainder kept', () => {
  const f = new MessageFramer();
  const stream = Buffer.concat([KEEPALIVE, encodeEndOfRib(4), KEEPALIVE]);
  const got: number[] = [];
  for (let i = 0; i < stream.length; i += 7) {
    f.push(stream.subarray(i, i + 7));
    for (let m = f.next(); m; m = f.next()) got.push(m.type);
  }
  assert.deepEqual(got, [4, 2, 4]);
  assert.equal(f.buffered, 0);
});

test('framing: header errors (RFC 4271 §6.1)', () => {
  const err = (b: Buffer, max?: number) => { const f = new MessageFramer(); if (max) f.maxLength = max; f.push(b); try { f.next(); return 'ok'; } catch (e) { return `${(e as BgpError).code}/${(e as BgpError).subcode}/${(e as BgpError).data.toString('hex')}`; } };
  assert.equal(err(hex(`${'ff'.repeat(15)}00 0013 04`)), '1/1/');
  assert.equal(err(hex(`${marker} 0012 04`)), '1/2/0012');
  assert.equal(err(hex(`${marker} 0014 04 00`)), '1/2/0014');
  assert.equal(err(hex(`${marker} 1001 02`)), '1/2/1001');
  assert.equal(err(hex(`${marker} 1001 02`), 65535), 'ok');
  assert.equal(err(hex(`${marker} 0013 07`)), '1/3/07');
  assert.equal(err(hex(`${marker} 0014 03 06`)), '1/2/0014');
  assert.equal(err(hex(`${marker} 1001 01`), 65535), '1/2/1001');
});

test('decodeMessage dispatches on the type', () => {
  const f = new MessageFramer();
  f.push(encodeRouteRefresh({ afi: 1, subtype: 0, safi: 1 }));
  assert.equal(decodeMessage(f.next()!, ctx).type, 'route-refresh');
});

test('captures from FRR, BIRD, GoBGP and ExaBGP decode cleanly', async () => {
  const { readdirSync, readFileSync } = await import('node:fs');
  const dir = new URL('../../test/fixtures/bgp/', import.meta.url).pathname;
  const names = readdirSync(dir).filter((n) => n.endsWith('.bin'));
  assert.ok(names.length >= 4, names.join());
  for (const n of names) {
    const f = new MessageFramer();
    f.push(readFileSync(dir + n));
    const kinds: string[] = [];
    for (let m = f.next(); m; m = f.next()) {
      const d = decodeMessage(m, { fourOctetAsn: true, ebgp: true });
      if (d.type === 'update') assert.deepEqual(d.update.problems, [], n);
      kinds.push(d.type);
    }
    assert.equal(f.buffered, 0, n);
    assert.equal(kinds[0], 'open', n);
    assert.ok(kinds.includes('keepalive'), n);
  }
});
