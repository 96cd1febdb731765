// frr-k8s's FRRConfiguration read from the real apiserver (issue #14), with frr-k8s's own CRD
// (test/fixtures/frr-k8s): a cluster without the CRD reads none and starts anyway, and picks them
// up once the CRD is installed; the speaker reads them in the frr-k8s namespace only
// (--frrk8s-namespace), merges them (an extra neighbour becomes a session, here with a scripted
// BGP peer, whose routes are counted in its BGPSessionState), drops the session when the object goes, refuses a conflicting one and keeps the last
// good one (saying so in the speaker's ConfigurationState and an Event on the object), and takes a
// neighbour's password from a Secret beside the FRRConfiguration.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { runDaemon, type RunningDaemon } from '../../src/daemon/run.ts';
import { silentLogger } from '../../src/observe/log.ts';
import { KubeClient, resourcePath } from '../../src/store/kubernetes/kube-client.ts';
import { Reflector } from '../../src/store/kubernetes/reflector.ts';
import { frrConfigurations } from '../../src/store/kubernetes/resources.ts';
import { encodeUpdate } from '../../src/bgp/update.ts';
import { parseIp } from '../../src/net/ip.ts';
import { parsePrefix } from '../../src/net/prefix.ts';
import { ScriptedBgpPeer } from '../fakes/scripted-bgp-peer.ts';
import { apply, installFrrK8sCrd, ironlbNamespace as ns, startIronlbControlPlane, until } from './ironlb-setup.ts';
import { clusterSuiteOptions, createNode, type ControlPlane } from './index.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- API objects
const frrNs = 'frr-k8s-system';

/** A scripted BGP peer on 127.0.0.1 at a port the CRD allows (frr-k8s caps it at 16384). */
async function peerInCrdRange(asn: number): Promise<{ peer: ScriptedBgpPeer; port: number }> {
  for (let port = 12000 + Math.floor(Math.random() * 4000); ; port++) {
    const peer = new ScriptedBgpPeer({ asn, fourOctetAsn: true, routerId: 0x0a000002 });
    try {
      return { peer, port: await peer.listen('127.0.0.1', port) };
    } catch {
      await peer.close();
    }
  }
}

const frrConfiguration = (namespace: string, name: string, neighbor: string) => `apiVersion: frrk8s.metallb.io/v1beta1
kind: FRRConfiguration
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  nodeSelector: { matchLabels: { kubernetes.io/hostname: node-1 } }
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - ${neighbor}
`;

const sessions = async (cp: ControlPlane): Promise<Json[]> => {
  const r = await cp.request('GET', `/apis/ironlb.io/v1alpha1/namespaces/${ns}/bgpsessionstates`);
  return ((r.body as Json).items ?? []) as Json[];
};

