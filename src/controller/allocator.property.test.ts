// Property tests over random pools, Services, deletions and config changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Service } from '../api/resources.ts';
import type { Config } from '../config/types.ts';
import { formatIp, parseIp } from '../net/ip.ts';
import { prefixFirst, prefixLast } from '../net/prefix.ts';
import { Allocator, reconcileAll } from './ipam.ts';
import { backendKey, servicePorts, sharingKey } from './service-facts.ts';
import { config, pool, service } from '../../test/fixtures/controller/build.ts';

const poolNames = ['pa', 'pb', 'pc'] as const;

/** Up to three small, non-overlapping pools (each owns its own /24 and /120). */
const arbConfig = fc.array(
  fc.record({
    v4: fc.option(fc.record({ base: fc.integer({ min: 0, max: 15 }), length: fc.integer({ min: 28, max: 32 }) }), { nil: undefined }),
    wholeV4: fc.boolean(),
    v6: fc.option(fc.integer({ min: 124, max: 128 }), { nil: undefined }),
    avoidBuggyIPs: fc.boolean(),
    autoAssign: fc.constantFrom(true, true, true, false),
    pinned: fc.constantFrom(undefined, undefined, 'ns1', 'priority'),
  }),
  { minLength: 1, maxLength: 3 },
).map((specs): Config => config(...specs.map((s, i) => {
  const addrs: string[] = [];
  if (s.wholeV4) addrs.push(`10.0.${i}.0/24`);
  else if (s.v4) addrs.push(`10.0.${i}.${s.v4.base * 16}/${s.v4.length}`);
  if (s.v6 !== undefined) addrs.push(`fd00:0:0:${i}::/${s.v6}`);
  if (addrs.length === 0) addrs.push(`10.0.${i}.0/30`);
  return pool(poolNames[i]!, addrs, {
    avoidBuggyIPs: s.avoidBuggyIPs,
    autoAssign: s.autoAssign,
    ...(s.pinned === 'ns1' ? { namespaces: ['ns1'] } : s.pinned === 'priority' ? { priority: 1 } : {}),
  });
})));

const arbService = fc.record({
  id: fc.integer({ min: 0, max: 11 }),
  ns: fc.constantFrom('ns1', 'ns2'),
  family: fc.constantFrom('v4', 'v6', 'dual-prefer', 'dual-require'),
  share: fc.constantFrom(undefined, 'k1', 'k1', 'k2'),
  ports: fc.constantFrom([80], [443], [53], [80, 443]),
  local: fc.constantFrom(false, false, false, true),
  pool: fc.constantFrom(undefined, undefined, undefined, undefined, undefined, ...poolNames),
  request: fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 20 })) }),
}).map((s): Service => {
  const annotations: Record<string, string> = {};
  if (s.share) annotations['metallb.io/allow-shared-ip'] = s.share;
  if (s.pool) annotations['metallb.io/address-pool'] = s.pool;
  const clusterIPs = s.family === 'v4' ? ['10.96.0.1'] : s.family === 'v6' ? ['fd96::1'] : ['10.96.0.1', 'fd96::1'];
  return service(`s${s.id}`, {
    namespace: s.ns,
    annotations,
    ports: s.ports.map((p) => [p]),
    spec: {
      clusterIPs,
      ...(s.family === 'dual-prefer' ? { ipFamilyPolicy: 'PreferDualStack' as const } : s.family === 'dual-require' ? { ipFamilyPolicy: 'RequireDualStack' as const } : {}),
      ...(s.local ? { externalTrafficPolicy: 'Local' as const, selector: { app: `a${s.id % 2}` } } : {}),
      ...(s.request ? { loadBalancerIP: s.family === 'v6' ? `fd00:0:0:${s.request[0]}::${s.request[1]}` : `10.0.${s.request[0]}.${s.request[1]}` } : {}),
    },
  });
});

