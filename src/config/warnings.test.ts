// Warnings: accepted configurations that a user may not mean, each saying what will happen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadedObject } from '../api/loaded.ts';
import { bfd, bgpAd, l2Ad, peer, pool } from '../../test/fixtures/config/objects.ts';
import { resolveConfig } from './resolve.ts';

function warnings(objects: LoadedObject[]): string[] {
  const r = resolveConfig(objects);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
  assert.ok(r.config, 'warnings must not block the configuration');
  return r.diagnostics.map((d) => `${d.object?.kind}/${d.object?.name} ${d.path}: ${d.message}`);
}

test('aggregation shorter than the pool prefix: every route it makes is named', () => {
  assert.deepEqual(warnings([pool('p', { addresses: ['10.0.0.250-10.0.1.5'] }), bgpAd('ad', { aggregationLength: 24 })]), [
    'BGPAdvertisement/ad spec.aggregationLength: aggregationLength 24 is shorter than /30, the prefix of "10.0.0.250-10.0.1.5" in ' +
      'IPAddressPool "p" (MetalLB refuses this; ironlb accepts it): each service IP from it is announced as one of 2 routes ' +
      '(10.0.0.0/24, 10.0.1.0/24), covering 500 addresses outside the pool',
  ]);
});

test('aggregation of a whole CIDR; IPv6 uses aggregationLengthV6', () => {
  assert.deepEqual(warnings([pool('p', { addresses: ['10.0.0.0/22', 'fd00::/112'] }), bgpAd('ad', { aggregationLength: 16, aggregationLengthV6: 96 })]), [
    'BGPAdvertisement/ad spec.aggregationLength: aggregationLength 16 is shorter than /22, the prefix of "10.0.0.0/22" in IPAddressPool "p" ' +
      '(MetalLB refuses this; ironlb accepts it): each service IP from it is announced as the single route 10.0.0.0/16, covering 64512 addresses outside the pool',
    'BGPAdvertisement/ad spec.aggregationLengthV6: aggregationLengthV6 96 is shorter than /112, the prefix of "fd00::/112" in IPAddressPool "p" ' +
      '(MetalLB refuses this; ironlb accepts it): each service IP from it is announced as the single route fd00::/96, covering 4294901760 addresses outside the pool',
  ]);
  const many = warnings([pool('p', { addresses: ['10.0.0.0/16'] }), bgpAd('ad', { aggregationLength: 8 })]);
  assert.equal(many.length, 1);
  // MetalLB's rule compares with the shortest summarized prefix: this range holds a /13, so /16 is fine.
  assert.deepEqual(warnings([pool('p', { addresses: ['10.0.0.0-10.9.255.255'] }), bgpAd('ad', { aggregationLength: 16 })]), []);
});

test('minimumTtl on a single-hop eBGP session is ignored, and says so', () => {
  assert.deepEqual(warnings([peer('r1', { bfdProfile: 'mh' }), bfd('mh', { minimumTtl: 10 })]), [
    'BFDProfile/mh spec.minimumTtl: minimumTtl 10 applies to multi-hop BFD sessions only; BGPPeer "r1" is single-hop (eBGP without ' +
      'ebgpMultiHop), where packets must arrive with TTL 255 (RFC 5881), so it is ignored there',
  ]);
  assert.deepEqual(warnings([peer('r1', { bfdProfile: 'mh', ebgpMultiHop: true }), bfd('mh', { minimumTtl: 10 })]), []);
  assert.deepEqual(warnings([peer('r1', { bfdProfile: 'mh' }), bfd('mh')]), []);
  assert.deepEqual(warnings([peer('r1', { bfdProfile: 'mh', peerASN: 64500 }), bfd('mh', { minimumTtl: 10 })]), [], 'iBGP may be multi-hop');
});

