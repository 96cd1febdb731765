import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import type { Service } from '../api/resources.ts';
import type { Config, L2Advertisement } from '../config/types.ts';
import { formatIp } from '../net/ip.ts';
import { node, pool, selectors, service, slice } from '../../test/fixtures/speaker/builders.ts';
import { compileSelector } from '../net/selector.ts';
import { explainLayer2, IncrementalL2, l2Successors, type L2PlanInput, planLayer2, rankNodes } from './l2-owner.ts';
import { localSlice, withLocalEndpoints } from '../daemon/synthesize.ts';

function l2ad(name: string, o: { pools: string[]; nodeSelectors?: Record<string, string>[]; interfaces?: string[]; serviceSelectors?: Record<string, string>[]; preferred?: { weight: number; labels: Record<string, string> }[] }): L2Advertisement {
  return {
    name, pools: o.pools, nodeSelectors: selectors(o.nodeSelectors), interfaces: o.interfaces ?? [], serviceSelectors: selectors(o.serviceSelectors),
    preferredNodeSelectors: (o.preferred ?? []).map((p) => ({ weight: p.weight, preference: compileSelector({ matchLabels: p.labels }) })),
  };
}

const lan = pool('lan', ['192.0.2.0/24', '2001:db8::/64']);
const bgpOnly = pool('routed', ['198.51.100.0/24']);
const cfg = (ads: L2Advertisement[]): Config => ({ pools: [lan, bgpOnly], peers: [], bgpAdvertisements: [], l2Advertisements: ads, bfdProfiles: [] });
const nodes = [node('n1', { zone: 'a' }), node('n2', { zone: 'b' }), node('n3', { zone: 'b' })];
const web = service('web', { ips: ['192.0.2.10'] });
const webEps = slice('web', [{ node: 'n1' }]);

// The order MetalLB computes, written out independently of the code under test.
const hashOrder = (names: string[], ip: string): string[] =>
  [...names].sort((a, b) => Buffer.compare(createHash('sha256').update(`${a}#${ip}`).digest(), createHash('sha256').update(`${b}#${ip}`).digest()));

function run(p: Partial<L2PlanInput> & { services: Service[] }): ReturnType<typeof planLayer2> {
  return planLayer2({ config: cfg([l2ad('l2', { pools: ['lan'] })]), endpointSlices: [webEps], nodes, nodeName: 'n1', ...p });
}

test('the owner is the first live node in sha256(node#ip) order, and every node agrees', () => {
  const expected = hashOrder(['n1', 'n2', 'n3'], '192.0.2.10');
  const owners = ['n1', 'n2', 'n3'].map((me) => run({ services: [web], nodeName: me }));
  for (const p of owners) {
    assert.deepEqual(p.services[0]!.ranking, expected);
    assert.equal(p.services[0]!.owner, expected[0]);
  }
  const claimers = owners.filter((p) => p.claims.length === 1);
  assert.equal(claimers.length, 1, 'exactly one node claims the IP');
  assert.equal(formatIp(claimers[0]!.claims[0]!.ip), '192.0.2.10');
  assert.deepEqual(claimers[0]!.claims[0]!.interfaces, 'all');
  const loser = owners.find((p) => p.claims.length === 0)!;
  assert.equal(loser.services[0]!.reason, 'notOwner');
});

test('a dead owner is replaced by the next in order; removing a non-owner moves nothing', () => {
  const order = hashOrder(['n1', 'n2', 'n3'], '192.0.2.10');
  const withoutOwner = run({ services: [web], live: new Set(order.slice(1)), nodeName: order[1]! });
  assert.equal(withoutOwner.services[0]!.owner, order[1]);
  assert.equal(withoutOwner.claims.length, 1);
  const withoutLast = run({ services: [web], live: new Set(order.slice(0, 2)) });
  assert.equal(withoutLast.services[0]!.owner, order[0]);
});

