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

/**
 * Applies the scenario's pools, starts the controller, then creates (or deletes) the Services one at
 * a time, each step waiting until that Service has an IP or a Warning Event (or 10 s), so that the
 * order is the same for both implementations. Deletes the Services at the end: both controllers
 * watch Services in every namespace, and a leftover would hold addresses in the next scenario.
 */
export async function runScenario(cp: ControlPlane, prefix: string, scenario: Scenario, start: StartController): Promise<ScenarioSeen> {
  const ns = await createNamespace(cp, `${prefix}-${scenario.name}`);
  const apply = async (objs: Json[]) => {
    const r = await cp.kubectl(['apply', '-f', '-'], { input: objs.map((o) => stringify(o)).join('---\n') });
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
        await sleep(2000);
        continue;
      }
      if (step.edit) {
        await apply([serviceObject(ns, step)]);
        await sleep(2000);
        continue;
      }
      if (step.delete) {
        const r = await cp.request('DELETE', `/api/v1/namespaces/${ns}/services/${step.name}`);
        assert.equal(r.status, 200, JSON.stringify(r.body));
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
    const seen: ScenarioSeen = { services: {}, pools: {} };
    const events = await eventsOf(cp, ns);
    for (const name of [...new Set(names)].sort()) {
      const r = await cp.request('GET', `/api/v1/namespaces/${ns}/services/${name}`);
      if (r.status === 404) continue;
      const svc = r.body as Json;
      const pool = svc.metadata.annotations?.['metallb.io/ip-allocated-from-pool'] as string | undefined;
      seen.services[name] = { ips: ingressOf(svc), ...(pool ? { pool } : {}), events: [...events.get(name) ?? []].sort() };
    }
    for (const p of scenario.pools) {
      const r = await cp.request('GET', `/apis/metallb.io/v1beta1/namespaces/${ns}/ipaddresspools/${p.name}`);
      if (r.status === 404) continue;
      const status = (r.body as Json).status as Record<string, number> | undefined;
      seen.pools[p.name] = Object.fromEntries(Object.entries(status ?? {}).sort());
    }
    return seen;
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
