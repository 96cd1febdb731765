// The controller's write queue and status writer against fake API calls: the bound on requests in
// flight holds, one object is never written twice at once, a newer job replaces a waiting one,
// status goes before annotations before Events, a failed write comes back (with the newest
// value) until it succeeds, a 429 pauses everything for its Retry-After, and a cluster of
// thousands of Services costs one request per needed write and none when nothing changed.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ControllerStatus } from '../store.ts';
import { ControllerStatusWriter } from './controller-writer.ts';
import { type Json, KubeApiError, type KubeClient } from './kube-client.ts';
import { WriteQueue } from './write-queue.ts';

const apiError = (code: number, retryAfterSeconds?: number) => new KubeApiError(code, 'X', 'x', 'PATCH', '/x', retryAfterSeconds);

describe('WriteQueue', () => {
  test('at most `concurrency` in flight, one per key, newest job per key wins', async () => {
    const q = new WriteQueue({ concurrency: 4 });
    let inFlight = 0;
    let peak = 0;
    const perKey = new Map<string, number>();
    const ran: string[] = [];
    const job = (key: string, value: string) => async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      perKey.set(key, (perKey.get(key) ?? 0) + 1);
      assert.equal(perKey.get(key), 1, `two writes of ${key} at once`);
      await sleep(2);
      perKey.set(key, perKey.get(key)! - 1);
      inFlight--;
      ran.push(`${key}=${value}`);
    };
    for (let i = 0; i < 40; i++) void q.enqueue(`k${i % 10}`, 0, job(`k${i % 10}`, String(i)));
    await q.idle();
    assert.ok(peak <= 4 && peak >= 2, `peak ${peak}`);
    // Each key's last value was written, and written last.
    for (let k = 0; k < 10; k++) {
      const mine = ran.filter((r) => r.startsWith(`k${k}=`));
      assert.equal(mine.at(-1), `k${k}=${30 + k}`);
      assert.ok(mine.length <= 2, `k${k} written ${mine.length} times: ${mine.join(' ')}`);
    }
  });

  test('lower priority numbers run first; a failed job is retried until it succeeds, 404 is dropped', async () => {
    const q = new WriteQueue({ concurrency: 1, minBackoffMs: 5 });
    const ran: string[] = [];
    let failures = 3;
    void q.enqueue('event/1', 3, async () => { ran.push('event'); });
    void q.enqueue('pool/a', 1, async () => { ran.push('pool'); });
    void q.enqueue('ingress/a', 0, async () => {
      ran.push('ingress');
      if (failures-- > 0) throw apiError(500);
    });
    void q.enqueue('ingress/gone', 0, async () => { ran.push('gone'); throw apiError(404); });
    await q.idle();
    // The first job started at once; the rest by priority; the failing one came back 3 times.
    assert.deepEqual(ran.slice(0, 4), ['event', 'ingress', 'gone', 'pool']);
    assert.equal(ran.filter((r) => r === 'ingress').length, 4);
    assert.equal(ran.filter((r) => r === 'gone').length, 1);
    assert.deepEqual({ failures: q.stats.failures, retries: q.stats.retries }, { failures: 4, retries: 3 });
  });

  test('a 429 pauses every write for its Retry-After; a job given maxAttempts stops there', async () => {
    const q = new WriteQueue({ concurrency: 8, minBackoffMs: 5 });
    const times: number[] = [];
    let throttled = false;
    const t0 = Date.now();
    void q.enqueue('a', 0, async () => {
      if (!throttled) { throttled = true; throw apiError(429, 0.2); }
      times.push(Date.now() - t0);
    });
    await sleep(20);
    void q.enqueue('b', 0, async () => { times.push(Date.now() - t0); });
    let tries = 0;
    void q.enqueue('event/1', 3, async () => { tries++; throw apiError(500); }, { maxAttempts: 3 });
    await q.idle();
    assert.equal(times.length, 2);
    assert.ok(Math.min(...times) >= 190, `a write ran ${Math.min(...times)} ms after a 429 asking for 200`);
    assert.equal(tries, 3);
  });
});

