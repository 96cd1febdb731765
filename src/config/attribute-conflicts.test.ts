// Single-valued attributes across advertisements, per peer: unset against set is fine, two set
// values on one peer are an error naming both objects and the peer, localPref only counts on iBGP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Diagnostic } from '../api/diagnostics.ts';
import type { LoadedObject } from '../api/loaded.ts';
import type { BGPAdvertisementSpec } from '../api/resources.ts';
import { bgpAd, peer, pool } from '../../test/fixtures/config/objects.ts';
import { resolveConfig } from './resolve.ts';

const brief = (ds: readonly Diagnostic[], severity: Diagnostic['severity']) =>
  ds.filter((d) => d.severity === severity && /differs from/.test(d.message)).map((d) => `${d.object?.name} ${d.path}: ${d.message}`);
const check = (objects: LoadedObject[]) => {
  const r = resolveConfig(objects);
  return { ok: r.config !== undefined, errors: brief(r.diagnostics, 'error'), warnings: brief(r.diagnostics, 'warning') };
};
const p1 = pool('p1', { addresses: ['10.0.0.0/24'] });
const ebgp1 = peer('e1', { peerAddress: '192.0.2.1' });
const ebgp2 = peer('e2', { peerAddress: '192.0.2.2' });
const ibgp = peer('i1', { peerAddress: '192.0.2.3', peerASN: 64500 });
const fix = ': use the same';

test('set against unset never conflicts (localPref, med, asPrepend): the set value applies where the setting ad reaches', () => {
  const r = check([p1, ebgp1, ibgp, bgpAd('plain', {}), bgpAd('tuned', { localPref: 200, med: 5, asPrepend: { count: 2 }, peers: ['i1'] })]);
  assert.deepEqual([r.ok, r.errors, r.warnings], [true, [], []]);
});

test('two localPrefs on an iBGP peer: an error naming both advertisements and the peer', () => {
  const r = check([p1, ebgp1, ibgp, bgpAd('a', { localPref: 100 }), bgpAd('b', { localPref: 200 })]);
  assert.equal(r.ok, false);
  assert.deepEqual(r.errors, [
    'b spec.localPref: localPref 200 differs from localPref 100 of BGPAdvertisement metallb-system/a: both send the same routes ' +
      '(IPAddressPool "p1" at /32) to iBGP peer i1 from nodes that can overlap (all nodes vs all nodes); a route carries one LOCAL_PREF' +
      `${fix} localPref, leave it unset on one of them (the set value then applies), or separate them by aggregation length, peers, nodes or serviceSelectors`,
  ]);
});

test('two localPrefs that meet only on eBGP peers: a warning naming them, and the configuration stands', () => {
  const r = check([p1, ebgp1, ebgp2, ibgp, bgpAd('a', { localPref: 100 }), bgpAd('b', { localPref: 50, peers: ['e1', 'e2'] })]);
  assert.deepEqual([r.ok, r.errors], [true, []]);
  assert.deepEqual(r.warnings, [
    'b spec.localPref: localPref 50 differs from localPref 100 of BGPAdvertisement metallb-system/a: both send the same routes ' +
      '(IPAddressPool "p1" at /32) to peers e1, e2, which are eBGP: LOCAL_PREF is not sent there, so the difference has no effect ' +
      '(on an iBGP peer it would be an error); the other attributes of both apply',
  ]);
});

test('two meds or two asPrepends for one peer are errors whatever the session kind', () => {
  const med = check([p1, ebgp1, ebgp2, bgpAd('a', { med: 10, peers: ['e1'] }), bgpAd('b', { med: 20 })]);
  assert.equal(med.ok, false);
  assert.match(med.errors[0]!, /^b spec\.med: med 20 differs from med 10 of BGPAdvertisement metallb-system\/a: .* to peer e1 from nodes .*one MULTI_EXIT_DISC/);
  const prepend = check([p1, ebgp1, bgpAd('a', { asPrepend: { count: 2 } }), bgpAd('b', { asPrepend: { count: 2, asn: 65099 } })]);
  assert.match(prepend.errors[0]!, /^b spec\.asPrepend: asPrepend 2x AS65099 differs from asPrepend 2x own ASN of .*a route carries one AS_PATH/);
});