describe('FRRConfiguration from the real apiserver, with frr-k8s\'s CRD', clusterSuiteOptions(), () => {
  let cp: ControlPlane;
  const daemons: RunningDaemon[] = [];
  const peers: ScriptedBgpPeer[] = [];
  before(async () => {
    cp = await startIronlbControlPlane('frrk8s');
    await cp.kubectl(['create', 'namespace', frrNs]);
    await createNode(cp, 'node-1', { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }] });
  });
  after(async () => {
    for (const d of daemons) await d.stop();
    for (const p of peers) await p.close();
    await cp?.stop();
  });

  test('without the CRD the list reads as none (the first sync does not wait); once installed, objects arrive', async () => {
    const client = new KubeClient(cp.kubeConfig);
    const seen: string[] = [];
    const r = new Reflector({
      client, path: resourcePath(frrConfigurations, ns), name: 'FRRConfiguration', optional: true, absentRetryMs: 200,
      onChange: (kind, o) => seen.push(`${kind} ${String((o.metadata as Json).name)}`),
    });
    await r.start();
    assert.equal(r.absent, true);
    assert.deepEqual(r.list(), []);
    await installFrrK8sCrd(cp);
    await until('the CRD served', async () => (await cp.request('GET', `/apis/frrk8s.metallb.io/v1beta1/namespaces/${ns}/frrconfigurations`)).status === 200 || undefined);
    await apply(cp, frrConfiguration(ns, 'late', 'address: 192.0.2.9\n        asn: 64513\n        toReceive: { allowed: {} }'));
    await until('the object after the CRD came', () => seen.includes('add late'));
    assert.equal(r.absent, false);
    // The apiserver applied the CRD's defaults before ironlb read it.
    assert.deepEqual((r.list()[0] as Json).spec.bgp.routers[0].neighbors[0].toReceive.allowed, { mode: 'filtered' });
    r.stop();
    await cp.kubectl(['delete', '-n', ns, 'frrconfiguration', 'late']);
  });

  test('the speaker merges them: an extra neighbour is a session; a conflicting edit keeps the last good one; deleting the object ends it', async () => {
    const { peer, port } = await peerInCrdRange(64513);
    peers.push(peer);
    await apply(cp, `apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: tor, namespace: ${ns} }
spec: { myASN: 64512, peerASN: 64514, peerAddress: 127.0.0.3, peerPort: 11798, holdTime: 30s }
`);
    // The filter lets in none of what the fake sends: nothing reaches this machine's own routing table.
    const neighbor = `address: 127.0.0.1\n        asn: 64513\n        port: ${port}\n        toReceive: { allowed: { prefixes: [{ prefix: 198.18.0.0/15, le: 24 }] } }`;
    // In another namespace than frr-k8s's: frr-k8s would not read it, neither does ironlb.
    await apply(cp, frrConfiguration('default', 'elsewhere', neighbor));
    const speaker = await runDaemon({ controller: false, speaker: true }, {
      folder: '', namespace: ns, nodeName: 'node-1', logger: silentLogger(), cluster: { kubeconfig: cp.kubeconfigPath, debounceMs: 20 },
    });
    daemons.push(speaker);
    await until('tor\'s BGPSessionState', async () => (await sessions(cp)).find((s) => s.status?.peer === 'tor'));
    await sleep(500);
    assert.equal(peer.connections.length, 0, 'an FRRConfiguration outside the frr-k8s namespace is not read');
    assert.equal((await sessions(cp)).length, 1);

    await apply(cp, frrConfiguration(ns, 'receive', neighbor));
    await until('the scripted peer\'s OPEN', () => peer.opens.length > 0 || undefined);
    assert.equal(peer.opens[0]!.capabilities.fourOctetAsn, 64512);
    const frrSession = await until('the FRR neighbour\'s BGPSessionState', async () => (await sessions(cp)).find((s) => s.status?.peer === 'frrk8s-127.0.0.1'));
    assert.equal(frrSession.status.address, '127.0.0.1');
    await until('Established', async () => (await sessions(cp)).find((s) => s.status?.peer === 'frrk8s-127.0.0.1' && s.status.bgpStatus === 'Established'));
    // What the peer sent, what the filter let in, what is in the kernel: in the BGPSessionState.
    peer.send(encodeUpdate({
      withdrawn: [], nlri: ['203.0.113.0/24', '203.0.113.128/25'].map((p) => ({ prefix: parsePrefix(p)!.prefix })),
      attributes: { origin: 0, asPath: [{ type: 2, asns: [64513] }], nextHop: parseIp('127.0.0.1')!, other: [] },
    }, true));
    const counted = await until('received routes in the BGPSessionState', async () => (await sessions(cp)).find((s) => s.status?.peer === 'frrk8s-127.0.0.1' && s.status.prefixesReceived === 2));
    assert.deepEqual([counted.status.prefixesAccepted, counted.status.routesInstalled], [0, 0]);
    assert.equal((await sessions(cp)).find((s) => s.status?.peer === 'tor')?.status.prefixesReceived, undefined, 'a session without toReceive learns nothing');

    // Another object naming the same neighbour with another ASN conflicts: refused, the session stays.
    await apply(cp, frrConfiguration(ns, 'conflict', `address: 127.0.0.1\n        asn: 64999\n        port: ${port}`));
    await sleep(800);
    assert.equal(peer.connections.length, 1, 'the conflicting object changed nothing');
    assert.equal((await sessions(cp)).find((s) => s.status?.peer === 'frrk8s-127.0.0.1')?.status.bgpStatus, 'Established');
    // Said where a MetalLB user looks: the speaker's ConfigurationState, and an Event on the object.
    const state = async () => (await cp.request('GET', `/apis/metallb.io/v1beta1/namespaces/${ns}/configurationstates/speaker-node-1`)).body as Json;
    const invalid = await until('ConfigurationState Invalid', async () => ((await state()).status?.result === 'Invalid' ? state() : undefined));
    const condition = (invalid.status.conditions as Json[]).find((c) => c.type === 'frrConfigurationsValid')!;
    assert.equal(condition.status, 'False');
    assert.match(condition.message, new RegExp(`^FRRConfiguration ${ns}/conflict: .*neighbour 127\\.0\\.0\\.1 has ASN 64999 here and 64513 in FRRConfiguration ${ns}/receive; not applied on this node$`));
    assert.equal(invalid.status.errorSummary, condition.message);
    assert.equal((invalid.status.conditions as Json[]).find((c) => c.type === 'configReconcilerValid')?.status, 'True');
    const events = await until('the Warning Event on the FRRConfiguration', async () => {
      const items = ((await cp.request('GET', `/api/v1/namespaces/${ns}/events`)).body as Json).items as Json[];
      const on = items.filter((e) => e.involvedObject.kind === 'FRRConfiguration' && e.involvedObject.name === 'conflict');
      return on.length > 0 ? on : undefined;
    });
    assert.deepEqual([events.length, events[0]!.type, events[0]!.reason], [1, 'Warning', 'InvalidConfiguration']);
    assert.equal(events[0]!.message, `node node-1: ${condition.message}`);
    await cp.kubectl(['delete', '-n', ns, 'frrconfiguration', 'conflict']);
    await until('ConfigurationState Valid again', async () => (await state()).status?.result === 'Valid' || undefined);

    await cp.kubectl(['delete', '-n', ns, 'frrconfiguration', 'receive']);
    await until('the FRR neighbour\'s BGPSessionState removed', async () => (await sessions(cp)).every((s) => s.status?.peer !== 'frrk8s-127.0.0.1') || undefined);
    assert.ok((await sessions(cp)).some((s) => s.status?.peer === 'tor'), 'ironlb\'s own session stays');
    await speaker.stop();
    daemons.splice(daemons.indexOf(speaker), 1);
  });

  test('--frrk8s-namespace: read there, with the neighbour\'s password from a Secret beside it', async () => {
    const { peer, port } = await peerInCrdRange(64515);
    peers.push(peer);
    await apply(cp, `apiVersion: v1
kind: Secret
metadata: { name: frr-pw, namespace: ${frrNs} }
type: kubernetes.io/basic-auth
stringData: { password: not-checked-by-the-fake }
`);
    await apply(cp, frrConfiguration(frrNs, 'in-frr-ns', `address: 127.0.0.1\n        asn: 64515\n        port: ${port}\n        passwordSecret: { name: frr-pw, namespace: ${frrNs} }`));
    const speaker = await runDaemon({ controller: false, speaker: true }, {
      folder: '', namespace: ns, nodeName: 'node-1', logger: silentLogger(),
      cluster: { kubeconfig: cp.kubeconfigPath, debounceMs: 20, frrk8sNamespace: frrNs },
    });
    daemons.push(speaker);
    const s = await until('the FRR neighbour\'s BGPSessionState', async () => (await sessions(cp)).find((x) => x.status?.peer === 'frrk8s-127.0.0.1'));
    assert.equal(s.status.address, '127.0.0.1');
    // With TCP-MD5 on, the fake (no key) never sees a valid SYN: the Secret was found and used.
    await sleep(1500);
    assert.equal(peer.connections.length, 0, 'the session is signed with the Secret\'s password');
  });
});
