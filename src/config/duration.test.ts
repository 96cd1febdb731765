import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatMs, parseDurationMs } from './duration.ts';

test('durations parse like Go time.ParseDuration, to whole milliseconds', () => {
  const cases: [string, number][] = [
    ['0', 0], ['0s', 0], ['90s', 90_000], ['1m30s', 90_000], ['1.5h', 5_400_000], ['300ms', 300],
    ['1.1s', 1_100], ['+2s', 2_000], ['1500us', 1], ['999999ns', 0], ['2m', 120_000], ['.5s', 500],
  ];
  for (const [text, ms] of cases) assert.deepEqual(parseDurationMs(text), { ms }, text);
});

test('malformed and negative durations are refused with the allowed syntax', () => {
  for (const text of ['', '90', 's', '1x', '1s2', '1..5s', '.s']) {
    assert.match(parseDurationMs(text).error ?? '', /is not a duration such as "90s"/, text);
  }
  assert.equal(parseDurationMs('-1s').error, '"-1s" is negative: a duration here must be >= 0');
});

test('milliseconds print back in the shortest exact form', () => {
  assert.equal(formatMs(90_000), '1m30s');
  assert.equal(formatMs(120_000), '2m');
  assert.equal(formatMs(30_000), '30s');
  assert.equal(formatMs(1_500), '1500ms');
});
