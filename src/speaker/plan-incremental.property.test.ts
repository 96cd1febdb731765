// The incremental plan against the reference: after any sequence of Service upserts and deletions,
// IncrementalPlan holds exactly what planAnnouncements computes from scratch for the Services now
// held (routes per peer, every Service's entries), and the route changes it reported, replayed
// on the routes before, give the routes after.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Service } from '../api/resources.ts';
import type { Route } from '../bgp/route.ts';
import { formatPrefix } from '../net/prefix.ts';
import { ad, config, node, peer, pool, service, slice } from '../../test/fixtures/speaker/builders.ts';
import { planAnnouncements } from './plan.ts';
import { summaryOf } from './bgp-summary.ts';
import { IncrementalPlan } from './plan-incremental.ts';
import type { AnnouncementPlan } from './plan-types.ts';

// A small world where everything collides: shared IPs, /30 and /31 aggregates, advertisements
// limited to some peers, an iBGP peer where differing localPrefs conflict, label selectors.
const world = config(
  [pool('p4', ['192.0.2.0/28']), pool('other', ['198.51.100.0/30']), pool('p6', ['2001:db8::/124'])],
  [peer('r1', '10.0.0.1'), peer('r2', '10.0.0.2'), peer('ri', '10.0.0.9', { peerAsn: 64500 }), peer('r6', 'fd00::1')],
  [
    ad('all', { pools: ['p4', 'p6'] }),
    ad('agg', { pools: ['p4'], aggregationLength: 30, localPref: 50, serviceSelectors: [{ tier: 'web' }] }),
    ad('agg2', { pools: ['p4'], aggregationLength: 31, localPref: 70, peers: ['ri', 'r2'], serviceSelectors: [{ tier: 'web' }] }),
    ad('only-r1', { pools: ['other'], peers: ['r1'], communities: ['65000:1'] }),
    ad('lp', { pools: ['p4'], localPref: 200, peers: ['ri'], serviceSelectors: [{ tier: 'db' }] }),
    // A web and a db Service sharing an IP: 'lp' and 'lp-web' disagree on its /32 for iBGP peer ri.
    ad('lp-web', { pools: ['p4'], localPref: 300, peers: ['ri'], serviceSelectors: [{ tier: 'web' }] }),
  ],
);
const ips = ['192.0.2.1', '192.0.2.2', '192.0.2.5', '192.0.2.6', '192.0.2.9', '198.51.100.1', '198.51.100.2', '2001:db8::1', '2001:db8::2', '203.0.113.1'];
const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];

const serviceArb = fc.record({
  name: fc.constantFrom(...names),
  ips: fc.subarray(ips, { maxLength: 2 }),
  tier: fc.constantFrom(undefined, 'web', 'db'),
  type: fc.constantFrom('LoadBalancer', 'LoadBalancer', 'LoadBalancer', 'ClusterIP'),
  etp: fc.constantFrom(undefined, undefined, 'Local'),
}).map((o): Service => service(o.name, { ips: o.ips, type: o.type, ...(o.tier ? { labels: { tier: o.tier } } : {}), ...(o.etp ? { etp: o.etp as 'Local' } : {}) }));

const opArb = fc.oneof(
  { weight: 3, arbitrary: fc.array(serviceArb, { minLength: 1, maxLength: 3 }).map((upserted) => ({ upserted, deleted: [] as string[] })) },
  { weight: 1, arbitrary: fc.subarray(names, { minLength: 1, maxLength: 3 }).map((ns) => ({ upserted: [] as Service[], deleted: ns.map((n) => `default/${n}`) })) },
);

const nodes = [node('n1'), node('n2')];
const slices = [slice('a', [{ node: 'n1' }]), slice('b', [{ node: 'n2' }]), slice('c', [{ node: 'n1' }]), slice('d', [{ node: 'n1' }]), slice('e', [{ node: 'n1' }]), slice('f', [{ node: 'n2' }]), slice('g', [{ node: 'n1' }])];
const input = (services: readonly Service[]) => ({ config: world, services, endpointSlices: slices, nodes, nodeName: 'n1' });

const routeText = (r: Route): string => `${formatPrefix(r.prefix)} ${JSON.stringify(r.attributes)}`;
/** summaries() says what the Service plans say. */
function checkSummaries(inc: IncrementalPlan): void {
  const plans = new Map([...inc.servicePlans()].map((sp) => [`${sp.namespace}/${sp.name}`, sp]));
  const summaries = [...inc.summaries()];
  assert.equal(summaries.length, plans.size);
  for (const s of summaries) assert.deepEqual(s, summaryOf(plans.get(s.key)!), s.key);
  // conflictedPlans(): exactly the plans with a conflictingAdvertisements entry (the conflict log's input).
  const conflicted = [...plans.values()].filter((sp) => sp.entries.some((e) => e.kind === 'notAnnounced' && e.reason === 'conflictingAdvertisements'));
  assert.deepEqual([...inc.conflictedPlans()].map((sp) => `${sp.namespace}/${sp.name}`).sort(), conflicted.map((sp) => `${sp.namespace}/${sp.name}`).sort());
}

const normal = (p: AnnouncementPlan): unknown => ({
  peers: p.peers.map((pp) => ({ peer: pp.peer.name, routes: pp.routes.map(routeText) })),
  services: p.services,
  peersNotOnThisNode: p.peersNotOnThisNode,
});

test('IncrementalPlan equals planAnnouncements after any sequence of upserts and deletions', () => {
  fc.assert(fc.property(fc.array(serviceArb, { maxLength: 5 }), fc.array(opArb, { minLength: 1, maxLength: 12 }), (initial, ops) => {
    const held = new Map<string, Service>();
    for (const s of initial) held.set(`default/${s.metadata.name}`, s);
    const inc = new IncrementalPlan(input([...held.values()]));
    assert.deepEqual(normal(inc.plan()), normal(planAnnouncements(input([...held.values()]))), 'built from scratch');
    for (const op of ops) {
      const before = new Map(inc.peers().map((p) => [p.name, new Map([...inc.routesOf(p.name)].map(([k, r]) => [k, routeText(r)]))]));
      const changes = inc.apply(op.upserted, op.deleted);
      for (const k of op.deleted) held.delete(k);
      for (const s of op.upserted) held.set(`default/${s.metadata.name}`, s);
      assert.deepEqual(normal(inc.plan()), normal(planAnnouncements(input([...held.values()]))), 'after an edit');
      checkSummaries(inc);
      for (const c of changes) {
        const m = before.get(c.peer)!;
        if (c.route) m.set(c.prefixKey, routeText(c.route)); else m.delete(c.prefixKey);
      }
      for (const p of inc.peers()) {
        assert.deepEqual([...before.get(p.name)!].sort(), [...inc.routesOf(p.name)].map(([k, r]): [string, string] => [k, routeText(r)]).sort(), `changes replay for ${p.name}`);
      }
    }
  }), { numRuns: 300 });
});
