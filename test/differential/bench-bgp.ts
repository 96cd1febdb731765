// The BGP figures of `npm run bench -- metallb bgp [N...]` (issue #13): MetalLB's controller and
// speakers (native BGP) and ironlb's, each in turn, in the network-namespace world of bgp-world.ts
// (three nodes, three iBGP FRR routers, a fresh control plane per implementation), measured the same
// way:
// - convergence: 200 Services created 5 per second (each with its requested IP and a ready
//   endpoint), from the create request to the /32 arriving at r1 (bgpd's own log of received
//   prefixes, microsecond timestamps): p50 and p99;
// - bulk: N Services (default 1000) created 32 at a time → every /32 at r1 from every node;
// - cost: controller and speaker (node-1) RSS and CPU, idle (10 s) and under churn (20 s of one
//   Service deleted and one created, 5 per second), at each N;
// - config change: one peer (r2's) edited → sessions reset and UPDATEs received at r1 and r3;
// - node loss: node-1's link cut → r1 drops its session (both by the hold timer, 9 s here, keepalive
//   3 s: MetalLB's native speaker refuses keepaliveTime, takes a third of the hold time; MetalLB's
//   native speaker has no BFD; ironlb's BFD figures are `npm run bench -- bfd`).
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createNode, startControlPlane, type ControlPlane } from '../cluster/index.ts';
import { installCrds } from '../cluster/ironlb-setup.ts';
import { inNs } from '../e2e/netns.ts';
import { applyYaml, createSpeakerPods, type Implementation, ironlbSpeakerArgv, metallbSpeakerArgv, type RunningSpeakers, startSpeakers } from './bgp-observe.ts';
import type { Controller } from './observe.ts';
import { BgpWorld, nodeAddrs, nodeLabels, nodeNames } from './bgp-world.ts';
import { installMetallbCrds, startIronlbController, startMetallbController } from './metallb.ts';
import { KubeClient } from '../../src/store/kubernetes/kube-client.ts';
import { Reflector } from '../../src/store/kubernetes/reflector.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- vtysh and API JSON

export const benchImplementations: Implementation[] = [
  { name: 'metallb', startController: startMetallbController, speakerArgv: (_cp, ns, node) => metallbSpeakerArgv(ns, node) },
  // BENCH_SPEAKER_NODE_ARGS: node options for ironlb's speakers (`--cpu-prof --cpu-prof-dir=...`, which NODE_OPTIONS refuses).
  { name: 'ironlb', startController: startIronlbController, speakerArgv: (cp, ns, node) => {
    const [node0, ...rest] = ironlbSpeakerArgv(cp, ns, node);
    return [node0!, ...(process.env.BENCH_SPEAKER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean), ...rest];
  } },
];

/** RSS (max sampled), CPU as % of one core over the window, and CPU seconds in it. */
export interface Cost { rssMb: number; cpuPct: number; cpuSeconds: number }
export interface BgpFigures {
  convergenceP50Ms: number; convergenceP99Ms: number; convergenceMissing: number;
  /** The two halves of convergence: create → IP in status (a watcher's view: the controller), status → /32 at r1 (the speaker). */
  statusP50Ms: number; statusP99Ms: number; speakerP50Ms: number; speakerP99Ms: number;
  bulk: Record<number, { seconds: number; afterCreates: number; /** Routes at r1 → node-1's ServiceBGPStatus written for every Service (NaN: not within 15 min). */ statusSeconds: number; idle: { controller: Cost; speaker: Cost }; churn: { controller: Cost; speaker: Cost } }>;
  configChange: { resetsOthers: number; updatesOthers: number; resetsEdited: number };
  nodeLossMs: number;
}

export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime, fields 14 and 15
}
export const rssMb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

