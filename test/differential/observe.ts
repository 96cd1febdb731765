// Runs one scenario against a controller (MetalLB's or ironlb's) on a real apiserver and records
// what the world sees: each Service's IPs in status, its pool annotation, its Events (type, reason,
// message), and each pool's status counters. Namespaces are random per run, so they are written
// as NS in messages; lists MetalLB prints in Go map order are sorted.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { createNamespace, type ControlPlane } from '../cluster/index.ts';
import type { PoolSpec, Scenario, ServiceStep } from './scenarios.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- API objects

export interface ServiceSeen {
  ips: string[];
  pool?: string;
  /** "Type Reason: message", each once, sorted. */
  events: string[];
}

export interface ScenarioSeen {
  services: Record<string, ServiceSeen>;
  pools: Record<string, Record<string, number>>;
}

/** A controller started for one scenario: it reads its configuration from `namespace`. */
export interface Controller { stop(): Promise<void>; /** Its process, when it runs as one. */ pid?: number }
export type StartController = (namespace: string, o: { lbClass?: string }) => Promise<Controller>;

async function until<T>(f: () => Promise<T | undefined>, ms: number): Promise<T | undefined> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch { /* e.g. 429 while a CRD's storage starts: try again */ }
    if (Date.now() > end) return undefined;
    await sleep(100);
  }
}

async function get(cp: ControlPlane, path: string): Promise<Json> {
  const r = await cp.request('GET', path);
  assert.equal(r.status, 200, `GET ${path}: ${JSON.stringify(r.body)}`);
  return r.body as Json;
}

function poolObject(ns: string, p: PoolSpec): Json {
  return {
    apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: p.name, namespace: ns },
    spec: {
      addresses: p.addresses,
      ...(p.autoAssign !== undefined ? { autoAssign: p.autoAssign } : {}),
      ...(p.avoidBuggyIPs !== undefined ? { avoidBuggyIPs: p.avoidBuggyIPs } : {}),
      ...(p.serviceAllocation ? {
        serviceAllocation: {
          ...p.serviceAllocation,
          ...(p.serviceAllocation.namespaces ? { namespaces: p.serviceAllocation.namespaces.map((n) => (n === 'NS' ? ns : n)) } : {}),
        },
      } : {}),
    },
  };
}

function serviceObject(ns: string, s: ServiceStep): Json {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: s.name, namespace: ns, ...(s.labels ? { labels: s.labels } : {}), ...(s.annotations ? { annotations: s.annotations } : {}) },
    spec: {
      type: 'LoadBalancer', selector: s.selector ?? { app: s.name },
      ...(s.etp ? { externalTrafficPolicy: s.etp } : {}),
      ports: (s.ports ?? [80]).map((port) => ({ name: `p${port}`, port, protocol: 'TCP' })),
      ...(s.loadBalancerIP ? { loadBalancerIP: s.loadBalancerIP } : {}),
      ...(s.loadBalancerClass ? { loadBalancerClass: s.loadBalancerClass } : {}),
      ...(s.ipFamilyPolicy ? { ipFamilyPolicy: s.ipFamilyPolicy } : {}),
      ...(s.ipFamilies ? { ipFamilies: s.ipFamilies } : {}),
    },
  };
}

async function eventsOf(cp: ControlPlane, ns: string): Promise<Map<string, Set<string>>> {
  const list = await get(cp, `/api/v1/namespaces/${ns}/events`);
  const by = new Map<string, Set<string>>();
  for (const e of list.items as Json[]) {
    // Only the controller's Events (both write as metallb-controller): the apiserver's own repair
    // loop also writes Events on Services (ClusterIPNotAllocated, with a random cluster IP).
    if (e.involvedObject?.kind !== 'Service' || (e.reportingComponent || e.source?.component) !== 'metallb-controller') continue;
    // MetalLB lists the Services holding an address in Go map order: sorted here.
    const message = String(e.message).replaceAll(ns, 'NS')
      .replace(/(address also in use by )([^:]+)/, (_m, p: string, list: string) => p + list.split(',').sort().join(','));
    const line = `${e.type} ${e.reason}: ${message}`;
    const set = by.get(e.involvedObject.name) ?? new Set<string>();
    set.add(line);
    by.set(e.involvedObject.name, set);
  }
  return by;
}

const ingressOf = (svc: Json): string[] => ((svc.status?.loadBalancer?.ingress ?? []) as Json[]).map((i) => i.ip as string);

