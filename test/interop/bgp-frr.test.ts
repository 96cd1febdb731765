// ironlb ↔ FRR bgpd: eBGP with TCP MD5 and iBGP with graceful restart, 4-byte ASNs, IPv4 and
// IPv6, every attribute, checked in FRR's RIB (vtysh JSON); then a wrong MD5 key, and an ironlb
// restart during which FRR keeps the graceful-restart session's routes as stale.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FrrDaemon, sleep, type NormalizedRoute } from './harness/index.ts';
import { DAEMON_ASN, EBGP_ASN, InteropRun, type SessionSpec, canonical, ebgpRoutes, expectedRoutes, ibgpRoutes, newSpeaker, peerConfig, ribFrom, waitEstablished, waitForRib } from './scenario.ts';

// FRR checks GTSM (RFC 5082) on this one: only TTL ≥ 254 gets through, so it tests the TTL
// ironlb really puts on the wire (1 for single-hop eBGP, 255 with ebgpMultiHop).
const gtsm: SessionSpec = { id: 'frr-gtsm', local: '127.0.42.14', myAsn: 4200000004, peerAsn: DAEMON_ASN, nextHopV6: '2001:db8:42::14' };
const badKey: SessionSpec = { id: 'frr-badkey', local: '127.0.42.13', myAsn: 4200000003, peerAsn: DAEMON_ASN, md5: 'not-the-key', nextHopV6: '2001:db8:42::13' };

