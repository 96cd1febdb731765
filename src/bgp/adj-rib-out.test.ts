// Adj-RIB-Out diffing and coalescing, and the UPDATE packer's output decoded back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Family } from '../net/ip.ts';
import { formatPrefix, parsePrefix, type Prefix } from '../net/prefix.ts';
import { AdjRibOut, prefixFromKey, prefixKey } from './adj-rib-out.ts';
import { BufferWriter } from './buffer-writer.ts';
import { MessageFramer } from './framing.ts';
import { decodeUpdate } from './update.ts';
import { UpdatePacker, type PackContext } from './update-packer.ts';
import type { Route, RouteAttributes } from './route.ts';

const pfx = (s: string): Prefix => parsePrefix(s)!.prefix;
const a1: RouteAttributes = { communities: [], med: 1 };
const a2: RouteAttributes = { communities: [{ kind: 'standard', value: 7 }] };
const v4 = (i: number): Prefix => ({ family: 4, network: BigInt(0x0a000000 + i), length: 32 });
const v6 = (i: number): Prefix => ({ family: 6, network: 0x20010db8000000000000000000000000n + BigInt(i), length: 128 });

const ctx = (over: Partial<PackContext> = {}): PackContext => ({
  ebgp: true, myAsn: 65001, fourOctetAsn: true, nextHop4: Buffer.from([192, 0, 2, 1]), nextHop6: Buffer.alloc(16, 1),
  maxMessage: 4096, addPath: { 4: false, 6: false }, ...over,
});

interface Decoded { announced: Map<string, number | undefined>; withdrawn: Set<string>; messages: number; maxLength: number }

/** Packs everything dirty and decodes the UPDATEs back. */
function drain(rib: AdjRibOut, packer: UpdatePacker, families: Family[] = [4, 6], addPathReceive: Family[] = []): Decoded {
  const w = new BufferWriter();
  for (const f of families) while (rib.tables[f].dirty.size > 0) packer.pack(rib.tables[f], f, w, 4096);
  const framer = new MessageFramer();
  framer.maxLength = 65535;
  framer.push(w.toBuffer());
  const out: Decoded = { announced: new Map(), withdrawn: new Set(), messages: 0, maxLength: 0 };
  for (let m = framer.next(); m; m = framer.next()) {
    out.messages++;
    out.maxLength = Math.max(out.maxLength, m.whole.length);
    const u = decodeUpdate(m.body, { fourOctetAsn: true, ebgp: true, addPathReceive });
    assert.deepEqual(u.problems, []);
    for (const n of [...u.nlri, ...(u.attributes.mpReach?.nlri ?? [])]) out.announced.set(formatPrefix(n.prefix), u.attributes.med);
    for (const n of [...u.withdrawn, ...(u.attributes.mpUnreach?.withdrawn ?? [])]) out.withdrawn.add(formatPrefix(n.prefix));
  }
  return out;
}

test('prefix keys are the wire form and round-trip', () => {
  for (const s of ['10.1.2.0/23', '0.0.0.0/0', '255.255.255.255/32', '2001:db8::/32', '::/0', '2001:db8::1/128']) {
    const p = pfx(s);
    assert.equal(formatPrefix(prefixFromKey(p.family, prefixKey(p))), s);
  }
  assert.deepEqual(Buffer.from(prefixKey(pfx('10.1.2.0/23')), 'latin1'), Buffer.from([23, 10, 1, 2]));
});

test('setDesired reports only changes; no tracking without a session', () => {
  const rib = new AdjRibOut();
  const routes: Route[] = [{ prefix: pfx('10.0.0.1/32'), attributes: a1 }, { prefix: pfx('2001:db8::1/128'), attributes: a1 }];
  assert.equal(rib.setDesired(routes), 2);
  assert.equal(rib.hasPending(), false);
  assert.equal(rib.setDesired(routes), 0);
  // A new but equal attributes object is the same set.
  assert.equal(rib.setDesired([{ prefix: pfx('10.0.0.1/32'), attributes: { med: 1, communities: [] } }, routes[1]!]), 0);
  rib.sessionUp();
  assert.equal(rib.tables[4].dirty.size + rib.tables[6].dirty.size, 2);
  assert.equal(rib.setDesired([routes[0]!]), 1);
  assert.equal(rib.tables[6].dirty.size, 1);
});

