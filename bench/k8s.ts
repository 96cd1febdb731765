// `npm run bench -- k8s [SERVICES...]`: LoadBalancer Services created through the real
// kube-apiserver (test/cluster's control plane) while an ironlb controller runs: time until every
// Service has its IP in status, the controller's API requests per Service, and RSS. Default 2000 (a shared 2-core machine's apiserver takes ~40 writes/s);
// `npm run bench -- k8s 10000 50000`. The goal (issue #11): 50k allocated and written in < 60 s.
// NodePorts are not allocated (allocateLoadBalancerNodePorts: false): the default range holds 2768.
import { setTimeout as sleep } from 'node:timers/promises';
import { runDaemon } from '../src/daemon/run.ts';
import { silentLogger } from '../src/observe/log.ts';
import { KubeClient } from '../src/store/kubernetes/kube-client.ts';
import { Reflector } from '../src/store/kubernetes/reflector.ts';
import { startControlPlane } from '../test/cluster/index.ts';
import { installCrds } from '../test/cluster/ironlb-setup.ts';
import { createLoadBalancerServices } from '../test/cluster/create-services.ts';

const counts = process.argv.slice(2).map(Number).filter((n) => n > 0);
const ns = 'metallb-system';
const rssMb = () => Math.round(process.memoryUsage().rss / 1e6);

for (const n of counts.length > 0 ? counts : [2000]) {
  const cp = await startControlPlane({ name: `bench-k8s-${n}` });
  try {
    await installCrds(cp);
    await cp.kubectl(['create', 'namespace', ns]);
    await cp.kubectl(['create', 'namespace', 'bench']);
    await cp.kubectl(['apply', '-f', '-'], { input: `apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: { name: big, namespace: ${ns} }\nspec: { addresses: ["10.0.0.0/12"] }\n` });
    const rss0 = rssMb();
    const d = await runDaemon({ controller: true, speaker: false }, {
      folder: '', namespace: ns, logger: silentLogger(), cluster: { kubeconfig: cp.kubeconfigPath, leaderElection: false },
    });
    const client = new KubeClient(cp.kubeConfig, 'bench');
    let withIp = 0;
    const seen = new Set<string>();
    const watcher = new Reflector({
      client, path: '/api/v1/namespaces/bench/services', name: 'bench',
      onChange: (_k, o) => {
        const name = (o.metadata as { name: string }).name;
        if (!seen.has(name) && ((o.status as { loadBalancer?: { ingress?: unknown[] } } | undefined)?.loadBalancer?.ingress?.length ?? 0) > 0) {
          seen.add(name);
          withIp++;
        }
      },
    });
    await watcher.start();
    const started = Date.now();
    await createLoadBalancerServices(client, n);
    const created = Date.now() - started;
    while (withIp < n) await sleep(50);
    const done = Date.now() - started;
    const c = d.cluster!.client.counts;
    const writes = (c.PATCH ?? 0) + (c.POST ?? 0) + (c.PUT ?? 0);
    console.log(`k8s ${n} Services: created through the API in ${(created / 1000).toFixed(1)} s; every IP in status after ${(done / 1000).toFixed(1)} s `
      + `(${((done - created) / 1000).toFixed(1)} s after the last create); controller writes ${(writes / n).toFixed(2)} per Service `
      + `(PATCH ${c.PATCH ?? 0}, POST ${c.POST ?? 0}), lists ${c.LIST ?? 0}, watches ${c.WATCH ?? 0}; process RSS ${rssMb()} MB (+${rssMb() - rss0} MB: controller + the bench's watcher)`);
    watcher.stop();
    client.close();
    await d.stop();
  } finally {
    await cp.stop();
  }
}
