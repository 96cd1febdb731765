import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EndpointSlice, Node, Service } from '../api/resources.ts';
import type { Config } from '../config/types.ts';
import { formatCommunity } from '../net/community.ts';
import { formatPrefix } from '../net/prefix.ts';
import { ad, config, node, peer, pool, service, slice } from '../../test/fixtures/speaker/builders.ts';
import { standInSlices, withLocalEndpoints } from '../daemon/synthesize.ts';
import { IncrementalPlan } from './plan-incremental.ts';
import { planAnnouncements, type PlanOptions } from './plan.ts';
import { type AnnouncementPlan, type NotAnnouncedReason, notAnnouncedReasons } from './plan-types.ts';

// ---- a base world: one node n1, two IPv4 peers and one IPv6 peer, one IPv4 and one IPv6 pool ----

const p4 = pool('p4', ['192.0.2.0/24']);
const p6 = pool('p6', ['2001:db8::/64']);
const r1 = peer('r1', '10.0.0.1');
const r2 = peer('r2', '10.0.0.2');
const r6 = peer('r6', 'fd00::1');
/** iBGP (peerASN = myASN): the only kind of peer LOCAL_PREF is sent to. */
const ri = peer('ri', '10.0.0.9', { peerAsn: 64500 });
const adAll = ad('all', { pools: ['p4', 'p6'] });
const baseConfig = config([p4, p6], [r1, r2, r6], [adAll]);
const n1 = node('n1', { rack: 'a' });
const n2 = node('n2', { rack: 'b' });

interface World {
  config?: Config;
  services: Service[];
  slices?: EndpointSlice[];
  nodes?: Node[];
  nodeName?: string;
  options?: PlanOptions;
}

const seen = new Set<NotAnnouncedReason>();

function plan(w: World): AnnouncementPlan {
  const p = planAnnouncements({
    config: w.config ?? baseConfig, services: w.services, endpointSlices: w.slices ?? [],
    nodes: w.nodes ?? [n1, n2], nodeName: w.nodeName ?? 'n1', ...(w.options ? { options: w.options } : {}),
  });
  for (const s of p.services) for (const e of s.entries) if (e.kind === 'notAnnounced') seen.add(e.reason);
  return p;
}

/** `reason` per entry of one Service: 'announced:PREFIX->peers' or 'REASON[@ip][>peer]'. */
function summary(p: AnnouncementPlan, name: string): string[] {
  const s = p.services.find((x) => x.name === name);
  assert.ok(s, `service ${name} in plan`);
  return s.entries.map((e) => e.kind === 'announced'
    ? `announced:${formatPrefix(e.prefix)}->${e.peers.join(',')}`
    : `${e.reason}${e.ip !== undefined ? `@${e.ip}` : ''}${e.peer !== undefined ? `>${e.peer}` : ''}`);
}

/** Routes per peer as text: 'r1: 192.0.2.1/32 lp=100 med=5 c=[..] prepend=2x'. */
function routes(p: AnnouncementPlan): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const pp of p.peers) {
    out[pp.peer.name] = pp.routes.map((r) => {
      const a = r.attributes;
      return [formatPrefix(r.prefix), a.localPref !== undefined ? `lp=${a.localPref}` : '', a.med !== undefined ? `med=${a.med}` : '',
        a.communities.length > 0 ? `c=${a.communities.map(formatCommunity).join(',')}` : '',
        a.asPrepend ? `prepend=${a.asPrepend.count}x${a.asPrepend.asn ?? ''}` : ''].filter((x) => x !== '').join(' ');
    });
  }
  return out;
}

const ready = (svc: string, nodeName = 'n1'): EndpointSlice => slice(svc, [{ node: nodeName }]);
const v4 = (name: string, ip = '192.0.2.10', o: Parameters<typeof service>[1] = {}): Service => service(name, { ips: [ip], ...o });

// ---- table: one Service, one rule, the expected entries ----

interface Case { name: string; world: World; expect: string[]; routes?: Record<string, string[]> }

