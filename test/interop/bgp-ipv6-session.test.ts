// ironlb ↔ FRR over an IPv6 TCP session, each in its own network namespace joined by a veth pair
// (harness6/lab.ts): ironlb's BgpSpeaker runs in an agent process inside the node namespace with
// the native transport. eBGP, 4-byte ASNs, TCP MD5 over IPv6, /128 and /64 prefixes with the
// session's global IPv6 next hop, communities and large communities, checked in FRR's RIB; then
// withdrawals; a wrong MD5 key; then the hop limit: single-hop eBGP establishes across one hop
// but not across two (so ironlb really sends hop limit 1), and ebgpMultiHop (255) crosses the
// two. The same routes, over an MD5-signed IPv6 session, reach BIRD 2 in a namespace of its own.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sleep } from './harness/index.ts';
import { BgpAgent, type PeerSpec, type RouteSpec, route } from './harness6/agent-client.ts';
import { Lab6, NetnsBirdDaemon, NetnsFrrDaemon, addr, requireNetns } from './harness6/lab.ts';
import { type SessionSpec, canonical, expectedRoutes, ribFrom, waitEstablished, waitForRib } from './scenario.ts';

const FRR_ASN = 4200000160;
const NODE_ASN = 4200000061;
const FAR_ASN = 4200000062;
const BIRD_ASN = 4200000170;
const MD5 = 'ilb6-md5-key';

const direct: PeerSpec = {
  id: 'v6-direct', peerAddress: addr.routerDirect, peerPort: 179, localAddress: addr.nodeDirect,
  myAsn: NODE_ASN, peerAsn: FRR_ASN, routerId: '10.6.0.2', ebgpMultiHop: false, password: MD5,
};
const far: PeerSpec = {
  id: 'v6-far', peerAddress: addr.routerFar, peerPort: 179, localAddress: addr.nodeFar,
  myAsn: FAR_ASN, peerAsn: FRR_ASN, routerId: '10.6.0.3', ebgpMultiHop: false,
};
const toBird: PeerSpec = {
  id: 'v6-bird', peerAddress: addr.bird, peerPort: 179, localAddress: addr.nodeBird,
  myAsn: NODE_ASN, peerAsn: BIRD_ASN, routerId: '10.6.0.2', ebgpMultiHop: false, password: MD5,
};
// What the router must see: the IPv6 global next hop is the session's own local address.
const seen = (p: PeerSpec): SessionSpec => ({ id: p.id, local: p.localAddress, myAsn: p.myAsn, peerAsn: p.peerAsn, nextHopV6: p.localAddress });

const routes: RouteSpec[] = [
  { prefix: '2001:db8:60::1/128', med: 10, communities: ['65000:61', '65000:62', 'large:4200000061:1:2'], asPrepend: { count: 2 } },
  { prefix: '2001:db8:60::2/128', communities: [] },
  { prefix: '2001:db8:61::/64', communities: ['64512:65281', 'large:1:2:3', 'large:4200000061:7:8'] },
  { prefix: '2001:db8:62::/64', med: 0, communities: ['65000:1'], asPrepend: { count: 1, asn: 4200000077 } },
];
// BIRD gives every eBGP route its default LOCAL_PREF (100) on import.
const expected = (p: PeerSpec, rs: RouteSpec[], ebgpLocalPref?: number) =>
  expectedRoutes(rs.map(route), seen(p), ebgpLocalPref !== undefined ? { ebgpLocalPref } : {});

