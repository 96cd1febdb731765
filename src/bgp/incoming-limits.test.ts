// What a listener does against floods: refused connections are logged once a minute per address,
// a configured peer gets at most MAX_CONNECTIONS_PER_PEER connections at once, and a connect
// that times out towards an MD5 peer says that a key mismatch looks exactly like this.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type AddressInfo, type Socket, connect, createServer } from 'node:net';
import { parseIp } from '../net/ip.ts';
import { until } from '../../test/fakes/until.ts';
import { BgpSpeaker } from './speaker.ts';
import { LogLimiter } from './log-limiter.ts';
import { MAX_CONNECTIONS_PER_PEER, MD5_TIMEOUT_HINT } from './peer.ts';
import type { BgpTransport } from './transport.ts';

const ip = (s: string) => parseIp(s)!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function recorder() {
  const lines: { level: string; msg: string; obj: Record<string, unknown> }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => { lines.push({ level, msg: msg ?? '', obj: obj as Record<string, unknown> }); };
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn') } };
}

/** Opens n connections from `from` and resolves with the sockets once each is connected or closed. */
async function open(n: number, port: number, from: string): Promise<{ sockets: Socket[]; closed: () => number }> {
  const sockets: Socket[] = [];
  let closed = 0;
  await Promise.all(Array.from({ length: n }, () => new Promise<void>((resolve) => {
    const s = connect({ host: '127.0.0.1', port, localAddress: from }, () => resolve());
    s.on('error', () => resolve());
    s.on('close', () => { closed++; resolve(); });
    sockets.push(s);
  })));
  return { sockets, closed: () => closed };
}

test('LogLimiter: the first per key, then one per interval with the count left out', () => {
  let now = 0;
  const l = new LogLimiter({ now: () => now }, 60_000);
  assert.deepEqual(l.allow('a'), { suppressed: 0 });
  assert.equal(l.allow('a'), undefined);
  assert.equal(l.allow('a'), undefined);
  assert.deepEqual(l.allow('b'), { suppressed: 0 });
  now = 60_000;
  assert.deepEqual(l.allow('a'), { suppressed: 2 });
});

test('connections from an address that is no peer: refused, logged once a minute', async () => {
  const { lines, logger } = recorder();
  const speaker = new BgpSpeaker({ listen: { host: '127.0.0.1', port: 0 }, logger });
  await speaker.start();
  const port = speaker.listenAddress()!.port;
  try {
    const c = await open(20, port, '127.0.0.2');
    await until(() => c.closed() === 20, 'every connection closed');
    assert.equal(lines.filter((l) => l.msg.startsWith('refused BGP connection')).length, 1);
    for (const s of c.sockets) s.destroy();
  } finally { await speaker.close(); }
});

test(`a configured peer gets at most ${MAX_CONNECTIONS_PER_PEER} connections at once`, async () => {
  const { lines, logger } = recorder();
  const speaker = new BgpSpeaker({ listen: { host: '127.0.0.1', port: 0 }, logger });
  await speaker.start();
  const port = speaker.listenAddress()!.port;
  speaker.addPeer({ id: 'p', peerAddress: ip('127.0.0.3'), peerPort: 0, myAsn: 65001, peerAsn: 65002, routerId: ip('10.0.0.1'), holdTimeSeconds: 30, ebgpMultiHop: false, passive: true });
  try {
    const c = await open(12, port, '127.0.0.3');
    await until(() => c.closed() >= 12 - MAX_CONNECTIONS_PER_PEER, 'the connections over the cap closed');
    await sleep(200);
    assert.equal(12 - c.closed(), MAX_CONNECTIONS_PER_PEER, 'the rest stay open');
    assert.equal(lines.filter((l) => l.level === 'warn' && l.msg.includes('already has')).length, 1, 'one warning for the lot');
    for (const s of c.sockets) s.destroy();
  } finally { await speaker.close(); }
});

test('an MD5 peer that never answers: the state, status and a warning say a key mismatch looks like this', async () => {
  const { lines, logger } = recorder();
  // A transport whose SYNs go unanswered, as when the peer's kernel drops a wrong MD5 signature.
  const silent: BgpTransport = {
    connect: (o) => new Promise((_resolve, reject) => setTimeout(() => reject(Object.assign(new Error(`connect to ${o.peerAddress}:${o.peerPort} timed out after ${o.timeoutMs} ms`), { code: 'ETIMEDOUT' })), 20)),
    listen: () => Promise.reject(new Error('unused')),
  };
  const speaker = new BgpSpeaker({ transport: silent, logger, random: () => 0 });
  const reasons: string[] = [];
  speaker.on('state', (e: { reason: string }) => reasons.push(e.reason));
  speaker.addPeer({ id: 'md5', peerAddress: ip('192.0.2.1'), peerPort: 179, myAsn: 65001, peerAsn: 65002, routerId: ip('10.0.0.1'), holdTimeSeconds: 30, ebgpMultiHop: false, password: 'secret', connectRetrySeconds: 0.05 });
  try {
    await until(() => reasons.some((r) => r.includes(MD5_TIMEOUT_HINT)), 'the state change saying it');
    await sleep(200);
    assert.ok(speaker.peerState('md5')?.lastError?.includes('key mismatch looks exactly like this'));
    assert.equal(lines.filter((l) => l.level === 'warn' && l.msg.includes('key mismatch')).length, 1, 'warned once per failure streak');
  } finally { await speaker.close(); }
});

test('an answer that is not a timeout (refused) gets no MD5 hint', async () => {
  const server = createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  server.close(); // the port now refuses
  const speaker = new BgpSpeaker({ random: () => 0 });
  speaker.addPeer({ id: 'x', peerAddress: ip('127.0.0.1'), peerPort: port, myAsn: 65001, peerAsn: 65002, routerId: ip('10.0.0.1'), holdTimeSeconds: 30, ebgpMultiHop: false, connectRetrySeconds: 0.05 });
  try {
    await until(() => speaker.peerState('x')?.lastError !== undefined, 'a failed connect');
    assert.doesNotMatch(speaker.peerState('x')?.lastError ?? '', /MD5/);
  } finally { await speaker.close(); }
});

test('a peer failing the same way on every attempt: its NOTIFICATION logged once a minute', async () => {
  const { lines, logger } = recorder();
  const speaker = new BgpSpeaker({ listen: { host: '127.0.0.1', port: 0 }, logger });
  await speaker.start();
  const port = speaker.listenAddress()!.port;
  // Configured for AS 65002; the connecting side says 65009 every time: 2/2 Bad Peer AS each time.
  speaker.addPeer({ id: 'p', peerAddress: ip('127.0.0.4'), peerPort: 0, myAsn: 65001, peerAsn: 65002, routerId: ip('10.0.0.1'), holdTimeSeconds: 30, ebgpMultiHop: false, passive: true });
  const wrong = new BgpSpeaker({ random: () => 0 });
  const sent: number[] = [];
  speaker.on('notification', () => sent.push(1));
  wrong.addPeer({ id: 'x', peerAddress: ip('127.0.0.1'), peerPort: port, localAddress: ip('127.0.0.4'), myAsn: 65009, peerAsn: 65001, routerId: ip('10.0.0.9'), holdTimeSeconds: 30, ebgpMultiHop: false, connectRetrySeconds: 0.05 });
  try {
    await until(() => sent.length >= 4, 'four refused OPENs');
    assert.equal(lines.filter((l) => l.msg.startsWith('NOTIFICATION sent')).length, 1);
  } finally { await wrong.close(); await speaker.close(); }
});