/** What the world shows now: each of `names` (still there) with its IPs, pool and Events, each pool's status. */
async function seenNow(cp: ControlPlane, ns: string, names: string[], pools: string[]): Promise<ScenarioSeen> {
  const seen: ScenarioSeen = { services: {}, pools: {} };
  const events = await eventsOf(cp, ns);
  for (const name of [...new Set(names)].sort()) {
    const r = await cp.request('GET', `/api/v1/namespaces/${ns}/services/${name}`);
    if (r.status === 404) continue;
    const svc = r.body as Json;
    const pool = svc.metadata.annotations?.['metallb.io/ip-allocated-from-pool'] as string | undefined;
    seen.services[name] = { ips: ingressOf(svc), ...(pool ? { pool } : {}), events: [...events.get(name) ?? []].sort() };
  }
  for (const p of [...new Set(pools)]) {
    const r = await cp.request('GET', `/apis/metallb.io/v1beta1/namespaces/${ns}/ipaddresspools/${p}`);
    if (r.status === 404) continue;
    const status = (r.body as Json).status as Record<string, number> | undefined;
    seen.pools[p] = Object.fromEntries(Object.entries(status ?? {}).sort());
  }
  return seen;
}

/** JSON with object keys sorted (a record read from its file compares equal whatever its key order). */
const canonical = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x)
  ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x));

/** A record without the Events: what ironlb's run waits for (its Events differ where differences.ts says). */
export const withoutEvents = (s: ScenarioSeen): unknown => ({
  pools: s.pools, services: Object.fromEntries(Object.entries(s.services).map(([n, x]) => [n, { ips: x.ips, pool: x.pool }])),
});

const assignedOf = (s: ScenarioSeen): number => Object.values(s.pools).reduce((n, p) => n + (p.assignedIPv4 ?? 0) + (p.assignedIPv6 ?? 0), 0);

/**
 * After a step that changes the configuration or a Service (the controller then rewrites some
 * statuses and Events): at least `minMs`, then until nothing changed for 1 s (at most 10 s), so that
 * a reaction slowed by load is over before the next Service comes.
 */
async function quietAfter(read: () => Promise<ScenarioSeen>, minMs: number): Promise<void> {
  const start = Date.now();
  await sleep(minMs);
  let last = JSON.stringify(await read());
  for (let since = Date.now(); Date.now() - since < 1000 && Date.now() - start < 10_000;) {
    await sleep(250);
    const now = JSON.stringify(await read());
    if (now !== last) { last = now; since = Date.now(); }
  }
}

/**
 * Applies the scenario's pools, starts the controller, then creates (or deletes) the Services one at
 * a time, each step waiting until that Service has an IP or a Warning Event (or 10 s), so that the
 * order is the same for both implementations. Deletes the Services at the end: both controllers
 * watch Services in every namespace, and a leftover would hold addresses in the next scenario.
 * `expect` (MetalLB's record; for ironlb `compare` leaves the Events out, where the listed
 * differences are) lets the end wait until the world shows it (at most 20 s) instead of 2.5 s.
 */