type Op = { kind: 'upsert'; svc: Service } | { kind: 'delete'; id: number } | { kind: 'config'; config: Config };
const arbOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: arbService.map((svc) => ({ kind: 'upsert' as const, svc })) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 11 }).map((id) => ({ kind: 'delete' as const, id })) },
  { weight: 1, arbitrary: arbConfig.map((c) => ({ kind: 'config' as const, config: c })) },
);

const keyOf = (s: Service): string => `${s.metadata.namespace}/${s.metadata.name}`;

/** The invariants, checked against the allocator's state and the Services' definitions. */
const seen = { allocated: 0, shared: 0, dual: 0, moved: 0 };

function checkInvariants(alloc: Allocator, cfg: Config, world: Map<string, Service>): void {
  const byAddress = new Map<string, string[]>();
  for (const key of alloc.allocatedKeys()) {
    const svc = world.get(key);
    assert.ok(svc, `${key} holds addresses but is not a Service`);
    const poolName = alloc.poolOf(key);
    const p = cfg.pools.find((x) => x.name === poolName);
    assert.ok(p, `${key}: pool ${poolName} not in the config`);
    seen.allocated++;
    if (alloc.engine.ipsOf(key).length === 2) seen.dual++;
    for (const ip of alloc.engine.ipsOf(key)) {
      // Every address lies in its pool (and is not a buggy one where those are avoided).
      assert.ok(p.cidrs.some((c) => c.family === ip.family && ip.value >= prefixFirst(c) && ip.value <= prefixLast(c)), `${formatIp(ip)} not in ${poolName}`);
      if (p.avoidBuggyIPs && ip.family === 4) assert.ok(![0n, 255n].includes(ip.value & 0xffn), `${formatIp(ip)} is buggy`);
      const t = formatIp(ip);
      byAddress.set(t, [...(byAddress.get(t) ?? []), key]);
    }
  }
  // No address given to two Services unless sharing allows it.
  for (const [ip, keys] of byAddress) {
    if (keys.length < 2) continue;
    seen.shared++;
    const svcs = keys.map((k) => world.get(k)!);
    const sk = sharingKey(svcs[0]!);
    assert.notEqual(sk, '', `${ip} shared by ${keys.join(',')} without a sharing key`);
    const ports = new Set<string>();
    for (const s of svcs) {
      assert.equal(sharingKey(s), sk, `${ip}: different sharing keys`);
      assert.equal(backendKey(s), backendKey(svcs[0]!), `${ip}: different backends`);
      for (const p of servicePorts(s)) { assert.ok(!ports.has(p), `${ip}: port ${p} twice`); ports.add(p); }
    }
  }
  // Pool counters equal a brute-force recount.
  for (const p of cfg.pools) {
    const assigned = { 4: new Set<string>(), 6: new Set<string>() };
    for (const [ip, keys] of byAddress) {
      if (alloc.poolOf(keys[0]!) === p.name) assigned[parseIp(ip)!.family].add(ip);
    }
    const capacity = { 4: 0, 6: 0 };
    for (const c of p.cidrs) {
      for (let v = prefixFirst(c); v <= prefixLast(c); v++) {
        if (p.avoidBuggyIPs && c.family === 4 && (v & 0xffn) % 255n === 0n) continue;
        capacity[c.family]++;
      }
    }
    assert.deepEqual(alloc.poolStatus(p.name), {
      assignedIPv4: assigned[4].size,
      assignedIPv6: assigned[6].size,
      availableIPv4: capacity[4] - assigned[4].size,
      availableIPv6: capacity[6] - assigned[6].size,
    }, `counters of ${p.name}`);
  }
}

