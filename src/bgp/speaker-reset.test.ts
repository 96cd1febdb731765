// resetPeer between two BgpSpeakers over loopback: Cease / BFD Down on the wire, the socket
// closed at once, a normal reconnect with the full table and End-of-RIB; and the hold-down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIp } from '../net/ip.ts';
import { parsePrefix } from '../net/prefix.ts';
import { BgpSpeaker, type NotificationEvent, type StateChangeEvent, type UpdateEvent } from './speaker.ts';
import { ReceivedRoutes } from './received-routes.ts';
import type { Route } from './route.ts';
import { until } from '../../test/fakes/until.ts';

const ip = (s: string) => parseIp(s)!;

/** a (AS 65001) connects to b's listener; b records what it receives. */
async function pair(port: number) {
  const b = new BgpSpeaker({ listen: { host: '127.0.0.1', port } });
  await b.start();
  const rx = new ReceivedRoutes();
  const notes: string[] = [];
  b.on('update', (e: UpdateEvent) => rx.apply(e.update));
  b.on('notification', (e: NotificationEvent) => notes.push(`${e.direction}:${e.code}/${e.subcode}:${e.text}`));
  const common = { holdTimeSeconds: 9, ebgpMultiHop: false, connectRetrySeconds: 1 };
  b.addPeer({ id: 'a', peerAddress: ip('127.0.0.1'), peerPort: 0, myAsn: 65002, peerAsn: 65001, routerId: ip('10.0.0.2'), passive: true, ...common });
  const a = new BgpSpeaker();
  const states: string[] = [];
  a.on('state', (e: StateChangeEvent) => states.push(e.to));
  a.addPeer({ id: 'b', peerAddress: ip('127.0.0.1'), peerPort: port, myAsn: 65001, peerAsn: 65002, routerId: ip('10.0.0.1'), ...common });
  const routes: Route[] = [];
  for (let i = 0; i < 200; i++) routes.push({ prefix: parsePrefix(`10.1.${i}.0/24`)!.prefix, attributes: { communities: [], med: i % 2 } });
  routes.push({ prefix: parsePrefix('2001:db8::/64')!.prefix, attributes: { communities: [] } });
  a.setRoutes('b', routes);
  await until(() => rx.routes.size === routes.length && rx.endOfRib.has(4) && rx.endOfRib.has(6), 'the first full table');
  return { a, b, rx, notes, states, routes, close: async () => { await a.close(); await b.close(); } };
}

test('resetPeer: Cease 6/10 at once, reconnect, full table and End-of-RIB resent', async () => {
  const p = await pair(17950);
  try {
    p.states.length = 0;
    const t0 = Date.now();
    p.a.resetPeer('b', { subcode: 10, message: 'BFD Down (ControlDetectionTimeExpired)' });
    // Synchronous: the session is gone before resetPeer returns; nothing waits to drain.
    assert.notEqual(p.a.peerState('b')!.state, 'Established');
    assert.equal(p.a.peerState('b')!.advertisedRoutes, 0);
    await until(() => p.notes.some((n) => n.startsWith('received:6/10:Cease / BFD Down')), 'b receives Cease / BFD Down');
    await until(() => p.b.peerState('a')!.state !== 'Established', 'b drops the session');
    const noticed = Date.now() - t0;
    p.rx.clear();
    await until(() => p.a.peerState('b')!.state === 'Established', 'a reconnects');
    const reconnected = Date.now() - t0;
    await until(() => p.rx.routes.size === p.routes.length && p.rx.endOfRib.has(4) && p.rx.endOfRib.has(6), 'full table and End-of-RIB again');
    assert.equal(p.a.peerState('b')!.desiredRoutes, p.routes.length, 'configuration and desired routes kept');
    assert.match(p.a.peerState('b')!.lastError ?? '', /BFD Down/);
    assert.deepEqual(p.states.slice(0, 2), ['Idle', 'Connect']);
    assert.ok(noticed < 1000, `b noticed after ${noticed} ms`);
    // After a session that worked, the first retry comes after 0.75..1 s (fsm.ts connectRetryDelayMs).
    assert.ok(reconnected >= 700 && reconnected < 4000, `reconnected after ${reconnected} ms`);
  } finally { await p.close(); }
});

test('resetPeer with holdDown: stays Idle (no reconnect) until releasePeer, then the full table', async () => {
  const p = await pair(17951);
  try {
    p.a.resetPeer('b', { subcode: 10, holdDown: true });
    await until(() => p.notes.some((n) => n.startsWith('received:6/10')), 'Cease / BFD Down at b');
    p.rx.clear();
    await new Promise((r) => setTimeout(r, 1800));
    assert.equal(p.a.peerState('b')!.state, 'Idle');
    assert.notEqual(p.b.peerState('a')!.state, 'Established');
    assert.equal(p.rx.routes.size, 0);
    p.a.releasePeer('b');
    await until(() => p.rx.routes.size === p.routes.length && p.rx.endOfRib.has(4) && p.rx.endOfRib.has(6), 'full table after release', 4000);
    assert.equal(p.a.peerState('b')!.state, 'Established');
  } finally { await p.close(); }
});

test('resetPeer of an unknown peer, or a peer without a session, is harmless', async () => {
  const s = new BgpSpeaker();
  try {
    s.resetPeer('nope', { subcode: 10 });
    s.addPeer({ id: 'p', peerAddress: ip('127.0.0.1'), peerPort: 17952, myAsn: 1, peerAsn: 2, routerId: ip('1.1.1.1'), holdTimeSeconds: 9, ebgpMultiHop: false, connectRetrySeconds: 1 });
    s.resetPeer('p', { subcode: 10 });
    s.releasePeer('p');
    assert.ok(s.peerState('p'));
  } finally { await s.close(); }
});
