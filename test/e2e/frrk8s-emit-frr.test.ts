// Issue #14 part 2 end to end: `--bgp-backend frr-k8s` with frr-k8s itself as the speaker. A real
// apiserver holds MetalLB's configuration and a Service; ironlb's speaker writes the node's
// FRRConfiguration; frr-k8s's own controller (v0.0.21, built from its Go module by
// scripts/k8s-tools.sh) renders it to FRR configuration and asks its reloader to apply it to FRR
// (zebra, bgpd, bfdd) in the node's network namespace; the router (FRR bgpd) then has the Service's
// prefix, with its community, and loses it when the Service goes; a BFD profile with echo mode
// (which ironlb's own BFD cannot run) reaches FRR's bfdd. Namespaces `fe-*`.
//
// Outside its pod image frr-k8s needs: /etc/frr_reloader (hard-coded; here a private bind mount of
// a temp folder in a mount namespace of its own, the directory itself created empty once) and a
// reloader answering SIGHUP (frr-k8s's is frr-reloader.sh; the test's own, below, runs the same
// frr-reload.py against the private FRR's sockets, without the `log file` line, whose
// /etc/frr/frr.log is the pod's), and the FRRNodeState CRD for its status.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runDaemon, type RunningDaemon } from '../../src/daemon/run.ts';
import { silentLogger } from '../../src/observe/log.ts';
import { clusterSuiteOptions, createEndpointSlice, createNamespace, createNode, startControlPlane, toolVersions, type ControlPlane } from '../cluster/index.ts';
import { installCrds, installFrrK8sCrd } from '../cluster/ironlb-setup.ts';
import { FrrInstance, frrInstalled, waitFor } from './frr.ts';
import { inNs } from './netns.ts';
import { startNodeAndRouter, type NodeAndRouter } from './node-router.ts';

const frrK8sVersion = toolVersions.frrk8s;
const frrK8sDir = path.join(process.env.IRONLB_K8S_CACHE ?? path.join(homedir(), '.cache', 'ironlb-k8s'), `frr-k8s-v${frrK8sVersion}`);
const frrK8sBin = path.join(frrK8sDir, 'frr-k8s-controller');
const node = 'fe-node';

const reloader = `#!/bin/bash
# The test's stand-in for frr-k8s's frr-reloader.sh: on SIGHUP apply $RD/frr.conf to the FRR whose
# sockets are in $DIR, record the result where frr-k8s reads it.
DIR=$1; RD=$2
printf $$ > "$RD/reloader.pid"
reload() {
  grep -v '^log file' "$RD/frr.conf" > "$RD/applied.conf"
  if python3 /usr/lib/frr/frr-reload.py --reload --overwrite --stdout --bindir /usr/bin --confdir "$DIR" --rundir "$DIR" --vty_socket "$DIR" "$RD/applied.conf" >> "$RD/reload.log" 2>&1; then st=success; else st=failure; fi
  vtysh --vty_socket "$DIR" -c 'show running-config' > "$RD/running-config" 2>/dev/null
  printf "%s %s" "$(date +%s)" "$st" > "$RD/.status"
}
trap reload HUP
while true; do sleep 1 & wait $!; done
`;

const missing = !existsSync(frrK8sBin) ? `frr-k8s v${frrK8sVersion} is not built: scripts/k8s-tools.sh` : undefined;
const options = clusterSuiteOptions();
const skip = options.skip ?? (missing && process.env.CI !== 'true' ? missing : undefined);

