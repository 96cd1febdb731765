import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type ControlFields, Diag, SessionState, decodeControl, encodeControl } from './packet.ts';

const base: ControlFields = {
  diag: Diag.None, state: SessionState.Down, poll: false, final: false, controlPlaneIndependent: false, demand: false,
  detectMult: 3, myDiscriminator: 0x11223344, yourDiscriminator: 0, desiredMinTxUs: 1_000_000, requiredMinRxUs: 300_000, requiredMinEchoRxUs: 0,
};

test('encodes every field at its RFC 5880 §4.1 position', () => {
  const b = encodeControl({ ...base, diag: Diag.PathDown, state: SessionState.Up, poll: true, controlPlaneIndependent: true, demand: true,
    detectMult: 5, yourDiscriminator: 0xdeadbeef, desiredMinTxUs: 50_000, requiredMinRxUs: 60_000, requiredMinEchoRxUs: 70_000 });
  assert.equal(b.length, 24);
  assert.equal(b[0], (1 << 5) | 5); // version 1, diag 5
  assert.equal(b[1], (3 << 6) | 0x20 | 0x08 | 0x02); // Up, P, C, D
  assert.equal(b[2], 5);
  assert.equal(b[3], 24);
  assert.equal(b.readUInt32BE(4), 0x11223344);
  assert.equal(b.readUInt32BE(8), 0xdeadbeef);
  assert.equal(b.readUInt32BE(12), 50_000);
  assert.equal(b.readUInt32BE(16), 60_000);
  assert.equal(b.readUInt32BE(20), 70_000);
});

test('decode inverts encode for every state, diag and flag', () => {
  for (const state of [SessionState.AdminDown, SessionState.Down, SessionState.Init, SessionState.Up]) {
    for (let diag = 0; diag <= 8; diag++) {
      for (const [poll, final, c, d] of [[false, false, false, false], [true, false, true, false], [false, true, false, true]] as const) {
        const f = { ...base, state, diag: diag as Diag, poll, final, controlPlaneIndependent: c, demand: d, yourDiscriminator: 7 };
        const r = decodeControl(encodeControl(f));
        assert.ok(r.ok);
        assert.deepEqual(r.packet, { ...f, version: 1, length: 24, authPresent: false, multipoint: false });
      }
    }
  }
});

test('the F bit sits at 0x10', () => {
  assert.equal(encodeControl({ ...base, final: true })[1]! & 0x30, 0x10);
});

test('refuses to encode P and F together or out-of-range fields', () => {
  assert.throws(() => encodeControl({ ...base, poll: true, final: true }), /Poll and Final/);
  assert.throws(() => encodeControl({ ...base, detectMult: 256 }), /detect multiplier/);
  assert.throws(() => encodeControl({ ...base, desiredMinTxUs: 2 ** 32 }), /32 bits/);
});

test('§6.8.6: bad packets are discarded with the reason', () => {
  const cases: [string, Buffer, string][] = [
    ['short', encodeControl(base).subarray(0, 23), 'short'],
    ['version 0', encodeControl({ ...base, version: 0 }), 'bad-version'],
    ['version 2', encodeControl({ ...base, version: 2 }), 'bad-version'],
    ['length 23', encodeControl({ ...base, length: 23 }), 'bad-length'],
    ['length beyond payload', encodeControl({ ...base, length: 40 }), 'length-exceeds-payload'],
    ['detect mult 0', encodeControl({ ...base, detectMult: 0 }), 'zero-detect-mult'],
    ['multipoint', encodeControl({ ...base, multipoint: true }), 'multipoint'],
    ['my discriminator 0', encodeControl({ ...base, myDiscriminator: 0 }), 'zero-my-discriminator'],
    ['your discr 0 in Init', encodeControl({ ...base, state: SessionState.Init }), 'zero-your-discriminator-not-down'],
    ['your discr 0 in Up', encodeControl({ ...base, state: SessionState.Up }), 'zero-your-discriminator-not-down'],
    ['A bit, length 24', encodeControl({ ...base, authPresent: true }), 'bad-length'],
  ];
  for (const [what, buf, reason] of cases) {
    const r = decodeControl(buf);
    assert.equal(r.ok, false, what);
    if (!r.ok) assert.equal(r.reason, reason, what);
  }
  // An authenticated packet (A bit, auth section present) is refused cleanly: ironlb runs no auth.
  const withAuth = Buffer.concat([encodeControl({ ...base, authPresent: true, length: 24 + 8 }), Buffer.from([1, 8, 1, 0, 0x61, 0x62, 0x63, 0x64])]);
  assert.deepEqual(decodeControl(withAuth), { ok: false, reason: 'auth-not-supported' });
});

test('your discriminator 0 is fine in Down and AdminDown; trailing bytes beyond Length are ignored', () => {
  assert.ok(decodeControl(encodeControl({ ...base, state: SessionState.AdminDown })).ok);
  const r = decodeControl(Buffer.concat([encodeControl(base), Buffer.alloc(4)]));
  assert.ok(r.ok);
});
