// The Kubernetes store's cost of an edit is proportional to what changed (#15), shown without a
// clock: one Service edit and one EndpointSlice edit in a cluster of 100 and of 2,000 Services
// (each with a slice, on a few Nodes) copy the same number of cached objects (none), walk no
// cache, and read no configuration object; the snapshot's delta names what changed with its
// slices from the by-Service index, and its lists, read, still hold every object.
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultResolver } from '../files/loader.ts';
import type { Snapshot } from '../store.ts';
import type { Json, KubeClient, WatchEvent } from './kube-client.ts';
import { KubernetesStore } from './kube-store.ts';

const ns = 'metallb-system';
const pool = (generation: number): Json => ({
  apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'a', namespace: ns, generation, resourceVersion: String(generation) }, spec: { addresses: ['10.0.0.0/16'] },
});
const service = (name: string, rv = '1'): Json => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default', resourceVersion: rv },
  spec: { type: 'LoadBalancer', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ port: 80, protocol: 'TCP' }] },
});
const slice = (svc: string, name: string, node: string, rv = '1'): Json => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
  metadata: { name, namespace: 'default', resourceVersion: rv, labels: { 'kubernetes.io/service-name': svc } },
  endpoints: [{ addresses: ['10.244.0.5'], nodeName: node, conditions: { ready: true } }],
});

/** A cluster of n Services with one slice each; counts what the store copies and walks after start. */
async function cluster(n: number) {
  const names = Array.from({ length: n }, (_, i) => `s${i}`);
  const initial: Record<string, Json[]> = {
    ipaddresspools: [pool(1)],
    services: names.map((x) => service(x)),
    endpointslices: names.map((x) => slice(x, `${x}-1`, `n${names.indexOf(x) % 5}`)),
    nodes: Array.from({ length: 5 }, (_, i) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: `n${i}`, resourceVersion: '1' } })),
  };
  const streams = new Map<string, (e: WatchEvent) => void>();
  const client = {
    request: (method: string, path: string) => Promise.resolve(method === 'GET' ? { metadata: { resourceVersion: '1' }, items: initial[path.split('/').at(-1)!] ?? [] } : {}),
    watch: (path: string, _q: unknown, onEvent: (e: WatchEvent) => void) => {
      streams.set(path.split('/').at(-1)!, onEvent);
      return Promise.resolve(() => undefined);
    },
  } as unknown as KubeClient;
  const store = new KubernetesStore({ client, role: 'speaker', node: 'n0', namespace: ns, resolver: defaultResolver, debounceMs: 0, maxDelayMs: 0 });
  const snapshots: Snapshot[] = [];
  await store.start({ snapshot: (s) => snapshots.push(s) });
  // Every list made (objects copied, by kind) and every walk of a cache, from here on.
  const copied = new Map<string, number>();
  let walks = 0;
  for (const [kind, r] of store.reflectors) {
    const list = r.list.bind(r);
    mock.method(r, 'list', () => { const l = list(); copied.set(kind, (copied.get(kind) ?? 0) + l.length); return l; });
    const values = r.cache.values.bind(r.cache);
    const iter = r.cache[Symbol.iterator].bind(r.cache);
    mock.method(r.cache, 'values', () => { walks++; return values(); });
    mock.method(r.cache, Symbol.iterator, () => { walks++; return iter(); });
  }
  const push = (plural: string, object: Json, type: 'MODIFIED' | 'DELETED' = 'MODIFIED') => streams.get(plural)!({ type, object });
  const count = () => ({ copied: Object.fromEntries(copied), walks, lists: [...copied.keys()].sort() });
  const reset = () => { copied.clear(); walks = 0; };
  return { store, snapshots, push, count, reset };
}

/** One Service edit and one EndpointSlice edit (another Service's), built as one snapshot. */
async function oneEdit(n: number) {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const c = await cluster(n);
  try {
    mock.timers.tick(1000);
    c.snapshots.length = 0;
    c.push('services', service('s1', '7'));
    c.push('endpointslices', slice('s2', 's2-1', 'n3', '8'));
    mock.timers.tick(0);
    assert.equal(c.snapshots.length, 1);
    const cost = c.count();
    const s = c.snapshots[0]!;
    const d = s.delta!;
    assert.equal(d.servicesOnly, true);
    assert.deepEqual(d.upserted.map((x) => `${x.metadata.name}@${x.metadata.resourceVersion}`).sort(), ['s1@7', 's2@1']);
    assert.deepEqual([...d.slices!.entries()].map(([k, v]) => [k, v.map((x) => x.endpoints?.[0]?.nodeName)]), [['default/s2', ['n3']]]);
    // The lists, read now (as a listener may), hold the world: built when read, not before.
    assert.equal(s.services.length, n);
    assert.equal(s.services.find((x) => x.metadata.name === 's1')?.metadata.resourceVersion, '7');
    assert.equal(s.endpointSlices.length, n);
    assert.equal(s.nodes.length, 5);
    assert.deepEqual(c.count().copied, { Service: n, EndpointSlice: n, Node: 5 });
    // A configuration change is a full build: it reads the configuration again.
    c.reset();
    c.push('ipaddresspools', pool(2));
    mock.timers.tick(0);
    assert.equal(c.snapshots.at(-1)!.delta?.servicesOnly, false);
    assert.ok(c.count().lists.includes('IPAddressPool'), `a config change reads the pools: ${c.count().lists.join(',')}`);
    return cost;
  } finally {
    await c.store.close();
    mock.timers.reset();
  }
}

test('one Service edit costs the same with 100 and 2,000 Services cached: no object copied, no cache walked, no configuration read', async () => {
  const small = await oneEdit(100);
  const large = await oneEdit(2000);
  assert.deepEqual(small, { copied: {}, walks: 0, lists: [] });
  assert.deepEqual(large, small);
});

test('the EndpointSlice index follows a slice that moves to another Service or is deleted', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const c = await cluster(3);
  try {
    mock.timers.tick(1000);
    c.snapshots.length = 0;
    c.push('endpointslices', slice('s1', 's0-1', 'n4', '9')); // s0's slice now labelled for s1
    mock.timers.tick(0);
    const d = c.snapshots.at(-1)!.delta!;
    assert.deepEqual(d.upserted.map((x) => x.metadata.name).sort(), ['s0', 's1']);
    assert.deepEqual(d.slices?.get('default/s0'), []);
    assert.deepEqual(d.slices?.get('default/s1')?.map((x) => x.metadata.name).sort(), ['s0-1', 's1-1']);
    assert.deepEqual(c.store.slicesOf('default/s1').map((x) => (x.metadata as { name: string }).name).sort(), ['s0-1', 's1-1']);
    c.snapshots.length = 0;
    c.push('endpointslices', slice('s1', 's1-1', 'n1', '10'), 'DELETED');
    mock.timers.tick(0);
    assert.deepEqual(c.snapshots.at(-1)!.delta!.slices?.get('default/s1')?.map((x) => x.metadata.name), ['s0-1']);
    assert.deepEqual(c.store.slicesOf('default/s2').length, 1);
  } finally {
    await c.store.close();
    mock.timers.reset();
  }
});