const cases: Case[] = [
  {
    name: 'Cluster service with an endpoint anywhere is announced to every same-family peer',
    world: { services: [v4('a')], slices: [ready('a', 'n2')] },
    expect: ['announced:192.0.2.10/32->r1,r2', 'addressFamilyMismatch@192.0.2.10>r6'],
    routes: { r1: ['192.0.2.10/32'], r2: ['192.0.2.10/32'], r6: [] },
  },
  { name: 'not a LoadBalancer', world: { services: [v4('a', '192.0.2.10', { type: 'ClusterIP' })], slices: [ready('a')] }, expect: ['notLoadBalancer'] },
  {
    name: 'a class set and no class handled',
    world: { services: [v4('a', '192.0.2.10', { loadBalancerClass: 'other' })], slices: [ready('a')] },
    expect: ['loadBalancerClassMismatch'],
  },
  {
    name: 'no class while the speaker handles a class',
    world: { services: [v4('a')], slices: [ready('a')], options: { loadBalancerClass: 'ironlb' } },
    expect: ['loadBalancerClassMismatch'],
  },
  {
    name: 'the class the speaker handles',
    world: { services: [v4('a', '192.0.2.10', { loadBalancerClass: 'ironlb' })], slices: [ready('a')], options: { loadBalancerClass: 'ironlb' } },
    expect: ['announced:192.0.2.10/32->r1,r2', 'addressFamilyMismatch@192.0.2.10>r6'],
  },
  { name: 'no IP yet', world: { services: [service('a')], slices: [ready('a')] }, expect: ['noIPAllocated'] },
  { name: 'ingress is not an IP', world: { services: [v4('a', 'not-an-ip')], slices: [ready('a')] }, expect: ['invalidIP'] },
  { name: 'IP in no pool', world: { services: [v4('a', '198.51.100.1')], slices: [ready('a')] }, expect: ['ipNotAllowed@198.51.100.1'] },
  {
    name: 'dual-stack IPs must sit in one pool',
    world: { services: [service('a', { ips: ['192.0.2.10', '2001:db8::10'] })], slices: [ready('a')] },
    expect: ['ipNotAllowed@192.0.2.10', 'ipNotAllowed@2001:db8::10'],
  },
  { name: 'this node is not among the Nodes', world: { services: [v4('a')], slices: [ready('a')], nodes: [n2] }, expect: ['nodeNotFound@192.0.2.10'] },
  {
    name: 'no advertisement selects this node',
    world: { config: config([p4], [r1], [ad('b', { pools: ['p4'], nodeSelectors: [{ rack: 'b' }] })]), services: [v4('a')], slices: [ready('a')] },
    expect: ['notOwner@192.0.2.10'],
  },
  {
    name: 'the pool has no BGP advertisement',
    world: { config: config([p4], [r1], []), services: [v4('a')], slices: [ready('a')] },
    expect: ['notOwner@192.0.2.10'],
  },
  {
    name: 'serviceSelectors leave the Service out',
    world: { config: config([p4], [r1], [ad('web', { pools: ['p4'], serviceSelectors: [{ app: 'web' }] })]), services: [v4('a', '192.0.2.10', { labels: { app: 'db' } })], slices: [ready('a')] },
    expect: ['noMatchingAdvertisement@192.0.2.10'],
  },
  {
    name: 'serviceSelectors match',
    world: { config: config([p4], [r1], [ad('web', { pools: ['p4'], serviceSelectors: [{ app: 'db' }, { app: 'web' }] })]), services: [v4('a', '192.0.2.10', { labels: { app: 'web' } })], slices: [ready('a')] },
    expect: ['announced:192.0.2.10/32->r1'],
  },
  {
    name: 'different localPrefs for the same prefix: refused on the iBGP peer only, the eBGP peer gets it without LOCAL_PREF',
    world: { config: config([p4], [r1, ri], [ad('x', { pools: ['p4'], localPref: 100 }), ad('y', { pools: ['p4'], localPref: 200 })]), services: [v4('a')], slices: [ready('a')] },
    expect: ['announced:192.0.2.10/32->r1', 'conflictingAdvertisements@192.0.2.10>ri'], routes: { r1: ['192.0.2.10/32'], ri: [] },
  },
  {
    name: 'localPref set on one advertisement and unset on the other: the set value applies',
    world: { config: config([p4], [ri], [ad('x', { pools: ['p4'] }), ad('y', { pools: ['p4'], localPref: 100 })]), services: [v4('a')], slices: [ready('a')] },
    expect: ['announced:192.0.2.10/32->ri'], routes: { ri: ['192.0.2.10/32 lp=100'] },
  },
  {
    name: 'different localPref to disjoint peers is fine',
    world: { config: config([p4], [r1, r2], [ad('x', { pools: ['p4'], localPref: 100, peers: ['r1'] }), ad('y', { pools: ['p4'], localPref: 200, peers: ['r2'] })]), services: [v4('a')], slices: [ready('a')] },
    expect: ['announced:192.0.2.10/32->r1,r2'], routes: { r1: ['192.0.2.10/32 lp=100'], r2: ['192.0.2.10/32 lp=200'] },
  },
  {
    name: 'different localPref at different aggregation lengths is fine',
    world: { config: config([p4], [r1], [ad('x', { pools: ['p4'], localPref: 100 }), ad('y', { pools: ['p4'], localPref: 200, aggregationLength: 24 })]), services: [v4('a')], slices: [ready('a')] },
    expect: ['announced:192.0.2.0/24->r1', 'announced:192.0.2.10/32->r1'], routes: { r1: ['192.0.2.0/24 lp=200', '192.0.2.10/32 lp=100'] },
  },
  {
    name: 'med differs between two advertisements of the same route: refused on each peer both reach',
    world: { config: config([p4], [r1, r2], [ad('x', { pools: ['p4'], med: 10 }), ad('y', { pools: ['p4'], med: 20, peers: ['r1'] })]), services: [v4('a')], slices: [ready('a')] },
    expect: ['announced:192.0.2.10/32->r2', 'conflictingAdvertisements@192.0.2.10>r1'], routes: { r1: [], r2: ['192.0.2.10/32 med=10'] },
  },
  {
    name: 'asPrepend on an advertisement for one peer: that peer gets the prepended path, the others the plain one',
    world: { config: config([p4], [r1, r2], [ad('x', { pools: ['p4'], asPrepend: { count: 2 }, peers: ['r2'] }), ad('y', { pools: ['p4'], med: 5 })]), services: [v4('a')], slices: [ready('a')] },
    expect: ['announced:192.0.2.10/32->r1,r2'], routes: { r1: ['192.0.2.10/32 med=5'], r2: ['192.0.2.10/32 med=5 prepend=2x'] },
  },
  {
    name: 'two different asPrepends for the same route and peer',
    world: { config: config([p4], [r1], [ad('x', { pools: ['p4'], asPrepend: { count: 2 } }), ad('y', { pools: ['p4'], asPrepend: { count: 3 } })]), services: [v4('a')], slices: [ready('a')] },
    expect: ['conflictingAdvertisements@192.0.2.10>r1'], routes: { r1: [] },
  },
  {
    name: 'equal single values, communities merged across advertisements',
    world: {
      config: config([p4], [r1], [
        ad('x', { pools: ['p4'], localPref: 150, med: 7, asPrepend: { count: 2, asn: 64999 }, communities: ['64500:1', '64500:2'] }),
        ad('y', { pools: ['p4'], localPref: 150, med: 7, asPrepend: { count: 2, asn: 64999 }, communities: ['64500:2', 'large:1:2:3'] }),
      ]),
      services: [v4('a')], slices: [ready('a')],
    },
    expect: ['announced:192.0.2.10/32->r1'], routes: { r1: ['192.0.2.10/32 lp=150 med=7 c=64500:1,64500:2,large:1:2:3 prepend=2x64999'] },
  },
  {
    name: 'NetworkUnavailable=True',
    world: { services: [v4('a')], slices: [ready('a')], nodes: [node('n1', {}, [{ type: 'NetworkUnavailable', status: 'True' }])] },
    expect: ['nodeNetworkUnavailable@192.0.2.10'], routes: { r1: [], r2: [], r6: [] },
  },
  {
    name: 'NetworkUnavailable=False is no obstacle',
    world: { config: config([p4], [r1], [adAll]), services: [v4('a')], slices: [ready('a')], nodes: [node('n1', {}, [{ type: 'NetworkUnavailable', status: 'False' }])] },
    expect: ['announced:192.0.2.10/32->r1'],
  },
  {
    name: 'exclude-from-external-load-balancers label (any value)',
    world: { services: [v4('a')], slices: [ready('a')], nodes: [node('n1', { 'node.kubernetes.io/exclude-from-external-load-balancers': '' })] },
    expect: ['nodeLabeledExcludeBalancers@192.0.2.10'],
  },
  {
    name: 'exclude label ignored with ignoreExcludeLb',
    world: {
      config: config([p4], [r1], [adAll]), services: [v4('a')], slices: [ready('a')],
      nodes: [node('n1', { 'node.kubernetes.io/exclude-from-external-load-balancers': 'true' })], options: { ignoreExcludeLb: true },
    },
    expect: ['announced:192.0.2.10/32->r1'],
  },
  {
    name: 'Local: endpoint only on another node',
    world: { services: [v4('a', '192.0.2.10', { etp: 'Local' })], slices: [ready('a', 'n2')] },
    expect: ['noLocalEndpoints@192.0.2.10'],
  },
  {
    name: 'Local: endpoint here',
    world: { config: config([p4], [r1], [adAll]), services: [v4('a', '192.0.2.10', { etp: 'Local' })], slices: [slice('a', [{ node: 'n2' }, { node: 'n1', ready: true }])] },
    expect: ['announced:192.0.2.10/32->r1'],
  },
  {
    name: 'Local: an endpoint without nodeName is not local',
    world: { services: [v4('a', '192.0.2.10', { etp: 'Local' })], slices: [slice('a', [{}])] },
    expect: ['noLocalEndpoints@192.0.2.10'],
  },
  { name: 'Cluster: no endpoint at all', world: { services: [v4('a')] }, expect: ['noEndpoints@192.0.2.10'] },
  {
    name: 'Cluster: only a not-ready, not-serving endpoint',
    world: { services: [v4('a')], slices: [slice('a', [{ node: 'n1', ready: false, serving: false }])] },
    expect: ['noEndpoints@192.0.2.10'],
  },
  {
    name: 'an endpoint with no addresses does not count',
    world: { services: [v4('a')], slices: [slice('a', [{ node: 'n1', addresses: [] }])] },
    expect: ['noEndpoints@192.0.2.10'],
  },
  {
    name: 'a slice of a Service of the same name in another namespace does not count',
    world: { services: [v4('a')], slices: [slice('a', [{ node: 'n1' }], 'other')] },
    expect: ['noEndpoints@192.0.2.10'],
  },
  {
    name: 'Local: not ready but serving counts (MetalLB EndpointCanServe)',
    world: { config: config([p4], [r1], [adAll]), services: [v4('a', '192.0.2.10', { etp: 'Local' })], slices: [slice('a', [{ node: 'n1', ready: false, serving: true }])] },
    expect: ['announced:192.0.2.10/32->r1'],
  },
  {
    name: 'Local: terminating but serving keeps the node announced',
    world: { config: config([p4], [r1], [adAll]), services: [v4('a', '192.0.2.10', { etp: 'Local' })], slices: [slice('a', [{ node: 'n1', ready: false, serving: true, terminating: true }])] },
    expect: ['announced:192.0.2.10/32->r1'],
  },
  {
    name: 'Local: terminating and not serving does not',
    world: { services: [v4('a', '192.0.2.10', { etp: 'Local' })], slices: [slice('a', [{ node: 'n1', ready: false, serving: false, terminating: true }])] },
    expect: ['noLocalEndpoints@192.0.2.10'],
  },
  {
    name: 'no peer selects this node',
    world: { config: config([p4], [peer('r1', '10.0.0.1', { nodeSelectors: [{ rack: 'b' }] })], [adAll]), services: [v4('a')], slices: [ready('a')] },
    expect: ['noPeers@192.0.2.10'], routes: {},
  },
  {
    name: 'advertisement peers list leaves a peer out',
    world: { config: config([p4], [r1, r2], [ad('only-r2', { pools: ['p4'], peers: ['r2'] })]), services: [v4('a')], slices: [ready('a')] },
    expect: ['announced:192.0.2.10/32->r2', 'peerNotSelectedByAdvertisement@192.0.2.10>r1'], routes: { r1: [], r2: ['192.0.2.10/32'] },
  },
  {
    name: 'IPv6 prefix: only IPv6 and dual-stack sessions carry it',
    world: {
      config: config([p6], [r1, peer('r2', '10.0.0.2', { dualStack: true }), r6], [adAll]),
      services: [service('a', { ips: ['2001:db8::10'] })], slices: [ready('a')],
    },
    expect: ['announced:2001:db8::10/128->r2,r6', 'addressFamilyMismatch@2001:db8::10>r1'],
    routes: { r1: [], r2: ['2001:db8::10/128'], r6: ['2001:db8::10/128'] },
  },
  {
    name: 'an unnumbered peer carries both families',
    world: { config: config([p6], [peer('u', undefined, { interface: 'eth1' })], [adAll]), services: [service('a', { ips: ['2001:db8::10'] })], slices: [ready('a')] },
    expect: ['announced:2001:db8::10/128->u'],
  },
  {
    name: 'aggregation: the prefix is the IP masked to aggregationLength(V6)',
    world: {
      config: config([pool('d', ['192.0.2.0/24', '2001:db8::/64'])], [peer('r2', '10.0.0.2', { dualStack: true })], [ad('agg', { pools: ['d'], aggregationLength: 28, aggregationLengthV6: 64 })]),
      services: [service('a', { ips: ['192.0.2.77', '2001:db8::5'] })], slices: [ready('a')],
    },
    expect: ['announced:192.0.2.64/28->r2', 'announced:2001:db8::/64->r2'], routes: { r2: ['192.0.2.64/28', '2001:db8::/64'] },
  },
];

