import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from './clock.ts';
import { type ControlFields, type ControlPacket, Diag, SessionState, decodeControl, encodeControl } from './packet.ts';
import { defaultBfdProfile } from './profile.ts';
import type { BfdProfile } from '../config/types.ts';
import { BfdSession, SLOW_TX_US } from './session.ts';

const S = SessionState;

/** A session with its sent packets and transitions recorded. */
function solo(clock: FakeClock, profile: BfdProfile = defaultBfdProfile(), discr = 100, random = () => 0) {
  const sent: { at: number; p: ControlPacket }[] = [];
  const changes: [SessionState, SessionState, Diag][] = [];
  const s = new BfdSession(discr, profile, {
    clock, random,
    send: (f) => { const r = decodeControl(encodeControl(f)); assert.ok(r.ok); sent.push({ at: clock.now(), p: r.packet }); },
    onStateChange: (from, to, diag) => changes.push([from, to, diag]),
  });
  return { s, sent, changes };
}

/** Two sessions joined by a 1 ms link that can be cut. */
function pair(pa: BfdProfile, pb: BfdProfile, random = () => 0.5) {
  const clock = new FakeClock();
  let up = true;
  const mk = (p: BfdProfile, discr: number, peer: () => BfdSession) => {
    const changes: [SessionState, SessionState, Diag][] = [];
    const sent: ControlFields[] = [];
    const s = new BfdSession(discr, p, {
      clock, random,
      send: (f) => {
        sent.push(f);
        if (!up) return;
        const r = decodeControl(encodeControl(f));
        assert.ok(r.ok);
        clock.setTimer(1, () => { if (up) peer().receive(r.packet); });
      },
      onStateChange: (from, to, diag) => changes.push([from, to, diag]),
    });
    return { s, changes, sent };
  };
  const a = mk(pa, 1, () => b.s);
  const b = mk(pb, 2, () => a.s);
  return { clock, a, b, cut: () => { up = false; }, heal: () => { up = true; } };
}

const pkt = (o: Partial<ControlPacket>): ControlPacket => ({
  version: 1, diag: Diag.None, state: S.Down, poll: false, final: false, controlPlaneIndependent: false, authPresent: false,
  demand: false, multipoint: false, detectMult: 3, length: 24, myDiscriminator: 900, yourDiscriminator: 0,
  desiredMinTxUs: 300_000, requiredMinRxUs: 300_000, requiredMinEchoRxUs: 0, ...o,
});

test('starts Down, sending slow (≥ 1 s) with your-discriminator 0 and no P/F', () => {
  const clock = new FakeClock();
  const { s, sent } = solo(clock, defaultBfdProfile('p', { transmitIntervalMs: 50, receiveIntervalMs: 70 }));
  s.start();
  clock.advance(3000);
  assert.equal(s.state, S.Down);
  assert.ok(sent.length >= 3 && sent.length <= 4, `sent ${sent.length}`);
  for (const { p } of sent) {
    assert.equal(p.state, S.Down);
    assert.equal(p.yourDiscriminator, 0);
    assert.equal(p.desiredMinTxUs, SLOW_TX_US);
    assert.equal(p.requiredMinRxUs, 70_000);
    assert.equal(p.requiredMinEchoRxUs, 0);
    assert.equal(p.poll || p.final || p.demand || p.controlPlaneIndependent, false);
  }
});

test('Down → Init → Up on the RFC reception rules, and Down → Up on Init', () => {
  const clock = new FakeClock();
  const { s, changes } = solo(clock);
  s.start();
  s.receive(pkt({ state: S.Down }));
  assert.equal(s.state, S.Init);
  s.receive(pkt({ state: S.Up, yourDiscriminator: 100 }));
  assert.equal(s.state, S.Up);
  assert.deepEqual(changes, [[S.Down, S.Init, Diag.None], [S.Init, S.Up, Diag.None]]);

  const b = solo(clock);
  b.s.start();
  b.s.receive(pkt({ state: S.Init, yourDiscriminator: 100 }));
  assert.equal(b.s.state, S.Up);
  // Init stays Init on Down; Init → Up also on Init.
  const c = solo(clock);
  c.s.start();
  c.s.receive(pkt({ state: S.Down }));
  c.s.receive(pkt({ state: S.Down }));
  assert.equal(c.s.state, S.Init);
  c.s.receive(pkt({ state: S.Init, yourDiscriminator: 100 }));
  assert.equal(c.s.state, S.Up);
  // Down ignores Up (the peer must see us first).
  const d = solo(clock);
  d.s.start();
  d.s.receive(pkt({ state: S.Up, yourDiscriminator: 100 }));
  assert.equal(d.s.state, S.Down);
});