test('random operations keep every invariant; a restart reproduces the assignment', () => {
  fc.assert(fc.property(arbConfig, fc.array(arbOp, { maxLength: 30 }), (initial, ops) => {
    let cfg = initial;
    const alloc = new Allocator(cfg);
    const world = new Map<string, Service>();
    for (const op of ops) {
      if (op.kind === 'config') {
        cfg = op.config;
        seen.moved += alloc.setConfig(cfg).length;
        // MetalLB reprocesses everything after a config change.
        const r = reconcileAll(cfg, [...world.values()], alloc);
        for (const [k, w] of r.services) {
          const s = world.get(k)!;
          world.set(k, { ...s, metadata: { ...s.metadata, annotations: w.annotations }, status: { loadBalancer: { ingress: w.ingress } } });
        }
      } else if (op.kind === 'delete') {
        const key = `${[...world.keys()].find((k) => k.endsWith(`/s${op.id}`)) ?? ''}`;
        if (world.delete(key)) alloc.deleteService(key);
      } else {
        const prev = world.get(keyOf(op.svc));
        // Keep what the controller wrote: status and its own annotation.
        const svc: Service = prev
          ? { ...op.svc, status: prev.status, metadata: { ...op.svc.metadata, annotations: { ...op.svc.metadata.annotations, ...pick(prev.metadata.annotations) } } }
          : op.svc;
        const other = [...world.keys()].find((k) => k !== keyOf(svc) && k.endsWith(`/${svc.metadata.name}`));
        if (other) { world.delete(other); alloc.deleteService(other); }
        const out = alloc.reconcileService(svc, 0)!;
        world.set(out.key, { ...svc, metadata: { ...svc.metadata, annotations: out.annotations }, status: out.status });
      }
      checkInvariants(alloc, cfg, world);
    }
    // Converge everything, then restart from the statuses alone: nothing moves.
    const settled = reconcileAll(cfg, [...world.values()], alloc);
    for (const [k, w] of settled.services) {
      const s = world.get(k)!;
      world.set(k, { ...s, metadata: { ...s.metadata, annotations: w.annotations }, status: { loadBalancer: { ingress: w.ingress } } });
    }
    checkInvariants(settled.state, cfg, world);
    const restarted = reconcileAll(cfg, [...world.values()]);
    for (const [k, w] of restarted.services) {
      assert.deepEqual(w.ingress, world.get(k)!.status?.loadBalancer?.ingress ?? [], `${k} moved on restart`);
    }
    assert.deepEqual(restarted.poolStatus, settled.poolStatus);
  }), { numRuns: 150 });
  // The generators must reach the interesting states, or the properties prove little.
  assert.ok(seen.allocated > 300 && seen.shared > 10 && seen.dual > 50 && seen.moved > 3, JSON.stringify(seen));
});

function pick(a: Record<string, string> | undefined): Record<string, string> {
  const v = a?.['metallb.io/ip-allocated-from-pool'];
  return v === undefined ? {} : { 'metallb.io/ip-allocated-from-pool': v };
}

test('automatic assignment never takes an address some Service requests, in any order (issue #9)', () => {
  let requestedAndHeld = 0;
  fc.assert(fc.property(arbConfig, fc.uniqueArray(arbService, { selector: (s) => s.metadata.name, maxLength: 12 }), (cfg, services) => {
    const r = reconcileAll(cfg, services);
    const requested = new Map<string, string[]>(); // address -> requesting keys
    for (const s of services) {
      const ip = s.spec.loadBalancerIP;
      if (ip === undefined) continue;
      const t = formatIp(parseIp(ip)!);
      requested.set(t, [...(requested.get(t) ?? []), keyOf(s)]);
    }
    const holders = new Map<string, string[]>();
    for (const [key, w] of r.services) for (const e of w.ingress) holders.set(e.ip!, [...(holders.get(e.ip!) ?? []), key]);
    for (const [ip, keys] of holders) {
      const askers = requested.get(ip);
      if (!askers) continue;
      // A requested address is held by (at least) one of its requesters; others only share it.
      assert.ok(keys.some((k) => askers.includes(k)), `${ip}, requested by ${askers.join(',')}, taken by ${keys.join(',')}`);
      requestedAndHeld++;
    }
  }), { numRuns: 1000 });
  // 1,000 runs hold 56-67 requested addresses (6 runs); 300 runs once held exactly 10, failing here
  // by chance: the check is about the generator, not luck.
  assert.ok(requestedAndHeld > 10, `only ${requestedAndHeld} requested addresses were held: the generator misses the point`);
});
