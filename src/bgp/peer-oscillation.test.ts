// A peer that refuses our UPDATE (NOTIFICATION 3/x) is not flapped every second: the reconnect
// delay grows (RFC 4271 DampPeerOscillations), the refused prefixes and attributes are reported,
// and a change of the routes tries again at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIp } from '../net/ip.ts';
import { parsePrefix } from '../net/prefix.ts';
import { ScriptedBgpPeer } from '../../test/fakes/scripted-bgp-peer.ts';
import { until } from '../../test/fakes/until.ts';
import { BgpSpeaker, type RefusedUpdateEvent } from './speaker.ts';
import type { Route } from './route.ts';
import { AttrType } from './attributes.ts';
import { buildOpen, idleHoldDelayMs } from './fsm.ts';
import { connect } from 'node:net';
import { MessageFramer } from './framing.ts';
import { KEEPALIVE } from './keepalive.ts';
import { encodeNotification } from './notification.ts';
import { encodeOpen } from './open.ts';

const ip = (s: string) => parseIp(s)!;
const route = (p: string, med?: number): Route => ({ prefix: parsePrefix(p)!.prefix, attributes: { communities: [], ...(med !== undefined ? { med } : {}) } });


test('idle hold: 1 s after a stable session, then 2, 4, 8 … s per flap, capped at 120 s', () => {
  assert.deepEqual([0, 1, 2, 3, 7, 8, 30].map((f) => idleHoldDelayMs(f, 1)), [1000, 2000, 4000, 8000, 120000, 120000, 120000]);
  assert.equal(idleHoldDelayMs(2, 0), 3000);
});

/** A strict peer that refuses every UPDATE carrying MED 666; with `withData` it names the MED attribute. */
async function strictPeer(withData: boolean) {
  const peer = new ScriptedBgpPeer({
    asn: 65002, fourOctetAsn: true, routerId: 0x0a000002,
    onUpdate: (u) => (u.attributes.med === 666 ? { code: 3, subcode: withData ? 5 : 11, data: withData ? Buffer.from([0x80, AttrType.Med, 4, 0, 0, 2, 154]) : Buffer.alloc(0) } : undefined),
  });
  const port = await peer.listen('127.0.0.1');
  const speaker = new BgpSpeaker({ random: () => 1 });
  const refused: RefusedUpdateEvent[] = [];
  speaker.on('refused', (e: RefusedUpdateEvent) => refused.push(e));
  speaker.addPeer({ id: 'strict', peerAddress: ip('127.0.0.1'), peerPort: port, myAsn: 65001, peerAsn: 65002, routerId: ip('10.0.0.1'), holdTimeSeconds: 30, ebgpMultiHop: false, connectRetrySeconds: 1 });
  return { peer, speaker, refused, close: async () => { await speaker.close(); await peer.close(); } };
}

test('a peer that keeps refusing an UPDATE is reconnected ever more rarely, and told what it refused', { timeout: 30000 }, async () => {
  const p = await strictPeer(false);
  try {
    p.speaker.setRoutes('strict', [route('192.0.2.1/32'), route('203.0.113.7/32', 666), route('203.0.113.8/32', 666)]);
    await until(() => p.peer.connections.length >= 3 && p.refused.length >= 3, 'three refusals', 15000);
    const [t0, t1, t2] = p.peer.connections as [number, number, number];
    // Jitter off (random 1): 2 s after the first refusal, 4 s after the second; never every second.
    // (Lower bounds only: a loaded machine can make a reconnect late, never early.)
    assert.ok(t1 - t0 >= 1900, `first wait ${t1 - t0} ms`);
    assert.ok(t2 - t1 >= 3900, `second wait ${t2 - t1} ms`);
    assert.deepEqual(p.refused.map((e) => [e.flaps, e.retryInMs !== undefined && e.retryInMs > 0]), [[1, true], [2, true], [3, true]]);
    const r = p.refused[0]!.refused;
    assert.equal(r.notification, 'UPDATE Message Error / Malformed AS_PATH');
    // No data in the NOTIFICATION: both attribute sets of what was sent are suspects, in send order.
    assert.equal(r.certain, false);
    const bad = r.sets.find((s) => s.attributes.includes('med 666'));
    assert.deepEqual(bad?.prefixes, ['203.0.113.7/32', '203.0.113.8/32']);
    assert.match(bad.attributes, /^as-path 65001, next-hop 127\.0\.0\.1, med 666$/);
    const st = p.speaker.peerState('strict')!;
    assert.equal(st.flaps, 3);
    assert.ok(st.refusedUpdate && st.retryInMs !== undefined && st.retryInMs > 0, 'status shows the refusal and the wait');
    // The advertisement is fixed: the peer is asked again at once, not after the 8 s hold.
    const before = p.peer.connections.length;
    const fixedAt = Date.now();
    p.speaker.setRoutes('strict', [route('192.0.2.1/32'), route('203.0.113.7/32', 5)]);
    await until(() => p.speaker.peerState('strict')?.state === 'Established', 'Established after the fix', 4000);
    assert.equal(p.peer.connections.length, before + 1);
    assert.ok(Date.now() - fixedAt < 2000);
  } finally { await p.close(); }
});

