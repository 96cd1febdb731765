import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { rankNodes } from '../speaker/l2-owner.ts';

// Two speakers on loopback (127.0.0.1 and 127.0.0.2, real gossip and heartbeats over UDP), one
// layer-2 Service. A stall of either speaker's event loop, longer than the heartbeat deadline,
// must not move the Service: the owner's heartbeats come from a worker thread, and the successor
// reads what queued during its own stall before judging. Then the owner dies and the successor
// does take over (the detector still works). Behaviour only: no timed assertion.

const child = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'l2', 'stall-speaker.ts');
const ip = '192.0.2.10';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class Speaker {
  readonly p: ChildProcess;
  claims: string[] | undefined;
  /** Every time it started answering for the Service IP. */
  tookIp = 0;
  stalled = 0;
  live: string[] = [];
  watching: string[] = [];
  /** Its log (why it took or yielded an IP), for the failure messages. */
  readonly log: string[] = [];
  constructor(readonly name: string, port: number) {
    // Heartbeats every 10 ms, 10 misses: a 105 ms deadline, well under the stalls below.
    // L2_STALL_HEARTBEAT=5:3 (interval:misses) tries other settings by hand, e.g. the defaults.
    const [every, misses] = (process.env.L2_STALL_HEARTBEAT ?? '10:10').split(':') as [string, string];
    this.p = spawn(process.execPath, ['--import', 'tsx', child, name, String(port), every, misses], { stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: this.p.stdout! }).on('line', (line) => {
      const m = JSON.parse(line) as { claims?: string[]; stalled?: number; live?: string[]; watching?: string[]; msg?: string };
      if (m.msg !== undefined) this.log.push(`${this.name}: ${m.msg}${'node' in m ? ` (${JSON.stringify(m)})` : ''}`);
      if (m.live) this.live = m.live;
      if (m.watching) this.watching = m.watching;
      if (m.claims) {
        if (m.claims.includes(ip) && !this.claims?.includes(ip)) this.tookIp++;
        this.claims = m.claims;
      }
      if (m.stalled !== undefined) this.stalled++;
    });
  }
  owns(): boolean { return this.claims?.includes(ip) ?? false; }
  async stall(ms: number): Promise<void> {
    const before = this.stalled;
    this.p.stdin!.write(`stall ${ms}\n`);
    await until(`${this.name} stalled`, 30_000, () => this.stalled > before);
  }
}

async function until(what: string, ms: number, ok: () => boolean): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) assert.fail(`${what}: not within ${ms} ms`);
    await sleep(10);
  }
}

test('a stalled event loop, on the owner or on its successor, moves no layer-2 IP; a dead owner does', async () => {
  const port = 20_000 + (process.pid % 20_000);
  const [ownerName, succName] = rankNodes(['n1', 'n2'], ip) as [string, string];
  const owner = new Speaker(ownerName, port);
  const succ = new Speaker(succName, port);
  try {
    // Settled: each hears the other, the successor watches the owner's heartbeats, the owner answers
    // and the successor does not. (Before this, on a loaded machine, the successor may still be
    // alone in its gossip and answer for a moment: that is start-up, not a stall.)
    await until('the successor watches the owner\'s heartbeats; the owner alone answers', 60_000,
      () => owner.live.length === 2 && succ.live.length === 2 && succ.watching.includes(ownerName) && owner.owns() && succ.claims !== undefined && !succ.owns());
    await sleep(500);
    const took = succ.tookIp;
    const why = (): string => `\n${[...owner.log, ...succ.log].slice(-12).join('\n')}`;
    for (let i = 0; i < 3; i++) {
      await owner.stall(250);
      await sleep(700);
      assert.equal(succ.tookIp, took, `the owner's event loop stalled 250 ms (round ${i + 1}): its successor must not take over${why()}`);
      assert.ok(owner.owns());
      await succ.stall(250);
      await sleep(700);
      assert.equal(succ.tookIp, took, `the successor's event loop stalled 250 ms (round ${i + 1}): it must not take over${why()}`);
    }
    owner.p.kill('SIGKILL');
    await until('the successor takes over from the dead owner', 30_000, () => succ.owns());
  } finally {
    owner.p.kill('SIGKILL');
    succ.p.stdin!.write('stop\n');
    await sleep(200);
    succ.p.kill('SIGKILL');
  }
});