/** Samples two processes' RSS (max) and CPU (% of one core) while `during` runs. */
async function measure(pids: { controller: number; speaker: number }, during: () => Promise<void>): Promise<{ controller: Cost; speaker: Cost }> {
  const t0 = Date.now();
  const c0 = { controller: cpuTicks(pids.controller), speaker: cpuTicks(pids.speaker) };
  const max = { controller: 0, speaker: 0 };
  let done = false;
  const sampler = (async () => {
    while (!done) {
      max.controller = Math.max(max.controller, rssMb(pids.controller));
      max.speaker = Math.max(max.speaker, rssMb(pids.speaker));
      await sleep(500);
    }
  })();
  await during();
  done = true;
  await sampler;
  const secs = (Date.now() - t0) / 1000;
  const cost = (k: 'controller' | 'speaker'): Cost => {
    const cpuSeconds = (cpuTicks(pids[k]) - c0[k]) / 100;
    return { rssMb: max[k], cpuPct: (cpuSeconds / secs) * 100, cpuSeconds };
  };
  return { controller: cost('controller'), speaker: cost('speaker') };
}

/** A loaded apiserver times a request out now and then: try again (a 409 then means it was made). */
async function retried(what: string, f: () => Promise<{ status: number; body: unknown }>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const r = await f();
      if (r.status === 201 || (attempt > 1 && r.status === 409)) return;
      throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
    } catch (e) {
      if (attempt >= 5 || !String(e).includes('timeout')) throw e;
    }
  }
}

async function createOne(cp: ControlPlane, ns: string, name: string, ip?: string): Promise<void> {
  await retried(`endpointslice ${name}`, () => cp.request('POST', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, {
    metadata: { name: `${name}-eps`, labels: { 'kubernetes.io/service-name': name } }, addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: [{ addresses: ['10.244.0.9'], nodeName: 'node-1', conditions: { ready: true, serving: true, terminating: false } }],
  }));
  await retried(`service ${name}`, () => cp.request('POST', `/api/v1/namespaces/${ns}/services`, {
    metadata: { name, ...(ip ? { annotations: { 'metallb.io/loadBalancerIPs': ip } } : {}) },
    spec: { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, selector: { app: name }, ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
  }));
}

async function deleteOne(cp: ControlPlane, ns: string, name: string): Promise<void> {
  await cp.request('DELETE', `/api/v1/namespaces/${ns}/services/${name}`);
  await cp.request('DELETE', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices/${name}-eps`);
}

/** r1's neighbors: per address, state, prefixes received, connections established, UPDATEs received. */
async function r1Neighbors(world: BgpWorld, router: 'r1' | 'r2' | 'r3' = 'r1'): Promise<Record<string, { state: string; pfx: number; established: number; updates: number }>> {
  const j = await world.routers.get(router)!.json<Json>('show bgp neighbors json');
  return Object.fromEntries(Object.entries(j).map(([a, n]) => [a, {
    state: n.bgpState as string, pfx: Number(n.addressFamilyInfo?.ipv4Unicast?.acceptedPrefixCounter ?? 0),
    established: Number(n.connectionsEstablished ?? 0), updates: Number(n.messageStats?.updatesRecv ?? 0),
  }]));
}

async function waitUntil(what: string, ms: number, f: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms: ${what}`);
    await sleep(200);
  }
}

/** Waits until `node`'s speaker has written a ServiceBGPStatus with its status for at least `n` Services; false after `ms`. */
async function statusesWritten(cp: ControlPlane, ns: string, node: string, n: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    const r = await cp.request('GET', `/apis/metallb.io/v1beta1/namespaces/${ns}/servicebgpstatuses?labelSelector=${encodeURIComponent(`metallb.io/node=${node}`)}`).catch(() => undefined);
    const items = ((r?.body as Json | undefined)?.items ?? []) as Json[];
    if (items.filter((i) => i.status?.serviceName).length >= n) return true;
    if (Date.now() > end) return false;
    await sleep(Math.max(2000, n / 2)); // a list of 10,000 is a few MB for the apiserver to encode
  }
}

