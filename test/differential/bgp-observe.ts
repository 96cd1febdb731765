// Runs the BGP scenarios (bgp-scenarios.ts) with one implementation's controller and speakers in
// the world of bgp-world.ts, and records what the routers hold after the start and after each step.
// Each step ends on a condition: the routers hold this implementation's last record (settleOn).
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
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

/** Per Service: "Type reason: message" of every Event the speakers wrote on it, each once, sorted. */
export type ServiceEvents = Record<string, string[]>;

/** The record's last "step": per Service, the Events the speakers wrote on it over the scenario. */
export const speakerEvents = 'speaker events';

/**
 * Per step ("start", then each step's name): what every router holds; then (`speakerEvents`) the
 * speakers' Events per Service.
 */
export type ScenarioRecord = Record<string, WorldSeen | ServiceEvents>;

/**
 * The Events the speakers wrote on each of `names` (source `metallb-speaker`: MetalLB's, and
 * ironlb's, which uses MetalLB's name); the apiserver's and the controllers' are left out.
 */
export async function speakerEventsOf(cp: ControlPlane, ns: string, names: string[]): Promise<ServiceEvents> {
  const out: Record<string, Set<string>> = Object.fromEntries(names.map((n) => [n, new Set<string>()]));
  const r = await cp.request('GET', `/api/v1/namespaces/${ns}/events`);
  for (const e of (r.body.items ?? []) as { involvedObject?: { kind?: string; name?: string }; reportingComponent?: string; source?: { component?: string }; type: string; reason: string; message: string }[]) {
    const by = e.reportingComponent || e.source?.component || '';
    if (e.involvedObject?.kind !== 'Service' || by !== 'metallb-speaker') continue;
    out[e.involvedObject.name ?? '']?.add(`${e.type} ${e.reason}: ${e.message}`);
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, [...v].sort()]));
}

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

/**
 * Waits (up to 60 s) until every speaker runs and, for MetalLB's, has logged the end of its Node
 * reconcile for every node (ironlb's speaker reads every Node before it elects anything).
 */
