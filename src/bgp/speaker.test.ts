// Two BgpSpeakers talking over loopback with plainTransport.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIp, parseIp } from '../net/ip.ts';
import { parsePrefix } from '../net/prefix.ts';
import { parseCommunity } from '../net/community.ts';
import { BgpSpeaker, type PeerConfig, type StateChangeEvent, type UpdateEvent } from './speaker.ts';
import { ReceivedRoutes } from './received-routes.ts';
import type { Route, RouteAttributes } from './route.ts';
import type { MpReach } from './attributes.ts';
import { plainTransport } from './transport.ts';
import { until } from '../../test/fakes/until.ts';

const ip = (s: string) => parseIp(s)!;
const pfx = (s: string) => parsePrefix(s)!.prefix;

interface Pair { a: BgpSpeaker; b: BgpSpeaker; rx: ReceivedRoutes; port: number; close(): Promise<void> }

/** a (ASN 65001) connects to b's listener (b's peer entry for a is passive). */
async function pair(port: number, opts: { ibgp?: boolean; gr?: boolean; hold?: number; aAsn?: number } = {}): Promise<Pair> {
  const aAsn = opts.aAsn ?? 65001;
  const bAsn = opts.ibgp ? aAsn : 65002;
  const b = new BgpSpeaker({ listen: { host: '127.0.0.1', port } });
  await b.start();
  const rx = new ReceivedRoutes();
  b.on('update', (e: UpdateEvent) => rx.apply(e.update));
  const common = { holdTimeSeconds: opts.hold ?? 9, ebgpMultiHop: false, connectRetrySeconds: 1, ...(opts.gr ? { gracefulRestart: { restartTimeSeconds: 120 } } : {}) };
  b.addPeer({ id: 'a', peerAddress: ip('127.0.0.1'), peerPort: 0, myAsn: bAsn, peerAsn: aAsn, routerId: ip('10.0.0.2'), passive: true, ...common });
  const a = new BgpSpeaker();
  a.addPeer({ id: 'b', peerAddress: ip('127.0.0.1'), peerPort: port, myAsn: aAsn, peerAsn: bAsn, routerId: ip('10.0.0.1'), ...common });
  const result: Pair = { a, b, rx, port, close: async () => { await result.a.close(); await result.b.close(); } };
  return result;
}

const attrs = (extra: Partial<RouteAttributes> = {}): RouteAttributes => ({ communities: [], ...extra });

test('two speakers reach Established and exchange routes, v4 and v6, with attributes', async () => {
  const p = await pair(17901);
  try {
    await until(() => p.a.peerState('b')?.state === 'Established' && p.b.peerState('a')?.state === 'Established', 'Established');
    const st = p.a.peerState('b')!;
    assert.equal(st.negotiated?.fourOctetAsn, true);
    assert.deepEqual(st.negotiated?.families, ['ipv4', 'ipv6']);
    assert.equal(st.negotiated?.holdTime, 9);
    assert.equal(st.negotiated?.keepaliveTime, 3);
    await until(() => p.rx.endOfRib.has(4) && p.rx.endOfRib.has(6), 'End-of-RIB for both families');
    const comms = [parseCommunity('65000:1').community!, parseCommunity('large:1:2:3').community!];
    const routes: Route[] = [
      { prefix: pfx('192.0.2.1/32'), attributes: attrs({ med: 5, communities: comms, asPrepend: { count: 2 } }) },
      { prefix: pfx('192.0.2.2/32'), attributes: attrs() },
      { prefix: pfx('2001:db8::1/128'), attributes: attrs({ communities: comms }) },
    ];
    p.a.setRoutes('b', routes);
    await until(() => p.rx.routes.size === 3, '3 routes');
    const r1 = p.rx.routes.get('192.0.2.1/32')!;
    assert.deepEqual(r1.asPath, [{ type: 2, asns: [65001, 65001, 65001] }]);
    assert.equal(r1.med, 5);
    assert.equal(r1.localPref, undefined);
    assert.deepEqual(r1.communities, [65000 * 65536 + 1]);
    assert.deepEqual(r1.largeCommunities, [{ global: 1, local1: 2, local2: 3 }]);
    assert.equal(formatIp(r1.nextHop!), '127.0.0.1');
    const r6 = p.rx.routes.get('2001:db8::1/128')!;
    assert.equal(formatIp(r6.nextHop!), '::ffff:7f00:1');
    // Only the difference goes out: drop one, change another.
    const before = p.a.peerState('b')!.sent.update;
    p.a.setRoutes('b', [routes[0]!, { prefix: pfx('2001:db8::1/128'), attributes: attrs({ med: 7, communities: [] }) }]);
    await until(() => p.rx.routes.size === 2 && p.rx.routes.get('2001:db8::1/128')?.med === 7, 'withdrawal and change');
    assert.equal(p.rx.routes.has('192.0.2.2/32'), false);
    await until(() => p.a.peerState('b')!.sent.update - before === 2, 'two UPDATEs (one withdrawal, one announcement)');
    assert.equal(p.a.peerState('b')!.advertisedRoutes, 2);
  } finally { await p.close(); }
});

