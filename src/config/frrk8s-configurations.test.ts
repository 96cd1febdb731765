import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadText } from '../api/load.ts';
import { formatDiagnostic } from '../api/diagnostics.ts';
import { parsePrefix } from '../net/prefix.ts';
import { filterMatches, receiveAllows, resolveFrrConfigurations } from './frrk8s-configurations.ts';

const header = 'apiVersion: frrk8s.metallb.io/v1beta1\nkind: FRRConfiguration\nmetadata:\n  name: f\n  namespace: metallb-system\n';
const resolveText = (text: string) => {
  const loaded = loadText(text, 'f.yaml');
  const r = resolveFrrConfigurations(loaded.objects);
  return { ...r, all: [...loaded.diagnostics, ...r.diagnostics].map(formatDiagnostic) };
};
const P = (t: string) => parsePrefix(t)!.prefix;

test('seed 001: the FRRConfiguration letting a BGPPeer\'s routes in resolves', () => {
  const text = readFileSync(new URL('../../test/fixtures/seeds/001-frr-k8s.yaml', import.meta.url), 'utf8');
  const r = resolveText(text);
  assert.deepEqual(r.all, []);
  const [c] = r.configurations;
  assert.equal(c?.id, 'metallb-system/with-recv');
  const n = c.routers[0]!.neighbors[0]!;
  assert.equal(n.key, '|172.30.0.3');
  assert.equal(n.asn, 64512);
  assert.deepEqual(n.toReceive, { mode: 'all', prefixes: [] });
  assert.equal(n.toAdvertise.mode, 'filtered');
});

test('fields ironlb\'s speaker cannot honour are refused by name, with file:line', () => {
  const r = resolveText(header + [
    'spec:',
    '  raw:',
    '    rawConfig: "router bgp 64512"',
    '  bgp:',
    '    routers:',
    '    - asn: 64512',
    '      imports: [{vrf: red}]',
    '      evpn: {advertiseSVI: true}',
    '      neighbors:',
    '      - address: 10.0.0.1',
    '        asn: 64513',
    '        sourceaddress: eth0',
    '        addressFamilies: [unicast, evpn]',
    '        toAdvertise: {nextHop: {ipv4: 10.0.0.9}}',
  ].join('\n') + '\n');
  assert.deepEqual(r.configurations, []);
  assert.deepEqual(r.diagnostics.map((d) => d.path).sort(), [
    'spec.bgp.routers[0].evpn', 'spec.bgp.routers[0].imports', 'spec.bgp.routers[0].neighbors[0].addressFamilies',
    'spec.bgp.routers[0].neighbors[0].sourceaddress', 'spec.bgp.routers[0].neighbors[0].toAdvertise.nextHop', 'spec.raw',
  ]);
  assert.match(r.all.find((d) => d.includes('spec.raw'))!, /^f\.yaml:7:3: error: FRRConfiguration\/metallb-system\/f: spec\.raw: raw FRR configuration is not supported/);
});

test('a field frr-k8s does not have (toReceive.denied) is an unknown-field error naming what is allowed', () => {
  const r = resolveText(header + 'spec:\n  bgp:\n    routers:\n    - asn: 64512\n      neighbors:\n      - address: 10.0.0.1\n        asn: 64513\n        toReceive: {denied: {mode: all}}\n');
  assert.deepEqual(r.all, [
    'f.yaml:13:21: error: FRRConfiguration/metallb-system/f: spec.bgp.routers[0].neighbors[0].toReceive.denied: unknown field "denied" (allowed here: allowed)',
  ]);
});

