import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import type { Config, L2Advertisement } from '../config/types.ts';
import { formatIp } from '../net/ip.ts';
import type { L2Announcement } from '../l2/responder.ts';
import { rankNodes } from '../speaker/l2-owner.ts';
import type { Snapshot } from '../store/store.ts';
import { node, pool, service, slice } from '../../test/fixtures/speaker/builders.ts';
import { L2Role, memberAddress } from './l2-role.ts';

const ad: L2Advertisement = { name: 'l2', pools: ['lan'], nodeSelectors: [], interfaces: ['eth0'], serviceSelectors: [], preferredNodeSelectors: [] };
const config: Config = { pools: [pool('lan', ['192.0.2.0/24'])], peers: [], bgpAdvertisements: [], l2Advertisements: [ad], bfdProfiles: [] };
const nodes = ['n1', 'n2', 'n3'].map((n, i) => ({ ...node(n), status: { addresses: [{ type: 'InternalIP', address: `10.0.0.${i + 1}` }] } }));

function snapshot(generation: number, cfg: Config = config): Snapshot {
  return {
    generation, config: cfg, objects: [], services: [service('web', { ips: ['192.0.2.10'] })], endpointSlices: [slice('web', [{ node: 'n1' }])],
    nodes, namespaces: [], diagnostics: [], status: { services: {}, pools: {}, events: [] },
  };
}

class FakeResponder {
  claims: L2Announcement[][] = [];
  reannounced = 0;
  closed = false;
  setAnnouncements(list: readonly L2Announcement[]): void { this.claims.push([...list]); }
  reannounce(): void { this.reannounced++; }
  interfacesFor(ip: string): string[] { return this.claims.at(-1)?.some((c) => formatIp(c.ip) === ip) ? ['eth0'] : []; }
  close(): void { this.closed = true; }
}

test('without membership every Node counts: exactly the elected node claims, with the advertisement\'s interfaces', async () => {
  const owner = rankNodes(['n1', 'n2', 'n3'], '192.0.2.10')[0]!;
  for (const me of ['n1', 'n2', 'n3']) {
    const responder = new FakeResponder();
    let statusCalls = 0;
    const role = new L2Role({ nodeName: me, logger: pino({ level: 'silent' }), responder, onStatus: () => { statusCalls++; } });
    role.onSnapshot(snapshot(1));
    await new Promise((r) => setImmediate(r));
    const last = responder.claims.at(-1) ?? [];
    assert.deepEqual(last.map((c) => [formatIp(c.ip), c.interfaces]), me === owner ? [['192.0.2.10', ['eth0']]] : [], me);
    assert.deepEqual(role.status()['default/web'], { node: owner, ips: ['192.0.2.10'], interfaces: me === owner ? ['eth0'] : [] });
    assert.ok(statusCalls > 0);
    await role.stop();
    assert.ok(responder.closed);
    assert.deepEqual(role.status(), {}, 'a stopped role reports nothing');
  }
});

