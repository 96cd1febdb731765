import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import perfHooks from 'node:perf_hooks';
import { eventLoopSampleMs, Metrics } from './metrics.ts';
import { serveObserve } from './http.ts';

describe('observe', () => {
  it('serves MetalLB-named metrics per instance over HTTP', async () => {
    const a = new Metrics();
    const b = new Metrics();
    a.bgpSessionUp.set({ peer: '10.0.0.1' }, 1);
    a.addressesInUse.set({ pool: 'blue' }, 3);
    const server = await serveObserve(a, { host: '127.0.0.1', port: 0 }, () => ({ role: 'test' }));
    try {
      const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      assert.match(text, /metallb_bgp_session_up\{peer="10\.0\.0\.1"\} 1/);
      assert.match(text, /metallb_allocator_addresses_in_use_total\{pool="blue"\} 3/);
      assert.deepEqual(await (await fetch(`http://127.0.0.1:${server.port}/status`)).json(), { role: 'test' });
      assert.equal((await fetch(`http://127.0.0.1:${server.port}/nope`)).status, 404);
    } finally {
      await server.close();
    }
    assert.doesNotMatch(await b.registry.metrics(), /10\.0\.0\.1/, 'registries are per instance');
  });

  it('process metrics sample the event loop every 100 ms, not every 10 ms (an idle daemon is not woken 100 times a second)', async () => {
    const monitor = mock.method(perfHooks, 'monitorEventLoopDelay');
    try {
      const m = new Metrics({ processMetrics: true });
      const resolutions = monitor.mock.calls.map((c) => c.arguments[0]?.resolution);
      assert.deepEqual(resolutions, [eventLoopSampleMs]);
      assert.equal(eventLoopSampleMs, 100);
      // The same metrics as before.
      const text = await m.registry.metrics();
      for (const name of ['nodejs_eventloop_lag_seconds', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_eventloop_lag_max_seconds', 'process_cpu_seconds_total', 'nodejs_heap_size_used_bytes']) {
        assert.match(text, new RegExp(`^${name} `, 'm'), name);
      }
    } finally {
      monitor.mock.restore();
    }
  });
});
