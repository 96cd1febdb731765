import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { nativeTransport } from './transport.ts';
import { loadNative } from './addon.ts';

// A listener made by the addon with an MD5 key for 127.0.0.1; it echoes one line back.
async function echoListener(host: string, md5Keys: { address: string; password: string }[], extra: { ttl?: number } = {}) {
  const accepted: net.Socket[] = [];
  const l = await nativeTransport.listen({ host, port: 0, md5Keys, ...extra }, (s) => {
    accepted.push(s);
    s.on('data', (d) => s.write(d));
    s.on('error', () => undefined);
  });
  return { l, accepted, port: l.address().port };
}

async function echo(s: net.Socket, text: string): Promise<string> {
  s.write(text);
  const [d] = (await once(s, 'data')) as [Buffer];
  return d.toString();
}

test('MD5: the connection succeeds only with the right key (IPv4)', { timeout: 15000 }, async () => {
  const { l, port, accepted } = await echoListener('127.0.0.1', [{ address: '127.0.0.1', password: 'right-key' }]);
  try {
    const ok = await nativeTransport.connect({ peerAddress: '127.0.0.1', peerPort: port, md5Password: 'right-key', timeoutMs: 2000 });
    assert.equal(await echo(ok, 'open'), 'open');
    ok.destroy();
    // The peer's segments are signed with a different key, or not at all: the SYN is dropped.
    await assert.rejects(nativeTransport.connect({ peerAddress: '127.0.0.1', peerPort: port, md5Password: 'wrong-key', timeoutMs: 800 }), { code: 'ETIMEDOUT' });
    await assert.rejects(nativeTransport.connect({ peerAddress: '127.0.0.1', peerPort: port, timeoutMs: 800 }), { code: 'ETIMEDOUT' });
    await assert.rejects(new Promise((resolve, reject) => { const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s)); s.setTimeout(800, () => { s.destroy(); reject(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })); }); s.on('error', reject); }), { code: 'ETIMEDOUT' });
    assert.equal(accepted.length, 1);
  } finally {
    for (const s of accepted) s.destroy();
    await l.close();
  }
});

test('MD5: keys change on a live listener, and IPv6 works the same', { timeout: 15000 }, async () => {
  const { l, port, accepted } = await echoListener('::1', []);
  try {
    const plain = await nativeTransport.connect({ peerAddress: '::1', peerPort: port, timeoutMs: 2000 });
    assert.equal(await echo(plain, 'a'), 'a');
    l.setMd5Key('::1', 'k6');
    // The established connection had no key when it was made, so it is now rejected by the
    // kernel too; only new connections matter here.
    plain.destroy();
    await assert.rejects(nativeTransport.connect({ peerAddress: '::1', peerPort: port, timeoutMs: 800 }), { code: 'ETIMEDOUT' });
    const keyed = await nativeTransport.connect({ peerAddress: '::1', peerPort: port, md5Password: 'k6', timeoutMs: 2000 });
    assert.equal(await echo(keyed, 'b'), 'b');
    keyed.destroy();
    l.setMd5Key('::1', undefined);
    l.setMd5Key('::1', undefined); // removing twice is harmless
    const again = await nativeTransport.connect({ peerAddress: '::1', peerPort: port, timeoutMs: 2000 });
    assert.equal(await echo(again, 'c'), 'c');
    again.destroy();
  } finally {
    for (const s of accepted) s.destroy();
    await l.close();
  }
});

test('TTL on the wire: a GTSM listener (minTtl 255) accepts TTL 255 and drops TTL 64', { timeout: 15000 }, async () => {
  const native = loadNative();
  const fd = native.tcpListen({ family: 4, address: '127.0.0.1', port: 0, minTtl: 255 });
  const server = net.createServer((s) => { s.on('data', (d) => s.write(d)); s.on('error', () => undefined); });
  await new Promise<void>((resolve) => server.listen({ fd }, resolve));
  const port = (server.address() as net.AddressInfo).port;
  try {
    assert.equal(native.getsockoptInt(fd, native.constants.IPPROTO_IP, native.constants.IP_MINTTL), 255);
    const hi = await nativeTransport.connect({ peerAddress: '127.0.0.1', peerPort: port, ttl: 255, localAddress: '127.0.0.3', timeoutMs: 2000 });
    assert.equal(hi.localAddress, '127.0.0.3');
    assert.equal(await echo(hi, 'x'), 'x');
    hi.destroy();
    await assert.rejects(nativeTransport.connect({ peerAddress: '127.0.0.1', peerPort: port, ttl: 64, timeoutMs: 800 }), { code: 'ETIMEDOUT' });
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test('connect errors: refused, bad address, bad device; no fd leaks', { timeout: 15000 }, async () => {
  const { readdirSync } = await import('node:fs');
  const fds = () => readdirSync('/proc/self/fd').length;
  const before = fds();
  for (let i = 0; i < 20; i++) {
    await assert.rejects(nativeTransport.connect({ peerAddress: '127.0.0.1', peerPort: 18013, timeoutMs: 2000 }), { code: 'ECONNREFUSED', syscall: 'connect' });
  }
  await assert.rejects(nativeTransport.connect({ peerAddress: 'not-an-ip', peerPort: 1, timeoutMs: 100 }), TypeError);
  await assert.rejects(nativeTransport.connect({ peerAddress: '127.0.0.1', peerPort: 18013, vrf: 'ilbn-novrf', timeoutMs: 100 }), { code: 'ENODEV' });
  await assert.rejects(nativeTransport.connect({ peerAddress: '127.0.0.1', peerPort: 18013, md5Password: 'x'.repeat(81), timeoutMs: 100 }), { code: 'EINVAL' });
  assert.equal(fds(), before);
});

test('a connection that completed while our loop stalled past the connect deadline is a connection, not ETIMEDOUT', { timeout: 15000 }, async () => {
  // libuv runs due timers before it polls: the addon's deadline asks the socket before it gives up.
  const { l, port } = await echoListener('127.0.0.1', []);
  try {
    const p = nativeTransport.connect({ peerAddress: '127.0.0.1', peerPort: port, timeoutMs: 50 });
    const end = Date.now() + 300;
    while (Date.now() < end) { /* the JS thread holds (a long synchronous pass); the kernel completes the handshake */ }
    const s = await p;
    assert.equal(await echo(s, 'up'), 'up');
    s.destroy();
  } finally {
    await l.close();
  }
});

test('setsockoptInt / getsockoptInt and the TTL a connected socket was given', { timeout: 15000 }, async () => {
  const native = loadNative();
  const { l, port, accepted } = await echoListener('127.0.0.1', [], { ttl: 7 });
  try {
    const fd = await new Promise<number>((resolve, reject) => native.tcpConnect({ family: 4, address: '127.0.0.1', port, ttl: 1 }, (e, f) => (e ? reject(e) : resolve(f!))));
    assert.equal(native.getsockoptInt(fd, native.constants.IPPROTO_IP, native.constants.IP_TTL), 1);
    native.setsockoptInt(fd, native.constants.IPPROTO_IP, native.constants.IP_TTL, 255);
    assert.equal(native.getsockoptInt(fd, native.constants.IPPROTO_IP, native.constants.IP_TTL), 255);
    native.closeFd(fd);
    assert.throws(() => native.getsockoptInt(-1, 0, 2), { code: 'EBADF' });
  } finally {
    for (const s of accepted) s.destroy();
    await l.close();
  }
});
