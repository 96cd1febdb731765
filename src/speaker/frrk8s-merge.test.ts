import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadText } from '../api/load.ts';
import { resolveFrrConfigurations } from '../config/frrk8s-configurations.ts';
import type { FrrConfiguration } from '../config/frrk8s-types.ts';
import { formatCommunity } from '../net/community.ts';
import { formatIp } from '../net/ip.ts';
import { formatPrefix, parsePrefix } from '../net/prefix.ts';
import { peer } from '../../test/fixtures/speaker/builders.ts';
import { type FrrMergeInput, mergeFrrConfigurations } from './frrk8s-merge.ts';
import type { PeerPlan } from './plan-types.ts';

const own: PeerPlan = {
  peer: peer('peer', '172.30.0.3', { myAsn: 64512, peerAsn: 64512 }),
  families: [4],
  routes: [{ prefix: parsePrefix('192.0.2.10/32')!.prefix, attributes: { communities: [] } }],
};

function frr(yaml: string): FrrConfiguration[] {
  const loaded = loadText(yaml, 'f.yaml');
  const r = resolveFrrConfigurations(loaded.objects);
  assert.deepEqual([...loaded.diagnostics, ...r.diagnostics].filter((d) => d.severity === 'error'), []);
  return [...r.configurations];
}

const object = (name: string, spec: string, namespace = 'metallb-system') =>
  `---\napiVersion: frrk8s.metallb.io/v1beta1\nkind: FRRConfiguration\nmetadata: {name: ${name}, namespace: ${namespace}}\nspec:\n${spec}`;

const merge = (configurations: FrrConfiguration[], extra: Partial<FrrMergeInput> = {}) =>
  mergeFrrConfigurations({ peers: [own], bfdProfiles: [], configurations, nodeLabels: { rack: 'a' }, ...extra });

const routesText = (p: PeerPlan) => p.routes.map((r) =>
  `${formatPrefix(r.prefix)}${r.attributes.localPref !== undefined ? ` lp=${r.attributes.localPref}` : ''}${r.attributes.communities.length ? ` ${r.attributes.communities.map(formatCommunity).join(',')}` : ''}`);

test('seed 001: the FRRConfiguration lets the BGPPeer\'s routes in, on the same session', () => {
  const configs = frr(readFileSync(new URL('../../test/fixtures/seeds/001-frr-k8s.yaml', import.meta.url), 'utf8'));
  const r = merge(configs);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.peers.map((p) => p.peer.name), ['peer']);
  assert.equal(r.peers[0]!.peer, own.peer, 'ironlb\'s own session is unchanged');
  assert.deepEqual(routesText(r.peers[0]!), ['192.0.2.10/32']);
  assert.deepEqual(r.receive.get('peer'), { mode: 'all', prefixes: [] });
  assert.deepEqual([...r.lastGood.keys()], ['metallb-system/with-recv']);
  // Without it, nothing is received.
  assert.equal(merge([]).receive.size, 0);
});

test('an extra neighbour becomes a session with every setting; toAdvertise all with communities, large communities, localPref', () => {
  const configs = frr(object('extra', [
    '  bgp:',
    '    bfdProfiles: [{name: fast, receiveInterval: 100, transmitInterval: 100}]',
    '    routers:',
    '    - asn: 64512',
    '      id: 10.9.9.9',
    '      prefixes: [192.168.10.0/24, 192.168.11.0/24, fd00:10::/64]',
    '      neighbors:',
    '      - address: 10.0.0.7',
    '        asn: 65007',
    '        port: 1179',
    '        password: s3cret',
    '        holdTime: 9s',
    '        keepaliveTime: 3s',
    '        connectTime: 5s',
    '        ebgpMultiHop: true',
    '        bfdProfile: fast',
    '        dualStackAddressFamily: true',
    '        enableGracefulRestart: true',
    '        toAdvertise:',
    '          allowed: {mode: all}',
    '          withCommunity:',
    '          - {prefixes: [192.168.10.0/24], community: "65000:10"}',
    '          - {prefixes: [192.168.10.0/24, fd00:10::/64], community: "large:65000:1:2"}',
    '          withLocalPref: [{prefixes: [192.168.11.0/24], localPref: 150}]',
    '        toReceive:',
    '          allowed: {prefixes: [{prefix: 10.50.0.0/16, le: 24}]}',
  ].join('\n') + '\n'));
  const r = merge(configs);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.peers.map((p) => p.peer.name), ['frrk8s-10.0.0.7', 'peer']);
  const x = r.peers[0]!;
  const p = x.peer;
  assert.deepEqual(
    [p.myAsn, p.peerAsn, p.port, p.password?.value, p.holdTimeMs, p.keepaliveTimeMs, p.connectTimeMs, p.ebgpMultiHop, p.bfdProfile, p.gracefulRestart.enabled, p.routerId && formatIp(p.routerId)],
    [64512, 65007, 1179, 's3cret', 9000, 3000, 5000, true, 'fast', true, '10.9.9.9'],
  );
  assert.deepEqual(x.families, [4, 6]);
  assert.deepEqual(routesText(x), ['192.168.10.0/24 65000:10,large:65000:1:2', '192.168.11.0/24 lp=150', 'fd00:10::/64 large:65000:1:2']);
  assert.deepEqual(r.bfdProfiles.map((b) => [b.name, b.receiveIntervalMs]), [['fast', 100]]);
  assert.equal(r.receive.get('frrk8s-10.0.0.7')?.prefixes.length, 1);
  assert.equal(r.receive.has('peer'), false);
});

