// The controller's Events in a cluster: every event of a burst is posted (the status's newEvents,
// not its display window of 200), once; a standby posts none, and nothing it saw is posted when it
// takes over (the leader posted them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeClient } from './kube-client.ts';
import { ControllerStatusWriter } from './controller-writer.ts';
import type { StatusEvent } from '../store.ts';

function writer() {
  const posts: string[] = [];
  const client = {
    request: (method: string, path: string, o?: { body?: { reason?: string; involvedObject?: { name?: string } } }) => {
      if (method === 'POST') posts.push(`${path} ${o?.body?.involvedObject?.name} ${o?.body?.reason}`);
      return Promise.resolve({});
    },
  } as unknown as KubeClient;
  const w = new ControllerStatusWriter({ client, namespace: 'metallb-system', services: () => new Map(), pools: () => new Map(), retryMs: 10 });
  return { w, posts };
}

/** Lets queued writes run (write() may resolve before its Events are posted). */
const settle = () => new Promise((r) => setTimeout(r, 50));

const burst = (n: number, reason = 'IPAllocated'): StatusEvent[] =>
  Array.from({ length: n }, (_, i) => ({ time: '2026-01-01T00:00:00Z', type: 'Normal', object: `apps/s${i}`, reason, message: `m${i}` }));

test('every event of a burst is posted once, beyond the 200 the status keeps for display', async () => {
  const { w, posts } = writer();
  const all = burst(1000);
  const status = { services: {}, pools: {}, events: all.slice(-200), newEvents: all };
  await w.write(status);
  await settle();
  assert.equal(posts.filter((p) => p.endsWith('IPAllocated')).length, 1000);
  assert.ok(posts.every((p) => p.startsWith('/api/v1/namespaces/apps/events ')), posts[0]);
  // The same status again (a retry, or a write with nothing new): nothing posted twice.
  await w.write({ ...status, newEvents: undefined });
  await w.write(status);
  await settle();
  assert.equal(posts.length, 1000);
});

test('a standby posts nothing, and nothing it saw once it leads', async () => {
  const { w, posts } = writer();
  w.active = false;
  const seen = burst(300, 'AllocationFailed');
  await w.write({ services: {}, pools: {}, events: seen.slice(-200), newEvents: seen });
  assert.equal(posts.length, 0);
  await w.resume();
  await settle();
  assert.equal(posts.length, 0);
  const later = burst(3, 'IPAllocated');
  await w.write({ services: {}, pools: {}, events: [...seen.slice(-197), ...later], newEvents: later });
  await settle();
  assert.equal(posts.length, 3);
});