test('nodeSelectors, NetworkUnavailable and the exclude label remove candidates', () => {
  const ads = [l2ad('l2', { pools: ['lan'], nodeSelectors: [{ zone: 'b' }] })];
  const p = run({ config: cfg(ads), services: [web], nodes: [nodes[0]!, nodes[1]!, node('n3', { zone: 'b', 'node.kubernetes.io/exclude-from-external-load-balancers': '' })] });
  assert.deepEqual(p.services[0]!.ranking, ['n2']);
  const q = run({ config: cfg(ads), services: [web], nodes: [nodes[0]!, node('n2', { zone: 'b' }, [{ type: 'NetworkUnavailable', status: 'True' }])] });
  assert.equal(q.services[0]!.reason, 'noCandidates');
  const r = run({ config: cfg(ads), services: [web], nodes: [nodes[0]!, node('n2', { zone: 'b', 'node.kubernetes.io/exclude-from-external-load-balancers': '' })], options: { ignoreExcludeLb: true } });
  assert.deepEqual(r.services[0]!.ranking, ['n2']);
});

test('externalTrafficPolicy Local: only nodes with a serving endpoint; no endpoint anywhere: nobody', () => {
  const local = service('web', { ips: ['192.0.2.10'], etp: 'Local' });
  const p = run({ services: [local], endpointSlices: [slice('web', [{ node: 'n3' }, { node: 'n2', ready: false }])] });
  assert.deepEqual(p.services[0]!.ranking, ['n3']);
  const q = run({ services: [web], endpointSlices: [slice('web', [{ node: 'n3', ready: false }])] });
  assert.equal(q.services[0]!.reason, 'noEndpoints');
  assert.equal(q.services[0]!.owner, undefined);
});

test('preferredNodeSelectors: higher total weight first, the hash breaks ties', () => {
  const ads = [l2ad('l2', { pools: ['lan'], preferred: [{ weight: 10, labels: { zone: 'b' } }] }), l2ad('l2b', { pools: ['lan'], preferred: [{ weight: 5, labels: { zone: 'a' } }] })];
  const p = run({ config: cfg(ads), services: [web] });
  const bs = hashOrder(['n2', 'n3'], '192.0.2.10');
  assert.deepEqual(p.services[0]!.ranking, [...bs, 'n1']);
  assert.deepEqual(rankNodes(['a', 'b'], 'x', (n) => (n === 'b' ? 1 : 0)), ['b', 'a']);
});

test('dual stack: both IPs on one node, ranked by the first ingress IP as written', () => {
  const ds = service('ds', { ips: ['2001:db8::10', '192.0.2.11'] });
  const order = hashOrder(['n1', 'n2', 'n3'], '2001:db8::10');
  const p = run({ services: [ds], endpointSlices: [slice('ds', [{ node: 'n2' }])], nodeName: order[0]! });
  assert.deepEqual(p.services[0]!.ranking, order);
  assert.deepEqual(p.claims.map((c) => formatIp(c.ip)), ['192.0.2.11', '2001:db8::10']);
});

test('interfaces: union of the advertisements that select the owner; one without interfaces means all', () => {
  const ads = [l2ad('a', { pools: ['lan'], interfaces: ['eth1'] }), l2ad('b', { pools: ['lan'], interfaces: ['eth2'] }), l2ad('c', { pools: ['lan'], interfaces: [], nodeSelectors: [{ zone: 'nowhere' }] })];
  const owner = hashOrder(['n1', 'n2', 'n3'], '192.0.2.10')[0]!;
  const p = run({ config: cfg(ads), services: [web], nodeName: owner });
  assert.deepEqual(p.claims[0]!.interfaces, ['eth1', 'eth2']);
  const q = run({ config: cfg([...ads, l2ad('d', { pools: ['lan'] })]), services: [web], nodeName: owner });
  assert.equal(q.claims[0]!.interfaces, 'all');
});

test('serviceSelectors, shared IPs with serviceSelectors, and non-layer-2 Services', () => {
  const ads = [l2ad('l2', { pools: ['lan'], serviceSelectors: [{ app: 'x' }] })];
  assert.equal(run({ config: cfg(ads), services: [web] }).services[0]!.reason, 'noMatchingAdvertisement');
  const shared: Service = { ...service('web', { ips: ['192.0.2.10'], labels: { app: 'x' } }) };
  shared.metadata.annotations = { 'metallb.io/allow-shared-ip': 'k' };
  assert.equal(run({ config: cfg(ads), services: [shared] }).services[0]!.reason, 'sharedIPWithServiceSelector');
  const routed = service('r', { ips: ['198.51.100.1'] });
  assert.deepEqual(run({ services: [routed, service('c', { type: 'ClusterIP' }), service('none')] }).services, []);
});

