// The layer-2 figure of `npm run bench -- metallb l2 [kills]` (issue #13): a Service's owner dies
// silently (its link cut, its speaker SIGKILLed) → the longest run of lost pings at a client on
// the same segment, MetalLB's speakers (memberlist, its LAN defaults) against ironlb's (SWIM gossip
// plus owner heartbeats), each on a fresh control plane in the network-namespace world of
// bgp-world.ts (no routers). The ping loop is the layer-2 lab's (test/e2e/l2-lab.ts).
//
// MetalLB's memberlist needs, outside a pod: --ml-bindaddr (the node's address), --ml-labels
// matching the speaker Pods, whose status.podIP it joins (the Pods are never scheduled here, so
// their status is written by hand), and --ml-secret-key-path, a folder holding `secretkey`.
// ironlb's gossip takes the secret file itself and finds its members from the Nodes' addresses.
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createEndpointSlice, createNode, startControlPlane } from '../cluster/index.ts';
import { installCrds } from '../cluster/ironlb-setup.ts';
import { PingLoop } from '../e2e/l2-lab.ts';
import { inNs } from '../e2e/netns.ts';
import { applyYaml, createSpeakerPods, type Implementation } from './bgp-observe.ts';
import { BgpWorld, nodeAddrs, nodeLabels, nodeNames, type NodeName } from './bgp-world.ts';
import { installMetallbCrds } from './metallb.ts';

const vip = '192.168.1.200';
const podLabels = 'app=metallb,component=speaker';

export interface L2Figures { outagesMs: number[]; failed: number }

/** Each speaker's extra flags for gossip (MetalLB: memberlist; ironlb: its SWIM gossip), the secret in `dir`. */
function gossipArgs(impl: Implementation['name'], node: NodeName, dir: string): string[] {
  return impl === 'metallb'
    ? [`--ml-bindaddr=${nodeAddrs[node].v4}`, `--ml-labels=${podLabels}`, `--ml-secret-key-path=${dir}`]
    : [`--ml-bindaddr=${nodeAddrs[node].v4}`, `--ml-secret-key-path=${path.join(dir, 'secretkey')}`];
}

export async function benchL2(impl: Implementation, kills: number, say: (l: string) => void): Promise<L2Figures> {
  const cp = await startControlPlane({ name: `bench-l2-${impl.name}` });
  const world = new BgpWorld('mb-');
  const ns = 'metallb-system';
  const procs = new Map<NodeName, ReturnType<BgpWorld['spawnInNode']>>();
  let controller: { stop(): Promise<void> } | undefined;
  try {
    if (impl.name === 'metallb') await installMetallbCrds(cp); else await installCrds(cp);
    for (const n of nodeNames) await createNode(cp, n, { labels: nodeLabels[n], addresses: [{ type: 'InternalIP', address: nodeAddrs[n].v4 }] });
    await world.build(cp.server);
    // Each node takes traffic for the address as kube-proxy would (a local route) and its kernel
    // answers ARP only for its own interface addresses (kube-proxy's strictARP): only the speaker
    // answers for the Service address, and the pings are answered by whichever node holds it.
    for (const n of nodeNames) {
      inNs(world.nodeNs(n), 'sh', '-c', 'echo 1 > /proc/sys/net/ipv4/conf/all/arp_ignore && echo 2 > /proc/sys/net/ipv4/conf/all/arp_announce');
      inNs(world.nodeNs(n), 'ip', 'route', 'add', 'local', `${vip}/32`, 'dev', 'lo');
    }
    await cp.request('POST', '/api/v1/namespaces', { metadata: { name: ns } });
    await cp.request('POST', '/api/v1/namespaces', { metadata: { name: 'bench' } });
    await createSpeakerPods(cp, ns);
    for (const n of nodeNames) {
      const r = await cp.request('PATCH', `/api/v1/namespaces/${ns}/pods/speaker-${n}/status`, {
        status: { phase: 'Running', podIP: nodeAddrs[n].v4, podIPs: [{ ip: nodeAddrs[n].v4 }], conditions: [{ type: 'Ready', status: 'True' }] },
      }, 'application/merge-patch+json');
      if (r.status !== 200) throw new Error(`pod speaker-${n} status: ${r.status} ${JSON.stringify(r.body)}`);
    }
    const secretDir = path.join(world.root, 'ml-secret');
    mkdirSync(secretDir, { recursive: true });
    writeFileSync(path.join(secretDir, 'secretkey'), 'bench-l2-secret');
    await applyYaml(cp, ns, `apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: l2, namespace: NS}\nspec: {addresses: [${vip}/32]}\n---\n`
      + 'apiVersion: metallb.io/v1beta1\nkind: L2Advertisement\nmetadata: {name: l2, namespace: NS}\nspec: {ipAddressPools: [l2]}\n---\n'
      + `apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: bench}\nspec: {type: LoadBalancer, allocateLoadBalancerNodePorts: false, selector: {app: web}, ports: [{port: 80}]}\n`);
    await createEndpointSlice(cp, 'bench', 'web', nodeNames.map((n, i) => ({ addresses: [`10.244.${i}.9`], nodeName: n })));
    controller = await impl.startController(cp, ns);
    const start = (n: NodeName) => procs.set(n, world.spawnInNode(n, `${impl.name}-l2-speaker-${n}-${Date.now()}`,
      [...impl.speakerArgv(cp, ns, n), ...gossipArgs(impl.name, n, secretDir)], { KUBECONFIG: cp.kubeconfigPath, IRONLB_LOG_LEVEL: 'info' }));
    for (const n of nodeNames) start(n);
    const owner = async (ms: number): Promise<NodeName | undefined> => {
      const end = Date.now() + ms;
      for (;;) {
        const who = await world.whoAnswers(vip);
        if (who.length === 1 && (nodeNames as readonly string[]).includes(who[0]!)) return who[0] as NodeName;
        if (Date.now() > end) return undefined;
        await sleep(500);
      }
    };
    if (!await owner(90_000)) throw new Error(`${impl.name}: no single node answers ARP for ${vip} after 90 s; logs in ${world.root}`);
    say(`${impl.name}: ${vip} answered`);
    const out: L2Figures = { outagesMs: [], failed: 0 };
    // MetalLB's memberlist needs seconds to notice a death (and to take a node back): its ping runs longer.
    const seconds = impl.name === 'metallb' ? 25 : 6;
    for (let k = 0; k < kills; k++) {
      const victim = await owner(60_000);
      if (!victim) { out.failed++; say(`${impl.name}: kill ${k + 1}: no single owner; skipped`); continue; }
      await sleep(2000);
      const ping = new PingLoop(vip, seconds, world.clientNs);
      await sleep(1000);
      inNs(world.switchNs, 'ip', 'link', 'set', victim, 'down');
      procs.get(victim)!.kill('SIGKILL');
      const r = await ping.outage();
      if (r.outageMs < 0) out.failed++; else out.outagesMs.push(r.outageMs);
      say(`${impl.name}: kill ${k + 1} (${victim}): outage ${r.outageMs} ms`);
      inNs(world.switchNs, 'ip', 'link', 'set', victim, 'up');
      start(victim);
      // Everyone agrees again (the victim back, MetalLB's memberlist rejoined) before the next kill.
      await sleep(impl.name === 'metallb' ? 15_000 : 4000);
    }
    return out;
  } finally {
    for (const p of procs.values()) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await controller?.stop();
    await world.stop();
    await cp.stop();
  }
}
