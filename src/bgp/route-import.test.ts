import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { parseIp } from '../net/ip.ts';
import { formatPrefix, parsePrefix } from '../net/prefix.ts';
import type { Prefix } from '../net/prefix.ts';
import { AsPathSegmentType } from './attributes.ts';
import type { PathAttributes } from './attributes.ts';
import { type CandidatePath, decide } from './best-path.ts';
import { KernelRoutes, type RouteWriter, routeText } from './kernel-routes.ts';
import type { KernelRoute } from './rtnetlink.ts';
import { RouteImporter } from './route-import.ts';
import type { DecodedUpdate } from './update.ts';
import type { UpdateProblem } from './errors.ts';

const ip = (s: string) => parseIp(s)!;
const P = (s: string) => parsePrefix(s)!.prefix;
const path = (o: Partial<CandidatePath> & { peerId: string }): CandidatePath => ({
  nextHop: ip(`10.0.0.${o.peerId.slice(1)}`), asPathLength: 1, neighborAs: 65001, origin: 0, ebgp: true,
  routerId: Number(o.peerId.slice(1)), peerAddress: ip(`10.0.0.${o.peerId.slice(1)}`), ...o,
});

test('decision process: local pref, AS path, origin, MED (same neighbour AS), eBGP over iBGP, then router ID; ECMP where equal', () => {
  assert.equal(decide([])?.best, undefined);
  assert.equal(decide([path({ peerId: 'p1' }), path({ peerId: 'p2', localPref: 200, ebgp: false })])!.best.peerId, 'p2');
  assert.equal(decide([path({ peerId: 'p1', asPathLength: 3 }), path({ peerId: 'p2', asPathLength: 2 })])!.best.peerId, 'p2');
  assert.equal(decide([path({ peerId: 'p1', origin: 2 }), path({ peerId: 'p2', origin: 0 })])!.best.peerId, 'p2');
  assert.equal(decide([path({ peerId: 'p1', med: 20 }), path({ peerId: 'p2', med: 10 })])!.best.peerId, 'p2');
  // MED from different neighbouring ASes is not compared: router ID decides, and no ECMP across ASes.
  const d = decide([path({ peerId: 'p2', med: 10, neighborAs: 65002 }), path({ peerId: 'p1', med: 20 })])!;
  assert.deepEqual([d.best.peerId, d.multipath.length], ['p1', 1]);
  assert.equal(decide([path({ peerId: 'p1', ebgp: false }), path({ peerId: 'p2' })])!.best.peerId, 'p2');
  const ecmp = decide([path({ peerId: 'p3' }), path({ peerId: 'p1' }), path({ peerId: 'p2', asPathLength: 2 })])!;
  assert.deepEqual(ecmp.multipath.map((p) => p.peerId), ['p1', 'p3']);
  assert.equal(decide([path({ peerId: 'p1', stale: true }), path({ peerId: 'p2' })])!.best.peerId, 'p2');
});

const attrs = (nextHop: string, asns = [65001]): PathAttributes => ({
  origin: 0, asPath: [{ type: AsPathSegmentType.Sequence, asns }], nextHop: ip(nextHop), other: [],
});
const announce = (prefixes: string[], nextHop: string, problems: UpdateProblem[] = [], asns?: number[]): DecodedUpdate =>
  ({ withdrawn: [], attributes: attrs(nextHop, asns), nlri: prefixes.map((p) => ({ prefix: P(p) })), problems });
const withdraw = (prefixes: string[]): DecodedUpdate =>
  ({ withdrawn: prefixes.map((p) => ({ prefix: P(p) })), attributes: { other: [] }, nlri: [], problems: [] });

