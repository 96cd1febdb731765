// ironlb against the real kube-apiserver, through its own Kubernetes store: reflectors see adds,
// updates and deletes and survive a compaction (410) and an apiserver restart; the controller
// writes IPs to Service status, the pool annotation, Events and pool status only when something
// changed (API calls counted); a restarted controller keeps every IP; a refused configuration
// keeps the last good one and says why in ConfigurationState; the speaker writes ServiceBGPStatus
// and BGPSessionState, and removes them when the Service goes away, and MetalLB's nodeAssigned Event.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { runDaemon, type RunningDaemon } from '../../src/daemon/run.ts';
import { silentLogger } from '../../src/observe/log.ts';
import { KubeClient } from '../../src/store/kubernetes/kube-client.ts';
import { Reflector } from '../../src/store/kubernetes/reflector.ts';
import type { KubernetesStore } from '../../src/store/kubernetes/kube-store.ts';
import { apply, ironlbNamespace as ns, startIronlbControlPlane, until } from './ironlb-setup.ts';
import { clusterSuiteOptions, createEndpointSlice, createNamespace, createNode, type ControlPlane } from './index.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- API objects

const poolYaml = (name: string, addresses: string[]) => `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: ${name}, namespace: ${ns} }
spec: { addresses: [${addresses.map((a) => `"${a}"`).join(', ')}] }
`;
const serviceYaml = (namespace: string, name: string, extra = '') => `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: ${namespace}${extra} }
spec: { type: LoadBalancer, ports: [{ port: 80, protocol: TCP }], selector: { app: ${name} } }
`;

const get = async (cp: ControlPlane, path: string): Promise<Json> => {
  const r = await cp.request('GET', path);
  if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
  return r.body as Json;
};
const ingressOf = (svc: Json): string[] => (svc.status?.loadBalancer?.ingress ?? []).map((i: Json) => i.ip as string);

