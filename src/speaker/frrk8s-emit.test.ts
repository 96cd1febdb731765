import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadText } from '../api/load.ts';
import type { LoadedObject } from '../api/loaded.ts';
import { frrConfigurationsFor, type NodeFrrConfiguration } from '../cli/frr-config.ts';
import { comparableIronlbSpec, frrk8sDifferences, readFrrGolden } from '../../test/differential/frrk8s-golden.ts';
import { frrScenarios, scenarioObjects } from '../../test/differential/frrk8s-scenarios.ts';
import type { EmittedNeighbor } from './frrk8s-emit.ts';

// The golden record is what MetalLB v0.15.3's speaker wrote for these scenarios on a real
// apiserver (test/differential/frrk8s-emit.test.ts records it); here the pure function must give
// the same spec, with no apiserver and no MetalLB binary.
const golden = readFrrGolden();
for (const s of frrScenarios) {
  test(`scenario ${s.name}: the spec MetalLB writes (${s.what})`, () => {
    const r = frrConfigurationsFor(scenarioObjects(s), { nodes: [s.node.name] });
    assert.deepEqual(r.errors, []);
    const [mine] = r.results!;
    assert.deepEqual(mine!.errors, []);
    assert.ok(golden.scenarios[s.name], `golden record for ${s.name} (UPDATE_GOLDEN=1 on test/differential/frrk8s-emit.test.ts)`);
    assert.deepEqual(comparableIronlbSpec(mine!.configuration!.spec), golden.scenarios[s.name]);
    assert.deepEqual(mine!.configuration!.metadata, { name: `metallb-${s.node.name}`, namespace: 'metallb-system' });
  });
}

test('the listed differences are each seen in some scenario', () => {
  assert.equal(frrk8sDifferences.length, 1);
  const r = frrConfigurationsFor(scenarioObjects(frrScenarios.find((s) => s.name === 'session-settings')!), { nodes: ['frr-b'] });
  const neighbors = r.results![0]!.configuration!.spec.bgp.routers[0]!.neighbors!;
  assert.deepEqual(neighbors.map((n) => n.sourceaddress), [undefined, '10.0.1.2']);
});

const ns = 'metallb-system';
function world(extra: string, node = 'n1'): LoadedObject[] {
  const loaded = loadText(`apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: p, namespace: ${ns}}
spec: {addresses: [192.0.2.0/24]}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: a, namespace: ${ns}}
spec: {ipAddressPools: [p]}
---
apiVersion: v1
kind: Node
metadata: {name: ${node}, labels: {kubernetes.io/hostname: ${node}}}
---
apiVersion: v1
kind: Service
metadata: {name: s, namespace: default}
spec: {type: LoadBalancer, ports: [{port: 80}]}
status: {loadBalancer: {ingress: [{ip: 192.0.2.3}]}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: s-1, namespace: default, labels: {kubernetes.io/service-name: s}}
addressType: IPv4
endpoints: [{addresses: [10.1.1.1], nodeName: ${node}, conditions: {ready: true}}]
---
${extra}`, 'w.yaml');
  assert.deepEqual(loaded.diagnostics.filter((d) => d.severity === 'error'), []);
  return loaded.objects;
}
const peerYaml = (name: string, spec: string) => `apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: ${name}, namespace: ${ns}}\nspec: ${spec}\n---\n`;
const one = (objects: LoadedObject[], o: Parameters<typeof frrConfigurationsFor>[1] = {}): NodeFrrConfiguration => {
  const r = frrConfigurationsFor(objects, o);
  assert.deepEqual(r.errors, []);
  return r.results![0]!;
};
const neighbors = (r: NodeFrrConfiguration): EmittedNeighbor[] => r.configuration!.spec.bgp.routers.flatMap((x) => x.neighbors ?? []);

test('neighbours sort by MetalLB\'s key text: the peer ASN as text first (100 < 64500 < 7)', () => {
  const r = one(world(peerYaml('a', '{myASN: 64500, peerASN: 7, peerAddress: 10.0.0.1}') + peerYaml('b', '{myASN: 64500, peerASN: 100, peerAddress: 10.0.0.2}') + peerYaml('c', '{myASN: 64500, peerASN: 64500, peerAddress: 10.0.0.3}')));
  assert.deepEqual(neighbors(r).map((n) => n.asn), [100, 64500, 7]);
});

