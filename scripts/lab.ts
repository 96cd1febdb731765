// `npm run lab`: builds the network-namespace lab, runs every check, prints a short report and
// cleans up (with --keep, leaves the logs of a failed run in place).
import { runLab } from '../test/e2e/lab.ts';
import { runL2Lab } from '../test/e2e/l2-lab.ts';

const keep = process.argv.includes('--keep');
if (process.argv.includes('l2')) {
  // `npm run lab -- l2`: the layer-2 lab (ARP/NDP answers, interface selection, failover).
  process.stdout.write('ironlb layer-2 lab: 3 nodes running `ironlb speaker` with gossip membership, 1 controller, a client on LAN A and a probe on LAN B (network namespaces l2-*)\n');
  const r = await runL2Lab({ keep, say: (l) => process.stdout.write(`${l}\n`) });
  process.stdout.write('\nFigures:\n');
  for (const [k, v] of Object.entries(r.figures)) process.stdout.write(`  ${k.padEnd(34)} ${v} ms\n`);
  const bad = r.checks.filter((c) => !c.ok);
  process.stdout.write(`\n${r.ok ? 'PASS' : 'FAIL'}: ${r.checks.length - bad.length}/${r.checks.length} checks passed${r.ok ? '' : `; logs kept in ${r.dir}`}\n`);
  process.exit(r.ok ? 0 : 1);
}
process.stdout.write('ironlb lab: 2 FRR routers, 3 nodes running `ironlb speaker`, 1 controller, 1 client (network namespaces ilbl-*)\n');
const report = await runLab({ keep });
process.stdout.write('\nFigures:\n');
for (const [k, v] of Object.entries(report.figures)) process.stdout.write(`  ${k.padEnd(34)} ${v} ms\n`);
const failed = report.checks.filter((c) => !c.ok);
process.stdout.write(`\n${report.ok ? 'PASS' : 'FAIL'}: ${report.checks.length - failed.length}/${report.checks.length} checks passed${report.ok ? '' : `; logs kept in ${report.dir}`}\n`);
process.exitCode = report.ok ? 0 : 1;
