import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from './clock.ts';
import { FlapDamper } from './damping.ts';

test('one or two flaps are not damped; the third in quick succession is', () => {
  const clock = new FakeClock();
  const d = new FlapDamper(clock, { halfLifeMs: 10_000, suppressThreshold: 2500, reuseThreshold: 800, penaltyPerFlap: 1000 });
  d.recordFlap();
  assert.equal(d.upDelayMs(), 0);
  clock.advance(1000);
  d.recordFlap();
  assert.equal(d.isSuppressed(), false);
  clock.advance(1000);
  d.recordFlap();
  assert.equal(d.isSuppressed(), true);
  const p = d.currentPenalty();
  const delay = d.upDelayMs();
  assert.ok(Math.abs(delay - 10_000 * Math.log2(p / 800)) <= 2, `delay ${delay}`);
  clock.advance(delay);
  assert.equal(d.isSuppressed(), false);
  assert.equal(d.upDelayMs(), 0);
});

test('the penalty halves every half-life, and slow flaps never reach suppression', () => {
  const clock = new FakeClock();
  const d = new FlapDamper(clock, { halfLifeMs: 5000 });
  d.recordFlap();
  clock.advance(5000);
  assert.ok(Math.abs(d.currentPenalty() - 500) < 1e-6);
  for (let i = 0; i < 10; i++) { clock.advance(60_000); d.recordFlap(); }
  assert.equal(d.isSuppressed(), false);
});

test('the penalty is capped so no suppression outlasts maxSuppressMs', () => {
  const clock = new FakeClock();
  const d = new FlapDamper(clock, { halfLifeMs: 1000, maxSuppressMs: 8000, reuseThreshold: 800 });
  for (let i = 0; i < 100; i++) d.recordFlap();
  assert.ok(d.upDelayMs() <= 8001);
});

test('rejects inconsistent thresholds', () => {
  assert.throws(() => new FlapDamper(new FakeClock(), { reuseThreshold: 3000, suppressThreshold: 2000 }), /reuseThreshold/);
});
