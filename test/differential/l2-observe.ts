// Runs one layer-2 scenario (l2-scenarios.ts) with one implementation in the world of
// bgp-world.ts and records, after the start and after each step, which nodes answer ARP/NDP for
// each Service address (asked from the client namespace, twice in a row until two rounds agree).
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createNamespace, type ControlPlane } from '../cluster/index.ts';
import { applyYaml, createService, createSpeakerPods, type Implementation, type RunningSpeakers, startSpeakers } from './bgp-observe.ts';
import type { BgpWorld } from './bgp-world.ts';
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

async function answers(world: BgpWorld, ips: Map<string, string[]>): Promise<Record<string, string[]>> {
  let last = '';
  for (let round = 0; round < 6; round++) {
    const seen: Record<string, string[]> = {};
    for (const [svc, list] of [...ips].sort()) for (const ip of list) seen[`${svc} ${ip}`] = world.whoAnswers(ip);
    const now = JSON.stringify(seen);
    if (now === last) return seen;
    last = now;
    await sleep(1500);
  }
  return JSON.parse(last) as Record<string, string[]>;
}

export async function runL2Scenario(cp: ControlPlane, world: BgpWorld, impl: Implementation, s: L2Scenario): Promise<L2Record> {
  const ns = await createNamespace(cp, `${impl.name}-l2-${s.name}`);
  await createSpeakerPods(cp, ns);
  await applyYaml(cp, ns, s.config);
  const controller = await impl.startController(cp, ns);
  let speakers: RunningSpeakers | undefined;
  const record: L2Record = {};
  const names = s.services.map((x) => x.name);
  try {
    for (const [i, svc] of s.services.entries()) await createService(cp, ns, svc, i);
    speakers = startSpeakers(world, cp, impl, ns, `l2-${s.name}`);
    await world.speakersListening(7472);
    await sleep(10_000);
    record.start = await answers(world, await ingress(cp, ns, names));
    for (const step of s.steps) {
      const before = await ingress(cp, ns, names);
      if (step.apply) await applyYaml(cp, ns, step.apply);
      if (step.deleteObject) {
        const r = await cp.kubectl(['delete', '-n', ns, step.deleteObject]);
        assert.equal(r.code, 0, r.stderr);
      }
      if (step.deleteService) {
        const r = await cp.request('DELETE', `/api/v1/namespaces/${ns}/services/${step.deleteService}`);
        assert.equal(r.status, 200, JSON.stringify(r.body));
      }
      await sleep(5000);
      // A deleted Service's address is still asked about: nobody should answer for it.
      record[step.name] = await answers(world, before);
    }
    return record;
  } finally {
    await speakers?.stop();
    await controller.stop();
    for (const n of names) await cp.request('DELETE', `/api/v1/namespaces/${ns}/services/${n}`);
  }
}

/** Every difference between two layer-2 records, one line each. */
export function l2Differences(metallb: Record<string, L2Record>, ironlb: Record<string, L2Record>): string[] {
  const out: string[] = [];
  const show = (v: unknown) => JSON.stringify(v) ?? 'absent';
  for (const scenario of new Set([...Object.keys(metallb), ...Object.keys(ironlb)])) {
    const m = metallb[scenario] ?? {}; const i = ironlb[scenario] ?? {};
    for (const step of new Set([...Object.keys(m), ...Object.keys(i)])) {
      const ms = m[step] ?? {}; const is = i[step] ?? {};
      for (const key of new Set([...Object.keys(ms), ...Object.keys(is)])) {
        if (show(ms[key]) !== show(is[key])) out.push(`${scenario} @${step} ${key}: metallb ${show(ms[key])} ironlb ${show(is[key])}`);
      }
    }
  }
  return out.sort();
}
