// MetalLB's allocation rules (metallb.md §2), one case each, with the exact event texts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Service } from '../api/resources.ts';
import { Allocator, type ServiceOutcome, reconcileAll } from './ipam.ts';
import { config, ingressOf, pool, service } from '../../test/fixtures/controller/build.ts';

const FROM = 'metallb.io/ip-allocated-from-pool';
const dual = { clusterIPs: ['10.96.0.1', 'fd00::1'] };

/** Applies an outcome to the Service, as the status writer would. */
function applied(svc: Service, o: ServiceOutcome): Service {
  return { ...svc, metadata: { ...svc.metadata, annotations: o.annotations }, status: o.status };
}

const ev = (o: ServiceOutcome | undefined): string[] => (o?.events ?? []).map((e) => `${e.type} ${e.reason}: ${e.message}`);
const ips = (o: ServiceOutcome | undefined): string[] => ingressOf(o!.status);

interface Case {
  name: string;
  pools: ReturnType<typeof pool>[];
  /** Services reconciled first (their outcomes are ignored), in order. */
  before?: Service[];
  svc: Service;
  lbClass?: string;
  ips?: string[];
  pool?: string;
  events?: string[];
  ignored?: boolean;
}

const p1 = pool('p1', ['1.2.3.0/30']);
const v6 = pool('v6', ['fc00::/64']);
const ds = pool('ds', ['5.5.5.0/30', 'fd01::/120']);