/** First arrival at the router of each prefix, from bgpd.log ("... rcvd 10.210.200.5/32 IPv4 unicast"). */
function arrivals(logFile: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    const m = /^(\d{4})\/(\d\d)\/(\d\d) (\d\d:\d\d:\d\d)\.(\d{6}) .* rcvd (\d+\.\d+\.\d+\.\d+\/32)/.exec(line);
    if (!m) continue;
    const t = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}Z`) + Number(m[5]) / 1000;
    if (!out.has(m[6]!)) out.set(m[6]!, t);
  }
  return out;
}

const quantile = (xs: number[], q: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN; };

export interface BenchBgpOptions {
  /** Only the convergence figure (quick runs while working on it). */
  readonly convergenceOnly?: boolean;
  /** Services in the convergence run (default 200). */
  readonly convergenceServices?: number;
}

/** The world of one implementation: control plane, namespaces, nodes, routers, its controller and speakers, 9 sessions up. */
interface BenchWorld {
  readonly cp: ControlPlane;
  readonly world: BgpWorld;
  readonly ns: string;
  readonly controller: Controller;
  readonly speakers: RunningSpeakers;
  readonly peerYaml: (name: string, addr: string, hold: string) => string;
}

async function withBenchWorld<T>(impl: Implementation, say: (l: string) => void, body: (w: BenchWorld) => Promise<T>): Promise<T> {
  const cp = await startControlPlane({ name: `bench-bgp-${impl.name}` });
  const world = new BgpWorld('mb-');
  try {
    if (impl.name === 'metallb') await installMetallbCrds(cp); else await installCrds(cp);
    for (const n of nodeNames) await createNode(cp, n, { labels: nodeLabels[n], addresses: [{ type: 'InternalIP', address: nodeAddrs[n].v4 }] });
    await world.build(cp.server);
    const ns = 'metallb-system';
    await cp.request('POST', '/api/v1/namespaces', { metadata: { name: ns } });
    await cp.request('POST', '/api/v1/namespaces', { metadata: { name: 'bench' } });
    await createSpeakerPods(cp, ns);
    const peerYaml = (name: string, addr: string, hold: string) =>
      `apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: ${name}, namespace: NS}\nspec: {myASN: 64500, peerASN: 64500, peerAddress: ${addr}, holdTime: ${hold}}\n---\n`;
    await applyYaml(cp, ns, `apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: main, namespace: NS}\nspec: {addresses: [10.210.0.0/16]}\n---\n`
      + peerYaml('r1', '192.168.1.1', '9s') + peerYaml('r2', '192.168.1.2', '9s') + peerYaml('r3', '192.168.1.3', '9s')
      + 'apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: all, namespace: NS}\nspec: {ipAddressPools: [main]}\n');
    world.startRouters({ r1: { asn: 64500, holdTime: 9, logUpdates: true }, r2: { asn: 64500, holdTime: 9 }, r3: { asn: 64500, holdTime: 9 } });
    const controller = await impl.startController(cp, ns);
    const speakers = startSpeakers(world, cp, impl, ns, 'bench');
    try {
      await waitUntil('9 sessions', 90_000, async () => {
        for (const r of ['r1', 'r2', 'r3'] as const) if (Object.values(await r1Neighbors(world, r)).filter((n) => n.state === 'Established').length < 3) return false;
        return true;
      });
      say(`${impl.name}: 9 sessions up`);
      return await body({ cp, world, ns, controller, speakers, peerYaml });
    } finally {
      await speakers.stop();
      await controller.stop();
    }
  } finally {
    await world.stop();
    await cp.stop();
  }
}

export async function benchBgp(impl: Implementation, sizes: number[], say: (l: string) => void, opts: BenchBgpOptions = {}): Promise<BgpFigures> {
  return withBenchWorld(impl, say, async ({ cp, world, ns, controller, speakers, peerYaml }) => {
    // Convergence: 200 Services, 5 per second; a watcher here sees when each IP is in status.
    const sent = new Map<string, number>();
    const inStatus = new Map<string, number>();
    const client = new KubeClient(cp.kubeConfig, 'bench');
    const watcher = new Reflector({
      client, path: '/api/v1/namespaces/bench/services', name: 'bench',
      onChange: (_k, o) => {
        for (const ing of (o.status as Json | undefined)?.loadBalancer?.ingress ?? []) if (!inStatus.has(`${ing.ip}/32`)) inStatus.set(`${ing.ip}/32`, Date.now());
      },
    });
    await watcher.start();
    const convergenceServices = opts.convergenceServices ?? 200;
    for (let i = 0; i < convergenceServices; i++) {
      const ip = `10.210.200.${i}`;
      const t = Date.now();
      await createOne(cp, 'bench', `conv-${i}`, ip);
      sent.set(`${ip}/32`, t);
      const wait = t + 200 - Date.now();
      if (wait > 0) await sleep(wait);
    }
    await sleep(5000);
    watcher.stop();
    client.close();
    const got = arrivals(path.join(world.routers.get('r1')!.dir, 'bgpd.log'));
    const lat = [...sent].flatMap(([p, t]) => (got.has(p) ? [got.get(p)! - t] : []));
    const toStatus = [...sent].flatMap(([p, t]) => (inStatus.has(p) ? [inStatus.get(p)! - t] : []));
    const toRib = [...inStatus].flatMap(([p, t]) => (got.has(p) ? [got.get(p)! - t] : []));
    const figures: BgpFigures = {
      convergenceP50Ms: quantile(lat, 0.5), convergenceP99Ms: quantile(lat, 0.99), convergenceMissing: sent.size - lat.length,
      statusP50Ms: quantile(toStatus, 0.5), statusP99Ms: quantile(toStatus, 0.99), speakerP50Ms: quantile(toRib, 0.5), speakerP99Ms: quantile(toRib, 0.99),
      bulk: {}, configChange: { resetsOthers: 0, updatesOthers: 0, resetsEdited: 0 }, nodeLossMs: NaN,
    };
    say(`${impl.name}: convergence p50 ${figures.convergenceP50Ms.toFixed(0)} ms p99 ${figures.convergenceP99Ms.toFixed(0)} ms (${figures.convergenceMissing} missing); `
      + `create → status p50 ${figures.statusP50Ms.toFixed(0)} p99 ${figures.statusP99Ms.toFixed(0)} ms, status → r1 p50 ${figures.speakerP50Ms.toFixed(0)} p99 ${figures.speakerP99Ms.toFixed(0)} ms`);
    if (opts.convergenceOnly) return figures;

    const pids = { controller: controller.pid!, speaker: speakers.procs.get('node-1')!.pid! };
    let made = convergenceServices;
    let churnNext = 0;
    for (const n of [...sizes].sort((a, b) => a - b)) {
      const t0 = Date.now();
      let next = made;
      await Promise.all(Array.from({ length: 32 }, async () => {
        while (next < n) { const i = next++; await createOne(cp, 'bench', `bulk-${i}`); }
      }));
      made = Math.max(made, n);
      const created = Date.now();
      await waitUntil(`${n} prefixes at r1 from every node`, 1_800_000, async () => {
        const up = Object.values(await r1Neighbors(world)).filter((x) => x.state === 'Established');
        return up.length === 3 && up.every((x) => x.pfx >= n);
      });
      const seconds = (Date.now() - t0) / 1000;
      const afterCreates = (Date.now() - created) / 1000;
      // Idle means done: node-1's speaker has written a ServiceBGPStatus (with its status) for
      // every Service. Both speakers write one per Service (two requests each: create, then the
      // status subresource); a window opened before they finish measures the backlog.
      const routed = Date.now();
      const statusDone = await statusesWritten(cp, ns, 'node-1', n, 900_000);
      const statusSeconds = (Date.now() - routed) / 1000;
      say(`${impl.name}: node-1's ServiceBGPStatus ${statusDone ? `for all ${n}` : 'NOT complete'} ${statusSeconds.toFixed(1)} s after the routes`);
      await sleep(5000);
      const idle = await measure(pids, () => sleep(10_000));
      const churn = await measure(pids, async () => {
        const end = Date.now() + 20_000;
        while (Date.now() < end) {
          const t = Date.now();
          if (churnNext > 0) await deleteOne(cp, 'bench', `churn-${churnNext - 1}`);
          await createOne(cp, 'bench', `churn-${churnNext++}`);
          const wait = t + 200 - Date.now();
          if (wait > 0) await sleep(wait);
        }
      });
      figures.bulk[n] = { seconds, afterCreates, statusSeconds: statusDone ? statusSeconds : NaN, idle, churn };
      say(`${impl.name}: ${n} Services in r1's RIB from 3 nodes in ${seconds.toFixed(1)} s (${afterCreates.toFixed(1)} s after the last create); idle ${JSON.stringify(idle)}; churn ${JSON.stringify(churn)}`);
    }

    // Config change: r2's peer edited (hold time 9 s → 12 s).
    await sleep(3000);
    const before = { r1: await r1Neighbors(world, 'r1'), r2: await r1Neighbors(world, 'r2'), r3: await r1Neighbors(world, 'r3') };
    await applyYaml(cp, ns, peerYaml('r2', '192.168.1.2', '12s'));
    await sleep(15_000);
    const after = { r1: await r1Neighbors(world, 'r1'), r2: await r1Neighbors(world, 'r2'), r3: await r1Neighbors(world, 'r3') };
    const delta = (r: 'r1' | 'r2' | 'r3', k: 'established' | 'updates') => Object.keys(after[r]).reduce((s, a) => s + (after[r][a]![k] - (before[r][a]?.[k] ?? 0)), 0);
    figures.configChange = { resetsOthers: delta('r1', 'established') + delta('r3', 'established'), updatesOthers: delta('r1', 'updates') + delta('r3', 'updates'), resetsEdited: delta('r2', 'established') };
    say(`${impl.name}: config change ${JSON.stringify(figures.configChange)}`);

    // Node loss: node-1's link cut; r1 notices when its hold timer expires.
    const t0 = Date.now();
    inNs(world.switchNs, 'ip', 'link', 'set', 'node-1', 'down');
    await waitUntil('r1 drops node-1', 60_000, async () => (await r1Neighbors(world))[nodeAddrs['node-1'].v4]?.state !== 'Established');
    figures.nodeLossMs = Date.now() - t0;
    inNs(world.switchNs, 'ip', 'link', 'set', 'node-1', 'up');
    say(`${impl.name}: node loss noticed at r1 after ${figures.nodeLossMs} ms`);
    return figures;
  });
}