test('a conflict with ironlb\'s own BGPPeer is refused with a message naming both; the rest stands', () => {
  const configs = frr(
    object('wrong-asn', '  bgp:\n    routers:\n    - asn: 64512\n      neighbors:\n      - {address: 172.30.0.3, asn: 64999, toReceive: {allowed: {mode: all}}}\n') +
    object('wrong-router', '  bgp:\n    routers:\n    - asn: 65000\n      neighbors:\n      - {address: 10.0.0.8, asn: 64999}\n') +
    object('hold', '  bgp:\n    routers:\n    - asn: 64512\n      neighbors:\n      - {address: 172.30.0.3, asn: 64512, holdTime: 30s}\n') +
    object('fine', '  bgp:\n    routers:\n    - asn: 64512\n      neighbors:\n      - {address: 172.30.0.3, asn: 64512, toReceive: {allowed: {prefixes: [{prefix: 10.1.0.0/16}]}}}\n'),
  );
  const r = merge(configs);
  assert.deepEqual(r.errors.map((e) => e.message), [
    'FRRConfiguration metallb-system/hold: spec.bgp.routers[0].neighbors[0]: neighbour 172.30.0.3 has hold time 30s here and 180s in BGPPeer metallb-system/peer; not applied on this node',
    'FRRConfiguration metallb-system/wrong-asn: spec.bgp.routers[0].neighbors[0]: neighbour 172.30.0.3 has ASN 64999 here and 64512 in BGPPeer metallb-system/peer; not applied on this node',
    'FRRConfiguration metallb-system/wrong-router: spec.bgp.routers[0].asn: 65000 differs from 64512, the ASN BGPPeer metallb-system/peer gives the router of the default VRF (one router per VRF, one ASN); not applied on this node',
  ]);
  assert.deepEqual(r.peers.map((p) => p.peer.name), ['peer']);
  assert.deepEqual(r.receive.get('peer'), { mode: 'filtered', prefixes: [{ prefix: parsePrefix('10.1.0.0/16')!.prefix }] });
  assert.deepEqual([...r.lastGood.keys()], ['metallb-system/fine']);
});

test('merging: prefixes and filters unioned, the more permissive receive filter wins, GR and BFD extend a session', () => {
  const base = '  bgp:\n    routers:\n    - asn: 64512\n      prefixes: [PFX]\n      neighbors:\n      - {address: 10.0.0.7, asn: 65007, RECV, toAdvertise: {allowed: {prefixes: [PFX]}}}\n';
  const a = object('a', base.replaceAll('PFX', '192.168.1.0/24').replace('RECV', 'toReceive: {allowed: {prefixes: [{prefix: 10.1.0.0/16}]}}'));
  const b = object('b', base.replaceAll('PFX', '192.168.2.0/24').replace('RECV', 'toReceive: {allowed: {prefixes: [{prefix: 10.2.0.0/16, le: 24}]}}'));
  const c = object('c', base.replaceAll('PFX', '192.168.3.0/24').replace('RECV', 'toReceive: {allowed: {mode: all}}'));
  const ab = merge(frr(a + b));
  assert.deepEqual(routesText(ab.peers[0]!), ['192.168.1.0/24', '192.168.2.0/24']);
  assert.deepEqual(ab.receive.get('frrk8s-10.0.0.7')?.prefixes.map((f) => formatPrefix(f.prefix)), ['10.1.0.0/16', '10.2.0.0/16']);
  assert.equal(merge(frr(c + a + b)).receive.get('frrk8s-10.0.0.7')?.mode, 'all');
  const gr = merge(frr(object('gr', '  bgp:\n    bfdProfiles: [{name: p}]\n    routers:\n    - asn: 64512\n      neighbors:\n      - {address: 172.30.0.3, asn: 64512, enableGracefulRestart: true, bfdProfile: p}\n')));
  assert.deepEqual([gr.peers[0]!.peer.gracefulRestart.enabled, gr.peers[0]!.peer.bfdProfile], [true, 'p']);
});