const cases: Case[] = [
  { name: 'first address of the pool, network address included', pools: [p1], svc: service('a'), ips: ['1.2.3.0'], pool: 'p1', events: ['Normal IPAllocated: Assigned IP ["1.2.3.0"]'] },
  { name: 'next free address', pools: [p1], before: [service('a')], svc: service('b'), ips: ['1.2.3.1'] },
  { name: 'pool exhausted', pools: [pool('one', ['1.2.3.4/32'])], before: [service('a')], svc: service('b'), ips: [], events: ['Warning AllocationFailed: Failed to allocate IP for "default/b": no available IPs'] },
  { name: 'no pools at all: cleared, nothing said', pools: [], svc: service('a', { ingress: ['1.2.3.0'] }), ips: [], events: [] },
  { name: 'not a LoadBalancer: state cleared', pools: [p1], svc: service('a', { ingress: ['1.2.3.0'], annotations: { [FROM]: 'p1' }, spec: { type: 'ClusterIP' } }), ips: [], events: [] },
  { name: 'no ClusterIPs: cleared without event', pools: [p1], svc: service('a', { spec: { clusterIPs: [] } }), ips: [], events: [] },
  { name: 'class set, controller without class: ignored', pools: [p1], svc: service('a', { spec: { loadBalancerClass: 'other' } }), ignored: true },
  { name: 'controller class X: Service without class ignored', pools: [p1], lbClass: 'X', svc: service('a'), ignored: true },
  { name: 'controller class X: Service of class X handled', pools: [p1], lbClass: 'X', svc: service('a', { spec: { loadBalancerClass: 'X' } }), ips: ['1.2.3.0'] },
  { name: 'spec.loadBalancerIP', pools: [p1], svc: service('a', { spec: { loadBalancerIP: '1.2.3.2' } }), ips: ['1.2.3.2'] },
  { name: 'loadBalancerIPs annotation', pools: [p1], svc: service('a', { annotations: { 'metallb.io/loadBalancerIPs': '1.2.3.3' } }), ips: ['1.2.3.3'] },
  {
    name: 'legacy annotation prefix works and draws the deprecation warning',
    pools: [p1],
    svc: service('a', { annotations: { 'metallb.universe.tf/loadBalancerIPs': '1.2.3.3' } }),
    ips: ['1.2.3.3'],
    events: ['Normal IPAllocated: Assigned IP ["1.2.3.3"]', 'Warning deprecatedAnnotation: Service uses deprecated annotation metallb.universe.tf/loadBalancerIPs'],
  },
  {
    name: 'annotation and spec.loadBalancerIP together',
    pools: [p1],
    svc: service('a', { annotations: { 'metallb.io/loadBalancerIPs': '1.2.3.3' }, spec: { loadBalancerIP: '1.2.3.3' } }),
    ips: [],
    events: ['Warning AllocationFailed: Failed to allocate IP for "default/a": service can not have both metallb.io/loadBalancerIPs and svc.Spec.LoadBalancerIP'],
  },
  {
    name: 'unparsable loadBalancerIPs',
    pools: [p1],
    svc: service('a', { annotations: { 'metallb.io/loadBalancerIPs': '1.2.3.3,nope' } }),
    events: ['Warning AllocationFailed: Failed to allocate IP for "default/a": invalid metallb.io/loadBalancerIPs: "1.2.3.3,nope"'],
  },
  {
    name: 'unparsable spec.loadBalancerIP',
    pools: [p1],
    svc: service('a', { spec: { loadBalancerIP: '1.2.3' } }),
    events: ['Warning AllocationFailed: Failed to allocate IP for "default/a": invalid spec.loadBalancerIP "1.2.3"'],
  },
  {
    name: 'requested address in no pool',
    pools: [p1],
    svc: service('a', { spec: { loadBalancerIP: '9.9.9.9' } }),
    events: ['Warning AllocationFailed: Failed to allocate IP for "default/a": ["9.9.9.9"] is not allowed in config'],
  },
  {
    name: 'requested family differs from the ClusterIP family',
    pools: [p1, v6],
    svc: service('a', { spec: { loadBalancerIP: 'fc00::5' } }),
    events: ['Warning AllocationFailed: Failed to allocate IP for "default/a": requested loadBalancer IP(s) ["fc00::5"] does not match the ipFamily of the service'],
  },
  {
    name: 'two requested addresses of one family',
    pools: [p1],
    svc: service('a', { annotations: { 'metallb.io/loadBalancerIPs': '1.2.3.1, 1.2.3.2' }, spec: dual }),
    events: ['Warning AllocationFailed: Failed to allocate IP for "default/a": IPFamilyForAddresses: same address family ["1.2.3.1" "1.2.3.2"]'],
  },
  {
    name: 'dual-stack request from one pool',
    pools: [ds],
    svc: service('a', { annotations: { 'metallb.io/loadBalancerIPs': '5.5.5.1,fd01::7' }, spec: { ...dual, ipFamilyPolicy: 'RequireDualStack' } }),
    ips: ['5.5.5.1', 'fd01::7'],
  },
  {
    name: 'requested address and pool annotation disagree',
    pools: [p1, ds],
    svc: service('a', { annotations: { 'metallb.io/address-pool': 'ds' }, spec: { loadBalancerIP: '1.2.3.1' } }),
    events: ['Warning AllocationFailed: Failed to allocate IP for "default/a": requested loadBalancer IP(s) ["1.2.3.1"] is not compatible with requested address pool ds'],
  },
  { name: 'pool annotation picks an autoAssign: false pool', pools: [p1, pool('manual', ['7.7.7.0/24'], { autoAssign: false })], svc: service('a', { annotations: { 'metallb.io/address-pool': 'manual' } }), ips: ['7.7.7.0'], pool: 'manual' },
  { name: 'autoAssign: false pools are never chosen on their own', pools: [pool('manual', ['7.7.7.0/24'], { autoAssign: false })], svc: service('a'), ips: [], events: ['Warning AllocationFailed: Failed to allocate IP for "default/a": no available IPs'] },
  { name: 'unknown pool', pools: [p1], svc: service('a', { annotations: { 'metallb.io/address-pool': 'nope' } }), events: ['Warning AllocationFailed: Failed to allocate IP for "default/a": unknown pool "nope"'] },
  {
    name: 'requested pool full',
    pools: [pool('one', ['1.2.3.4/32'])],
    before: [service('x')],
    svc: service('a', { annotations: { 'metallb.io/address-pool': 'one' } }),
    events: ['Warning AllocationFailed: Failed to allocate IP for "default/a": no available IPs in pool one'],
  },
  {
    name: 'requested pool has only the other family (MetalLB selects a nil address)',
    pools: [v6],
    svc: service('a', { annotations: { 'metallb.io/address-pool': 'v6' } }),
    events: ['Warning AllocationFailed: Failed to allocate IP for "default/a": ["<nil>"] is not allowed in config'],
  },
  {
    name: 'pinned pool (namespace) before general pools',
    pools: [pool('a-general', ['1.1.1.0/24']), pool('z-team', ['2.2.2.0/24'], { namespaces: ['team'] })],
    svc: service('s', { namespace: 'team' }),
    ips: ['2.2.2.0'],
  },
  {
    name: 'pinned pools by priority (positive ascending, then 0)',
    pools: [pool('a0', ['3.3.3.0/24'], { namespaces: ['team'] }), pool('b5', ['4.4.4.0/24'], { namespaces: ['team'], priority: 5 }), pool('c2', ['6.6.6.0/24'], { namespaces: ['team'], priority: 2 })],
    svc: service('s', { namespace: 'team' }),
    ips: ['6.6.6.0'],
  },
  {
    name: 'pinned by service selector',
    pools: [pool('a-general', ['1.1.1.0/24']), pool('web', ['2.2.2.0/24'], { serviceSelectors: [{ matchLabels: { app: 'web' } }] })],
    svc: service('s', { labels: { app: 'web' } }),
    ips: ['2.2.2.0'],
  },
  {
    name: 'a pool with serviceAllocation is never the general fallback',
    pools: [pool('team', ['2.2.2.0/24'], { namespaces: ['team'] })],
    svc: service('s', { namespace: 'other' }),
    events: ['Warning AllocationFailed: Failed to allocate IP for "default/s": no available IPs'].map((m) => m.replace('default/s', 'other/s')),
  },
  {
    name: 'serviceAllocation with only a priority matches everything',
    pools: [pool('a-general', ['1.1.1.0/24']), pool('z-all', ['2.2.2.0/24'], { priority: 1 })],
    svc: service('s'),
    ips: ['2.2.2.0'],
  },
  {
    name: 'general pools in name order (MetalLB: random)',
    pools: [pool('zz', ['1.1.1.0/24']), pool('aa', ['9.9.9.0/24'])],
    svc: service('s'),
    ips: ['9.9.9.0'],
    pool: 'aa',
  },
  { name: 'avoidBuggyIPs skips .0', pools: [pool('b', ['1.2.3.0/24'], { avoidBuggyIPs: true })], svc: service('a'), ips: ['1.2.3.1'] },
  {
    name: 'avoidBuggyIPs: a requested .255 is in no pool',
    pools: [pool('b', ['1.2.3.0/24'], { avoidBuggyIPs: true })],
    svc: service('a', { spec: { loadBalancerIP: '1.2.3.255' } }),
    events: ['Warning AllocationFailed: Failed to allocate IP for "default/a": ["1.2.3.255"] is not allowed in config'],
  },
  { name: 'IPv6 single stack', pools: [p1, v6], svc: service('a', { spec: { clusterIPs: ['fd00::1'] } }), ips: ['fc00::'] },
  { name: 'RequireDualStack from one pool', pools: [p1, v6, ds], svc: service('a', { spec: { ...dual, ipFamilyPolicy: 'RequireDualStack' } }), ips: ['5.5.5.0', 'fd01::'], pool: 'ds' },
  {
    name: 'RequireDualStack with one ClusterIP',
    pools: [ds],
    svc: service('a', { spec: { ipFamilyPolicy: 'RequireDualStack' } }),
    events: ['Warning not enough clusterips: Service requires dual stack but not enough clusterips [10.96.0.1]'],
  },
  { name: 'PreferDualStack: a dual pool', pools: [p1, ds], svc: service('a', { spec: { ...dual, ipFamilyPolicy: 'PreferDualStack' } }), ips: ['5.5.5.0', 'fd01::'] },
  { name: 'PreferDualStack: primary family (first) when no pool has both', pools: [p1, v6], svc: service('a', { spec: { ...dual, ipFamilyPolicy: 'PreferDualStack' } }), ips: ['1.2.3.0'] },
  { name: 'PreferDualStack: ipFamilies[0] IPv6 is primary', pools: [p1, v6], svc: service('a', { spec: { clusterIPs: ['fd00::1', '10.96.0.1'], ipFamilies: ['IPv6', 'IPv4'], ipFamilyPolicy: 'PreferDualStack' } }), ips: ['fc00::'] },
  { name: 'PreferDualStack with single-stack ClusterIP: one address', pools: [ds], svc: service('a', { spec: { ipFamilyPolicy: 'PreferDualStack' } }), ips: ['5.5.5.0'] },
  { name: 'sharing: same key, other port: same address', pools: [p1], before: [service('a', { annotations: { 'metallb.io/allow-shared-ip': 'k' } })], svc: service('b', { annotations: { 'metallb.io/allow-shared-ip': 'k' }, ports: [[443]] }), ips: ['1.2.3.0'] },
  { name: 'sharing: TCP and UDP on one port share', pools: [p1], before: [service('a', { annotations: { 'metallb.io/allow-shared-ip': 'k' }, ports: [[53]] })], svc: service('b', { annotations: { 'metallb.io/allow-shared-ip': 'k' }, ports: [[53, 'UDP']] }), ips: ['1.2.3.0'] },
  { name: 'sharing: same port: next address', pools: [p1], before: [service('a', { annotations: { 'metallb.io/allow-shared-ip': 'k' } })], svc: service('b', { annotations: { 'metallb.io/allow-shared-ip': 'k' } }), ips: ['1.2.3.1'] },
  { name: 'sharing: other key: next address', pools: [p1], before: [service('a', { annotations: { 'metallb.io/allow-shared-ip': 'k' } })], svc: service('b', { annotations: { 'metallb.io/allow-shared-ip': 'other' }, ports: [[443]] }), ips: ['1.2.3.1'] },
  {
    name: 'sharing: Local with the same selector shares',
    pools: [p1],
    before: [service('a', { annotations: { 'metallb.io/allow-shared-ip': 'k' }, spec: { externalTrafficPolicy: 'Local', selector: { app: 'x' } } })],
    svc: service('b', { annotations: { 'metallb.io/allow-shared-ip': 'k' }, ports: [[443]], spec: { externalTrafficPolicy: 'Local', selector: { app: 'x' } } }),
    ips: ['1.2.3.0'],
  },
  {
    name: 'sharing: Local and Cluster do not share',
    pools: [p1],
    before: [service('a', { annotations: { 'metallb.io/allow-shared-ip': 'k' }, spec: { externalTrafficPolicy: 'Local', selector: { app: 'x' } } })],
    svc: service('b', { annotations: { 'metallb.io/allow-shared-ip': 'k' }, ports: [[443]] }),
    ips: ['1.2.3.1'],
  },
  {
    name: 'requesting an address another Service holds without sharing',
    pools: [p1],
    before: [service('a')],
    svc: service('b', { spec: { loadBalancerIP: '1.2.3.0' }, ports: [[443]] }),
    events: ['Warning AllocationFailed: Failed to allocate IP for "default/b": can\'t change sharing key for "default/b", address also in use by default/a: "1.2.3.0" is in use and neither Service has an allow-shared-ip key (both need the same one to share it)'],
  },
  {
    name: 'requesting a shared address whose port is taken',
    pools: [p1],
    before: [service('a', { annotations: { 'metallb.io/allow-shared-ip': 'k' } })],
    svc: service('b', { annotations: { 'metallb.io/allow-shared-ip': 'k' }, spec: { loadBalancerIP: '1.2.3.0' } }),
    events: ['Warning AllocationFailed: Failed to allocate IP for "default/b": port TCP/80 is already in use on "1.2.3.0"'],
  },
];

