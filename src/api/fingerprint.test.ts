import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fingerprint } from './fingerprint.ts';

test('fingerprint: equal strings agree, near ones differ, always a safe integer', () => {
  const seen = new Map<number, string>();
  const texts = ['', 'a', 'b', 'ab', 'ba', 'IPAllocated\0Assigned IP ["10.0.0.1"]', 'IPAllocated\0Assigned IP ["10.0.0.2"]', 'é', '\u{1F600}'];
  for (let i = 0; i < 20000; i++) texts.push(`svc-${i}\0${i % 7}`);
  for (const t of texts) {
    const f = fingerprint(t);
    assert.ok(Number.isSafeInteger(f) && f >= 0, t);
    assert.equal(fingerprint(`${t}`), f);
    assert.equal(seen.get(f) ?? t, t, `collision: ${JSON.stringify(t)} and ${JSON.stringify(seen.get(f))}`);
    seen.set(f, t);
  }
});
