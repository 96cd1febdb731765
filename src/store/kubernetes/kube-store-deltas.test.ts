// The Kubernetes store's deltas under its build pacing (kube-store.test.ts has the pacing itself), on
// a mocked clock with a fake API: a stream of changes that never goes quiet is built during it and
// coalesced, every change handed on in exactly one snapshot's delta, in order; a Service added and
// deleted between two builds is handed on as deleted only.
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultResolver } from '../files/loader.ts';
import type { Snapshot } from '../store.ts';
import type { Json, KubeClient, WatchEvent } from './kube-client.ts';
import { KubernetesStore } from './kube-store.ts';

/** An API with nothing in it but what the test sends down the Service watch. */
function fakeApi() {
  const watchers = new Map<string, (e: WatchEvent) => void>();
  const client = {
    request: (method: string) => Promise.resolve(method === 'GET' ? { metadata: { resourceVersion: '1' }, items: [] } : {}),
    watch: (path: string, _q: unknown, onEvent: (e: WatchEvent) => void) => {
      watchers.set(path, onEvent);
      return Promise.resolve(() => undefined);
    },
  } as unknown as KubeClient;
  let rv = 1;
  const service = (type: 'ADDED' | 'DELETED', name: string) => {
    const path = [...watchers.keys()].find((p) => p.endsWith('/services'));
    assert.ok(path, 'the store watches Services');
    const object: Json = {
      apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'apps', resourceVersion: String(++rv) },
      spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }] },
    };
    watchers.get(path)!({ type, object });
  };
  /** An event down the watch whose path ends with `plural`. */
  const send = (plural: string, type: WatchEvent['type'], object: Json) => {
    const path = [...watchers.keys()].find((p) => p.endsWith(`/${plural}`));
    assert.ok(path, `the store watches ${plural}`);
    watchers.get(path)!({ type, object: { ...object, metadata: { ...(object.metadata as Json), resourceVersion: String(++rv) } } });
  };
  return { client, service, send };
}

describe('KubernetesStore deltas under pacing (mocked clock)', () => {
  let store: KubernetesStore;
  let snapshots: Snapshot[];
  let api: ReturnType<typeof fakeApi>;
  /** Each snapshot after the first as "upserted…|-deleted…". */
  const deltas = () => snapshots.slice(1).map((s) => [...s.delta!.upserted.map((x) => x.metadata.name), ...s.delta!.deleted.map((k) => `-${k.split('/')[1]}`)].join(' '));

  beforeEach(async () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    api = fakeApi();
    snapshots = [];
    store = new KubernetesStore({ client: api.client, role: 'controller', namespace: 'metallb-system', resolver: defaultResolver, debounceMs: 50, maxDelayMs: 500 });
    await store.start({ snapshot: (s) => snapshots.push(s) }); // the first snapshot too
    mock.timers.tick(1000); // a quiet spell after the first snapshot
  });
  afterEach(async () => {
    await store.close();
    mock.timers.reset();
  });

  test('a Service added and deleted while a build is due is handed on as deleted only', () => {
    api.service('ADDED', 'a');
    mock.timers.tick(0);
    api.service('ADDED', 'b');
    api.service('DELETED', 'b');
    api.service('ADDED', 'c');
    mock.timers.tick(100);
    assert.deepEqual(deltas(), ['a', 'c -b']);
  });

  test('a pool\'s status write (same generation, labels, annotations) makes no snapshot; an edit of its spec does', () => {
    const pool = (generation: number, addresses: string[], status: Json = {}): Json => ({
      apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'main', namespace: 'metallb-system', generation }, spec: { addresses }, status,
    });
    api.send('ipaddresspools', 'ADDED', pool(1, ['192.0.2.0/28']));
    mock.timers.tick(100);
    assert.equal(snapshots.length, 2);
    const config = snapshots[1]!.config;
    assert.equal(config.pools.length, 1);
    api.send('ipaddresspools', 'MODIFIED', pool(1, ['192.0.2.0/28'], { assignedIPv4: 1, availableIPv4: 15, assignedIPv6: 0, availableIPv6: 0 }));
    mock.timers.tick(100);
    assert.equal(snapshots.length, 2, 'a status write on a pool builds nothing');
    api.send('ipaddresspools', 'MODIFIED', pool(2, ['192.0.2.0/27'], { assignedIPv4: 1, availableIPv4: 15, assignedIPv6: 0, availableIPv6: 0 }));
    mock.timers.tick(100);
    assert.equal(snapshots.length, 3);
    assert.notEqual(snapshots[2]!.config, config);
    // A label is read by selectors: it counts as a change whatever the generation.
    api.send('ipaddresspools', 'MODIFIED', { ...pool(2, ['192.0.2.0/27']), metadata: { name: 'main', namespace: 'metallb-system', generation: 2, labels: { zone: 'a' } } });
    mock.timers.tick(100);
    assert.equal(snapshots.length, 4);
  });

  test('a stream that never goes quiet is still built during it, every change once, in order', () => {
    const names = Array.from({ length: 60 }, (_, i) => `s${i}`);
    for (const name of names) {
      api.service('ADDED', name);
      mock.timers.tick(20); // closer together than the debounce, for 1.2 s
    }
    const during = snapshots.length - 1;
    mock.timers.tick(1000);
    const all = deltas();
    assert.ok(during >= 3, `built ${during} times during the stream`);
    assert.ok(all.length <= names.length / 2, `coalesced: ${all.length} snapshots for ${names.length} changes`);
    assert.deepEqual(all.join(' ').split(' '), names);
  });
});
