// Issue #11's end-to-end test: ironlb in a Kubernetes cluster as a user deploys it. A real
// kube-apiserver + etcd; three "nodes" as network namespaces, each running `ironlb speaker` with a
// kubeconfig holding the ironlb-speaker ServiceAccount's token (deploy/ironlb.yaml's RBAC
// enforced); two `ironlb controller` replicas (ironlb-controller's token) with the Lease; an FRR
// router. `kubectl apply` of the seed's configuration and Services → IPs in status, routes with the
// advertisement's attributes at the router from the right nodes, ServiceBGPStatus and
// BGPSessionState right; an EndpointSlice moved (ETP Local) → the next hop follows; a bad pool →
// refused by the webhook (served by the standby) with ironlb's message; the leader killed → the
// standby takes over, no IP moves; the apiserver restarted → everything resyncs and no route is
// withdrawn meanwhile (FRR's per-path lastUpdate unchanged, no session dropped).
//
// One layer-2 segment 10.215.0.0/24, a bridge in the router's namespace: router .1, nodes .11–.13,
// and the host .254 (a veth, k8e-host), where etcd, the apiserver and the controllers run.
// Namespaces and the host link are named `k8e-*`.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import * as https from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments, stringify } from 'yaml';
import {
  clusterSuiteOptions, createEndpointSlice, createNamespace, createNode, serviceAccountKubeconfig, startControlPlane, type ControlPlane,
} from '../cluster/index.ts';
import { FrrInstance, frrInstalled, waitFor } from './frr.ts';
import { addNs, deleteNamespaces, inNs, sh, spawnInNs } from './netns.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- API objects

const repo = path.resolve(import.meta.dirname, '..', '..');
const ns = 'metallb-system';
const rtrNs = 'k8e-rtr';
const hostLink = 'k8e-host';
const hostIp = '10.215.0.254';
const routerIp = '10.215.0.1';
const nodes = [1, 2, 3].map((i) => ({ name: `k8e-n${i}`, ip: `10.215.0.${10 + i}` }));
const [n1, n2, n3] = nodes as [typeof nodes[0], typeof nodes[0], typeof nodes[0]];

// The seed's "Advanced BGP configuration" (docs 001): one pool, a /32 advertisement with a local
// preference and no-advertise, and the /24 aggregate. localPref is 150, not the seed's 100, so that
// it cannot be mistaken for the iBGP default.
const config = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: first-pool, namespace: ${ns} }
spec: { addresses: [198.51.100.0/24] }
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: local, namespace: ${ns} }
spec: { ipAddressPools: [first-pool], aggregationLength: 32, localPref: 150, communities: ["65535:65282"] }
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: external, namespace: ${ns} }
spec: { ipAddressPools: [first-pool], aggregationLength: 24 }
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: tor, namespace: ${ns} }
spec: { myASN: 64512, peerASN: 64512, peerAddress: ${routerIp} }
`;
const serviceYaml = (namespace: string, name: string, etp: 'Cluster' | 'Local') => `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: ${namespace} }
spec: { type: LoadBalancer, externalTrafficPolicy: ${etp}, ports: [{ port: 80, protocol: TCP }], selector: { app: ${name} } }
`;

const freePort = (): Promise<number> => new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const port = (s.address() as { port: number }).port;
    s.close(() => resolve(port));
  });
});

const httpsStatus = (url: string, ca: string): Promise<number> => new Promise((resolve, reject) => {
  https.get(url, { ca, timeout: 2000 }, (res) => { res.resume(); resolve(res.statusCode ?? 0); }).on('error', reject);
});

function cleanup(): void {
  deleteNamespaces([rtrNs, ...nodes.map((x) => x.name)]);
  try { sh('ip', 'link', 'del', hostLink); } catch { /* gone with the namespace, or never made */ }
}

/** deploy/ironlb.yaml without the workloads (nothing runs pods here), its webhooks called by URL on the host. */
function manifest(webhookPort: number): string {
  const docs = parseAllDocuments(readFileSync(path.join(repo, 'deploy', 'ironlb.yaml'), 'utf8')).map((d) => d.toJS() as Json | null);
  return docs.filter((d): d is Json => d !== null && !['Deployment', 'DaemonSet'].includes(d.kind as string)).map((d) => {
    if (d.kind !== 'ValidatingWebhookConfiguration') return d;
    for (const w of d.webhooks as Json[]) w.clientConfig = { url: `https://127.0.0.1:${webhookPort}${w.clientConfig.service.path as string}` };
    return d;
  }).map((d) => `---\n${stringify(d)}`).join('');
}

