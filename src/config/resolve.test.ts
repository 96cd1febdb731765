// The resolved Config: values, defaults, ordering and equality.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadedObject } from '../api/loaded.ts';
import { formatCommunity } from '../net/community.ts';
import { formatIp, parseIp } from '../net/ip.ts';
import { formatPrefix } from '../net/prefix.ts';
import { bfd, bgpAd, community, l2Ad, namespace, peer, pool, positioned, secret } from '../../test/fixtures/config/objects.ts';
import { configEquals, resolveConfig } from './resolve.ts';
import { bfdDefaults, type Config } from './types.ts';

const ok = (objects: LoadedObject[]): Config => {
  const r = resolveConfig(objects);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
  assert.ok(r.config);
  return r.config;
};

test('pools: sorted by name, ranges as written, CIDRs summarized, defaults applied', () => {
  const c = ok([pool('b', { addresses: ['192.168.1.240-192.168.1.250', 'fc00::/126'] }), pool('a', { addresses: ['10.0.0.0/30'], autoAssign: false })]);
  assert.deepEqual(c.pools.map((p) => p.name), ['a', 'b']);
  const b = c.pools[1]!;
  assert.deepEqual(b.cidrs.map(formatPrefix), ['192.168.1.240/29', '192.168.1.248/31', '192.168.1.250/32', 'fc00::/126']);
  assert.deepEqual(b.ranges[0], { family: 4, first: parseIp('192.168.1.240')!.value, last: parseIp('192.168.1.250')!.value });
  assert.deepEqual([b.autoAssign, b.avoidBuggyIPs, b.serviceAllocation], [true, false, undefined]);
  assert.equal(c.pools[0]!.autoAssign, false);
});

test('pools: namespaceSelectors resolve against Namespace labels, merged with named namespaces', () => {
  const c = ok([
    namespace('web', { team: 'a' }), namespace('db', { team: 'b' }), namespace('api', { team: 'a', tier: 'x' }), namespace('ops'),
    pool('p', { addresses: ['10.0.0.0/24'], serviceAllocation: { priority: 2, namespaces: ['ops'], namespaceSelectors: [{ matchLabels: { team: 'a' } }], serviceSelectors: [{ matchLabels: { app: 'x' } }] } }),
  ]);
  const sa = c.pools[0]!.serviceAllocation!;
  assert.deepEqual(sa.namespaces, ['api', 'ops', 'web']);
  assert.equal(sa.priority, 2);
  assert.deepEqual(sa.serviceSelectors.map((s) => s.text), ['app=x']);
});

test('peers: timers in milliseconds, derived as MetalLB derives them; defaults', () => {
  const c = ok([
    peer('a', { holdTime: '1m30s' }),
    peer('b', { keepaliveTime: '10s', peerAddress: '192.0.2.2' }),
    peer('c', { holdTime: '0s', keepaliveTime: '0s', connectTime: '5s', peerAddress: '192.0.2.3' }),
    peer('d', { peerAddress: '2001:db8::1' }),
  ]);
  assert.deepEqual(c.peers.map((p) => [p.name, p.holdTimeMs, p.keepaliveTimeMs, p.connectTimeMs]), [
    ['a', 90_000, 30_000, undefined], ['b', 30_000, 10_000, undefined], ['c', 0, 0, 5_000], ['d', undefined, undefined, undefined],
  ]);
  const d = c.peers[3]!;
  assert.equal(formatIp(d.address!), '2001:db8::1');
  assert.deepEqual([d.port, d.vrf, d.ebgpMultiHop, d.disableMP, d.dualStackAddressFamily, d.nodeSelectors, d.gracefulRestart, d.namespace],
    [179, '', false, false, false, [], { enabled: false, restartTimeMs: 120_000 }, 'metallb-system']);
});

