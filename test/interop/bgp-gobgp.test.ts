// ironlb ↔ GoBGP: eBGP with TCP MD5 and iBGP, 4-byte ASNs, IPv4 and IPv6, every attribute,
// checked in GoBGP's RIB. GoBGP rejects loopback next hops ("invalid nexthop address"), so the
// IPv4 next hops are configured ones (PeerConfig.nextHop), which this also tests.
import { after, before, describe, test } from 'node:test';
import { GobgpDaemon } from './harness/index.ts';
import { DAEMON_ASN, EBGP_ASN, InteropRun } from './scenario.ts';

describe('ironlb and GoBGP', { timeout: 120000 }, () => {
  const run = new InteropRun({
    sessions: {
      ebgp: { id: 'gobgp-e', local: '127.0.44.11', myAsn: EBGP_ASN, peerAsn: DAEMON_ASN, md5: 'gobgp-md5-key', nextHop: '192.0.2.11', nextHopV6: '2001:db8:44::11' },
      ibgp: { id: 'gobgp-i', local: '127.0.44.12', myAsn: DAEMON_ASN, peerAsn: DAEMON_ASN, nextHop: '192.0.2.12', nextHopV6: '2001:db8:44::12' },
    },
    makeDaemon: (sessions) => new GobgpDaemon({ name: 'bgp', address: '127.0.44.1', port: 18121, asn: DAEMON_ASN,
      neighbors: sessions.map((s) => ({ address: s.local, asn: s.myAsn, ...(s.md5 ? { md5: s.md5 } : {}) })) }),
  });
  before(() => run.setUp());
  after(() => run.tearDown());

  test('every route arrives with exactly the expected attributes (eBGP session signed with MD5)', () => run.announceAll());
  test('withdrawals and attribute changes reach the RIB', () => run.withdrawSome());
  test('after a GoBGP restart ironlb reconnects and sends the full table', () => run.peerRestart());
});
