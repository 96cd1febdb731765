// ironlb ↔ OpenBGPD: eBGP and iBGP, 4-byte ASNs, IPv4 and IPv6, every attribute, checked in
// bgpd's RIB. OpenBGPD enforces neighbor-as: an AS_PATH whose leftmost AS is not ironlb's is
// refused with NOTIFICATION 3/11, so the prepend with a foreign ASN in the shared scenario checks
// the order on the wire. Then a 2-octet-only neighbor (RFC 6793 OLD speaker): AS_TRANS in the
// OPEN and AS_PATH, AS4_PATH merged on both sides.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { UpdateEvent } from '../../src/bgp/speaker.ts';
import { ReceivedRoutes } from '../../src/bgp/received-routes.ts';
import { OpenbgpdDaemon, waitFor } from './harness/index.ts';
import { DAEMON_ASN, EBGP_ASN, InteropRun, type SessionSpec, comm, expectedRoutes, peerConfig, pfx, waitEstablished, waitForRib } from './scenario.ts';

const OLD_LOCAL_AS = 64512;
const old: SessionSpec = { id: 'obgp-old', local: '127.0.44.13', myAsn: 4200000003, peerAsn: OLD_LOCAL_AS, nextHopV6: '2001:db8:44::13' };

describe('ironlb and OpenBGPD', { timeout: 150000 }, () => {
  let bgpd!: OpenbgpdDaemon;
  const run = new InteropRun({
    sessions: {
      ebgp: { id: 'obgp-e', local: '127.0.44.11', myAsn: EBGP_ASN, peerAsn: DAEMON_ASN, nextHopV6: '2001:db8:44::11' },
      ibgp: { id: 'obgp-i', local: '127.0.44.12', myAsn: DAEMON_ASN, peerAsn: DAEMON_ASN, nextHopV6: '2001:db8:44::12' },
    },
    makeDaemon: (sessions) => {
      bgpd = new OpenbgpdDaemon({ name: 'bgp', address: '127.0.44.1', port: 18121, asn: DAEMON_ASN, neighbors: [
        ...sessions.map((s) => ({ address: s.local, asn: s.myAsn })),
        { address: old.local, asn: old.myAsn },
      ] }, { twoOctet: { [old.local]: OLD_LOCAL_AS } });
      return bgpd;
    },
    quirks: { ebgpLocalPref: 100, absentMed: 0 },
  });
  before(() => run.setUp());
  after(() => run.tearDown());

  test('every route arrives with exactly the expected attributes (own AS leftmost, enforce neighbor-as)', async () => {
    await run.announceAll();
    const e = await bgpd.neighbor(run.ebgp.local);
    assert.equal((e?.stats as { message?: { received?: { notifications?: number } } } | undefined)?.message?.received?.notifications ?? 0, 0);
    assert.equal(run.speaker.peerState(run.ebgp.id)?.received.notification, 0, 'OpenBGPD refused nothing');
  });
  test('withdrawals and attribute changes reach the RIB', () => run.withdrawSome());
  test('after an OpenBGPD restart ironlb reconnects and sends the full table', () => run.peerRestart());

  test('a 2-octet-only neighbor: AS_TRANS, AS4_PATH, the real path in its RIB and in ours', async () => {
    const rx = new ReceivedRoutes();
    run.speaker.on('update', (e: UpdateEvent) => { if (e.peerId === old.id) rx.apply(e.update); });
    const routes = [
      { prefix: pfx('198.51.100.44/32'), attributes: { communities: [comm('65000:44')], asPrepend: { count: 2, asn: 65099 } } },
      { prefix: pfx('2001:db8:100::44/128'), attributes: { communities: [] } },
    ];
    run.speaker.addPeer(peerConfig(bgpd, old));
    run.speaker.setRoutes(old.id, routes);
    await waitEstablished(bgpd, [old.local]);
    const caps = ((await bgpd.neighbor(old.local))?.session as { capabilities?: { as4byte?: boolean } } | undefined)?.capabilities;
    assert.equal(caps?.as4byte, false, 'OpenBGPD negotiated no 4-octet ASNs');
    assert.equal(run.speaker.peerState(old.id)?.negotiated?.fourOctetAsn, false);
    await waitForRib(bgpd, [old.local], expectedRoutes(routes, old, { ebgpLocalPref: 100, absentMed: 0 }));
    const got = (await bgpd.routes()).filter((r) => r.from === old.local).map((r) => r.asPath);
    assert.deepEqual(got, [[4200000003, 65099, 65099], [4200000003]], 'AS4_PATH merged back by OpenBGPD');
    // bgpd passes on the eBGP session's routes; its AS_PATH says AS_TRANS, AS4_PATH the real ASN.
    run.speaker.setRoutes(run.ebgp.id, [{ prefix: pfx('198.51.100.45/32'), attributes: { communities: [] } }]);
    const seen = await waitFor('the eBGP route, passed on to the 2-octet neighbor', async () => rx.routes.get('198.51.100.45/32'));
    assert.deepEqual(seen.asPath, [{ type: 2, asns: [OLD_LOCAL_AS, EBGP_ASN] }]);
    await run.speaker.removePeer(old.id);
  });
});