test('iBGP sends LOCAL_PREF and no own ASN; 4-octet ASN', async () => {
  const p = await pair(17902, { ibgp: true, aAsn: 4200000001 });
  try {
    p.a.setRoutes('b', [{ prefix: pfx('198.51.100.0/24'), attributes: attrs({ localPref: 200, asPrepend: { count: 1 } }) }]);
    await until(() => p.rx.routes.size === 1, 'route');
    const r = p.rx.routes.get('198.51.100.0/24')!;
    assert.equal(r.localPref, 200);
    assert.deepEqual(r.asPath, [{ type: 2, asns: [4200000001] }]);
  } finally { await p.close(); }
});

test('restart of the sender: full table resent, then End-of-RIB; close() withdraws', async () => {
  const p = await pair(17903, { gr: true });
  try {
    const routes: Route[] = [];
    for (let i = 0; i < 3000; i++) routes.push({ prefix: pfx(`10.${i >> 8}.${i & 255}.0/24`), attributes: attrs({ med: i % 3 }) });
    p.a.setRoutes('b', routes);
    await until(() => p.rx.routes.size === 3000 && p.rx.endOfRib.has(4), 'full table');
    assert.equal(p.b.peerState('a')!.negotiated?.gracefulRestart, true);
    // 3000 /24s in 3 attribute sets: packed, so far fewer UPDATEs than prefixes.
    assert.ok(p.a.peerState('b')!.sent.update < 20, `sent ${p.a.peerState('b')!.sent.update} UPDATEs`);
    const states: string[] = [];
    p.b.on('state', (e: StateChangeEvent) => states.push(e.to));
    await p.a.close({ graceful: true });
    await until(() => p.b.peerState('a')?.state !== 'Established', 'b notices');
    p.rx.clear();
    const a2 = new BgpSpeaker();
    a2.addPeer({ id: 'b', peerAddress: ip('127.0.0.1'), peerPort: 17903, myAsn: 65001, peerAsn: 65002, routerId: ip('10.0.0.1'), holdTimeSeconds: 9, ebgpMultiHop: false, gracefulRestart: { restartTimeSeconds: 120 } });
    a2.setRoutes('b', routes.slice(0, 1000));
    p.a = a2;
    await until(() => p.rx.endOfRib.has(4) && p.rx.endOfRib.has(6), 'End-of-RIB after restart');
    assert.equal(p.rx.routes.size, 1000);
    assert.ok(states.includes('Established'));
    await a2.close();
    await until(() => p.rx.routes.size === 0, 'withdrawal of everything on close');
  } finally { await p.close(); }
});

test('listener refuses connections from unknown addresses', async () => {
  const b = new BgpSpeaker({ listen: { host: '127.0.0.1', port: 17904 } });
  await b.start();
  const a = new BgpSpeaker();
  const seen: string[] = [];
  a.on('state', (e: StateChangeEvent) => seen.push(`${e.to}:${e.reason}`));
  const cfg: PeerConfig = { id: 'b', peerAddress: ip('127.0.0.1'), peerPort: 17904, localAddress: ip('127.0.0.5'), myAsn: 1, peerAsn: 2, routerId: ip('1.1.1.1'), holdTimeSeconds: 3, ebgpMultiHop: false, connectRetrySeconds: 1 };
  a.addPeer(cfg);
  try {
    await until(() => seen.some((s) => s.startsWith('Idle')), 'the connection to be dropped');
    assert.notEqual(a.peerState('b')!.state, 'Established');
  } finally { await a.close(); await b.close(); }
});

