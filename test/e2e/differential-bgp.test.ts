// The differential suite's BGP half (issue #13): MetalLB's speaker (native BGP, v0.15.x, built from
// its Go module) and ironlb's, each in turn on three network-namespace nodes (md-*) against the same
// real apiserver and the same FRR routers, for the scenarios of test/differential/bgp-scenarios.ts.
// What every router holds (each path's neighbor, next hops, origin, AS path, MED, LOCAL_PREF,
// communities, large communities, and the established sessions) is compared after the start and
// after each step. MetalLB's record is golden/bgp.json (the MetalLB test checks the binary still
// produces it; UPDATE_GOLDEN=1 rewrites the scenarios run); every difference must be counted in
// differences.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { clusterSuiteOptions, coreTools, missingTools, toolVersions, type ControlPlane } from '../cluster/index.ts';
import type { BgpWorld } from '../differential/bgp-world.ts';
import { bgpDifferences, runBgpScenario, type ScenarioRecord } from '../differential/bgp-observe.ts';
import { bgpScenarios } from '../differential/bgp-scenarios.ts';
import { bgpDifferenceKind, bgpDifferences as listed } from '../differential/differences.ts';
import { haveMetallb, ironlbImpl, metallbImpl, metallbTools, startDifferentialWorld } from '../differential/implementations.ts';
import { frrInstalled } from './frr.ts';

interface Golden { metallb: string; scenarios: Record<string, ScenarioRecord> }
const goldenPath = new URL('../differential/golden/bgp.json', import.meta.url);
const readGolden = (): Golden => JSON.parse(readFileSync(goldenPath, 'utf8')) as Golden;

const only = process.env.DIFF_SCENARIOS?.split(',');
const scenarios = bgpScenarios.filter((s) => !only || only.includes(s.name));
const notRoot = process.getuid?.() !== 0 ? 'needs root (network namespaces)' : !frrInstalled() ? 'FRR is not installed' : undefined;
const options = notRoot && process.env.CI !== 'true' ? { skip: notRoot, timeout: 1_800_000 } : { ...clusterSuiteOptions(coreTools), timeout: 1_800_000 };

describe('BGP beside MetalLB: the routers see the same routes', options, () => {
  let cp: ControlPlane;
  let world: BgpWorld;
  before(async () => { ({ cp, world } = await startDifferentialWorld('diff-bgp')); });
  after(async () => {
    await world?.stop();
    await cp?.stop();
  });

  test(`MetalLB v${toolVersions.metallb} (native BGP): the golden record`, { skip: process.env.CI !== 'true' && !haveMetallb() ? missingTools(metallbTools) : false }, async () => {
    const seen: Record<string, ScenarioRecord> = {};
    for (const s of scenarios) seen[s.name] = await runBgpScenario(cp, world, metallbImpl, s);
    if (process.env.UPDATE_GOLDEN === '1') {
      const old = (() => { try { return readGolden().scenarios; } catch { return {}; } })();
      writeFileSync(goldenPath, `${JSON.stringify({ metallb: `v${toolVersions.metallb}`, scenarios: { ...old, ...seen } }, null, 2)}\n`);
      return;
    }
    const golden = readGolden();
    assert.equal(golden.metallb, `v${toolVersions.metallb}`, 'the golden record is of another MetalLB release: rewrite it with UPDATE_GOLDEN=1');
    for (const s of scenarios) assert.deepEqual(seen[s.name], golden.scenarios[s.name], `MetalLB no longer matches its record for ${s.name}`);
  });

  test("ironlb's speaker and controller: the differences are exactly the listed ones", async () => {
    const golden = readGolden();
    const seen: Record<string, ScenarioRecord> = {};
    for (const s of scenarios) seen[s.name] = await runBgpScenario(cp, world, ironlbImpl, s);
    if (process.env.DIFF_VERBOSE === '1') console.log(JSON.stringify(seen, null, 2));
    const want = Object.fromEntries(scenarios.map((s) => [s.name, golden.scenarios[s.name] ?? {}]));
    const seenLines = bgpDifferences(want, seen);
    const counts: Record<string, number> = {};
    for (const line of seenLines) {
      const key = `${line.split(' ')[0]} ${bgpDifferenceKind(line) ?? `unexplained: ${line}`}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    const expected = Object.fromEntries(listed.filter((d) => scenarios.some((s) => s.name === d.scenario)).map((d) => [`${d.scenario} ${d.kind}`, d.lines]));
    assert.deepEqual(counts, expected, `differences seen:\n${seenLines.join('\n')}`);
  });
});