test('input order never changes the result; a nodeSelector that leaves the node out is no error', () => {
  const configs = frr(
    object('z', '  bgp:\n    routers:\n    - asn: 64512\n      neighbors:\n      - {address: 10.0.0.9, asn: 65009}\n') +
    object('a', '  bgp:\n    routers:\n    - asn: 64512\n      neighbors:\n      - {address: 10.0.0.9, asn: 65010}\n') +
    object('other-rack', '  nodeSelector: {matchLabels: {rack: b}}\n  bgp:\n    routers:\n    - asn: 1\n'),
  );
  const r1 = merge(configs);
  const r2 = merge([...configs].reverse());
  assert.deepEqual(r1.errors, r2.errors);
  assert.deepEqual(r1.peers.map((p) => p.peer.peerAsn), [65010, 64512]);
  assert.deepEqual(r1.errors.map((e) => e.configuration), ['metallb-system/z']);
});

test('last good kept: an edit that conflicts, or an object now invalid, leaves its previous version in force', () => {
  const v1 = frr(object('x', '  bgp:\n    routers:\n    - asn: 64512\n      neighbors:\n      - {address: 172.30.0.3, asn: 64512, toReceive: {allowed: {mode: all}}}\n'));
  const first = merge(v1);
  const v2 = frr(object('x', '  bgp:\n    routers:\n    - asn: 64512\n      neighbors:\n      - {address: 172.30.0.3, asn: 65555, toReceive: {allowed: {mode: all}}}\n'));
  const second = merge(v2, { lastGood: first.lastGood });
  assert.match(second.errors[0]!.message, /ASN 65555 here and 64512 in BGPPeer metallb-system\/peer; its last good version stays in force$/);
  assert.equal(second.receive.get('peer')?.mode, 'all');
  assert.equal(second.lastGood.get('metallb-system/x'), v1[0]);
  const third = merge([], { lastGood: second.lastGood, invalid: ['metallb-system/x'] });
  assert.equal(third.receive.get('peer')?.mode, 'all');
  assert.equal(merge([], { lastGood: second.lastGood }).receive.size, 0, 'deleted: gone');
});

test('a newcomer that conflicts with a configuration in force is the one refused, whatever the names', () => {
  const inForce = frr(object('z-first', '  bgp:\n    routers:\n    - asn: 64512\n      neighbors:\n      - {address: 10.0.0.9, asn: 65009, toReceive: {allowed: {mode: all}}}\n'));
  const first = merge(inForce);
  assert.deepEqual(first.errors, []);
  const both = [...frr(object('a-later', '  bgp:\n    routers:\n    - asn: 64512\n      neighbors:\n      - {address: 10.0.0.9, asn: 65010}\n')), ...frr(object('z-first', '  bgp:\n    routers:\n    - asn: 64512\n      neighbors:\n      - {address: 10.0.0.9, asn: 65009, toReceive: {allowed: {mode: all}}}\n'))];
  const r = merge(both, { lastGood: first.lastGood });
  assert.deepEqual(r.errors.map((e) => e.message), [
    'FRRConfiguration metallb-system/a-later: spec.bgp.routers[0].neighbors[0]: neighbour 10.0.0.9 has ASN 65010 here and 65009 in FRRConfiguration metallb-system/z-first; not applied on this node',
  ]);
  assert.equal(r.peers.find((p) => p.peer.name === 'frrk8s-10.0.0.9')?.peer.peerAsn, 65009);
  // Without history (a restart) the order is by name again.
  assert.deepEqual(merge(both).errors.map((e) => e.configuration), ['metallb-system/z-first']);
});

test('the object MetalLB\'s frr-k8s mode wrote for this node, left behind by a migration, is not merged (a user\'s alike under another name is)', () => {
  const spec = (node: string) => [
    `  nodeSelector: {matchLabels: {kubernetes.io/hostname: ${node}}}`,
    '  bgp:',
    '    routers:',
    '    - asn: 64512',
    '      prefixes: [192.0.2.99/32]',
    '      neighbors:',
    '      - {address: 172.30.0.3, asn: 64512, toAdvertise: {allowed: {prefixes: [192.0.2.99/32]}}}',
    '',
  ].join('\n');
  const labels = { 'kubernetes.io/hostname': 'node-a' };
  const left = merge(frr(object('metallb-node-a', spec('node-a'))), { nodeLabels: labels });
  assert.deepEqual(routesText(left.peers[0]!), ['192.0.2.10/32'], 'the stale 192.0.2.99 is not announced');
  assert.equal(left.errors.length, 1);
  assert.match(left.errors[0]!.message, /^FRRConfiguration metallb-system\/metallb-node-a: the object MetalLB's frr-k8s mode .* writes for node node-a; .*delete it/);
  const mine = merge(frr(object('extra-prefix', spec('node-a'))), { nodeLabels: labels });
  assert.deepEqual(mine.errors, []);
  assert.deepEqual(routesText(mine.peers[0]!), ['192.0.2.10/32', '192.0.2.99/32']);
});
