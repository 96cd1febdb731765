// The `ironlb` command (started by main.ts). Each subcommand lives in its own module and registers itself here.
import { Command } from '@commander-js/extra-typings';
import { registerValidate } from './validate.ts';
import { registerConvert } from './convert.ts';
import { registerCrds } from './crds.ts';
import { registerController } from './controller.ts';
import { registerSpeaker } from './speaker.ts';
import { registerStandalone } from './standalone.ts';
import { registerStatus } from './status.ts';
import { registerExplain } from './explain.ts';
import { registerFrrConfig } from './frr-config.ts';

const program = new Command()
  .name('ironlb')
  .description('LoadBalancer IPs for bare-metal Kubernetes: MetalLB configuration, native BGP and BFD')
  .version('0.1.0');

registerValidate(program);
registerConvert(program);
registerCrds(program);
registerController(program);
registerSpeaker(program);
registerStandalone(program);
registerStatus(program);
registerExplain(program);
registerFrrConfig(program);

await program.parseAsync(process.argv);