export async function runScenario(
  cp: ControlPlane, prefix: string, scenario: Scenario, start: StartController,
  o: { expect?: ScenarioSeen; compare?: (s: ScenarioSeen) => unknown } = {},
): Promise<ScenarioSeen> {
  const ns = await createNamespace(cp, `${prefix}-${scenario.name}`);
  const apply = async (objs: Json[]) => {
    const r = await cp.kubectl(['apply', '-f', '-'], { input: objs.map((x) => stringify(x)).join('---\n') });
    assert.equal(r.code, 0, r.stderr);
  };
  if (scenario.namespaceLabels) {
    const r = await cp.kubectl(['label', 'namespace', ns, ...Object.entries(scenario.namespaceLabels).map(([k, v]) => `${k}=${v}`)]);
    assert.equal(r.code, 0, r.stderr);
  }
  await apply(scenario.pools.map((p) => poolObject(ns, p)));
  const startIt = () => start(ns, scenario.lbClass !== undefined ? { lbClass: scenario.lbClass } : {});
  let controller = await startIt();
  const names: string[] = [];
  const pools = scenario.pools.map((p) => p.name);
  const read = () => seenNow(cp, ns, names, pools);
  try {
    for (const step of scenario.steps) {
      if (step.restart) {
        await controller.stop();
        controller = await startIt();
        await sleep(3000); // a restart that moves nothing writes nothing: nothing to wait for
        continue;
      }
      if (step.pool) {
        if ('delete' in step.pool) {
          const r = await cp.request('DELETE', `/apis/metallb.io/v1beta1/namespaces/${ns}/ipaddresspools/${step.pool.name}`);
          assert.equal(r.status, 200, JSON.stringify(r.body));
        } else {
          await apply([poolObject(ns, step.pool)]);
        }
        await quietAfter(read, 2000);
        continue;
      }
      if (step.edit) {
        await apply([serviceObject(ns, step)]);
        await quietAfter(read, 2000);
        continue;
      }
      if (step.delete) {
        // A Service whose addresses no other one holds: the controller has let them go once the
        // pools' status counts fewer or a waiting Service took them (the next Service may be meant
        // to take them: it must not come first). Else 1.5 s.
        const before = await read();
        const mine = before.services[step.name]?.ips ?? [];
        const others = Object.entries(before.services).filter(([n]) => n !== step.name);
        const shared = others.some(([, x]) => x.ips.some((ip) => mine.includes(ip)));
        const r = await cp.request('DELETE', `/api/v1/namespaces/${ns}/services/${step.name}`);
        assert.equal(r.status, 200, JSON.stringify(r.body));
        const released = (now: ScenarioSeen) => assignedOf(now) < assignedOf(before) || others.some(([n, x]) => JSON.stringify(now.services[n]?.ips) !== JSON.stringify(x.ips));
        if (mine.length > 0 && !shared) await until(async () => (released(await read()) ? true : undefined), 10_000);
        await sleep(1500);
        continue;
      }
      await apply([serviceObject(ns, step)]);
      names.push(step.name);
      if (step.ignored) { await sleep(3000); continue; }
      await until(async () => {
        if (ingressOf(await get(cp, `/api/v1/namespaces/${ns}/services/${step.name}`)).length > 0) return true;
        return [...(await eventsOf(cp, ns)).get(step.name) ?? []].some((l) => l.startsWith('Warning ')) || undefined;
      }, 10_000);
    }
    // A waiting Service may take a freed address; Events and pool status trail the status write.
    await sleep(2500);
    if (!o.expect) return await read();
    const compare = o.compare ?? ((x: ScenarioSeen) => x);
    const want = canonical(compare(o.expect));
    return (await until(async () => { const x = await read(); return canonical(compare(x)) === want ? x : undefined; }, 20_000)) ?? await read();
  } finally {
    await controller.stop();
    for (const name of new Set(names)) await cp.request('DELETE', `/api/v1/namespaces/${ns}/services/${name}`);
  }
}

/** Every difference between two records, one line each ("scenario/service field: metallb … ironlb …"). */
export function differences(metallb: Record<string, ScenarioSeen>, ironlb: Record<string, ScenarioSeen>): string[] {
  const out: string[] = [];
  const show = (v: unknown) => JSON.stringify(v) ?? 'absent';
  const none: ScenarioSeen = { services: {}, pools: {} };
  for (const scenario of new Set([...Object.keys(metallb), ...Object.keys(ironlb)])) {
    const m = metallb[scenario] ?? none;
    const i = ironlb[scenario] ?? none;
    for (const svc of new Set([...Object.keys(m.services), ...Object.keys(i.services)])) {
      const a = m.services[svc]; const b = i.services[svc];
      for (const field of ['ips', 'pool'] as const) {
        if (show(a?.[field]) !== show(b?.[field])) out.push(`${scenario}/${svc} ${field}: metallb ${show(a?.[field])} ironlb ${show(b?.[field])}`);
      }
      const ea = new Set(a?.events ?? []); const eb = new Set(b?.events ?? []);
      for (const e of ea) if (!eb.has(e)) out.push(`${scenario}/${svc} event only from metallb: ${e}`);
      for (const e of eb) if (!ea.has(e)) out.push(`${scenario}/${svc} event only from ironlb: ${e}`);
    }
    for (const pool of new Set([...Object.keys(m.pools), ...Object.keys(i.pools)])) {
      if (show(m.pools[pool]) !== show(i.pools[pool])) out.push(`${scenario} pool ${pool} status: metallb ${show(m.pools[pool])} ironlb ${show(i.pools[pool])}`);
    }
  }
  return out.sort();
}
