// RFC 4271 §8 transitions of one connection, driven by events with no sockets or clocks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type FsmAction, type FsmConfig, ConnectionFsm, buildOpen, collisionLoser, connectRetryDelayMs, negotiate } from './fsm.ts';
import type { OpenMessage } from './open.ts';
import { BgpError } from './errors.ts';

const cfg: FsmConfig = { myAsn: 65001, peerAsn: 65002, routerId: 0x0a000001, holdTimeSeconds: 90, families: [4, 6], restarting: false, extendedMessage: true, addPathSend: false };
const peerCfg: FsmConfig = { ...cfg, myAsn: 65002, peerAsn: 65001, routerId: 0x0a000002, holdTimeSeconds: 30 };
const peerOpen = (over: Partial<OpenMessage> = {}): OpenMessage => ({ ...buildOpen(peerCfg), ...over });
const kinds = (as: FsmAction[]) => as.map((a) => (a.type === 'startTimer' ? `start:${a.timer}:${a.seconds}` : a.type === 'stopTimer' ? `stop:${a.timer}` : a.type === 'sendNotification' ? `notify:${a.code}/${a.subcode}` : a.type));

function established(c = cfg, open = peerOpen()): ConnectionFsm {
  const f = new ConnectionFsm(c);
  f.handle({ type: 'TcpConnectionConfirmed' });
  f.handle({ type: 'BGPOpen', open });
  f.handle({ type: 'KeepAliveMsg' });
  assert.equal(f.state, 'Established');
  return f;
}

test('Connect → OpenSent → OpenConfirm → Established with negotiated timers', () => {
  const f = new ConnectionFsm(cfg);
  assert.deepEqual(kinds(f.handle({ type: 'TcpConnectionConfirmed' })), ['sendOpen', 'start:hold:240']);
  assert.equal(f.state, 'OpenSent');
  assert.deepEqual(kinds(f.handle({ type: 'BGPOpen', open: peerOpen() })), ['sendKeepalive', 'start:hold:30', 'start:keepalive:10']);
  assert.equal(f.state, 'OpenConfirm');
  assert.deepEqual(kinds(f.handle({ type: 'KeepAliveMsg' })), ['start:hold:30', 'established']);
  assert.equal(f.state, 'Established');
  assert.deepEqual(kinds(f.handle({ type: 'UpdateMsg' })), ['start:hold:30']);
  assert.deepEqual(kinds(f.handle({ type: 'KeepaliveTimerExpires' })), ['sendKeepalive', 'start:keepalive:10']);
});

test('hold timer expiry sends NOTIFICATION 4 and drops', () => {
  const f = established();
  assert.deepEqual(kinds(f.handle({ type: 'HoldTimerExpires' })), ['notify:4/0', 'stop:hold', 'stop:keepalive', 'drop']);
  assert.equal(f.state, 'Idle');
  assert.deepEqual(f.handle({ type: 'KeepAliveMsg' }), []);
});

test('hold time 0: no hold timer, no keepalives', () => {
  const f = new ConnectionFsm({ ...cfg, holdTimeSeconds: 0 });
  f.handle({ type: 'TcpConnectionConfirmed' });
  assert.deepEqual(kinds(f.handle({ type: 'BGPOpen', open: peerOpen() })), ['sendKeepalive', 'stop:hold', 'stop:keepalive']);
  assert.deepEqual(kinds(f.handle({ type: 'KeepAliveMsg' })), ['established']);
  assert.equal(f.negotiated?.keepaliveTime, 0);
});

