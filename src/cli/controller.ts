// `ironlb controller --config DIR`: hands out IPs from the pools and writes them to the status.
import type { Command } from '@commander-js/extra-typings';
import { runDaemon } from '../daemon/run.ts';
import { runOptions, startOrExit } from '../daemon/cli-options.ts';

export function registerController(program: Command): void {
  program
    .command('controller')
    .description('assign IPs from the address pools to LoadBalancer Services in the folder; write them to its status')
    .requiredOption('-c, --config <dir>', 'folder of MetalLB YAML (and Services)')
    .option('-n, --namespace <ns>', 'the MetalLB namespace')
    .option('--metrics <[host:]port>', 'serve /metrics, /healthz, /status')
    .option('--accept-lost-state', 'when the stored status (assigned IPs) is damaged, allocate afresh instead of waiting for it to be restored')
    .action((opts) => startOrExit(() => runDaemon({ controller: true, speaker: false }, runOptions(opts, false))));
}
