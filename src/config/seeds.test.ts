// Every example of the seed documents (test/fixtures/seeds, each with the objects it names)
// resolves; where two examples are alternatives, combining them gives a clear conflict.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { type Diagnostic, formatDiagnostic } from '../api/diagnostics.ts';
import type { LoadedObject } from '../api/loaded.ts';
import type { BGPAdvertisement } from '../api/resources.ts';
import { formatCommunity } from '../net/community.ts';
import { loadFixture, loadFixtureRaw, seedsDir } from '../../test/fixtures/config/load.ts';
import { configEquals, resolveConfig } from './resolve.ts';

/** Several fixtures carry the same referenced objects; keep the first of each kind and name. */
const distinct = (los: LoadedObject[]): LoadedObject[] =>
  los.filter((o, i, all) => all.findIndex((x) => x.object.kind === o.object.kind && x.object.metadata.name === o.object.metadata.name) === i);

const crFixtures = readdirSync(seedsDir).filter((f) => f.endsWith('.yaml') && !f.includes('configmap')).sort();
const brief = (ds: readonly Diagnostic[], severity: Diagnostic['severity']) =>
  ds.filter((d) => d.severity === severity).map((d) => `${d.object?.kind}/${d.object?.name} ${d.path}: ${d.message}`);

const hostBits = (pool: string, cidr: string, net: string) =>
  `IPAddressPool/${pool} spec.addresses[0]: "${cidr}" has host bits set: the pool holds all of ${net}`;
const firstPoolHostBits = hostBits('first-pool', '198.51.100.10/24', '198.51.100.0/24');

// Seed 000's peers carry one sourceAddress for every node, and all its sessions are eBGP, where
// LOCAL_PREF is never sent: both are worth telling the user.
const sourceAddress = (peer: string) =>
  `BGPPeer/${peer} spec.sourceAddress: sourceAddress 192.168.1.10 on a peer for every node: only a node that holds this address can ` +
  'open the session, the others will fail to bind it; give the peer nodeSelectors that pick that node';
const localPrefUnused = (ad: string, pref: number, peers: string) =>
  `BGPAdvertisement/${ad} spec.localPref: localPref ${pref} has no effect: LOCAL_PREF is sent to iBGP peers only, and every peer ` +
  `this advertisement reaches (${peers}) is eBGP`;

/** The warnings each fixture must give (none when absent). */
const expectedWarnings: Record<string, string[]> = {
  '000-bgp-advertisement.yaml': [
    'BGPAdvertisement/development-advertisement spec.aggregationLength: aggregationLength 24 is shorter than /29, the prefix of ' +
      '"192.168.2.240-192.168.2.250" in IPAddressPool "development-pool" (MetalLB refuses this; ironlb accepts it): each service IP ' +
      'from it is announced as the single route 192.168.2.0/24, covering 245 addresses outside the pool',
    sourceAddress('router-1'), sourceAddress('router-2'),
    localPrefUnused('development-advertisement', 50, 'router-1, router-2'), localPrefUnused('production-advertisement', 100, 'router-1, router-2'),
  ],
  '000-as-path-prepending.yaml': [sourceAddress('router-3'), localPrefUnused('prepend-advertisement', 50, 'router-3')],
  '000-bgp-peers.yaml': [sourceAddress('router-1'), sourceAddress('router-2'), sourceAddress('router-3')],
  '000-bfd-profile.yaml': [
    'BFDProfile/fast-failover spec.minimumTtl: minimumTtl 254 applies to multi-hop BFD sessions only; BGPPeer "router-1-bfd" is ' +
      'single-hop (eBGP without ebgpMultiHop), where packets must arrive with TTL 255 (RFC 5881), so it is ignored there',
  ],
  '000-route-filtering.yaml': [sourceAddress('router-1'), sourceAddress('router-2'), localPrefUnused('filtered-advertisement', 150, 'router-1, router-2')],
  '001-aggregation.yaml': [firstPoolHostBits],
  '001-advertisement-node-selectors.yaml': [firstPoolHostBits],
  '001-community-aliases.yaml': [firstPoolHostBits],
  '001-advertisement-peers.yaml': [hostBits('pool-a', '198.51.100.10/24', '198.51.100.0/24'), hostBits('pool-b', '198.51.200.10/24', '198.51.200.0/24')],
};

