// `--bgp-backend frr-k8s` beside MetalLB's frr-k8s mode (issue #14 part 2). Each scenario of
// frrk8s-scenarios.ts is put on a real apiserver that has frr-k8s's own FRRConfiguration CRD
// (test/fixtures/frr-k8s, v0.0.21, the release MetalLB v0.15.3 requires): MetalLB's speaker with
// METALLB_BGP_TYPE=frr-k8s writes `metallb-<node>`, and its spec is the golden record
// (golden/frrk8s.json; UPDATE_GOLDEN=1 rewrites it); ironlb's speaker with --bgp-backend frr-k8s
// writes its own through the same CRD (so frr-k8s's schema validates it), and the two specs must be
// equal but for the differences listed in frrk8s-golden.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runDaemon } from '../../src/daemon/run.ts';
import { silentLogger } from '../../src/observe/log.ts';
import { installCrds, installFrrK8sCrd } from '../cluster/ironlb-setup.ts';
import { clusterSuiteOptions, coreTools, createEndpointSlice, createNamespace, createNode, startControlPlane, toolVersions, type ControlPlane } from '../cluster/index.ts';
import { comparableIronlbSpec, frrGoldenPath, readFrrGolden, type Json } from './frrk8s-golden.ts';
import { type FrrScenario, frrScenarios } from './frrk8s-scenarios.ts';
import { installMetallbCrds, startMetallbSpeaker } from './metallb.ts';

const suite = (tools: Parameters<typeof clusterSuiteOptions>[0]) => ({ ...clusterSuiteOptions(tools), timeout: 900_000 });

async function kubectl(cp: ControlPlane, args: string[], input?: string): Promise<void> {
  const r = await cp.kubectl(args, input !== undefined ? { input } : {});
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
}

/** The scenario's configuration in `ns`, its Node, and its Services (IPs in status) with EndpointSlices in a namespace of their own. */
async function putWorld(cp: ControlPlane, s: FrrScenario, ns: string): Promise<() => Promise<void>> {
  await kubectl(cp, ['apply', '-f', '-'], s.config.replaceAll('namespace: NS', `namespace: ${ns}`));
  const nodes = await cp.request('GET', `/api/v1/nodes/${s.node.name}`);
  if (nodes.status === 404) await createNode(cp, s.node.name, { ...(s.node.labels ? { labels: { ...s.node.labels } } : {}), addresses: [{ type: 'InternalIP', address: '192.168.77.1' }] });
  const apps = await createNamespace(cp, 'frr-apps');
  for (const svc of s.services) {
    const created = await cp.request('POST', `/api/v1/namespaces/${apps}/services`, {
      metadata: { name: svc.name },
      spec: { type: 'LoadBalancer', externalTrafficPolicy: svc.local ? 'Local' : 'Cluster', ports: [{ port: 80 }], ...(svc.ips.length > 1 ? { ipFamilyPolicy: 'PreferDualStack' } : {}) },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const st = await cp.request('PATCH', `/api/v1/namespaces/${apps}/services/${svc.name}/status`, { status: { loadBalancer: { ingress: svc.ips.map((ip) => ({ ip })) } } }, 'application/merge-patch+json');
    assert.equal(st.status, 200, JSON.stringify(st.body));
    const on = svc.endpointsOn ?? [s.node.name];
    if (on.length > 0) await createEndpointSlice(cp, apps, svc.name, on.map((n, i) => ({ addresses: [`10.244.0.${i + 1}`], nodeName: n })));
  }
  return async () => {
    for (const svc of s.services) await cp.request('DELETE', `/api/v1/namespaces/${apps}/services/${svc.name}`);
    await cp.request('DELETE', `/apis/discovery.k8s.io/v1/namespaces/${apps}/endpointslices`);
  };
}

/** JSON with object keys sorted: two specs compare equal whatever order they were built or read in. */
const canonical = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x)
  ? Object.fromEntries(Object.entries(x as Json).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x));

/**
 * The object's spec once final: equal to what `expect` says (seen through `compare`) and unchanged
 * for 1 s; else written and left alone for `quietMs` (MetalLB debounces its writes by 3 s), or twice
 * that when the last record says otherwise (a partial first write followed, under load, by a late
 * second one must not pass for the answer).
 */
async function settledSpec(cp: ControlPlane, ns: string, name: string, quietMs: number, expect?: { spec: Json; compare: (spec: Json) => unknown }): Promise<Json> {
  const end = Date.now() + 90_000;
  const want = expect ? canonical(expect.spec) : undefined;
  let last: { rv: string; at: number; spec: Json; expected: boolean } | undefined;
  for (;;) {
    const r = await cp.request('GET', `/apis/frrk8s.metallb.io/v1beta1/namespaces/${ns}/frrconfigurations/${name}`);
    if (r.status === 200) {
      const body = r.body as { metadata: { resourceVersion: string }; spec: Json };
      if (last?.rv !== body.metadata.resourceVersion) {
        last = { rv: body.metadata.resourceVersion, at: Date.now(), spec: body.spec, expected: want !== undefined && canonical(expect!.compare(body.spec)) === want };
      } else if (Date.now() - last.at >= (last.expected ? 1000 : want !== undefined ? 2 * quietMs : quietMs)) return last.spec;
    }
    if (Date.now() > end) {
      if (last) return last.spec;
      throw new Error(`FRRConfiguration ${ns}/${name} never written`);
    }
    await sleep(250);
  }
}

