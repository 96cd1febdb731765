// What status says about BGP per Service: announced (to which peers), announced to no peer (MetalLB
// still counts those as announced from the node), and why the rest is not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bgpSummaryOf, type ServiceSummary } from './bgp-summary.ts';

const na = (reason: ServiceSummary['notAnnounced'][number]['reason'], peer?: string) => ({ kind: 'notAnnounced' as const, reason, message: reason, ...(peer ? { peer } : {}) });

test('a Service no peer takes (no session here, the advertisement names other peers or family) is announced to no peer; one not for this node is not', () => {
  const s = bgpSummaryOf([
    { key: 'a/to-r1', ips: ['192.0.2.1'], pool: 'p', peers: ['r1'], notAnnounced: [na('peerNotSelectedByAdvertisement', 'r2')] },
    { key: 'a/no-session', ips: ['192.0.2.2'], pool: 'p', peers: [], notAnnounced: [na('noPeers')] },
    { key: 'a/other-peers', ips: ['192.0.2.3'], pool: 'p', peers: [], notAnnounced: [na('peerNotSelectedByAdvertisement', 'r2')] },
    { key: 'a/v6-on-v4', ips: ['2001:db8::1'], pool: 'p', peers: [], notAnnounced: [na('addressFamilyMismatch', 'r1')] },
    { key: 'a/local', ips: ['192.0.2.4'], pool: 'p', peers: [], notAnnounced: [na('noLocalEndpoints')] },
    { key: 'a/not-here', ips: ['192.0.2.5'], pool: 'p', peers: [], notAnnounced: [na('noMatchingAdvertisement')] },
    { key: 'a/l2', ips: ['192.0.2.6'], pool: 'l2only', peers: [], notAnnounced: [na('noMatchingAdvertisement')] },
    { key: 'a/no-ip', ips: [], peers: [], notAnnounced: [na('noIPAllocated')] },
  ], new Set(['l2only']));
  assert.deepEqual(s.announced, [{ service: 'a/to-r1', peers: ['r1'] }]);
  assert.deepEqual(s.announcedToNoPeer, ['a/no-session', 'a/other-peers', 'a/v6-on-v4']);
  assert.deepEqual(s.notAnnounced.map((x) => x.service), ['a/to-r1', 'a/no-session', 'a/other-peers', 'a/v6-on-v4', 'a/local', 'a/not-here']);
});