function world() {
  const speaker = new EventEmitter();
  const batches: string[] = [];
  // The kernel, faked: what was asked, in order; a route in `taken` is someone else's (EEXIST).
  const taken = new Set<string>();
  const held: KernelRoute[] = [];
  const writer: RouteWriter = {
    apply: async (ops) => ops.map((o) => {
      batches.push(`${o.op} ${routeText(o.route)}`);
      if (o.op === 'add' && taken.has(formatPrefix(o.route.prefix))) return 'EEXIST';
      const i = held.findIndex((r) => formatPrefix(r.prefix) === formatPrefix(o.route.prefix));
      if (i >= 0) held.splice(i, 1);
      if (o.op !== 'delete') held.push(o.route);
      return undefined;
    }),
    list: async () => [...held],
    close: () => undefined,
  };
  const kernel = new KernelRoutes({ writer });
  const importer = new RouteImporter(speaker, kernel);
  const only = (...allowed: string[]) => (p: Prefix) => allowed.some((a) => P(a).network === p.network && P(a).length === p.length);
  const settle = async () => { await new Promise((r) => setImmediate(r)); await kernel.flush(); };
  return { speaker, kernel, importer, batches, only, settle, taken };
}

test('importer: filtered by the receive policy, best path across peers with ECMP, withdraws remove, never a route it did not write', async () => {
  const w = world();
  w.importer.setPeer('r1', { peerAddress: ip('10.0.0.1'), ebgp: true, accept: w.only('10.77.1.0/24', '10.77.2.0/24') });
  w.importer.setPeer('r2', { peerAddress: ip('10.0.0.2'), ebgp: true, accept: () => true });
  w.importer.setPeer('r3', { peerAddress: ip('10.0.0.3'), ebgp: true }); // no policy: nothing
  w.speaker.emit('update', { peerId: 'r1', update: announce(['10.77.1.0/24', '10.77.2.0/24', '10.77.9.0/24'], '10.0.0.1') });
  w.speaker.emit('update', { peerId: 'r2', update: announce(['10.77.1.0/24'], '10.0.0.2') });
  w.speaker.emit('update', { peerId: 'r2', update: announce(['10.77.2.0/24'], '10.0.0.2', [], [65002, 65003]) });
  w.speaker.emit('update', { peerId: 'r3', update: announce(['10.77.3.0/24'], '10.0.0.3') });
  await w.settle();
  assert.deepEqual([...w.kernel.routes().values()].map(routeText).sort(), [
    '10.77.1.0/24 via 10.0.0.1 via 10.0.0.2',
    '10.77.2.0/24 via 10.0.0.1',
  ]);
  assert.deepEqual(w.importer.status('r1'), { received: 3, accepted: 2, installed: 2, stale: 0, treatedAsWithdraw: 0 });
  assert.deepEqual(w.importer.status('r3'), { received: 1, accepted: 0, installed: 0, stale: 0, treatedAsWithdraw: 0 });
  w.speaker.emit('update', { peerId: 'r1', update: withdraw(['10.77.1.0/24', '10.77.2.0/24']) });
  await w.settle();
  assert.deepEqual([...w.kernel.routes().values()].map(routeText).sort(), [
    '10.77.1.0/24 via 10.0.0.2',
    '10.77.2.0/24 via 10.0.0.2', // the longer path takes over
  ]);
  w.speaker.emit('update', { peerId: 'r2', update: withdraw(['10.77.2.0/24']) });
  await w.settle();
  assert.deepEqual(w.batches.at(-1), 'delete 10.77.2.0/24 via 10.0.0.2');
  await w.importer.close();
  assert.deepEqual(w.batches.at(-1), 'delete 10.77.1.0/24 via 10.0.0.2', 'shutdown removes what is left');
  assert.equal(w.kernel.routes().size, 0);
});

test('importer: RFC 7606 treat-as-withdraw removes the UPDATE\'s prefixes; attribute-discard keeps them', async () => {
  const w = world();
  w.importer.setPeer('r1', { peerAddress: ip('10.0.0.1'), ebgp: true, accept: () => true });
  w.speaker.emit('update', { peerId: 'r1', update: announce(['10.77.1.0/24', '10.77.2.0/24'], '10.0.0.1') });
  const discard: UpdateProblem = { action: 'attribute-discard', code: 3, subcode: 1, detail: 'bad ATOMIC_AGGREGATE' };
  const asWithdraw: UpdateProblem = { action: 'treat-as-withdraw', code: 3, subcode: 1, detail: 'bad ORIGIN' };
  w.speaker.emit('update', { peerId: 'r1', update: announce(['10.77.2.0/24'], '10.0.0.1', [asWithdraw]) });
  w.speaker.emit('update', { peerId: 'r1', update: announce(['10.77.3.0/24'], '10.0.0.1', [discard]) });
  await w.settle();
  assert.deepEqual([...w.importer.installed().keys()].sort(), ['10.77.1.0/24', '10.77.3.0/24']);
  assert.equal(w.importer.status('r1')?.treatedAsWithdraw, 1);
});