async function runAll(
  cp: ControlPlane, prefix: string, write: (s: FrrScenario, ns: string) => Promise<{ stop(): Promise<void> }>, quietMs: number,
  expect?: { scenarios: Record<string, Json>; compare: (spec: Json) => unknown },
): Promise<Record<string, Json>> {
  const out: Record<string, Json> = {};
  for (const s of frrScenarios) {
    const ns = await createNamespace(cp, `${prefix}-${s.name}`);
    const cleanup = await putWorld(cp, s, ns);
    const speaker = await write(s, ns);
    const golden = expect?.scenarios[s.name];
    try {
      out[s.name] = await settledSpec(cp, ns, `metallb-${s.node.name}`, quietMs, golden ? { spec: golden, compare: expect.compare } : undefined);
    } catch (e) {
      const log = join(cp.dir, `metallb-speaker-${s.node.name}.log`);
      throw new Error(`${(e as Error).message}${existsSync(log) ? `; MetalLB's log:\n${readFileSync(log, 'utf8').slice(-3000)}` : ''}`, { cause: e });
    } finally {
      await speaker.stop();
      await cleanup();
    }
  }
  return out;
}

/** The golden record to wait for (none under UPDATE_GOLDEN=1, or before it exists). */
const goldenScenarios = (): Record<string, Json> | undefined => {
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(frrGoldenPath)) return undefined;
  return readFrrGolden().scenarios;
};

describe(`MetalLB's speaker v${toolVersions.metallb} with METALLB_BGP_TYPE=frr-k8s: the golden FRRConfigurations`, suite([...coreTools, 'metallb-speaker']), () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane({ name: 'diff-frrk8s-metallb' });
    await installMetallbCrds(cp);
    await installFrrK8sCrd(cp);
  });
  after(async () => { await cp?.stop(); });

  test('every scenario: the FRRConfiguration MetalLB writes for the node', async () => {
    const seen = await runAll(cp, 'metallb', async (s, ns) => {
      const pod = `speaker-${s.node.name}`;
      const created = await cp.request('POST', `/api/v1/namespaces/${ns}/pods`, {
        metadata: { name: pod, labels: { app: 'metallb', component: 'speaker' } },
        spec: { nodeName: s.node.name, containers: [{ name: 'speaker', image: `quay.io/metallb/speaker:v${toolVersions.metallb}` }] },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      return startMetallbSpeaker(cp, ns, s.node.name, pod, { METALLB_BGP_TYPE: 'frr-k8s' });
    }, 5000, (() => { const g = goldenScenarios(); return g ? { scenarios: g, compare: (x: Json) => x } : undefined; })());
    if (process.env.UPDATE_GOLDEN === '1') {
      writeFileSync(frrGoldenPath, `${JSON.stringify({ metallb: `v${toolVersions.metallb}`, scenarios: seen }, null, 2)}\n`);
      return;
    }
    const golden = readFrrGolden();
    assert.equal(golden.metallb, `v${toolVersions.metallb}`, 'the golden record is of another MetalLB release: rewrite it with UPDATE_GOLDEN=1');
    assert.deepEqual(seen, golden.scenarios);
  });
});

describe("ironlb's speaker with --bgp-backend frr-k8s beside MetalLB's golden FRRConfigurations", suite(coreTools), () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane({ name: 'diff-frrk8s-ironlb' });
    await installCrds(cp);
    await installFrrK8sCrd(cp);
  });
  after(async () => { await cp?.stop(); });

  test('frr-k8s\'s CRD accepts what ironlb writes, and it is MetalLB\'s object but for the listed differences', async () => {
    const seen = await runAll(cp, 'ironlb', async (s, ns) => {
      const d = await runDaemon({ controller: false, speaker: true }, {
        folder: '', namespace: ns, nodeName: s.node.name, logger: silentLogger(),
        cluster: { kubeconfig: cp.kubeconfigPath, debounceMs: 20 }, bgpBackend: { kind: 'frr-k8s' },
      });
      return { stop: () => d.stop() };
    }, 1500, (() => { const g = goldenScenarios(); return g ? { scenarios: g, compare: comparableIronlbSpec } : undefined; })());
    const golden = readFrrGolden();
    if (process.env.DIFF_VERBOSE === '1') console.log(JSON.stringify(seen, null, 2));
    for (const s of frrScenarios) assert.deepEqual(comparableIronlbSpec(seen[s.name]), golden.scenarios[s.name], `scenario ${s.name}`);
  });
});
