// Real sockets on loopback: two managers bring a session Up through each transport, and the native
// one enforces GTSM. Non-standard ports so nothing collides with a BFD daemon on this host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { BfdManager } from './manager.ts';
import { Diag, SessionState, encodeControl } from './packet.ts';
import { defaultBfdProfile } from './profile.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function upPair(transport: 'native' | 'dgram', base: number) {
  const a = new BfdManager({ transport, damping: false, singleHopPort: base, peerSingleHopPort: base + 1 });
  const b = new BfdManager({ transport, damping: false, singleHopPort: base + 1, peerSingleHopPort: base });
  const profile = defaultBfdProfile('lo', { transmitIntervalMs: 50, receiveIntervalMs: 50 });
  await a.addSession({ id: 'x', peerAddress: '127.0.0.2', localAddress: '127.0.0.1', multihop: false, profile });
  await b.addSession({ id: 'y', peerAddress: '127.0.0.1', localAddress: '127.0.0.2', multihop: false, profile });
  for (let i = 0; i < 60 && !(a.sessionState('x')?.state === 'Up' && b.sessionState('y')?.state === 'Up'); i++) await sleep(100);
  return { a, b };
}

test('native transport: Up over loopback with received TTLs checked; a TTL-64 packet is discarded', async () => {
  const { a, b } = await upPair('native', 47841);
  try {
    assert.equal(a.sessionState('x')!.state, 'Up');
    assert.deepEqual(await a.transportInfo(), { name: 'native', receivedTtl: true });
    assert.equal(a.sessionState('x')!.ttlChecked, true);
    const st = a.sessionState('x')!;
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind({ address: '127.0.0.2', port: 0 }, r));
    s.setTTL(64);
    const pkt = encodeControl({ diag: Diag.None, state: SessionState.AdminDown, poll: false, final: false, controlPlaneIndependent: false, demand: false,
      detectMult: 3, myDiscriminator: st.remoteDiscriminator, yourDiscriminator: st.localDiscriminator, desiredMinTxUs: 1e6, requiredMinRxUs: 1e6, requiredMinEchoRxUs: 0 });
    await new Promise<void>((r) => s.send(pkt, 47841, '127.0.0.1', () => r()));
    s.close();
    await sleep(100);
    assert.equal(a.discardCounts()['ttl'], 1);
    assert.equal(a.sessionState('x')!.state, 'Up');
  } finally {
    await a.close(); await b.close();
  }
});

test('dgram fallback (explicit): Up over loopback, and it says it cannot check TTLs', async () => {
  const { a, b } = await upPair('dgram', 47843);
  try {
    assert.equal(a.sessionState('x')!.state, 'Up');
    assert.equal(b.sessionState('y')!.state, 'Up');
    assert.deepEqual(await a.transportInfo(), { name: 'dgram', receivedTtl: false });
    assert.equal(a.sessionState('x')!.ttlChecked, false);
  } finally {
    await a.close(); await b.close();
  }
});