describe('ironlb and FRR', { timeout: 150000 }, () => {
  let frr!: FrrDaemon;
  const run = new InteropRun({
    sessions: {
      ebgp: { id: 'frr-e', local: '127.0.42.11', myAsn: EBGP_ASN, peerAsn: DAEMON_ASN, md5: 'frr-md5-key', nextHopV6: '2001:db8:42::11' },
      ibgp: { id: 'frr-i', local: '127.0.42.12', myAsn: DAEMON_ASN, peerAsn: DAEMON_ASN, nextHopV6: '2001:db8:42::12', gracefulRestart: true },
    },
    makeDaemon: (sessions) => {
      frr = new FrrDaemon({ name: 'bgp', address: '127.0.42.1', port: 18101, asn: DAEMON_ASN, neighbors: [
        ...sessions.map((s) => ({ address: s.local, asn: s.myAsn, ...(s.md5 ? { md5: s.md5 } : {}), ...(s.gracefulRestart ? { gracefulRestart: true } : {}) })),
        { address: badKey.local, asn: badKey.myAsn, md5: 'the-real-key' },
        { address: gtsm.local, asn: gtsm.myAsn },
      ] }, [` neighbor ${gtsm.local} ttl-security hops 1`]);
      return frr;
    },
  });
  before(() => run.setUp());
  after(() => run.tearDown());

  test('every route arrives with exactly the expected attributes (eBGP session signed with MD5)', async () => {
    await run.announceAll();
    for (const s of [run.ebgp, run.ibgp]) {
      const caps = (await frr.neighbor(s.local))?.neighborCapabilities as Record<string, unknown> | undefined;
      assert.equal(caps?.['4byteAs'], 'advertisedAndReceived', `4-octet ASNs negotiated with ${s.local}`);
    }
  });
  test('withdrawals and attribute changes reach the RIB', () => run.withdrawSome());
  test('after an FRR restart ironlb reconnects and sends the full table', () => run.peerRestart());

  test('a wrong MD5 key never gets a session; the right one (updatePeer) does', async () => {
    run.speaker.addPeer(peerConfig(frr, badKey));
    run.speaker.setRoutes(badKey.id, [ebgpRoutes[1]!]);
    await sleep(3000);
    assert.equal(await frr.isEstablished(badKey.local), false);
    assert.notEqual(run.speaker.peerState(badKey.id)?.state, 'Established');
    run.speaker.updatePeer(peerConfig(frr, { ...badKey, md5: 'the-real-key' }));
    await waitEstablished(frr, [badKey.local]);
    await waitForRib(frr, [badKey.local], expectedRoutes([ebgpRoutes[1]!], badKey));
    await run.speaker.removePeer(badKey.id);
    await waitForRib(frr, [badKey.local], []);
  });

  test('TTL on the wire: single-hop eBGP (TTL 1) fails FRR\'s GTSM check, ebgpMultiHop (TTL 255) passes', async () => {
    run.speaker.addPeer(peerConfig(frr, gtsm));
    run.speaker.setRoutes(gtsm.id, [ebgpRoutes[1]!]);
    await sleep(3000);
    assert.equal(await frr.isEstablished(gtsm.local), false);
    run.speaker.updatePeer({ ...peerConfig(frr, gtsm), ebgpMultiHop: true });
    await waitEstablished(frr, [gtsm.local]);
    await waitForRib(frr, [gtsm.local], expectedRoutes([ebgpRoutes[1]!], gtsm));
    await run.speaker.removePeer(gtsm.id);
  });

  test('graceful restart: routes survive an ironlb restart (stale, then refreshed, never withdrawn)', async () => {
    const wantI = expectedRoutes(ibgpRoutes, run.ibgp);
    const wantE = expectedRoutes(ebgpRoutes, run.ebgp);
    await waitForRib(frr, [run.ibgp.local, run.ebgp.local], run.expected(ebgpRoutes, ibgpRoutes));
    const caps = async (a: string) => (await frr.neighbor(a))?.neighborCapabilities as Record<string, unknown> | undefined;
    assert.equal((await caps(run.ibgp.local))?.gracefulRestart, 'advertisedAndReceived', 'graceful restart negotiated on the iBGP session');
    assert.notEqual((await caps(run.ebgp.local))?.gracefulRestart, 'advertisedAndReceived', 'and not on the eBGP one');

    // Watch the iBGP (graceful restart) routes for the whole restart: none may go missing.
    const missing: string[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const rib = await ribFrom(frr, [run.ibgp.local], true).catch(() => undefined);
        if (rib) for (const w of wantI) if (!rib.some((x) => x.prefix === w.prefix)) missing.push(w.prefix);
        await sleep(50);
      }
    })();

    await run.speaker.close({ graceful: true });
    // Stale: same attributes, flagged stale; the eBGP session without graceful restart is flushed.
    let stale: NormalizedRoute[] = [];
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline) {
      stale = await ribFrom(frr, [run.ibgp.local, run.ebgp.local], true);
      if (stale.length === wantI.length && stale.every((x) => x.stale === true)) break;
      await sleep(100);
    }
    assert.equal(canonical(stale), canonical(wantI.map((x) => ({ ...x, stale: true }))), 'iBGP routes kept as stale, eBGP routes flushed');

    await sleep(1000); // ironlb is down for a while
    run.speaker = newSpeaker(frr, [run.ebgp, run.ibgp]);
    run.speaker.setRoutes(run.ebgp.id, ebgpRoutes);
    run.speaker.setRoutes(run.ibgp.id, ibgpRoutes);
    await waitEstablished(frr, [run.ibgp.local, run.ebgp.local]);
    // Refreshed: the stale flag goes (End-of-RIB) and the attributes are exactly as before.
    const deadline2 = Date.now() + 15000;
    let fresh: NormalizedRoute[] = [];
    while (Date.now() < deadline2) {
      fresh = await ribFrom(frr, [run.ibgp.local], true);
      if (fresh.length === wantI.length && fresh.every((x) => !x.stale)) break;
      await sleep(100);
    }
    assert.equal(canonical(fresh), canonical(wantI));
    await waitForRib(frr, [run.ebgp.local], wantE);
    watching = false;
    await watcher;
    assert.deepEqual(missing, [], 'no graceful-restart route was withdrawn during the restart');
  });
});