test('both sides connect at once: collision resolved by BGP identifier, one session survives', async () => {
  const mk = (me: string, other: string, id: string, asn: number, peerAsn: number) => {
    const s = new BgpSpeaker({ listen: { host: me, port: 17905 } });
    return { s, cfg: { id: 'x', peerAddress: ip(other), peerPort: 17905, localAddress: ip(me), myAsn: asn, peerAsn, routerId: ip(id), holdTimeSeconds: 9, ebgpMultiHop: false, connectRetrySeconds: 1 } satisfies PeerConfig };
  };
  const a = mk('127.0.0.1', '127.0.0.2', '10.0.0.1', 65001, 65002);
  const b = mk('127.0.0.2', '127.0.0.1', '10.0.0.2', 65002, 65001);
  const ceases: string[] = [];
  for (const x of [a, b]) x.s.on('notification', (e: { direction: string; code: number; subcode: number }) => ceases.push(`${e.direction}:${e.code}/${e.subcode}`));
  try {
    await a.s.start();
    await b.s.start();
    a.s.addPeer(a.cfg);
    b.s.addPeer(b.cfg);
    await until(() => a.s.peerState('x')?.state === 'Established' && b.s.peerState('x')?.state === 'Established', 'Established');
    await new Promise((r) => setTimeout(r, 300));
    const na = a.s.peerState('x')!.negotiated!;
    const nb = b.s.peerState('x')!.negotiated!;
    assert.equal(a.s.peerState('x')!.state, 'Established');
    // Both ends see the same single connection.
    assert.ok(na.localPort === 17905 || nb.localPort === 17905);
    // Both connections were opened in the same tick, so both reached OpenSent: a collision.
    assert.ok(ceases.includes('sent:6/7'), ceases.join());
    // B (10.0.0.2) has the higher identifier: the connection B initiated survives (A's listener side).
    assert.equal(na.localPort, 17905);
    assert.notEqual(nb.localPort, 17905);
  } finally { await a.s.close(); await b.s.close(); }
});

test('receiver restart: the sender reconnects and resends the full table then End-of-RIB', async () => {
  const p = await pair(17906);
  try {
    const routes: Route[] = [];
    for (let i = 0; i < 500; i++) routes.push({ prefix: pfx(`2001:db8:${i.toString(16)}::/48`), attributes: attrs() });
    p.a.setRoutes('b', routes);
    await until(() => p.rx.routes.size === 500, 'first table');
    await p.b.close({ graceful: true });
    await until(() => p.a.peerState('b')?.state !== 'Established', 'a notices the loss');
    assert.equal(p.a.peerState('b')!.advertisedRoutes, 0);
    const b2 = new BgpSpeaker({ listen: { host: '127.0.0.1', port: 17906 } });
    await b2.start();
    const rx2 = new ReceivedRoutes();
    b2.on('update', (e: UpdateEvent) => rx2.apply(e.update));
    b2.addPeer({ id: 'a', peerAddress: ip('127.0.0.1'), peerPort: 0, myAsn: 65002, peerAsn: 65001, routerId: ip('10.0.0.2'), passive: true, holdTimeSeconds: 9, ebgpMultiHop: false });
    p.b = b2;
    await until(() => rx2.endOfRib.has(4) && rx2.endOfRib.has(6), 'End-of-RIB from the reconnected sender');
    assert.equal(rx2.routes.size, 500);
    assert.equal(p.a.peerState('b')!.advertisedRoutes, 500);
  } finally { await p.close(); }
});

test('updatePeer restarts the session with Cease 6/6; removePeer sends Cease 6/3', async () => {
  const p = await pair(17907);
  const seen: string[] = [];
  p.b.on('notification', (e: { direction: string; code: number; subcode: number }) => seen.push(`${e.direction}:${e.code}/${e.subcode}`));
  try {
    await until(() => p.a.peerState('b')?.state === 'Established', 'Established');
    p.a.updatePeer({ id: 'b', peerAddress: ip('127.0.0.1'), peerPort: 17907, myAsn: 65001, peerAsn: 65002, routerId: ip('10.0.0.1'), holdTimeSeconds: 30, ebgpMultiHop: false, connectRetrySeconds: 1 });
    await until(() => seen.includes('received:6/6'), 'Cease 6/6 at b');
    await until(() => p.a.peerState('b')?.state === 'Established' && p.a.peerState('b')?.negotiated?.holdTime === 9, 'Established again');
    await p.a.removePeer('b');
    await until(() => seen.includes('received:6/3'), 'Cease 6/3 at b');
    assert.equal(p.a.peerState('b'), undefined);
  } finally { await p.close(); }
});