test('importer: session loss drops routes at once without GR; with GR they stay stale until End-of-RIB', async () => {
  const w = world();
  const negotiated = (gr: boolean) => ({ gracefulRestart: gr, peerRouterId: '10.0.0.1' });
  w.importer.setPeer('r1', { peerAddress: ip('10.0.0.1'), ebgp: true, accept: () => true });
  w.speaker.emit('established', { peerId: 'r1', negotiated: negotiated(false) });
  w.speaker.emit('update', { peerId: 'r1', update: announce(['10.77.1.0/24'], '10.0.0.1') });
  await w.settle();
  w.speaker.emit('state', { peerId: 'r1', from: 'Established', to: 'Idle', reason: 'hold timer' });
  await w.settle();
  assert.equal(w.kernel.routes().size, 0);

  w.speaker.emit('established', { peerId: 'r1', negotiated: negotiated(true) });
  w.speaker.emit('update', { peerId: 'r1', update: announce(['10.77.1.0/24', '10.77.2.0/24'], '10.0.0.1') });
  w.speaker.emit('state', { peerId: 'r1', from: 'Established', to: 'Idle', reason: 'peer restarting' });
  await w.settle();
  assert.equal(w.kernel.routes().size, 2, 'kept through the restart');
  assert.equal(w.importer.status('r1')?.stale, 2);
  w.speaker.emit('established', { peerId: 'r1', negotiated: negotiated(true) });
  w.speaker.emit('update', { peerId: 'r1', update: announce(['10.77.1.0/24'], '10.0.0.1') });
  w.speaker.emit('update', { peerId: 'r1', update: { withdrawn: [], attributes: { other: [] }, nlri: [], problems: [], endOfRib: 4 } });
  await w.settle();
  assert.deepEqual([...w.importer.installed().keys()], ['10.77.1.0/24'], 'what was not re-sent before End-of-RIB is gone');
  await w.importer.close();
});

test('importer: a route the kernel refuses (another\'s route in the slot) is neither counted installed nor deleted later', async () => {
  const w = world();
  w.taken.add('10.77.5.0/24');
  w.importer.setPeer('r1', { peerAddress: ip('10.0.0.1'), ebgp: true, accept: () => true });
  w.speaker.emit('update', { peerId: 'r1', update: announce(['10.77.5.0/24', '10.77.6.0/24'], '10.0.0.1') });
  await w.settle();
  assert.deepEqual([...w.kernel.routes().values()].map(routeText), ['10.77.6.0/24 via 10.0.0.1']);
  assert.equal(w.importer.status('r1')?.installed, 1);
  w.speaker.emit('update', { peerId: 'r1', update: withdraw(['10.77.5.0/24']) });
  await w.settle();
  assert.ok(!w.batches.includes('delete 10.77.5.0/24 via 10.0.0.1'), 'never a delete for a route that is not ours');
  await w.importer.close();
});

test('importer: a peer set while its session is up learns its router ID and GR from sessionUp (its routes then stay stale on loss)', async () => {
  const w = world();
  w.importer.setPeer('r1', { peerAddress: ip('10.0.0.1'), ebgp: true, accept: () => true });
  w.importer.sessionUp('r1', { gracefulRestart: true, peerRouterId: '10.0.0.1' } as never);
  w.speaker.emit('update', { peerId: 'r1', update: announce(['10.77.1.0/24'], '10.0.0.1') });
  w.speaker.emit('state', { peerId: 'r1', from: 'Established', to: 'Idle', reason: 'peer restarting' });
  await w.settle();
  assert.equal(w.importer.status('r1')?.stale, 1);
  assert.equal(w.kernel.routes().size, 1, 'kept through the restart');
  await w.importer.close();
});
