// Properties over random configurations built from valid and invalid pieces: resolution never
// throws, gives a Config exactly when there is no error, and does not depend on input order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { LoadedObject } from '../api/loaded.ts';
import type { LabelSelector } from '../net/selector.ts';
import { bfd, bgpAd, community, l2Ad, peer, pool } from '../../test/fixtures/config/objects.ts';
import { configEquals, resolveConfig } from './resolve.ts';

const names = fc.constantFrom('a', 'b', 'c', 'd');
const addresses = fc.constantFrom('10.0.0.0/24', '10.0.1.0/25', '10.0.0.128-10.0.0.200', '10.0.2.5-10.0.2.9', 'fc00::/120', 'fc00::1:0-fc00::1:ff', '10.0.3.1', 'x');
const labels = fc.constantFrom<Record<string, string>>({}, { tier: 'gold' }, { tier: 'silver' });
const selector = fc.constantFrom<LabelSelector>({ matchLabels: { tier: 'gold' } }, { matchLabels: { rack: '1' } }, { matchExpressions: [{ key: 'rack', operator: 'NotIn', values: ['1'] }] });

const object: fc.Arbitrary<LoadedObject> = fc.oneof(
  fc.record({ n: names, a: fc.array(addresses, { minLength: 1, maxLength: 3 }), l: labels }).map(({ n, a, l }) => pool(n, { addresses: a }, { labels: l })),
  fc.record({
    n: names, addr: fc.constantFrom('192.0.2.1', '192.0.2.2', '2001:db8::1', 'bad'), asn: fc.constantFrom(0, 64500, 64501),
    hold: fc.constantFrom(undefined, '90s', '1s', '0s'), sel: fc.array(selector, { maxLength: 2 }), prof: fc.constantFrom(undefined, 'a', 'z'),
  }).map(({ n, addr, asn, hold, sel, prof }) => peer(n, { peerAddress: addr, peerASN: asn, holdTime: hold, nodeSelectors: sel, bfdProfile: prof })),
  fc.record({
    n: names, pools: fc.option(fc.subarray(['a', 'b', 'c', 'd']), { nil: undefined }), agg: fc.constantFrom(undefined, 24, 32), lp: fc.constantFrom(undefined, 100, 200),
    comm: fc.subarray(['64500:1', 'no-advertise', 'large:1:2:3', 'nope']), peers: fc.option(fc.subarray(['a', 'b']), { nil: undefined }),
  }).map(({ n, pools, agg, lp, comm, peers }) => bgpAd(n, { ipAddressPools: pools, aggregationLength: agg, localPref: lp, communities: comm, peers })),
  fc.record({ n: names, ifs: fc.subarray(['eth0', 'eth1', 'bad name']) }).map(({ n, ifs }) => l2Ad(n, { interfaces: ifs })),
  fc.record({ n: names, echo: fc.boolean() }).map(({ n, echo }) => bfd(n, { echoMode: echo })),
  fc.constantFrom(community('aliases', [{ name: 'no-advertise', value: '65535:65282' }])),
);

test('resolution never throws, yields a Config iff no error, and is independent of input order', () => {
  fc.assert(
    fc.property(fc.array(object, { maxLength: 8 }), fc.nat(), (objects, seed) => {
      const r = resolveConfig(objects);
      const errors = r.diagnostics.filter((d) => d.severity === 'error').length;
      assert.equal(r.config !== undefined, errors === 0);
      const shuffled = [...objects].sort((x, y) => ((objects.indexOf(x) * 7919 + seed) % 13) - ((objects.indexOf(y) * 7919 + seed) % 13));
      const s = resolveConfig(shuffled);
      assert.equal(s.diagnostics.filter((d) => d.severity === 'error').length, errors);
      if (r.config) assert.ok(s.config && configEquals(r.config, s.config));
    }),
    { numRuns: 200, seed: 4242 },
  );
});

test('scale: 400 pools, 100 peers and 100 advertisements over every pool resolve, every advertisement over every pool', () => {
  const objects: LoadedObject[] = [];
  for (let i = 0; i < 400; i++) objects.push(pool(`p${i}`, { addresses: [`10.${i >> 8}.${i & 255}.0/24`, `fd00:${i.toString(16)}::/120`] }));
  for (let i = 0; i < 100; i++) objects.push(peer(`r${i}`, { peerAddress: `192.0.2.${i}`, nodeSelectors: [{ matchLabels: { rack: `r${i % 10}` } }] }));
  for (let i = 0; i < 100; i++) objects.push(bgpAd(`a${i}`, { localPref: 100 + (i % 3), communities: [`64500:${i}`], peers: [`r${i}`] }));
  const r = resolveConfig(objects);
  assert.ok(r.config);
  assert.equal(r.config.bgpAdvertisements[0]!.pools.length, 400);
  assert.equal(r.config.bgpAdvertisements.length, 100);
});
