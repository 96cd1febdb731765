import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { openTtlUdpSocket, type TtlRemoteInfo } from './udp.ts';

async function roundTrip(family: 4 | 6, address: string, ttl: number | undefined): Promise<{ msg: Buffer; rinfo: TtlRemoteInfo; from: number }> {
  const rx = await openTtlUdpSocket({ family, localAddress: address });
  const tx = await openTtlUdpSocket({ family, localAddress: address, ...(ttl !== undefined ? { ttl } : {}) });
  try {
    const got = once(rx, 'message') as Promise<[Buffer, TtlRemoteInfo]>;
    tx.send(Buffer.from('hello bfd'), rx.address().port, address);
    const [msg, rinfo] = await got;
    return { msg, rinfo, from: tx.address().port };
  } finally {
    rx.close();
    tx.close();
  }
}

test('IPv4: the TTL a datagram was sent with is reported on receipt (255 and the default 64)', { timeout: 5000 }, async () => {
  const a = await roundTrip(4, '127.0.0.1', 255);
  assert.equal(a.msg.toString(), 'hello bfd');
  assert.deepEqual(a.rinfo, { address: '127.0.0.1', port: a.from, family: 4, ttl: 255 });
  const b = await roundTrip(4, '127.0.0.1', undefined);
  assert.equal(b.rinfo.ttl, 64);
  const c = await roundTrip(4, '127.0.0.1', 1);
  assert.equal(c.rinfo.ttl, 1);
});

test('IPv6: the hop limit is reported on receipt', { timeout: 5000 }, async () => {
  const a = await roundTrip(6, '::1', 255);
  assert.deepEqual(a.rinfo, { address: '::1', port: a.from, family: 6, ttl: 255 });
  const b = await roundTrip(6, '::1', 17);
  assert.equal(b.rinfo.ttl, 17);
});

test('binding to a fixed port, reuseAddress, and the errors of a taken port and a closed socket', { timeout: 5000 }, async () => {
  const a = await openTtlUdpSocket({ family: 4, localAddress: '127.0.0.1', localPort: 18011 });
  try {
    assert.deepEqual(a.address(), { address: '127.0.0.1', port: 18011 });
    await assert.rejects(openTtlUdpSocket({ family: 4, localAddress: '127.0.0.1', localPort: 18011 }), { code: 'EADDRINUSE' });
  } finally {
    a.close();
  }
  assert.throws(() => a.send(Buffer.from('x'), 1, '127.0.0.1'), /closed/);
  const r1 = await openTtlUdpSocket({ family: 4, localAddress: '127.0.0.1', localPort: 18012, reuseAddress: true });
  const r2 = await openTtlUdpSocket({ family: 4, localAddress: '127.0.0.1', localPort: 18012, reuseAddress: true });
  r1.close();
  r2.close();
});

test('a send that fails is reported as an error event, not a throw', { timeout: 5000 }, async () => {
  const s = await openTtlUdpSocket({ family: 4, localAddress: '127.0.0.1' });
  try {
    const err = once(s, 'error');
    s.send(Buffer.from('x'), 0, '127.0.0.1'); // port 0: EINVAL
    const [e] = (await err) as [NodeJS.ErrnoException];
    assert.equal(e.syscall, 'sendto');
    assert.match(String(e.code), /^E[A-Z]+$/);
  } finally {
    s.close();
  }
});

test('many datagrams arrive in order, each with its TTL', { timeout: 5000 }, async () => {
  const rx = await openTtlUdpSocket({ family: 4, localAddress: '127.0.0.1' });
  const tx = await openTtlUdpSocket({ family: 4, localAddress: '127.0.0.1', ttl: 254 });
  const seen: number[] = [];
  const done = new Promise<void>((resolve) => rx.on('message', (m: Buffer, r: TtlRemoteInfo) => {
    assert.equal(r.ttl, 254);
    seen.push(m.readUInt32BE(0));
    if (seen.length === 200) resolve();
  }));
  for (let i = 0; i < 200; i++) { const b = Buffer.alloc(4); b.writeUInt32BE(i); tx.send(b, rx.address().port, '127.0.0.1'); }
  await done;
  assert.deepEqual(seen, [...Array(200).keys()]);
  rx.close();
  tx.close();
});
