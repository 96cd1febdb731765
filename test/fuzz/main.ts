// npm run fuzz [-- --cases N --seed S]: the BGP codec fuzzer. Exits 1 on any finding.
import { runFuzz } from './harness.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v < 0) { console.error(`--${name} wants a non-negative integer`); process.exit(2); }
  return v;
}

const cases = arg('cases', 1_000_000);
const seed = arg('seed', 1);
console.log(`fuzzing the BGP codec: ${cases} cases, seed ${seed}`);
const s = await runFuzz({ cases, seed, log: (l) => console.log(l) });
console.log(`${s.cases} cases in ${(s.ms / 1000).toFixed(1)} s: ${s.decoded} messages decoded, ${s.bgpErrors} rejected with a NOTIFICATION error, ${s.sessionsReset} session NOTIFICATIONs sent`);
if (s.findings.length > 0) {
  console.error(`${s.findings.length} finding(s):`);
  for (const f of s.findings) console.error(f);
  process.exit(1);
}
console.log('no crash, no uncaught exception');
