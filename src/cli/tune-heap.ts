// Run by main.ts before the program's modules are loaded: the daemons' heap settings
// (daemon/heap-tuning.ts) must be set before loading them grows V8's young generation (it doubles
// to 8 MiB semi-spaces while ~2,000 modules load, and then never shrinks).
import { isDaemonCommand, tuneHeap } from '../daemon/heap-tuning.ts';

if (isDaemonCommand(process.argv.slice(2))) tuneHeap();