test('echo mode is refused, as the speaker\'s BFD refuses it (README: not supported by ironlb\'s own BFD)', () => {
  const r = resolveConfig([peer('r1', { bfdProfile: 'echo', ebgpMultiHop: true }), bfd('echo', { echoMode: true })]);
  assert.equal(r.config, undefined);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.object?.name} ${d.path}`), ['echo spec.echoMode']);
});

test('echo mode with frr-k8s running BGP and BFD (--bgp-backend frr-k8s): taken, its FRR does echo; a multi-hop peer is warned', () => {
  const r = resolveConfig([peer('r1', { bfdProfile: 'echo' }), bfd('echo', { echoMode: true, echoInterval: 60 })], { bgpBackend: 'frr-k8s' });
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
  assert.deepEqual([r.config?.bfdProfiles[0]?.echoMode, r.config?.bfdProfiles[0]?.echoIntervalMs], [true, 60]);
  const multihop = resolveConfig([peer('r1', { bfdProfile: 'echo', ebgpMultiHop: true }), bfd('echo', { echoMode: true })], { bgpBackend: 'frr-k8s' });
  assert.deepEqual(multihop.diagnostics.map((d) => `${d.severity} ${d.object?.name} ${d.path}: ${d.message}`), [
    'warning r1 spec.bfdProfile: BFD profile "echo" has echoMode, which works on single-hop sessions only, and this peer has ebgpMultiHop: its BFD session runs without echo',
  ]);
});

test('keepalive 0 with a non-zero hold time', () => {
  assert.deepEqual(warnings([peer('r1', { holdTime: '90s', keepaliveTime: '0s' })]), [
    'BGPPeer/r1 spec.keepaliveTime: keepaliveTime 0s with holdTime 90s: no KEEPALIVE will be sent, so the peer will drop the session after the hold time unless UPDATEs keep it alive',
  ]);
});

test('restartTime without graceful restart enabled', () => {
  assert.deepEqual(warnings([peer('r1', { gracefulRestart: { enabled: false, restartTime: '60s' } })]), [
    'BGPPeer/r1 spec.gracefulRestart.restartTime: restartTime has no effect: graceful restart is not enabled for this peer',
  ]);
});

test('identical L2 advertisements are merged', () => {
  assert.deepEqual(warnings([pool('p', { addresses: ['10.0.0.0/24'], avoidBuggyIPs: true }), l2Ad('a', { interfaces: ['eth0'] }), l2Ad('b', { interfaces: ['eth0'] })]), [
    'L2Advertisement/b spec: identical to L2Advertisement metallb-system/a: the two are merged into one',
  ]);
});

test('pool selectors that match no pool', () => {
  assert.deepEqual(warnings([pool('p', { addresses: ['10.0.0.0/24'] }), bgpAd('ad', { ipAddressPoolSelectors: [{ matchLabels: { tier: 'gold' } }] })]), [
    'BGPAdvertisement/ad spec.ipAddressPoolSelectors: no IPAddressPool matches these selectors: the advertisement applies to no pool and announces nothing',
  ]);
});

test('avoidBuggyIPs on an IPv6-only pool, and host bits in a CIDR', () => {
  assert.deepEqual(warnings([pool('p', { addresses: ['fd00::/120'], avoidBuggyIPs: true }), pool('q', { addresses: ['10.0.0.7/24'] })]), [
    'IPAddressPool/p spec.avoidBuggyIPs: avoidBuggyIPs has no effect on an IPv6-only pool (it skips IPv4 addresses ending in .0 and .255)',
    'IPAddressPool/q spec.addresses[0]: "10.0.0.7/24" has host bits set: the pool holds all of 10.0.0.0/24',
  ]);
});

test('localPref towards eBGP peers only, and a source address on a peer for every node', () => {
  assert.deepEqual(warnings([pool('p', { addresses: ['10.0.0.0/24'] }), peer('e', { sourceAddress: '192.0.2.10' }), bgpAd('ad', { localPref: 120 })]), [
    'BGPPeer/e spec.sourceAddress: sourceAddress 192.0.2.10 on a peer for every node: only a node that holds this address can open the session, the others will fail to bind it; give the peer nodeSelectors that pick that node',
    'BGPAdvertisement/ad spec.localPref: localPref 120 has no effect: LOCAL_PREF is sent to iBGP peers only, and every peer this advertisement reaches (e) is eBGP',
  ]);
  // One iBGP peer among the targets is enough for LOCAL_PREF to matter; a pinned peer may bind its source.
  assert.deepEqual(warnings([
    pool('p', { addresses: ['10.0.0.0/24'] }), peer('e'), peer('i', { peerASN: 64500, peerAddress: '192.0.2.2', sourceAddress: '192.0.2.10', nodeSelectors: [{ matchLabels: { 'kubernetes.io/hostname': 'n1' } }] }),
    bgpAd('ad', { localPref: 120 }),
  ]), []);
});

test('a family no target session carries is not announced, and says so', () => {
  assert.deepEqual(warnings([pool('v6', { addresses: ['fd00::/120'] }), pool('v4', { addresses: ['10.0.0.0/24'] }), peer('r1'), bgpAd('ad')]), [
    'BGPAdvertisement/ad spec.ipAddressPools: the IPv6 addresses of "v6" will not be announced: no peer this advertisement reaches (r1) has an IPv6 session, and none sets dualStackAddressFamily',
  ]);
  assert.deepEqual(warnings([pool('v6', { addresses: ['fd00::/120'] }), peer('r1', { dualStackAddressFamily: true }), bgpAd('ad')]), []);
  assert.deepEqual(warnings([pool('v6', { addresses: ['fd00::/120'] }), peer('r1'), peer('r6', { peerAddress: '2001:db8::1' }), bgpAd('ad')]), []);
});

test('an unnumbered peer is accepted for MetalLB compatibility, with a warning that no session will run', () => {
  assert.deepEqual(warnings([peer('r1', { peerAddress: undefined, interface: 'eth1' })]), [
    'BGPPeer/r1 spec.interface: unnumbered BGP (interface eth1) is accepted for MetalLB compatibility, but ironlb\'s speaker does not ' +
      'run unnumbered sessions yet: no session will be started for this peer; give it a peerAddress instead',
  ]);
});

test('a dynamicASN external peer is single-hop eBGP too: minimumTtl is ignored there, and says so', () => {
  const w = warnings([peer('r1', { bfdProfile: 'mh', peerASN: undefined, dynamicASN: 'external' }), bfd('mh', { minimumTtl: 10 })]);
  assert.equal(w.length, 1);
  assert.match(w[0]!, /BGPPeer "r1" is single-hop/);
  assert.deepEqual(warnings([peer('r1', { bfdProfile: 'mh', peerASN: undefined, dynamicASN: 'internal' }), bfd('mh', { minimumTtl: 10 })]), []);
});
