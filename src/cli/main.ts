// The `ironlb` command. Each subcommand lives in its own module and registers itself here.
import { Command } from '@commander-js/extra-typings';
import { registerValidate } from './validate.ts';

const program = new Command()
  .name('ironlb')
  .description('LoadBalancer IPs for bare-metal Kubernetes: MetalLB configuration, native BGP and BFD')
  .version('0.1.0');

registerValidate(program);

await program.parseAsync(process.argv);
