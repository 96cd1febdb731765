import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bfdProfileProblems, defaultBfdProfile, validateBfdProfile } from './profile.ts';

test('MetalLB defaults are valid', () => {
  assert.deepEqual(bfdProfileProblems(defaultBfdProfile()), []);
  const p = defaultBfdProfile('x');
  assert.equal(validateBfdProfile(p), p);
});

test('every field is checked against MetalLB\'s limits, and the error names profile and field', () => {
  const bad = defaultBfdProfile('fast', { receiveIntervalMs: 9, transmitIntervalMs: 60001, detectMultiplier: 1, echoIntervalMs: 2.5, minimumTtl: 255 });
  const msgs = bfdProfileProblems(bad).map((e) => e.message);
  assert.deepEqual(msgs, [
    'BFD profile "fast": receiveIntervalMs: 9 is out of range: want a whole number 10..60000',
    'BFD profile "fast": transmitIntervalMs: 60001 is out of range: want a whole number 10..60000',
    'BFD profile "fast": detectMultiplier: 1 is out of range: want a whole number 2..255',
    'BFD profile "fast": echoIntervalMs: 2.5 is out of range: want a whole number 10..60000',
    'BFD profile "fast": minimumTtl: 255 is out of range: want a whole number 1..254',
  ]);
  assert.throws(() => validateBfdProfile(bad), /receiveIntervalMs/);
  assert.deepEqual(bfdProfileProblems(defaultBfdProfile('edge', { receiveIntervalMs: 10, transmitIntervalMs: 60000, detectMultiplier: 255, minimumTtl: 1 })), []);
});

test('echo mode is rejected with a clear error, never accepted and ignored', () => {
  const [e, ...rest] = bfdProfileProblems(defaultBfdProfile('echo', { echoMode: true }));
  assert.equal(rest.length, 0);
  assert.equal(e?.field, 'echoMode');
  assert.match(e.message, /BFD profile "echo": echoMode: echo mode is not supported/);
});