export interface CostFigures {
  readonly services: number;
  /** First create → every /32 at r1 from all three nodes. */
  readonly routedSeconds: number;
  /** Then → node-1's ServiceBGPStatus holds every Service (NaN: not within 15 min). */
  readonly statusSeconds: number;
  readonly idle: { controller: Cost; speaker: Cost };
  /** The churn's deletes and creates, paced, until r1 and node-1's ServiceBGPStatuses show all of them. */
  readonly churn: { controller: Cost; speaker: Cost };
  readonly churnSeconds: number;
  readonly churnSettled: boolean;
  /** The 1-minute load average at the start of the idle window and at the end of the churn. */
  readonly load: readonly [number, number];
}

export interface BenchCostOptions {
  /** The idle window (default 60 s). */
  readonly idleSeconds?: number;
  /** Services deleted and as many created (default 500). */
  readonly churn?: number;
  /** Delete+create pairs started per second (default 10). */
  readonly churnPerSecond?: number;
}

/**
 * The cost figures alone (`npm run bench -- metallb cost [N...]`): N Services created once (32 in
 * flight), every /32 at r1 from every node and node-1's ServiceBGPStatus for each, then the
 * controller's and node-1's speaker's RSS and CPU idle, and under a churn of `churn` deletes and
 * as many creates until the routers and node-1's statuses show it all. None of benchBgp's
 * per-Service convergence, config change or node loss: at 10,000 those take most of an hour.
 */
