// ironlb ↔ FRR bgpd: dynamicASN (the peer's ASN from its OPEN, internal or external) and the BFD
// reset (NOTIFICATION Cease / BFD Down, RFC 9384), as FRR sees them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BgpSpeaker, type NotificationEvent, type PeerConfig } from '../../src/bgp/speaker.ts';
import { parseIp } from '../../src/net/ip.ts';
import { parsePrefix } from '../../src/net/prefix.ts';
import { FrrDaemon, waitFor } from './harness/index.ts';

const FRR = { address: '127.0.79.1', port: 17970, asn: 65100 };
const ip = (s: string) => parseIp(s)!;
const peer = (id: string, local: string, myAsn: number, dynamicAsn: 'internal' | 'external'): PeerConfig => ({
  id, peerAddress: ip(FRR.address), peerPort: FRR.port, localAddress: ip(local), myAsn, dynamicAsn, routerId: ip(local),
  holdTimeSeconds: 9, ebgpMultiHop: false, connectRetrySeconds: 1, families: ['ipv4'],
});

describe('ironlb and FRR: dynamicASN and Cease / BFD Down', { timeout: 60000 }, () => {
  let frr!: FrrDaemon;
  const speaker = new BgpSpeaker();
  const notes: string[] = [];
  speaker.on('notification', (e: NotificationEvent) => notes.push(`${e.peerId}:${e.direction}:${e.code}/${e.subcode}`));

  before(async () => {
    frr = new FrrDaemon({ name: 'dynasn', address: FRR.address, port: FRR.port, asn: FRR.asn, neighbors: [
      { address: '127.0.79.11', asn: 65001 }, // ironlb external
      { address: '127.0.79.12', asn: FRR.asn }, // ironlb internal
      { address: '127.0.79.13', asn: 65003 }, // ironlb says internal, but FRR is in another AS
    ] });
    await frr.start();
    speaker.addPeer(peer('ext', '127.0.79.11', 65001, 'external'));
    speaker.addPeer(peer('int', '127.0.79.12', FRR.asn, 'internal'));
    speaker.addPeer(peer('wrong', '127.0.79.13', 65003, 'internal'));
    for (const id of ['ext', 'int']) speaker.setRoutes(id, [{ prefix: parsePrefix(`198.51.100.${id === 'ext' ? 1 : 2}/32`)!.prefix, attributes: { communities: [], localPref: 150 } }]);
  });
  after(async () => { await speaker.close(); await frr?.dispose(); });

  test('external and internal establish with the right session kind; the wrong kind is refused', async () => {
    await waitFor('both sessions Established at FRR', async () => (await frr.isEstablished('127.0.79.11')) && (await frr.isEstablished('127.0.79.12')));
    const routes = await waitFor('both routes in FRR', async () => { const r = await frr.routes(); return r.length === 2 ? r : undefined; });
    const ext = routes.find((r) => r.prefix === '198.51.100.1/32')!;
    const int = routes.find((r) => r.prefix === '198.51.100.2/32')!;
    assert.deepEqual(ext.asPath, [65001]);
    assert.notEqual(ext.localPref, 150, 'no LOCAL_PREF on eBGP');
    assert.deepEqual(int.asPath, []);
    assert.equal(int.localPref, 150);
    assert.equal(speaker.peerState('ext')!.negotiated?.peerAsn, FRR.asn);
    await waitFor('Bad Peer AS sent to FRR', async () => notes.includes('wrong:sent:2/2'));
    assert.notEqual(speaker.peerState('wrong')!.state, 'Established');
    assert.equal(await frr.isEstablished('127.0.79.13'), false);
  });

  test('resetPeer: FRR receives Cease / BFD Down and the session comes back with the route', async () => {
    speaker.resetPeer('ext', { subcode: 10, message: 'BFD Down (test)' });
    await waitFor('FRR logs the BFD Down NOTIFICATION', async () => /NOTIFICATION: received from neighbor 127\.0\.79\.11 6\/10 \(Cease\/BFD Down\)/.test(readFileSync(join(frr.dir, 'bgpd.log'), 'utf8')));
    await waitFor('Established again at FRR', async () => frr.isEstablished('127.0.79.11'));
    await waitFor('the route is back', async () => (await frr.routes()).some((r) => r.prefix === '198.51.100.1/32'));
  });
});
