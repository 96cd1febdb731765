// `npm run cluster`: the tests' control plane (etcd + kube-apiserver, RBAC on) for a person, until Ctrl-C.
//   npm run cluster [-- --name NAME] [-- --bind ADDRESS]
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startControlPlane } from './control-plane.ts';
import { toolVersions } from './tools.ts';

const { values } = parseArgs({ options: { name: { type: 'string', default: 'dev' }, bind: { type: 'string' } } });
const t0 = performance.now();
const cp = await startControlPlane({ name: values.name, ...(values.bind ? { bindAddress: values.bind } : {}) });
const secs = ((performance.now() - t0) / 1000).toFixed(1);
console.log(`Kubernetes v${toolVersions.kubernetes} (etcd v${toolVersions.etcd}) is up at ${cp.server} after ${secs}s; RBAC on, user admin (system:masters).

  export KUBECONFIG=${cp.kubeconfigPath}
  export PATH=${cp.binDir}:$PATH      # kubectl v${toolVersions.kubernetes}, helm v${toolVersions.helm}

  kubectl apply --server-side -f deploy/crds/ -f deploy/status-crds/
  kubectl get --raw /version

There is no controller manager, scheduler or kubelet: create Nodes and EndpointSlices yourself.
Logs and data: ${cp.dir} (removed on exit). Ctrl-C stops etcd and the apiserver.`);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping...');
  void cp.stop().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
setInterval(() => {}, 1 << 30); // keep running until a signal
