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
