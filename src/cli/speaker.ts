// `ironlb speaker --config DIR --node NAME`: announces this node's Services to its BGP peers.
import type { Command } from '@commander-js/extra-typings';
import { runDaemon } from '../daemon/run.ts';
import { addSpeakerFlags, clusterFlagHelp, runOptions, startOrExit } from '../daemon/cli-options.ts';

export function registerSpeaker(program: Command): void {
  const cmd = program
    .command('speaker')
    .description("announce the Services' IPs from this node to its BGP peers (with BFD)")
    .option('-c, --config <dir>', 'folder of MetalLB YAML (and Services, Nodes, EndpointSlices); without it: the Kubernetes API')
    .option('--node <name>', 'this node (default: $IRONLB_NODE_NAME, else the hostname)')
    .option('-n, --namespace <ns>', 'the MetalLB namespace (in a cluster: default metallb-system)')
    .option('--frrk8s-namespace <ns>', 'the namespace FRRConfigurations are read from (as frr-k8s; default $FRRK8S_NAMESPACE, else the MetalLB namespace); with --bgp-backend frr-k8s also where this node\'s is written (elsewhere than the MetalLB namespace, Secret passwords are written in clear)')
    .option('--kubeconfig <file>', clusterFlagHelp.kubeconfig)
    .option('--lb-class <class>', clusterFlagHelp.lbClass)
    .option('--ignore-exclude-lb', 'announce from nodes labelled node.kubernetes.io/exclude-from-external-load-balancers too');
  addSpeakerFlags(cmd)
    .action((opts) => startOrExit(() => runDaemon({ controller: false, speaker: true }, runOptions(opts, true))));
}