test('self-containment, neighbour and prefix-list rules', () => {
  const r = resolveText(header + [
    'spec:',
    '  bgp:',
    '    routers:',
    '    - asn: 64512',
    '      prefixes: [192.168.10.0/24]',
    '      neighbors:',
    '      - address: 10.0.0.1',
    '        bfdProfile: missing',
    '        toAdvertise:',
    '          allowed: {prefixes: [192.168.99.0/24]}',
    '          withCommunity: [{prefixes: [192.168.10.0/24], community: "1:2"}]',
    '        toReceive:',
    '          allowed: {prefixes: [{prefix: 10.1.0.0/16, ge: 16}, {prefix: 10.2.0.0/16, ge: 24, le: 20}]}',
    '      - address: 10.0.0.1',
    '        asn: 64513',
    '        port: 0',
  ].join('\n') + '\n');
  assert.deepEqual(r.all.map((d) => d.replace(/^f\.yaml:\d+:\d+: error: FRRConfiguration\/metallb-system\/f: spec\.bgp\.routers\[0\]\./, '')), [
    'neighbors[0].asn: set exactly one of asn (the peer\'s AS number, 1..4294967295) and dynamicASN (internal or external)',
    'neighbors[0].bfdProfile: BFD profile "missing" is not in this object\'s spec.bgp.bfdProfiles (each FRRConfiguration must be self-contained)',
    'neighbors[0].toAdvertise.allowed.prefixes[0]: 192.168.99.0/24 is not among this router\'s prefixes: a neighbour may advertise only prefixes its own router lists (each FRRConfiguration must be self-contained)',
    'neighbors[0].toAdvertise.withCommunity[0].prefixes[0]: 192.168.10.0/24 is not advertised to this neighbour: add it to toAdvertise.allowed.prefixes (or set mode: all)',
    'neighbors[0].toReceive.allowed.prefixes[0].ge: ge 16 must be longer than the prefix\'s /16 and at most 32',
    'neighbors[0].toReceive.allowed.prefixes[1].le: le 20 must be from 24 to 32',
    'neighbors[1].port: port 0 cannot be dialled: want 1..16384 (default 179)',
    'neighbors[1]: a second neighbour 10.0.0.1 in this router (neighbors[0] is the first)',
  ]);
});

test('one invalid object does not take the others with it', () => {
  const good = header.replace('name: f', 'name: good') + 'spec:\n  bgp:\n    routers:\n    - asn: 64512\n';
  const bad = header.replace('name: f', 'name: bad') + 'spec:\n  bgp:\n    routers:\n    - asn: 0\n';
  const r = resolveText(`${bad}---\n${good}`);
  assert.deepEqual(r.configurations.map((c) => c.id), ['metallb-system/good']);
  assert.equal(r.diagnostics.length, 1);
});

test('received prefixes: FRR prefix-list semantics for le/ge, mode all, nothing without a policy', () => {
  const exact = { prefix: P('10.1.0.0/16') };
  assert.equal(filterMatches(exact, P('10.1.0.0/16')), true);
  assert.equal(filterMatches(exact, P('10.1.1.0/24')), false);
  const le = { prefix: P('10.1.0.0/16'), le: 24 };
  assert.equal(filterMatches(le, P('10.1.0.0/16')), true);
  assert.equal(filterMatches(le, P('10.1.7.0/24')), true);
  assert.equal(filterMatches(le, P('10.1.7.128/25')), false);
  assert.equal(filterMatches(le, P('10.2.0.0/24')), false);
  const ge = { prefix: P('10.1.0.0/16'), ge: 28 };
  assert.equal(filterMatches(ge, P('10.1.0.0/24')), false);
  assert.equal(filterMatches(ge, P('10.1.3.16/28')), true);
  assert.equal(filterMatches(ge, P('10.1.3.1/32')), true);
  assert.equal(filterMatches({ prefix: P('fd00::/8'), le: 64 }, P('fd00:1::/48')), true);
  assert.equal(filterMatches({ prefix: P('fd00::/8'), le: 64 }, P('10.0.0.0/8')), false);
  assert.equal(receiveAllows(undefined, P('10.0.0.0/8')), false);
  assert.equal(receiveAllows({ mode: 'all', prefixes: [] }, P('10.0.0.0/8')), true);
  assert.equal(receiveAllows({ mode: 'filtered', prefixes: [] }, P('10.0.0.0/8')), false);
});
