// `npm run bench -- k8s [N ...] [--speaker]` (default 2000; `k8s 10000 50000 --speaker` for issue #11): ironlb's controller against the real
// kube-apiserver + etcd of test/cluster (etcd with --unsafe-no-fsync; apiserver defaults: watch
// cache on, no audit log, admin token exempt from API Priority and Fairness). Per N:
//   1. N LoadBalancer Services created through the API by a bare client, 32 in flight, nothing
//      else running: the apiserver's own create rate (the peer for what follows);
//   2. the controller starts over the N unallocated Services: time until every Service has its
//      IP in status (as its own watch sees it) and its pool annotation, API requests per Service,
//      controller RSS and CPU, apiserver and etcd CPU meanwhile;
//   3. 1000 more Services created while it runs: time from the last create to the last IP;
//   4. the peer again: a bare client merge-patching Service status, same concurrency, controller
//      stopped: the apiserver's raw write rate, against which the controller's rate is a ratio;
//   5. with --speaker (for the largest N only): an EndpointSlice per Service, 4 BIRD receivers on loopback (as bench/scale),
//      `ironlb speaker` as a child process in cluster mode: start → every route at all 4
//      receivers, then its RSS and CPU.
// NodePorts are not allocated (allocateLoadBalancerNodePorts: false): the default range holds 2768.
// The goal (issue #11): 50k Services allocated and written in < 60 s. Figures are printed, never asserted.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { runDaemon } from '../src/daemon/run.ts';
import { silentLogger } from '../src/observe/log.ts';
import { KubeClient } from '../src/store/kubernetes/kube-client.ts';
import { allocatedFromPoolAnnotation } from '../src/store/kubernetes/assemble.ts';
import { createNode, startControlPlane, type ControlPlane } from '../test/cluster/index.ts';
import { installCrds } from '../test/cluster/ironlb-setup.ts';
import { createEndpointSlices, createLoadBalancerServices } from '../test/cluster/create-services.ts';
import { BirdDaemon } from '../test/interop/harness/bird.ts';

const args = process.argv.slice(2);
const sizes = args.map(Number).filter((n) => n > 0);
const counts = sizes.length > 0 ? sizes : [2000];
const withSpeaker = args.includes('--speaker');
const ns = 'metallb-system';
const inFlight = 32;
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SPEAKER = '127.0.0.80';
const RECEIVERS = [1, 2, 3, 4].map((i) => ({ address: `127.0.0.8${i}`, port: 16180 + i, asn: 64600 + i }));

const mb = (bytes: number) => Math.round(bytes / 1e6);
const s1 = (ms: number) => (ms / 1000).toFixed(1);
const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');
/** CPU seconds (user + system) and RSS bytes of a process, from /proc. */
function proc(pid: number): { cpu: number; rss: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { cpu: (Number(f[11]) + Number(f[12])) / 100, rss: Number(f[21]) * 4096 };
}
const pidOf = (cp: ControlPlane, what: 'apiserver' | 'etcd') => Number(readFileSync(path.join(cp.dir, `${what}.pid`), 'utf8'));

async function pooled(n: number, f: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: inFlight }, async () => { while (next < n) await f(next++); }));
}

type Svc = { metadata: { annotations?: Record<string, string> }; status?: { loadBalancer?: { ingress?: unknown[] } } };
const hasIp = (o: Svc) => (o.status?.loadBalancer?.ingress?.length ?? 0) > 0;
const hasPool = (o: Svc) => o.metadata.annotations?.[allocatedFromPoolAnnotation] !== undefined;

