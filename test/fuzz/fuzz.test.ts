import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runFuzz } from './harness.ts';

test('20k fuzz cases through framing, decoders and the session input handler: no finding', async () => {
  const s = await runFuzz({ cases: 20_000, seed: 4242 });
  assert.deepEqual(s.findings, []);
  assert.equal(s.cases, 20_000);
  // The corpus must reach the decoders, not only bounce off the header checks.
  assert.ok(s.decoded > 2000, `decoded ${s.decoded}`);
  assert.ok(s.bgpErrors > 2000, `errors ${s.bgpErrors}`);
});