test('peers: passwords from basic-auth Secrets (base64 data, or stringData first) and inline', () => {
  const c = ok([
    peer('a', { passwordSecret: { name: 'data' } }),
    peer('b', { passwordSecret: { name: 'both', namespace: 'metallb-system' }, peerAddress: '192.0.2.2' }),
    peer('c', { password: 'inline-pw', peerAddress: '192.0.2.3' }),
    secret('data', { type: 'kubernetes.io/basic-auth', data: { password: Buffer.from('s3cret ✓').toString('base64') } }),
    secret('both', { type: 'kubernetes.io/basic-auth', data: { password: Buffer.from('old').toString('base64') }, stringData: { password: 'new' } }),
  ]);
  assert.deepEqual(c.peers.map((p) => p.password), [
    { source: 'secret', secretNamespace: 'metallb-system', secretName: 'data', value: 's3cret ✓' },
    { source: 'secret', secretNamespace: 'metallb-system', secretName: 'both', value: 'new' },
    { source: 'inline', value: 'inline-pw' },
  ]);
});

test('peers: one router from disjoint node sets is two legal sessions', () => {
  const c = ok([
    peer('n1', { nodeSelectors: [{ matchLabels: { 'kubernetes.io/hostname': 'node-1' } }] }),
    peer('n2', { nodeSelectors: [{ matchLabels: { 'kubernetes.io/hostname': 'node-2' } }] }),
    peer('n3', { nodeSelectors: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'NotIn', values: ['node-1', 'node-2'] }] }] }),
    peer('v', { vrf: 'red' }),
  ]);
  assert.equal(c.peers.length, 4);
});

test('BFD profiles: defaults applied, sorted by name', () => {
  const c = ok([bfd('z', { passiveMode: true, detectMultiplier: 5 }), bfd('a')]);
  assert.deepEqual(c.bfdProfiles, [{ name: 'a', ...bfdDefaults }, { name: 'z', ...bfdDefaults, passiveMode: true, detectMultiplier: 5 }]);
});

test('BGP advertisements: pools from names and selectors (none = all), communities resolved, sorted, peers sorted', () => {
  const c = ok([
    pool('gold', { addresses: ['10.0.0.0/24'] }, { labels: { tier: 'gold' } }), pool('silver', { addresses: ['10.0.1.0/24'] }), pool('bronze', { addresses: ['10.0.2.0/24'] }),
    peer('r1'), peer('r2', { peerAddress: '192.0.2.2' }),
    community('aliases', [{ name: 'no-advertise', value: '65535:65282' }]),
    bgpAd('all', { localPref: 10 }),
    bgpAd('some', { ipAddressPools: ['silver'], ipAddressPoolSelectors: [{ matchLabels: { tier: 'gold' } }], peers: ['r2', 'r1'], communities: ['large:1:2:3', 'no-advertise', '100:1'], localPref: 10, med: 7 }),
  ]);
  const [all, some] = c.bgpAdvertisements;
  assert.deepEqual(all, { name: 'all', aggregationLength: 32, aggregationLengthV6: 128, localPref: 10, communities: [], pools: ['bronze', 'gold', 'silver'], nodeSelectors: [], serviceSelectors: [] });
  assert.deepEqual(some!.pools, ['gold', 'silver']);
  assert.deepEqual(some!.peers, ['r1', 'r2']);
  assert.deepEqual(some!.communities.map(formatCommunity), ['100:1', '65535:65282', 'large:1:2:3']);
  assert.deepEqual([some!.localPref, some!.med], [10, 7]);
});

test('L2 advertisements: pools, interfaces sorted, preferred nodes compiled', () => {
  const c = ok([pool('p', { addresses: ['10.0.0.0/24'] }), l2Ad('l2', { interfaces: ['eth1', 'bond0'], preferredNodeSelectors: [{ weight: 50, preference: { matchLabels: { zone: 'a' } } }] })]);
  assert.deepEqual(c.l2Advertisements[0]!.pools, ['p']);
  assert.deepEqual(c.l2Advertisements[0]!.interfaces, ['bond0', 'eth1']);
  assert.deepEqual(c.l2Advertisements[0]!.preferredNodeSelectors.map((p) => [p.weight, p.preference.text]), [[50, 'zone=a']]);
});

test('Service, Node and EndpointSlice objects are ignored', () => {
  const c = ok([
    pool('p', { addresses: ['10.0.0.0/24'] }),
    { object: { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'default' }, spec: { type: 'LoadBalancer' } }, positionOf: () => undefined },
    { object: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, spec: {} }, positionOf: () => undefined },
  ]);
  assert.equal(c.pools.length, 1);
});

