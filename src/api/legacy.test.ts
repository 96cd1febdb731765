import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadText } from './load.ts';
import { sanitizePoolName } from './legacy.ts';
import { formatDiagnostic } from './diagnostics.ts';

const fixture = (name: string) => `test/fixtures/api/legacy/${name}`;
const load = (name: string) => loadText(readFileSync(fixture(name), 'utf8'), fixture(name));

test('seed 002 as published: one error per empty field, positioned inside the embedded YAML', () => {
  const r = load('seed-002-published.yaml');
  assert.deepEqual(r.diagnostics.map(formatDiagnostic), [
    'test/fixtures/api/legacy/seed-002-published.yaml:13:9: error: ConfigMap/metallb-system/config: peers[0].peer-address: is empty: must be a string',
    'test/fixtures/api/legacy/seed-002-published.yaml:20:9: error: ConfigMap/metallb-system/config: address-pools[0].addresses: is empty: must be a list of strings with at least 1 item',
    'test/fixtures/api/legacy/seed-002-published.yaml:24:9: error: ConfigMap/metallb-system/config: address-pools[1].addresses: is empty: must be a list of strings with at least 1 item',
  ]);
  assert.equal(r.objects.length, 0);
});

test('seed 002 with addresses filled in loads as the CRs MetalLB converter writes', () => {
  const r = load('seed-002-filled.yaml');
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(r.objects.map((o) => `${o.object.kind}/${o.object.metadata.namespace}/${o.object.metadata.name}`), [
    'BGPPeer/metallb-system/peer1', 'IPAddressPool/metallb-system/default', 'IPAddressPool/metallb-system/layer2',
    'BGPAdvertisement/metallb-system/bgpadvertisement1', 'L2Advertisement/metallb-system/l2advertisement1',
  ]);
  // Positions of converted objects point at the legacy fields.
  assert.deepEqual(r.objects[0]?.positionOf(['spec', 'peerAddress']), { file: fixture('seed-002-filled.yaml'), line: 13, column: 9 });
  assert.deepEqual(r.objects[1]?.positionOf(['spec', 'addresses', 0]), { file: fixture('seed-002-filled.yaml'), line: 21, column: 13 });
  assert.deepEqual(r.objects[1]?.positionOf(['metadata', 'name']), { file: fixture('seed-002-filled.yaml'), line: 17, column: 9 });
});

test('a bare legacy document with every section converts with MetalLB converter names and rules', () => {
  const r = load('full.yaml');
  assert.deepEqual(r.diagnostics, []);
  const res = r.resources ?? [];
  assert.deepEqual(res.map((o) => `${String(o.kind)}/${String((o.metadata as { name: string }).name)}`), [
    'BGPPeer/peer1', 'IPAddressPool/my-ip-space', 'BGPAdvertisement/bgpadvertisement1', 'BGPAdvertisement/bgpadvertisement2',
    'BFDProfile/bfdprofile1', 'Community/communities',
  ]);
  const peer = res[0]?.spec as Record<string, unknown>;
  assert.equal(peer.holdTime, '2m0s');
  assert.equal(peer.keepaliveTime, '40s'); // hold/3 when unset
  assert.equal(peer.peerPort, 1179);
  assert.deepEqual((res[2]?.spec as Record<string, unknown>).ipAddressPools, ['my-ip-space']);
  assert.deepEqual((res[4]?.spec as Record<string, unknown>).echoMode, false);
  assert.deepEqual((res[5]?.spec as Record<string, unknown>).communities, [{ name: 'another', value: '64512:2' }, { name: 'no-export', value: '65535:65281' }]);
});

