import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Metrics } from './metrics.ts';
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
});
