// `npm run lab`: builds the network-namespace lab, runs every check, prints a short report and
// cleans up (with --keep, leaves the logs of a failed run in place).
import { runLab } from '../test/e2e/lab.ts';

const keep = process.argv.includes('--keep');
process.stdout.write('ironlb lab: 2 FRR routers, 3 nodes running `ironlb speaker`, 1 controller, 1 client (network namespaces ilbl-*)\n');
const report = await runLab({ keep });
process.stdout.write('\nFigures:\n');
for (const [k, v] of Object.entries(report.figures)) process.stdout.write(`  ${k.padEnd(34)} ${v} ms\n`);
const failed = report.checks.filter((c) => !c.ok);
process.stdout.write(`\n${report.ok ? 'PASS' : 'FAIL'}: ${report.checks.length - failed.length}/${report.checks.length} checks passed${report.ok ? '' : `; logs kept in ${report.dir}`}\n`);
process.exitCode = report.ok ? 0 : 1;
