// The Kubernetes store's pacing and deltas, against a fake API (lists and watch streams pushed by
// the test) and mocked timers: a change is built without waiting for a quiet period, changes that
// arrive while a build is due join it instead of postponing it, and a status write on a pool
// (the controller's, with every allocation) is not a configuration change.
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultResolver } from '../files/loader.ts';
import type { Snapshot } from '../store.ts';
import type { Json, KubeClient, WatchEvent } from './kube-client.ts';
import { KubernetesStore } from './kube-store.ts';

const ns = 'metallb-system';

function fakeApi(initial: Record<string, Json[]>) {
  const streams = new Map<string, (e: WatchEvent) => void>();
  const client = {
    request: (method: string, path: string) => {
      const plural = path.split('/').at(-1)!;
      return Promise.resolve(method === 'GET' ? { metadata: { resourceVersion: '1' }, items: initial[plural] ?? [] } : {});
    },
    watch: (path: string, _q: unknown, onEvent: (e: WatchEvent) => void) => {
      streams.set(path.split('/').at(-1)!, onEvent);
      return Promise.resolve(() => undefined);
    },
  } as unknown as KubeClient;
  let rv = 100;
  const push = (plural: string, type: 'ADDED' | 'MODIFIED', obj: Json) => {
    streams.get(plural)!({ type, object: { ...obj, metadata: { ...(obj.metadata as Json), resourceVersion: String(++rv) } } });
  };
  return { client, push };
}

const pool = (generation: number, addresses: string[], status?: Json): Json => ({
  apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'a', namespace: ns, generation, resourceVersion: '1' }, spec: { addresses }, ...(status ? { status } : {}),
});
const service = (name: string): Json => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default', resourceVersion: '1' },
  spec: { type: 'LoadBalancer', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ port: 80, protocol: 'TCP' }] },
});

async function started(opts: { debounceMs: number; maxDelayMs: number }, role: 'controller' | 'speaker' = 'controller') {
  const api = fakeApi({ ipaddresspools: [pool(1, ['10.0.0.0/24'])] });
  // Builds cost nothing on this clock: under load a real one once took over the 40 ms floor.
  const store = new KubernetesStore({ client: api.client, role, namespace: ns, resolver: defaultResolver, ...(role === 'speaker' ? { node: 'n1' } : {}), costClock: () => 0, ...opts });
  const snapshots: Snapshot[] = [];
  await store.start({ snapshot: (s) => snapshots.push(s) });
  snapshots.length = 0; // the first one, from the lists
  return { ...api, store, snapshots };
}

test('builds are paced, not debounced: a change is built at once after a quiet spell, and later ones join the build due instead of postponing it', async (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  t.after(() => mock.timers.reset());
  // A pause of 40 ms between builds (the floor; a build of these few objects costs far less).
  const { push, store, snapshots } = await started({ debounceMs: 40, maxDelayMs: 500 });
  mock.timers.tick(1000);
  push('services', 'ADDED', service('a'));
  mock.timers.tick(0);
  assert.equal(snapshots.length, 1, 'built on the next turn, no quiet period waited for');
  assert.deepEqual(snapshots[0]!.delta?.upserted.map((s) => s.metadata.name), ['a']);
  // Changes right after a build wait for the pause, and a steady stream does not postpone it.
  push('services', 'ADDED', service('b'));
  mock.timers.tick(30);
  push('services', 'MODIFIED', service('b'));
  push('services', 'ADDED', service('c'));
  mock.timers.tick(9);
  assert.equal(snapshots.length, 1);
  mock.timers.tick(1);
  assert.equal(snapshots.length, 2, 'built 40 ms after the last build, not 40 ms after the last change');
  assert.deepEqual(snapshots[1]!.delta?.upserted.map((s) => s.metadata.name).sort(), ['b', 'c']);
  assert.equal(snapshots[1]!.delta?.servicesOnly, true);
  await store.close();
});

