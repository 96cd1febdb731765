// Outbound ROUTE-REFRESH (RFC 2918): sent only on an Established session whose peer advertised the
// capability, one per negotiated family; refused (false) otherwise, so the caller can reset instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIp } from '../net/ip.ts';
import { ScriptedBgpPeer } from '../../test/fakes/scripted-bgp-peer.ts';
import { until } from '../../test/fakes/until.ts';
import { BgpSpeaker } from './speaker.ts';

const ip = (s: string) => parseIp(s)!;

for (const capable of [true, false]) {
  test(`refreshPeer: ${capable ? 'a peer with the capability gets ROUTE-REFRESH' : 'a peer without the capability gets none (false)'}`, { timeout: 15000 }, async () => {
    const peer = new ScriptedBgpPeer({ asn: 65002, fourOctetAsn: true, routerId: 0x0a000002, noRouteRefresh: !capable });
    const port = await peer.listen('127.0.0.1');
    const speaker = new BgpSpeaker();
    try {
      speaker.addPeer({ id: 'p', peerAddress: ip('127.0.0.1'), peerPort: port, myAsn: 65001, peerAsn: 65002, routerId: ip('10.0.0.1'), holdTimeSeconds: 30, ebgpMultiHop: false, connectRetrySeconds: 1 });
      assert.equal(speaker.refreshPeer('p'), false, 'not Established yet');
      await until(() => speaker.peerState('p')?.state === 'Established', 'Established');
      assert.equal(speaker.refreshPeer('p'), capable);
      const families = speaker.peerState('p')?.negotiated?.families ?? [];
      if (capable) await until(() => peer.refreshes.length === families.length, 'a ROUTE-REFRESH per family');
      else await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(peer.refreshes.sort(), capable ? families.map((f) => (f === 'ipv4' ? 1 : 2)).sort() : []);
      assert.equal(speaker.peerState('p')?.state, 'Established', 'the session stays up');
      assert.equal(speaker.refreshPeer('nobody'), false);
    } finally { await speaker.close(); await peer.close(); }
  });
}
