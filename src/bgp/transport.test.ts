// plainTransport (node:net): what the speaker falls back to without the addon.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { plainTransport } from './transport.ts';

/** Holds the JS thread (a long synchronous pass, as a 100,000-Service start's first plan). */
function stall(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) { /* the kernel completes the handshake meanwhile */ }
}

test('a connection that completed while our loop stalled past the connect deadline is a connection, not ETIMEDOUT', { timeout: 10000 }, async () => {
  const server = net.createServer((s) => s.on('error', () => undefined));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  try {
    const p = plainTransport.connect({ peerAddress: '127.0.0.1', peerPort: port, timeoutMs: 50 });
    await new Promise((r) => setImmediate(r)); // node:net issues connect() on the next tick
    stall(300);
    const s = await p;
    assert.equal(s.remotePort, port);
    s.destroy();
  } finally {
    server.close();
  }
});