for (const c of cases) {
  test(`rule: ${c.name}`, () => {
    const alloc = new Allocator(config(...c.pools), c.lbClass === undefined ? {} : { loadBalancerClass: c.lbClass });
    for (const b of c.before ?? []) alloc.reconcileService(b, 0);
    const out = alloc.reconcileService(c.svc, 0);
    if (c.ignored) { assert.equal(out, undefined); return; }
    assert.ok(out);
    if (c.ips) assert.deepEqual(ips(out), c.ips);
    if (c.pool) assert.equal(out.annotations[FROM], c.pool);
    if (c.ips?.length === 0) assert.equal(out.annotations[FROM], undefined);
    if (c.events) assert.deepEqual(ev(out), c.events);
  });
}

test('an allocated Service keeps its address and stays quiet on every later pass', () => {
  const alloc = new Allocator(config(p1));
  let svc = service('a', { annotations: { 'metallb.universe.tf/allow-shared-ip': 'k' } });
  const first = alloc.reconcileService(svc, 5)!;
  assert.deepEqual(ev(first), ['Normal IPAllocated: Assigned IP ["1.2.3.0"]', 'Warning deprecatedAnnotation: Service uses deprecated annotation metallb.universe.tf/allow-shared-ip']);
  assert.equal(first.events[0]!.timeMs, 5);
  assert.deepEqual(first.events[0]!.object, { namespace: 'default', name: 'a' });
  assert.ok(first.reprocessAll, 'a new sharing key is an allocation-key change');
  svc = applied(svc, first);
  const again = alloc.reconcileService(svc, 6)!;
  assert.equal(again.changed, false);
  assert.deepEqual(ev(again), []);
  assert.equal(again.reprocessAll, false);
});

