// Events as client-go's recorder leaves them in the cluster: one object per (Service, type, reason,
// message) whose count goes up on repeats, a per-object limit, a new object when the old one is gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventRecorder, type ServiceEvent } from './event-recorder.ts';
import { KubeApiError, type Json, type KubeClient } from './kube-client.ts';

function fakeClient(o: { patchFails?: number } = {}) {
  const calls: { method: string; path: string; body: Json }[] = [];
  let made = 0;
  let patchFails = o.patchFails ?? 0;
  const client = {
    request: (method: string, path: string, r?: { body?: Json }) => {
      calls.push({ method, path, body: r?.body ?? {} });
      if (method === 'PATCH' && patchFails > 0) {
        patchFails--;
        return Promise.reject(new KubeApiError(404, 'NotFound', 'events "web.1" not found', method, path));
      }
      return Promise.resolve(method === 'POST' ? { metadata: { name: `web.${++made}` } } : {});
    },
  } as unknown as KubeClient;
  return { calls, client };
}

const assigned: ServiceEvent = { object: 'apps/web', type: 'Normal', reason: 'nodeAssigned', message: 'announcing from node "n1" with protocol "layer2"' };
const services = () => new Map<string, Json>([['apps/web', { metadata: { name: 'web', namespace: 'apps', uid: 'u-1', resourceVersion: '7' } }]]);

test('an Event is created once with the MetalLB speaker as its source, and repeats count on it', async () => {
  let now = Date.parse('2026-12-03T06:00:00Z');
  const { calls, client } = fakeClient();
  const r = new EventRecorder({ client, component: 'metallb-speaker', host: 'n1', services, now: () => now });
  r.record(assigned);
  await r.idle();
  assert.equal(calls.length, 1);
  assert.equal(calls[0]!.method, 'POST');
  assert.equal(calls[0]!.path, '/api/v1/namespaces/apps/events');
  assert.deepEqual(calls[0]!.body, {
    apiVersion: 'v1', kind: 'Event', metadata: { generateName: 'web.', namespace: 'apps' },
    involvedObject: { apiVersion: 'v1', kind: 'Service', namespace: 'apps', name: 'web', uid: 'u-1', resourceVersion: '7' },
    reason: 'nodeAssigned', message: 'announcing from node "n1" with protocol "layer2"', type: 'Normal',
    source: { component: 'metallb-speaker', host: 'n1' },
    firstTimestamp: '2026-12-03T06:00:00Z', lastTimestamp: '2026-12-03T06:00:00Z', count: 1,
    reportingComponent: 'metallb-speaker', reportingInstance: 'n1',
  });
  now += 5000;
  r.record(assigned); // written at once
  r.record(assigned); // waits for that write...
  r.record(assigned); // ...and this one folds into it
  await r.idle();
  assert.deepEqual(calls.slice(1).map((c) => [c.method, c.path, c.body]), [
    ['PATCH', '/api/v1/namespaces/apps/events/web.1', { count: 2, lastTimestamp: '2026-12-03T06:00:05Z' }],
    ['PATCH', '/api/v1/namespaces/apps/events/web.1', { count: 4, lastTimestamp: '2026-12-03T06:00:05Z' }],
  ]);
  // Another message is another Event object.
  r.record({ ...assigned, message: 'announcing from node "n1" with protocol "bgp"' });
  await r.idle();
  assert.equal(calls.at(-1)!.method, 'POST');
  r.close();
});

test('a repeat whose Event is gone (expired, deleted) creates a new one', async () => {
  const { calls, client } = fakeClient({ patchFails: 1 });
  const r = new EventRecorder({ client, component: 'metallb-speaker', services });
  r.record(assigned);
  await r.idle();
  r.record(assigned);
  await r.idle();
  assert.deepEqual(calls.map((c) => c.method), ['POST', 'PATCH', 'POST']);
  assert.equal(calls[2]!.body.count, 2);
  r.close();
});

test('Events on one object beyond the burst are dropped until tokens come back', async () => {
  let now = 0;
  const { calls, client } = fakeClient();
  const r = new EventRecorder({ client, component: 'metallb-speaker', burst: 3, refillMs: 1000, now: () => now });
  for (let i = 0; i < 5; i++) r.record({ ...assigned, message: `m${i}` });
  await r.idle();
  assert.equal(calls.length, 3);
  assert.equal(r.dropped, 2);
  // Another object has its own bucket.
  r.record({ ...assigned, object: 'apps/db' });
  now += 1000; // one token back
  r.record({ ...assigned, message: 'm5' });
  r.record({ ...assigned, message: 'm6' });
  await r.idle();
  assert.deepEqual(calls.slice(3).map((c) => (c.body.involvedObject as { name: string }).name + ' ' + String(c.body.message)),
    ['db announcing from node "n1" with protocol "layer2"', 'web m5']);
  assert.equal(r.dropped, 3);
  r.close();
});

test('a failed create is retried a few times, then given up', async () => {
  const calls: string[] = [];
  const client = {
    request: (method: string, path: string) => {
      calls.push(method);
      return Promise.reject(new KubeApiError(503, 'ServiceUnavailable', 'apiserver restarting', method, path));
    },
  } as unknown as KubeClient;
  const r = new EventRecorder({ client, component: 'metallb-speaker', retryMs: 1 });
  r.record(assigned);
  await r.idle();
  assert.deepEqual(calls, ['POST', 'POST', 'POST']);
  r.close();
});