console.log(`k8s: ironlb controller against kube-apiserver v1.35 + etcd 3.6 (--unsafe-no-fsync) on loopback; ${cpus().length} CPUs; load ${load()}`);
for (const n of counts) {
  const cp = await startControlPlane({ name: `bench-k8s-${n}` });
  const apiPid = pidOf(cp, 'apiserver');
  const etcdPid = pidOf(cp, 'etcd');
  const client = new KubeClient(cp.kubeConfig, 'bench');
  try {
    await installCrds(cp);
    await cp.kubectl(['create', 'namespace', ns]);
    await cp.kubectl(['create', 'namespace', 'bench']);
    await cp.kubectl(['apply', '-f', '-'], { input: `apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: { name: big, namespace: ${ns} }\nspec: { addresses: ["10.0.0.0/12"] }\n` });

    // 1. Creation alone.
    let t = Date.now();
    await createLoadBalancerServices(client, n, inFlight);
    const createMs = Date.now() - t;
    console.log(`k8s ${n}: created through the API in ${s1(createMs)} s (${Math.round(n / (createMs / 1000))}/s, ${inFlight} in flight, no controller running); load ${load()}`);

    // 2. The controller over N unallocated Services.
    const rss0 = process.memoryUsage().rss;
    const cpu0 = process.cpuUsage();
    const api0 = proc(apiPid).cpu;
    const etcd0 = proc(etcdPid).cpu;
    t = Date.now();
    const d = await runDaemon({ controller: true, speaker: false }, {
      folder: '', namespace: ns, logger: silentLogger(), cluster: { kubeconfig: cp.kubeconfigPath, leaderElection: false },
    });
    const cache = d.cluster!.store.reflectors.get('Service')!.cache as unknown as Map<string, Svc>;
    let peakRss = 0;
    let ipMs = 0;
    for (;;) {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      let ips = 0;
      let pools = 0;
      for (const o of cache.values()) { if (hasIp(o)) ips++; if (hasPool(o)) pools++; }
      if (ipMs === 0 && ips >= n) ipMs = Date.now() - t;
      if (ips >= n && pools >= n) break;
      await sleep(100);
    }
    const allMs = Date.now() - t;
    // Events (IPAllocated per Service) go last; the queue empties when they are posted too.
    await d.cluster!.store.controllerWriter!.idle();
    const idleMs = Date.now() - t;
    const cpu = process.cpuUsage(cpu0);
    const c = { ...d.cluster!.client.counts };
    const writes = (c.PATCH ?? 0) + (c.POST ?? 0) + (c.PUT ?? 0);
    const apiCpu = proc(apiPid).cpu - api0;
    const etcdCpu = proc(etcdPid).cpu - etcd0;
    const controllerRate = writes / (idleMs / 1000);
    console.log(`k8s ${n}: controller start → every IP in status ${s1(ipMs)} s, → every pool annotation too ${s1(allMs)} s, → every Event too ${s1(idleMs)} s; `
      + `${(writes / n).toFixed(2)} writes per Service (PATCH ${c.PATCH ?? 0}, POST ${c.POST ?? 0}; ${Math.round(controllerRate)} writes/s), lists ${c.LIST ?? 0}, watches ${c.WATCH ?? 0}; `
      + `CPU s: controller ${((cpu.user + cpu.system) / 1e6).toFixed(1)}, apiserver ${apiCpu.toFixed(1)}, etcd ${etcdCpu.toFixed(1)}; `
      + `bench process RSS ${mb(process.memoryUsage().rss)} MB, peak ${mb(peakRss)} MB (+${mb(peakRss - rss0)} MB over the bench before the controller); load ${load()}`);

    // 3. Services created while it runs.
    const more = 1000;
    const before = { ...d.cluster!.client.counts };
    t = Date.now();
    await createLoadBalancerServices(client, more, inFlight, n);
    const lastCreate = Date.now();
    for (;;) {
      let ips = 0;
      for (const o of cache.values()) if (hasIp(o)) ips++;
      if (ips >= n + more) break;
      await sleep(20);
    }
    const lag = Date.now() - lastCreate;
    const w = d.cluster!.client.countsSince(before);
    console.log(`k8s ${n}: +${more} Services created while it runs (${s1(lastCreate - t)} s): last IP in status ${s1(lag)} s after the last create; `
      + `${(((w.PATCH ?? 0) + (w.POST ?? 0)) / more).toFixed(2)} writes per new Service`);
    await d.stop();

    // 4. The apiserver's raw write rate: the same status writes from a bare client.
    const k = Math.min(n, 5000);
    const a0 = proc(apiPid).cpu;
    t = Date.now();
    await pooled(k, (i) => client.request('PATCH', `/api/v1/namespaces/bench/services/s${i}/status`, { body: { status: { loadBalancer: { ingress: [{ ip: `10.15.${i >> 8}.${i & 255}` }] } } } }));
    const rawMs = Date.now() - t;
    const rawRate = k / (rawMs / 1000);
    console.log(`k8s ${n}: peer — a bare client's status PATCHes, ${inFlight} in flight: ${Math.round(rawRate)}/s (${((proc(apiPid).cpu - a0) * 1000 / k).toFixed(2)} ms apiserver CPU each); `
      + `controller ${Math.round(controllerRate)} writes/s = ${(controllerRate / rawRate).toFixed(2)}× the peer; `
      + `at the peer's rate ${n} status writes alone take ${s1(n / rawRate * 1000)} s; load ${load()}`);

    if (withSpeaker && n === Math.max(...counts)) await speakerPhase(cp, client, n);
  } finally {
    client.close();
    await cp.stop();
  }
}