test('type change away from LoadBalancer frees the address for others', () => {
  const alloc = new Allocator(config(pool('one', ['1.2.3.4/32'])));
  let a = service('a');
  a = applied(a, alloc.reconcileService(a, 0)!);
  assert.deepEqual(ev(alloc.reconcileService(service('b'), 0)), ['Warning AllocationFailed: Failed to allocate IP for "default/b": no available IPs']);
  const cleared = alloc.reconcileService({ ...a, spec: { ...a.spec, type: 'ClusterIP' } }, 0)!;
  assert.deepEqual(ips(cleared), []);
  assert.equal(cleared.annotations[FROM], undefined);
  assert.ok(cleared.reprocessAll, 'a freed address triggers reprocessing');
  assert.deepEqual(ips(alloc.reconcileService(service('b'), 0)), ['1.2.3.4']);
});

test('changing the requested address, or the pool annotation, moves the Service', () => {
  const alloc = new Allocator(config(p1, pool('p2', ['8.8.8.0/29'])));
  let a = service('a');
  a = applied(a, alloc.reconcileService(a, 0)!);
  const moved = alloc.reconcileService({ ...a, spec: { ...a.spec, loadBalancerIP: '1.2.3.3' } }, 0)!;
  assert.deepEqual(ips(moved), ['1.2.3.3']);
  a = applied({ ...a, spec: { ...a.spec, loadBalancerIP: '1.2.3.3' } }, moved);
  const repooled = alloc.reconcileService({ ...a, spec: { ...a.spec, loadBalancerIP: undefined }, metadata: { ...a.metadata, annotations: { ...a.metadata.annotations, 'metallb.io/address-pool': 'p2' } } }, 0)!;
  assert.deepEqual(ips(repooled), ['8.8.8.0']);
  assert.equal(repooled.annotations[FROM], 'p2');
  assert.deepEqual(ev(repooled), ['Normal IPAllocated: Assigned IP ["8.8.8.0"]']);
});

