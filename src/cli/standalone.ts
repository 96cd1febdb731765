// `ironlb standalone --config DIR`: controller and speaker in one process, for a single host.
import type { Command } from '@commander-js/extra-typings';
import { runDaemon } from '../daemon/run.ts';
import { addSpeakerFlags, backendFlagHelp, runOptions, startOrExit } from '../daemon/cli-options.ts';

export function registerStandalone(program: Command): void {
  const cmd = program
    .command('standalone')
    .description('controller and speaker in one process for a single host (Services without EndpointSlices are served here)')
    .requiredOption('-c, --config <dir>', 'folder of MetalLB YAML and Services')
    .option('--node <name>', 'this node (default: the hostname)')
    .option('-n, --namespace <ns>', 'the MetalLB namespace')
    .option('--accept-lost-state', 'when the stored status (assigned IPs) is damaged, allocate afresh instead of waiting for it to be restored')
    .option('--frrk8s-namespace <ns>', backendFlagHelp.frrk8sNamespace);
  addSpeakerFlags(cmd)
    .action((opts) => startOrExit(() => runDaemon({ controller: true, speaker: true, assumeLocalEndpoints: true }, runOptions(opts, true))));
}
