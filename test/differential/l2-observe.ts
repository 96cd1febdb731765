// Runs the layer-2 scenarios (l2-scenarios.ts) with one implementation in the world of
// bgp-world.ts and records, after the start and after each step, which nodes answer ARP/NDP for
// each Service address (asked from the client namespace, every address at once, until final), and
// the ServiceL2Status objects the speakers wrote (node and interfaces).
import type { ControlPlane } from '../cluster/index.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { eachStep, type Implementation, keyedDifferences, recordSteps, speakerEvents, speakerEventsOf, withScenario } from './bgp-observe.ts';
import { type BgpWorld, type Lan, settleOn } from './bgp-world.ts';
import type { L2Scenario } from './l2-scenarios.ts';

/**
 * Per step: "<service> <ip>" → the nodes answering for it (empty: nobody), "<service> <ip> @lan2"
 * the same asked on the second segment (scenarios with `lan2`), "status <service>" → its
 * ServiceL2Status objects ("<node> [<interfaces>]").
 */
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

const lansOf = (s: L2Scenario): Lan[] => (s.lan2 ? ['lan', 'lan2'] : ['lan']);
const keyOf = (svc: string, ip: string, lan: Lan) => (lan === 'lan' ? `${svc} ${ip}` : `${svc} ${ip} @${lan}`);

/** The ServiceL2Status objects of `names` in `ns`: "status <service>" → "<node> [<interfaces, sorted>]" each. */
async function l2Statuses(cp: ControlPlane, ns: string, names: string[]): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = Object.fromEntries(names.map((n) => [`status ${n}`, []]));
  const r = await cp.request('GET', `/apis/metallb.io/v1beta1/namespaces/${ns}/servicel2statuses`);
  if (r.status !== 200) throw new Error(`listing ServiceL2Status: ${r.status} ${JSON.stringify(r.body)}`);
  for (const o of (r.body.items ?? []) as { status?: { node?: string; serviceName?: string; interfaces?: { name: string }[] } }[]) {
    // MetalLB writes the interfaces from a Go set: in random order.
    const ifs = (o.status?.interfaces ?? []).map((i) => i.name).sort();
    out[`status ${o.status?.serviceName ?? '?'}`]?.push(`${o.status?.node ?? '?'} [${ifs.join(',')}]`);
  }
  for (const v of Object.values(out)) v.sort();
  return out;
}

/** Who answers for every address now, on each segment, all asked at once; and the ServiceL2Status objects. */
async function observeL2(cp: ControlPlane, ns: string, world: BgpWorld, ips: Map<string, string[]>, lans: Lan[]): Promise<Record<string, string[]>> {
  const keys = [...ips].sort().flatMap(([svc, list]) => list.flatMap((ip) => lans.map((lan) => [keyOf(svc, ip, lan), ip, lan] as const)));
  const [status, ...found] = await Promise.all([l2Statuses(cp, ns, [...ips.keys()]), ...keys.map(([, ip, lan]) => world.whoAnswers(ip, lan))]);
  return { ...Object.fromEntries(keys.map(([k], i) => [k, found[i]!])), ...status };
}

const nobody = (ips: Map<string, string[]>, lans: Lan[]): Record<string, string[]> => ({
  ...Object.fromEntries([...ips].flatMap(([svc, list]) => list.flatMap((ip) => lans.map((lan) => [keyOf(svc, ip, lan), []])))),
  ...Object.fromEntries([...ips.keys()].map((svc) => [`status ${svc}`, []])),
});

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
      const seen = await settleOn(() => observeL2(cp, ns, world, ips, lansOf(s)), want ? { minMs: 5000, quietMs: 3000, maxMs: 40_000, expect: want, before: before ?? nobody(ips, lansOf(s)) } : slow, 500);
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