for (const c of cases) {
  test(`rule: ${c.name}`, () => {
    const p = plan(c.world);
    assert.deepEqual(summary(p, 'a'), c.expect);
    if (c.routes) assert.deepEqual(routes(p), c.routes);
    for (const e of p.services[0]!.entries) assert.ok(e.message.length > 10, `a readable sentence: ${e.message}`);
  });
}

// ---- rules across Services ----

test('aggregates are announced once per peer, whatever the number of Services behind them', () => {
  const cfg = config([p4], [r1], [ad('agg', { pools: ['p4'], aggregationLength: 24, communities: ['64500:24'] }), ad('host', { pools: ['p4'], communities: ['64500:32'] })]);
  const p = plan({ config: cfg, services: [v4('a', '192.0.2.1'), v4('b', '192.0.2.2'), v4('c', '192.0.2.3')], slices: [ready('a'), ready('b'), ready('c')] });
  assert.deepEqual(routes(p), { r1: ['192.0.2.0/24 c=64500:24', '192.0.2.1/32 c=64500:32', '192.0.2.2/32 c=64500:32', '192.0.2.3/32 c=64500:32'] });
  for (const name of ['a', 'b', 'c']) assert.ok(summary(p, name).includes('announced:192.0.2.0/24->r1'));
});