test('LoadBalancerFailed: an allocated Service whose request became invalid keeps its status', () => {
  const alloc = new Allocator(config(p1));
  let a = service('a');
  a = applied(a, alloc.reconcileService(a, 0)!);
  const bad = { ...a, metadata: { ...a.metadata, annotations: { ...a.metadata.annotations, 'metallb.io/loadBalancerIPs': '1.2.3.1' } }, spec: { ...a.spec, loadBalancerIP: '1.2.3.1' } };
  const out = alloc.reconcileService(bad, 0)!;
  assert.deepEqual(ev(out), ['Warning LoadBalancerFailed: invalid requested loadbalancer IPs: service can not have both metallb.io/loadBalancerIPs and svc.Spec.LoadBalancerIP']);
  assert.deepEqual(ips(out), ['1.2.3.0']);
  assert.equal(out.failed, true);
});

test('nolbIPsIPFamily: a status with two IPv4 addresses is replaced', () => {
  const alloc = new Allocator(config(p1));
  const out = alloc.reconcileService(service('a', { ingress: ['1.2.3.1', '1.2.3.2'] }), 0)!;
  assert.deepEqual(ev(out), [
    'Warning nolbIPsIPFamily: Failed to retrieve LBIPs IPFamily for ["1.2.3.1" "1.2.3.2"]: IPFamilyForAddresses: same address family ["1.2.3.1" "1.2.3.2"]',
    'Normal IPAllocated: Assigned IP ["1.2.3.0"]',
  ]);
});