test('input order does not change the plan', () => {
  const svcs = [web, service('other', { ips: ['192.0.2.20'] })];
  const eps = [webEps, slice('other', [{ node: 'n2' }])];
  const a = run({ services: svcs, endpointSlices: eps, nodeName: 'n2' });
  const b = run({ services: [...svcs].reverse(), endpointSlices: [...eps].reverse(), nodes: [...nodes].reverse(), nodeName: 'n2' });
  assert.deepEqual(a, b);
});

test('explain: the owner, its interfaces, the order and the successor; or why nobody answers', () => {
  const ads = [l2ad('l2', { pools: ['lan'], interfaces: ['eth0'] })];
  const order = hashOrder(['n1', 'n2', 'n3'], '192.0.2.10');
  const lines = explainLayer2(run({ config: cfg(ads), services: [web], nodeName: order[0]! }), 'default/web');
  assert.equal(lines[0], `  layer 2: node ${order[0]} answers ARP/NDP for 192.0.2.10 on eth0`);
  assert.match(lines[1]!, new RegExp(`order among the live candidates: ${order.join(', ')}; if ${order[0]} dies, ${order[1]} takes over`));
  const none = explainLayer2(run({ services: [web], endpointSlices: [] }), 'default/web');
  assert.match(none[0]!, /nobody answers for 192\.0\.2\.10: noEndpoints/);
  assert.deepEqual(explainLayer2(run({ services: [web] }), 'default/absent'), []);
});

test('fast failover: the owner heartbeats the next in order, which watches it; the third node does neither', () => {
  const api = service('api', { ips: ['192.0.2.11'] });
  const apiEps = slice('api', [{ node: 'n2' }]);
  const slices = [webEps, apiEps];
  const order = { web: hashOrder(['n1', 'n2', 'n3'], '192.0.2.10'), api: hashOrder(['n1', 'n2', 'n3'], '192.0.2.11') };
  for (const me of ['n1', 'n2', 'n3']) {
    const s = l2Successors(run({ services: [web, api], endpointSlices: slices, nodeName: me }), me);
    const to = new Set<string>();
    const watch = new Set<string>();
    for (const o of Object.values(order)) {
      if (o[0] === me) to.add(o[1]!);
      if (o[1] === me) watch.add(o[0]!);
    }
    assert.deepEqual(s.heartbeatTo, [...to].sort(), `${me} heartbeats`);
    assert.deepEqual(s.watch, [...watch].sort(), `${me} watches`);
  }
  // Every pair agrees: n heartbeats m exactly when m watches n.
  const all = Object.fromEntries(['n1', 'n2', 'n3'].map((me) => [me, l2Successors(run({ services: [web, api], endpointSlices: slices, nodeName: me }), me)]));
  for (const a of ['n1', 'n2', 'n3']) for (const b of ['n1', 'n2', 'n3']) assert.equal(all[a]!.heartbeatTo.includes(b), all[b]!.watch.includes(a), `${a} → ${b}`);
  // With the successor dead, the owner heartbeats the one after it.
  const web1 = order.web;
  const s = l2Successors(run({ services: [web], live: new Set([web1[0]!, web1[2]!]), nodeName: web1[0]! }), web1[0]!);
  assert.deepEqual(s.heartbeatTo, [web1[2]]);
  // A single candidate has no successor: nobody to heartbeat.
  assert.deepEqual(l2Successors(run({ services: [web], live: new Set(['n1']), nodeName: 'n1' }), 'n1'), { heartbeatTo: [], watch: [] });
});

// ---- IncrementalL2: an edit re-decides what it names; planLayer2 is the reference ---------------

