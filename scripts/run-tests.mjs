#!/usr/bin/env node
// Runs every test with node:test. Node 20's --test does not expand globs, so the files are
// collected here. Unit tests (beside the code, and test/fakes) run two at a time; tests that start
// real daemons or build network namespaces (test/interop, test/e2e) run one file at a time so that
// they never compete for ports, namespaces or CPU-sensitive timers. Tests against the real
// Kubernetes control plane (test/cluster: each file starts its own etcd and kube-apiserver) run
// two at a time after the unit tests (with test/differential, which runs MetalLB itself beside ironlb), so that their start-up does not slow the unit tests' timers.
//   node scripts/run-tests.mjs            all tests
//   node scripts/run-tests.mjs unit       unit tests only
//   node scripts/run-tests.mjs cluster    test/cluster and test/differential (need scripts/k8s-tools.sh)
//   node scripts/run-tests.mjs interop    test/interop and test/e2e only
//   node scripts/run-tests.mjs FILE...    the named files
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;

function walk(dir, out = []) {
  let entries;
  try { entries = readdirSync(dir); } catch { return out; }
  for (const name of entries.sort()) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, path));
  }
  return out;
}

const all = [...walk(join(root, 'src')), ...walk(join(root, 'test'))];
const isSerial = (f) => f.startsWith('test/interop/') || f.startsWith('test/e2e/');
const isCluster = (f) => f.startsWith('test/cluster/') || f.startsWith('test/differential/');
const isUnit = (f) => !isSerial(f) && !isCluster(f);
const args = process.argv.slice(2);
let groups;
if (args[0] === 'unit') groups = [[all.filter(isUnit), 2]];
else if (args[0] === 'cluster') groups = [[all.filter(isCluster), 2]];
else if (args[0] === 'interop') groups = [[all.filter(isSerial), 1]];
else if (args.length > 0) groups = [[args, 1]];
else groups = [[all.filter(isUnit), 2], [all.filter(isCluster), 2], [all.filter(isSerial), 1]];

let failed = false;
let ran = 0;
for (const [files, concurrency] of groups) {
  if (files.length === 0) continue;
  ran += files.length;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files], {
    cwd: root, stdio: 'inherit', env: { ...process.env, NODE_NO_WARNINGS: '1' },
  });
  if (r.status !== 0) failed = true;
}
if (ran === 0) { console.error('no test files found'); process.exit(1); }
process.exit(failed ? 1 : 0);
