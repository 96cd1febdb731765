// Runs the layer-2 scenarios (l2-scenarios.ts) with one implementation in the world of
// bgp-world.ts and records, after the start and after each step, which nodes answer ARP/NDP for
// each Service address (asked from the client namespace, every address at once, until final).
import type { ControlPlane } from '../cluster/index.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { eachStep, type Implementation, keyedDifferences, recordSteps, speakerEvents, speakerEventsOf, withScenario } from './bgp-observe.ts';
import { type BgpWorld, settleOn } from './bgp-world.ts';
import type { L2Scenario } from './l2-scenarios.ts';

/** Per step: "<service> <ip>" → the nodes answering for it (empty: nobody). */
export type L2Record = Record<string, Record<string, string[]>>;

async function ingress(cp: ControlPlane, ns: string, names: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const n of names) {
    const r = await cp.request('GET', `/api/v1/namespaces/${ns}/services/${n}`);
    if (r.status !== 200) continue;
    out.set(n, ((r.body.status?.loadBalancer?.ingress ?? []) as { ip: string }[]).map((i) => i.ip));
  }
  return out;
}

/** Who answers for every address now, all asked at once. */
async function answers(world: BgpWorld, ips: Map<string, string[]>): Promise<Record<string, string[]>> {
  const keys = [...ips].sort().flatMap(([svc, list]) => list.map((ip) => [`${svc} ${ip}`, ip] as const));
  const found = await Promise.all(keys.map(([, ip]) => world.whoAnswers(ip)));
  return Object.fromEntries(keys.map(([k], i) => [k, found[i]!]));
}

const nobody = (ips: Map<string, string[]>): Record<string, string[]> =>
  Object.fromEntries([...ips].flatMap(([svc, list]) => list.map((ip) => [`${svc} ${ip}`, []])));

/**
 * Runs one scenario: after the start and after each step, who answers for every address, until it
 * is final (settleOn: as soon as it is what `expect`, this implementation's last record, says,
 * else after a quiet spell).
 */
export async function runL2Scenario(cp: ControlPlane, world: BgpWorld, impl: Implementation, s: L2Scenario, expect?: L2Record): Promise<L2Record> {
  const names = s.services.map((x) => x.name);
  return withScenario(cp, world, impl, s, `l2-${s.name}`, async (ns) => {
    let ips = await ingress(cp, ns, names);
    return recordSteps<Record<string, string[]>>(cp, ns, s, expect, async (step, want, before) => {
      const slow = { minMs: step === 'start' ? 10_000 : 5000, quietMs: 3000, maxMs: 40_000 };
      const seen = await settleOn(() => answers(world, ips), want ? { minMs: 5000, quietMs: 3000, maxMs: 40_000, expect: want, before: before ?? nobody(ips) } : slow, 500);
      if (step === 'start') await startWarnings(cp, ns, names, expect);
      return seen;
    }, async () => {
      // A deleted Service's address is still asked about: nobody should answer for it.
      ips = await ingress(cp, ns, names);
    });
  }, { speakersFirst: true });
}

/**
 * A Warning the speakers write only in the starting state (announceFailed, for interfaces no node
 * has) must be written before the first step changes that state: with nobody answering, the start
 * settles at once, and MetalLB's speaker sometimes writes its Warning a few seconds later (never,
 * once the step has put the interfaces right). Waits, up to 30 s, for the Warnings `expect` lists.
 */
async function startWarnings(cp: ControlPlane, ns: string, names: string[], expect: L2Record | undefined): Promise<void> {
  const want = Object.entries(expect?.[speakerEvents] ?? {}).flatMap(([svc, lines]) => lines.filter((l) => l.startsWith('Warning ')).map((l) => [svc, l] as const));
  for (let t = Date.now(); want.length > 0 && Date.now() - t < 30_000; await sleep(500)) {
    const got = await speakerEventsOf(cp, ns, names);
    if (want.every(([svc, l]) => got[svc]?.includes(l))) return;
  }
}

/** Every difference between two layer-2 records, one line each. */
export function l2Differences(metallb: Record<string, L2Record>, ironlb: Record<string, L2Record>): string[] {
  const out: string[] = [];
  eachStep(metallb, ironlb, (where, ms = {}, is = {}) => out.push(...keyedDifferences(where, ms, is)));
  return out.sort();
}