test('Up → Down with diag 3 when the peer says Down or AdminDown; Init → Down on AdminDown', () => {
  const clock = new FakeClock();
  for (const remote of [S.Down, S.AdminDown]) {
    const { s, changes, sent } = solo(clock);
    s.start();
    s.receive(pkt({ state: S.Init, yourDiscriminator: 100 }));
    const n = sent.length;
    s.receive(pkt({ state: remote, yourDiscriminator: 100, diag: Diag.ControlDetectionTimeExpired }));
    assert.equal(s.state, S.Down);
    assert.deepEqual(changes.at(-1), [S.Up, S.Down, Diag.NeighborSignaledSessionDown]);
    assert.equal(s.snapshot().remoteDiag, Diag.ControlDetectionTimeExpired);
    // Down is told to the peer at once, with the diag, back at the slow rate.
    assert.equal(sent.length, n + 1);
    assert.equal(sent.at(-1)!.p.diag, Diag.NeighborSignaledSessionDown);
    assert.equal(sent.at(-1)!.p.desiredMinTxUs, SLOW_TX_US);
  }
  const { s, changes } = solo(clock);
  s.start();
  s.receive(pkt({ state: S.Down }));
  s.receive(pkt({ state: S.AdminDown }));
  assert.deepEqual(changes.at(-1), [S.Init, S.Down, Diag.NeighborSignaledSessionDown]);
  // AdminDown while Down: stays Down, no transition.
  const before = changes.length;
  s.receive(pkt({ state: S.AdminDown }));
  assert.equal(changes.length, before);
});

test('two sessions come Up, then negotiate: TX = max(local desired TX, remote required RX), detection = remote mult × agreed interval', () => {
  const { clock, a, b } = pair(
    defaultBfdProfile('a', { transmitIntervalMs: 100, receiveIntervalMs: 200, detectMultiplier: 3 }),
    defaultBfdProfile('b', { transmitIntervalMs: 300, receiveIntervalMs: 150, detectMultiplier: 5 }));
  a.s.start(); b.s.start();
  clock.advance(5000);
  assert.equal(a.s.state, S.Up);
  assert.equal(b.s.state, S.Up);
  const sa = a.s.snapshot(); const sb = b.s.snapshot();
  assert.equal(sa.pollActive, false);
  assert.equal(sa.negotiatedTxMs, 150); // max(100, b's rx 150)
  assert.equal(sb.negotiatedTxMs, 300); // max(300, a's rx 200)
  assert.equal(sa.negotiatedRxMs, 300); // max(a rx 200, b tx 300)
  assert.equal(sa.detectionTimeMs, 5 * 300);
  assert.equal(sb.detectionTimeMs, 3 * 150); // a's mult 3 × max(150, 100)
  assert.equal(sa.remoteDiscriminator, 2);
  assert.deepEqual(a.changes.map((c) => c[1]), [S.Init, S.Up]);
});

test('going Up starts a poll: P bits until F, advertised TX changes from slow to configured', () => {
  const { clock, a, b } = pair(defaultBfdProfile('a', { transmitIntervalMs: 50 }), defaultBfdProfile('b', { transmitIntervalMs: 50 }));
  a.s.start(); b.s.start();
  clock.advance(3000);
  assert.equal(a.s.state, S.Up);
  const polls = a.sent.filter((p) => p.poll);
  const finals = b.sent.filter((p) => p.final);
  assert.ok(polls.length >= 1 && finals.length >= 1);
  assert.equal(polls[0]!.desiredMinTxUs, 50_000);
  assert.ok(a.sent.every((p) => !(p.poll && p.final)));
  assert.equal(a.s.snapshot().pollActive, false);
  const late = a.sent.slice(-5);
  assert.ok(late.every((p) => !p.poll && p.desiredMinTxUs === 50_000));
});

test('a poll answers with F at once (not waiting for the TX timer)', () => {
  const clock = new FakeClock();
  const { s, sent } = solo(clock);
  s.start();
  s.receive(pkt({ state: S.Init, yourDiscriminator: 100 }));
  const n = sent.length;
  s.receive(pkt({ state: S.Up, yourDiscriminator: 100, poll: true, desiredMinTxUs: 50_000 }));
  assert.equal(sent.length, n + 1);
  assert.equal(sent.at(-1)!.p.final, true);
  assert.equal(sent.at(-1)!.p.poll, false);
});

