// Runs one BGP scenario (bgp-scenarios.ts) with one implementation's controller and speakers in
// the world of bgp-world.ts, and records what the routers hold after the start and after each step.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { createEndpointSlice, createNamespace, toolPath, type ControlPlane } from '../cluster/index.ts';
import { type BgpWorld, nodeNames, type NodeName, settle, type WorldSeen } from './bgp-world.ts';
import type { BgpScenario, BgpService } from './bgp-scenarios.ts';
import type { Controller } from './observe.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- API objects

/** One implementation: its controller (in the host namespace) and its speaker (in a node's). */
export interface Implementation {
  name: 'metallb' | 'ironlb';
  startController(cp: ControlPlane, namespace: string): Promise<Controller>;
  speakerArgv(cp: ControlPlane, namespace: string, node: NodeName): string[];
}

const ironlbCli = fileURLToPath(new URL('../../bin/ironlb.js', import.meta.url));

export function metallbSpeakerArgv(namespace: string, node: NodeName): string[] {
  return [toolPath('metallb-speaker'), `--namespace=${namespace}`, `--node-name=${node}`, `--pod-name=speaker-${node}`, '--host=127.0.0.1', '--port=7472', '--log-level=info'];
}

export function ironlbSpeakerArgv(cp: ControlPlane, namespace: string, node: NodeName): string[] {
  return [process.execPath, ironlbCli, 'speaker', `--kubeconfig=${cp.kubeconfigPath}`, `--namespace=${namespace}`, `--node=${node}`, '--metrics=127.0.0.1:7472'];
}

/** Per step ("start", then each step's name): what every router holds. */
export type ScenarioRecord = Record<string, WorldSeen>;

export interface RunningSpeakers { procs: Map<NodeName, ChildProcess>; stop(): Promise<void> }