test('noclusterIPsIPFamily: unreadable ClusterIPs leave an existing status alone', () => {
  const alloc = new Allocator(config(p1));
  const out = alloc.reconcileService(service('a', { ingress: ['1.2.3.1'], spec: { clusterIPs: ['None'] } }), 0)!;
  assert.deepEqual(ev(out), ['Warning noclusterIPsIPFamily: Failed to retrieve ClusterIPs IPFamily for ["None"] : IPFamilyForAddresses: Invalid address ["None"]']);
  assert.deepEqual(ips(out), ['1.2.3.1']);
  assert.equal(out.changed, false);
});

test('PreferDualStack: the missing family is added later from the same pool', () => {
  const v4only = pool('ds', ['5.5.5.0/30']);
  const alloc = new Allocator(config(v4only, v6));
  let a = service('a', { spec: { ...dual, ipFamilyPolicy: 'PreferDualStack' } });
  const first = alloc.reconcileService(a, 0)!;
  assert.deepEqual(ips(first), ['5.5.5.0']);
  a = applied(a, first);
  // Nothing of the other family in that pool: MetalLB says so on every pass (with its nil address).
  assert.deepEqual(ev(alloc.reconcileService(a, 0)), ['Normal AdditionalAssignFailed: cannot assign additional IP in PreferDualStack: ["5.5.5.0" "<nil>"] is not allowed in config']);
  alloc.setConfig(config(pool('ds', ['5.5.5.0/30', 'fd01::/120']), v6));
  const later = alloc.reconcileService(a, 0)!;
  assert.deepEqual(ips(later), ['5.5.5.0', 'fd01::']);
  assert.deepEqual(ev(later), ['Normal IPAllocated: Assigned additional IP "fd01::"']);
});

test('a Service may change its own sharing key while it is the only user', () => {
  const alloc = new Allocator(config(p1));
  let a = service('a', { annotations: { 'metallb.io/allow-shared-ip': 'k1' } });
  a = applied(a, alloc.reconcileService(a, 0)!);
  const out = alloc.reconcileService({ ...a, metadata: { ...a.metadata, annotations: { ...a.metadata.annotations, 'metallb.io/allow-shared-ip': 'k2' } } }, 0)!;
  assert.deepEqual(ips(out), ['1.2.3.0']);
  assert.deepEqual(ev(out), []);
  assert.ok(out.reprocessAll);
});

test('changing the sharing key of a shared address clears it (ClearAssignment) and moves on', () => {
  const alloc = new Allocator(config(p1));
  let a = service('a', { annotations: { 'metallb.io/allow-shared-ip': 'k' } });
  const b = service('b', { annotations: { 'metallb.io/allow-shared-ip': 'k' }, ports: [[443]] });
  a = applied(a, alloc.reconcileService(a, 0)!);
  assert.deepEqual(ips(alloc.reconcileService(b, 0)), ['1.2.3.0']);
  const out = alloc.reconcileService({ ...a, metadata: { ...a.metadata, annotations: { ...a.metadata.annotations, 'metallb.io/allow-shared-ip': 'other' } } }, 0)!;
  assert.deepEqual(ev(out), [
    'Normal ClearAssignment: current IP for "default/a" not allowed by config, will attempt for new IP assignment: can\'t change sharing key for "default/a", address also in use by default/b: "1.2.3.0" is held with allow-shared-ip "k" and this Service has allow-shared-ip "other"; Services share an address only with the same non-empty allow-shared-ip key',
    'Normal IPAllocated: Assigned IP ["1.2.3.1"]',
  ]);
});

