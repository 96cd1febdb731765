// The API semantics ironlb relies on, checked against the real kube-apiserver and etcd:
// client-node's informer (add/update/delete, and a relist after 410 Gone once etcd compacted the
// history it wanted), the status subresource, server-side apply, and a Lease round trip.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CoordinationV1Api, CoreV1Api, ListWatch, PatchStrategy, setHeaderOptions, V1MicroTime, Watch, type V1ConfigMap,
} from '@kubernetes/client-node';
import { clusterSuiteOptions, createNamespace, startControlPlane, type ControlPlane } from './index.ts';
import { until } from '../fakes/until.ts';

const statusOf = (e: unknown) => (e as { code?: number }).code;
/** client-node's model classes as plain JSON, for deepEqual. */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('API semantics', clusterSuiteOptions(), () => {
  let cp: ControlPlane;
  let core: CoreV1Api;
  before(async () => {
    cp = await startControlPlane({ name: 'semantics' });
    core = cp.kubeConfig.makeApiClient(CoreV1Api);
  });
  after(async () => { await cp?.stop(); });

  test('informer: add, update, delete; after etcd compaction a resumed watch gets 410 and relists', async () => {
    const ns = await createNamespace(cp, 'informer');
    let lists = 0;
    const events: string[] = [];
    // makeInformer's object, constructed unstarted so that no event is missed.
    const informer = new ListWatch<V1ConfigMap>(`/api/v1/namespaces/${ns}/configmaps`, new Watch(cp.kubeConfig),
      () => { lists++; return core.listNamespacedConfigMap({ namespace: ns }); }, false);
    for (const verb of ['add', 'update', 'delete'] as const) informer.on(verb, (o) => events.push(`${verb} ${o.metadata?.name}`));
    const errors: unknown[] = [];
    informer.on('error', (e) => errors.push(e));
    await informer.start();
    try {
      await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'a' }, data: { v: '1' } } });
      await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'b' }, data: { v: '1' } } });
      await until(() => events.length === 2, 'adds', 20_000);
      await core.patchNamespacedConfigMap({ namespace: ns, name: 'a', body: { data: { v: '2' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      await core.deleteNamespacedConfigMap({ namespace: ns, name: 'b' });
      await until(() => events.length === 4, 'update and delete', 20_000);
      assert.deepEqual(events, ['add a', 'add b', 'update a', 'delete b']);
      assert.equal(lists, 1);

      // Changes while the informer is away, then etcd forgets the history before the informer's resourceVersion.
      await informer.stop();
      const stale = informer.latestResourceVersion();
      await core.patchNamespacedConfigMap({ namespace: ns, name: 'a', body: { data: { v: '3' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'c' } } });
      await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'd' } } });
      await core.deleteNamespacedConfigMap({ namespace: ns, name: 'd' });
      await cp.compactEtcd();
      await cp.restartApiserver(); // its watch cache starts again from etcd, which has no history before the compaction
      // A watch from the informer's resourceVersion is now answered with 410 Gone (Expired) ...
      // (While its watch cache initializes, a restarted apiserver answers watches with 429 and Retry-After.)
      let watch = await cp.request('GET', `/api/v1/namespaces/${ns}/configmaps?watch=true&resourceVersion=${stale}&timeoutSeconds=1`);
      for (let i = 0; i < 100 && watch.status === 429; i++) {
        await sleep(200);
        watch = await cp.request('GET', `/api/v1/namespaces/${ns}/configmaps?watch=true&resourceVersion=${stale}&timeoutSeconds=1`);
      }
      const answer = typeof watch.body === 'string' ? watch.body : JSON.stringify(watch.body);
      assert.equal(watch.status, 200);
      assert.match(answer, /^\{"type":"ERROR","object":\{"kind":"Status".*"reason":"Expired".*"code":410\}\}/, `watch from ${stale}: ${answer}`);
      // ... and the informer, resuming from it, relists and catches up.
      events.length = 0;
      await informer.start();
      await until(() => informer.list().length === 2 && informer.get('a', ns)?.data?.v === '3', 'relist', 20_000);
      assert.equal(lists, 2, 'the informer relisted');
      assert.deepEqual(events.sort(), ['add c', 'update a']);
      assert.deepEqual(informer.list().map((o) => o.metadata?.name).sort(), ['a', 'c']);
      // stop() aborts the watch request, which client-node reports as an error; nothing else may fail.
      assert.deepEqual(errors.filter((e) => (e as { type?: string }).type !== 'aborted'), []);
    } finally {
      await informer.stop();
    }
  });

  test('Service status subresource: /status writes only status, the main resource ignores status, a no-op write is no event', async () => {
    const ns = await createNamespace(cp, 'status');
    const svc = await core.createNamespacedService({
      namespace: ns, body: { metadata: { name: 'web' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } },
    });
    const generation = svc.metadata?.generation;
    const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    const st = await core.patchNamespacedServiceStatus({
      namespace: ns, name: 'web', body: { status: { loadBalancer: { ingress: [{ ip: '192.0.2.10', ipMode: 'VIP' }] } }, spec: { ports: [{ port: 81 }] } },
    }, merge);
    assert.deepEqual(plain(st.status?.loadBalancer?.ingress), [{ ip: '192.0.2.10', ipMode: 'VIP' }]);
    assert.equal(st.spec?.ports?.[0]?.port, 80, 'a /status write changes no spec');
    // Services carry no metadata.generation (custom resources do: crds.test.ts), so nothing can key on it.
    assert.equal(generation, undefined);
    const rv = st.metadata?.resourceVersion;
    const main = await core.patchNamespacedService({
      namespace: ns, name: 'web', body: { status: { loadBalancer: { ingress: [{ ip: '192.0.2.99' }] } }, metadata: { labels: { a: 'b' } } },
    }, merge);
    assert.equal(main.status?.loadBalancer?.ingress?.[0]?.ip, '192.0.2.10', 'the main resource ignores status');
    assert.notEqual(main.metadata?.resourceVersion, rv);
    // A /status write that changes nothing is a no-op: no new resourceVersion, so no watch event.
    const again = await core.patchNamespacedServiceStatus({ namespace: ns, name: 'web', body: { status: { loadBalancer: { ingress: [{ ip: '192.0.2.10', ipMode: 'VIP' }] } } } }, merge);
    assert.equal(again.metadata?.resourceVersion, main.metadata?.resourceVersion);
  });

  test('server-side apply: fields owned per manager, a conflict is 409 until forced', async () => {
    const ns = await createNamespace(cp, 'ssa');
    const apply = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
    const cm = (data: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: ns }, data });
    await core.patchNamespacedConfigMap({ namespace: ns, name: 'cfg', body: cm({ x: '1' }), fieldManager: 'ironlb-a' }, apply);
    await core.patchNamespacedConfigMap({ namespace: ns, name: 'cfg', body: cm({ y: '1' }), fieldManager: 'ironlb-b' }, apply);
    await assert.rejects(
      core.patchNamespacedConfigMap({ namespace: ns, name: 'cfg', body: cm({ x: '2', y: '1' }), fieldManager: 'ironlb-b' }, apply),
      (e) => statusOf(e) === 409 && /conflict/i.test(String((e as { body?: unknown }).body)),
    );
    const forced = await core.patchNamespacedConfigMap({ namespace: ns, name: 'cfg', body: cm({ x: '2', y: '1' }), fieldManager: 'ironlb-b', force: true }, apply);
    assert.deepEqual(forced.data, { x: '2', y: '1' });
    const owners = Object.fromEntries((forced.metadata?.managedFields ?? []).map((m) => [m.manager, Object.keys((m.fieldsV1 as { 'f:data'?: object })['f:data'] ?? {})]));
    assert.deepEqual(owners, { 'ironlb-b': ['f:x', 'f:y'] }, 'ironlb-a lost x and, owning nothing else, its entry');
    // Applying without a field the manager owned removes that field.
    const shrunk = await core.patchNamespacedConfigMap({ namespace: ns, name: 'cfg', body: cm({ y: '1' }), fieldManager: 'ironlb-b' }, apply);
    assert.deepEqual(shrunk.data, { y: '1' });
  });

  test('Lease round trip: create, renew with the current resourceVersion, a stale one is 409', async () => {
    const ns = await createNamespace(cp, 'lease');
    const coord = cp.kubeConfig.makeApiClient(CoordinationV1Api);
    // MicroTime fields must be written with microseconds: a plain Date is refused (400), V1MicroTime serializes them.
    const t0 = new V1MicroTime();
    const created = await coord.createNamespacedLease({
      namespace: ns,
      body: { metadata: { name: 'ironlb-controller' }, spec: { holderIdentity: 'node-a', leaseDurationSeconds: 15, acquireTime: t0, renewTime: t0, leaseTransitions: 0 } },
    });
    const read = await coord.readNamespacedLease({ namespace: ns, name: 'ironlb-controller' });
    assert.equal(read.spec?.holderIdentity, 'node-a');
    assert.equal(new Date(String(read.spec?.renewTime)).getTime(), t0.getTime());
    const renewed = await coord.replaceNamespacedLease({
      namespace: ns, name: 'ironlb-controller', body: { ...read, spec: { ...read.spec, renewTime: new V1MicroTime(t0.getTime() + 5000) } },
    });
    assert.notEqual(renewed.metadata?.resourceVersion, created.metadata?.resourceVersion);
    await assert.rejects(
      coord.replaceNamespacedLease({ namespace: ns, name: 'ironlb-controller', body: { ...read, spec: { ...read.spec, holderIdentity: 'node-b', leaseTransitions: 1 } } }),
      (e) => statusOf(e) === 409,
    );
    assert.equal((await coord.readNamespacedLease({ namespace: ns, name: 'ironlb-controller' })).spec?.holderIdentity, 'node-a');
  });
});