/** Starts the implementation's speaker in every node's namespace. */
export function startSpeakers(world: BgpWorld, cp: ControlPlane, impl: Implementation, namespace: string, label: string): RunningSpeakers {
  const procs = new Map<NodeName, ChildProcess>();
  for (const n of nodeNames) {
    procs.set(n, world.spawnInNode(n, `${impl.name}-${label}-speaker-${n}`, impl.speakerArgv(cp, namespace, n), { KUBECONFIG: cp.kubeconfigPath, IRONLB_LOG_LEVEL: 'info' }));
  }
  return {
    procs,
    async stop() {
      await Promise.all([...procs.values()].map(async (p) => {
        if (p.exitCode !== null || p.signalCode !== null) return;
        const exited = new Promise((r) => p.once('exit', r));
        p.kill('SIGTERM');
        const t = setTimeout(() => p.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }));
    },
  };
}

/** A Pod object per node (never scheduled): MetalLB's speaker reads its own Pod at start. */
export async function createSpeakerPods(cp: ControlPlane, namespace: string): Promise<void> {
  for (const n of nodeNames) {
    const r = await cp.request('POST', `/api/v1/namespaces/${namespace}/pods`, {
      metadata: { name: `speaker-${n}`, labels: { app: 'metallb', component: 'speaker' } },
      spec: { nodeName: n, containers: [{ name: 'speaker', image: 'quay.io/metallb/speaker:v0.15.3' }] },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }
}

export async function applyYaml(cp: ControlPlane, namespace: string, yaml: string): Promise<void> {
  const r = await cp.kubectl(['apply', '-f', '-'], { input: yaml.replaceAll('namespace: NS', `namespace: ${namespace}`) });
  assert.equal(r.code, 0, r.stderr);
}

const ingressOf = (svc: Json): string[] => ((svc.status?.loadBalancer?.ingress ?? []) as Json[]).map((i) => i.ip as string);

function serviceObject(s: BgpService): Json {
  return {
    metadata: { name: s.name, ...(s.labels ? { labels: s.labels } : {}), ...(s.annotations ? { annotations: s.annotations } : {}) },
    spec: {
      type: 'LoadBalancer', selector: { app: s.name }, ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
      externalTrafficPolicy: s.etp ?? 'Cluster',
      ...(s.loadBalancerIP ? { loadBalancerIP: s.loadBalancerIP } : {}),
      ...(s.ipFamilyPolicy ? { ipFamilyPolicy: s.ipFamilyPolicy } : {}),
      ...(s.ipFamilies ? { ipFamilies: s.ipFamilies } : {}),
    },
  };
}

/** Creates a Service and its EndpointSlice (endpoints on the named nodes), then waits (≤ 15 s) for its IP. */
export async function createService(cp: ControlPlane, namespace: string, s: BgpService, index: number): Promise<string[]> {
  const r = await cp.request('POST', `/api/v1/namespaces/${namespace}/services`, serviceObject(s));
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const ready = s.endpoints ?? [...nodeNames];
  const eps = [
    ...ready.map((n) => ({ addresses: [`10.244.${nodeNames.indexOf(n)}.${index + 2}`], nodeName: n, ready: true })),
    ...(s.notReady ?? []).map((n) => ({ addresses: [`10.244.${nodeNames.indexOf(n)}.${index + 100}`], nodeName: n, ready: false })),
  ];
  if (eps.length > 0) await createEndpointSlice(cp, namespace, s.name, eps, { ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] });
  const end = Date.now() + 15_000;
  for (;;) {
    const g = await cp.request('GET', `/api/v1/namespaces/${namespace}/services/${s.name}`);
    const ips = g.status === 200 ? ingressOf(g.body as Json) : [];
    if (ips.length > 0 || Date.now() > end) return ips;
    await sleep(100);
  }
}

/** Runs one scenario: config, routers, controller, Services, speakers; a record per step. */
export async function runBgpScenario(cp: ControlPlane, world: BgpWorld, impl: Implementation, s: BgpScenario): Promise<ScenarioRecord> {
  const ns = await createNamespace(cp, `${impl.name}-${s.name}`);
  await createSpeakerPods(cp, ns);
  await applyYaml(cp, ns, s.config);
  world.startRouters(s.routers);
  const controller = await impl.startController(cp, ns);
  let speakers: RunningSpeakers | undefined;
  const record: ScenarioRecord = {};
  try {
    for (const [i, svc] of s.services.entries()) await createService(cp, ns, svc, i);
    speakers = startSpeakers(world, cp, impl, ns, s.name);
    // Under load a speaker may take seconds to start: "nothing changed" only counts once all run.
    await world.speakersListening(7472);
    record.start = await settle(world, { minMs: 10_000, quietMs: 5000, maxMs: 60_000 });
    for (const step of s.steps) {
      if (step.apply) await applyYaml(cp, ns, step.apply);
      if (step.deleteObject) {
        const r = await cp.kubectl(['delete', '-n', ns, step.deleteObject]);
        assert.equal(r.code, 0, r.stderr);
      }
      if (step.deleteService) {
        const r = await cp.request('DELETE', `/api/v1/namespaces/${ns}/services/${step.deleteService}`);
        assert.equal(r.status, 200, JSON.stringify(r.body));
      }
      record[step.name] = await settle(world, { minMs: 4000, quietMs: 4000, maxMs: 40_000 });
    }
    return record;
  } finally {
    await speakers?.stop();
    await controller.stop();
    for (const svc of s.services) await cp.request('DELETE', `/api/v1/namespaces/${ns}/services/${svc.name}`);
    world.stopRouters();
  }
}

/** Every difference between two records, one line each ("scenario @step router what: metallb … ironlb …"). */
export function bgpDifferences(metallb: Record<string, ScenarioRecord>, ironlb: Record<string, ScenarioRecord>): string[] {
  const out: string[] = [];
  const show = (v: unknown) => JSON.stringify(v) ?? 'absent';
  for (const scenario of new Set([...Object.keys(metallb), ...Object.keys(ironlb)])) {
    const m = metallb[scenario] ?? {}; const i = ironlb[scenario] ?? {};
    for (const step of new Set([...Object.keys(m), ...Object.keys(i)])) {
      const ms = m[step] ?? {}; const is = i[step] ?? {};
      for (const router of new Set([...Object.keys(ms), ...Object.keys(is)])) {
        const a = ms[router]; const b = is[router];
        if (show(a?.sessions) !== show(b?.sessions)) out.push(`${scenario} @${step} ${router} sessions: metallb ${show(a?.sessions)} ironlb ${show(b?.sessions)}`);
        for (const prefix of new Set([...Object.keys(a?.routes ?? {}), ...Object.keys(b?.routes ?? {})])) {
          const pa = a?.routes[prefix]; const pb = b?.routes[prefix];
          if (show(pa) !== show(pb)) out.push(`${scenario} @${step} ${router} ${prefix}: metallb ${show(pa)} ironlb ${show(pb)}`);
        }
      }
    }
  }
  return out.sort();
}