test('no conflict where the routes cannot coincide: disjoint peers, other aggregation, nodes that cannot meet', () => {
  const pairs: [BGPAdvertisementSpec, BGPAdvertisementSpec][] = [
    [{ med: 1, peers: ['e1'] }, { med: 2, peers: ['e2'] }],
    [{ med: 1 }, { med: 2, aggregationLength: 24 }],
    [{ med: 1, nodeSelectors: [{ matchLabels: { rack: 'a' } }] }, { med: 2, nodeSelectors: [{ matchLabels: { rack: 'b' } }] }],
    [{ med: 1, serviceSelectors: [{ matchLabels: { app: 'a' } }] }, { med: 2, serviceSelectors: [{ matchLabels: { app: 'b' } }] }],
  ];
  for (const [a, b] of pairs) {
    const r = check([p1, ebgp1, ebgp2, bgpAd('a', a), bgpAd('b', b)]);
    assert.deepEqual([r.ok, r.errors, r.warnings], [true, [], []], JSON.stringify([a, b]));
  }
});

test('the class, not the pool: two pools aggregated into one /24 with different meds conflict', () => {
  const q1 = pool('q1', { addresses: ['10.1.0.0/28'] });
  const q2 = pool('q2', { addresses: ['10.1.0.16/28'] });
  const r = check([q1, q2, ebgp1, bgpAd('a', { ipAddressPools: ['q1'], aggregationLength: 24, med: 1 }), bgpAd('b', { ipAddressPools: ['q2'], aggregationLength: 24, med: 2 })]);
  assert.equal(r.ok, false);
  assert.match(r.errors[0]!, /both send the same routes \(IPAddressPools "q1" and "q2" \(both within one \/24\)\) to peer e1/);
  const apart = check([q1, pool('q3', { addresses: ['10.2.0.0/28'] }), ebgp1, bgpAd('a', { ipAddressPools: ['q1'], aggregationLength: 24, med: 1 }), bgpAd('b', { ipAddressPools: ['q3'], aggregationLength: 24, med: 2 })]);
  assert.deepEqual([apart.ok, apart.errors], [true, []]);
});

test('serviceSelectors that can both match one Service: a warning saying what the speaker will drop', () => {
  const r = check([p1, ibgp, bgpAd('a', { med: 1, serviceSelectors: [{ matchLabels: { app: 'web' } }] }), bgpAd('b', { med: 2, serviceSelectors: [{ matchLabels: { tier: 'front' } }] })]);
  assert.deepEqual([r.ok, r.errors], [true, []]);
  assert.match(r.warnings[0]!, /^b spec\.med: .* to peer i1 .* for Services matching the serviceSelectors of both \(\{app=web\} vs \{tier=front\}\): a route carries one MULTI_EXIT_DISC, so the speaker will not send such a Service's IP to that peer$/);
});

test("no BGPPeer yet: MetalLB's rule, any localPref difference (0 included) is an error", () => {
  const r = check([p1, bgpAd('a', {}), bgpAd('b', { localPref: 100 })]);
  assert.equal(r.ok, false);
  assert.deepEqual(r.errors, [
    'b spec.localPref: localPref 100 differs from localPref 0 (unset) of BGPAdvertisement metallb-system/a: both send the same routes ' +
      '(IPAddressPool "p1" at /32) to every peer (no BGPPeer is defined yet, so MetalLB\'s rule applies: any localPref difference, 0 included) ' +
      `from nodes that can overlap (all nodes vs all nodes); a route carries one LOCAL_PREF${fix} localPref, or separate them by aggregation length, peers, nodes or serviceSelectors`,
  ]);
});