test('communities of different advertisements reaching one aggregate from different Services are merged', () => {
  const cfg = config([p4], [r1], [
    ad('web', { pools: ['p4'], serviceSelectors: [{ app: 'web' }], communities: ['64500:1'] }),
    ad('db', { pools: ['p4'], serviceSelectors: [{ app: 'db' }], communities: ['64500:2'] }),
  ]);
  const svcs = [v4('a', '192.0.2.9', { labels: { app: 'web' } }), v4('b', '192.0.2.9', { labels: { app: 'db' } })];
  const p = plan({ config: cfg, services: svcs, slices: [ready('a'), ready('b')] });
  assert.deepEqual(routes(p), { r1: ['192.0.2.9/32 c=64500:1,64500:2'] });
});

test('a shared IP whose Services bring different localPref to one iBGP peer is not sent to that peer', () => {
  const r1 = peer('r1', '10.0.0.1', { peerAsn: 64500 });
  const cfg = config([p4], [r1, r2], [
    ad('web', { pools: ['p4'], serviceSelectors: [{ app: 'web' }], localPref: 100 }),
    ad('db', { pools: ['p4'], serviceSelectors: [{ app: 'db' }], localPref: 200, peers: ['r1'] }),
  ]);
  const svcs = [v4('a', '192.0.2.9', { labels: { app: 'web' } }), v4('b', '192.0.2.9', { labels: { app: 'db' } })];
  const p = plan({ config: cfg, services: svcs, slices: [ready('a'), ready('b')] });
  assert.deepEqual(routes(p), { r1: [], r2: ['192.0.2.9/32 lp=100'] });
  assert.deepEqual(summary(p, 'a'), ['announced:192.0.2.9/32->r2', 'conflictingAdvertisements@192.0.2.9>r1']);
  assert.deepEqual(summary(p, 'b'), ['conflictingAdvertisements@192.0.2.9>r1', 'peerNotSelectedByAdvertisement@192.0.2.9>r2']);
  const conflict = p.services.find((s) => s.name === 'b')!.entries[0]!;
  assert.match(conflict.message, /"db" \(for default\/b\) and "web" \(for default\/a\).*localPref 200 vs 100/);
});