async function speakerPhase(cp: ControlPlane, client: KubeClient, n: number): Promise<void> {
  const node = 'bench-node';
  await createNode(cp, node, { addresses: [{ type: 'InternalIP', address: SPEAKER }] });
  let t = Date.now();
  await createEndpointSlices(client, n, node, inFlight);
  console.log(`k8s ${n} speaker: ${n} EndpointSlices created in ${s1(Date.now() - t)} s`);
  const peers = RECEIVERS.map((r, i) => `---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: rx${i + 1}, namespace: ${ns} }
spec: { myASN: 64513, peerASN: ${r.asn}, peerAddress: ${r.address}, peerPort: ${r.port}, sourceAddress: ${SPEAKER}, routerID: ${SPEAKER}, connectTime: 1s, holdTime: 90s }
`).join('');
  await cp.kubectl(['apply', '-f', '-'], { input: `${peers}---\napiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: { name: all, namespace: ${ns} }\nspec: { ipAddressPools: [big] }\n` });
  const rx = RECEIVERS.map((r, i) => new BirdDaemon({ name: `k8s-rx${i + 1}`, address: r.address, port: r.port, asn: r.asn, neighbors: [{ address: SPEAKER, asn: 64513 }] }));
  await Promise.all(rx.map((r) => r.start()));
  const log = path.join(cp.dir, 'speaker.log');
  const fd = openSync(log, 'a');
  t = Date.now();
  const child = spawn(process.execPath, ['--max-old-space-size=4096', '--import', 'tsx', path.join(repo, 'src/cli/main.ts'), 'speaker',
    '--kubeconfig', cp.kubeconfigPath, '--node', node, '--namespace', ns, '--bfd-port', '18624:18625'], { cwd: repo, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  try {
    let peak = 0;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the speaker exited (${child.exitCode}); see ${log}`);
      peak = Math.max(peak, proc(child.pid!).rss);
      const got = await Promise.all(rx.map((r) => r.count('master4').catch(() => 0)));
      if (got.every((x) => x >= n)) break;
      if (Date.now() - t > 1_800_000) throw new Error(`routes after 30 min: ${got.join('/')}`);
      await sleep(500);
    }
    const routesMs = Date.now() - t;
    const p0 = proc(child.pid!);
    await sleep(10_000);
    const p1 = proc(child.pid!);
    peak = Math.max(peak, p1.rss);
    console.log(`k8s ${n} speaker: start → ${n} routes at all 4 receivers ${s1(routesMs)} s; CPU ${p0.cpu.toFixed(1)} s to get there, `
      + `then ${((p1.cpu - p0.cpu) / 10 * 100).toFixed(0)}% over 10 s (its ServiceBGPStatus writes still going); RSS ${mb(p1.rss)} MB, peak ${mb(peak)} MB; load ${load()}`);
  } finally {
    child.kill('SIGTERM');
    await Promise.race([new Promise((r) => child.once('exit', r)), sleep(10_000)]);
    if (child.exitCode === null) child.kill('SIGKILL');
    await Promise.all(rx.map((r) => r.dispose()));
  }
}
