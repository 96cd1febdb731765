// The two implementations the netns differential tests run in turn, and their shared setup: one
// control plane (MetalLB's CRDs when it is built, else ironlb's chart's, which ironlb reads the
// same way), the three Nodes, and the network-namespace world of bgp-world.ts.
import { runDaemon } from '../../src/daemon/run.ts';
import { silentLogger } from '../../src/observe/log.ts';
import { installCrds } from '../cluster/ironlb-setup.ts';
import { coreTools, createNode, missingTools, startControlPlane, type ControlPlane } from '../cluster/index.ts';
import { readFileSync } from 'node:fs';
import { type Implementation, ironlbSpeakerArgv, metallbSpeakerArgv } from './bgp-observe.ts';
import { BgpWorld, nodeAddrs, nodeLabels, nodeNames } from './bgp-world.ts';
import { installMetallbCrds, startMetallbController } from './metallb.ts';

export const metallbTools = [...coreTools, 'metallb-controller', 'metallb-speaker'] as const;
export const haveMetallb = (): boolean => missingTools(metallbTools) === undefined;

export const metallbImpl: Implementation = {
  name: 'metallb',
  startController: (cp, ns) => startMetallbController(cp, ns),
  speakerArgv: (_cp, ns, node) => metallbSpeakerArgv(ns, node),
};

/** ironlb: the controller in the test's process, the speakers as processes (bin/ironlb.js). */
export const ironlbImpl: Implementation = {
  name: 'ironlb',
  async startController(cp, ns) {
    const d = await runDaemon({ controller: true, speaker: false }, {
      folder: '', namespace: ns, logger: silentLogger(), cluster: { kubeconfig: cp.kubeconfigPath, leaderElection: false },
    });
    return { stop: () => d.stop() };
  },
  speakerArgv: ironlbSpeakerArgv,
};

/** A control plane with the CRDs and the three Nodes, and the namespaces of bgp-world.ts named `<prefix>…`. */
export async function startDifferentialWorld(name: string, prefix?: string): Promise<{ cp: ControlPlane; world: BgpWorld }> {
  const cp = await startControlPlane({ name });
  if (haveMetallb()) await installMetallbCrds(cp); else await installCrds(cp);
  for (const n of nodeNames) {
    await createNode(cp, n, {
      labels: nodeLabels[n],
      addresses: [{ type: 'InternalIP', address: nodeAddrs[n].v4 }, { type: 'InternalIP', address: nodeAddrs[n].v6 }, { type: 'Hostname', address: n }],
    });
  }
  const world = new BgpWorld(prefix);
  await world.build(cp.server);
  return { cp, world };
}

/** The scenarios of a record file (golden/*.json), {} when it does not exist yet. */
export function readScenarios<R>(url: URL): Record<string, R> {
  try { return (JSON.parse(readFileSync(url, 'utf8')) as { scenarios: Record<string, R> }).scenarios; } catch { return {}; }
}

/**
 * Runs `scenarios` in order with one implementation; each scenario's steps end as soon as the
 * world is what `expect` (its last record) says, except under UPDATE_GOLDEN=1, where every step
 * waits for a quiet spell.
 */
export async function runScenarios<S extends { name: string }, R>(
  cp: ControlPlane, world: BgpWorld, impl: Implementation, scenarios: S[],
  run: (cp: ControlPlane, world: BgpWorld, impl: Implementation, s: S, expect?: R) => Promise<R>, expect: Record<string, R>,
): Promise<Record<string, R>> {
  const seen: Record<string, R> = {};
  for (const s of scenarios) seen[s.name] = await run(cp, world, impl, s, process.env.UPDATE_GOLDEN === '1' ? undefined : expect[s.name]);
  return seen;
}
