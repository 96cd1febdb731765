// End to end through the real loader and resolver: YAML → Config → plan, per node.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadText } from '../api/load.ts';
import type { EndpointSlice, Node, Service } from '../api/resources.ts';
import { resolveConfig } from '../config/resolve.ts';
import { formatCommunity } from '../net/community.ts';
import { formatPrefix } from '../net/prefix.ts';
import { loadFixture } from '../../test/fixtures/config/load.ts';
import { node, service, slice } from '../../test/fixtures/speaker/builders.ts';
import { worldYaml } from '../../test/fixtures/speaker/world.ts';
import { conflictDrops } from './conflicts.ts';
import { planAnnouncements } from './plan.ts';
import type { AnnouncementPlan } from './plan-types.ts';

const loaded = loadText(worldYaml, 'world.yaml');
const resolved = resolveConfig(loaded.objects);
const ofKind = <T>(kind: string): T[] => loaded.objects.filter((o) => o.object.kind === kind).map((o) => o.object as T);

function planFor(nodeName: string): AnnouncementPlan {
  assert.ok(resolved.config, `config resolves: ${JSON.stringify(resolved.diagnostics.map((d) => d.message))}`);
  return planAnnouncements({
    config: resolved.config, services: ofKind<Service>('Service'), endpointSlices: ofKind<EndpointSlice>('EndpointSlice'),
    nodes: ofKind<Node>('Node'), nodeName,
  });
}

const table = (p: AnnouncementPlan): Record<string, string[]> => Object.fromEntries(p.peers.map((pp) => [pp.peer.name, pp.routes.map((r) =>
  `${formatPrefix(r.prefix)} lp=${r.attributes.localPref ?? '-'} ${r.attributes.communities.map(formatCommunity).join(',')}`)]));

test('the fixture loads without errors', () => {
  assert.deepEqual(loaded.diagnostics.filter((d) => d.severity === 'error'), []);
  assert.equal(resolved.diagnostics.filter((d) => d.severity === 'error').length, 0);
});

test('node1 (endpoint of the Local service, not of api) announces both services', () => {
  assert.deepEqual(table(planFor('node1')), {
    'tor-a': ['192.0.2.0/24 lp=50 64512:100', '192.0.2.10/32 lp=100 65535:65282', '192.0.2.11/32 lp=100 65535:65282'],
    'tor-b': ['192.0.2.10/32 lp=100 65535:65282', '192.0.2.11/32 lp=100 65535:65282', '2001:db8:1::11/128 lp=100 65535:65282'],
  });
});

test('node2 announces only the Cluster service; tor-a gets no IPv6', () => {
  const p = planFor('node2');
  assert.deepEqual(table(p), {
    'tor-a': ['192.0.2.0/24 lp=50 64512:100', '192.0.2.11/32 lp=100 65535:65282'],
    'tor-b': ['192.0.2.11/32 lp=100 65535:65282', '2001:db8:1::11/128 lp=100 65535:65282'],
  });
  const api = p.services.find((s) => s.name === 'api')!;
  assert.ok(api.entries.some((e) => e.kind === 'notAnnounced' && e.reason === 'addressFamilyMismatch' && e.peer === 'tor-a'));
  assert.ok(api.entries.some((e) => e.kind === 'notAnnounced' && e.reason === 'peerNotSelectedByAdvertisement' && e.peer === 'tor-b'));
  assert.equal(p.services.find((s) => s.name === 'web')!.entries[0]!.kind === 'notAnnounced' ? 'refused' : 'announced', 'refused');
});

test('node3 is excluded from load balancers: sessions run, nothing is announced', () => {
  const p = planFor('node3');
  assert.deepEqual(table(p), { 'tor-a': [], 'tor-b': [] });
  for (const s of p.services) for (const e of s.entries) assert.equal(e.kind === 'notAnnounced' && e.reason, 'nodeLabeledExcludeBalancers');
});

test("seed 000 (issue #9): production + prepend advertisements: every router keeps the production Services, router-3 gets the prepended path", () => {
  const objects = loadFixture('000-bgp-peers.yaml', '000-ipaddresspool.yaml', '000-bgp-advertisement.yaml', '000-as-path-prepending.yaml')
    .filter((o, i, all) => all.findIndex((x) => x.object.kind === o.object.kind && x.object.metadata.name === o.object.metadata.name) === i);
  const r = resolveConfig(objects);
  assert.ok(r.config, JSON.stringify(r.diagnostics.filter((d) => d.severity === 'error')));
  const p = planAnnouncements({
    config: r.config, services: [service('web', { ips: ['192.168.1.241'] })], endpointSlices: [slice('web', [{ node: 'node-1' }])],
    nodes: [node('node-1')], nodeName: 'node-1',
  });
  const routes = Object.fromEntries(p.peers.map((pp) => [pp.peer.name, pp.routes.map((rt) =>
    `${formatPrefix(rt.prefix)} ${rt.attributes.communities.map(formatCommunity).join(',')}${rt.attributes.asPrepend ? ` prepend ${rt.attributes.asPrepend.count}x${rt.attributes.asPrepend.asn}` : ''}`)]));
  assert.deepEqual(routes, {
    'router-1': ['192.168.1.241/32 64500:100'],
    'router-2': ['192.168.1.241/32 64500:100'],
    'router-3': ['192.168.1.241/32 64500:100 prepend 2x64500'],
  });
  assert.deepEqual(conflictDrops(p), []);
});