test('there are fixtures for all three seeds', () => {
  for (const seed of ['000-', '001-', '002-']) assert.ok(crFixtures.some((f) => f.startsWith(seed)), seed);
  assert.ok(crFixtures.length >= 20, `${crFixtures.length} fixtures`);
});

for (const file of crFixtures) {
  test(`seed example ${file} resolves`, () => {
    const r = resolveConfig(loadFixture(file));
    assert.deepEqual(brief(r.diagnostics, 'error'), []);
    assert.deepEqual(brief(r.diagnostics, 'warning'), expectedWarnings[file] ?? []);
    assert.ok(r.config);
  });
}

test("seed 000: the per-node peers and the all-node peers applied together conflict, naming both", () => {
  const r = resolveConfig(loadFixture('000-bgp-peers.yaml', '000-node-specific-peers.yaml'));
  assert.equal(r.config, undefined);
  assert.deepEqual(brief(r.diagnostics, 'error'), [1, 2, 3].map((n) =>
    `BGPPeer/router-${n} spec.peerAddress: conflicts with BGPPeer metallb-system/node-${n}-router: both peer with 192.168.1.${n} and ` +
    `their node selectors can select the same node ({kubernetes.io/hostname=node-${n}} vs all nodes), which would open two sessions ` +
    'from that node to one router; give them node selectors that cannot select the same node, or keep one of them'));
});

test('seed conflicts point at file:line:column of the field', () => {
  const r = resolveConfig(loadFixture('000-bgp-peers.yaml', '000-node-specific-peers.yaml'));
  assert.match(formatDiagnostic(r.diagnostics[0]!), /^000-bgp-peers\.yaml:10:3: error: BGPPeer\/metallb-system\/router-1: spec\.peerAddress: conflicts with BGPPeer metallb-system\/node-1-router: /);
});

test('seed 000: the BFD peer and the graceful-restart peer are alternative definitions of router-1', () => {
  const r = resolveConfig(loadFixture('000-bgp-peers.yaml', '000-graceful-shutdown.yaml', '000-bfd-profile.yaml'));
  assert.deepEqual(brief(r.diagnostics, 'error'), [
    'BGPPeer/router-1 metadata.name: duplicate definition of BGP peer "router-1": already defined (at 000-graceful-shutdown.yaml:6); peer names must be unique',
    'BGPPeer/router-1-bfd spec.peerAddress: conflicts with BGPPeer metallb-system/router-1: both peer with 192.168.1.1 and their node ' +
      'selectors can select the same node (all nodes vs all nodes), which would open two sessions from that node to one router; ' +
      'give them node selectors that cannot select the same node, or keep one of them',
  ]);
});

test("seed 000: the prepend advertisement (localPref 50) and the production one (100) meet only on eBGP router-3: accepted with a warning", () => {
  const r = resolveConfig(distinct(loadFixture('000-bgp-peers.yaml', '000-ipaddresspool.yaml', '000-as-path-prepending.yaml', '000-bgp-advertisement.yaml')));
  assert.deepEqual(brief(r.diagnostics, 'error'), []);
  assert.ok(r.config);
  assert.deepEqual(brief(r.diagnostics, 'warning').filter((w) => w.includes('differs from')), [
    'BGPAdvertisement/production-advertisement spec.localPref: localPref 100 differs from localPref 50 of BGPAdvertisement ' +
      'metallb-system/prepend-advertisement: both send the same routes (IPAddressPool "production-pool" at /32) to peer router-3, ' +
      'which is eBGP: LOCAL_PREF is not sent there, so the difference has no effect (on an iBGP peer it would be an error); the other attributes of both apply',
  ]);
});

test('seed 000: the filtered advertisement (serviceSelectors) is exempt from the localPref check, as in MetalLB', () => {
  const r = resolveConfig(distinct(loadFixture('000-route-filtering.yaml', '000-ecmp-config.yaml')));
  assert.deepEqual(brief(r.diagnostics, 'error'), []);
});