test('a shared IP with Local policy is announced once when any of its Services has a local endpoint', () => {
  const cfg = config([p4], [r1], [adAll]);
  const svcs = [v4('a', '192.0.2.9', { etp: 'Local' }), v4('b', '192.0.2.9', { etp: 'Local' })];
  const p = plan({ config: cfg, services: svcs, slices: [ready('a', 'n1'), ready('b', 'n2')] });
  assert.deepEqual(routes(p), { r1: ['192.0.2.9/32'] });
  assert.deepEqual(summary(p, 'a'), ['announced:192.0.2.9/32->r1']);
  assert.deepEqual(summary(p, 'b'), ['noLocalEndpoints@192.0.2.9']);
  const e = p.services.find((s) => s.name === 'b')!.entries[0]!;
  assert.equal(e.kind, 'notAnnounced');
  assert.deepEqual(e.kind === 'notAnnounced' ? e.ipAnnouncedFor : undefined, ['default/a']);
  assert.match(e.message, /announced anyway for default\/a/);
});

test('advertisement nodeSelectors pick which nodes announce', () => {
  const cfg = config([p4], [r1], [ad('rack-a', { pools: ['p4'], nodeSelectors: [{ rack: 'a' }] })]);
  const world = { config: cfg, services: [v4('a')], slices: [ready('a')] };
  assert.deepEqual(summary(plan({ ...world, nodeName: 'n1' }), 'a'), ['announced:192.0.2.10/32->r1']);
  assert.deepEqual(summary(plan({ ...world, nodeName: 'n2' }), 'a'), ['notOwner@192.0.2.10']);
});