test('OPEN checks: bad peer AS, unacceptable hold time, bad identifier', () => {
  const run = (open: OpenMessage, c = cfg) => { const f = new ConnectionFsm(c); f.handle({ type: 'TcpConnectionConfirmed' }); return kinds(f.handle({ type: 'BGPOpen', open })); };
  assert.deepEqual(run(peerOpen({ myAs: 65009, capabilities: { ...peerOpen().capabilities, fourOctetAsn: 65009 } })).slice(0, 1), ['notify:2/2']);
  assert.deepEqual(run(peerOpen({ holdTime: 2 })).slice(0, 1), ['notify:2/6']);
  assert.deepEqual(run(peerOpen({ bgpId: 0 })).slice(0, 1), ['notify:2/3']);
  // iBGP with our own identifier.
  const ibgp = { ...cfg, peerAsn: 65001 };
  assert.deepEqual(run({ ...buildOpen({ ...cfg }), bgpId: cfg.routerId }, ibgp).slice(0, 1), ['notify:2/3']);
});

test('unexpected messages are FSM errors with RFC 6608 subcodes', () => {
  const f = new ConnectionFsm(cfg);
  f.handle({ type: 'TcpConnectionConfirmed' });
  assert.deepEqual(kinds(f.handle({ type: 'UpdateMsg' }))[0], 'notify:5/1');
  const g = new ConnectionFsm(cfg);
  g.handle({ type: 'TcpConnectionConfirmed' });
  g.handle({ type: 'BGPOpen', open: peerOpen() });
  assert.deepEqual(kinds(g.handle({ type: 'UpdateMsg' }))[0], 'notify:5/2');
  assert.deepEqual(kinds(established().handle({ type: 'BGPOpen', open: peerOpen() }))[0], 'notify:5/3');
});

test('NOTIFICATION received or TCP failure: drop without sending one', () => {
  assert.deepEqual(kinds(established().handle({ type: 'NotifMsg', notification: { code: 6, subcode: 2, data: Buffer.alloc(0) } })), ['stop:hold', 'stop:keepalive', 'drop']);
  assert.deepEqual(kinds(established().handle({ type: 'TcpConnectionFails', reason: 'reset' })), ['stop:hold', 'stop:keepalive', 'drop']);
  assert.deepEqual(kinds(established().handle({ type: 'ManualStop', subcode: 2 })), ['notify:6/2', 'stop:hold', 'stop:keepalive', 'drop']);
  assert.deepEqual(kinds(established().handle({ type: 'MessageError', error: new BgpError(3, 1) })), ['notify:3/1', 'stop:hold', 'stop:keepalive', 'drop']);
});

test('negotiation: families, 4-octet ASN, GR, extended message, ADD-PATH, keepalive', () => {
  const n = negotiate({ ...cfg, gracefulRestart: { restartTimeSeconds: 120 }, addPathSend: true, keepaliveSeconds: 3 }, peerOpen({ capabilities: { ...peerOpen().capabilities, multiprotocol: [{ afi: 1, safi: 1 }], addPath: [{ afi: 1, safi: 1, mode: 1 }], gracefulRestart: { restarting: false, notification: false, restartTimeSeconds: 60, families: [] } } }));
  assert.deepEqual([n.families, n.fourOctetAsn, n.gracefulRestart, n.extendedMessage, n.addPath, n.holdTime, n.keepaliveTime], [[4], true, true, true, [4], 30, 3]);
  // A peer with no MP capability speaks IPv4 only; with no 4-octet capability gets AS_TRANS.
  const old = negotiate(cfg, { version: 4, myAs: 65002, holdTime: 90, bgpId: 5, capabilities: { multiprotocol: [], routeRefresh: false, enhancedRouteRefresh: false, extendedMessage: false, addPath: [], unknown: [] } });
  assert.deepEqual([old.families, old.fourOctetAsn, old.extendedMessage], [[4], false, false]);
  // RFC 6793: our 4-octet ASN towards a 2-octet-only peer is no error; the peer knows us as AS_TRANS.
  const toOld = negotiate({ ...cfg, myAsn: 4200000000 }, { version: 4, myAs: 65002, holdTime: 90, bgpId: 5, capabilities: { multiprotocol: [], routeRefresh: false, enhancedRouteRefresh: false, extendedMessage: false, addPath: [], unknown: [] } });
  assert.equal(toOld.fourOctetAsn, false);
});

