// `ironlb standalone --config DIR`: controller and speaker in one process, for a single host.
import type { Command } from '@commander-js/extra-typings';
import { runDaemon } from '../daemon/run.ts';
import { backendFlagHelp, runOptions, startOrExit } from '../daemon/cli-options.ts';

export function registerStandalone(program: Command): void {
  program
    .command('standalone')
    .description('controller and speaker in one process for a single host (Services without EndpointSlices are served here)')
    .requiredOption('-c, --config <dir>', 'folder of MetalLB YAML and Services')
    .option('--node <name>', 'this node (default: the hostname)')
    .option('-n, --namespace <ns>', 'the MetalLB namespace')
    .option('--metrics <[host:]port>', 'serve /metrics, /healthz, /status')
    .option('--accept-lost-state', 'when the stored status (assigned IPs) is damaged, allocate afresh instead of waiting for it to be restored')
    .option('--bgp-listen <[host:]port>', 'also accept BGP connections from configured peers')
    .option('--bfd-port <listen[:peer]>', 'BFD single-hop UDP ports (default 3784)')
    .option('--ml-secret-key-path <file>', 'layer 2: the memberlist secret; turns on liveness gossip among speakers')
    .option('--ml-bindaddr <address>', 'layer 2: address the gossip socket binds (default every address)')
    .option('--ml-bindport <port>', 'layer 2: gossip UDP port (default 7946)')
    .option('--ml-probe-interval <ms>', 'layer 2: gossip protocol period (default 100; a silent death is noticed in about 2.5 periods + 3 for suspicion)')
    .option('--bgp-backend <native|frr-k8s>', backendFlagHelp.bgpBackend)
    .option('--frrk8s-namespace <ns>', backendFlagHelp.frrk8sNamespace)
    .option('--frrk8s-output <dir>', backendFlagHelp.frrk8sOutput)
    .option('--l2-heartbeat-interval <ms>', 'layer 2: an owner sends heartbeats to its successors this often (default 10; 0 = off: gossip only)')
    .option('--l2-heartbeat-misses <n>', 'layer 2: missed heartbeats after which the successor takes the IPs over (default 3)')
    .action((opts) => startOrExit(() => runDaemon({ controller: true, speaker: true, assumeLocalEndpoints: true }, runOptions(opts, true))));
}