test('packing: one attribute set fills 4096-byte UPDATEs; everything arrives once', () => {
  const rib = new AdjRibOut();
  const routes: Route[] = [];
  for (let i = 0; i < 5000; i++) routes.push({ prefix: v4(i), attributes: a1 }, { prefix: v6(i), attributes: a1 });
  rib.setDesired(routes);
  rib.sessionUp();
  const d = drain(rib, new UpdatePacker(ctx()));
  assert.equal(d.announced.size, 10000);
  assert.ok(d.maxLength <= 4096);
  // 5000 × 5 bytes of IPv4 NLRI ≈ 6.2 messages; 5000 × 17 bytes of IPv6 ≈ 21.
  // (each pack() call of at most 4096 prefixes may end with one partly filled UPDATE)
  assert.ok(d.messages <= 7 + 22 + 4, `${d.messages} messages`);
  assert.equal(rib.sentCount, 10000);
  assert.equal(rib.hasPending(), false);
});

test('packing: extended messages use 65535-byte UPDATEs', () => {
  const rib = new AdjRibOut();
  const routes: Route[] = [];
  for (let i = 0; i < 20000; i++) routes.push({ prefix: v4(i), attributes: a1 });
  rib.setDesired(routes);
  rib.sessionUp();
  const d = drain(rib, new UpdatePacker(ctx({ maxMessage: 65535 })));
  assert.equal(d.announced.size, 20000);
  assert.ok(d.maxLength > 4096 && d.maxLength <= 65535);
  assert.ok(d.messages <= 5, `${d.messages} messages`);
});

test('diffs: withdrawals packed, changes re-announced, bursts coalesce to the latest state', () => {
  const rib = new AdjRibOut();
  const packer = new UpdatePacker(ctx());
  const base: Route[] = [];
  for (let i = 0; i < 3000; i++) base.push({ prefix: i % 2 ? v4(i) : v6(i), attributes: a1 });
  rib.setDesired(base);
  rib.sessionUp();
  drain(rib, packer);
  // A burst: change everything 10 times, end with: first 1000 withdrawn, next 1000 changed, rest as before.
  for (let k = 0; k < 10; k++) rib.setDesired(base.map((r) => ({ ...r, attributes: k % 2 ? a1 : a2 })));
  rib.setDesired(base.slice(1000).map((r, i) => (i < 1000 ? { ...r, attributes: a2 } : r)));
  const d = drain(rib, packer);
  assert.equal(d.withdrawn.size, 1000);
  assert.equal(d.announced.size, 1000);
  assert.ok([...d.announced.values()].every((med) => med === undefined));
  assert.ok(d.messages < 15, `${d.messages} messages`);
  assert.equal(rib.sentCount, 2000);
});

test('ADD-PATH send: every NLRI carries path id 1', () => {
  const rib = new AdjRibOut();
  rib.setDesired([{ prefix: v4(1), attributes: a1 }, { prefix: v6(1), attributes: a1 }]);
  rib.sessionUp();
  const d = drain(rib, new UpdatePacker(ctx({ addPath: { 4: true, 6: true } })), [4, 6], [4, 6]);
  assert.equal(d.announced.size, 2);
});

