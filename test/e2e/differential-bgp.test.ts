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
import { haveMetallb, ironlbImpl, metallbImpl, metallbTools, readScenarios, runScenarios, startDifferentialWorld } from '../differential/implementations.ts';
import { frrInstalled } from './frr.ts';

interface Golden { metallb: string; scenarios: Record<string, ScenarioRecord> }
const goldenPath = new URL('../differential/golden/bgp.json', import.meta.url);
const readGolden = (): Golden => JSON.parse(readFileSync(goldenPath, 'utf8')) as Golden;
// ironlb's last record: never compared (the assertion is against MetalLB's record and
// differences.ts), only what its run waits for, so that a step ends when the routers hold it.
const ironlbLastPath = new URL('../differential/golden/bgp-ironlb.json', import.meta.url);

const only = process.env.DIFF_SCENARIOS?.split(',');
const scenarios = bgpScenarios.filter((s) => !only || only.includes(s.name));
const notRoot = process.getuid?.() !== 0 ? 'needs root (network namespaces)' : !frrInstalled() ? 'FRR is not installed' : undefined;
const options = notRoot && process.env.CI !== 'true' ? { skip: notRoot, timeout: 1_800_000 } : { ...clusterSuiteOptions(coreTools), timeout: 1_800_000 };

// The two halves run at the same time, each in a world of its own (control plane, namespaces md-*
// for MetalLB and mdi-* for ironlb, routers): most of a half is waiting for routers to settle, so
// the run takes about as long as the longer half. The ironlb half compares with the golden record,
// not with the MetalLB half of the same run.
describe('BGP beside MetalLB: the routers see the same routes', { ...options, concurrency: true }, () => {
  let cp: ControlPlane;
  let world: BgpWorld;
  let icp: ControlPlane;
  let iworld: BgpWorld;
  before(async () => {
    [{ cp, world }, { cp: icp, world: iworld }] = await Promise.all([startDifferentialWorld('diff-bgp'), startDifferentialWorld('diff-bgp-ironlb', 'mdi-')]);
  });
  after(async () => {
    await Promise.all([world?.stop(), iworld?.stop()]);
    await Promise.all([cp?.stop(), icp?.stop()]);
  });

  test(`MetalLB v${toolVersions.metallb} (native BGP): the golden record`, { skip: process.env.CI !== 'true' && !haveMetallb() ? missingTools(metallbTools) : false }, async () => {
    const seen = await runScenarios(cp, world, metallbImpl, scenarios, runBgpScenario, readScenarios<ScenarioRecord>(goldenPath));
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
    const seen = await runScenarios(icp, iworld, ironlbImpl, scenarios, runBgpScenario, readScenarios<ScenarioRecord>(ironlbLastPath));
    if (process.env.DIFF_VERBOSE === '1') console.log(JSON.stringify(seen, null, 2));
    if (process.env.UPDATE_GOLDEN === '1' || process.env.UPDATE_GOLDEN === 'ironlb') {
      writeFileSync(ironlbLastPath, `${JSON.stringify({ ironlb: 'what the ironlb run waits for, never compared', scenarios: { ...readScenarios(ironlbLastPath), ...seen } }, null, 2)}\n`);
    }
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