describe('the Kubernetes store against the real apiserver', clusterSuiteOptions(), () => {
  let cp: ControlPlane;
  let apps: string;
  before(async () => {
    cp = await startIronlbControlPlane('k8s-store');
    apps = await createNamespace(cp, 'apps');
  });
  after(async () => { await cp?.stop(); });

  test('a reflector sees add, update and delete, and relists after a compaction (410) and an apiserver restart', async () => {
    const client = new KubeClient(cp.kubeConfig);
    const events: string[] = [];
    const r = new Reflector({
      client, path: `/api/v1/namespaces/${apps}/configmaps`, name: 'ConfigMap', watchTimeoutSeconds: 5, minBackoffMs: 100,
      onChange: (kind, o) => events.push(`${kind} ${String((o.metadata as Json).name)}`),
    });
    await r.start();
    const cm = (name: string, v: string) => cp.request('POST', `/api/v1/namespaces/${apps}/configmaps`, { metadata: { name }, data: { v } });
    await cm('a', '1');
    await until('add a', () => events.includes('add a'));
    await cp.request('PATCH', `/api/v1/namespaces/${apps}/configmaps/a`, { data: { v: '2' } }, 'application/merge-patch+json');
    await until('update a', () => events.includes('update a'));
    // The cache keeps the object without its field owners (the server has them).
    assert.ok(((await cp.request('GET', `/api/v1/namespaces/${apps}/configmaps/a`)).body as { metadata: Json }).metadata.managedFields);
    const cached = r.list().find((o) => (o.metadata as Json).name === 'a')!;
    assert.equal((cached.metadata as Json).managedFields, undefined);
    assert.deepEqual(cached.data, { v: '2' });
    await cp.request('DELETE', `/api/v1/namespaces/${apps}/configmaps/a`);
    await until('delete a', () => events.includes('delete a'));
    // Changes while the watch is down, then the history compacted: only a relist can tell.
    const lists = r.lists;
    await cp.restartApiserver();
    await cm('b', '1');
    await cm('c', '1');
    await cp.request('DELETE', `/api/v1/namespaces/${apps}/configmaps/c`);
    await cp.compactEtcd();
    await until('b seen after the restart', () => events.includes('add b'), 60_000);
    assert.ok(!r.list().some((o) => (o.metadata as Json).name === 'c'), 'the deleted object is gone from the cache');
    await cm('d', '1');
    await until('d after the compaction', () => events.includes('add d'), 30_000);
    assert.ok(r.lists >= lists, 'relisted');
    r.stop();
    client.close();
  });

  test('controller: IPs in status, annotation, Events, pool status — each written once; a restart moves nothing', async () => {
    await apply(cp, poolYaml('pool-a', ['192.0.2.0/29']));
    const run = (): Promise<RunningDaemon> => runDaemon({ controller: true, speaker: false }, {
      folder: '', namespace: ns, logger: silentLogger(), cluster: { kubeconfig: cp.kubeconfigPath, leaderElection: false, debounceMs: 20 },
    });
    let d = await run();
    const client = d.cluster!.client;
    for (const n of ['web', 'api', 'db']) await apply(cp, serviceYaml(apps, n));
    const svcPath = (n: string) => `/api/v1/namespaces/${apps}/services/${n}`;
    const ips = await until('three IPs', async () => {
      const got = await Promise.all(['web', 'api', 'db'].map(async (n) => ingressOf(await get(cp, svcPath(n)))[0]));
      return got.every((x) => x !== undefined) ? got : undefined;
    });
    assert.equal(new Set(ips).size, 3);
    for (const ip of ips) assert.match(ip, /^192\.0\.2\.[0-7]$/);
    const web = await get(cp, svcPath('web'));
    assert.equal(web.metadata.annotations['metallb.io/ip-allocated-from-pool'], 'pool-a');
    const pool = await until('pool status', async () => (await get(cp, `/apis/metallb.io/v1beta1/namespaces/${ns}/ipaddresspools/pool-a`)).status?.assignedIPv4 === 3 || undefined);
    assert.ok(pool);
    const events = await until('IPAllocated events', async () => {
      const list = await get(cp, `/api/v1/namespaces/${apps}/events`);
      const mine = (list.items as Json[]).filter((e) => e.reason === 'IPAllocated');
      return mine.length >= 3 ? mine : undefined;
    });
    assert.equal(events[0]!.source.component, 'metallb-controller');
    assert.match(events.find((e) => e.involvedObject.name === 'web')!.message, /Assigned IP/);
    // Quiet: nothing changes, so nothing is written, whatever else happens in the cluster.
    await sleep(500);
    const before = { ...client.counts };
    await apply(cp, serviceYaml(apps, 'web', ', labels: { touched: "yes" }'));
    await cp.request('POST', `/api/v1/namespaces/${apps}/configmaps`, { metadata: { name: 'noise' } });
    await sleep(1500);
    const writes = client.countsSince(before);
    assert.deepEqual({ PATCH: writes.PATCH ?? 0, POST: writes.POST ?? 0, PUT: writes.PUT ?? 0 }, { PATCH: 0, POST: 0, PUT: 0 }, `writes after a no-op change: ${JSON.stringify(writes)}`);
    // One new Service: one status patch, one annotation patch, one Event, one pool status patch.
    const before2 = { ...client.counts };
    await apply(cp, serviceYaml(apps, 'cache'));
    await until('cache IP', async () => ingressOf(await get(cp, svcPath('cache')))[0]);
    await sleep(1000);
    const w2 = client.countsSince(before2);
    assert.equal(w2.PATCH, 3, `patches for one new Service: ${JSON.stringify(w2)}`);
    assert.equal(w2.POST, 1, `events for one new Service: ${JSON.stringify(w2)}`);
    // Restart: every Service keeps its IP, and nothing is rewritten.
    await d.stop();
    d = await run();
    await sleep(1500);
    const after = await Promise.all(['web', 'api', 'db'].map(async (n) => ingressOf(await get(cp, svcPath(n)))[0]));
    assert.deepEqual(after, ips);
    const w3 = d.cluster!.client.counts;
    assert.equal(w3.PATCH ?? 0, 0, `writes after a restart: ${JSON.stringify(w3)}`);
    // A Service deleted frees its IP; a Service of another class is never touched.
    await apply(cp, serviceYaml(apps, 'other').replace('type: LoadBalancer,', 'type: LoadBalancer, loadBalancerClass: example.com/other,'));
    await sleep(1000);
    assert.deepEqual(ingressOf(await get(cp, svcPath('other'))), []);
    await d.stop();
  });

  test('a refused configuration keeps the last good one in force and says why in ConfigurationState', async () => {
    const d = await runDaemon({ controller: true, speaker: false }, {
      folder: '', namespace: ns, logger: silentLogger(), cluster: { kubeconfig: cp.kubeconfigPath, leaderElection: false, debounceMs: 20 },
    });
    const state = () => get(cp, `/apis/metallb.io/v1beta1/namespaces/${ns}/configurationstates/controller`);
    await until('Valid', async () => (await state()).status?.result === 'Valid' || undefined);
    // The overlap is refused (no webhook in this test: the controller itself refuses it).
    await apply(cp, poolYaml('pool-overlap', ['192.0.2.4/30']));
    const invalid = await until('Invalid', async () => { const s = await state(); return s.status?.result === 'Invalid' ? s : undefined; });
    assert.match(invalid.status.errorSummary, /pool-overlap/);
    assert.equal(invalid.status.conditions[0].reason, 'ConfigurationError');
    // Services still get IPs under the last good configuration meanwhile.
    await apply(cp, serviceYaml(apps, 'during'));
    const ip = await until('IP while stale', async () => ingressOf(await get(cp, `/api/v1/namespaces/${apps}/services/during`))[0]);
    assert.match(ip, /^192\.0\.2\./);
    const ev = await get(cp, `/api/v1/namespaces/${ns}/events`);
    assert.ok((ev.items as Json[]).some((e) => e.reason === 'InvalidConfiguration' && e.involvedObject.name === 'pool-overlap'));
    await cp.kubectl(['delete', '-n', ns, 'ipaddresspool', 'pool-overlap']);
    await until('Valid again', async () => (await state()).status?.result === 'Valid' || undefined);
    await d.stop();
  });

  test('speaker: ServiceBGPStatus per announced Service and BGPSessionState per peer, removed with the Service', async () => {
    await createNode(cp, 'node-1', { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }] });
    await apply(cp, poolYaml('pool-s', ['198.51.100.0/29']));
    await apply(cp, `apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: tor, namespace: ${ns} }
spec: { myASN: 64512, peerASN: 64513, peerAddress: 127.0.0.1, peerPort: 11799 }
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: all, namespace: ${ns} }
spec: {}
`);
    const controller = await runDaemon({ controller: true, speaker: false }, {
      folder: '', namespace: ns, logger: silentLogger(), cluster: { kubeconfig: cp.kubeconfigPath, leaderElection: false, debounceMs: 20 },
    });
    await apply(cp, serviceYaml(apps, 'edge'));
    await until('edge IP', async () => ingressOf(await get(cp, `/api/v1/namespaces/${apps}/services/edge`))[0]);
    await createEndpointSlice(cp, apps, 'edge', [{ addresses: ['10.244.0.5'], nodeName: 'node-1' }]);
    const speaker = await runDaemon({ controller: false, speaker: true }, {
      folder: '', namespace: ns, nodeName: 'node-1', logger: silentLogger(), cluster: { kubeconfig: cp.kubeconfigPath, debounceMs: 20 },
    });
    const sbs = await until('ServiceBGPStatus', async () => {
      const list = await get(cp, `/apis/metallb.io/v1beta1/namespaces/${ns}/servicebgpstatuses`);
      return (list.items as Json[]).find((i) => i.status?.serviceName === 'edge');
    });
    assert.deepEqual(sbs.status, { node: 'node-1', serviceName: 'edge', serviceNamespace: apps, peers: ['tor'] });
    assert.equal(sbs.metadata.labels['metallb.io/node'], 'node-1');
    const session = await until('BGPSessionState', async () => {
      const list = await get(cp, `/apis/ironlb.io/v1alpha1/namespaces/${ns}/bgpsessionstates`);
      // Its counters may trail its state by up to 2 s (the writer holds counter-only changes back).
      return (list.items as Json[]).find((i) => i.status?.peer === 'tor' && i.status?.prefixesSent === 1);
    });
    assert.equal(session.status.node, 'node-1');
    assert.equal(session.status.address, '127.0.0.1');
    assert.notEqual(session.status.bgpStatus, 'Established'); // nothing listens on 11799
    assert.equal(session.status.bfdStatus, 'N/A');
    assert.equal(session.status.prefixesSent, 1);
    // MetalLB's speaker Event on the Service, from the MetalLB speaker's source, once.
    const assigned = await until('nodeAssigned Event', async () => {
      const list = await get(cp, `/api/v1/namespaces/${apps}/events`);
      return (list.items as Json[]).find((e) => e.involvedObject?.name === 'edge' && e.reason === 'nodeAssigned');
    });
    assert.equal(assigned.type, 'Normal');
    assert.equal(assigned.message, 'announcing from node "node-1" with protocol "bgp"');
    assert.deepEqual(assigned.source, { component: 'metallb-speaker', host: 'node-1' });
    assert.equal(assigned.involvedObject.uid, (await get(cp, `/api/v1/namespaces/${apps}/services/edge`)).metadata.uid);
    await cp.kubectl(['delete', '-n', apps, 'service', 'edge']);
    await until('ServiceBGPStatus removed', async () => {
      const list = await get(cp, `/apis/metallb.io/v1beta1/namespaces/${ns}/servicebgpstatuses`);
      return (list.items as Json[]).every((i) => i.status?.serviceName !== 'edge') || undefined;
    });
    await speaker.stop();
    await controller.stop();
    const store = (speaker.store as KubernetesStore);
    assert.ok(store.reflectors.has('Node'));
  });
});