test('config change: an address no longer in a pool is cleared and replaced; the rest stay', () => {
  const alloc = new Allocator(config(pool('p', ['1.2.3.0/29'])));
  let a = service('a');
  let b = service('b');
  a = applied(a, alloc.reconcileService(a, 0)!);
  b = applied(b, alloc.reconcileService(b, 0)!);
  const affected = alloc.setConfig(config(pool('p', ['1.2.3.1/32', '1.2.3.4/30'])));
  assert.deepEqual(affected, ['default/a']);
  const outA = alloc.reconcileService(a, 0)!;
  const outB = alloc.reconcileService(b, 0)!;
  assert.deepEqual(ev(outA), [
    'Normal ClearAssignment: current IP for "default/a" not allowed by config, will attempt for new IP assignment: ["1.2.3.0"] is not allowed in config',
    'Normal IPAllocated: Assigned IP ["1.2.3.4"]',
  ]);
  assert.deepEqual(ips(outB), ['1.2.3.1']);
  assert.equal(outB.changed, false);
});

test('config change: a pool that no longer admits the namespace clears the Service', () => {
  const alloc = new Allocator(config(pool('p', ['1.2.3.0/29']), pool('q', ['9.9.9.0/29'])));
  let a = service('a', { annotations: { 'metallb.io/address-pool': 'p' } });
  a = applied(a, alloc.reconcileService(a, 0)!);
  alloc.setConfig(config(pool('p', ['1.2.3.0/29'], { namespaces: ['team'] }), pool('q', ['9.9.9.0/29'])));
  const out = alloc.reconcileService(a, 0)!;
  assert.deepEqual(ev(out), [
    'Normal ClearAssignment: current IP for "default/a" not allowed by config, will attempt for new IP assignment: pool p not compatible for ip assignment',
    'Warning AllocationFailed: Failed to allocate IP for "default/a": pool p not compatible for ip assignment',
  ]);
});

test('restart: Services holding addresses are processed first and keep them', () => {
  // "a-pending" sorts first by name but must not take the address "z-owner" holds.
  const services = [service('a-pending'), service('z-owner', { ingress: ['1.2.3.4'], annotations: { [FROM]: 'one' } })];
  const r = reconcileAll(config(pool('one', ['1.2.3.4/32'])), services);
  assert.deepEqual(r.services.get('default/z-owner'), { ingress: [{ ip: '1.2.3.4' }], annotations: { [FROM]: 'one' }, changed: false });
  assert.deepEqual(r.services.get('default/a-pending')!.ingress, []);
  assert.deepEqual(r.events.map((e) => e.reason), ['AllocationFailed']);
  assert.deepEqual(r.poolStatus.get('one'), { assignedIPv4: 1, assignedIPv6: 0, availableIPv4: 0, availableIPv6: 0 });
});

test('reconcileAll with state: a deleted Service frees its address for a pending one', () => {
  const cfg = config(pool('one', ['1.2.3.4/32']));
  const first = reconcileAll(cfg, [service('a'), service('b')]);
  assert.deepEqual(first.services.get('default/a')!.ingress, [{ ip: '1.2.3.4' }]);
  const second = reconcileAll(cfg, [service('b')], first.state);
  assert.deepEqual(second.services.get('default/b')!.ingress, [{ ip: '1.2.3.4' }]);
  assert.equal(second.services.get('default/b')!.changed, true);
});