test('invalid peer settings are refused with the field named', () => {
  const s = new BgpSpeaker();
  const base: PeerConfig = { id: 'p', peerAddress: ip('127.0.0.1'), peerPort: 179, myAsn: 1, peerAsn: 2, routerId: ip('1.1.1.1'), holdTimeSeconds: 90, ebgpMultiHop: false };
  assert.throws(() => s.addPeer({ ...base, holdTimeSeconds: 2 }), /BGP peer "p": holdTimeSeconds must be 0 or 3\.\.65535/);
  assert.throws(() => s.addPeer({ ...base, myAsn: 0 }), /myAsn/);
  assert.throws(() => s.addPeer({ ...base, routerId: ip('::1') }), /routerId must be a non-zero IPv4 address/);
  assert.throws(() => s.addPeer({ ...base, nextHopV6: ip('10.0.0.1') }), /nextHopV6/);
  assert.throws(() => s.addPeer({ ...base, nextHopV6LinkLocal: ip('2001:db8::1') }), /nextHopV6LinkLocal must be an IPv6 link-local/);
  assert.deepEqual(s.peerIds(), []);
});

test('an IPv6 session: IPv6 next hop is the local address; IPv4 routes need a configured next hop', async () => {
  const b = new BgpSpeaker({ listen: { host: '::1', port: 17909 } });
  await b.start();
  const rx = new ReceivedRoutes();
  let lastReach: MpReach | undefined;
  b.on('update', (e: UpdateEvent) => { rx.apply(e.update); lastReach = e.update.attributes.mpReach ?? lastReach; });
  b.addPeer({ id: 'a', peerAddress: ip('::1'), peerPort: 0, myAsn: 65002, peerAsn: 65001, routerId: ip('10.0.0.2'), passive: true, holdTimeSeconds: 9, ebgpMultiHop: false });
  const a = new BgpSpeaker();
  const warnings: string[] = [];
  const a2 = new BgpSpeaker({ logger: { debug: () => undefined, info: () => undefined, warn: (_o, m) => warnings.push(m ?? '') } });
  try {
    a.addPeer({ id: 'b', peerAddress: ip('::1'), peerPort: 17909, myAsn: 65001, peerAsn: 65002, routerId: ip('10.0.0.1'), holdTimeSeconds: 9, ebgpMultiHop: false, nextHop: ip('192.0.2.1'), nextHopV6LinkLocal: ip('fe80::1') });
    a.setRoutes('b', [{ prefix: pfx('2001:db8::/64'), attributes: attrs() }, { prefix: pfx('192.0.2.128/25'), attributes: attrs() }]);
    await until(() => rx.routes.size === 2, 'both routes');
    assert.equal(formatIp(rx.routes.get('2001:db8::/64')!.nextHop!), '::1');
    assert.deepEqual(lastReach?.nextHops.map(formatIp), ['::1', 'fe80::1']);
    assert.equal(formatIp(rx.routes.get('192.0.2.128/25')!.nextHop!), '192.0.2.1');
    await a.close();
    // Without a configured IPv4 next hop, the IPv4 route is held back with a warning.
    rx.clear();
    a2.addPeer({ id: 'b', peerAddress: ip('::1'), peerPort: 17909, myAsn: 65001, peerAsn: 65002, routerId: ip('10.0.0.1'), holdTimeSeconds: 9, ebgpMultiHop: false });
    a2.setRoutes('b', [{ prefix: pfx('2001:db8::/64'), attributes: attrs() }, { prefix: pfx('192.0.2.128/25'), attributes: attrs() }]);
    await until(() => rx.endOfRib.has(4) && rx.endOfRib.has(6), 'End-of-RIB');
    assert.deepEqual([...rx.routes.keys()], ['2001:db8::/64']);
    assert.ok(warnings.some((w) => w.includes('no next hop')), warnings.join());
  } finally { await a.close(); await a2.close(); await b.close(); }
});

test('a transport that cannot set an MD5 password reports an error event', async () => {
  const s = new BgpSpeaker({ transport: plainTransport });
  const errors: string[] = [];
  s.on('error', (e: { peerId: string; error: Error }) => errors.push(`${e.peerId}: ${e.error.message}`));
  s.addPeer({ id: 'p', peerAddress: ip('127.0.0.1'), peerPort: 17999, myAsn: 1, peerAsn: 2, routerId: ip('1.1.1.1'), holdTimeSeconds: 90, ebgpMultiHop: false, password: 'x' });
  try {
    await until(() => errors.length > 0, 'error event');
    assert.match(errors[0]!, /^p: TCP MD5 passwords need the native transport/);
    assert.match(s.peerState('p')!.lastError ?? '', /MD5/);
  } finally { await s.close(); }
});