test('a Secret password: a reference when frr-k8s shares the namespace, the password in clear when it does not', () => {
  const objects = world(`${peerYaml('a', '{myASN: 64500, peerASN: 64501, peerAddress: 10.0.0.1, passwordSecret: {name: auth}}')}apiVersion: v1
kind: Secret
metadata: {name: auth, namespace: ${ns}}
type: kubernetes.io/basic-auth
stringData: {password: hunter2}
`);
  const ref = neighbors(one(objects))[0]!;
  assert.deepEqual([ref.password, ref.passwordSecret], [undefined, { name: 'auth' }]);
  const inline = neighbors(one(objects, { secrets: 'inline', namespace: 'frr-k8s-system' }))[0]!;
  assert.deepEqual([inline.password, inline.passwordSecret], ['hunter2', {}]);
});

test('frr-k8s mode rules (MetalLB\'s DiscardNativeOnly): one router ID, one myASN per VRF, one BGPPeer per address and VRF', () => {
  const errorsOf = (yaml: string) => one(world(yaml)).errors;
  assert.match(errorsOf(peerYaml('a', '{myASN: 64500, peerASN: 1, peerAddress: 10.0.0.1, routerID: 1.1.1.1}') + peerYaml('b', '{myASN: 64500, peerASN: 1, peerAddress: 10.0.0.2}')).join('\n'),
    /BGPPeer "b" has routerID none and "a" 1\.1\.1\.1: .*same routerID/);
  assert.match(errorsOf(peerYaml('a', '{myASN: 64500, peerASN: 1, peerAddress: 10.0.0.1}') + peerYaml('b', '{myASN: 64501, peerASN: 1, peerAddress: 10.0.0.2}')).join('\n'),
    /BGPPeers "a" \(myASN 64500\) and "b" \(myASN 64501\) are in the same VRF \(default\)/);
  assert.deepEqual(errorsOf(peerYaml('a', '{myASN: 64500, peerASN: 1, peerAddress: 10.0.0.1}') + peerYaml('b', '{myASN: 64501, peerASN: 1, peerAddress: 10.0.0.2, vrf: red}')), []);
  const dup = one(world(peerYaml('a', '{myASN: 64500, peerASN: 1, peerAddress: 10.0.0.1, nodeSelectors: [{matchLabels: {x: "1"}}]}') + peerYaml('b', '{myASN: 64500, peerASN: 2, peerAddress: 10.0.0.1, nodeSelectors: [{matchLabels: {x: "2"}}]}')));
  assert.match(dup.errors.join('\n'), /BGPPeers "a" and "b" both peer with 10\.0\.0\.1/);
  assert.equal(dup.configuration, undefined, 'nothing to write: the speaker keeps the last object');
});

test('what FRRConfiguration cannot carry: med and asPrepend are left out with a warning', () => {
  const r = one(world(`${peerYaml('a', '{myASN: 64500, peerASN: 1, peerAddress: 10.0.0.1}')}apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: extras, namespace: ${ns}}
spec: {ipAddressPools: [p], med: 5, asPrepend: {count: 2}}
`));
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.warnings.map((w) => w.replace(/:.*/, '')), ['BGPAdvertisement "extras"', 'BGPAdvertisement "extras"']);
  assert.ok(r.configuration);
});

test('BFD echo mode goes to frr-k8s (its FRR runs echo; ironlb\'s own BFD has none): echoMode and echoInterval as written', () => {
  const r = one(world(`${peerYaml('a', '{myASN: 64500, peerASN: 64501, peerAddress: 10.0.0.1, bfdProfile: echo}')}apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: {name: echo, namespace: ${ns}}
spec: {echoMode: true, echoInterval: 60, transmitInterval: 100}
`));
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.configuration!.spec.bgp.bfdProfiles, [{ name: 'echo', transmitInterval: 100, echoInterval: 60, echoMode: true, passiveMode: false }]);
  assert.equal(neighbors(r)[0]!.bfdProfile, 'echo');
});

test('no session and no BFD profile on the node: no object', () => {
  const r = one(world(peerYaml('a', '{myASN: 64500, peerASN: 1, peerAddress: 10.0.0.1, nodeSelectors: [{matchLabels: {rack: r9}}]}')));
  assert.deepEqual([r.errors, r.configuration], [[], undefined]);
});

test('a Service with no ready endpoint anywhere is not offered to frr-k8s; the session stays', () => {
  const objects = world(peerYaml('a', '{myASN: 64500, peerASN: 1, peerAddress: 10.0.0.1}')).filter((lo) => (lo.object as { kind: string }).kind !== 'EndpointSlice');
  const n = neighbors(one(objects))[0]!;
  assert.deepEqual(n.toAdvertise, { allowed: {} });
});