test('our OPEN: AS_TRANS, GR with R and F bits on restart', () => {
  const o = buildOpen({ ...cfg, myAsn: 4200000000, gracefulRestart: { restartTimeSeconds: 120 }, restarting: true });
  assert.equal(o.myAs, 23456);
  assert.equal(o.capabilities.fourOctetAsn, 4200000000);
  assert.deepEqual(o.capabilities.gracefulRestart, { restarting: true, notification: false, restartTimeSeconds: 120, families: [{ afi: 1, safi: 1, forwardingState: true }, { afi: 2, safi: 1, forwardingState: true }] });
});

test('collision: the connection initiated by the higher BGP identifier survives', () => {
  assert.equal(collisionLoser(0x0a000001, 0x0a000002), 'locally-initiated');
  assert.equal(collisionLoser(0x0a000002, 0x0a000001), 'remotely-initiated');
  // Unsigned comparison: 200.0.0.1 > 10.0.0.1.
  assert.equal(collisionLoser(0xc8000001 | 0, 0x0a000001), 'remotely-initiated');
  // Equal identifiers: the larger AS number wins (RFC 6286).
  assert.equal(collisionLoser(5, 5, 65001, 65002), 'locally-initiated');
  assert.equal(collisionLoser(5, 5, 65002, 65001), 'remotely-initiated');
});

test('connect-retry backoff doubles and is capped, with jitter', () => {
  assert.equal(connectRetryDelayMs(5, 0, 1), 1000);
  assert.equal(connectRetryDelayMs(5, 1, 1), 5000);
  assert.equal(connectRetryDelayMs(5, 3, 1), 20000);
  assert.equal(connectRetryDelayMs(5, 20, 1), 120000);
  assert.equal(connectRetryDelayMs(5, 1, 0), 3750);
});

test('dynamicAsn: internal takes our own AS, external any other; the wrong kind is Bad Peer AS', () => {
  const open = (asn: number) => ({ ...buildOpen({ ...peerCfg, myAsn: asn }) });
  const run = (c: FsmConfig, o: OpenMessage) => { const f = new ConnectionFsm(c); f.handle({ type: 'TcpConnectionConfirmed' }); return { f, k: kinds(f.handle({ type: 'BGPOpen', open: o })) }; };
  const { peerAsn: _unused, ...noAsn } = cfg;
  const internal: FsmConfig = { ...noAsn, dynamicAsn: 'internal' };
  const external: FsmConfig = { ...noAsn, dynamicAsn: 'external' };
  assert.equal(run(internal, open(65001)).f.state, 'OpenConfirm');
  assert.deepEqual(run(internal, open(65002)).k.slice(0, 1), ['notify:2/2']);
  assert.equal(run(external, open(65002)).f.state, 'OpenConfirm');
  assert.equal(run(external, open(4200000000)).f.state, 'OpenConfirm', 'a 4-octet external AS');
  assert.deepEqual(run(external, open(65001)).k.slice(0, 1), ['notify:2/2']);
  // The error data is the peer's 2-octet My AS field (RFC 4271 §6.2).
  const f = new ConnectionFsm(external);
  f.handle({ type: 'TcpConnectionConfirmed' });
  const n = f.handle({ type: 'BGPOpen', open: open(65001) }).find((a) => a.type === 'sendNotification');
  assert.deepEqual(n?.type === 'sendNotification' ? [...n.data] : [], [0xfd, 0xe9]);
  // iBGP by dynamicAsn: our own identifier from the peer is refused as for a configured iBGP peer.
  assert.deepEqual(run(internal, { ...open(65001), bgpId: cfg.routerId }).k.slice(0, 1), ['notify:2/3']);
  assert.equal(run(internal, open(65001)).f.negotiated?.peerOpen.capabilities.fourOctetAsn, 65001);
});