describe('ironlb and FRR over an IPv6 session, in network namespaces', { timeout: 60000 }, () => {
  const lab = new Lab6();
  let frr: NetnsFrrDaemon | undefined;
  let bird: NetnsBirdDaemon | undefined;
  let agent: BgpAgent | undefined;

  before(async () => {
    requireNetns();
    try {
      await lab.build();
      frr = new NetnsFrrDaemon(lab.router, {
        name: 'ilb6', address: addr.routerDirect, port: 179, asn: FRR_ASN, routerId: '10.6.0.1',
        neighbors: [{ address: direct.localAddress, asn: direct.myAsn, md5: MD5 }, { address: far.localAddress, asn: far.myAsn }],
      }, [` neighbor ${far.localAddress} ebgp-multihop 2`]); // FRR's own replies must cross the hop
      await frr.start();
      bird = new NetnsBirdDaemon(lab.bird, {
        name: 'ilb6', address: addr.bird, port: 179, asn: BIRD_ASN, routerId: '10.6.0.4',
        neighbors: [{ address: toBird.localAddress, asn: toBird.myAsn, md5: MD5 }],
      });
      await bird.start();
      agent = await BgpAgent.start(lab.node);
    } catch (e) {
      await frr?.dispose();
      await bird?.dispose();
      lab.destroy();
      throw e;
    }
  });

  after(async () => {
    await agent?.close().catch(() => undefined);
    await frr?.dispose().catch(() => undefined);
    await bird?.dispose().catch(() => undefined);
    lab.destroy();
  });

  const daemon = (): NetnsFrrDaemon => { assert.ok(frr, 'FRR started'); return frr; };
  const birdd = (): NetnsBirdDaemon => { assert.ok(bird, 'BIRD started'); return bird; };
  const speaker = (): BgpAgent => { assert.ok(agent, 'agent started'); return agent; };

  test('eBGP over IPv6 with MD5 and 4-byte ASNs: /128 and /64 arrive with the global next hop and every community', async () => {
    await speaker().addPeer(direct);
    await speaker().setRoutes(direct.id, routes);
    // FRR holds the key for this neighbor, so the kernel drops any unsigned segment: an
    // established session means ironlb signed its IPv6 segments with MD5.
    await waitEstablished(daemon(), [direct.localAddress]);
    await waitForRib(daemon(), [direct.localAddress], expected(direct, routes));
    const n = await daemon().neighbor(direct.localAddress);
    assert.equal(n?.hostLocal, addr.routerDirect, 'FRR\'s end of the session is IPv6');
    assert.equal(n?.hostForeign, addr.nodeDirect, 'ironlb\'s end of the session is IPv6');
    const caps = n?.neighborCapabilities as Record<string, unknown> | undefined;
    assert.equal(caps?.['4byteAs'], 'advertisedAndReceived');
    const st = await speaker().state(direct.id);
    assert.equal(st?.state, 'Established');
    assert.equal(st?.negotiated?.localAddress, addr.nodeDirect);
  });

  test('withdrawals remove routes from FRR\'s RIB', async () => {
    const keep = routes.filter((r) => r.prefix !== '2001:db8:60::2/128' && r.prefix !== '2001:db8:61::/64');
    await speaker().setRoutes(direct.id, keep);
    await waitForRib(daemon(), [direct.localAddress], expected(direct, keep));
    await speaker().setRoutes(direct.id, []);
    await waitForRib(daemon(), [direct.localAddress], []);
    assert.equal((await daemon().routes()).length, 0, 'no route at all remains');
    assert.equal(await daemon().isEstablished(direct.localAddress), true, 'the session stays up');
  });

  test('MD5 over IPv6: a wrong key gets no session; the right key gets it back, with the full table', async () => {
    await speaker().setRoutes(direct.id, routes);
    await waitForRib(daemon(), [direct.localAddress], expected(direct, routes));
    await speaker().updatePeer({ ...direct, password: 'not-the-key' }); // new session (Cease 6/6)
    await waitForRib(daemon(), [direct.localAddress], []);
    await sleep(3000); // several connect attempts (retry 1 s), each dropped by FRR's kernel
    assert.equal(await daemon().isEstablished(direct.localAddress), false, 'segments signed with the wrong key are dropped');
    assert.notEqual((await speaker().state(direct.id))?.state, 'Established');
    await speaker().updatePeer(direct);
    await waitEstablished(daemon(), [direct.localAddress]);
    await waitForRib(daemon(), [direct.localAddress], expected(direct, routes));
  });

  test('hop limit: single-hop eBGP does not cross a router (hop limit 1), ebgpMultiHop does', async () => {
    const one: RouteSpec[] = [{ prefix: '2001:db8:63::/64', communities: ['65000:63', 'large:4200000062:0:1'] }];
    await speaker().addPeer(far);
    await speaker().setRoutes(far.id, one);
    await sleep(3500); // several connect attempts (retry 1 s)
    assert.equal(await daemon().isEstablished(far.localAddress), false, 'hop limit 1 expires at the router in between');
    assert.notEqual((await speaker().state(far.id))?.state, 'Established');
    await speaker().updatePeer({ ...far, ebgpMultiHop: true });
    await waitEstablished(daemon(), [far.localAddress]);
    await waitForRib(daemon(), [far.localAddress], expected(far, one));
    await speaker().removePeer(far.id);
    await waitForRib(daemon(), [far.localAddress], []);
    // The direct session was never disturbed by the other peer.
    assert.equal(canonical(await ribFrom(daemon(), [direct.localAddress])), canonical(expected(direct, routes)));
    assert.equal(await daemon().isEstablished(direct.localAddress), true);
  });

  test('BIRD: the same routes over an MD5-signed IPv6 session, then withdrawn', async () => {
    await speaker().addPeer(toBird);
    await speaker().setRoutes(toBird.id, routes);
    await waitEstablished(birdd(), [toBird.localAddress]);
    await waitForRib(birdd(), [toBird.localAddress], expected(toBird, routes, 100));
    const keep = routes.filter((r) => r.prefix.endsWith('/64'));
    await speaker().setRoutes(toBird.id, keep);
    await waitForRib(birdd(), [toBird.localAddress], expected(toBird, keep, 100));
    await speaker().setRoutes(toBird.id, []);
    await waitForRib(birdd(), [toBird.localAddress], []);
    assert.equal((await birdd().routes()).length, 0, 'no route at all remains');
  });

  test('no NOTIFICATION from either router and no transport error along the way', () => {
    const ev = speaker().events;
    assert.deepEqual(ev.filter((e) => e.ev === 'error'), [], 'the native transport served every peer (MD5 over IPv6, hop limit)');
    assert.deepEqual(ev.filter((e) => e.ev === 'notification' && e['direction'] === 'received'), []);
    // Only the two deliberate Ceases: the key change (6/6) and the removed peer (6/3).
    assert.deepEqual(ev.filter((e) => e.ev === 'notification').map((e) => `${e.peerId} ${String(e['code'])}/${String(e['subcode'])}`).sort(),
      [`${direct.id} 6/6`, `${far.id} 6/3`]);
  });
});