test("seed 001: the page's literal PoolA / PeerA / PeerB cannot exist as objects, and are named as unknown", () => {
  const objects = loadFixture('001-advertisement-peers.yaml').map((lo): LoadedObject => {
    if (lo.object.kind !== 'BGPAdvertisement') return lo;
    const ad = lo.object;
    return { ...lo, object: { ...ad, spec: { ...ad.spec, ipAddressPools: ['PoolA'], peers: ['PeerA', 'PeerB'] } } satisfies BGPAdvertisement };
  });
  assert.deepEqual(brief(resolveConfig(objects).diagnostics, 'error'), [
    'BGPAdvertisement/example spec.peers[0]: unknown BGPPeer "PeerA": known peers are "peer-a", "peer-b", "peer-c"',
    'BGPAdvertisement/example spec.peers[1]: unknown BGPPeer "PeerB": known peers are "peer-a", "peer-b", "peer-c"',
    'BGPAdvertisement/example spec.ipAddressPools[0]: unknown IPAddressPool "PoolA": known pools are "pool-a", "pool-b"',
  ]);
});

test('seed values resolve as written: timers, password, graceful restart, prepend, aliases', () => {
  const peers = resolveConfig(loadFixture('000-bgp-peers.yaml')).config!.peers;
  assert.deepEqual(peers.map((p) => [p.name, p.holdTimeMs, p.keepaliveTimeMs, p.password?.value]), [
    ['router-1', 90_000, 30_000, undefined], ['router-2', 90_000, 30_000, undefined], ['router-3', 90_000, 30_000, 'bgp-shared-secret'],
  ]);
  const gr = resolveConfig(loadFixture('000-graceful-shutdown.yaml')).config!;
  assert.deepEqual(gr.peers[0]!.gracefulRestart, { enabled: true, restartTimeMs: 120_000 });
  assert.deepEqual(gr.bfdProfiles[0], { name: 'default', receiveIntervalMs: 300, transmitIntervalMs: 300, detectMultiplier: 3, echoIntervalMs: 50, echoMode: false, passiveMode: false, minimumTtl: 254 });
  const legacyGr = resolveConfig(loadFixture('001-graceful-restart.yaml')).config!;
  assert.deepEqual(legacyGr.peers[0]!.gracefulRestart, { enabled: true, restartTimeMs: 120_000 });
  const prepend = resolveConfig(loadFixture('000-as-path-prepending.yaml')).config!;
  assert.deepEqual(prepend.bgpAdvertisements[0]!.asPrepend, { count: 2, asn: 64500 });
  const aliases = resolveConfig(loadFixture('001-community-aliases.yaml')).config!;
  assert.deepEqual(aliases.bgpAdvertisements[0]!.communities.map(formatCommunity), ['1234:1']);
  const vrf = resolveConfig(loadFixture('001-vrf.yaml')).config!;
  assert.deepEqual([vrf.peers[0]!.vrf, vrf.peers[0]!.port], ['red', 179]);
  const sel = resolveConfig(loadFixture('001-peer-node-selectors.yaml')).config!;
  assert.deepEqual(sel.peers[0]!.nodeSelectors.map((s) => s.text), ['kubernetes.io/hostname in (hostA,hostB)', 'network-speed notin (slow),rack=frontend']);
});

test('seed 002: the ConfigMap as published is refused, naming each empty field', () => {
  const r = loadFixtureRaw('002-configmap-as-published.yaml');
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.position?.line}:${d.position?.column} ${d.path}`), [
    '15:9 peers[0].peer-address', '23:12 address-pools[0].addresses[0]', '28:12 address-pools[1].addresses[0]',
  ]);
});

test("seed 002: with addresses filled in, the ConfigMap resolves to the same Config as MetalLB's converter output", () => {
  const fromConfigMap = resolveConfig(loadFixture('002-configmap-filled.yaml'));
  const fromCrs = resolveConfig(loadFixture('002-converted.yaml'));
  assert.deepEqual(fromConfigMap.diagnostics, []);
  assert.ok(fromConfigMap.config && fromCrs.config);
  assert.ok(configEquals(fromConfigMap.config, fromCrs.config));
  assert.deepEqual(fromCrs.config.bgpAdvertisements.map((a) => [a.name, a.pools]), [['bgpadvertisement1', ['default']]]);
  assert.deepEqual(fromCrs.config.l2Advertisements.map((a) => [a.name, a.pools]), [['l2advertisement1', ['layer2']]]);
});
