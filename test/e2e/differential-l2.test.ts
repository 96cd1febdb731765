// The differential suite's layer-2 half (issue #13): MetalLB's speaker (v0.15.x) and ironlb's, each
// in turn on the three network-namespace nodes of test/differential/bgp-world.ts (md-*), with no
// liveness gossip (every Node eligible, as both do without memberlist), for the scenarios of
// l2-scenarios.ts: which nodes answer ARP/NDP for each Service address, asked from a client on the
// same segment (and, in `interfaces`, on a second segment the nodes reach through eth1), the
// ServiceL2Status objects, and the Events the speakers wrote on each Service (nodeAssigned).
// MetalLB's record is golden/l2.json (UPDATE_GOLDEN=1 rewrites it, and ironlb's last record
// golden/l2-ironlb.json; UPDATE_GOLDEN=ironlb only that); every difference must be listed in
// differences.ts (l2Differences, by scenario and kind with its line count).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { clusterSuiteOptions, coreTools, missingTools, toolVersions, type ControlPlane } from '../cluster/index.ts';
import type { BgpWorld } from '../differential/bgp-world.ts';
import { l2DifferenceKind, l2Differences as listed } from '../differential/differences.ts';
import { haveMetallb, ironlbImpl, metallbImpl, metallbTools, readScenarios, runScenarios, startDifferentialWorld } from '../differential/implementations.ts';
import { l2Differences, type L2Record, runL2Scenario } from '../differential/l2-observe.ts';
import { l2Scenarios } from '../differential/l2-scenarios.ts';

interface Golden { metallb: string; scenarios: Record<string, L2Record> }
const goldenPath = new URL('../differential/golden/l2.json', import.meta.url);
const readGolden = (): Golden => JSON.parse(readFileSync(goldenPath, 'utf8')) as Golden;
// ironlb's last record: never compared, only what its run waits for (see differential-bgp.test.ts).
const ironlbLastPath = new URL('../differential/golden/l2-ironlb.json', import.meta.url);

// DIFF_SCENARIOS=a,b runs some (UPDATE_GOLDEN=1 then rewrites only those).
const only = process.env.DIFF_SCENARIOS?.split(',');
const scenarios = l2Scenarios.filter((s) => !only || only.includes(s.name));
const notRoot = process.getuid?.() !== 0 ? 'needs root (network namespaces)' : undefined;
const options = notRoot && process.env.CI !== 'true' ? { skip: notRoot, timeout: 1_200_000 } : { ...clusterSuiteOptions(coreTools), timeout: 1_200_000 };

describe('layer 2 beside MetalLB: the same node answers for each address', options, () => {
  let cp: ControlPlane;
  let world: BgpWorld;
  before(async () => { ({ cp, world } = await startDifferentialWorld('diff-l2')); });
  after(async () => {
    await world?.stop();
    await cp?.stop();
  });

  test(`MetalLB v${toolVersions.metallb}: the golden record`, { skip: process.env.CI !== 'true' && !haveMetallb() ? missingTools(metallbTools) : false }, async () => {
    const seen = await runScenarios(cp, world, metallbImpl, scenarios, runL2Scenario, readScenarios<L2Record>(goldenPath));
    if (process.env.UPDATE_GOLDEN === '1') {
      writeFileSync(goldenPath, `${JSON.stringify({ metallb: `v${toolVersions.metallb}`, scenarios: { ...readScenarios(goldenPath), ...seen } }, null, 2)}\n`);
      return;
    }
    const golden = readGolden();
    assert.equal(golden.metallb, `v${toolVersions.metallb}`, 'the golden record is of another MetalLB release: rewrite it with UPDATE_GOLDEN=1');
    for (const s of scenarios) assert.deepEqual(seen[s.name], golden.scenarios[s.name], `MetalLB no longer matches its record for ${s.name}`);
  });

  test("ironlb's speaker: the differences are exactly the listed ones", async () => {
    const golden = readGolden();
    const seen = await runScenarios(cp, world, ironlbImpl, scenarios, runL2Scenario, readScenarios<L2Record>(ironlbLastPath));
    if (process.env.DIFF_VERBOSE === '1') console.log(JSON.stringify(seen, null, 2));
    if (process.env.UPDATE_GOLDEN === '1' || process.env.UPDATE_GOLDEN === 'ironlb') {
      writeFileSync(ironlbLastPath, `${JSON.stringify({ ironlb: 'what the ironlb run waits for, never compared', scenarios: { ...readScenarios(ironlbLastPath), ...seen } }, null, 2)}\n`);
    }
    // Who answers, the ServiceL2Status objects, and the speakers' Events (the record's last step) on every Service.
    const want = Object.fromEntries(scenarios.map((s) => [s.name, golden.scenarios[s.name] ?? {}]));
    const seenLines = l2Differences(want, seen);
    const counts: Record<string, number> = {};
    for (const line of seenLines) {
      const key = `${line.split(' ')[0]} ${l2DifferenceKind(line) ?? `unexplained: ${line}`}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    const expected = Object.fromEntries(listed.filter((d) => scenarios.some((s) => s.name === d.scenario)).map((d) => [`${d.scenario} ${d.kind}`, d.lines]));
    assert.deepEqual(counts, expected, `differences seen:\n${seenLines.join('\n')}`);
  });
});