test('timer change while Up by poll/final: larger TX waits for F, smaller RX keeps old detection until F', () => {
  const { clock, a, b, cut, heal } = pair(defaultBfdProfile('a'), defaultBfdProfile('b'));
  a.s.start(); b.s.start();
  clock.advance(5000);
  assert.equal(a.s.snapshot().negotiatedTxMs, 300);
  cut(); // hold the Final back to observe the in-between values
  a.s.updateProfile(defaultBfdProfile('a', { transmitIntervalMs: 600, receiveIntervalMs: 100 }));
  const mid = a.s.snapshot();
  assert.equal(mid.pollActive, true);
  assert.equal(mid.negotiatedTxMs, 300); // not yet 600
  assert.equal(mid.negotiatedRxMs, 300); // detection not on the smaller RX yet
  clock.advance(400);
  assert.ok(a.sent.at(-1)!.poll, 'keeps polling');
  heal();
  clock.advance(1000);
  const after = a.s.snapshot();
  assert.equal(after.pollActive, false);
  assert.equal(after.negotiatedTxMs, 600);
  assert.equal(b.s.snapshot().negotiatedTxMs, 300); // b: max(300, a's rx 100)
  assert.equal(b.s.snapshot().detectionTimeMs, 3 * 600);
  assert.equal(a.s.state, S.Up);
  assert.equal(b.s.state, S.Up);
});

test('detection timeout: Up → Down with diag 1 within the detection time, remote discriminator forgotten', () => {
  const { clock, a, b, cut } = pair(defaultBfdProfile('a'), defaultBfdProfile('b'));
  a.s.start(); b.s.start();
  clock.advance(5000);
  const t0 = clock.now();
  cut();
  clock.advance(2000);
  const down = a.changes.at(-1)!;
  assert.deepEqual(down, [S.Up, S.Down, Diag.ControlDetectionTimeExpired]);
  assert.equal(a.s.snapshot().remoteDiscriminator, 0);
  assert.ok(clock.now() - t0 > 0);
});

test('detection fires no later than the detection time after the last packet', () => {
  const clock = new FakeClock();
  const { s, changes } = solo(clock);
  s.start();
  s.receive(pkt({ state: S.Init, yourDiscriminator: 100, desiredMinTxUs: 200_000, detectMult: 4 }));
  assert.equal(s.snapshot().detectionTimeMs, 4 * 300); // max(our rx 300, their tx 200)
  clock.advance(1199);
  assert.equal(s.state, S.Up);
  clock.advance(2);
  assert.deepEqual(changes.at(-1), [S.Up, S.Down, Diag.ControlDetectionTimeExpired]);
});

test('Init times out to Down as well', () => {
  const clock = new FakeClock();
  const { s, changes } = solo(clock);
  s.start();
  s.receive(pkt({ state: S.Down }));
  clock.advance(901);
  assert.deepEqual(changes.at(-1), [S.Init, S.Down, Diag.ControlDetectionTimeExpired]);
});

test('jitter: intervals between 75 % and 100 %; 75–90 % when detect mult is 1', () => {
  for (const [mult, lo, hi] of [[3, 0.75, 1], [1, 0.75, 0.9]] as const) {
    for (const r of [0, 0.5, 0.999]) {
      const clock = new FakeClock();
      const { s, sent } = solo(clock, { ...defaultBfdProfile('j'), detectMultiplier: mult }, 100, () => r);
      s.start();
      clock.advance(10_000);
      for (let i = 1; i < sent.length; i++) {
        const gap = sent[i]!.at - sent[i - 1]!.at;
        assert.ok(gap >= lo * 1000 - 1e-6 && gap <= hi * 1000 + 1e-6, `mult ${mult} r ${r}: gap ${gap}`);
      }
    }
  }
});

test('passive mode: silent until the peer speaks, then answers; silent again after the peer vanishes', () => {
  const clock = new FakeClock();
  const { s, sent } = solo(clock, defaultBfdProfile('p', { passiveMode: true }));
  s.start();
  clock.advance(5000);
  assert.equal(sent.length, 0);
  s.receive(pkt({ state: S.Down }));
  assert.equal(s.state, S.Init);
  assert.ok(sent.length >= 1);
  assert.equal(sent[0]!.p.yourDiscriminator, 900);
  clock.advance(5000); // the peer went quiet: detection expires, discriminator forgotten
  const n = sent.length;
  clock.advance(5000);
  assert.equal(sent.length, n);
  assert.equal(s.state, S.Down);
});

