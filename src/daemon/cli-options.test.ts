import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runOptions } from './cli-options.ts';

const withEnv = <T>(env: Record<string, string | undefined>, f: () => T): T => {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  try { return f(); } finally { for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v; }
};

test('--bgp-backend: native by default; frr-k8s with its namespace and output; MetalLB\'s environment too', () => {
  const none = { METALLB_BGP_TYPE: undefined, FRRK8S_NAMESPACE: undefined };
  withEnv(none, () => {
    assert.equal(runOptions({ config: 'd', node: 'n' }, true).bgpBackend, undefined);
    assert.equal(runOptions({ config: 'd', node: 'n', bgpBackend: 'native' }, true).bgpBackend, undefined);
    assert.deepEqual(runOptions({ config: 'd', node: 'n', bgpBackend: 'frr-k8s', frrk8sNamespace: 'frr-k8s-system', frrk8sOutput: 'out' }, true).bgpBackend,
      { kind: 'frr-k8s', namespace: 'frr-k8s-system', output: 'out' });
    assert.throws(() => runOptions({ config: 'd', node: 'n', bgpBackend: 'frr' }, true), /"frr" is not supported: want native .* or frr-k8s .*MetalLB's frr mode/);
  });
  withEnv({ METALLB_BGP_TYPE: 'frr-k8s', FRRK8S_NAMESPACE: 'elsewhere' }, () => {
    assert.deepEqual(runOptions({ config: 'd', node: 'n' }, true).bgpBackend, { kind: 'frr-k8s', namespace: 'elsewhere' });
    assert.equal(runOptions({ config: 'd', node: 'n', bgpBackend: 'native' }, true).bgpBackend, undefined, 'the flag wins over the environment');
  });
});

test('--ml-secret-key-path: MetalLB\'s folder holding secretkey (the mounted Secret), or a file; empty or missing refused', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ml-secret-'));
  try {
    const folder = path.join(dir, 'ml_secret_key');
    mkdirSync(folder);
    writeFileSync(path.join(folder, 'secretkey'), 'from-the-secret\n');
    const file = path.join(dir, 'plain');
    writeFileSync(file, '  a-file  \n');
    withEnv({ METALLB_ML_SECRET_KEY_PATH: undefined }, () => {
      assert.equal(runOptions({ config: 'd', node: 'n', mlSecretKeyPath: folder }, true).membership?.secret, 'from-the-secret');
      assert.equal(runOptions({ config: 'd', node: 'n', mlSecretKeyPath: file }, true).membership?.secret, 'a-file');
      assert.equal(runOptions({ config: 'd', node: 'n' }, true).membership, undefined, 'no secret: no gossip');
      assert.throws(() => runOptions({ config: 'd', node: 'n', mlSecretKeyPath: dir }, true), /cannot read .*secretkey \(MetalLB's layout: the folder holds the Secret's key secretkey\)/);
      writeFileSync(path.join(folder, 'secretkey'), '\n');
      assert.throws(() => runOptions({ config: 'd', node: 'n', mlSecretKeyPath: folder }, true), /secretkey is empty/);
    });
    withEnv({ METALLB_ML_SECRET_KEY_PATH: file }, () => {
      assert.equal(runOptions({ config: 'd', node: 'n' }, true).membership?.secret, 'a-file', 'MetalLB\'s environment variable');
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