describe('ironlb in a cluster: three netns nodes, two controllers, FRR', clusterSuiteOptions(), () => {
  let root: string;
  let cp: ControlPlane;
  let frr: FrrInstance;
  let apps: string;
  const procs = new Map<string, ChildProcess>();
  const ips = new Map<string, string>();

  const apply = async (yaml: string) => {
    const r = await cp.kubectl(['apply', '-f', '-'], { input: yaml });
    assert.equal(r.code, 0, r.stderr);
  };
  const get = async (p: string): Promise<Json> => {
    const r = await cp.request('GET', p);
    if (r.status !== 200) throw new Error(`GET ${p}: ${r.status}`);
    return r.body as Json;
  };
  const ipOf = async (name: string): Promise<string | undefined> => (await get(`/api/v1/namespaces/${apps}/services/${name}`)).status?.loadBalancer?.ingress?.[0]?.ip as string | undefined;
  const holder = async (): Promise<string | undefined> => (await get(`/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/ironlb-controller`)).spec?.holderIdentity as string | undefined;
  const log = (name: string) => readFileSync(path.join(root, `${name}.log`), 'utf8').split('\n').slice(-30).join('\n');
  /** FRR's paths for a prefix as "nexthop" strings, sorted. */
  const nextHops = async (prefix: string): Promise<string[]> => (await frr.route(prefix)).flatMap((p) => p.nexthops).sort();
  /** Every path at the router with when it was last updated: a withdraw + re-announce changes it. */
  const pathTimes = async (): Promise<Map<string, number>> => {
    const out = new Map<string, number>();
    for (const prefix of (await frr.routes()).keys()) {
      const j = await frr.json<{ paths?: { nexthops?: { ip: string }[]; lastUpdate?: { epoch: number } }[] }>(`show bgp ipv4 unicast ${prefix} json`);
      for (const p of j.paths ?? []) out.set(`${prefix} via ${p.nexthops?.[0]?.ip}`, p.lastUpdate?.epoch ?? -1);
    }
    return out;
  };
  /** FRR derives lastUpdate's epoch from a monotonic age, so it wobbles by a second; a re-announcement would move it by the whole step. */
  const assertUntouched = (before: Map<string, number>, now: Map<string, number>) => {
    for (const [k, t] of before) {
      const n = now.get(k);
      assert.ok(n !== undefined && Math.abs(n - t) <= 1, `${k}: last updated at ${t}, now ${n}`);
    }
  };
  const sessions = async (): Promise<Record<string, { state: string; dropped: number; established: number }>> => {
    const j = await frr.json<Record<string, { bgpState: string; connectionsDropped: number; connectionsEstablished: number }>>('show bgp neighbors json');
    return Object.fromEntries(Object.entries(j).map(([k, v]) => [k, { state: v.bgpState, dropped: v.connectionsDropped, established: v.connectionsEstablished }]));
  };
  const statusObjects = async (plural: string, group = 'metallb.io/v1beta1'): Promise<Json[]> => ((await get(`/apis/${group}/namespaces/${ns}/${plural}`)).items as Json[]);
  /** node → services it announces, from the ServiceBGPStatus objects. */
  const announcedBy = async (): Promise<Record<string, string[]>> => {
    const out: Record<string, string[]> = {};
    for (const o of await statusObjects('servicebgpstatuses')) {
      const s = o.status as { node: string; serviceName: string; serviceNamespace: string; peers: string[] };
      assert.deepEqual(s.peers, ['tor'], JSON.stringify(o));
      assert.equal(o.metadata.labels['metallb.io/node'], s.node);
      (out[s.node] ??= []).push(`${s.serviceNamespace}/${s.serviceName}`);
    }
    for (const v of Object.values(out)) v.sort();
    return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
  };

  const startController = async (name: string, kubeconfig: string, webhookPort: number): Promise<ChildProcess> => {
    const fd = openSync(path.join(root, `${name}.log`), 'a');
    const p = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'controller', '--kubeconfig', kubeconfig, '-n', ns,
      '--webhook-port', String(webhookPort), '--webhook-cert-hosts', '127.0.0.1'], {
      cwd: repo, env: { ...process.env, POD_NAME: name, IRONLB_LOG_LEVEL: 'info', NODE_NO_WARNINGS: '1' }, stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    procs.set(name, p);
    return p;
  };

  before(async () => {
    assert.ok(frrInstalled(), 'FRR (bgpd, vtysh) must be installed: apt-get install frr');
    cleanup();
    root = mkdtempSync(path.join(tmpdir(), 'k8e-'));
    // The segment: a bridge in the router's namespace, a port per node and one for the host.
    addNs(rtrNs);
    inNs(rtrNs, 'ip', 'link', 'add', 'br0', 'type', 'bridge');
    inNs(rtrNs, 'ip', 'addr', 'add', `${routerIp}/24`, 'dev', 'br0');
    inNs(rtrNs, 'ip', 'link', 'set', 'br0', 'up');
    const port = (name: string) => {
      inNs(rtrNs, 'ip', 'link', 'set', name, 'master', 'br0');
      inNs(rtrNs, 'ip', 'link', 'set', name, 'up');
    };
    for (const [i, n] of nodes.entries()) {
      addNs(n.name);
      sh('ip', 'link', 'add', 'eth0', 'netns', n.name, 'type', 'veth', 'peer', 'name', `p${i + 1}`, 'netns', rtrNs);
      inNs(n.name, 'ip', 'addr', 'add', `${n.ip}/24`, 'dev', 'eth0');
      inNs(n.name, 'ip', 'link', 'set', 'eth0', 'up');
      port(`p${i + 1}`);
    }
    sh('ip', 'link', 'add', hostLink, 'type', 'veth', 'peer', 'name', 'ph', 'netns', rtrNs);
    sh('ip', 'addr', 'add', `${hostIp}/24`, 'dev', hostLink);
    sh('ip', 'link', 'set', hostLink, 'up');
    port('ph');

    frr = new FrrInstance('rtr', root, rtrNs);
    frr.start('bgpd', `frr defaults traditional
hostname k8e-rtr
log file @DIR@/bgpd.log
router bgp 64512
 bgp router-id ${routerIp}
 bgp log-neighbor-changes
 no bgp ebgp-requires-policy
 no bgp network import-check
${nodes.map((n) => ` neighbor ${n.ip} remote-as 64512\n neighbor ${n.ip} passive\n neighbor ${n.ip} timers 3 9\n`).join('')} address-family ipv4 unicast
  maximum-paths ibgp 8
 exit-address-family
exit
`, ['-Z']);

    cp = await startControlPlane({ name: 'k8e', bindAddress: hostIp });
    const webhookA = await freePort();
    const webhookB = await freePort();
    // The deploy manifest (CRDs, ServiceAccounts, RBAC, webhook configuration), as a user applies it;
    // the webhooks point at replica b, the standby: it serves them too.
    const m = await cp.kubectl(['apply', '--server-side', '-f', '-'], { input: manifest(webhookB) });
    assert.equal(m.code, 0, m.stderr);
    const w = await cp.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
    assert.equal(w.code, 0, w.stderr);
    for (const n of nodes) await createNode(cp, n.name, { addresses: [{ type: 'InternalIP', address: n.ip }] });
    apps = await createNamespace(cp, 'apps');

    const controllerCfg = await serviceAccountKubeconfig(cp, ns, 'ironlb-controller');
    const speakerCfg = await serviceAccountKubeconfig(cp, ns, 'ironlb-speaker');
    const a = await startController('ctl-a', controllerCfg.path, webhookA);
    await waitFor('ctl-a to hold the Lease', 60_000, async () => ((await holder()) === 'ctl-a' ? true : undefined), 200).catch((e: Error) => {
      throw new Error(`${e.message}\n${log('ctl-a')}`);
    });
    assert.equal(a.exitCode, null);
    await startController('ctl-b', controllerCfg.path, webhookB);
    for (const n of nodes) {
      const fd = openSync(path.join(root, `${n.name}.log`), 'a');
      procs.set(n.name, spawnInNs(n.name, [process.execPath, '--import', 'tsx', 'src/cli/main.ts', 'speaker', '--kubeconfig', speakerCfg.path, '--node', n.name, '-n', ns],
        fd, { IRONLB_LOG_LEVEL: 'info', NODE_NO_WARNINGS: '1' }, repo));
      closeSync(fd);
    }
    // The webhook is up: replica b serves (with the certificates a made, or its own) and the caBundle is in.
    await waitFor('ctl-b serving the webhooks', 60_000, async () => {
      if (procs.get('ctl-b')!.exitCode !== null) throw new Error(`ctl-b exited:\n${log('ctl-b')}`);
      const cfg = await get('/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/metallb-webhook-configuration');
      const ca = (cfg.webhooks as Json[])[0]?.clientConfig.caBundle as string | undefined;
      if (!ca || !(cfg.webhooks as Json[]).every((h) => h.clientConfig.caBundle === ca)) return undefined;
      return (await httpsStatus(`https://127.0.0.1:${webhookB}/healthz`, Buffer.from(ca, 'base64').toString())) === 200 ? true : undefined;
    }, 200).catch((e: Error) => { throw new Error(`${e.message}\n${log('ctl-b')}`); });
  });

  after(async () => {
    for (const p of procs.values()) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    frr?.kill();
    await cp?.stop();
    cleanup();
    if (root && !process.env.K8E_KEEP) rmSync(root, { recursive: true, force: true });
  });

  it('kubectl apply of the configuration and Services: IPs in status, routes at the router, status objects', async () => {
    // The webhook may still be warming (its first certificate written by a): retry until accepted.
    await waitFor('the configuration accepted', 30_000, async () => (await cp.kubectl(['apply', '-f', '-'], { input: config })).code === 0 ? true : undefined, 500);
    await apply(serviceYaml(apps, 'web', 'Cluster') + '---\n' + serviceYaml(apps, 'local', 'Local'));
    await createEndpointSlice(cp, apps, 'web', [{ addresses: ['10.244.1.10'], nodeName: n1.name }], { name: 'web-1' });
    await createEndpointSlice(cp, apps, 'local', [{ addresses: ['10.244.1.11'], nodeName: n1.name }], { name: 'local-1' });
    for (const s of ['web', 'local']) ips.set(s, await waitFor(`${s}'s IP in status`, 30_000, () => ipOf(s), 200));
    const web = ips.get('web')!;
    const local = ips.get('local')!;
    assert.match(web, /^198\.51\.100\.\d+$/);
    assert.notEqual(web, local);

    // ETP Cluster: every node; ETP Local: only the node with the endpoint.
    await waitFor('web from the three nodes', 60_000, async () => ((await nextHops(`${web}/32`)).length === 3 ? true : undefined), 200).catch(async (e: Error) => {
      throw new Error(`${e.message}\nrouter: ${JSON.stringify(await sessions())}\n${log(n1.name)}`);
    });
    assert.deepEqual(await nextHops(`${web}/32`), [n1.ip, n2.ip, n3.ip]);
    await waitFor('local from n1', 20_000, async () => ((await nextHops(`${local}/32`)).length === 1 ? true : undefined), 200);
    assert.deepEqual(await nextHops(`${local}/32`), [n1.ip]);
    for (const p of await frr.route(`${web}/32`)) {
      assert.equal(p.localPref, 150);
      assert.deepEqual(p.communities, ['no-advertise']);
    }
    const aggregate = await waitFor('the /24 from the three nodes', 20_000, async () => {
      const r = await frr.route('198.51.100.0/24');
      return r.length === 3 ? r : undefined;
    }, 200);
    for (const p of aggregate) {
      assert.equal(p.localPref, 100); // the iBGP default: this advertisement sets none
      assert.deepEqual(p.communities, []);
    }

    const svc = (name: string) => `${apps}/${name}`;
    await waitFor('ServiceBGPStatus per Service per node', 20_000, async () => {
      const a = await announcedBy();
      return JSON.stringify(a) === JSON.stringify({ [n1.name]: [svc('local'), svc('web')], [n2.name]: [svc('web')], [n3.name]: [svc('web')] }) ? a : undefined;
    }, 200);
    const states = await waitFor('a BGPSessionState per node, Established', 20_000, async () => {
      const items = await statusObjects('bgpsessionstates', 'ironlb.io/v1alpha1');
      // The counters may trail the state by up to 2 s (the writer holds counter-only changes back).
      const sent = (o: Json) => ((o.status as Json | undefined)?.node === n1.name ? 3 : 2);
      return items.length === 3 && items.every((o) => o.status?.bgpStatus === 'Established' && o.status?.prefixesSent === sent(o)) ? items : undefined;
    }, 200);
    for (const o of states) {
      const s = o.status as Json;
      const n = nodes.find((x) => x.name === s.node);
      assert.ok(n, JSON.stringify(s));
      assert.equal(s.peer, 'tor');
      assert.equal(s.address, routerIp);
      assert.equal(s.bfdStatus, 'N/A');
      assert.equal(s.prefixesSent, n === n1 ? 3 : 2); // web's /32, local's /32 on n1, the /24
      assert.ok(!Number.isNaN(Date.parse(s.establishedSince as string)));
    }

    // One IPAllocated Event per Service, from the leader only (the standby posts none).
    const evs = await waitFor('IPAllocated Events', 20_000, async () => {
      const items = ((await get(`/api/v1/namespaces/${apps}/events?fieldSelector=reason=IPAllocated`)).items as Json[]);
      return items.length >= 2 ? items : undefined;
    }, 200);
    for (const name of ['web', 'local']) {
      const mine = evs.filter((e) => e.involvedObject.name === name);
      assert.equal(mine.length, 1, `${name}: ${JSON.stringify(mine.map((e) => e.message))}`);
      assert.equal(mine[0]!.source.component, 'metallb-controller');
      assert.equal(mine[0]!.message, `Assigned IP ["${ips.get(name)!}"]`);
    }

    // `ironlb status` reads the same from the cluster's status objects as from a folder's files.
    const out = await new Promise<string>((resolve, reject) => execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'status', '--kubeconfig', cp.kubeconfigPath],
      { cwd: repo, env: { ...process.env, NODE_NO_WARNINGS: '1' } }, (e, stdout, stderr) => (e ? reject(new Error(`${e.message}\n${stderr}`)) : resolve(stdout))));
    const line = (key: string) => out.split('\n').find((l) => l.includes(key)) ?? '';
    assert.match(line(`${apps}/web`), new RegExp(`${web.replaceAll('.', '\\.')}\\s+pool first-pool  announced: k8e-n1→tor k8e-n2→tor k8e-n3→tor$`), out);
    assert.match(line(`${apps}/local`), /announced: k8e-n1→tor$/, out);
    assert.match(out, /first-pool\s+IPv4 2 used \/ 254 free/);
    assert.match(out, /Speakers \(3\):/);
    assert.match(out, /tor 10\.215\.0\.1 Established: 3 prefixes announced/);
  });

  it('an EndpointSlice moved to another node (ETP Local): the next hop follows', async () => {
    const local = ips.get('local')!;
    const r = await cp.request('PATCH', `/apis/discovery.k8s.io/v1/namespaces/${apps}/endpointslices/local-1`, {
      endpoints: [{ addresses: ['10.244.2.11'], nodeName: n2.name, conditions: { ready: true, serving: true, terminating: false } }],
    }, 'application/merge-patch+json');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await waitFor('local via n2 only', 20_000, async () => (JSON.stringify(await nextHops(`${local}/32`)) === JSON.stringify([n2.ip]) ? true : undefined), 100);
    await waitFor('ServiceBGPStatus of local on n2, not n1', 20_000, async () => {
      const a = await announcedBy();
      return !a[n1.name]?.includes(`${apps}/local`) && a[n2.name]?.includes(`${apps}/local`) ? true : undefined;
    }, 200);
    assert.equal(await ipOf('local'), local);
  });

  it('a bad pool is refused by the webhook (the standby serves it) with ironlb\'s message', async () => {
    assert.equal(await holder(), 'ctl-a');
    const bad = await cp.kubectl(['apply', '-f', '-'], { input: `apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: { name: bad, namespace: ${ns} }\nspec: { addresses: ["198.51.100.128/25"] }\n` });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /admission webhook "ipaddresspoolvalidationwebhook\.metallb\.io" denied the request/);
    assert.match(bad.stderr, /IPAddressPool\/metallb-system\/bad: spec\.addresses\[0\]: .*overlap/);
    const pools = await get(`/apis/metallb.io/v1beta1/namespaces/${ns}/ipaddresspools`);
    assert.deepEqual((pools.items as Json[]).map((p) => p.metadata.name), ['first-pool']);
  });

  it('the leader killed (SIGKILL): the standby takes over, allocates, and no IP moves', async () => {
    const before = await pathTimes();
    const killed = Date.now();
    procs.get('ctl-a')!.kill('SIGKILL');
    await apply(serviceYaml(apps, 'after-kill', 'Cluster'));
    await createEndpointSlice(cp, apps, 'after-kill', [{ addresses: ['10.244.3.10'], nodeName: n3.name }], { name: 'after-kill-1' });
    const ip = await waitFor('after-kill\'s IP from the new leader', 30_000, () => ipOf('after-kill'), 200).catch((e: Error) => {
      throw new Error(`${e.message}\n${log('ctl-b')}`);
    });
    process.stderr.write(`# k8e: takeover after kill -9 and allocation: ${Date.now() - killed} ms\n`);
    assert.equal(await holder(), 'ctl-b');
    assert.ok(![...ips.values()].includes(ip));
    for (const [s, v] of ips) assert.equal(await ipOf(s), v, s);
    ips.set('after-kill', ip);
    await waitFor('after-kill from the three nodes', 20_000, async () => ((await nextHops(`${ip}/32`)).length === 3 ? true : undefined), 100);
    // The routes already there were not touched.
    const now = await pathTimes();
    assertUntouched(before, now);
  });

  it('the apiserver restarted: everything resyncs, no route withdrawn and no session dropped meanwhile', async () => {
    const before = await pathTimes();
    const sessionsBefore = await sessions();
    for (const s of Object.values(sessionsBefore)) assert.equal(s.state, 'Established');
    // Watch the router all along: the number of paths must never drop.
    let fewest = before.size;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        fewest = Math.min(fewest, (await pathTimes().catch(() => before)).size);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const t0 = Date.now();
    await cp.restartApiserver();
    const restarted = Date.now() - t0;
    // Resync: a Service created after the restart gets its IP and its routes; the others are unchanged.
    await apply(serviceYaml(apps, 'after-restart', 'Local'));
    await createEndpointSlice(cp, apps, 'after-restart', [{ addresses: ['10.244.3.11'], nodeName: n3.name }], { name: 'after-restart-1' });
    const ip = await waitFor('after-restart\'s IP', 30_000, () => ipOf('after-restart'), 200);
    await waitFor('after-restart via n3', 30_000, async () => (JSON.stringify(await nextHops(`${ip}/32`)) === JSON.stringify([n3.ip]) ? true : undefined), 100);
    await waitFor('ServiceBGPStatus of after-restart on n3', 20_000, async () => ((await announcedBy())[n3.name]?.includes(`${apps}/after-restart`) ? true : undefined), 200);
    process.stderr.write(`# k8e: apiserver restart ${restarted} ms, resynced (new Service routed) ${Date.now() - t0} ms after it began\n`);
    watching = false;
    await watcher;
    assert.equal(fewest, before.size, 'a route was withdrawn while the apiserver restarted');
    assertUntouched(before, await pathTimes());
    for (const [s, v] of ips) assert.equal(await ipOf(s), v, s);
    const sessionsAfter = await sessions();
    for (const [peer, s] of Object.entries(sessionsBefore)) {
      assert.equal(sessionsAfter[peer]?.state, 'Established', peer);
      assert.equal(sessionsAfter[peer]?.dropped, s.dropped, peer);
      assert.equal(sessionsAfter[peer]?.established, s.established, peer);
    }
  });
});