test('--lb-class and --ignore-exclude-lb reach layer 2 as they reach BGP: only the class\'s Services, excluded nodes only when told', async () => {
  const claimed = async (opts: ConstructorParameters<typeof L2Role>[0]['options'], cls: string | undefined, excludeN1 = false): Promise<string[]> => {
    const responder = new FakeResponder();
    const role = new L2Role({ nodeName: 'n1', logger: pino({ level: 'silent' }), responder, ...(opts ? { options: opts } : {}) });
    const ns = excludeN1 ? nodes.map((n) => (n.metadata.name === 'n1' ? { ...n, metadata: { ...n.metadata, labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': '' } } } : n)) : nodes;
    // Only n1 in the cluster, so that n1 wins whenever it may serve.
    role.onSnapshot({ ...snapshot(1), nodes: ns.filter((n) => n.metadata.name === 'n1'), services: [service('web', { ips: ['192.0.2.10'], ...(cls ? { loadBalancerClass: cls } : {}) })] });
    await new Promise((r) => setImmediate(r));
    await role.stop();
    return (responder.claims.at(-1) ?? []).map((c) => formatIp(c.ip));
  };
  assert.deepEqual(await claimed(undefined, undefined), ['192.0.2.10']);
  assert.deepEqual(await claimed(undefined, 'example.com/other'), [], 'no --lb-class: a Service of a class is someone else\'s');
  assert.deepEqual(await claimed({ loadBalancerClass: 'example.com/other' }, 'example.com/other'), ['192.0.2.10']);
  assert.deepEqual(await claimed({ loadBalancerClass: 'example.com/other' }, undefined), [], 'with --lb-class: a Service without one is not ours');
  assert.deepEqual(await claimed(undefined, undefined, true), [], 'an excluded node does not answer');
  assert.deepEqual(await claimed({ ignoreExcludeLb: true }, undefined, true), ['192.0.2.10']);
});

test('a configuration without L2Advertisements opens nothing', () => {
  const role = new L2Role({ nodeName: 'n1', logger: pino({ level: 'silent' }) });
  role.onSnapshot(snapshot(1, { ...config, l2Advertisements: [] }));
  assert.deepEqual(role.status(), {});
  assert.equal(role.live(), undefined);
});

test('member address: InternalIP first, then ExternalIP', () => {
  assert.equal(memberAddress(nodes[0]!), '10.0.0.1');
  assert.equal(memberAddress({ ...node('x'), status: { addresses: [{ type: 'ExternalIP', address: '203.0.113.1' }, { type: 'Hostname', address: 'x' }] } }), '203.0.113.1');
  assert.equal(memberAddress(node('y')), undefined);
});

test("an owner none of whose advertisement's interfaces exists here says so per IP (MetalLB's announceFailed)", async () => {
  const owner = rankNodes(['n1', 'n2', 'n3'], '192.0.2.10')[0]!;
  const status = async (interfaces: string[], here: string[]) => {
    const responder = new FakeResponder();
    responder.interfacesFor = (ip: string) => (responder.claims.at(-1)?.some((c) => formatIp(c.ip) === ip) ? here : []);
    const role = new L2Role({ nodeName: owner, logger: pino({ level: 'silent' }), responder });
    role.onSnapshot(snapshot(1, { ...config, l2Advertisements: [{ ...ad, interfaces }] }));
    await new Promise((r) => setImmediate(r));
    const s = role.status()['default/web'];
    await role.stop();
    return s;
  };
  assert.deepEqual(await status(['eth9'], []), { node: owner, ips: ['192.0.2.10'], interfaces: [], noInterface: ['192.0.2.10'] });
  assert.deepEqual(await status(['eth0'], ['eth0']), { node: owner, ips: ['192.0.2.10'], interfaces: ['eth0'] });
  // No interfaces named: every usable one (MetalLB never fails those).
  assert.deepEqual(await status([], []), { node: owner, ips: ['192.0.2.10'], interfaces: [] });
});

test('an edit costs what it changes: one Service edited among 100 or 2,000 decides one Service, and the result is the whole election\'s', async () => {
  for (const n of [100, 2000]) {
    const services = Array.from({ length: n }, (_, i) => service(`s${i}`, { ips: [`192.0.${2 + (i >> 8)}.${i & 0xff}`] }));
    const cfg: Config = { ...config, pools: [pool('lan', ['192.0.0.0/16'])] };
    const base = (generation: number, list: typeof services) => ({ ...snapshot(generation, cfg), services: list, endpointSlices: [] });
    const responder = new FakeResponder();
    // Standalone: a Service with no EndpointSlice is served by this host.
    const role = new L2Role({ nodeName: 'n1', logger: pino({ level: 'silent' }), responder, assumeLocalEndpoints: true });
    role.onSnapshot(base(1, services));
    await new Promise((r) => setImmediate(r));
    assert.equal(role.decided, n);
    const changed = service('s7', { ips: ['192.0.200.7'] });
    const next = services.map((s) => (s.metadata.name === 's7' ? changed : s));
    role.onSnapshot({ ...base(2, next), delta: { from: 1, servicesOnly: true, upserted: [changed], deleted: [] } });
    assert.equal(role.decided, n + 1, `${n}: the edit decided one Service`);
    role.onSnapshot({ ...base(3, next.filter((s) => s.metadata.name !== 's9')), delta: { from: 2, servicesOnly: true, upserted: [], deleted: ['default/s9'] } });
    assert.equal(role.decided, n + 1, `${n}: a deletion decides nothing`);
    const incremental = role.status();
    const claims = (responder.claims.at(-1) ?? []).map((c) => formatIp(c.ip)).sort();
    // The reference: the same world planned whole by a fresh role.
    const whole = new FakeResponder();
    const fresh = new L2Role({ nodeName: 'n1', logger: pino({ level: 'silent' }), responder: whole, assumeLocalEndpoints: true });
    fresh.onSnapshot(base(3, next.filter((s) => s.metadata.name !== 's9')));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(incremental, fresh.status());
    assert.deepEqual(claims, (whole.claims.at(-1) ?? []).map((c) => formatIp(c.ip)).sort());
    assert.ok(claims.includes('192.0.200.7') && !claims.includes('192.0.2.7') && !claims.includes('192.0.2.9'));
    // A delta that does not follow the planned generation is planned whole.
    role.onSnapshot({ ...base(5, next), delta: { from: 4, servicesOnly: true, upserted: [], deleted: [] } });
    assert.equal(role.decided, n);
    await role.stop();
    await fresh.stop();
  }
});