test('pool counters: exact, IPv6 /64 and /48 saturate at 2^63 - 1, never negative', () => {
  const alloc = new Allocator(config(pool('big', ['fc00::/48', '10.0.0.0/24']), pool('mid', ['fd00::/64']), pool('buggy', ['1.2.2.0/23', '1.2.9.0/25', '1.2.9.128/25', '1.2.8.255/32'], { avoidBuggyIPs: true })));
  assert.deepEqual(alloc.poolCounters('big'), { assignedIPv4: 0n, assignedIPv6: 0n, availableIPv4: 256n, availableIPv6: (1n << 63n) - 1n });
  assert.deepEqual(alloc.poolCounters('mid'), { assignedIPv4: 0n, assignedIPv6: 0n, availableIPv4: 0n, availableIPv6: (1n << 63n) - 1n });
  // 512 - 4 buggy in the /23; the two /25 halves lose one each; a lone .255 holds nothing usable.
  assert.deepEqual(alloc.poolCounters('buggy'), { assignedIPv4: 0n, assignedIPv6: 0n, availableIPv4: 508n + 254n, availableIPv6: 0n });
  alloc.reconcileService(service('a', { annotations: { 'metallb.io/address-pool': 'mid' }, spec: { clusterIPs: ['fd00::1'] } }), 0);
  assert.deepEqual(alloc.poolStatus('mid'), { assignedIPv4: 0, assignedIPv6: 1, availableIPv4: 0, availableIPv6: Number.MAX_SAFE_INTEGER });
  assert.equal(alloc.poolStatus('nope'), undefined);
});

test('deterministic: the same inputs give the same outputs, events included', () => {
  const cfg = config(pool('zz', ['1.1.1.0/30']), pool('aa', ['9.9.9.0/30']), ds);
  const svcs = [service('c', { spec: { ...dual, ipFamilyPolicy: 'PreferDualStack' } }), service('a'), service('b', { annotations: { 'metallb.io/allow-shared-ip': 'k' } }), service('d', { annotations: { 'metallb.io/allow-shared-ip': 'k' }, ports: [[443]] })];
  const one = reconcileAll(cfg, svcs, undefined, { now: 7 });
  const two = reconcileAll(cfg, [...svcs].reverse(), undefined, { now: 7 });
  assert.deepEqual([...two.services].sort(), [...one.services].sort());
  assert.deepEqual(two.events, one.events);
  assert.deepEqual(one.services.get('default/b')!.ingress, one.services.get('default/d')!.ingress);
});

test('config change: an address now in another pool is re-homed without being cleared', () => {
  const alloc = new Allocator(config(pool('old', ['1.2.3.0/29'])));
  let a = service('a');
  a = applied(a, alloc.reconcileService(a, 0)!);
  assert.deepEqual(alloc.setConfig(config(pool('new', ['1.2.3.0/28']))), ['default/a']);
  const out = alloc.reconcileService(a, 0)!;
  assert.deepEqual(ips(out), ['1.2.3.0']);
  assert.equal(out.annotations[FROM], 'new');
  assert.deepEqual(ev(out), []);
  assert.deepEqual(alloc.poolStatus('new'), { assignedIPv4: 1, assignedIPv6: 0, availableIPv4: 15, availableIPv6: 0 });
});

test('restart: a PreferDualStack holder processed first cannot take a later holder\'s address', () => {
  // s0 sorts before s1; in MetalLB its "additional family" step would take s1's only address.
  const cfg = config(pool('pb', ['10.0.1.0/24', 'fd00:0:0:1::/128']));
  const s0 = service('s0', { ingress: ['10.0.1.0'], annotations: { [FROM]: 'pb' }, spec: { ...dual, ipFamilyPolicy: 'PreferDualStack' } });
  const s1 = service('s1', { ingress: ['fd00:0:0:1::'], annotations: { [FROM]: 'pb' }, spec: { clusterIPs: ['fd96::1'] } });
  for (const restart of [(a: Allocator) => [...a.rebuild([s0, s1]).values()], (a: Allocator) => a.restartPass([{ svc: s0, key: 'default/s0', n: 1 }, { svc: s1, key: 'default/s1', n: 1 }], 0)]) {
    const outs = restart(new Allocator(cfg));
    assert.deepEqual(outs.map((o) => [o.key, ips(o)]), [['default/s0', ['10.0.1.0']], ['default/s1', ['fd00:0:0:1::']]]);
    assert.deepEqual(outs.flatMap(ev), ['Normal AdditionalAssignFailed: cannot assign additional IP in PreferDualStack: ["10.0.1.0" "<nil>"] is not allowed in config']);
  }
});
