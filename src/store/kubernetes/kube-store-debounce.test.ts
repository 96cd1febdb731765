// The Kubernetes store's debounce, on a mocked clock with a fake API: a lone change after a quiet
// spell is built at once (not held for the 50 ms debounce), the changes that follow it within the
// interval are one burst built once, a stream that never goes quiet is still built during it
// (maxDelayMs), and every change is handed on in exactly one snapshot's delta, in order.
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
  return { client, service };
}

describe('KubernetesStore debounce (mocked clock)', () => {
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

  test('a lone change is built on the next turn, not held for the debounce', () => {
    assert.equal(snapshots.length, 1, 'the first snapshot, and nothing since');
    api.service('ADDED', 'a');
    mock.timers.tick(0);
    assert.deepEqual(deltas(), ['a']);
  });

  test('what follows within the interval is one burst, built once after it goes quiet, in order', () => {
    api.service('ADDED', 'a');
    mock.timers.tick(0);
    for (const name of ['b', 'c', 'd', 'e']) {
      mock.timers.tick(10);
      api.service('ADDED', name);
    }
    api.service('DELETED', 'c');
    mock.timers.tick(10);
    assert.deepEqual(deltas(), ['a'], 'nothing built while the burst goes on');
    mock.timers.tick(100);
    assert.deepEqual(deltas(), ['a', 'b d e -c']);
    // Quiet again: the next lone change is built at once again.
    mock.timers.tick(1000);
    api.service('ADDED', 'f');
    mock.timers.tick(0);
    assert.deepEqual(deltas(), ['a', 'b d e -c', 'f']);
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
    assert.ok(during >= 3, `built ${during} times during the stream (the leading change, then at most maxDelayMs apart)`);
    assert.ok(all.length <= 5, `coalesced: ${all.length} snapshots for ${names.length} changes`);
    assert.deepEqual(all.join(' ').split(' '), names);
  });
});