async function speakersKnowEveryNode(world: BgpWorld, impl: Implementation, label: string): Promise<void> {
  await world.speakersListening(7472);
  if (impl.name !== 'metallb') return;
  const done = (n: NodeName): boolean => {
    let log = '';
    try { log = readFileSync(path.join(world.root, `${impl.name}-${label}-speaker-${n}.log`), 'utf8'); } catch { return false; }
    return nodeNames.every((m) => log.includes(`"end reconcile":"/${m}"`));
  };
  for (const t = Date.now(); !nodeNames.every(done); await sleep(200)) {
    assert.ok(Date.now() - t < 60_000, `MetalLB's speakers did not reconcile every Node in 60 s (${label})`);
  }
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

/** The routers of a scenario before anything connects: no session, no route. */
const quietRouters = (s: BgpScenario): WorldSeen =>
  Object.fromEntries(Object.keys(s.routers).sort().map((r) => [r, { sessions: [], routes: {} }]));

/**
 * Runs `body` with a scenario's world up: its objects applied in a fresh namespace, the
 * controller started, the Services created (each waiting for its IP, so that both
 * implementations allocate in the same order), then the speakers started (all at once, with the
 * whole configuration already there: MetalLB keeps its last valid configuration when a later one
 * is refused, so speakers that saw the objects arrive one by one could hold a partial one).
 */
export async function withScenario<T>(
  cp: ControlPlane, world: BgpWorld, impl: Implementation, s: { name: string; config: string; services: BgpService[] }, label: string,
  body: (ns: string) => Promise<T>,
  opts: { speakersFirst?: boolean } = {},
): Promise<T> {
  const t0 = Date.now();
  const ns = await createNamespace(cp, `${impl.name}-${label}`);
  await createSpeakerPods(cp, ns);
  await applyYaml(cp, ns, s.config);
  const controller = await impl.startController(cp, ns);
  // The speakers boot (seconds of CPU under load) while the Services are created: they are told
  // of each Service as it comes, as in a running cluster; only the configuration must be whole.
  // With `speakersFirst` (layer 2, where one node answers) the Services come once every speaker
  // knows every Node: MetalLB's speaker elects among the Nodes it has reconciled so far, and a
  // Service seen before the last one briefly elects a wrong owner (nodeAssigned and, with a missing
  // interface, announceFailed from that node; seen once in CI), which a running cluster never shows.
  const speakers = startSpeakers(world, cp, impl, ns, label);
  try {
    if (opts.speakersFirst) await speakersKnowEveryNode(world, impl, label);
    const t1 = Date.now();
    for (const [i, svc] of s.services.entries()) await createService(cp, ns, svc, i);
    const t2 = Date.now();
    // Under load a speaker may take seconds to start: "nothing changed" only counts once all run.
    await world.speakersListening(7472);
    if (process.env.DIFF_TIMING === '1') console.log(`# ${impl.name} ${label}: objects+controller ${t1 - t0} ms, Services ${t2 - t1} ms, speakers up ${Date.now() - t2} ms later`);
    const t3 = Date.now();
    try { return await body(ns); } finally { if (process.env.DIFF_TIMING === '1') console.log(`# ${impl.name} ${label}: steps ${Date.now() - t3} ms`); }
  } finally {
    await Promise.all([speakers.stop(), controller.stop()]);
    for (const svc of s.services) await cp.request('DELETE', `/api/v1/namespaces/${ns}/services/${svc.name}`);
  }
}

/** A step of a scenario: YAML applied, an object or a Service deleted. */
interface Step { apply?: string; deleteObject?: string; deleteService?: string }

/** Applies a step. */
export async function applyStep(cp: ControlPlane, ns: string, step: Step): Promise<void> {
  if (step.apply) await applyYaml(cp, ns, step.apply);
  if (step.deleteObject) {
    const r = await cp.kubectl(['delete', '-n', ns, step.deleteObject]);
    assert.equal(r.code, 0, r.stderr);
  }
  if (step.deleteService) {
    const r = await cp.request('DELETE', `/api/v1/namespaces/${ns}/services/${step.deleteService}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
}

/**
 * The speakers' Events at the end of a scenario. They trail what the world shows (client-go's
 * recorder sends them in the background, ironlb's coalesces them): with the last record's Events
 * known, waits (at most 15 s) until they are those; else reads them once.
 */
async function finalEvents(cp: ControlPlane, ns: string, names: string[], want: ServiceEvents | undefined): Promise<ServiceEvents> {
  let got = await speakerEventsOf(cp, ns, names);
  if (!want) return got;
  const key = (e: ServiceEvents) => JSON.stringify(Object.entries(e).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  for (const t = Date.now(); key(got) !== key(want) && Date.now() - t < 15_000;) {
    await sleep(500);
    got = await speakerEventsOf(cp, ns, names);
  }
  return got;
}

/**
 * What the world shows after the start and after each step, each taken by `observe` (given this
 * implementation's last record of that step, when there is one, and what the step before showed),
 * then the speakers' Events: the record of one scenario, for the BGP and the layer-2 halves.
 */
export async function recordSteps<T>(
  cp: ControlPlane, ns: string, s: { services: BgpService[]; steps: readonly ({ name: string } & Step)[] },
  expect: Record<string, unknown> | undefined,
  observe: (step: string, want: T | undefined, before: T | undefined) => Promise<T>,
  beforeStep?: () => Promise<void>,
): Promise<Record<string, T | ServiceEvents>> {
  const record: Record<string, T | ServiceEvents> = {};
  let before = await observe('start', expect?.start as T | undefined, undefined);
  record.start = before;
  for (const step of s.steps) {
    await beforeStep?.();
    await applyStep(cp, ns, step);
    before = await observe(step.name, expect?.[step.name] as T | undefined, before);
    record[step.name] = before;
  }
  record[speakerEvents] = await finalEvents(cp, ns, s.services.map((x) => x.name), expect?.[speakerEvents] as ServiceEvents | undefined);
  return record;
}

/**
 * Runs one scenario: routers, objects, controller, Services, speakers; a record per step. `expect`
 * (this implementation's last record) lets each step end as soon as the routers hold what they
 * held then (settleOn); without it every step waits for a quiet spell.
 */
export async function runBgpScenario(cp: ControlPlane, world: BgpWorld, impl: Implementation, s: BgpScenario, expect?: ScenarioRecord): Promise<ScenarioRecord> {
  world.startRouters(s.routers);
  await world.routersListening(s.routers);
  try {
    return await withScenario(cp, world, impl, s, s.name, (ns) => recordSteps<WorldSeen>(cp, ns, s, expect, (step, want, before) => {
      const first = step === 'start';
      const slow = first ? { minMs: 10_000, quietMs: 5000, maxMs: 60_000 } : { minMs: 4000, quietMs: 4000, maxMs: 40_000 };
      return settle(world, {
        label: `${impl.name} ${s.name} @${step}`,
        ...(want ? { minMs: first ? 4000 : 3000, quietMs: 2000, maxMs: first ? 60_000 : 40_000, expect: want, before: before ?? quietRouters(s) } : slow),
      });
    }));
  } finally {
    world.stopRouters();
  }
}

/** Calls `f` for every step of every scenario in either of two records (a side's missing step is {}). */
export function eachStep<T>(
  metallb: Record<string, Record<string, T>>, ironlb: Record<string, Record<string, T>>,
  f: (where: string, m: T | undefined, i: T | undefined) => void,
): void {
  for (const scenario of new Set([...Object.keys(metallb), ...Object.keys(ironlb)])) {
    const m = metallb[scenario] ?? {}; const i = ironlb[scenario] ?? {};
    for (const step of new Set([...Object.keys(m), ...Object.keys(i)])) f(`${scenario} @${step}`, m[step], i[step]);
  }
}

export const show = (v: unknown): string => JSON.stringify(v) ?? 'absent';

/** The keys whose values differ, one line each ("<where> <key>: metallb … ironlb …"): a Service's Events, an address's answering nodes. */
export function keyedDifferences(where: string, ms: Record<string, unknown>, is: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const key of new Set([...Object.keys(ms), ...Object.keys(is)])) {
    if (show(ms[key]) !== show(is[key])) out.push(`${where} ${key}: metallb ${show(ms[key])} ironlb ${show(is[key])}`);
  }
  return out;
}

/** Every difference between two records, one line each ("scenario @step router what: metallb … ironlb …"). */
export function bgpDifferences(metallb: Record<string, ScenarioRecord>, ironlb: Record<string, ScenarioRecord>): string[] {
  const out: string[] = [];
  eachStep(metallb, ironlb, (where, m = {}, i = {}) => {
    if (where.endsWith(` @${speakerEvents}`)) {
      out.push(...keyedDifferences(where, m, i));
      return;
    }
    const ms = m as WorldSeen; const is = i as WorldSeen;
    for (const router of new Set([...Object.keys(ms), ...Object.keys(is)])) {
      const a = ms[router]; const b = is[router];
      if (show(a?.sessions) !== show(b?.sessions)) out.push(`${where} ${router} sessions: metallb ${show(a?.sessions)} ironlb ${show(b?.sessions)}`);
      for (const prefix of new Set([...Object.keys(a?.routes ?? {}), ...Object.keys(b?.routes ?? {})])) {
        const pa = a?.routes[prefix]; const pb = b?.routes[prefix];
        if (show(pa) !== show(pb)) out.push(`${where} ${router} ${prefix}: metallb ${show(pa)} ironlb ${show(pb)}`);
      }
    }
  });
  return out.sort();
}