const everything = (): LoadedObject[] => [
  namespace('web', { team: 'a' }),
  pool('b', { addresses: ['10.0.1.0/24', 'fc00::/120'], serviceAllocation: { namespaceSelectors: [{ matchLabels: { team: 'a' } }, { matchLabels: { team: 'b' } }] } }),
  pool('a', { addresses: ['10.0.0.0/24'] }, { labels: { x: 'y' } }),
  peer('r2', { peerAddress: '192.0.2.2', nodeSelectors: [{ matchLabels: { rack: '1' } }, { matchLabels: { rack: '2' } }] }),
  peer('r1', { bfdProfile: 'fast' }),
  bfd('fast', { receiveInterval: 100 }),
  community('c', [{ name: 'no-advertise', value: '65535:65282' }]),
  bgpAd('ad2', { peers: ['r2', 'r1'], communities: ['1:1', 'no-advertise'], localPref: 100 }),
  bgpAd('ad1', { ipAddressPools: ['b', 'a'], aggregationLength: 24, localPref: 100, nodeSelectors: [{ matchLabels: { a: '1' } }, { matchLabels: { a: '2' } }] }),
  l2Ad('l2', { interfaces: ['eth1', 'eth0'] }),
];

test('configEquals: equal inputs in any order resolve to equal values; a real change does not', () => {
  const a = ok(everything());
  const reordered = everything().reverse().map((lo): LoadedObject => {
    const o = structuredClone(lo.object);
    if (o.kind === 'BGPAdvertisement') {
      o.spec.peers?.reverse();
      o.spec.communities?.reverse();
      o.spec.ipAddressPools?.reverse();
      o.spec.nodeSelectors?.reverse();
    }
    if (o.kind === 'BGPPeer') o.spec.nodeSelectors?.reverse();
    if (o.kind === 'IPAddressPool') o.spec.serviceAllocation?.namespaceSelectors?.reverse();
    if (o.kind === 'L2Advertisement') o.spec.interfaces?.reverse();
    return { object: o, positionOf: () => undefined };
  });
  const b = ok(reordered);
  assert.ok(configEquals(a, b));
  assert.ok(configEquals(a, a));
  const changed = everything().map((lo): LoadedObject => {
    if (lo.object.kind !== 'BGPAdvertisement' || lo.object.metadata.name !== 'ad2') return lo;
    return { ...lo, object: { ...lo.object, spec: { ...lo.object.spec, med: 5 } } };
  });
  assert.equal(configEquals(a, ok(changed)), false);
  assert.equal(configEquals(a, { ...a, pools: a.pools.slice(1) }), false);
});

test('no Config when there is an error; warnings alone do not block it', () => {
  assert.equal(resolveConfig([pool('p', { addresses: ['10.0.0.1'] })]).config, undefined);
  const r = resolveConfig([pool('p', { addresses: ['10.0.0.1/24'] })]);
  assert.equal(r.diagnostics.length, 1);
  assert.ok(r.config);
});

test('diagnostics carry the position positionOf gives for the field', () => {
  const r = resolveConfig([positioned(pool('p', { addresses: ['10.0.0.0/24', 'nope'] }), 'pools.yaml')]);
  assert.deepEqual(r.diagnostics.map((d) => [d.position, d.object, d.path]), [
    [{ file: 'pools.yaml', line: 4, column: 18 }, { kind: 'IPAddressPool', namespace: 'metallb-system', name: 'p' }, 'spec.addresses[1]'],
  ]);
});

test('the MetalLB namespace: options.namespace, else the one most resources use', () => {
  const objs = [pool('a', { addresses: ['10.0.0.0/24'] }, { namespace: 'lb' }), pool('b', { addresses: ['10.0.1.0/24'] }, { namespace: 'lb' })];
  assert.ok(resolveConfig(objs).config);
  assert.deepEqual(resolveConfig(objs, { namespace: 'metallb-system' }).diagnostics.map((d) => d.path), ['metadata.namespace', 'metadata.namespace']);
  const noNs = pool('c', { addresses: ['10.0.2.0/24'] }, { namespace: undefined });
  assert.ok(resolveConfig([...objs, noNs]).config);
});