test('a pool status write is not a configuration change: the next snapshot keeps the Config and stays a Services-only delta', async (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  t.after(() => mock.timers.reset());
  const { push, store, snapshots } = await started({ debounceMs: 0, maxDelayMs: 0 });
  const first = store.current()!;
  push('ipaddresspools', 'MODIFIED', pool(1, ['10.0.0.0/24'], { assignedIPv4: 1, assignedIPv6: 0, availableIPv4: 255, availableIPv6: 0 }));
  push('services', 'ADDED', service('a'));
  mock.timers.tick(0);
  assert.equal(snapshots.length, 1);
  assert.equal(snapshots[0]!.config, first.config);
  assert.equal(snapshots[0]!.delta?.servicesOnly, true);
  // A spec edit (the apiserver bumps the generation) is one.
  push('ipaddresspools', 'MODIFIED', pool(2, ['10.0.1.0/24']));
  mock.timers.tick(0);
  assert.equal(snapshots.length, 2);
  assert.notEqual(snapshots[1]!.config, first.config);
  assert.equal(snapshots[1]!.delta?.servicesOnly, false);
  await store.close();
});

test('an EndpointSlice change is a Services-only delta naming that Service and its slices now', async (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  t.after(() => mock.timers.reset());
  const { push, store, snapshots } = await started({ debounceMs: 0, maxDelayMs: 0 }, 'speaker');
  push('services', 'ADDED', service('a'));
  mock.timers.tick(0);
  const eps = (name: string, node: string): Json => ({
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
    metadata: { name, namespace: 'default', resourceVersion: '1', labels: { 'kubernetes.io/service-name': 'a' } },
    endpoints: [{ addresses: ['10.244.0.5'], nodeName: node, conditions: { ready: true } }],
  });
  push('endpointslices', 'ADDED', eps('a-1', 'n1'));
  push('endpointslices', 'ADDED', eps('a-2', 'n2'));
  mock.timers.tick(0);
  const d = snapshots.at(-1)!.delta!;
  assert.equal(d.servicesOnly, true);
  assert.deepEqual(d.upserted.map((s) => s.metadata.name), ['a']);
  assert.deepEqual(d.slices?.get('default/a')?.map((s) => s.metadata.name).sort(), ['a-1', 'a-2']);
  await store.close();
});

test("a Node's status report (heartbeat times only) builds nothing; a label or a condition's status does", async (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  t.after(() => mock.timers.reset());
  const { push, store, snapshots } = await started({ debounceMs: 0, maxDelayMs: 0 }, 'speaker');
  const node = (beat: string, labels: Record<string, string> = {}, networkUnavailable = 'False'): Json => ({
    apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', resourceVersion: '1', labels },
    status: {
      addresses: [{ type: 'InternalIP', address: '192.168.1.10' }],
      conditions: [
        { type: 'Ready', status: 'True', lastHeartbeatTime: beat, lastTransitionTime: '2026-12-03T10:00:00Z' },
        { type: 'NetworkUnavailable', status: networkUnavailable, lastHeartbeatTime: beat, lastTransitionTime: '2026-12-03T10:00:00Z' },
      ],
    },
  });
  push('nodes', 'ADDED', node('2026-12-03T11:00:00Z'));
  mock.timers.tick(0);
  assert.equal(snapshots.length, 1);
  push('nodes', 'MODIFIED', node('2026-12-03T11:00:10Z'));
  push('nodes', 'MODIFIED', node('2026-12-03T11:00:20Z'));
  mock.timers.tick(0);
  assert.equal(snapshots.length, 1, 'heartbeat times moved, nothing a plan reads');
  push('nodes', 'MODIFIED', node('2026-12-03T11:00:30Z', { 'node.kubernetes.io/exclude-from-external-load-balancers': '' }));
  mock.timers.tick(0);
  assert.equal(snapshots.length, 2, 'a label is read (node selectors, exclusion)');
  assert.equal(snapshots[1]!.nodes[0]!.metadata.labels?.['node.kubernetes.io/exclude-from-external-load-balancers'], '');
  push('nodes', 'MODIFIED', node('2026-12-03T11:00:40Z', { 'node.kubernetes.io/exclude-from-external-load-balancers': '' }, 'True'));
  mock.timers.tick(0);
  assert.equal(snapshots.length, 3, "a condition's status is read (NetworkUnavailable)");
  await store.close();
});
