// ironlb ↔ ExaBGP: eBGP and iBGP, 4-byte ASNs, IPv4 and IPv6, every attribute, checked in the
// RIB rebuilt from ExaBGP's JSON log of parsed UPDATEs.
import { after, before, describe, test } from 'node:test';
import { ExabgpDaemon } from './harness/index.ts';
import { DAEMON_ASN, EBGP_ASN, InteropRun } from './scenario.ts';

describe('ironlb and ExaBGP', { timeout: 120000 }, () => {
  const run = new InteropRun({
    sessions: {
      ebgp: { id: 'exabgp-e', local: '127.0.45.11', myAsn: EBGP_ASN, peerAsn: DAEMON_ASN, nextHopV6: '2001:db8:45::11' },
      ibgp: { id: 'exabgp-i', local: '127.0.45.12', myAsn: DAEMON_ASN, peerAsn: DAEMON_ASN, nextHopV6: '2001:db8:45::12' },
    },
    makeDaemon: (sessions) => new ExabgpDaemon({ name: 'bgp', address: '127.0.45.1', port: 18131, asn: DAEMON_ASN,
      neighbors: sessions.map((s) => ({ address: s.local, asn: s.myAsn })) }),
  });
  before(() => run.setUp());
  after(() => run.tearDown());

  test('every route arrives with exactly the expected attributes', () => run.announceAll());
  test('withdrawals and attribute changes reach the RIB', () => run.withdrawSome());
  test('after an ExaBGP restart ironlb reconnects and sends the full table', () => run.peerRestart());
});
