import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import { BeatSender } from './beat-sender.ts';
import { deriveKey } from './codec.ts';
import { decodeDirect, directEpochMs, epochAt, monotonicMs } from './direct.ts';

const key = deriveKey('s3cret');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until(what: string, ok: () => boolean): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > 30_000) assert.fail(`${what}: not within 30 s`);
    await sleep(10);
  }
}

test('the worker sends signed heartbeats while the main thread is stalled, but only for the epochs it signed ahead', async () => {
  const rx = createSocket('udp4');
  await new Promise<void>((r) => rx.bind(0, '127.0.0.1', r));
  const got: { epoch: number; inc: number }[] = [];
  rx.on('message', (b) => { const d = decodeDirect(key, b); if (d?.kind === 'beat' && d.from === 'n1') got.push({ epoch: d.epoch, inc: d.inc }); });
  let inc = 7;
  const errors: Error[] = [];
  let unsigned = 0;
  const s = new BeatSender({ key, name: 'n1', everyMs: 5, aheadMs: 100, refreshMs: 20, incarnation: () => inc, onError: (e) => errors.push(e), onUnsigned: () => unsigned++ });
  try {
    s.setTargets([`127.0.0.1:${rx.address().port}`]);
    await until('five heartbeats', () => got.length >= 5 || errors.length > 0);
    assert.deepEqual(errors, []);
    assert.ok(got.every((g) => g.inc === 7));
    // A refutation: the next heartbeats carry the new incarnation.
    inc = 8;
    s.sign();
    const n = got.length;
    await until('a heartbeat at the new incarnation', () => got.slice(n).some((g) => g.inc === 8));
    const unsignedBefore = unsigned; // (on a loaded machine this thread may already have been late)
    // Block this thread (the main one) for 600 ms: the worker goes on sending, then stops.
    got.length = 0;
    const t0 = monotonicMs();
    while (monotonicMs() < t0 + 600) { /* stalled */ }
    await sleep(0); // read what queued meanwhile
    await sleep(20);
    const during = got.filter((g) => g.epoch < epochAt(t0 + 600)); // later ones were signed after the stall
    assert.ok(during.length > 0, 'heartbeats went on during the stall (sent by the worker)');
    const lastSigned = epochAt(t0 + 100) + 1; // signed ahead at most aheadMs from the last refresh before t0 (plus one epoch boundary)
    assert.ok(Math.max(...during.map((g) => g.epoch)) <= lastSigned, `no heartbeat for an epoch the main thread had not signed (${Math.max(...during.map((g) => g.epoch))} > ${lastSigned})`);
    assert.ok(epochAt(t0 + 600) - lastSigned >= 300 / directEpochMs, 'the stall outlasted what was signed');
    await until('the worker reported the pause', () => unsigned > unsignedBefore);
    assert.deepEqual(errors, [], 'the worker never failed');
  } finally {
    s.close();
    rx.close();
  }
});