function fakeApi(n: number) {
  const services = new Map<string, Json>();
  for (let i = 0; i < n; i++) {
    services.set(`apps/s${i}`, { metadata: { namespace: 'apps', name: `s${i}`, resourceVersion: '1' }, spec: { type: 'LoadBalancer' }, status: {} });
  }
  const calls = { PATCH: 0, POST: 0 };
  let failNext = 0;
  let inFlight = 0;
  let peak = 0;
  // Writes land in the cache, as the watch would bring them back, after a delay.
  const client = {
    request: async (method: 'PATCH' | 'POST', path: string, o: { body: Json }) => {
      calls[method]++;
      inFlight++;
      peak = Math.max(peak, inFlight);
      await sleep(1);
      inFlight--;
      if (failNext > 0) { failNext--; throw apiError(500); }
      const m = /namespaces\/(\w+)\/services\/(\w+)(\/status)?$/.exec(path);
      if (m) {
        const key = `${m[1]}/${m[2]}`;
        const old = services.get(key)!;
        const meta = old.metadata as Json;
        const body = o.body as { status?: Json; metadata?: { annotations: Record<string, string | null> } };
        const annotations = { ...(meta.annotations as Record<string, string>) };
        for (const [k, v] of Object.entries(body.metadata?.annotations ?? {})) if (v === null) delete annotations[k]; else annotations[k] = v;
        services.set(key, { ...old, metadata: { ...meta, annotations, resourceVersion: String(Number(meta.resourceVersion) + 1) }, ...(m[3] ? { status: body.status } : {}) });
      }
      return {};
    },
  } as unknown as KubeClient;
  return { services, calls, client, failWrites: (k: number) => { failNext = k; }, peak: () => peak };
}

const allocated = (n: number, ip = (i: number) => `10.0.${i >> 8}.${i & 255}`): ControllerStatus => {
  const services: Record<string, { ips: string[]; pool: string }> = {};
  for (let i = 0; i < n; i++) services[`apps/s${i}`] = { ips: [ip(i)], pool: 'big' };
  return { services, pools: {}, events: [] };
};

describe('ControllerStatusWriter write counts', () => {
  test('3000 Services: one status and one annotation write each, none when repeated, failures retried', async () => {
    const api = fakeApi(3000);
    const w = new ControllerStatusWriter({ client: api.client, namespace: 'metallb-system', services: () => api.services, pools: () => new Map(), concurrency: 16, retryMs: 5 });
    api.failWrites(50);
    const s = allocated(3000);
    await w.write(s);
    await w.idle();
    assert.equal(api.calls.PATCH, 6000 + 50, 'one write per status and annotation, plus the 50 that failed');
    assert.ok(api.peak() <= 16, `peak in flight ${api.peak()}`);
    for (const svc of api.services.values()) {
      assert.equal(((svc.status as Json).loadBalancer as { ingress: { ip: string }[] }).ingress.length, 1);
      assert.equal((svc.metadata as { annotations: Record<string, string> }).annotations['metallb.io/ip-allocated-from-pool'], 'big');
    }
    // The same status again, and again with the cache caught up: no request at all.
    await w.write(s);
    await w.write({ ...s });
    await w.idle();
    assert.equal(api.calls.PATCH, 6050);
    // One Service moves: one status write; its pool is the same, so no annotation write.
    const moved = { ...s, services: { ...s.services, 'apps/s7': { ips: ['10.9.9.9'], pool: 'big' } } };
    await w.write(moved);
    await w.idle();
    assert.equal(api.calls.PATCH, 6051);
    // With the controller's hint, only the changed Services and those the watch saw change are
    // looked at: someone wipes s9's status (the watch reports it), s8 moves.
    const s9 = api.services.get('apps/s9')!;
    api.services.set('apps/s9', { ...s9, status: {} });
    w.touched('apps/s9');
    const moved2 = { ...moved, services: { ...moved.services, 'apps/s8': { ips: ['10.9.9.8'], pool: 'big' } } };
    await w.write(moved2, new Set(['apps/s8']));
    await w.idle();
    assert.equal(api.calls.PATCH, 6053);
    assert.equal(((api.services.get('apps/s9')!.status as Json).loadBalancer as { ingress: { ip: string }[] }).ingress[0]!.ip, '10.0.0.9');
    w.close();
  });

  test('a write waiting for its turn writes the newest IPs, never a stale one', async () => {
    const api = fakeApi(200);
    const w = new ControllerStatusWriter({ client: api.client, namespace: 'metallb-system', services: () => api.services, pools: () => new Map(), concurrency: 1 });
    void w.write(allocated(200));
    await w.write(allocated(200, (i) => `10.5.0.${i}`));
    await w.idle();
    for (const [, svc] of api.services) assert.match(((svc.status as Json).loadBalancer as { ingress: { ip: string }[] }).ingress[0]!.ip, /^10\.5\.0\./);
    assert.ok(api.calls.PATCH <= 402, `${api.calls.PATCH} patches`);
    w.close();
  });
});
