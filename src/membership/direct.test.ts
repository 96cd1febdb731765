import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deriveKey, encode } from './codec.ts';
import { decodeDirect, DirectEncoder, directEpochMs, DirectReceiver, encodeDirect, epochAt, isDirectBytes } from './direct.ts';

// Time is a number the test advances.
const key = deriveKey('s3cret');

test('a direct message round-trips; a wrong key, a flipped bit, a gossip message or garbage is refused', () => {
  const d = { kind: 'beat' as const, from: 'node-1.example', inc: 1764700000123, epoch: 42 };
  const b = encodeDirect(key, d);
  assert.equal(b.length, 16 + 'node-1.example'.length + 32, 'no JSON: a fixed header, the name, the MAC');
  assert.deepEqual(decodeDirect(key, b), d);
  for (const kind of ['stop', 'back'] as const) assert.equal(decodeDirect(key, encodeDirect(key, { ...d, kind }))?.kind, kind);
  assert.equal(decodeDirect(deriveKey('other'), b), undefined);
  for (const at of [2, 5, 12, 20, b.length - 1]) {
    const f = Buffer.from(b);
    f[at]! ^= 1;
    assert.equal(decodeDirect(key, f), undefined, `bit flipped at byte ${at}`);
  }
  assert.equal(decodeDirect(key, b.subarray(0, b.length - 1)), undefined, 'truncated');
  const gossip = encode(key, { k: 'ping', from: 'n1', inc: 1, seq: 1, updates: [] });
  assert.equal(isDirectBytes(gossip), false, 'the gossip has its own version byte');
  assert.equal(decodeDirect(key, gossip), undefined);
  assert.equal(decodeDirect(key, Buffer.from('hello')), undefined);
});

test('the sender encodes once per epoch and incarnation: the same bytes until either moves', () => {
  const e = new DirectEncoder(key, 'n1');
  const a = e.bytes('beat', 7, 1000);
  assert.equal(e.bytes('beat', 7, 1000 + directEpochMs - 1 - (1000 % directEpochMs)), a, 'same epoch: the cached bytes');
  assert.notEqual(e.bytes('stop', 7, 1000), a, 'another kind');
  const next = e.bytes('beat', 7, 1000 + directEpochMs);
  assert.notDeepEqual(next, a, 'next epoch');
  assert.equal(decodeDirect(key, next)?.epoch, epochAt(1000) + 1);
  assert.equal(decodeDirect(key, e.bytes('beat', 8, 1000 + directEpochMs))?.inc, 8, 'a refutation raises the incarnation');
});

test('the receiver verifies the HMAC once per epoch and sender; repeats of verified bytes skip it', () => {
  const e = new DirectEncoder(key, 'n1');
  const r = new DirectReceiver(key);
  let now = 0;
  for (let i = 0; i < 100; i++, now += 5) {
    assert.equal(r.accept(e.bytes('beat', 1, now), '10.0.0.1:40000', now)?.from, 'n1');
  }
  assert.equal(r.verified, Math.ceil(500 / directEpochMs), 'one verification per epoch, not per heartbeat');
});

test('replays: older epochs are dropped, and the newest bytes are believed for at most two epochs', () => {
  const e = new DirectEncoder(key, 'n1');
  const r = new DirectReceiver(key);
  const old = e.bytes('beat', 1, 0);
  assert.ok(r.accept(old, 'a:1', 0));
  const newer = e.bytes('beat', 1, directEpochMs);
  assert.ok(r.accept(newer, 'a:1', directEpochMs));
  assert.equal(r.accept(old, 'a:1', directEpochMs + 1), undefined, 'an older epoch, verified again: a replay');
  assert.equal(r.accept(old, 'b:2', directEpochMs + 1), undefined, 'from another address too');
  // The owner dies after its last heartbeat; someone replays that datagram over and over.
  assert.ok(r.accept(newer, 'a:1', directEpochMs + 2 * directEpochMs), 'within two epochs of first seeing it');
  assert.equal(r.accept(newer, 'a:1', directEpochMs + 2 * directEpochMs + 1), undefined, 'then stale: the detector fires');
  // The owner restarted (a new incarnation, its clock from zero): believed at once.
  assert.equal(r.accept(new DirectEncoder(key, 'n1').bytes('beat', 2, 0), 'a:3', 10_000)?.inc, 2);
  // A forged one changes nothing.
  assert.equal(r.accept(encodeDirect(deriveKey('guess'), { kind: 'beat', from: 'n1', inc: 99, epoch: 1e6 }), 'a:1', 10_001), undefined);
  assert.equal(r.accept(new DirectEncoder(key, 'n1').bytes('beat', 2, 100), 'a:3', 10_002)?.inc, 2, 'the newest record is unchanged by a forgery');
});

test('forget: a member that left starts over (its next incarnation is not compared with stale records)', () => {
  const r = new DirectReceiver(key);
  const b = new DirectEncoder(key, 'n1').bytes('beat', 5, 1000);
  assert.ok(r.accept(b, 'a:1', 0));
  r.forget('n1');
  assert.ok(r.accept(new DirectEncoder(key, 'n1').bytes('beat', 5, 0), 'a:1', 1000), 'an older epoch is accepted once its sender was forgotten');
});
