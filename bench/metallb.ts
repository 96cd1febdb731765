// `npm run bench -- metallb [SERVICES...]` (issue #13, first figure): N LoadBalancer Services
// created at once through the real kube-apiserver while a controller runs, once with MetalLB's own
// controller (v0.15.x, built by scripts/k8s-tools.sh) and once with ironlb's, each on a fresh
// control plane: time until every Service has its IP in status, printed as the ratio
// ironlb/MetalLB, and the controller process's RSS at the end (both run as processes, ironlb
// through bin/ironlb.js: tsx unless `npm run build` made dist/). Default 1000. The apiserver's write
// rate bounds both (creates and status writes share it), so on a loaded machine one run says
// little: run it several times.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeClient } from '../src/store/kubernetes/kube-client.ts';
import { Reflector } from '../src/store/kubernetes/reflector.ts';
import { startControlPlane, toolVersions, type ControlPlane } from '../test/cluster/index.ts';
import { installCrds } from '../test/cluster/ironlb-setup.ts';
import { installMetallbCrds, startIronlbController, startMetallbController } from '../test/differential/metallb.ts';
import { createLoadBalancerServices } from '../test/cluster/create-services.ts';

const counts = process.argv.slice(2).map(Number).filter((n) => n > 0);
const ns = 'metallb-system';
const rssMb = (pid: number) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1000);

async function kubectlOk(cp: ControlPlane, args: string[], input?: string): Promise<void> {
  const r = await cp.kubectl(args, input === undefined ? undefined : { input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
}

async function allocate(impl: 'metallb' | 'ironlb', n: number): Promise<{ seconds: number; tail: number; rss: number }> {
  const cp = await startControlPlane({ name: `bench-metallb-${impl}-${n}` });
  try {
    if (impl === 'metallb') {
      await installMetallbCrds(cp);
    } else {
      await installCrds(cp);
    }
    await kubectlOk(cp, ['create', 'namespace', ns]);
    await kubectlOk(cp, ['create', 'namespace', 'bench']);
    await kubectlOk(cp, ['apply', '-f', '-'], `apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: { name: big, namespace: ${ns} }\nspec: { addresses: ["10.0.0.0/12"] }\n`);
    const controller = impl === 'metallb' ? await startMetallbController(cp, ns) : await startIronlbController(cp, ns);
    const client = new KubeClient(cp.kubeConfig, 'bench');
    const seen = new Set<string>();
    const watcher = new Reflector({
      client, path: '/api/v1/namespaces/bench/services', name: 'bench',
      onChange: (_k, o) => {
        if (((o.status as { loadBalancer?: { ingress?: unknown[] } } | undefined)?.loadBalancer?.ingress?.length ?? 0) > 0) {
          seen.add((o.metadata as { name: string }).name);
        }
      },
    });
    await watcher.start();
    const started = Date.now();
    await createLoadBalancerServices(client, n);
    const created = Date.now();
    while (seen.size < n) await sleep(50);
    const seconds = (Date.now() - started) / 1000;
    const tail = (Date.now() - created) / 1000;
    const rss = rssMb(controller.pid!);
    watcher.stop();
    client.close();
    await controller.stop();
    return { seconds, tail, rss };
  } finally {
    await cp.stop();
  }
}

for (const n of counts.length > 0 ? counts : [1000]) {
  const m = await allocate('metallb', n);
  const i = await allocate('ironlb', n);
  console.log(`metallb ${n} Services, every IP in status: MetalLB v${toolVersions.metallb} ${m.seconds.toFixed(1)} s (${m.tail.toFixed(1)} s after the last create), `
    + `ironlb ${i.seconds.toFixed(1)} s (${i.tail.toFixed(1)} s after); ironlb/MetalLB ${(i.seconds / m.seconds).toFixed(2)}; `
    + `controller RSS MetalLB ${m.rss} MB, ironlb ${i.rss} MB`);
}