test('session loss forgets what was sent; re-establishment resends the full table', () => {
  const rib = new AdjRibOut();
  rib.setDesired([{ prefix: v4(1), attributes: a1 }, { prefix: v4(2), attributes: a1 }]);
  rib.sessionUp();
  drain(rib, new UpdatePacker(ctx()));
  rib.sessionDown();
  assert.equal(rib.sentCount, 0);
  rib.setDesired([{ prefix: v4(1), attributes: a1 }]);
  assert.equal(rib.hasPending(), false);
  rib.sessionUp();
  const d = drain(rib, new UpdatePacker(ctx()));
  assert.deepEqual([...d.announced.keys()], ['10.0.0.1/32']);
  assert.equal(d.withdrawn.size, 0);
  rib.refresh(4);
  assert.equal(drain(rib, new UpdatePacker(ctx())).announced.size, 1);
});

test('a family without a next hop is not announced', () => {
  const rib = new AdjRibOut();
  rib.setDesired([{ prefix: v4(1), attributes: a1 }]);
  rib.sessionUp();
  const { nextHop4: _n, ...noV4 } = ctx();
  const packer = new UpdatePacker(noV4);
  assert.equal(drain(rib, packer).messages, 0);
  assert.equal(packer.unsendable, 1);
});

// Speed is measured by `npm run bench -- bgp`, not asserted here.
test('100k IPv4 + 100k IPv6 routes: every one diffed and packed', () => {
  const rib = new AdjRibOut();
  const routes: Route[] = [];
  for (let i = 0; i < 100000; i++) routes.push({ prefix: v4(i), attributes: a1 }, { prefix: v6(i), attributes: a1 });
  rib.setDesired(routes);
  rib.sessionUp();
  const packer = new UpdatePacker(ctx());
  const w = new BufferWriter(1 << 22);
  for (const f of [4, 6] as const) while (rib.tables[f].dirty.size > 0) packer.pack(rib.tables[f], f, w, 4096);
  assert.equal(rib.sentCount, 200000);
  assert.equal(rib.tables[4].dirty.size + rib.tables[6].dirty.size, 0);
});

test('a route whose attributes cannot fit an UPDATE is held back, not marked sent', () => {
  const rib = new AdjRibOut();
  const huge: RouteAttributes = { communities: Array.from({ length: 1100 }, (_, i) => ({ kind: 'standard' as const, value: i })) };
  rib.setDesired([{ prefix: v4(1), attributes: huge }, { prefix: v4(2), attributes: a1 }]);
  rib.sessionUp();
  const packer = new UpdatePacker(ctx());
  const d = drain(rib, packer);
  assert.deepEqual([...d.announced.keys()], ['10.0.0.2/32']);
  assert.equal(packer.unsendable, 1);
  assert.equal(rib.sentCount, 1);
  // With extended messages it fits.
  rib.sessionUp();
  assert.equal(drain(rib, new UpdatePacker(ctx({ maxMessage: 65535 }))).announced.size, 2);
});

test('updateDesired changes only the routes named: the same end state as setDesired, only those prefixes sent', () => {
  const all: Route[] = Array.from({ length: 100 }, (_, i) => ({ prefix: v4(i), attributes: a1 }));
  const rib = new AdjRibOut();
  rib.setDesired(all);
  rib.sessionUp();
  const packer = new UpdatePacker(ctx());
  drain(rib, packer);
  assert.equal(rib.updateDesired([{ prefix: v4(5), attributes: a2 }, { prefix: v4(200), attributes: a1 }, { prefix: v4(6), attributes: a1 }], [v4(7), v4(999)]), 3, 'v4(6) unchanged, v4(999) unknown');
  const d = drain(rib, packer);
  assert.deepEqual([...d.announced.keys()].sort(), ['10.0.0.200/32', '10.0.0.5/32']);
  assert.deepEqual([...d.withdrawn], ['10.0.0.7/32']);
  const reference = new AdjRibOut();
  reference.setDesired([...all.filter((r) => r.prefix.network !== v4(7).network && r.prefix.network !== v4(5).network), { prefix: v4(5), attributes: a2 }, { prefix: v4(200), attributes: a1 }]);
  const keys = (r: AdjRibOut): string[] => [...r.tables[4].desired].map(([k, e]) => `${formatPrefix(prefixFromKey(4, k))} ${e.key}`).sort();
  assert.deepEqual(keys(rib), keys(reference));
});

