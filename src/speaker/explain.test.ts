import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ad, config, node, peer, pool, service, slice } from '../../test/fixtures/speaker/builders.ts';
import { explainService } from './explain.ts';
import { planAnnouncements } from './plan.ts';

const cfg = config([pool('p4', ['192.0.2.0/24'])], [peer('r1', '10.0.0.1'), peer('r6', 'fd00::1')], [
  ad('agg', { pools: ['p4'], aggregationLength: 24 }),
]);
const plan = planAnnouncements({
  config: cfg,
  services: [service('web', { ips: ['192.0.2.7'] }), service('local', { ips: ['192.0.2.8'], etp: 'Local' }), service('cip', { type: 'ClusterIP' })],
  endpointSlices: [slice('web', [{ node: 'n2' }]), slice('local', [{ node: 'n2' }])],
  nodes: [node('n1'), node('n2')],
  nodeName: 'n1',
});

test('explain: an announced Service names prefix, peers and advertisements, and the peers left out', () => {
  assert.deepEqual(explainService(plan, 'default', 'web'), [
    'Service default/web on node "n1", IPs 192.0.2.7, pool "p4": announced from this node (1 prefix).',
    '  192.0.2.7: announced as 192.0.2.0/24 to peer "r1" (BGPAdvertisement "agg")',
    '  192.0.2.7 as 192.0.2.0/24 to peer "r6": not announced [addressFamilyMismatch]: the session with peer "r6" carries IPv6 only ' +
      'and 192.0.2.0/24 is IPv4 (dualStackAddressFamily would carry both)',
  ]);
});

test('explain: a Service this node does not announce says why', () => {
  assert.deepEqual(explainService(plan, 'default', 'local'), [
    'Service default/local on node "n1", IPs 192.0.2.8, pool "p4": not announced from this node.',
    '  192.0.2.8: not announced [noLocalEndpoints]: externalTrafficPolicy is Local and node "n1" has no ready or serving endpoint of the Service',
  ]);
  assert.deepEqual(explainService(plan, 'default', 'cip'), [
    'Service default/cip on node "n1": not announced from this node.',
    '  not announced [notLoadBalancer]: the Service is of type ClusterIP, not LoadBalancer',
  ]);
});

test('explain: an unknown Service', () => {
  assert.deepEqual(explainService(plan, 'default', 'nope'), ['Service default/nope: not known to node "n1".']);
});