test('the peer list: sessions only for peers whose nodeSelectors match this node', () => {
  const cfg = config([p4], [peer('z-all', '10.0.0.9'), peer('rack-b', '10.0.0.3', { nodeSelectors: [{ rack: 'b' }] }), peer('rack-a', '10.0.0.4', { nodeSelectors: [{ rack: 'x' }, { rack: 'a' }] })], [adAll]);
  const p = plan({ config: cfg, services: [] });
  assert.deepEqual(p.peers.map((x) => x.peer.name), ['rack-a', 'z-all']);
  assert.deepEqual(p.peers.map((x) => x.families), [[4], [4]]);
  assert.deepEqual(p.peersNotOnThisNode, ['rack-b']);
  assert.deepEqual(p.node, { name: 'n1', found: true, networkUnavailable: false, excludedFromLoadBalancers: false });
});

test('route objects have exactly the Route shape (no undefined keys)', () => {
  const p = plan({ config: config([p4], [r1], [adAll]), services: [v4('a')], slices: [ready('a')] });
  assert.deepEqual(p.peers[0]!.routes, [{ prefix: { family: 4, network: 0xc000020an, length: 32 }, attributes: { communities: [] } }]);
});

// ---- determinism ----

function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

test('input order never changes the plan', () => {
  const cfg = config([p4, p6, pool('d', ['198.51.100.0/24']), pool('q', ['203.0.113.0/28']), pool('n', ['203.0.113.16/28']), pool('s', ['203.0.113.32/28'])], [r1, r2, r6, peer('r7', '10.0.0.7', { dualStack: true })], [
    ad('all', { pools: ['p4', 'p6'], communities: ['64500:1'] }),
    ad('agg', { pools: ['p4', 'd'], aggregationLength: 24, peers: ['r2', 'r7'], communities: ['64500:2'] }),
    ad('web', { pools: ['d'], serviceSelectors: [{ app: 'web' }], localPref: 300 }),
    ad('rack-b', { pools: ['p4', 'p6', 'd'], nodeSelectors: [{ rack: 'b' }], localPref: 5 }),
    ad('lp1', { pools: ['q'], med: 1 }), ad('lp2', { pools: ['q'], med: 2 }), ad('lp3', { pools: ['q'], med: 3 }),
    ad('n2-only', { pools: ['n'], nodeSelectors: [{ rack: 'b' }] }), ad('n2-too', { pools: ['n'], nodeSelectors: [{ rack: 'b' }] }),
    ad('sel1', { pools: ['s'], serviceSelectors: [{ x: '1' }] }), ad('sel2', { pools: ['s'], serviceSelectors: [{ x: '2' }] }),
  ]);
  const svcs = [
    v4('a', '192.0.2.1'), v4('b', '192.0.2.2', { etp: 'Local' }), v4('c', '198.51.100.5', { labels: { app: 'web' } }),
    service('d', { ips: ['2001:db8::1'] }), v4('e', '192.0.2.1'), v4('f', '100.64.0.1'), service('g', { type: 'ClusterIP' }),
    v4('h', '198.51.100.6', { namespace: 'other' }), v4('q', '203.0.113.1'), v4('n', '203.0.113.17'), v4('s', '203.0.113.33'),
  ];
  const slices = [ready('a'), ready('b', 'n1'), ready('c', 'n2'), ready('d'), ready('e'), slice('h', [{ node: 'n2' }], 'other'), ready('q'), ready('n'), ready('s')];
  const nodes = [n1, n2, node('n3')];
  const base = planAnnouncements({ config: cfg, services: svcs, endpointSlices: slices, nodes, nodeName: 'n1' });
  assert.ok(base.peers.some((pp) => pp.routes.length > 2));
  const reasons = new Set<string>(base.services.flatMap((s) => s.entries.map((e) => (e.kind === 'announced' ? 'announced' : e.reason))));
  for (const r of ['announced', 'conflictingAdvertisements', 'notOwner', 'noMatchingAdvertisement', 'ipNotAllowed', 'notLoadBalancer']) assert.ok(reasons.has(r), r);
  for (let seed = 1; seed <= 5; seed++) {
    const cfg2: Config = { ...cfg, pools: shuffled(cfg.pools, seed), peers: shuffled(cfg.peers, seed + 1), bgpAdvertisements: shuffled(cfg.bgpAdvertisements, seed + 2) };
    const again = planAnnouncements({
      config: cfg2, services: shuffled(svcs, seed + 3), endpointSlices: shuffled(slices, seed + 4), nodes: shuffled(nodes, seed + 5), nodeName: 'n1',
    });
    assert.deepEqual(again, base);
  }
});

