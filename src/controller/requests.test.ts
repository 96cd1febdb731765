// Requested addresses (issue #9 item 5): automatic assignment never takes an address a Service
// asks for by name, whatever order Services arrive in; requesters are served first; a failure
// says what actually stands in the way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Allocator, reconcileAll } from './ipam.ts';
import { config, ingressOf, pool, service } from '../../test/fixtures/controller/build.ts';

// Seed 000's production pool and its Services: two of them request .241 with one sharing key.
const production = pool('production-pool', ['192.168.1.240-192.168.1.250'], { avoidBuggyIPs: true });
const cfg = config(production);
const anyIp = service('a-web');
const critical = service('critical-service', { spec: { loadBalancerIP: '192.168.1.240' } });
const pinned = (name: string, port: number) => service(name, {
  annotations: { 'metallb.io/loadBalancerIPs': '192.168.1.241', 'metallb.io/allow-shared-ip': 'shared-key' }, ports: [[port]],
});

test('a full pass: name order puts the Service asking for any address first, yet requested addresses go to their requesters', () => {
  const r = reconcileAll(cfg, [anyIp, critical, pinned('pinned-a', 80), pinned('pinned-b', 443)]);
  const got = Object.fromEntries([...r.services].map(([k, w]) => [k, ingressOf({ loadBalancer: { ingress: w.ingress } })]));
  assert.deepEqual(got, {
    'default/a-web': ['192.168.1.242'],
    'default/critical-service': ['192.168.1.240'],
    'default/pinned-a': ['192.168.1.241'],
    'default/pinned-b': ['192.168.1.241'],
  });
  assert.deepEqual(r.events.filter((e) => e.type === 'Warning'), []);
});

test('one by one: a Service reconciled before the requester never takes the requested address once the request is known', () => {
  const alloc = new Allocator(cfg);
  alloc.noteRequests([anyIp, critical, pinned('pinned-a', 80)]);
  assert.deepEqual(ingressOf(alloc.reconcileService(anyIp, 0)!.status), ['192.168.1.242']);
  assert.deepEqual(ingressOf(alloc.reconcileService(critical, 0)!.status), ['192.168.1.240']);
  assert.deepEqual(ingressOf(alloc.reconcileService(pinned('pinned-a', 80), 0)!.status), ['192.168.1.241']);
});

test('a request withdrawn (Service deleted or request removed) frees the address for automatic assignment again', () => {
  const alloc = new Allocator(config(pool('tiny', ['10.0.0.1-10.0.0.2'])));
  const asker = service('asker', { spec: { loadBalancerIP: '10.0.0.1' } });
  alloc.noteRequests([asker]);
  assert.deepEqual(ingressOf(alloc.reconcileService(service('x'), 0)!.status), ['10.0.0.2']);
  const y = alloc.reconcileService(service('y'), 0)!;
  assert.deepEqual(ingressOf(y.status), []);
  // The pool looks half empty: the message says which address is kept for whom.
  assert.equal(y.events[0]!.message, 'Failed to allocate IP for "default/y": no available IPs; addresses other Services request by name are not handed out automatically: "10.0.0.1" (requested by default/asker)');
  alloc.deleteService('default/asker');
  assert.deepEqual(ingressOf(alloc.reconcileService(service('y'), 0)!.status), ['10.0.0.1']);
});

test('the failure names the real cause: who holds the address and with which sharing key', () => {
  const alloc = new Allocator(cfg);
  alloc.reconcileService(service('holder', { spec: { loadBalancerIP: '192.168.1.241' } }), 0);
  const out = alloc.reconcileService(pinned('pinned-a', 80), 0)!;
  assert.equal(out.events[0]!.reason, 'AllocationFailed');
  assert.equal(out.events[0]!.message, 'Failed to allocate IP for "default/pinned-a": can\'t change sharing key for "default/pinned-a", address also in use by ' +
    'default/holder: "192.168.1.241" is held with no allow-shared-ip key and this Service has allow-shared-ip "shared-key"; Services share an address only with the same non-empty allow-shared-ip key');
});
