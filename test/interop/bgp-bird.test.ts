// ironlb ↔ BIRD 2: eBGP and iBGP, 4-byte ASNs, IPv4 and IPv6, every attribute, checked in BIRD's RIB.
import { after, before, describe, test } from 'node:test';
import { BirdDaemon } from './harness/index.ts';
import { DAEMON_ASN, EBGP_ASN, InteropRun } from './scenario.ts';

describe('ironlb and BIRD', { timeout: 120000 }, () => {
  const run = new InteropRun({
    sessions: {
      ebgp: { id: 'bird-e', local: '127.0.43.11', myAsn: EBGP_ASN, peerAsn: DAEMON_ASN, nextHopV6: '2001:db8:43::11' },
      ibgp: { id: 'bird-i', local: '127.0.43.12', myAsn: DAEMON_ASN, peerAsn: DAEMON_ASN, nextHopV6: '2001:db8:43::12' },
    },
    makeDaemon: (sessions) => new BirdDaemon({ name: 'bgp', address: '127.0.43.1', port: 18111, asn: DAEMON_ASN,
      neighbors: sessions.map((s) => ({ address: s.local, asn: s.myAsn })) }),
    quirks: { ebgpLocalPref: 100 },
  });
  before(() => run.setUp());
  after(() => run.tearDown());

  test('every route arrives with exactly the expected attributes', () => run.announceAll());
  test('withdrawals and attribute changes reach the RIB', () => run.withdrawSome());
  test('after a BIRD restart ironlb reconnects and sends the full table', () => run.peerRestart());
});
