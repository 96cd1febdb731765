import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatGoDuration, parseGoDuration } from './duration.ts';

test('Go durations parse into milliseconds', () => {
  const cases: [string, number][] = [
    ['90s', 90_000], ['1m30s', 90_000], ['500ms', 500], ['1h', 3_600_000], ['1.5h', 5_400_000], ['0', 0], ['0s', 0],
    ['2h45m', 9_900_000], ['1000us', 1], ['1000µs', 1], ['3000000ns', 3], ['.5s', 500], ['-1s', -1000], ['+2s', 2000], ['1h0m0s', 3_600_000],
  ];
  for (const [text, ms] of cases) assert.deepEqual(parseGoDuration(text), { ms }, text);
});

test('what is not a Go duration says why', () => {
  assert.equal(parseGoDuration('90').error, '"90" has no unit (use ns, us, ms, s, m or h, e.g. 90s, 1m30s, 500ms or 1h)');
  assert.equal(parseGoDuration('').error, '"" is not a duration (examples: 90s, 1m30s, 500ms or 1h)');
  for (const bad of ['1d', 's', '1 s', 'abc', '1s2', '--1s', '1.2.3s']) assert.ok(parseGoDuration(bad).error, bad);
  assert.match(parseGoDuration('3000000h').error ?? '', /out of range/);
});

test('formatting matches Go time.Duration.String()', () => {
  assert.equal(formatGoDuration(120_000), '2m0s');
  assert.equal(formatGoDuration(90_000), '1m30s');
  assert.equal(formatGoDuration(30_000), '30s');
  assert.equal(formatGoDuration(0), '0s');
  assert.equal(formatGoDuration(500), '500ms');
  assert.equal(formatGoDuration(3_600_000), '1h0m0s');
  assert.equal(formatGoDuration(1500), '1.5s');
});