describe('--bgp-backend frr-k8s with frr-k8s and FRR: the router gets the Service', { ...options, ...(skip ? { skip } : {}), timeout: 300_000 }, () => {
  let net: NodeAndRouter;
  let root: string;
  let cp: ControlPlane;
  let router: FrrInstance;
  let nodeFrr: FrrInstance;
  const procs: ChildProcess[] = [];
  let speaker: RunningDaemon | undefined;
  let ns: string;
  let apps: string;

  before(async () => {
    assert.ok(frrInstalled(), 'FRR (bgpd, vtysh) must be installed: apt-get install frr');
    assert.equal(missing, undefined, missing);
    net = startNodeAndRouter({ prefix: 'fe', subnet: '10.215.0', asn: 64501, nodeAsn: 64500 });
    ({ root, router } = net);
    nodeFrr = new FrrInstance('node', root, net.nodeNs);
    for (const d of ['zebra', 'bgpd', 'bfdd'] as const) nodeFrr.start(d, `frr defaults traditional\nhostname ${node}\nlog file @DIR@/${d}.log\n`);
    writeFileSync(path.join(nodeFrr.dir, 'vtysh.conf'), '', { mode: 0o644 }); // frr-reload.py's vtysh reads it from --confdir

    cp = await startControlPlane({ name: 'fe' });
    await installFrrK8sCrd(cp);
    const crds = path.join(frrK8sDir, 'crds');
    for (const args of [['apply', '--server-side', '--field-manager=ironlb-tests', '-f', crds], ['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']]) {
      const r = await cp.kubectl(args);
      assert.equal(r.code, 0, r.stderr);
    }
    await installCrds(cp);
    ns = await createNamespace(cp, 'fe-metallb');
    apps = await createNamespace(cp, 'fe-apps');
    await createNode(cp, node);

    // frr-k8s's reloader stand-in and frr-k8s's controller, /etc/frr_reloader private to it.
    const rd = path.join(root, 'frr_reloader');
    mkdirSync(rd);
    writeFileSync(path.join(root, 'reloader.sh'), reloader, { mode: 0o755 });
    const log = openSync(path.join(root, 'frr-k8s.log'), 'a');
    procs.push(spawn(path.join(root, 'reloader.sh'), [nodeFrr.dir, rd], { stdio: ['ignore', log, log] }));
    await waitFor('the reloader pid file', 5000, () => existsSync(path.join(rd, 'reloader.pid')) || undefined);
    mkdirSync('/etc/frr_reloader', { recursive: true });
    procs.push(spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `mount --bind ${rd} /etc/frr_reloader && exec ${frrK8sBin} --node-name=${node} --namespace=${ns} --metrics-bind-address=0 --log-level=debug`], {
      stdio: ['ignore', log, log], env: { ...process.env, KUBECONFIG: cp.kubeconfigPath },
    }));

    const apply = await cp.kubectl(['apply', '-f', '-'], {
      input: `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: p, namespace: ${ns}}
spec: {addresses: [198.51.100.0/24]}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: a, namespace: ${ns}}
spec: {ipAddressPools: [p], communities: ["64500:7"]}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: rtr, namespace: ${ns}}
spec: {myASN: 64500, peerASN: 64501, peerAddress: 10.215.0.1, holdTime: 9s}
`,
    });
    assert.equal(apply.code, 0, apply.stderr);
    const svc = await cp.request('POST', `/api/v1/namespaces/${apps}/services`, { metadata: { name: 'web' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } });
    assert.equal(svc.status, 201, JSON.stringify(svc.body));
    const st = await cp.request('PATCH', `/api/v1/namespaces/${apps}/services/web/status`, { status: { loadBalancer: { ingress: [{ ip: '198.51.100.10' }] } } }, 'application/merge-patch+json');
    assert.equal(st.status, 200, JSON.stringify(st.body));
    await createEndpointSlice(cp, apps, 'web', [{ addresses: ['10.244.0.1'], nodeName: node }]);
    speaker = await runDaemon({ controller: false, speaker: true }, {
      folder: '', namespace: ns, nodeName: node, logger: silentLogger(), cluster: { kubeconfig: cp.kubeconfigPath, debounceMs: 20 }, bgpBackend: { kind: 'frr-k8s' },
    });
  });

  after(async () => {
    await speaker?.stop();
    for (const p of procs) if (p.exitCode === null) p.kill('SIGTERM');
    nodeFrr?.stop();
    await cp?.stop();
    net?.remove();
  });

  const logs = () => ['frr-k8s.log', 'frr_reloader/reload.log'].map((f) => { try { return `--- ${f}\n${readFileSync(path.join(root, f), 'utf8').slice(-3000)}`; } catch { return ''; } }).join('\n');

  it('frr-k8s configures FRR from ironlb\'s FRRConfiguration: the router has the Service\'s prefix, next hop the node, with the community', async () => {
    const paths = await waitFor('198.51.100.10/32 at the router', 120_000, async () => {
      const r = await router.route('198.51.100.10/32').catch(() => []);
      return r.length > 0 ? r : undefined;
    }, 500).catch((e: Error) => { throw new Error(`${e.message}\n${logs()}`); });
    assert.deepEqual(paths[0]!.nexthops, ['10.215.0.2']);
    assert.deepEqual(paths[0]!.communities, ['64500:7']);
    assert.equal(paths[0]!.asPath, '64500');
    assert.match(inNs(net.nodeNs, 'vtysh', '--vty_socket', nodeFrr.dir, '-c', 'show running-config'), /router bgp 64500/);
  });

  it('the Service deleted: ironlb rewrites the object, frr-k8s reconfigures FRR, the router loses the prefix', async () => {
    const del = await cp.request('DELETE', `/api/v1/namespaces/${apps}/services/web`);
    assert.equal(del.status, 200, JSON.stringify(del.body));
    await waitFor('198.51.100.10/32 withdrawn', 120_000, async () => ((await router.route('198.51.100.10/32').catch(() => [])).length === 0 ? true : undefined), 500)
      .catch((e: Error) => { throw new Error(`${e.message}\n${logs()}`); });
  });

  it('a BFD profile with echo mode (ironlb\'s own BFD has none) reaches FRR\'s bfdd through frr-k8s', async () => {
    const apply = await cp.kubectl(['apply', '-f', '-'], {
      input: `apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: {name: echo, namespace: ${ns}}
spec: {echoMode: true, echoInterval: 60}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: rtr, namespace: ${ns}}
spec: {myASN: 64500, peerASN: 64501, peerAddress: 10.215.0.1, holdTime: 9s, bfdProfile: echo}
`,
    });
    assert.equal(apply.code, 0, apply.stderr);
    const running = () => inNs(net.nodeNs, 'vtysh', '--vty_socket', nodeFrr.dir, '-c', 'show running-config');
    const config = await waitFor('the echo profile in FRR\'s running config', 120_000, () => (/neighbor 10\.215\.0\.1 bfd profile echo/.test(running()) ? running() : undefined), 500)
      .catch((e: Error) => { throw new Error(`${e.message}\n${logs()}`); });
    const profile = /^ profile echo\n((?: {2}.*\n)*)/m.exec(config)?.[1] ?? '';
    assert.match(profile, /^ {2}echo-mode$/m, config);
    assert.match(profile, /^ {2}echo transmit-interval 60$/m, config);
  });
});