test('a NOTIFICATION whose data is our attribute pins down the refused UPDATE', { timeout: 15000 }, async () => {
  const p = await strictPeer(true);
  try {
    p.speaker.setRoutes('strict', [route('192.0.2.1/32'), route('203.0.113.7/32', 666)]);
    await until(() => p.refused.length >= 1, 'a refusal');
    const r = p.refused[0]!.refused;
    assert.equal(r.certain, true);
    assert.deepEqual(r.sets.map((s) => s.prefixes), [['203.0.113.7/32']]);
  } finally { await p.close(); }
});

test('a passive peer that keeps refusing and reconnecting at once is refused during the idle hold', { timeout: 20000 }, async () => {
  const speaker = new BgpSpeaker({ listen: { host: '127.0.0.1', port: 0 }, random: () => 1 });
  await speaker.start();
  const port = speaker.listenAddress()!.port;
  speaker.addPeer({ id: 'in', peerAddress: ip('127.0.0.6'), peerPort: 0, myAsn: 65001, peerAsn: 65002, routerId: ip('10.0.0.1'), holdTimeSeconds: 30, ebgpMultiHop: false, passive: true });
  speaker.setRoutes('in', [route('192.0.2.9/32')]);
  const refused: RefusedUpdateEvent[] = [];
  speaker.on('refused', (e: RefusedUpdateEvent) => refused.push(e));
  let sessions = 0;
  // The remote end: connect, OPEN, refuse the first UPDATE with 3/11, reconnect 50 ms later.
  const attempt = () => new Promise<void>((resolve) => {
    const s = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.6' });
    const framer = new MessageFramer();
    framer.maxLength = 65535;
    s.on('connect', () => { s.write(encodeOpen(buildOpen({ myAsn: 65002, routerId: 0x0a000006, holdTimeSeconds: 30, families: [4], restarting: false, extendedMessage: false, addPathSend: false }))); s.write(KEEPALIVE); });
    s.on('data', (c: Buffer) => {
      framer.push(c);
      for (let m = framer.next(); m; m = framer.next()) {
        if (m.type === 1) sessions++;
        if (m.type === 2 && m.body.length > 4) s.end(encodeNotification({ code: 3, subcode: 11, data: Buffer.alloc(0) }));
      }
    });
    s.on('error', () => undefined);
    s.on('close', () => resolve());
  });
  try {
    // Flap 1 (2 s hold, not enforced yet), flap 2 (4 s hold, enforced from here on).
    const deadline = Date.now() + 10000;
    while (refused.length < 2 && Date.now() < deadline) { await attempt(); await new Promise((r) => setTimeout(r, 50)); }
    assert.equal(refused.length, 2, 'two refusals');
    assert.ok(refused[1]!.retryInMs! > 3000, 'the refusal reports the idle hold');
    // Reconnecting at once for the next 2 s: every connection is turned away before an OPEN.
    const before = sessions;
    const end = Date.now() + 2000;
    while (Date.now() < end) { await attempt(); await new Promise((r) => setTimeout(r, 50)); }
    assert.equal(sessions, before, 'no session during the idle hold');
  } finally { await speaker.close(); }
});