test('every reason code is exercised by this suite', () => {
  assert.deepEqual([...notAnnouncedReasons].filter((r) => !seen.has(r)), []);
});

test('standInSlices: a Service without EndpointSlices plans as if it had its own stand-in; one with slices keeps them', () => {
  const services = [
    service('a', { ips: ['192.0.2.1'] }), service('b', { ips: ['192.0.2.2'], etp: 'Local' }),
    service('c', { ips: ['192.0.2.3'] }), service('d', { ips: ['192.0.2.4'], etp: 'Local' }),
  ];
  const slices = [slice('c', [{ node: 'n2' }]), slice('d', [{ node: 'n2' }])];
  const base = { config: baseConfig, services, nodes: [n1, n2], nodeName: 'n1' };
  const synthesized = planAnnouncements({ ...base, endpointSlices: withLocalEndpoints(services, slices, 'n1') });
  const shared = { ...base, endpointSlices: slices, standInSlices: standInSlices('n1') };
  assert.deepEqual(planAnnouncements(shared), synthesized);
  assert.deepEqual(new IncrementalPlan(shared).plan(), synthesized);
  const noLocal = synthesized.services.filter((s) => s.entries.some((e) => 'reason' in e && e.reason === 'noLocalEndpoints')).map((s) => s.name);
  assert.deepEqual(noLocal, ['d'], 'd has its own slice, on another node only');
});
