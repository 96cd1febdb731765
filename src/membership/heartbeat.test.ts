import assert from 'node:assert/strict';
import { test } from 'node:test';
import { heartbeatDeadlineMs, OwnerWatch } from './heartbeat.ts';

// Time is a number the test advances: no timers, no timed assertions.

test('deadline: misses × interval plus half an interval of slack', () => {
  assert.equal(heartbeatDeadlineMs(10, 3), 35);
  assert.equal(heartbeatDeadlineMs(5, 4), 23);
});

test('an owner that keeps sending is never down; silence past the deadline makes it down once', () => {
  const w = new OwnerWatch(35);
  let t = 0;
  w.beat('a', t);
  for (let i = 0; i < 100; i++) {
    t += 10;
    w.beat('a', t);
    assert.deepEqual(w.expire(t), []);
  }
  assert.equal(w.nextDeadline(), t + 35);
  assert.deepEqual(w.expire(t + 34), [], 'three missed heartbeats are not yet enough');
  assert.deepEqual(w.expire(t + 35), ['a']);
  assert.deepEqual([...w.down], ['a']);
  assert.deepEqual(w.expire(t + 1000), [], 'reported once');
  assert.equal(w.nextDeadline(), undefined, 'a down peer has no deadline');
});

test('a peer that never sent is never believed down (it promised nothing)', () => {
  const w = new OwnerWatch(35);
  assert.deepEqual(w.expire(1e9), []);
  assert.equal(w.nextDeadline(), undefined);
  assert.equal(w.isArmed('a'), false);
});

test('a heartbeat after the deadline brings the owner back, and says so once', () => {
  const w = new OwnerWatch(35);
  w.beat('a', 0);
  assert.deepEqual(w.expire(40), ['a']);
  assert.equal(w.beat('a', 50), true, 'back');
  assert.equal(w.down.size, 0);
  assert.equal(w.beat('a', 60), false, 'already back');
  assert.equal(w.isArmed('a'), true, 'watched again from its first heartbeat');
});

test('stop: an owner that stops sending on purpose is not watched, and not believed down', () => {
  const w = new OwnerWatch(35);
  w.beat('a', 0);
  w.stop('a');
  assert.deepEqual(w.expire(1000), []);
  assert.equal(w.down.size, 0);
});

test('clear: the gossip says the owner refuted (or it left): forget the belief and stop watching', () => {
  const w = new OwnerWatch(35);
  w.beat('a', 0);
  w.expire(100);
  assert.equal(w.clear('a'), true);
  assert.equal(w.clear('a'), false);
  assert.deepEqual(w.expire(1000), []);
  assert.equal(w.down.size, 0);
});

test('peers are independent: one down, the other still watched; the earliest deadline is next', () => {
  const w = new OwnerWatch(35);
  w.beat('a', 0);
  w.beat('b', 20);
  assert.equal(w.nextDeadline(), 35);
  assert.deepEqual(w.expire(40), ['a']);
  assert.equal(w.nextDeadline(), 55);
  w.beat('b', 50); // a 30 ms gap: b is now allowed 60 ms
  assert.deepEqual(w.expire(105), []);
  assert.deepEqual(w.expire(110), ['b']);
  assert.deepEqual([...w.down].sort(), ['a', 'b']);
});

test('a late check (the watcher itself stalled) that first delivers the queued heartbeats finds nobody down', () => {
  // The daemon checks deadlines from setImmediate after its timer, so datagrams that arrived while
  // it was stalled are handed to beat() before expire() runs.
  const w = new OwnerWatch(35);
  w.beat('a', 0);
  w.beat('a', 200); // delivered at 200 after a 200 ms stall
  assert.deepEqual(w.expire(200), []);
});