export async function benchCost(impl: Implementation, n: number, say: (l: string) => void, o: BenchCostOptions = {}): Promise<CostFigures> {
  const churnCount = Math.min(o.churn ?? 500, n);
  const rate = o.churnPerSecond ?? 10;
  return withBenchWorld(impl, say, async ({ cp, world, ns, controller, speakers }) => {
    const pids = { controller: controller.pid!, speaker: speakers.procs.get('node-1')!.pid! };
    // node-1's ServiceBGPStatuses, watched: object → the Service its status names.
    const statusOf = new Map<string, string>();
    const client = new KubeClient(cp.kubeConfig, 'bench');
    const watcher = new Reflector({
      client, path: `/apis/metallb.io/v1beta1/namespaces/${ns}/servicebgpstatuses`, labelSelector: 'metallb.io/node=node-1', name: 'bench-status',
      onChange: (kind, obj) => {
        const key = (obj.metadata as { name: string }).name;
        const service = (obj.status as { serviceName?: string } | undefined)?.serviceName;
        if (kind === 'delete' || !service) statusOf.delete(key); else statusOf.set(key, service);
      },
    });
    await watcher.start();
    try {
      const t0 = Date.now();
      let next = 0;
      await Promise.all(Array.from({ length: 32 }, async () => {
        while (next < n) { const i = next++; await createOne(cp, 'bench', `bulk-${i}`); }
      }));
      say(`${impl.name}: ${n} Services created in ${((Date.now() - t0) / 1000).toFixed(1)} s (load ${loadavg()[0]!.toFixed(1)})`);
      const everyNode = (want: (pfx: number) => boolean) => async () => {
        const up = Object.values(await r1Neighbors(world)).filter((x) => x.state === 'Established');
        return up.length === 3 && up.every((x) => want(x.pfx));
      };
      await waitUntil(`${n} prefixes at r1 from every node`, 1_800_000, everyNode((p) => p >= n));
      const routedSeconds = (Date.now() - t0) / 1000;
      const routed = Date.now();
      const statusDone = await until(900_000, () => statusOf.size >= n);
      const statusSeconds = (Date.now() - routed) / 1000;
      say(`${impl.name}: routed ${routedSeconds.toFixed(1)} s after the first create; node-1's ServiceBGPStatus ${statusDone ? `for all ${n}` : 'NOT complete'} ${statusSeconds.toFixed(1)} s later`);
      await sleep(5000);
      const loadIdle = loadavg()[0]!;
      // The idle window in 30 s slices too: CPU that fades (GC after the burst) vs CPU that stays (periodic work).
      const slices: string[] = [];
      const idle = await measure(pids, async () => {
        for (let left = (o.idleSeconds ?? 60) * 1000; left > 0; left -= 30_000) {
          const s0 = { t: Date.now(), c: cpuTicks(pids.controller), s: cpuTicks(pids.speaker) };
          await sleep(Math.min(30_000, left));
          const secs = (Date.now() - s0.t) / 1000;
          const pct = (ticks: number) => ((ticks / 100 / secs) * 100).toFixed(2);
          slices.push(`${pct(cpuTicks(pids.controller) - s0.c)}/${pct(cpuTicks(pids.speaker) - s0.s)}`);
        }
      });
      say(`${impl.name}: idle CPU % controller/speaker per 30 s: ${slices.join(' ')}`);
      say(`${impl.name}: idle ${JSON.stringify(idle)} (load ${loadIdle.toFixed(1)})`);
      const c0 = Date.now();
      let churnSettled = false;
      const churn = await measure(pids, async () => {
        let i = 0;
        await Promise.all(Array.from({ length: 8 }, async () => {
          while (i < churnCount) {
            const k = i++;
            const wait = c0 + (k * 1000) / rate - Date.now();
            if (wait > 0) await sleep(wait);
            await deleteOne(cp, 'bench', `bulk-${k}`);
            await createOne(cp, 'bench', `churn-${k}`);
          }
        }));
        const gone = new Set(Array.from({ length: churnCount }, (_, k) => `bulk-${k}`));
        const made = Array.from({ length: churnCount }, (_, k) => `churn-${k}`);
        churnSettled = await until(600_000, () => {
          const names = new Set(statusOf.values());
          return statusOf.size === n && made.every((s) => names.has(s)) && ![...gone].some((s) => names.has(s));
        }) && await waitUntil('the churn at r1', 120_000, everyNode((p) => p === n)).then(() => true, () => false);
      });
      const churnSeconds = (Date.now() - c0) / 1000;
      const load: [number, number] = [loadIdle, loadavg()[0]!];
      say(`${impl.name}: churn ${churnCount}+${churnCount} ${churnSettled ? 'settled' : 'NOT settled'} in ${churnSeconds.toFixed(1)} s: ${JSON.stringify(churn)} (load ${load[1].toFixed(1)})`);
      return { services: n, routedSeconds, statusSeconds: statusDone ? statusSeconds : NaN, idle, churn, churnSeconds, churnSettled, load };
    } finally {
      watcher.stop();
      client.close();
    }
  });
}

async function until(ms: number, f: () => boolean): Promise<boolean> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) return false;
    await sleep(500);
  }
  return true;
}
