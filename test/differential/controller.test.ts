// The differential suite's controller half (issue #13): the scenarios of scenarios.ts run against
// MetalLB's own controller (v0.15.x, built from its Go module) and against ironlb's, each on a real
// apiserver with its own CRDs. MetalLB's record is kept in golden/controller.json: the MetalLB
// test checks that the binary still produces it (UPDATE_GOLDEN=1 rewrites it), the ironlb test
// compares ironlb with it, so ironlb's side runs even where MetalLB is not built. Every difference
// must be listed in differences.ts with its reason; the test asserts the list is exactly what it sees.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { runDaemon } from '../../src/daemon/run.ts';
import { silentLogger } from '../../src/observe/log.ts';
import { installCrds } from '../cluster/ironlb-setup.ts';
import { clusterSuiteOptions, coreTools, startControlPlane, toolVersions, type ControlPlane } from '../cluster/index.ts';
import { controllerDifferences } from './differences.ts';
import { installMetallbCrds, startMetallbController } from './metallb.ts';
import { differences, runScenario, type ScenarioSeen, type StartController, withoutEvents } from './observe.ts';
import { scenarios } from './scenarios.ts';

interface Golden { metallb: string; scenarios: Record<string, ScenarioSeen> }
const goldenPath = new URL('./golden/controller.json', import.meta.url);
const golden = JSON.parse(readFileSync(goldenPath, 'utf8')) as Golden;

// DIFF_SCENARIOS=a,b runs some (UPDATE_GOLDEN=1 then rewrites only those).
const only = process.env.DIFF_SCENARIOS?.split(',');
const chosen = scenarios.filter((s) => !only || only.includes(s.name));
const pick = <T>(r: Record<string, T>): Record<string, T> => Object.fromEntries(Object.entries(r).filter(([k]) => chosen.some((s) => s.name === k)));

/**
 * Every chosen scenario in turn. Each ends once the world shows MetalLB's record (for ironlb, the
 * IPs, pools and pool status of it: the Events differ where differences.ts says), at most 20 s
 * after the 2.5 s it always waits; under UPDATE_GOLDEN=1 after the 2.5 s.
 */
async function runAll(cp: ControlPlane, prefix: string, start: StartController, compare?: (s: ScenarioSeen) => unknown): Promise<Record<string, ScenarioSeen>> {
  const out: Record<string, ScenarioSeen> = {};
  for (const s of chosen) {
    const expect = process.env.UPDATE_GOLDEN === '1' ? undefined : golden.scenarios[s.name];
    out[s.name] = await runScenario(cp, prefix, s, start, { ...(expect ? { expect } : {}), ...(compare ? { compare } : {}) });
  }
  return out;
}

const suite = (tools: Parameters<typeof clusterSuiteOptions>[0]) => ({ ...clusterSuiteOptions(tools), timeout: 900_000 });

describe(`MetalLB's controller v${toolVersions.metallb}: the golden record`, suite([...coreTools, 'metallb-controller']), () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane({ name: 'diff-metallb' });
    await installMetallbCrds(cp);
  });
  after(async () => { await cp?.stop(); });

  test('every scenario: the IPs, pool annotations, Events and pool status MetalLB writes', async () => {
    const seen = await runAll(cp, 'metallb', (ns, o) => startMetallbController(cp, ns, o.lbClass !== undefined ? [`--lb-class=${o.lbClass}`] : []));
    if (process.env.UPDATE_GOLDEN === '1') {
      writeFileSync(goldenPath, `${JSON.stringify({ metallb: `v${toolVersions.metallb}`, scenarios: { ...golden.scenarios, ...seen } }, null, 2)}\n`);
      return;
    }
    assert.equal(golden.metallb, `v${toolVersions.metallb}`, 'the golden record is of another MetalLB release: rewrite it with UPDATE_GOLDEN=1');
    assert.deepEqual(seen, pick(golden.scenarios));
  });
});

describe("ironlb's controller beside MetalLB's golden record", suite(coreTools), () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane({ name: 'diff-ironlb' });
    await installCrds(cp);
  });
  after(async () => { await cp?.stop(); });

  test('the differences are exactly the listed ones', async () => {
    const seen = await runAll(cp, 'ironlb', async (ns, o) => {
      const d = await runDaemon({ controller: true, speaker: false }, {
        folder: '', namespace: ns, logger: silentLogger(),
        cluster: { kubeconfig: cp.kubeconfigPath, leaderElection: false, ...(o.lbClass !== undefined ? { loadBalancerClass: o.lbClass } : {}) },
      });
      return { stop: () => d.stop() };
    }, withoutEvents);
    const seenLines = differences(pick(golden.scenarios), seen);
    if (process.env.DIFF_VERBOSE === '1') console.log(JSON.stringify(seen, null, 2));
    assert.deepEqual(seenLines, controllerDifferences.filter((d) => chosen.some((s) => d.line.startsWith(`${s.name}/`) || d.line.startsWith(`${s.name} `))).map((d) => d.line).sort(),
      `differences seen:\n${seenLines.join('\n')}`);
  });
});