test('adaptive: an owner that stalled gets twice its longest recent gap, which halves every second', () => {
  const w = new OwnerWatch(35);
  let t = 0;
  for (; t <= 100; t += 10) w.beat('a', t);
  assert.equal(w.silenceAllowed('a'), 35, 'steady 10 ms: the base');
  t += 90; // one stall of 100 ms since the last beat at 100
  w.beat('a', t);
  assert.equal(w.silenceAllowed('a'), 200, 'twice the stall');
  assert.deepEqual(w.expire(t + 150), [], 'a second stall as long is survived');
  w.beat('a', t + 100);
  assert.ok(w.silenceAllowed('a') >= 200);
  // A quiet second later the allowance is back near the base; a few seconds later, at it.
  t += 100;
  for (let i = 0; i < 100; i++) w.beat('a', (t += 10));
  assert.ok(w.silenceAllowed('a') <= 110 && w.silenceAllowed('a') >= 35, `after 1 s: ${w.silenceAllowed('a')}`);
  for (let i = 0; i < 300; i++) w.beat('a', (t += 10));
  assert.equal(w.silenceAllowed('a'), 35);
});

test('resume: a watcher that did not run for a while gives every owner its allowance again from when it runs', () => {
  const w = new OwnerWatch(35);
  w.beat('a', 0);
  w.beat('b', 10);
  w.resume(100); // our own check ran at 100 instead of 35: nobody could be judged meanwhile
  assert.deepEqual(w.expire(100), [], 'the silence while we were stalled proves nothing');
  assert.deepEqual(w.expire(134), []);
  assert.deepEqual(w.expire(135), ['a', 'b'], 'still silent one allowance after we resumed: down');
  w.beat('c', 200);
  w.resume(201);
  assert.equal(w.nextDeadline(), 236, 'a short lateness moves the deadline by at most the allowance');
  w.resume(150);
  assert.equal(w.nextDeadline(), 236, 'never earlier');
});

test('our own stall is not the owner\'s: heartbeats read back to back after a gap take that gap back', () => {
  const w = new OwnerWatch(35, 1000, 10);
  let t = 0;
  for (; t <= 100; t += 10) w.beat('a', t);
  // We did not read for 100 ms: the 10 heartbeats sent meanwhile are read at once at 200.
  t = 200;
  for (let i = 0; i < 10; i++) w.beat('a', t + i * 0.01);
  assert.equal(w.silenceAllowed('a'), 35, 'the owner sent every 10 ms: the base allowance');
  // The owner itself stalls 100 ms (its sender does not catch up): one heartbeat, then the next an interval later.
  t = 300.09;
  w.beat('a', t);
  assert.equal(Math.round(w.silenceAllowed('a')), 200, 'twice the owner\'s own stall');
  w.beat('a', t + 10);
  assert.ok(w.silenceAllowed('a') >= 199, 'still allowed after the next heartbeat');
  // Without the interval the watcher cannot tell: the stall counts (the behaviour of new OwnerWatch(35)).
  const blind = new OwnerWatch(35);
  for (let x = 0; x <= 100; x += 10) blind.beat('a', x);
  for (let i = 0; i < 10; i++) blind.beat('a', 200 + i * 0.01);
  assert.ok(blind.silenceAllowed('a') >= 199);
});

test('a partly queued burst takes back only the intervals that queued', () => {
  const w = new OwnerWatch(35, 1000, 10);
  let t = 0;
  for (; t <= 100; t += 10) w.beat('a', t);
  // The owner was silent 60 ms (its stall), then we stalled 40 ms more: 4 heartbeats read at once at 200.
  for (let i = 0; i < 4; i++) w.beat('a', 200 + i * 0.01);
  // 100 ms between reads, of which 3 intervals (after the first of the burst) were ours.
  assert.equal(Math.round(w.silenceAllowed('a')), 140, 'twice the 70 ms that remain');
});

test('a new owner is given time for its heartbeat thread to start: the wait after its first heartbeat is at least the grace', () => {
  const w = new OwnerWatch(35, 1000, 10, 250);
  w.beat('a', 0); // announced by the owner's main thread
  assert.deepEqual(w.expire(100), [], 'its heartbeat thread may still be opening its socket');
  w.beat('a', 200); // the heartbeat thread's first
  for (let t = 210; t <= 300; t += 10) w.beat('a', t);
  assert.ok(w.silenceAllowed('a') < 250, 'steady from then on: no grace');
  assert.deepEqual(w.expire(300 + w.silenceAllowed('a')), ['a']);
  const fresh = new OwnerWatch(35, 1000, 10, 250);
  fresh.beat('b', 0);
  assert.deepEqual(fresh.expire(250), ['b'], 'an owner that never sends again is down after the grace');
});