test('a passive and an active session come Up', () => {
  const { clock, a, b } = pair(defaultBfdProfile('a', { passiveMode: true }), defaultBfdProfile('b'));
  a.s.start(); b.s.start();
  clock.advance(4000);
  assert.equal(a.s.state, S.Up);
  assert.equal(b.s.state, S.Up);
});

test('two passive sessions never come up (nobody speaks first)', () => {
  const { clock, a, b } = pair(defaultBfdProfile('a', { passiveMode: true }), defaultBfdProfile('b', { passiveMode: true }));
  a.s.start(); b.s.start();
  clock.advance(5000);
  assert.equal(a.sent.length + b.sent.length, 0);
});

test('demand mode is refused: D-bit packets are discarded, so a demanding peer times out', () => {
  const clock = new FakeClock();
  const { s } = solo(clock);
  s.start();
  s.receive(pkt({ state: S.Init, yourDiscriminator: 100 }));
  assert.equal(s.state, S.Up);
  assert.equal(s.receive(pkt({ state: S.Up, yourDiscriminator: 100, demand: true })), 'demand-mode-not-supported');
  clock.advance(1000);
  assert.equal(s.state, S.Down);
  assert.equal(s.snapshot().diag, Diag.ControlDetectionTimeExpired);
});

test('remote required RX 0: no periodic transmission', () => {
  const clock = new FakeClock();
  const { s, sent } = solo(clock);
  s.start();
  s.receive(pkt({ state: S.Down, requiredMinRxUs: 0 }));
  const n = sent.length;
  clock.advance(500);
  assert.equal(sent.length, n);
});

test('stop(adminDown) sends AdminDown with diag 7 and then nothing; AdminDown ignores packets', () => {
  const clock = new FakeClock();
  const { s, sent, changes } = solo(clock);
  s.start();
  s.receive(pkt({ state: S.Init, yourDiscriminator: 100 }));
  s.stop(true);
  assert.deepEqual(changes.at(-1), [S.Up, S.AdminDown, Diag.AdministrativelyDown]);
  assert.equal(sent.at(-1)!.p.state, S.AdminDown);
  assert.equal(sent.at(-1)!.p.diag, Diag.AdministrativelyDown);
  const n = sent.length;
  clock.advance(5000);
  assert.equal(sent.length, n);
  assert.equal(clock.pending(), 0);
});

test('a Final without a poll in progress is harmless', () => {
  const clock = new FakeClock();
  const { s } = solo(clock);
  s.start();
  s.receive(pkt({ state: S.Down, final: true }));
  assert.equal(s.state, S.Init);
});

test('the peer\'s C bit is recorded; ours is always clear (shared fate with ironlb\'s BGP)', () => {
  const clock = new FakeClock();
  const { s, sent } = solo(clock);
  s.start();
  s.receive(pkt({ state: S.Down, controlPlaneIndependent: true }));
  assert.equal(s.snapshot().remoteControlPlaneIndependent, true);
  s.receive(pkt({ state: S.Up, yourDiscriminator: 100 }));
  assert.equal(s.snapshot().remoteControlPlaneIndependent, false);
  assert.ok(sent.every(({ p }) => !p.controlPlaneIndependent));
});

test('a packet read after a stall, in the same loop turn as the detection timer, keeps the session Up', () => {
  const clock = new FakeClock();
  const deferred: (() => void)[] = [];
  clock.defer = (fn) => { deferred.push(fn); }; // like setImmediate: after the poll phase
  const { s } = solo(clock);
  s.start();
  s.receive(pkt({ state: S.Init, yourDiscriminator: 100 }));
  clock.advance(1000); // the loop stalled past the 900 ms detection time; the timer fires first...
  assert.equal(deferred.length, 1);
  s.receive(pkt({ state: S.Up, yourDiscriminator: 100 })); // ...then the poll phase reads the waiting packet
  deferred.shift()!();
  assert.equal(s.state, S.Up);
  clock.advance(1000); // and with nothing waiting, the verdict stands
  deferred.shift()!();
  assert.equal(s.state, S.Down);
});
