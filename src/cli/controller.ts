// `ironlb controller --config DIR`: hands out IPs from the pools and writes them to the status.
import type { Command } from '@commander-js/extra-typings';
import { runDaemon } from '../daemon/run.ts';
import { clusterFlagHelp, runOptions, startOrExit } from '../daemon/cli-options.ts';

export function registerController(program: Command): void {
  program
    .command('controller')
    .description('assign IPs from the address pools to LoadBalancer Services in the folder or the cluster; write them to their status')
    .option('-c, --config <dir>', 'folder of MetalLB YAML (and Services); without it: the Kubernetes API')
    .option('-n, --namespace <ns>', 'the MetalLB namespace (in a cluster: default metallb-system)')
    .option('--kubeconfig <file>', clusterFlagHelp.kubeconfig)
    .option('--lb-class <class>', clusterFlagHelp.lbClass)
    .option('--webhook-port <port>', 'in a cluster: serve the admission and conversion webhooks on this port (0: off)', '9443')
    .option('--webhook-cert-hosts <list>', 'in a cluster: extra DNS names or IPs (comma-separated) in the webhook serving certificate, for an API server that calls the webhook by URL rather than through metallb-webhook-service')
    .option('--no-leader-election', 'in a cluster: write without holding the Lease (a single replica)')
    .option('--ml-secret-name <name>', 'in a cluster: create the speakers\' memberlist Secret (key secretkey, a random key) under this name when it does not exist (MetalLB\'s flag; the chart: metallb-memberlist)')
    .option('--metrics <[host:]port>', 'serve /metrics, /healthz, /status')
    .option('--accept-lost-state', 'when the stored status (assigned IPs) is damaged, allocate afresh instead of waiting for it to be restored')
    .action((opts) => startOrExit(() => runDaemon({ controller: true, speaker: false }, runOptions(opts, false))));
}
