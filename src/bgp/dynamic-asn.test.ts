// dynamicAsn between two BgpSpeakers over loopback: the peer's ASN is taken from its OPEN when it
// is of the configured kind (internal = ours, external = any other); the session is then iBGP or
// eBGP (AS_PATH, LOCAL_PREF, TTL at connect); the wrong kind is refused with OPEN / Bad Peer AS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIp } from '../net/ip.ts';
import { parsePrefix } from '../net/prefix.ts';
import { BgpSpeaker, type NotificationEvent, type PeerConfig, type UpdateEvent } from './speaker.ts';
import { ReceivedRoutes } from './received-routes.ts';
import { type BgpTransport, type ConnectOptions, plainTransport } from './transport.ts';
import { until } from '../../test/fakes/until.ts';

const ip = (s: string) => parseIp(s)!;

type Asn = Pick<PeerConfig, 'peerAsn' | 'dynamicAsn'>;

/** a (the connecting side) and b (listening, passive) with the given ASNs. */
async function run(port: number, aAsn: number, aPeer: Asn, bAsn: number, bPeer: Asn) {
  const ttls: (number | undefined)[] = [];
  const recording: BgpTransport = { ...plainTransport, connect: (o: ConnectOptions) => { ttls.push(o.ttl); return plainTransport.connect(o); } };
  const b = new BgpSpeaker({ listen: { host: '127.0.0.1', port } });
  await b.start();
  const rx = new ReceivedRoutes();
  const notes: string[] = [];
  b.on('update', (e: UpdateEvent) => rx.apply(e.update));
  const common = { holdTimeSeconds: 9, ebgpMultiHop: false, connectRetrySeconds: 1 };
  b.addPeer({ id: 'a', peerAddress: ip('127.0.0.1'), peerPort: 0, myAsn: bAsn, ...bPeer, routerId: ip('10.0.0.2'), passive: true, ...common });
  const a = new BgpSpeaker({ transport: recording });
  for (const s of [a, b]) s.on('notification', (e: NotificationEvent) => notes.push(`${s === a ? 'a' : 'b'}:${e.direction}:${e.code}/${e.subcode}`));
  a.addPeer({ id: 'b', peerAddress: ip('127.0.0.1'), peerPort: port, myAsn: aAsn, ...aPeer, routerId: ip('10.0.0.1'), ...common });
  a.setRoutes('b', [{ prefix: parsePrefix('192.0.2.0/24')!.prefix, attributes: { communities: [], localPref: 200 } }]);
  return { a, b, rx, notes, ttls, close: async () => { await a.close(); await b.close(); } };
}

test('dynamicAsn internal: iBGP with our own AS (LOCAL_PREF, empty AS_PATH, TTL left alone)', async () => {
  const p = await run(17960, 65001, { dynamicAsn: 'internal' }, 65001, { dynamicAsn: 'internal' });
  try {
    await until(() => p.rx.routes.size === 1, 'the route');
    const r = p.rx.routes.get('192.0.2.0/24')!;
    assert.equal(r.localPref, 200);
    assert.deepEqual(r.asPath, []);
    assert.equal(p.a.peerState('b')!.negotiated?.peerAsn, 65001);
    assert.equal(p.b.peerState('a')!.negotiated?.peerAsn, 65001);
    assert.deepEqual(p.ttls, [undefined]);
  } finally { await p.close(); }
});

test('dynamicAsn external: eBGP with whatever other AS the peer has (AS_PATH, no LOCAL_PREF, TTL 1)', async () => {
  const p = await run(17961, 4200000001, { dynamicAsn: 'external' }, 65002, { dynamicAsn: 'external' });
  try {
    await until(() => p.rx.routes.size === 1, 'the route');
    const r = p.rx.routes.get('192.0.2.0/24')!;
    assert.equal(r.localPref, undefined);
    assert.deepEqual(r.asPath, [{ type: 2, asns: [4200000001] }]);
    assert.equal(p.a.peerState('b')!.negotiated?.peerAsn, 65002);
    assert.equal(p.b.peerState('a')!.negotiated?.peerAsn, 4200000001);
    assert.deepEqual(p.ttls, [1], 'eBGP single-hop, decided at connect from the dynamicAsn kind');
  } finally { await p.close(); }
});

test('dynamicAsn of the wrong kind: NOTIFICATION OPEN / Bad Peer AS, never Established', async () => {
  // a expects an internal peer but b is in another AS.
  const p = await run(17962, 65001, { dynamicAsn: 'internal' }, 65002, { peerAsn: 65001 });
  try {
    await until(() => p.notes.includes('a:sent:2/2') && p.notes.includes('b:received:2/2'), 'Bad Peer AS from a');
    assert.notEqual(p.a.peerState('b')!.state, 'Established');
    assert.match(p.a.peerState('b')!.lastError ?? '', /Bad Peer AS.*internal/);
  } finally { await p.close(); }
  // b (listening) expects an external peer but a is in b's AS.
  const q = await run(17963, 65002, { peerAsn: 65002 }, 65002, { dynamicAsn: 'external' });
  try {
    await until(() => q.notes.includes('b:sent:2/2') && q.notes.includes('a:received:2/2'), 'Bad Peer AS from b');
    assert.equal(q.rx.routes.size, 0);
  } finally { await q.close(); }
});

test('dynamicAsn and peerAsn are exclusive; one of them is required', () => {
  const s = new BgpSpeaker();
  const base = { id: 'p', peerAddress: ip('127.0.0.1'), peerPort: 179, myAsn: 1, routerId: ip('1.1.1.1'), holdTimeSeconds: 90, ebgpMultiHop: false };
  assert.throws(() => s.addPeer(base), /peerAsn must be an integer 1\.\.4294967295 \(or set dynamicAsn\)/);
  assert.throws(() => s.addPeer({ ...base, peerAsn: 2, dynamicAsn: 'external' }), /peerAsn must be left out when dynamicAsn is set/);
  assert.throws(() => s.addPeer({ ...base, dynamicAsn: 'both' as 'external' }), /dynamicAsn/);
  assert.deepEqual(s.peerIds(), []);
});
