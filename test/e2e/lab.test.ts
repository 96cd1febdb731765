// The lab as a test: the same scenario `npm run lab` runs, every check must pass.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { runLab } from './lab.ts';

it('lab: 2 FRR routers, 3 speakers, controller, client — routes, ECMP, BFD failover, bad edit, router loss', { timeout: 180_000 }, async () => {
  const lines: string[] = [];
  const report = await runLab({ say: (l) => lines.push(l) });
  const failed = report.checks.filter((c) => !c.ok);
  assert.deepEqual(failed, [], `${lines.join('\n')}\nlogs kept in ${report.dir}`);
  assert.ok(report.checks.length >= 20, `ran ${report.checks.length} checks`);
  assert.ok((report.figures.nodeDownToNexthopGoneMs ?? Infinity) <= 1000);
});