test('legacy structural errors name the legacy field; a hold time under 3s is refused', () => {
  const r = loadText('peers:\n- my-asn: 64512\n  peer-asn: 64512\n  peer-address: 10.0.0.1\n  hold-time: 2s\naddress-pools:\n- name: p\n  protocol: l2\n  addresses: [10.0.0.0/24]\n  bogus: 1\n', 'l.yaml');
  assert.deepEqual(r.diagnostics.map((d) => `${d.position?.line}:${d.position?.column} ${d.path}: ${d.message}`), [
    '8:3 address-pools[0].protocol: must be one of: bgp, layer2, got "l2"',
    '10:3 address-pools[0].bogus: unknown field "bogus" (allowed here: addresses, auto-assign, avoid-buggy-ips, bgp-advertisements, name, protocol)',
  ]);
  const h = loadText('peers:\n- my-asn: 64512\n  peer-asn: 64512\n  peer-address: 10.0.0.1\n  hold-time: 2s\n', 'h.yaml');
  assert.deepEqual(h.diagnostics.map((d) => `${d.position?.line}:${d.position?.column} ${d.path}: ${d.message}`), ['5:3 peers[0].hold-time: must be 0 or at least 3s, got "2s"']);
});

test('pool names are sanitized as the converter does', () => {
  assert.equal(sanitizePoolName('My_Pool'), 'my-pool');
  assert.equal(sanitizePoolName('1st-pool'), 'st-pool');
  assert.equal(sanitizePoolName('a'.repeat(70)).length, 63);
});

// MetalLB's configmaptocrs testdata config-yaml-convert-names: the same inputs, the same names.
const convertNames = `apiVersion: v1
kind: ConfigMap
metadata: {namespace: metallb-system, name: config}
data:
  config: |
    peers:
    - my-asn: 64500
      peer-asn: 64501
      peer-address: 10.0.0.1
      bfd-profile: underscored_bfd_profile
    address-pools:
    - name: 01-numbered-addresspool
      protocol: bgp
      addresses: [198.51.100.0/24]
    - name: Capitalized-AddressPool
      protocol: layer2
      addresses: [192.168.1.240/28]
    bfd-profiles:
    - name: underscored_bfd_profile
      receive-interval: 280
    - name: tooLongBFDProfileName01-tooLongBFDProfileName02-tooLongBFDProfileName03-tooLongBFDProfileName04
      echo-mode: true
`;

test('names become object names as MetalLB\'s converter makes them: pools, BFD profiles and the peers\' references to them', () => {
  const r = loadText(convertNames, 'names.yaml');
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
  assert.deepEqual(r.objects.map((o) => `${o.object.kind}/${o.object.metadata.name}`), [
    'BGPPeer/peer1', 'IPAddressPool/numbered-addresspool', 'IPAddressPool/capitalized-addresspool', 'BGPAdvertisement/bgpadvertisement1',
    'L2Advertisement/l2advertisement1', 'BFDProfile/underscored-bfd-profile', 'BFDProfile/toolongbfdprofilename01-toolongbfdprofilename02-toolongbfdprofi',
  ]);
  const peer = r.objects[0]!.object as { spec: { bfdProfile?: string } };
  assert.equal(peer.spec.bfdProfile, 'underscored-bfd-profile');
});

test('a layer2 pool with bgp-advertisements is refused: it is never turned into a BGP advertisement', () => {
  const r = loadText('address-pools:\n- name: l2\n  protocol: layer2\n  addresses: [10.0.0.0/24]\n  bgp-advertisements:\n  - localpref: 100\n', 'l2.yaml');
  assert.deepEqual(r.diagnostics.map((d) => `${d.severity} ${d.position?.line}:${d.position?.column} ${d.path}: ${d.message}`), [
    'error 5:3 address-pools[0].bgp-advertisements: bgp-advertisements in a layer2 address pool: only protocol bgp pools are announced over BGP; remove them or set protocol: bgp',
  ]);
  assert.equal(r.objects.some((o) => o.object.kind === 'BGPAdvertisement'), false);
});

test('a name without any letter cannot be converted', () => {
  const r = loadText('address-pools:\n- name: "0123"\n  protocol: bgp\n  addresses: [10.0.0.0/24]\n', 'n.yaml');
  assert.match(r.diagnostics.map((d) => d.message).join('\n'), /address pool name "0123" cannot become an object name/);
});