test('IncrementalL2 agrees with planLayer2 after every edit of random edit sequences, and decides only the Services an edit names', () => {
  const ads = [
    l2ad('a', { pools: ['lan'], interfaces: ['eth0'], nodeSelectors: [{ zone: 'b' }], preferred: [{ weight: 5, labels: { zone: 'b' } }] }),
    l2ad('b', { pools: ['lan'], interfaces: ['eth1'], serviceSelectors: [{ app: 'x' }] }),
    l2ad('c', { pools: ['lan'] }),
  ];
  let seed = 7; // mulberry32: every bit varies (an LCG's low bits cycle)
  const rnd = (n: number): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * n | 0;
  };
  const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)]!;
  const names = Array.from({ length: 30 }, (_, i) => `s${i}`);
  const randomService = (name: string): Service => {
    const ips = pick([[], ['192.0.2.10'], [`192.0.2.${20 + rnd(40)}`], [`192.0.2.${20 + rnd(40)}`, '2001:db8::5'], ['198.51.100.7'], ['bogus']]);
    return service(name, {
      ips, ...(rnd(6) === 0 ? { type: 'ClusterIP' as const } : {}), ...(rnd(3) === 0 ? { etp: 'Local' as const } : {}),
      ...(rnd(2) === 0 ? { labels: { app: pick(['x', 'y']) } } : {}), ...(rnd(10) === 0 ? { loadBalancerClass: 'other' } : {}),
    });
  };
  const randomSlices = (name: string): ReturnType<typeof slice>[] =>
    pick([[], [slice(name, [{ node: pick(['n1', 'n2', 'n3']) }])], [slice(name, [{ node: 'n2' }, { node: 'n3', ready: false, serving: false }])], [slice(name, [{ node: 'n9' }])]]);
  for (const round of [0, 1, 2, 3, 4, 5]) {
    const me = pick(['n1', 'n2', 'n3']);
    const live = round % 2 === 0 ? undefined : new Set(['n1', 'n3']);
    const standIn = round >= 4;
    const svcs = new Map<string, Service>();
    const sl = new Map<string, ReturnType<typeof slice>[]>();
    for (const n of names.slice(0, 20)) { svcs.set(n, randomService(n)); const x = randomSlices(n); if (x.length > 0) sl.set(n, x); }
    const input = (): L2PlanInput => ({
      config: cfg(ads), services: [...svcs.values()], nodes, nodeName: me, ...(live ? { live } : {}),
      endpointSlices: standIn ? withLocalEndpoints([...svcs.values()], [...sl.values()].flat(), me) : [...sl.values()].flat(),
    });
    const inc = new IncrementalL2({ ...input(), endpointSlices: [...sl.values()].flat() }, standIn ? (svc) => (svc.spec.type === 'LoadBalancer' ? [localSlice(svc, me)] : undefined) : undefined);
    assert.deepEqual(inc.plan(), planLayer2(input()));
    for (let step = 0; step < 60; step++) {
      const upserted: Service[] = [];
      const deleted: string[] = [];
      const slices = new Map<string, ReturnType<typeof slice>[]>();
      for (let k = 1 + rnd(3); k > 0; k--) {
        const name = pick(names);
        const kind = rnd(4);
        if (kind === 0 && svcs.has(name)) { svcs.delete(name); deleted.push(`default/${name}`); continue; }
        if (kind === 1) { const x = randomSlices(name); if (x.length > 0) sl.set(name, x); else sl.delete(name); slices.set(`default/${name}`, x); }
        if (kind !== 1 || svcs.has(name)) { const svc = randomService(name); svcs.set(name, svc); upserted.push(svc); }
      }
      // One key once in the delta, as the stores fold it: the last word wins.
      const lastUp = new Map(upserted.map((s) => [`default/${s.metadata.name}`, s]));
      const del = deleted.filter((k) => !svcs.has(k.slice('default/'.length)));
      for (const k of del) lastUp.delete(k);
      const ups = [...lastUp.values()].filter((s) => svcs.get(s.metadata.name!) === s);
      const before = inc.decided;
      inc.apply(ups, del, slices);
      assert.equal(inc.decided - before, ups.length, 'an edit decides the Services it upserts, no other');
      const want = planLayer2(input());
      assert.deepEqual(inc.plan(), want, `round ${round} step ${step}`);
      assert.deepEqual(inc.successors(), l2Successors(want, me));
    }
  }
});
