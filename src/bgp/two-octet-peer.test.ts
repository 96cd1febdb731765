// RFC 6793 towards an OLD (2-octet-only) peer: our 4-octet ASN goes out as AS_TRANS, the session
// comes up, AS_PATH carries AS_TRANS and AS4_PATH the real path; what the peer sends back with
// AS4_PATH is merged before observers see it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIp } from '../net/ip.ts';
import { parsePrefix } from '../net/prefix.ts';
import { ScriptedBgpPeer } from '../../test/fakes/scripted-bgp-peer.ts';
import { until } from '../../test/fakes/until.ts';
import { BgpSpeaker, type UpdateEvent } from './speaker.ts';
import { encodeUpdate } from './update.ts';

const ip = (s: string) => parseIp(s)!;
const pfx = (s: string) => parsePrefix(s)!.prefix;


test('a 4-octet ASN peers with a 2-octet-only speaker: AS_TRANS, AS4_PATH out, AS4_PATH merged in', { timeout: 15000 }, async () => {
  const old = new ScriptedBgpPeer({ asn: 65002, fourOctetAsn: false, routerId: 0x0a000002 });
  const port = await old.listen('127.0.0.1');
  const speaker = new BgpSpeaker();
  const seen: UpdateEvent[] = [];
  speaker.on('update', (e: UpdateEvent) => seen.push(e));
  try {
    speaker.addPeer({ id: 'old', peerAddress: ip('127.0.0.1'), peerPort: port, myAsn: 4200000001, peerAsn: 65002, routerId: ip('10.0.0.1'), holdTimeSeconds: 30, ebgpMultiHop: false, connectRetrySeconds: 1 });
    speaker.setRoutes('old', [{ prefix: pfx('198.51.100.9/32'), attributes: { communities: [], asPrepend: { count: 1, asn: 65099 } } }]);
    await until(() => speaker.peerState('old')?.state === 'Established', 'Established');
    assert.equal(old.opens[0]?.myAs, 23456, 'My Autonomous System is AS_TRANS');
    assert.equal(speaker.peerState('old')?.negotiated?.fourOctetAsn, false);
    await until(() => old.updates.some((u) => u.nlri.length > 0), 'the route');
    const u = old.updates.find((x) => x.nlri.length > 0)!;
    assert.deepEqual(u.attributes.asPath, [{ type: 2, asns: [23456, 65099] }]);
    assert.deepEqual(u.attributes.as4Path, [{ type: 2, asns: [4200000001, 65099] }]);
    // The OLD peer passes on a route from a NEW speaker behind it: AS_TRANS plus AS4_PATH.
    old.send(encodeUpdate({ withdrawn: [], nlri: [{ prefix: pfx('192.0.2.0/24') }], attributes: {
      origin: 0, asPath: [{ type: 2, asns: [65002, 23456] }], nextHop: ip('127.0.0.1'), as4Path: [{ type: 2, asns: [4200000009] }], other: [],
    } }, false));
    await until(() => seen.some((e) => e.update.nlri.length > 0), 'the UPDATE from the peer');
    const got = seen.find((e) => e.update.nlri.length > 0)!.update.attributes;
    assert.deepEqual([got.asPath, got.as4Path], [[{ type: 2, asns: [65002, 4200000009] }], undefined]);
  } finally { await speaker.close(); await old.close(); }
});
