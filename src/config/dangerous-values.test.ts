// Valid but dangerous values give a warning that says what would happen (issue #9 item 11).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadedObject } from '../api/loaded.ts';
import { unpositioned } from '../api/loaded.ts';
import { bgpAd, l2Ad, peer, pool } from '../../test/fixtures/config/objects.ts';
import { nodeAddressDiagnostics, nodeAddressWarnings, reservedAsnReason } from './dangerous-values.ts';
import { resolveConfig } from './resolve.ts';

const warnings = (objects: LoadedObject[]) => {
  const r = resolveConfig(objects);
  assert.ok(r.config, JSON.stringify(r.diagnostics.filter((d) => d.severity === 'error')));
  return r.diagnostics.filter((d) => d.severity === 'warning').map((d) => `${d.object?.name} ${d.path}: ${d.message}`);
};

test('a pool of every address is a warning, for each family', () => {
  const w = warnings([pool('all', { addresses: ['0.0.0.0/0', '::/0'] })]);
  assert.equal(w.filter((x) => x.includes('is every IPv4 address')).length, 1);
  assert.equal(w.filter((x) => x.includes('is every IPv6 address')).length, 1);
});

test('special-purpose addresses in a pool: unspecified, loopback, link-local, multicast, broadcast', () => {
  const w = warnings([pool('odd', { addresses: ['0.0.0.0-0.0.0.3', '127.0.0.1/32', '169.254.1.0/24', '239.1.1.1/32', '255.255.255.255/32', '::/127', 'fe80::/64', 'ff02::1/128'] })]);
  for (const what of ['"this network"', 'loopback addresses (127', 'link-local addresses (169', 'multicast addresses (224', 'limited broadcast', 'unspecified address ::', 'loopback address ::1', 'link-local addresses (fe80', 'multicast addresses (ff00']) {
    assert.ok(w.some((x) => x.includes(what)), `${what} in ${w.join('\n')}`);
  }
  assert.deepEqual(warnings([pool('fine', { addresses: ['192.0.2.0/24', '2001:db8::/64'] })]), []);
});

test('.0/.255 in a layer-2 pool without avoidBuggyIPs (MetalLB\'s knob); not with it, not for BGP-only pools', () => {
  const w = warnings([pool('l2', { addresses: ['192.168.1.0/24'] }), l2Ad('x', { ipAddressPools: ['l2'] })]);
  assert.equal(w.length, 1);
  assert.match(w[0]!, /^l2 spec\.addresses\[0\]: "192\.168\.1\.0\/24" includes 192\.168\.1\.0 and possibly other addresses ending in \.0 or \.255, and layer 2 announces this pool: .* set avoidBuggyIPs: true/);
  assert.match(warnings([pool('l2', { addresses: ['192.168.1.250-192.168.2.3'] }), l2Ad('x', { ipAddressPools: ['l2'] })])[0]!, /includes 192\.168\.1\.255/);
  assert.deepEqual(warnings([pool('l2', { addresses: ['192.168.1.10-192.168.1.20'] }), l2Ad('x', { ipAddressPools: ['l2'] })]), []);
  assert.deepEqual(warnings([pool('l2', { addresses: ['192.168.1.0/24'], avoidBuggyIPs: true }), l2Ad('x', { ipAddressPools: ['l2'] })]), []);
  assert.deepEqual(warnings([pool('bgp', { addresses: ['192.168.1.0/24'] }), bgpAd('x', { ipAddressPools: ['bgp'] })]), []);
});

test('reserved AS numbers: AS_TRANS, RFC 7300\'s last ASNs, IANA\'s reserved block; private and public ones pass', () => {
  assert.match(reservedAsnReason(23456)!, /AS_TRANS \(RFC 6793\)/);
  assert.match(reservedAsnReason(4294967295)!, /RFC 7300/);
  assert.match(reservedAsnReason(65535)!, /RFC 7300/);
  assert.match(reservedAsnReason(70000)!, /IANA/);
  for (const ok of [64500, 64512, 65534, 4200000000, 13335]) assert.equal(reservedAsnReason(ok), undefined, String(ok));
  const w = warnings([peer('r1', { myASN: 23456, peerASN: 4294967295 }), pool('p', { addresses: ['192.0.2.0/24'] }), bgpAd('a', { asPrepend: { count: 1, asn: 65535 } })]);
  assert.deepEqual(w.map((x) => x.split(':')[0]), ['r1 spec.myASN', 'r1 spec.peerASN', 'a spec.asPrepend.asn']);
  assert.match(w[0]!, /AS 23456 is AS_TRANS .* use a public ASN you hold or a private one \(64512-65534, 4200000000-4294967294\)$/);
});

test("a Node's InternalIP or ExternalIP inside a pool is a warning naming the node", () => {
  const objects = [
    pool('p', { addresses: ['10.0.0.0/24'] }),
    unpositioned({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' }, spec: {}, status: { addresses: [{ type: 'InternalIP', address: '10.0.0.5' }, { type: 'Hostname', address: 'node-1' }] } }),
    unpositioned({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-2' }, spec: {}, status: { addresses: [{ type: 'InternalIP', address: '10.9.0.5' }] } }),
  ];
  const config = resolveConfig(objects).config;
  assert.deepEqual(nodeAddressDiagnostics(objects, config).map((d) => `${d.object?.name} ${d.path}: ${d.message}`), [
    'p spec.addresses: IPAddressPool "p" holds 10.0.0.5, the InternalIP of Node "node-1": a Service given it would take the node\'s own address; leave it out of the pool',
  ]);
});

test('the daemon\'s form: the same finding as a log line from Nodes and the Config', () => {
  const config = resolveConfig([pool('p', { addresses: ['10.0.0.0/24'] })]).config!;
  assert.deepEqual(nodeAddressWarnings([{ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: {}, status: { addresses: [{ type: 'ExternalIP', address: '10.0.0.9' }] } }], config), [
    'IPAddressPool "p" holds 10.0.0.9, the ExternalIP of Node "n1": a Service given it would take the node\'s own address; leave it out of the pool',
  ]);
});
