// The `ironlb` command end to end: a real process, its exit code and its output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

function ironlb(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', env: { ...process.env, NODE_NO_WARNINGS: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('validate examples/: exit 0 and a summary', () => {
  const r = ironlb('validate', 'examples/');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  // Warnings are not errors: the examples may grow one without breaking this test.
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[lines.length - 1] ?? '', /^valid: 18 objects, 0 errors, \d+ warnings?$/);
  for (const l of lines.slice(0, -1)) assert.match(l, /^examples\/[a-z]+\.yaml:\d+:\d+: warning: /);
});

test('validate an invalid file: exit 1, every diagnostic with file:line:column, warnings too', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ilb-api-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, 'apiVersion: metallb.io/v1beta1\nkind: BGPPeer\nmetadata: {name: old, namespace: metallb-system}\nspec: {myASN: 1, peerASN: 2, peerAddress: 10.0.0.1, holdTime: 90s, keepaliveTime: 30s}\n---\napiVersion: metallb.io/v1beta1\nkind: BFDProfile\nmetadata: {name: b, namespace: metallb-system}\nspec: {detectMultiplier: 1, minimumTtl: 0}\n');
  const r = ironlb('validate', file);
  assert.equal(r.code, 1);
  const lines = r.stdout.trimEnd().split('\n');
  assert.deepEqual(lines.slice(0, 3), [
    `${file}:1:1: warning: BGPPeer/metallb-system/old: apiVersion: BGPPeer metallb.io/v1beta1 is deprecated; read as metallb.io/v1beta2: write apiVersion metallb.io/v1beta2`,
    `${file}:9:8: error: BFDProfile/metallb-system/b: spec.detectMultiplier: must be an integer from 2 to 255, got 1`,
    `${file}:9:29: error: BFDProfile/metallb-system/b: spec.minimumTtl: must be an integer from 1 to 254, got 0`,
  ]);
  assert.match(lines[lines.length - 1] ?? '', /^invalid: 1 object, [2-9]\d* errors?, [1-9]\d* warnings?$/);

  const j = ironlb('validate', '--output', 'json', file);
  assert.equal(j.code, 1);
  const out = JSON.parse(j.stdout) as { valid: boolean; errors: { path: string; position: { line: number } }[]; warnings: unknown[] };
  assert.equal(out.valid, false);
  assert.deepEqual(out.errors.slice(0, 2).map((e) => [e.path, e.position.line]), [['spec.detectMultiplier', 9], ['spec.minimumTtl', 9]]);
  assert.ok(out.warnings.length >= 1);
});

test('convert: seed 002 filled in prints the expected CRs; as published it fails naming the empty fields', () => {
  const ok = ironlb('convert', 'test/fixtures/api/legacy/seed-002-filled.yaml');
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, readFileSync('test/fixtures/api/legacy/seed-002-filled.converted.yaml', 'utf8'));
  const bad = ironlb('convert', 'test/fixtures/api/legacy/seed-002-published.yaml');
  assert.equal(bad.code, 1);
  assert.equal(bad.stdout, '');
  assert.match(bad.stderr, /peers\[0\]\.peer-address: is empty/);
  assert.match(bad.stderr, /address-pools\[0\]\.addresses: is empty/);
  assert.match(bad.stderr, /address-pools\[1\]\.addresses: is empty/);
});

test('crds --out writes the same files as deploy/crds', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ilb-api-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = ironlb('crds', '--out', dir);
  assert.equal(r.code, 0, r.stderr);
  const files = readdirSync(dir).sort();
  assert.deepEqual(files, readdirSync('deploy/crds').filter((f) => f.endsWith('.yaml')).sort());
  for (const f of files) assert.equal(readFileSync(join(dir, f), 'utf8'), readFileSync(join('deploy/crds', f), 'utf8'));
});

test('crds without --out prints every CRD to stdout (for `ironlb crds | kubectl apply -f -`) and writes no file', () => {
  const r = ironlb('crds');
  assert.equal(r.code, 0, r.stderr);
  const expected = ['deploy/crds', 'deploy/status-crds'].flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.yaml')).sort().map((f) => readFileSync(join(d, f), 'utf8')));
  for (const text of expected) assert.ok(r.stdout.includes(text));
  assert.equal(r.stdout.length, expected.join('').length);
  const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as { kind?: string } | null).filter((d) => d !== null);
  assert.deepEqual(docs.map((d) => d.kind), expected.map(() => 'CustomResourceDefinition'));
});

test('validate an FRRConfiguration: raw FRR text is refused by name with file:line', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ilb-frr-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'frr.yaml');
  writeFileSync(file, 'apiVersion: frrk8s.metallb.io/v1beta1\nkind: FRRConfiguration\nmetadata: {name: f, namespace: metallb-system}\nspec:\n  raw: {rawConfig: "router bgp 1"}\n');
  const r = ironlb('validate', file);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /frr\.yaml:5:3: error: FRRConfiguration\/metallb-system\/f: spec\.raw: raw FRR configuration is not supported by ironlb's own BGP speaker/);
});

test('validate --bgp-backend frr-k8s: also what the speaker refuses in that mode, at the object; native accepts the same files', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ilb-frrmode-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'cfg.yaml');
  const peer = (name: string, addr: string, extra = '') => `apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: ${name}, namespace: metallb-system}\nspec: {myASN: 64500, peerASN: 64501, peerAddress: ${addr}${extra}}\n`;
  writeFileSync(file, [
    'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: p, namespace: metallb-system}\nspec: {addresses: [192.0.2.0/28]}\n',
    peer('a', '10.0.0.1', ', routerID: 10.0.0.100'),
    peer('b', '10.0.0.2', ', routerID: 10.0.0.101'),
    peer('c', '10.0.0.3', ', routerID: 10.0.0.100, localASN: 64999'),
    'apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: ad, namespace: metallb-system}\nspec: {med: 10}\n',
  ].join('---\n'));
  const native = ironlb('validate', '--bgp-backend', 'native', file);
  assert.equal(native.code, 0, native.stdout + native.stderr);
  assert.equal(ironlb('validate', file).stdout, native.stdout, 'native is the default');

  const r = ironlb('validate', '--bgp-backend', 'frr-k8s', file);
  assert.equal(r.code, 1);
  assert.deepEqual(r.stdout.trimEnd().split('\n'), [
    `${file}:11:1: error: BGPPeer/metallb-system/b: BGPPeer "b" has routerID 10.0.0.101 and "a" 10.0.0.100: with --bgp-backend frr-k8s every BGPPeer must have the same routerID (frr-k8s runs one BGP router per VRF)`,
    `${file}:16:1: error: BGPPeer/metallb-system/c: --bgp-backend frr-k8s: localASN 64999 cannot be handed to frr-k8s (its FRRConfiguration has no localASN): drop it or run ironlb's own speaker`,
    `${file}:21:1: warning: BGPAdvertisement/metallb-system/ad: --bgp-backend frr-k8s: med 10 is not sent: FRRConfiguration has no MED field, frr-k8s announces without it`,
    'invalid: 5 objects, 2 errors, 1 warning',
  ]);
  const j = JSON.parse(ironlb('validate', '--bgp-backend', 'frr-k8s', '--output', 'json', file).stdout) as { valid: boolean; errors: { object: { name: string } }[] };
  assert.equal(j.valid, false);
  assert.deepEqual(j.errors.map((e) => e.object.name), ['b', 'c']);

  const bad = ironlb('validate', '--bgp-backend', 'frr', file);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--bgp-backend: "frr" is not supported: want native .* or frr-k8s/);
});