test('what the peer holds, against a model peer fed the UPDATEs: random edits, partial packs, session loss and refresh', () => {
  // The table keeps only where the peer differs from the desired state; the model applies every
  // decoded UPDATE, so sentCount and the end state are checked against what went on the wire.
  let seed = 15;
  const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const attrs: RouteAttributes[] = [a1, a2, { communities: [], med: 9 }];
  const huge: RouteAttributes = { communities: Array.from({ length: 1100 }, (_, i) => ({ kind: 'standard' as const, value: i })) };
  for (let round = 0; round < 40; round++) {
    const rib = new AdjRibOut();
    const packer = new UpdatePacker(ctx());
    const peer = new Map<string, number | undefined>();
    const want = new Map<number, RouteAttributes>();
    let up = false;
    const pack = (limit: number): void => {
      const w = new BufferWriter();
      for (const f of [4, 6] as const) if (rib.tables[f].dirty.size > 0) packer.pack(rib.tables[f], f, w, limit);
      const framer = new MessageFramer();
      framer.maxLength = 65535;
      framer.push(w.toBuffer());
      for (let m = framer.next(); m; m = framer.next()) {
        const u = decodeUpdate(m.body, { fourOctetAsn: true, ebgp: true, addPathReceive: [] });
        for (const n of [...u.withdrawn, ...(u.attributes.mpUnreach?.withdrawn ?? [])]) peer.delete(formatPrefix(n.prefix));
        for (const n of [...u.nlri, ...(u.attributes.mpReach?.nlri ?? [])]) peer.set(formatPrefix(n.prefix), u.attributes.med);
      }
      assert.equal(rib.sentCount, peer.size);
    };
    const routes = (): Route[] => [...want].map(([i, a]) => ({ prefix: i % 2 ? v4(i) : v6(i), attributes: a }));
    for (let step = 0; step < 60; step++) {
      const op = rnd(10);
      if (op < 3) {
        for (let j = 0; j < 1 + rnd(20); j++) { const i = rnd(40); if (rnd(3) === 0) want.delete(i); else want.set(i, rnd(15) === 0 ? huge : attrs[rnd(3)]!); }
        rib.setDesired(routes());
      } else if (op < 5) {
        const announce: Route[] = [];
        const withdraw: Prefix[] = [];
        for (let j = 0; j < 1 + rnd(5); j++) {
          const i = rnd(40);
          if (rnd(3) === 0) { want.delete(i); withdraw.push(i % 2 ? v4(i) : v6(i)); } else { const a = attrs[rnd(3)]!; want.set(i, a); announce.push({ prefix: i % 2 ? v4(i) : v6(i), attributes: a }); }
        }
        rib.updateDesired(announce, withdraw);
      } else if (op < 8) { if (up) pack(1 + rnd(8)); } else if (op === 8) {
        if (up && rnd(2) === 0) { rib.sessionDown(); peer.clear(); up = false; } else if (!up) { rib.sessionUp(); up = true; }
      } else if (up) { rib.refresh(rnd(2) === 0 ? 4 : 6); }
      if (!up) assert.equal(rib.sentCount, 0);
    }
    if (!up) rib.sessionUp();
    pack(1000);
    assert.equal(rib.hasPending(), false);
    const sendable = [...want].filter(([, a]) => a !== huge);
    assert.deepEqual([...peer.keys()].sort(), sendable.map(([i]) => formatPrefix(i % 2 ? v4(i) : v6(i))).sort(), `round ${round}`);
    for (const [i, a] of sendable) assert.equal(peer.get(formatPrefix(i % 2 ? v4(i) : v6(i))), a.med);
  }
});
