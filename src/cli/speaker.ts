// `ironlb speaker --config DIR --node NAME`: announces this node's Services to its BGP peers.
import type { Command } from '@commander-js/extra-typings';
import { runDaemon } from '../daemon/run.ts';
import { backendFlagHelp, clusterFlagHelp, runOptions, startOrExit } from '../daemon/cli-options.ts';

export function registerSpeaker(program: Command): void {
  program
    .command('speaker')
    .description("announce the Services' IPs from this node to its BGP peers (with BFD)")
    .option('-c, --config <dir>', 'folder of MetalLB YAML (and Services, Nodes, EndpointSlices); without it: the Kubernetes API')
    .option('--node <name>', 'this node (default: $IRONLB_NODE_NAME, else the hostname)')
    .option('-n, --namespace <ns>', 'the MetalLB namespace (in a cluster: default metallb-system)')
    .option('--frrk8s-namespace <ns>', 'the namespace FRRConfigurations are read from (as frr-k8s; default $FRRK8S_NAMESPACE, else the MetalLB namespace); with --bgp-backend frr-k8s also where this node\'s is written (elsewhere than the MetalLB namespace, Secret passwords are written in clear)')
    .option('--kubeconfig <file>', clusterFlagHelp.kubeconfig)
    .option('--lb-class <class>', clusterFlagHelp.lbClass)
    .option('--ignore-exclude-lb', 'announce from nodes labelled node.kubernetes.io/exclude-from-external-load-balancers too')
    .option('--metrics <[host:]port>', 'serve /metrics, /healthz, /status')
    .option('--bgp-listen <[host:]port>', 'also accept BGP connections from configured peers')
    .option('--bfd-port <listen[:peer]>', 'BFD single-hop UDP ports (default 3784)')
    .option('--ml-secret-key-path <file>', 'layer 2: the memberlist secret; turns on liveness gossip among speakers')
    .option('--ml-bindaddr <address>', 'layer 2: address the gossip socket binds (default every address)')
    .option('--ml-bindport <port>', 'layer 2: gossip UDP port (default 7946)')
    .option('--ml-probe-interval <ms>', 'layer 2: gossip protocol period (default 100; a silent death is noticed in about 2.5 periods + 3 for suspicion)')
    .option('--bgp-backend <native|frr-k8s>', backendFlagHelp.bgpBackend)
    .option('--frrk8s-output <dir>', backendFlagHelp.frrk8sOutput)
    .option('--l2-heartbeat-interval <ms>', 'layer 2: an owner sends heartbeats to its successors this often (default 10; 0 = off: gossip only)')
    .option('--l2-heartbeat-misses <n>', 'layer 2: missed heartbeats after which the successor takes the IPs over (default 3)')
    .action((opts) => startOrExit(() => runDaemon({ controller: false, speaker: true }, runOptions(opts, true))));
}
