// The layer-2 lab as a test: the same scenario `npm run lab -- l2` runs, every check must pass.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { runL2Lab } from './l2-lab.ts';

it('layer-2 lab: one ARP/NDP answer from the owner, interface selection, failover under 1 s silent and loud, no flap', { timeout: 400_000 }, async () => {
  const lines: string[] = [];
  const report = await runL2Lab({ say: (l) => lines.push(l) });
  const failed = report.checks.filter((c) => !c.ok);
  assert.deepEqual(failed, [], `${lines.join('\n')}\nlogs kept in ${report.dir}`);
  assert.ok(report.checks.length >= 27, `ran ${report.checks.length} checks`);
});
