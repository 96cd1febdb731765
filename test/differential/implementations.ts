// The two implementations the netns differential tests run in turn, and their shared setup: one
// control plane (MetalLB's CRDs when it is built, else ironlb's chart's, which ironlb reads the
// same way), the three Nodes, and the network-namespace world of bgp-world.ts.
import { runDaemon } from '../../src/daemon/run.ts';
import { silentLogger } from '../../src/observe/log.ts';
import { installCrds } from '../cluster/ironlb-setup.ts';
import { coreTools, createNode, missingTools, startControlPlane, type ControlPlane } from '../cluster/index.ts';
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

export async function startDifferentialWorld(name: string): Promise<{ cp: ControlPlane; world: BgpWorld }> {
  const cp = await startControlPlane({ name });
  if (haveMetallb()) await installMetallbCrds(cp); else await installCrds(cp);
  for (const n of nodeNames) {
    await createNode(cp, n, {
      labels: nodeLabels[n],
      addresses: [{ type: 'InternalIP', address: nodeAddrs[n].v4 }, { type: 'InternalIP', address: nodeAddrs[n].v6 }, { type: 'Hostname', address: n }],
    });
  }
  const world = new BgpWorld();
  await world.build(cp.server);
  return { cp, world };
}
